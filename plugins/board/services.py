"""The operator board's service: the board as data (snapshot, deltas) and its actions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from ctibot.plugin import (
    CallAction,
    Channel,
    NotFound,
    PluginContext,
    ServiceBase,
    UserConfig,
    clean_name,
    clip,
)

#: The permissions each board action needs besides ``operator_panel`` (shown or hidden).
ACTIONS = {
    "call": "call",
    "hangup": "hangup",
    "transfer": "transfer",
    "park": "park",
    "pickup": "pickup",
    "record": "recording",
    "spy": "spy",
    "whisper": "intrude",
}

Publish = Callable[[str, dict[str, Any]], None]


class BoardService(ServiceBase):
    """Every extension, trunk and parking slot as the board shows them (SPEC F30–F32).

    Actions go to the calls plugin's service (``ctx.services["calls"]``); this service
    adds the permission of the board itself (``operator_panel``) and the picture.
    The live part: ``changed()`` (from the bus) marks the board dirty; a flush
    ``coalesce`` seconds later computes what differs from what was last published
    and hands one delta to ``publisher`` (the web shell's ``publish("board", …)``).
    """

    coalesce: float = 0.01

    def __init__(self, ctx: PluginContext) -> None:
        super().__init__(ctx)
        self.calls = ctx.services["calls"]
        self.coalesce = float(ctx.settings.get("coalesce", type(self).coalesce))
        self.publisher: Publish | None = None
        self._sent_rows: dict[str, dict[str, Any]] | None = None
        self._sent_trunks: list[dict[str, Any]] = []
        self._sent_parkings: list[dict[str, Any]] = []
        self._flush: asyncio.Handle | None = None
        self._last_flush = float("-inf")  # the loop's time of the last delta
        self._cost = 0.0  # seconds the last delta took to compute and hand over
        self._parked: dict[str, str] = {}  # uniqueid -> slot, while rows are computed
        self._trail = False  # the delta under way went at once: one more look after it
        self.flushes = 0
        self._owners_of: Any = None
        self._operators_of: Any = None
        self._operators: list[UserConfig] = []
        self._owner_map: dict[str, UserConfig] = {}

    @property
    def optional(self) -> dict[str, Any]:
        """The post-it and SMS services, when those plugins run (the board ``uses`` them)."""
        services = self.ctx.services
        return {name: services[name] for name in ("postit", "sms") if name in services}

    def operators(self) -> list[UserConfig]:
        """The users whose browsers receive the board."""
        if self._operators_of is not self.config:
            self._operators = [u for u in self.config.users if self.may(u, "operator_panel")]
            self._operators_of = self.config
        return self._operators

    # -- who may see what ------------------------------------------------------------------

    def abilities(self, user: UserConfig) -> dict[str, bool]:
        """Which buttons the user's board shows (the services check again)."""
        return {name: self.may(user, perm) for name, perm in ACTIONS.items()} | {
            "postit": "postit" in self.optional and self.may(user, "postit"),
            "sms": "sms" in self.optional and self.may(user, "sms"),
        }

    # -- the picture -----------------------------------------------------------------------

    def _index(self) -> tuple[dict[str, list[Channel]], dict[str, list[Channel]]]:
        by_ext: dict[str, list[Channel]] = {}
        by_bridge: dict[str, list[Channel]] = {}
        for ch in self.state.channels.values():
            if ch.extension is not None:
                by_ext.setdefault(ch.extension, []).append(ch)
            if ch.bridge is not None:
                by_bridge.setdefault(ch.bridge, []).append(ch)
        return by_ext, by_bridge

    def _call_row(self, ch: Channel, by_bridge: dict[str, list[Channel]]) -> dict[str, Any] | None:
        call = self.state.calls.get(ch.linkedid)
        if call is None:
            return None
        far: Channel | None = None
        if ch.bridge is not None:
            others = [o for o in by_bridge.get(ch.bridge, ()) if o is not ch]
            if len(others) == 1 and not others[0].name.startswith("Local/"):
                far = others[0]
            elif others:
                far = self.far_end(ch)
        if far is not None:
            number, name = self.identify(far, call)
        elif call.caller_number and call.caller_number != ch.extension:
            number, name = call.caller_number, clean_name(call.caller_name)
        else:
            number = call.callee or call.dialed or ch.dialed
            name = None
        if call.state == "voicemail" and (not number or number == ch.extension):
            number, name = call.voicemail, None  # the box the caller is leaving a message in
        if number and not name:
            name = self.name_of_number(number)
        answered = call.answered_at is not None and (ch.bridge is not None or ch.state == 6)
        if ch.uniqueid in self._parked:
            state = "parked"  # waiting in a parking slot, not talking with anyone
            number, name = self._parked[ch.uniqueid], None
        elif answered:
            state = "onhold" if call.on_hold else "up"
        elif call.state == "voicemail":
            state = "voicemail"  # the caller is leaving a message, nobody is ringing
        else:
            state = "ringing"
        return {
            "id": call.id,
            "party": number or "",
            "name": name or "",
            "state": state,
            "since": round(call.answered_at if answered and call.answered_at else ch.created_at, 1),
            "direction": call.direction,
            "recording": call.recording,
        }

    def _owners(self) -> dict[str, UserConfig]:
        """Extension -> user, built once per configuration (the board asks for every one)."""
        if self._owners_of is not self.config:
            self._owner_map = {e: u for u in reversed(self.config.users) for e in u.extensions}
            self._owners_of = self.config
        return self._owner_map

    def name_of_number(self, number: str | None) -> str | None:
        if not number:
            return None
        user = self._owners().get(number)
        return user.fullname if user is not None else self.config.pbx.names.get(number)

    def extension_rows(self) -> dict[str, dict[str, Any]]:
        """Every extension's row: its user, status, DND, current calls."""
        by_ext, by_bridge = self._index()
        self._parked = {p.uniqueid: p.slot for p in self.state.parkings.values()}
        rows: dict[str, dict[str, Any]] = {}
        owners = self._owners()
        for number in set(self.state.extensions) | set(owners):
            ext = self.state.extensions.get(number)
            user = owners.get(number)
            calls = []
            seen: set[str] = set()
            for ch in sorted(by_ext.get(number, ()), key=lambda c: c.created_at):
                if ch.linkedid in seen:
                    continue
                row = self._call_row(ch, by_bridge)
                if row is not None:
                    seen.add(ch.linkedid)
                    calls.append(row)
            rows[number] = {
                "number": number,
                "user": user.fullname if user else (self.name_of_number(number) or ""),
                "login": user.name if user else "",
                "jid": (user.jid or "") if user else "",
                "status": ext.status if ext is not None else "unknown",
                "dnd": bool(ext and ext.dnd),
                "calls": calls,
            }
        return rows

    def trunk_rows(self) -> list[dict[str, Any]]:
        """Every trunk: channels used of its capacity, and the calls through it."""
        out = []
        channels = self.state.channels
        for name, trunk in sorted(self.state.trunks.items()):
            used, _ = trunk.in_use(channels)
            calls = []
            for linkedid in sorted({channels[u].linkedid for u in trunk.channels if u in channels}):
                call = self.state.calls.get(linkedid)
                if call is None:
                    continue
                calls.append(
                    {
                        "id": call.id,
                        "from": call.caller_number or "",
                        "from_name": clean_name(call.caller_name) or "",
                        "to": call.answered_by or call.queue or call.callee or call.dialed or "",
                        "direction": call.direction,
                        "state": call.state,
                        "since": round(call.answered_at or call.started_at, 1),
                    }
                )
            out.append({"name": name, "used": used, "max": trunk.max_channels, "calls": calls})
        return out

    def parking_rows(self) -> list[dict[str, Any]]:
        """The parking slots of the lot, each with its parked caller (or free)."""
        parked = self.state.parkings
        slots = sorted(set(self._lot_slots()) | set(parked), key=_slot_key)
        out = []
        for slot in slots:
            p = parked.get(slot)
            out.append(
                {
                    "slot": slot,
                    "from": (p.from_ or "") if p else "",
                    "from_name": (self.name_of_number(p.from_) or clean_name(p.from_name) or "")
                    if p
                    else "",
                    "by": (p.parked_by or "") if p else "",
                    "since": round(p.parked_at, 1) if p else 0,
                    "call_id": (p.call_id or "") if p else "",
                }
            )
        return out

    def _lot_slots(self) -> list[str]:
        first, _, last = str(self.ctx.settings.get("slots", "")).partition("-")
        if not first.isdigit():
            return []
        last = last if last.isdigit() else first
        return [str(n) for n in range(int(first), min(int(last), int(first) + 199) + 1)]

    def snapshot(self, user: UserConfig) -> dict[str, Any]:
        """The whole board for one operator (what the page renders, and the hub sends first)."""
        self.require(user, "operator_panel")
        rows = self.extension_rows()
        return {
            "kind": "snapshot",
            "now": self.now(),
            "extensions": [rows[n] for n in sorted(rows, key=_slot_key)],
            "trunks": self.trunk_rows(),
            "parkings": self.parking_rows(),
            "can": self.abilities(user),
            "me": user.default_extension,
        }

    def live_snapshot(self, user: UserConfig) -> dict[str, Any]:
        """What the websocket hub sends a browser that subscribes to ``board``."""
        return self.snapshot(user)

    # -- the live part -----------------------------------------------------------------------

    def changed(self) -> None:
        """Something on the PBX changed: publish the difference soon, once for many events.

        A change after a quiet spell goes out at once (after the AMI events read with
        it); under load there is at most one delta per window, and the window grows
        with what a delta costs, so that the board never takes more than a fifth of
        the loop however big the PBX.
        """
        if self.publisher is None or self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        window = max(self.coalesce, 5 * self._cost)
        wait = self._last_flush + window - loop.time()
        if wait > 0:
            self._flush = loop.call_later(wait, self.flush)
        else:
            self._flush = loop.call_soon(self.flush)
            self._trail = True

    def delta(self) -> dict[str, Any] | None:
        """What changed since the last delta (None: nothing); the first one has everything."""
        rows = self.extension_rows()
        trunks, parkings = self.trunk_rows(), self.parking_rows()
        old = self._sent_rows or {}
        changed = {n: _slim(row, old.get(n)) for n, row in rows.items() if old.get(n) != row}
        gone = [n for n in old if n not in rows]
        out: dict[str, Any] = {}
        if changed:
            out["extensions"] = changed
        if gone:
            out["gone"] = gone
        if trunks != self._sent_trunks:
            out["trunks"] = trunks
        if parkings != self._sent_parkings:
            out["parkings"] = parkings
        self._sent_rows, self._sent_trunks, self._sent_parkings = rows, trunks, parkings
        if not out:
            return None
        out["kind"] = "delta"
        out["now"] = self.now()
        return out

    def flush(self) -> None:
        self._flush = None
        if self.publisher is None:
            return
        started = time.perf_counter()
        payload = self.delta()
        if payload is not None:
            self.flushes += 1
            self.publisher("board", payload)
        self._cost = time.perf_counter() - started
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            self._last_flush = loop.time()
            if self._trail:
                # A delta sent at once may precede the AMI events that complete what the
                # domain event said (a BridgeEnter after the answer): look once more.
                self._trail = False
                self._flush = loop.call_later(max(self.coalesce, 5 * self._cost), self.flush)

    def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self.publisher = None

    # -- actions (through the calls plugin's service) --------------------------------------------

    def _check(self, user: UserConfig) -> None:
        self.require(user, "operator_panel")

    async def hangup(self, user: UserConfig, call_id: str, extension: str | None) -> CallAction:
        self._check(user)
        return await self.calls.hangup_call(user, call_id, extension or None)

    async def transfer(
        self, user: UserConfig, call_id: str, extension: str | None, destination: str
    ) -> CallAction:
        self._check(user)
        return await self.calls.transfer_call(user, call_id, destination, extension or None)

    async def park(self, user: UserConfig, call_id: str, extension: str | None) -> CallAction:
        self._check(user)
        return await self.calls.park_call(user, call_id, extension or None)

    async def record(
        self, user: UserConfig, call_id: str, extension: str | None, action: str
    ) -> CallAction:
        self._check(user)
        return await self.calls.record_call(user, call_id, action, extension or None)

    async def spy(self, user: UserConfig, extension: str, mode: str) -> CallAction:
        """Listen to (``listen``) or whisper into (``whisper``) an extension's call."""
        self._check(user)
        return await self.calls.spy(user, extension, "whisper" if mode == "whisper" else "listen")

    async def pickup(self, user: UserConfig, slot: str) -> CallAction:
        self._check(user)
        return await self.calls.pickup(user, slot)

    async def call(self, user: UserConfig, extension: str) -> Any:
        self._check(user)
        if extension not in self.state.extensions and not self.config.user_by_extension(extension):
            raise NotFound("error.no_such_extension", extension=clip(extension))
        return await self.calls.call(user, extension)

    async def postit(self, user: UserConfig, to: str, text: str) -> Any:
        self._check(user)
        service = self.optional.get("postit")
        if service is None:
            raise NotFound("board.no_postit")
        return await service.leave(user, to, text)

    async def sms(self, user: UserConfig, number: str, text: str) -> Any:
        self._check(user)
        service = self.optional.get("sms")
        if service is None:
            raise NotFound("board.no_sms")
        return await service.send(user, number, text)


#: What a row says of its extension's user: sent again only when it changed.
_STATIC = ("user", "login", "jid")


def _slim(row: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """A changed row as a delta carries it: without the user's fields when those are the same."""
    if old is None or any(old.get(k) != row[k] for k in _STATIC):
        return row
    return {k: v for k, v in row.items() if k not in _STATIC}


def _slot_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), text) if text.isdigit() else (1, 0, text)
