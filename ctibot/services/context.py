"""What every service shares: the sender and history protocols, checks, AMI sending, lookups."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ctibot.config import Config, UserConfig
from ctibot.pbx import validate as v
from ctibot.pbx.errors import AmiError, AmiUnavailable
from ctibot.pbx.events import DomainEvent
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.model import Call, Channel, QueueMember
from ctibot.pbx.state import PbxState
from ctibot.pbx.validate import AmiValueError
from ctibot.services.errors import (
    BadArgument,
    NotFound,
    PbxRefused,
    PbxUnavailable,
    PermissionDenied,
)
from ctibot.services.results import clean_name, label

if TYPE_CHECKING:
    from ctibot.plugin import PluginContext

log = logging.getLogger("ctibot.services")
T = TypeVar("T")
Publish = Callable[[list[DomainEvent]], None]

_NAME_FORBIDDEN = re.compile(r'["<>\\${}`]')
#: E.164: a phone number has at most 15 digits (country code included).
E164_DIGITS = 15
#: What "+" becomes when dialled (the international call prefix).
INTERNATIONAL_PREFIX = "00"


@dataclass(frozen=True, slots=True)
class Dialing:
    """A click-to-call ctibot placed: the PBX names the destination only once it is dialed."""

    extension: str  # the user's phone that rang first
    destination: str
    at: float  # the state's clock when the Originate was sent


class AmiSender(Protocol):
    """The part of AmiClient the services use (tests wrap or replace it)."""

    connected: bool

    async def send(self, action: dict[str, str]) -> Any: ...


class CallHistory(Protocol):
    """The call store (SQLite) as the services see it."""

    async def calls_of(self, extensions: list[str], limit: int) -> list[dict]: ...


class ServiceBase:
    """What every plugin's service shares: built with the plugin's context, helpers for actions.

    ``ctx`` is the :class:`~ctibot.plugin.PluginContext`; ``config``, ``state`` (the PBX
    state, read-only), ``ami`` and ``history`` are taken from it. Changes the service
    makes to the state (``set_astdb``) reach presence like any PBX event: through the bus.
    """

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.config: Config = ctx.config
        self.state: PbxState = ctx.pbx  # type: ignore[assignment]
        self.ami: AmiSender = ctx.ami
        store = ctx.store
        self.history: CallHistory | None = ctx.extra.get("history") or (
            store if hasattr(store, "calls_of") else None
        )
        publish = ctx.extra.get("publish")
        bus = ctx.bus if ctx.bus is not None else getattr(self.ami, "bus", None)
        self._publish: Publish | None = publish or (
            bus.publish_all if bus is not None else None
        )
        # What ctibot dialled is remembered once per ctibot, for every plugin's naming.
        self._dialing: deque[Dialing] = ctx.extra.setdefault("dialing", deque(maxlen=200))

    @property
    def layout(self) -> PbxLayout:
        return self.state.layout

    # -- checks ----------------------------------------------------------------

    def may(self, user: UserConfig, permission: str) -> bool:
        return permission in self.config.permissions_of(user)

    def require(self, user: UserConfig, permission: str) -> None:
        if not self.may(user, permission):
            raise PermissionDenied(permission=permission)

    def require_pbx(self) -> None:
        if not getattr(self.ami, "connected", False):
            raise PbxUnavailable()

    @staticmethod
    def build(builder: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run an action builder; a refused value becomes BadArgument with its explanation."""
        try:
            return builder(*args, **kwargs)
        except AmiValueError as exc:
            raise BadArgument("error.bad_value", field=exc.field, expected=exc.expected) from None

    async def send(self, action: dict[str, str]) -> Any:
        """Send one built action; AMI failures become PbxUnavailable / PbxRefused."""
        self.build(v.frame_check, action)
        try:
            return await self.ami.send(action)
        except AmiUnavailable:
            raise PbxUnavailable() from None
        except AmiError as exc:
            reason = v.show(str(exc) or "error").strip("'")
            raise PbxRefused(reason=reason) from None
        except (TimeoutError, ConnectionError):
            raise PbxUnavailable() from None

    def publish(self, events: list[DomainEvent]) -> None:
        if events and self._publish is not None:
            self._publish(events)

    def set_astdb(self, key: str, value: str | None) -> None:
        """Tell the state about a write we made (AMI sends no event for DBPut/DBDel)."""
        self.publish(self.state.set_astdb(key, value))

    @staticmethod
    async def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
        """Poll the state briefly for the PBX's answer to what we just did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result or loop.time() >= deadline:
                return result
            await asyncio.sleep(0.02)

    # -- identities ------------------------------------------------------------

    @staticmethod
    def caller_id(user: UserConfig) -> tuple[str | None, str]:
        name = _NAME_FORBIDDEN.sub("", user.fullname).strip()[:80] or None
        return name, user.default_extension

    def device(self, user: UserConfig) -> str:
        return self.layout.device_of(user.default_extension)

    def find_user(self, text: str) -> list[UserConfig]:
        """Users whose login name, full name, extension or one of their names is ``text``."""
        word = " ".join(text.split()).casefold()
        if not word:
            return []
        users = self.config.users
        for exact in (
            [u for u in users if u.name == word],
            [u for u in users if word in u.extensions],
            [u for u in users if u.fullname.casefold() == word],
        ):
            if exact:
                return exact
        return [u for u in users if word in u.fullname.casefold().split()]

    def extension_of(self, text: str) -> str:
        """An extension named directly or through its user (``202``, ``bob``)."""
        word = text.strip()
        if word in self.state.extensions or self.config.user_by_extension(word):
            return word
        found = self.find_user(word)
        if len(found) == 1:
            return found[0].default_extension
        if len(found) > 1:
            raise BadArgument(
                "error.ambiguous", text=clip(word), names=", ".join(u.name for u in found)
            )
        raise NotFound("error.no_such_extension", extension=clip(word))

    # -- calls of a user -------------------------------------------------------

    def channels_of(self, extensions: tuple[str, ...] | list[str]) -> list[Channel]:
        """Live channels of these phones, answered ones first, newest first."""
        wanted = set(extensions)
        found = [ch for ch in self.state.channels.values() if ch.extension in wanted]
        found.sort(key=lambda ch: (ch.bridge is not None, ch.state == 6, ch.created_at))
        found.reverse()
        return found

    def live_calls(
        self, user: UserConfig
    ) -> list[tuple[Call, Channel, str | None, str | None]]:
        """The user's current calls, each once: (call, their channel, party, party's name).

        The party is whom the user would say the call is with: a conference's room, the
        phone a spy listens to, the box a caller is leaving a message in, else the other
        party (``other_party``). Status, the call box and the rest read it from here.
        """
        out = []
        seen: set[str] = set()
        for ch in self.channels_of(user.extensions):
            call = self.state.calls.get(ch.linkedid)
            if call is None or call.id in seen:
                continue
            seen.add(call.id)
            party, name = self.other_party(user, call, ch)
            if call.conference is not None:
                party, name = call.conference, None  # many parties: the conference is the call
            elif call.spied is not None:  # only the spy's own call names whom it spies
                party, name = call.spied, self.name_of_number(call.spied)
            elif call.state == "voicemail" and (party is None or party in user.extensions):
                party, name = call.voicemail, self.name_of_number(call.voicemail)
            out.append((call, ch, party, name))
        return out

    def current(self, user: UserConfig) -> tuple[Call | None, Channel | None]:
        """The user's current call and their channel on it (None, None when idle)."""
        for ch in self.channels_of(user.extensions):
            call = self.state.calls.get(ch.linkedid)
            if call is not None:
                return call, ch
        return None, None

    def peer_of(self, channel: Channel) -> Channel | None:
        """Who shares the bridge with ``channel``: the other party of the conversation."""
        if channel.bridge is None:
            return None
        for other in self.state.channels.values():
            if other is not channel and other.bridge == channel.bridge:
                return other
        return None

    def far_end(self, channel: Channel) -> Channel | None:
        """The party at the other end: through a forward's or queue's Local pair, if any.

        The PBX state's ``peer_of``: a Local channel that is no phone is a half-way
        leg, the person is whoever shares the bridge with its other half; in a
        conference there is no one other party (None).
        """
        return self.state.peer_of(channel)

    # -- names -------------------------------------------------------------------

    def other_party(
        self, user: UserConfig, call: Call, mine: Channel
    ) -> tuple[str | None, str | None]:
        """(number, name) of whom the user is talking with, or is calling / called by."""
        far = self.far_end(mine)
        if far is not None:
            number, name = self.identify(far, call, user)
            # A leg towards one of the user's own phones (a forward's Local half) is
            # not whom they talk with; one of their other phones may be.
            if number not in user.extensions or far.extension in user.extensions:
                return number, name
        if call.caller_number and call.caller_number not in user.extensions:
            number = call.caller_number  # ringing for them: the caller
            name = self.name_of_number(number) or call.caller_name
        else:
            number = call.callee or call.dialed or self.dialing_for(mine.extension, call.started_at)
            name = self.name_of_number(number)
        return number, self.not_self(name, number, user)

    def name_of_number(self, number: str | None) -> str | None:
        """A colleague's name for one of their phones, or ``[pbx.names]``' for a phone."""
        return self.config.extension_name(number) if number else None

    def identify(
        self, channel: Channel, call: Call | None, viewer: UserConfig | None = None
    ) -> tuple[str | None, str | None]:
        """(number, name) of the person on ``channel``, as ``viewer`` should read them.

        A channel's CallerIDName names that channel's own party only when its
        CallerIDNum is that party: a dialed phone or trunk may carry the caller's.
        On an outgoing trunk leg Asterisk copies the caller's own name: never the
        callee's. And nobody is told they are talking with themselves.
        """
        number = channel.party
        name = self.name_of_number(channel.extension or number)
        if name is None and channel.caller_number == number:
            outgoing_trunk = channel.trunk is not None and not (call is not None and call.inbound)
            if not outgoing_trunk:
                name = clean_name(channel.caller_name)
        return number, self.not_self(name, number, viewer)

    @staticmethod
    def not_self(name: str | None, number: str | None, viewer: UserConfig | None) -> str | None:
        """``name`` unless it is the viewer's own while the number is none of theirs."""
        name = clean_name(name)
        if name is None or viewer is None:
            return name
        if name.casefold() == viewer.fullname.casefold() and number not in viewer.extensions:
            return None
        return name

    # -- settings and queues of a user, as the PBX shows them --------------------------------

    def memberships(self, user: UserConfig) -> list[tuple[str, QueueMember]]:
        """(queue, member) for every queue where one of the user's extensions is a member."""
        out = []
        for name, queue in sorted(self.state.queues.items()):
            for ext in user.extensions:
                member = queue.members.get(ext)
                if member is not None:
                    out.append((name, member))
        return out

    def forward_target(self, user: UserConfig, value: str) -> tuple[str, str | None]:
        """What a forward's AstDB value is for ``user``: ("voicemail", None), ("mobile",
        their number) or ("number", "Bob Bauer (202)")."""
        if value.startswith("vmu"):
            return "voicemail", None
        mobile = user.mobile
        if mobile and value.lstrip("+0") == mobile.lstrip("+0"):
            return "mobile", mobile
        return "number", label(self.name_of_number(value), value)

    def now(self) -> float:
        """The PBX state's clock (what call durations are measured with)."""
        return self.state.clock()

    def remembered_calls(self) -> list[dict]:
        """The calls the state remembers (without a call store), as JSON-ready records."""
        from ctibot.pbx.state_snapshot import record_json

        return [record_json(r) for r in self.state.recent_calls]

    # -- click-to-call memory --------------------------------------------------------

    def remember_dialing(self, user: UserConfig, destination: str) -> None:
        self._dialing.append(Dialing(user.default_extension, destination, self.state.clock()))

    def dialing_for(self, extension: str | None, started: float | None) -> str | None:
        """What ctibot dialed for a call from ``extension`` that started at ``started``."""
        if not extension or started is None:
            return None
        for dialing in reversed(self._dialing):
            if dialing.extension == extension and dialing.at - 2.0 <= started <= dialing.at + 60:
                return dialing.destination
        return None

    # -- numbers -----------------------------------------------------------------------

    def check_phone_number(self, number: str, shown: str) -> str:
        """Refuse what no phone number can be: longer than E.164 and its dialling prefixes."""
        prefix = getattr(self.config.pbx, "outside_prefix", "0") or ""
        limit = E164_DIGITS
        if prefix and number.startswith(prefix + INTERNATIONAL_PREFIX):
            limit += len(prefix) + len(INTERNATIONAL_PREFIX)
        elif number.startswith(INTERNATIONAL_PREFIX):
            limit += len(INTERNATIONAL_PREFIX)
        elif prefix and number.startswith(prefix):
            limit += len(prefix)
        if len(number) > limit:
            raise BadArgument("error.number_too_long", destination=clip(shown), maximum=limit)
        return number


def clip(text: str, limit: int = 40) -> str:
    """User text echoed in a reply: printable, short."""
    cleaned = "".join(ch for ch in text[: limit * 2] if ch.isprintable())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
