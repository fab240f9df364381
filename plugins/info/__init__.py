"""Information: one's own status, who is available, recent calls, who ctibot thinks one is."""

from ctibot.plugin import ALL_PROFILES, Permission, Plugin

from . import commands, http, messages, services

plugin = Plugin(
    name="info",
    description="status, who, calls, whoami",
    permissions=(
        Permission("presence_panel", "see the state of other users and phones", ALL_PROFILES),
        Permission("cdr", "see one's own call history", ALL_PROFILES),
    ),
    service=services.InfoService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
