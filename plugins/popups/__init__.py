"""Popups (F5): a chat message when your phone rings, follow-ups, missed-call summaries."""

from __future__ import annotations

from ctibot.plugin import Plugin

from . import events, messages, services, xmpp

plugin = Plugin(
    name="popups",
    description="call popups in chat, who answered in your place, calls missed while away",
    service=services.PopupService,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    setup=xmpp.setup,
)
