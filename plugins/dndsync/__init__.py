"""Two-way DND (X4): setting the chat client to Do not disturb turns the phones' DND on."""

from __future__ import annotations

from ctibot.plugin import Plugin

from . import services, xmpp

plugin = Plugin(
    name="dndsync",
    description="the chat client's Do not disturb turns the PBX's DND on and off",
    requires=("phone",),
    service=services.DndSync,
    setup=xmpp.setup,
)
