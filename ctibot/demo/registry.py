"""The AMI action registry of the demo PBX and helpers to read an action's fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctibot.demo.channels import Channel
    from ctibot.demo.server import AmiSession

Handler = Callable[["AmiSession", dict, "str | None"], Awaitable[None]]
#: Handlers by lower-case action name, filled by the ``@action`` decorator.
ACTIONS: dict[str, Handler] = {}
#: What a user without write permissions may still do.
READONLY_ACTIONS = frozenset({"ping", "logoff", "challenge", "login", "events", "listcommands"})


def action(*names: str):
    """Register an async handler ``(session, message, action_id)`` for these actions."""

    def register(fn: Handler) -> Handler:
        for name in names:
            ACTIONS[name.lower()] = fn
        return fn

    return register


def arg(msg: dict, key: str, default: str = "") -> str:
    """One field of an action (the last one if repeated)."""
    value = msg.get(key, default)
    if isinstance(value, list):
        value = value[-1]
    return str(value)


def args(msg: dict, key: str) -> list[str]:
    """Every value of a repeatable field (Variable)."""
    value = msg.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def truthy(text: str) -> bool:
    return text.lower() in ("true", "yes", "1", "on")


def channel_arg(s: AmiSession, msg: dict, key: str = "Channel") -> Channel | None:
    """The live channel an action names, or None."""
    return s.pbx.engine.channels.get(arg(msg, key))


def send_list(s: AmiSession, items: list[bytes]) -> None:
    """Send a whole event list in one write: big offices reply in a few large chunks."""
    s.send(b"".join(items))
