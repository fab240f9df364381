"""Phone settings: do-not-disturb and call forwarding on all of a user's phones."""

from ctibot.plugin import ALL_PROFILES, Permission, Plugin

from . import commands, http, messages, services

plugin = Plugin(
    name="phone",
    description="do not disturb and call forwarding (always, busy, no answer)",
    permissions=(
        Permission("dnd", "set do-not-disturb on one's own extensions", ALL_PROFILES),
        Permission("call_forward", "set call forwarding on one's own extensions", ALL_PROFILES),
    ),
    service=services.PhoneService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
