"""Shared helpers for the demo PBX tests: a raw AMI client, capture loading, comparison."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from ctibot.pbx.framing import AmiFramer

CAPTURES = Path(__file__).parent / "fixtures" / "ami"

Keyed = tuple[str, tuple[str, ...]]  # (kind, field names in order)


def split_raw(data: bytes) -> list[list[tuple[str, str]]]:
    """Raw AMI bytes -> messages as ordered (key, value) lists (repeated keys kept)."""
    if data.startswith(b"Asterisk Call Manager/"):
        data = data.split(b"\r\n", 1)[1]
    out = []
    for block in data.decode("utf-8", "replace").split("\r\n\r\n"):
        pairs = []
        for line in block.split("\r\n"):
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":"):
                    key, value = line[:-1], ""
                else:
                    continue
            pairs.append((key, value))
        if pairs and pairs[0][0] in ("Event", "Response"):
            out.append(pairs)
    return out


def kind(msg: list[tuple[str, str]]) -> str:
    """``Event:Newstate`` or ``Response:Success``."""
    return f"{msg[0][0]}:{msg[0][1]}"


def as_dict(msg: list[tuple[str, str]]) -> dict[str, str]:
    d: dict[str, str] = {}
    for k, v in msg:
        d.setdefault(k, v)
    return d


def load_capture(name: str) -> list[list[tuple[str, str]]]:
    return split_raw((CAPTURES / f"{name}.txt").read_bytes())


def load_sent(name: str) -> list[list[tuple[str, str]]]:
    text = (CAPTURES / f"{name}.sent.txt").read_bytes().decode()
    actions = []
    for block in text.split("\r\n\r\n"):
        pairs = [tuple(line.split(": ", 1)) for line in block.split("\r\n") if ": " in line]
        if pairs:
            actions.append(pairs)
    return actions


def field_names(msg: list[tuple[str, str]]) -> tuple[str, ...]:
    """Field names in order; a repeated key (Output, Variable) counts once."""
    names: list[str] = []
    for key, _ in msg:
        if not names or names[-1] != key:
            names.append(key)
    return tuple(names)


def field_templates() -> dict[str, set[tuple[str, ...]]]:
    """Every field list each message kind has in any capture: the demo's templates."""
    templates: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for path in sorted(CAPTURES.glob("*.txt")):
        if path.name.endswith(".sent.txt"):
            continue
        for msg in split_raw(path.read_bytes()):
            templates[kind(msg)].add(field_names(msg))
    return templates


