"""Calls: click-to-call, hang up, transfer, park, pick up, record, listen in / whisper / barge."""

from ctibot.plugin import ALL_PROFILES, STAFF_PROFILES, Permission, Plugin, Setting

from . import commands, deskphone, http, messages, services

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
        Setting(
            "echo_test",
            str,
            "*43",
            "what a phone dials for the Test echo button (FreePBX's echo test: *43)",
            check=lambda value: bool(deskphone.DIGITS.fullmatch(value)),
            expected="digits, * and # (at most 32)",
        ),
        Setting(
            "phone_scheme",
            str,
            "http",
            "how ctibot reaches a desk phone's web server (automatic click-to-call)",
            choices=("http", "https"),
        ),
        Setting(
            "phone_port",
            int,
            0,
            "the phones' web port (0: the scheme's)",
            minimum=0,
            maximum=65535,
        ),
        Setting(
            "phone_urls",
            dict,
            {},
            "a phone's web address by extension, instead of its SIP contact's host",
            check=deskphone.check_overrides,
            expected='a table of extension = "http(s)://host[:port][/path]"',
        ),
        Setting(
            "phone_timeout",
            float,
            4.0,
            "seconds a desk phone has to take a dial order",
            minimum=0.5,
            maximum=30,
        ),
        Setting(
            "phone_tls_verify",
            bool,
            False,
            "check the phones' HTTPS certificates (phones mostly have self-signed ones)",
        ),
        Setting(
            "yealink_path",
            str,
            "servlet",
            "Yealink's Action URI: /servlet (current firmware) or /cgi-bin/ConfigManApp.com",
            choices=tuple(deskphone.YEALINK_PATHS),
        ),
    ),
    service=services.CallsService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
