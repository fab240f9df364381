"""ctibot's off-hour plugin (F35, F36): night service per inbound route, announcements."""

from ctibot.plugin import ADMIN_PROFILES, ALL_PROFILES, Permission, Plugin, Setting

from . import events, http, messages, services, store

plugin = Plugin(
    name="offhour",
    description="Off-hour service per inbound route, announcements, published to the AstDB",
    permissions=(
        Permission("offhour", "manage the off-hour service of one's own routes", ALL_PROFILES),
        Permission("admin_offhour", "manage the off-hour service of every route", ADMIN_PROFILES),
    ),
    settings=(
        Setting(
            "routes",
            dict,
            {},
            'inbound routes (DIDs) and whose they are: a user, an extension, "queue:<name>" '
            '(its agents) or "" (generic)',
            check=lambda v: all(services.valid_did(k) and isinstance(x, str) for k, x in v.items()),
            expected='a table such as { "5550102" = "bob", "5550103" = "queue:sales", '
            '"5550100" = "" }',
        ),
        Setting(
            "family",
            str,
            "CTIBOT_OFFHOUR",
            "the AstDB family the dialplan reads",
            check=services.valid_family,
            expected="letters, digits, _ and - (an AstDB family)",
        ),
        Setting(
            "sounds_dir",
            str,
            "/var/lib/asterisk/sounds",
            "the PBX's sounds directory (announcements go to its custom/ctibot/)",
        ),
        Setting(
            "timezone",
            str,
            "UTC",
            "the time zone date-times are entered in by default",
            check=services.valid_timezone,
            expected='a time zone name such as "Europe/Rome"',
        ),
        Setting("max_upload", int, 5_000_000, "largest upload, in bytes", minimum=1000),
        Setting("max_seconds", int, 300, "longest announcement, in seconds", minimum=5),
        Setting("sox", str, "sox", "the sox program that converts uploads"),
    ),
    migrations=store.MIGRATIONS,
    service=services.OffhourService,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    routes=http.routes,
)
