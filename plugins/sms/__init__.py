"""SMS (F10): ctibot as an SMS gateway for chat users.

``sms <number> <text>`` from chat or the ad-hoc form, or simply a message to
``<number>@cti…`` (the JMP/Cheogram way; XEP-0100 turns a typed number into
that JID), goes out through the HTTP gateway of ``[plugins.sms]``. SMS to the
company's numbers come in through a webhook and reach the number's owner as
chat messages from ``<sender>@cti…``. Everything is kept in a history.

A configuration (the webhook needs ``[web]``)::

    [web]
    listen = "127.0.0.1:8080"

    [plugins.sms]
    gateway = "twilio"                # or "skebby", or "generic" with url/body/…
    user = "AC0123…"                  # Twilio: the account SID
    password = "…"                    # the auth token
    sender = "+15005550006"
    webhook_secret = "a long random string"
    numbers = { "+390212345678" = "bob" }   # SMS to this number reach bob

A generic gateway names its request: ``url``, ``method``, ``headers``, ``body`` and
``content_type`` with ``{number}`` (E.164), ``{digits}`` (without +), ``{text}``,
``{user}``, ``{password}``, ``{sender}`` filled in and escaped for where they go;
``success_status`` and ``success_pattern`` say what an accepted SMS looks like.
The gateway posts inbound SMS to ``/sms/inbound?secret=…`` (or with an
``X-Ctibot-Secret`` header) as JSON or a form: ``from``, ``to``, ``text``
(Twilio's ``From``, ``To``, ``Body`` too).
"""

from __future__ import annotations

import re

from ctibot.plugin import ALL_PROFILES, Permission, Plugin, Setting

from . import commands, http, messages, services, store, xmpp
from .gateways import PRESETS

_SECONDS = "a number of seconds from 0.5 to 120"


def _is_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


plugin = Plugin(
    name="sms",
    description="SMS from chat through an HTTP gateway, and SMS to users' numbers into chat",
    permissions=(Permission("sms", "send SMS", profiles=ALL_PROFILES),),
    settings=(
        Setting(
            "gateway",
            str,
            "generic",
            "a provider preset, or generic",
            choices=("generic", *PRESETS),
        ),
        Setting(
            "url",
            str,
            "",
            "the gateway's URL (a preset's default otherwise); "
            "{number}, {digits}, {text}, {user}, {password}, {sender} are filled in",
        ),
        Setting("method", str, "", "the HTTP method", choices=("", "POST", "GET", "PUT")),
        Setting("headers", dict, {}, "extra request headers; {user} and {password} filled in"),
        Setting("body", str, "", "the request body template (same placeholders as url)"),
        Setting(
            "content_type",
            str,
            "",
            "the body's type: placeholders are escaped for it",
            choices=("", "application/x-www-form-urlencoded", "application/json", "text/plain"),
        ),
        Setting(
            "auth",
            str,
            "",
            "basic: user and password as HTTP basic authentication",
            choices=("", "none", "basic"),
        ),
        Setting("user", str, "", "the gateway account (Twilio: the account SID)"),
        Setting("password", str, "", "the gateway password or token", secret=True),
        Setting("sender", str, "", "the sender shown (a number or a name the gateway allows)"),
        Setting(
            "success_status",
            list,
            [],
            "HTTP status codes that mean accepted",
            check=lambda v: all(isinstance(c, int) and 100 <= c < 600 for c in v),
            expected="a list of HTTP status codes such as [200, 201]",
        ),
        Setting(
            "success_pattern",
            str,
            "",
            "a regular expression the answer must contain",
            check=_is_regex,
            expected="a regular expression (Python syntax)",
        ),
        Setting(
            "id_pattern",
            str,
            "",
            "a regular expression whose group 1 is the message id",
            check=_is_regex,
            expected="a regular expression (Python syntax)",
        ),
        Setting(
            "timeout",
            float,
            10.0,
            "how long the gateway may take, retries included",
            minimum=0.5,
            maximum=120,
            expected=_SECONDS,
        ),
        Setting(
            "connect_retries",
            int,
            2,
            "retries of a connection that failed (nothing sent)",
            minimum=0,
            maximum=5,
        ),
        Setting(
            "country_code",
            str,
            "39",
            "the country of national numbers",
            check=lambda v: v.isascii() and v.isdigit() and 0 < len(v) <= 3,
            expected='one to three digits, e.g. "39"',
        ),
        Setting(
            "national_prefix",
            str,
            "",
            'digits dropped from a national number ("0")',
            check=lambda v: v == "" or (v.isascii() and v.isdigit() and len(v) <= 2),
            expected='"" or one or two digits',
        ),
        Setting("min_digits", int, 6, "shortest number accepted", minimum=3, maximum=15),
        Setting("max_digits", int, 15, "longest number accepted", minimum=3, maximum=15),
        Setting("max_parts", int, 6, "longest SMS, in parts", minimum=1, maximum=20),
        Setting("history_limit", int, 20, "SMS listed by sms history", minimum=1, maximum=500),
        Setting("per_hour", int, 20, "SMS one user may send in any hour (0: no limit)", minimum=0),
        Setting(
            "per_day", int, 100, "SMS one user may send in any 24 hours (0: no limit)", minimum=0
        ),
        Setting(
            "webhook_secret",
            str,
            "",
            "the inbound webhook's shared secret (none: off)",
            secret=True,
        ),
        Setting(
            "numbers",
            dict,
            {},
            "our receiving numbers and their users",
            check=lambda v: all(isinstance(x, str) for x in v.values()),
            expected='a table such as { "+390212345678" = "alice" }',
        ),
    ),
    migrations=store.MIGRATIONS,
    service=services.SmsService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
    setup=xmpp.setup,
    teardown=xmpp.teardown,
)
