"""Presence (X1): the virtual JIDs mirror the PBX; ``team``; the mod_groups roster groups."""

from __future__ import annotations

from ctibot.plugin import Plugin

from . import commands, events, messages, services, xmpp

plugin = Plugin(
    name="presence",
    description="people's and phones' virtual JIDs show the PBX live; team; mod_groups file",
    requires=("info",),
    service=services.PresenceService,
    commands=commands.COMMANDS,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    setup=xmpp.setup,
)
