"""Resync: bring the state to what the PBX lists after a (re)connect, emitting only changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ctibot.pbx.events import CallUnparked, DomainEvent, QueueCallerLeft
from ctibot.pbx.model import Call, Channel, Extension, Mailbox, ParkedCall, Queue
from ctibot.pbx.naming import ChannelNaming

Events = list[DomainEvent]
Message = dict


@dataclass(slots=True)
class ResyncData:
    """What the AMI client fetched after a (re)connect; None = not fetched, keep as is.

    A list that was fetched is the whole truth: what it does not list is gone.
    ``astdb`` holds every DND/CF/CFB/CFU key present for the extensions
    (absent = off): those of tracked (configured or discovered) extensions count.
    ``mailboxes`` maps a box to (new, old).
    """

    channels: list[Message] | None = None  # CoreShowChannel
    extension_states: list[Message] | None = None  # ExtensionStatus of ExtensionStateList
    device_states: list[Message] | None = None  # DeviceStateChange of DeviceStateList
    queue_status: list[Message] | None = None  # QueueParams / QueueMember / QueueEntry
    parked: list[Message] | None = None  # ParkedCall of ParkedCalls
    mailboxes: dict[str, tuple[int, int]] | None = None
    astdb: dict[str, str] | None = None


def last_per(items: Iterable[Message], *keys: str) -> list[Message]:
    """One item per key (the last listed wins): a list states each thing once."""
    return list({tuple(str(m.get(k, "")) for k in keys): m for m in items}.values())


def channel_age(text: str) -> int:
    """CoreShowChannel ``Duration: 00:01:05`` -> 65 seconds."""
    total = 0
    for part in text.split(":")[:3]:
        if not (part.isascii() and part.isdigit()) or len(part) > 6:
            return 0
        total = total * 60 + int(part)
    return total


def uniqueid_order(uid: str) -> tuple[int, int]:
    head, _, tail = uid.partition(".")
    return (
        int(head) if head.isascii() and head.isdigit() and len(head) < 12 else 0,
        int(tail) if tail.isascii() and tail.isdigit() and len(tail) < 12 else 0,
    )


class Resync:
    """The resync half of PbxState (its handlers and attributes come from the other halves)."""

    naming: ChannelNaming
    clock: Callable[[], float]
    extensions: dict[str, Extension]
    queues: dict[str, Queue]
    parkings: dict[str, ParkedCall]
    mailboxes: dict[str, Mailbox]
    _channels: dict[str, Channel]
    _calls: dict[str, Call]
    _bridges: dict[str, set[str]]

    # Provided by the other halves of PbxState.
    _safe: Callable[..., Events]
    _make_channel: Callable[..., Channel]
    _add_channel: Callable[[Channel], None]
    _remove_channel: Callable[[Channel], Events]
    _move_channel: Callable[[Channel, str], Events]
    _bridged: Callable[[set[str], Events], None]
    _ring: Callable[[Call, Channel, Events], None]
    _on_voicemail_app: Callable[[Message], Events]
    _on_extension_status: Callable[[Message], Events]
    _on_device_state: Callable[[Message], Events]
    _extension: Callable[[str | None], Extension | None]
    _on_queue_params: Callable[[Message], Events]
    _update_member: Callable[[Queue, Message], Events]
    _on_queue_member_removed: Callable[[Message], Events]
    _member_event: Callable[..., DomainEvent]
    _member_key: Callable[[Message], tuple[str, str]]
    _add_caller: Callable[[Queue, Message, int], Events]
    _park: Callable[[Message], Events]
    _set_mailbox: Callable[[str, int, int], Events]
    set_astdb: Callable[[str, str | None], Events]

    def _resync_all(self, data: ResyncData) -> Events:
        out: Events = []
        if data.extension_states is not None or data.device_states is not None:
            self._safe(self._resync_discovery, data)
        if data.channels is not None:
            out += self._safe(self._resync_channels, data.channels)
        for msg in last_per(data.extension_states or (), "Exten"):
            out += self._safe(self._on_extension_status, msg)
        for msg in last_per(data.device_states or (), "Device"):
            # With AstDB fetched, DND comes from there alone: two sources read at
            # two moments could flip it twice.
            if data.astdb is not None and str(msg.get("Device", "")).startswith("Custom:DND"):
                continue
            out += self._safe(self._on_device_state, msg)
        if data.queue_status is not None:
            out += self._safe(self._resync_queues, data.queue_status)
        if data.parked is not None:
            out += self._safe(self._resync_parked, data.parked)
        for box, counts in (data.mailboxes or {}).items():
            out += self._safe(self._resync_mailbox, box, counts)
        if data.astdb is not None:
            out += self._safe(self._resync_astdb, data.astdb)
        return out

    def _resync_discovery(self, data: ResyncData) -> Events:
        """The extensions the PBX has: its phones' hints and the devices named like phones."""
        naming = self.naming
        found: set[str] = set()
        for msg in data.extension_states or ():
            number = naming.extension_of_hint(msg.get("Exten", ""), msg.get("Context", ""))
            if number is not None:
                found.add(number)
        for msg in data.device_states or ():
            state = msg.get("State", "")
            if state in ("UNKNOWN", "INVALID"):
                continue
            number = naming.extension_of_phone(msg.get("Device", ""))
            if number is not None:
                found.add(number)
        naming.rediscover(found)
        for number in naming.tracked():
            self._extension(number)
        busy = {ch.extension for ch in self._channels.values()}
        for number in [n for n in self.extensions if not naming.accepts(n) and n not in busy]:
            del self.extensions[number]  # gone from the PBX (and from the configuration)
        return []

    def _resync_channels(self, items: Iterable[Message]) -> Events:
        listed: dict[str, Message] = {}
        for msg in items:
            uid = msg.get("Uniqueid", "")
            if uid and len(uid) <= 64:
                listed[uid] = msg
        out: Events = []
        for ch in [ch for uid, ch in self._channels.items() if uid not in listed]:
            out += self._remove_channel(ch)
        now = self.clock()
        fresh: set[str] = set()
        # The call's first channel first, so that it becomes the call's origin.
        order = sorted(
            listed.items(),
            key=lambda item: (
                item[1].get("Linkedid", "") or item[0],
                item[0] != (item[1].get("Linkedid", "") or item[0]),
                uniqueid_order(item[0]),
            ),
        )
        for uid, msg in order:
            linkedid = msg.get("Linkedid", "")
            if not linkedid or len(linkedid) > 64:
                linkedid = uid
            ch = self._channels.get(uid)
            if ch is None:
                if linkedid not in self._calls:
                    fresh.add(linkedid)
                age = channel_age(msg.get("Duration", ""))
                ch = self._make_channel(msg, uid, linkedid, now - age)
                self._add_channel(ch)
                if linkedid in fresh:
                    call = self._calls[linkedid]
                    call.started_at = min(call.started_at, ch.created_at)
            else:
                ch.state = self._channel_state(msg, ch.state)
                if linkedid != ch.linkedid:
                    out += self._move_channel(ch, linkedid)
            if msg.get("Application") == "VoiceMail":  # a caller leaving a message
                data = msg.get("ApplicationData", "")
                out += self._on_voicemail_app({"Uniqueid": uid, "AppData": data})
        self._bridges = {}
        for ch in self._channels.values():
            ch.bridge = None
        for uid, msg in listed.items():
            bridge = msg.get("BridgeId", "")
            if bridge and uid in self._channels:
                self._bridges.setdefault(bridge, set()).add(uid)
                self._channels[uid].bridge = bridge
        for members in self._bridges.values():
            if len(members) >= 2:
                self._bridged(members, out)
        for call_id in sorted(fresh):
            call = self._calls.get(call_id)
            if call is None or call.answered_at is not None:
                continue
            for ch in call.channels.values():
                if ch.state == 5 and ch.uniqueid != call.origin:
                    call.ringing.add(ch.uniqueid)
                    call.callee = call.callee or ch.party
                    self._ring(call, ch, out)
        return out

    @staticmethod
    def _channel_state(msg: Message, default: int) -> int:
        text = msg.get("ChannelState", "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 4 else default

    def _resync_queues(self, items: Iterable[Message]) -> Events:
        params: dict[str, Message] = {}
        members: dict[str, list[Message]] = {}
        entries: dict[str, list[Message]] = {}
        for msg in items:
            name = msg.get("Queue", "")
            kind = msg.get("Event")
            if kind == "QueueParams":
                params[name] = msg
            elif kind == "QueueMember":
                members.setdefault(name, []).append(msg)
            elif kind == "QueueEntry":
                entries.setdefault(name, []).append(msg)
        for name, listed in members.items():
            members[name] = list({self._member_key(m)[0]: m for m in listed}.values())
        for name, listed in entries.items():
            entries[name] = last_per(listed, "Uniqueid")
        out: Events = []
        for name in list(self.queues):
            if name not in params:
                out += self._drop_queue(self.queues.pop(name))
        for name, msg in params.items():
            out += self._on_queue_params(msg)
            queue = self.queues.get(name)
            if queue is None:
                continue
            seen = set()
            for item in members.get(name, ()):
                seen.add(self._member_key(item)[0])
                out += self._update_member(queue, item)
            for key in [key for key in queue.members if key not in seen]:
                out.append(self._member_event(queue, queue.members.pop(key), "removed"))
            waiting = set()
            for item in entries.get(name, ()):
                waiting.add(item.get("Uniqueid", ""))
                out += self._add_caller(queue, item, self._wait_of(item))
            for uid in [uid for uid in queue.callers if uid not in waiting]:
                caller = queue.callers.pop(uid)
                out.append(
                    QueueCallerLeft(
                        queue=name,
                        call_id=caller.call_id,
                        position=caller.position,
                        count=len(queue.callers),
                    )
                )
        return out

    @staticmethod
    def _wait_of(msg: Message) -> int:
        text = msg.get("Wait", "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else 0

    def _drop_queue(self, queue: Queue) -> Events:
        out: Events = [self._member_event(queue, m, "removed") for m in queue.members.values()]
        for caller in queue.callers.values():
            out.append(
                QueueCallerLeft(queue=queue.name, call_id=caller.call_id, position=0, count=0)
            )
        return out

    def _resync_parked(self, items: Iterable[Message]) -> Events:
        out: Events = []
        listed = set()
        for msg in last_per(items, "ParkingSpace"):
            listed.add(str(msg.get("ParkingSpace", "")))
            out += self._park(msg)
        for slot in [slot for slot in self.parkings if slot not in listed]:
            parked = self.parkings.pop(slot)
            out.append(
                CallUnparked(
                    slot=slot,
                    lot=parked.lot,
                    call_id=parked.call_id,
                    picked_up_by=None,
                    reason="gone",
                )
            )
        return out

    def _resync_mailbox(self, box: str, counts: tuple[int, int]) -> Events:
        key = self.naming.mailbox_key(str(box))
        new, old = (int(counts[0]), int(counts[1]))
        return self._set_mailbox(key, max(0, new), max(0, old)) if key else []

    def _resync_astdb(self, astdb: dict[str, str]) -> Events:
        numbers = set(self.extensions)
        for key in astdb:
            family, _, number = str(key).strip("/").partition("/")
            if family in ("DND", "CF", "CFB", "CFU") and self.naming.accepts(number):
                numbers.add(number)
        normalised = {str(key).strip("/"): value for key, value in astdb.items()}
        out: Events = []
        for number in sorted(numbers):
            for family in ("DND", "CF", "CFB", "CFU"):
                key = f"{family}/{number}"
                value = normalised.get(key)
                out += self.set_astdb(key, value if isinstance(value, str) else None)
        return out
