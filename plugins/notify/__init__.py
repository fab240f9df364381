"""Offline notices (F13, F28): new post-its and voicemails by e-mail and SMS while away.

A user who is not logged in (no XMPP resource online, no panel open) and who asked
for it on the settings page gets an e-mail (``email`` in ``[[users]]``) and / or an
SMS (``mobile``, through the sms plugin's gateway) for each new post-it and new
voicemail; a burst is gathered into one mail, and each notice goes out once::

    [plugins.notify]
    smtp_host = "smtp.example.com"
    smtp_port = 587                      # default: 25 / 587 / 465 by security
    security = "starttls"                # none | starttls | tls
    username = "ctibot@example.com"
    password = "…"
    sender = "ctibot@example.com"        # the From address
    ca_file = ""                         # a CA file for a private server certificate
"""

from __future__ import annotations

from ctibot.plugin import Plugin, Setting

from . import events, http, messages, services, store
from .mail import SECURITY

plugin = Plugin(
    name="notify",
    description="e-mail and SMS notices of new post-its and voicemails for users who are away",
    requires=("postit", "voicemail"),
    uses=("sms",),  # without it: e-mail notices only
    settings=(
        Setting("smtp_host", str, "", "the mail server (empty: no e-mail notices)"),
        Setting(
            "smtp_port",
            int,
            0,
            "its port (0: 25, 587 or 465 by security)",
            minimum=0,
            maximum=65535,
        ),
        Setting("security", str, "starttls", "how the connection is protected", choices=SECURITY),
        Setting("username", str, "", "the mail account (empty: no AUTH)"),
        Setting("password", str, "", "the mail account's password", secret=True),
        Setting("sender", str, "", "the From address of the notices"),
        Setting("ca_file", str, "", "a CA file that signs the server's certificate"),
        Setting(
            "timeout", float, 10.0, "how long the mail server may take", minimum=0.5, maximum=120
        ),
        Setting(
            "coalesce",
            float,
            30.0,
            "seconds a burst is gathered into one notice",
            minimum=0,
            maximum=3600,
        ),
        Setting("per_hour", int, 12, "notices one user gets in an hour (0: no limit)", minimum=0),
    ),
    migrations=store.MIGRATIONS,
    service=services.NotifyService,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    routes=http.routes,
    setup=services.setup,
    teardown=services.teardown,
)
