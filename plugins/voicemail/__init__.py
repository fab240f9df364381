"""Voicemail (F29): my boxes' messages from Asterisk's spool — listen, download, delete.

The messages are read from the spool directory in Asterisk's layout
(``<spool>/<context>/<box>/{INBOX,Old}/msgNNNN.txt`` + ``.wav``); a user's boxes are
their extensions. After a delete ctibot sends ``VoicemailRefresh`` so the PBX updates
the phones' lamps (MWI). A new message (MessageWaiting) updates the web panel's badge
live and reaches the box's owner in chat with a link to listen::

    [plugins.voicemail]
    spool = "/var/spool/asterisk/voicemail"   # the default
    context = ""                               # default: [pbx] voicemail_context
"""

from __future__ import annotations

from ctibot.plugin import ALL_PROFILES, Permission, Plugin, Setting

from . import events, http, messages, services


def _setup(ctx, service: services.VoicemailService) -> None:
    service.learn()


plugin = Plugin(
    name="voicemail",
    description="voicemail: list, listen, download, delete; new-message badge and chat notice",
    permissions=(
        Permission("voicemail", "listen to and delete one's voicemail", profiles=ALL_PROFILES),
    ),
    settings=(
        Setting("spool", str, "/var/spool/asterisk/voicemail", "Asterisk's voicemail spool"),
        Setting("context", str, "", "the boxes' voicemail context (default: the PBX's)"),
    ),
    service=services.VoicemailService,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    routes=http.routes,
    setup=_setup,
)