class RawAmiClient:
    """A tiny AMI client over asyncio streams that records every byte received."""

    def __init__(self) -> None:
        self.raw = b""
        self.messages: list[dict] = []
        self._framer = AmiFramer()
        self._changed = asyncio.Event()
        self._reader_task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    async def connect(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self._reader_task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                data = await self.reader.read(1 << 20)
                if not data:
                    break
                self.raw += data
                self.messages.extend(self._framer.feed(data))
                self._changed.set()
        except ConnectionError:
            pass
        finally:
            self.writer.close()  # the peer went away: release our side too
            self.closed.set()
            self._changed.set()

    def send(self, pairs: list[tuple[str, str]] | dict[str, str]) -> None:
        items = pairs.items() if isinstance(pairs, dict) else pairs
        self.writer.write(("".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n").encode())

    async def wait_for(
        self, pred: Callable[[dict], bool], timeout: float = 5.0, start: int = 0
    ) -> dict:
        """The first message from index ``start`` (received or coming) matching ``pred``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = start
        while True:
            for msg in self.messages[seen:]:
                if pred(msg):
                    return msg
            seen = len(self.messages)
            if self.closed.is_set():
                raise AssertionError("connection closed while waiting")
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError("no matching AMI message")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def action(self, pairs: dict[str, str], timeout: float = 5.0) -> dict:
        """Send an action and wait for its response (and the end of its list)."""
        self.send(pairs)
        aid = pairs.get("ActionID")
        resp = await self.wait_for(lambda m: "Response" in m and m.get("ActionID") == aid, timeout)
        if resp.get("EventList") == "start":
            await self.wait_for(
                lambda m: m.get("ActionID") == aid and m.get("EventList") == "Complete", timeout
            )
        return resp

    async def login(self, port: int, user: str = "cti", secret: str = "cti-secret") -> dict:
        await self.connect(port)
        return await self.action(
            {"Action": "Login", "ActionID": "login", "Username": user, "Secret": secret}
        )

    async def close(self) -> None:
        if self._reader_task is not None:
            self.writer.close()
            self._reader_task.cancel()


# -- replaying a capture's actions against the demo ---------------------------------
#: Dialplan detail the demo does not reproduce step by step (documented in the tests).
NOISE = {
    "VarSet",
    "Newexten",
    "HangupHandlerPush",
    "HangupHandlerRun",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "DeviceStateChange",
    "QueueMemberStatus",
    "ExtensionStatus",
    "NewCallerid",
    "NewConnectedLine",
    "HangupRequest",
    "SoftHangupRequest",
    "Cdr",
    "LocalBridge",
    "DialState",
    "Unhold",
    "Hold",
    "BridgeCreate",
    "BridgeDestroy",
}


def primary_channel(d: dict[str, str]) -> str | None:
    return d.get("Channel") or d.get("ParkeeChannel") or d.get("DestChannel")


def _mark(d: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    return d.get("Event"), primary_channel(d), d.get("ChannelStateDesc")


def wait_points(
    capture: list[list[tuple[str, str]]],
) -> dict[str, tuple[dict[str, str], int] | None]:
    """For each ActionID: the last call event (with a channel) the capture shows
    before the reply to it, and how many times that same event had been seen —
    the demo must have sent it as often before we act."""
    points: dict[str, tuple[dict[str, str], int] | None] = {}
    last: tuple[dict[str, str], int] | None = None
    seen: Counter = Counter()
    for msg in capture:
        d = as_dict(msg)
        if "Response" in d and "ActionID" in d:
            points.setdefault(d["ActionID"], last)
        elif (
            "Event" in d and d["Event"] not in NOISE and primary_channel(d) and "ActionID" not in d
        ):
            seen[_mark(d)] += 1
            last = (d, seen[_mark(d)])
    return points


async def replay(
    port: int,
    name: str,
    before: dict[str, Callable[[], None]] | None = None,
    timeout: float = 4.0,
    secret: str = "cti-secret",
    sink: list[RawAmiClient] | None = None,
) -> bytes:
    """Send ``<name>.sent.txt``'s actions to the demo, each once the demo reached the
    point where the capture's client sent it; return every byte the demo sent."""
    capture = load_capture(name)
    points = wait_points(capture)
    bridge_map: dict[str, str] = {}
    cap_bridges = {}
    for msg in capture:
        d = as_dict(msg)
        if d.get("Event") == "BridgeEnter":
            cap_bridges.setdefault(d["BridgeUniqueid"], d["Channel"])
    client = RawAmiClient()
    if sink is not None:
        sink.append(client)  # lets a failing test show what the demo sent
    await client.connect(port)
    for pairs in load_sent(name):
        action = dict(pairs)
        aid = action.get("ActionID", "")
        point = points.get(aid)
        if point is not None:
            target, times = point

            def reached(_m, target=target, times=times):
                mark = _mark(target)
                return sum(1 for m in client.messages if _mark(m) == mark) >= times

            try:
                await client.wait_for(reached, timeout)
            except TimeoutError as exc:
                raise AssertionError(
                    f"{name}: the demo never sent {target['Event']} {primary_channel(target)} "
                    f"({target.get('ChannelStateDesc')}) x{times} before {aid}"
                ) from exc
        if before and aid in before:
            before[aid]()
        if "Key" in action and action.get("Action", "").lower() == "login":
            # The capture's key answers the capture's challenge: answer ours.
            challenge = next(m["Challenge"] for m in client.messages if "Challenge" in m)
            action["Key"] = hashlib.md5((challenge + secret).encode()).hexdigest()
        if "BridgeUniqueid" in action:
            for m in client.messages:
                if m.get("Event") == "BridgeEnter":
                    bridge_map.setdefault(m["Channel"], m["BridgeUniqueid"])
            chan = cap_bridges.get(action["BridgeUniqueid"])
            if chan in bridge_map:
                action["BridgeUniqueid"] = bridge_map[chan]
        if action.get("Action", "").lower() == "logoff":
            # Calls end by themselves too: wait for every Hangup the capture has.
            for msg in capture:
                d = as_dict(msg)
                if d.get("Event") == "Hangup":
                    try:
                        await client.wait_for(
                            lambda m, c=d["Channel"]: (
                                m.get("Event") == "Hangup" and m.get("Channel") == c
                            ),
                            timeout,
                        )
                    except TimeoutError as exc:
                        raise AssertionError(f"{name}: no Hangup of {d['Channel']}") from exc
            client.send(action)
            await asyncio.wait_for(client.closed.wait(), timeout)
            break
        client.send(action)
        if action.get("Action", "").lower() == "login" and "Secret" in action:
            resp = await client.wait_for(lambda m, a=aid: m.get("ActionID") == a, timeout)
            if resp.get("Response") == "Error":
                await asyncio.wait_for(client.closed.wait(), timeout)
                break
            continue
        await client.wait_for(lambda m, a=aid: "Response" in m and m.get("ActionID") == a, timeout)
    await client.close()
    return client.raw


# -- comparisons ----------------------------------------------------------------------
def responses(msgs) -> list[tuple[str, str, str]]:
    """(ActionID, Response, Message) of every reply, in order."""
    out = []
    for msg in msgs:
        d = as_dict(msg)
        if msg[0][0] == "Response":
            out.append((d.get("ActionID", ""), d["Response"], d.get("Message", "")))
    return out


def list_items(msgs) -> dict[str, list[str]]:
    """Item event names of each list reply, by ActionID."""
    out: dict[str, list[str]] = defaultdict(list)
    for msg in msgs:
        d = as_dict(msg)
        if "Event" in d and "ActionID" in d and d["Event"] != "OriginateResponse":
            out[d["ActionID"]].append(d["Event"])
    return dict(out)


def unknown_field_orders(msgs, templates) -> list[str]:
    """Demo messages whose field list matches no capture's field list for that kind."""
    bad = []
    for msg in msgs:
        k = kind(msg)
        keys = field_names(msg)
        known = templates.get(k)
        if known is not None and keys not in known:
            bad.append(f"{k}: {','.join(keys)}")
    return bad


#: Values that differ from run to run (clocks, addresses, session ids, challenges).
VOLATILE = frozenset(
    {
        "EventTV",
        "SessionTV",
        "SessionID",
        "LocalAddress",
        "RemoteAddress",
        "Uptime",
        "LastReload",
        "Timestamp",
        "Challenge",
        "LoginTime",
        "LastPause",
        "CoreStartupDate",
        "CoreStartupTime",
        "CoreReloadDate",
        "CoreReloadTime",
    }
)


def segments(msgs) -> list[Counter]:
    """Each reply with the events that follow it up to the next reply, as a
    multiset of messages (fields in order, values but the volatile ones)."""
    out: list[Counter] = [Counter()]
    for msg in msgs:
        if msg[0][0] == "Response":
            out.append(Counter())
        out[-1][tuple((k, "*" if k in VOLATILE else v) for k, v in msg)] += 1
    return out


def per_channel(msgs) -> dict[str, list[str]]:
    """The call events of each channel, in order (Newstate with its state)."""
    out: dict[str, list[str]] = defaultdict(list)
    for msg in msgs:
        d = as_dict(msg)
        name = d.get("Event")
        # OriginateResponse's place among a channel's events is timing: it is
        # checked through names_present() instead.
        if name is None or name in NOISE or "ActionID" in d:
            continue
        chan = primary_channel(d)
        if not chan:
            continue
        label = name
        if name == "Newstate":
            label += ":" + d.get("ChannelStateDesc", "")
        if name in ("DialBegin", "DialEnd") and "Channel" in d:
            label += ">" + d.get("DestChannel", "") + ":" + d.get("DialStatus", "")
        if name == "OriginateResponse":
            label += ":" + d.get("Response", "")
        out[chan].append(label)
    return dict(out)


#: Values compared for each call event of a channel (those the event has).
VALUE_FIELDS = (
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Context",
    "Exten",
    "ChannelStateDesc",
    "DestChannel",
    "DestCallerIDNum",
    "DestCallerIDName",
    "DestContext",
    "DestExten",
    "DialStatus",
    "Cause",
    "Queue",
    "Interface",
    "MemberName",
    "ParkingSpace",
    "Mailbox",
    "Waiting",
    "New",
    "Old",
    "Direction",
    "State",
)
#: Values compared for each Cdr of a channel (Source is not: Asterisk's CDR engine
#: takes it from a snapshot whose timing the captures do not pin down).
CDR_FIELDS = (
    "Destination",
    "DestinationContext",
    "DestinationChannel",
    "LastApplication",
    "LastData",
    "Disposition",
)


def channel_values(msgs) -> dict[str, list[tuple]]:
    """For each channel, its call events (and Cdr records) with their values."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for msg in msgs:
        d = as_dict(msg)
        name = d.get("Event")
        if name is None or "ActionID" in d:
            continue
        if name == "Cdr":
            # Records are compared in their own list: when Asterisk posts them
            # relative to the Hangup is up to its CDR thread.
            out[d["Channel"] + " (cdr)"].append(tuple(d.get(k) for k in CDR_FIELDS))
        elif name not in NOISE or name == "DialState":
            chan = primary_channel(d)
            if chan:
                out[chan].append((name, *(d.get(k) for k in VALUE_FIELDS)))
    return dict(out)


def originate_responses(msgs) -> dict[str, tuple]:
    """OriginateResponse values by ActionID (Uniqueid: known or not)."""
    out = {}
    for msg in msgs:
        d = as_dict(msg)
        if d.get("Event") == "OriginateResponse":
            keys = ("Response", "Channel", "Context", "Exten", "Application", "Data", "Reason")
            out[d.get("ActionID", "")] = (
                *(d.get(k) for k in keys),
                d.get("CallerIDNum"),
                d.get("CallerIDName"),
                d.get("Uniqueid") == "<unknown>",
            )
    return out


def counts_per_channel(msgs, event: str) -> Counter:
    """How many ``event`` events each channel got (Cdr records, DialState...)."""
    out: Counter = Counter()
    for msg in msgs:
        d = as_dict(msg)
        if d.get("Event") == event and "ActionID" not in d:
            out[d.get("Channel") or d.get("LocalOneChannel") or primary_channel(d)] += 1
    return out


def names_present(msgs) -> set[str]:
    return {as_dict(m).get("Event", "") for m in msgs} - {""}


def extension_states(msgs) -> dict[str, list[str]]:
    """ExtensionStatus texts per extension, consecutive repeats collapsed."""
    out: dict[str, list[str]] = defaultdict(list)
    for msg in msgs:
        d = as_dict(msg)
        if d.get("Event") == "ExtensionStatus" and "ActionID" not in d:
            seq = out[d["Exten"]]
            if not seq or seq[-1] != d["StatusText"]:
                seq.append(d["StatusText"])
    return dict(out)


def first_channel_seq(capture) -> int | None:
    for msg in capture:
        d = as_dict(msg)
        if d.get("Event") == "Newchannel":
            match = re.search(r"-([0-9a-f]{8});?\d?$", d["Channel"])
            if match:
                return int(match.group(1), 16)
    return None
