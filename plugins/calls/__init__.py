"""Calls: click-to-call, hang up, transfer, park, pick up, record, listen in / whisper / barge."""

from ctibot.plugin import ALL_PROFILES, STAFF_PROFILES, Permission, Plugin, Setting

from . import commands, http, messages, services

plugin = Plugin(
    name="calls",
    description="call, hang up, transfer, park, pick up, record; listen in, whisper, barge",
    permissions=(
        Permission("call", "place calls from one's own phone", ALL_PROFILES),
        Permission("hangup", "hang up one's own calls", ALL_PROFILES),
        Permission("transfer", "transfer one's own calls", ALL_PROFILES),
        Permission("park", "park one's own calls", ALL_PROFILES),
        Permission("pickup", "pick up parked calls", ALL_PROFILES),
        Permission("recording", "record one's own calls", ALL_PROFILES),
        Permission("spy", "listen to other people's calls", STAFF_PROFILES),
        Permission("intrude", "whisper into / barge into other people's calls", STAFF_PROFILES),
        Permission("operator_panel", "act on other people's calls", STAFF_PROFILES),
    ),
    settings=(
        Setting(
            "park_confirm",
            float,
            3.0,
            "seconds park waits for the PBX to name the slot",
            minimum=0,
            maximum=30,
        ),
    ),
    service=services.CallsService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
