"""Queues: log in and out of dynamic queues, pause and resume (FreePBX's way)."""

from ctibot.plugin import ALL_PROFILES, Permission, Plugin

from . import commands, http, messages, services

plugin = Plugin(
    name="queues",
    description="queue login, logout, pause and resume",
    permissions=(Permission("queue_agent", "log in/out and pause in queues", ALL_PROFILES),),
    service=services.QueuesService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
