"""Commands declared once for chat and XEP-0050 ad-hoc; the chat parser; the rate limiter."""

from __future__ import annotations

from ctibot.commands import builtin, info, settings  # noqa: F401 - registers the built-ins
from ctibot.commands.base import (
    Arg,
    ArgError,
    Command,
    Context,
    Field,
    Form,
    FormField,
    Lines,
    Registry,
    Reply,
    Table,
    command,
    registry,
    render,
)
from ctibot.commands.i18n import add_messages, translate
from ctibot.commands.parser import (
    ParseError,
    adhoc_commands_for,
    commands_for,
    dispatch,
    form_for,
    parse,
    run_form,
)
from ctibot.commands.ratelimit import RateLimiter, Verdict

__all__ = [
    "Arg",
    "ArgError",
    "Command",
    "Context",
    "Field",
    "Form",
    "FormField",
    "Lines",
    "ParseError",
    "RateLimiter",
    "Registry",
    "Reply",
    "Table",
    "Verdict",
    "add_messages",
    "adhoc_commands_for",
    "command",
    "commands_for",
    "dispatch",
    "form_for",
    "parse",
    "registry",
    "render",
    "run_form",
    "translate",
]
