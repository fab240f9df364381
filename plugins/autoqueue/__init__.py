"""Automatic queue login (F9): online in chat, logged into your queues; offline, out."""

from __future__ import annotations

from ctibot.plugin import Plugin

from . import services, xmpp

plugin = Plugin(
    name="autoqueue",
    description="users with auto_queue_login join their queues online and leave them offline",
    requires=("queues",),
    service=services.AutoQueue,
    setup=xmpp.setup,
)
