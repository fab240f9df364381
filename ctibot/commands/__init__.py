"""Commands declared once for chat and XEP-0050 ad-hoc; the chat parser; the rate limiter.

The core brings ``help`` only: every other command belongs to a plugin, and each
running ctibot has its own :class:`Registry` built from its enabled plugins
(``services.commands``).
"""

from __future__ import annotations

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
    render,
)
from ctibot.commands.help import CORE_COMMANDS, Help, core_registry
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
from ctibot.i18n import add_messages, translate

__all__ = [
    "CORE_COMMANDS",
    "Arg",
    "ArgError",
    "Command",
    "Context",
    "Field",
    "Form",
    "FormField",
    "Help",
    "Lines",
    "ParseError",
    "RateLimiter",
    "Registry",
    "Reply",
    "Table",
    "Verdict",
    "add_messages",
    "adhoc_commands_for",
    "commands_for",
    "core_registry",
    "dispatch",
    "form_for",
    "parse",
    "render",
    "run_form",
    "translate",
]
