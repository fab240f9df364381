"""Typed domain events that PbxState emits: what happened on the PBX, in telephony words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_frozen = dataclass(frozen=True, slots=True, kw_only=True)


@_frozen
class DomainEvent:
    """Base of every event; ``as_dict()`` gives a JSON-ready dict with an ``event`` name."""

    def as_dict(self) -> dict[str, Any]:
        data = _renamed(asdict(self))
        data["event"] = type(self).__name__
        return data


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """``from_`` (a Python keyword dodge) is ``from`` in JSON, as in the snapshot."""
    return {
        ("from" if key == "from_" else key): _renamed(value) if isinstance(value, dict) else value
        for key, value in data.items()
    }


@_frozen
class CallRecord:
    """What a finished call was: the line a call history or lost-call list keeps.

    ``duration`` is talk time (answer to end, whole seconds), so queue wait and
    ringing never count as talk; ``wait`` is start to answer. ``ended_with`` is
    the party the caller was last connected to (differs from ``answered_by``
    after a transfer or a park and pickup). A call to a conference or a ChanSpy
    call was answered by no one: ``answered_by`` is None, ``to`` and ``ended_with``
    are the conference (or the spied party). An attended transfer's consultation
    call shares the transferred call's Linkedid: it is part of that one record
    (``transfers`` lists the target, ``ended_with`` is it). ``to`` of an unanswered
    call is whom it rang, else what was dialed (a call sent to voicemail on DND).
    """

    call_id: str
    from_: str | None
    from_name: str | None
    to: str | None
    direction: str  # inbound | outbound | internal
    answered: bool
    start: float
    answer: float | None
    end: float
    duration: int
    wait: int
    answered_by: str | None = None
    ended_with: str | None = None
    queue: str | None = None
    did: str | None = None
    transferred: bool = False
    transfers: tuple[str, ...] = ()
    picked_up_by: str | None = None
    recorded: bool = False
    merged_into: str | None = None  # another call took over all its channels
    forwarded_from: str | None = None  # the extension dialed, whose forward sent it on
    conference: str | None = None  # a call to a conference: its number (``to`` too)
    spied: str | None = None  # a ChanSpy call: the party listened to (``to`` too)
    voicemail: str | None = None  # the mailbox VoiceMail ran for (a message may be left)


@_frozen
class CallRinging(DomainEvent):
    call_id: str
    extension: str
    channel: str
    caller_number: str | None
    caller_name: str | None
    direction: str
    queue: str | None = None


@_frozen
class CallAnswered(DomainEvent):
    call_id: str
    answered_by: str | None
    extension: str | None  # set when an extension answered
    caller_number: str | None
    caller_name: str | None
    direction: str
    queue: str | None = None


@_frozen
class CallStateChanged(DomainEvent):
    """An answered call went on hold or came back (``state`` up | onhold), or an
    unanswered one reached a mailbox (``state`` voicemail, ``previous`` ringing)."""

    call_id: str
    state: str
    previous: str


@_frozen
class CallRecordingChanged(DomainEvent):
    call_id: str
    recording: bool
    paused: bool


@_frozen
class CallEnded(DomainEvent):
    call_id: str
    record: CallRecord


@_frozen
class ExtensionStatusChanged(DomainEvent):
    extension: str
    status: str  # idle | ringing | busy | onhold | unavailable | unknown
    previous: str


@_frozen
class DndChanged(DomainEvent):
    extension: str
    dnd: bool


@_frozen
class ForwardChanged(DomainEvent):
    extension: str
    kind: str  # unconditional | busy | noanswer
    destination: str | None  # AstDB value: a number or vmu<box>; None = off


@_frozen
class QueueMemberChanged(DomainEvent):
    queue: str
    member: str  # extension number when derivable, else the interface
    change: str  # added | removed | paused | unpaused | status | penalty
    dynamic: bool
    paused: bool
    reason: str
    status: str
    penalty: int


@_frozen
class QueueCallerJoined(DomainEvent):
    queue: str
    call_id: str
    caller_number: str | None
    caller_name: str | None
    position: int
    count: int


@_frozen
class QueueCallerLeft(DomainEvent):
    queue: str
    call_id: str
    position: int
    count: int


@_frozen
class QueueCallerAbandoned(DomainEvent):
    queue: str
    call_id: str
    caller_number: str | None
    position: int
    original_position: int
    hold_time: int


@_frozen
class CallParked(DomainEvent):
    slot: str
    lot: str
    call_id: str | None
    from_: str | None
    from_name: str | None
    parked_by: str | None
    timeout: int


@_frozen
class CallUnparked(DomainEvent):
    slot: str
    lot: str
    call_id: str | None
    picked_up_by: str | None
    reason: str  # pickup | timeout | giveup | gone


@_frozen
class VoicemailCountChanged(DomainEvent):
    mailbox: str
    new: int
    old: int


@_frozen
class PbxConnected(DomainEvent):
    banner: str = ""


@_frozen
class PbxDisconnected(DomainEvent):
    reason: str = ""


@_frozen
class PbxResynced(DomainEvent):
    counts: dict[str, int] = field(default_factory=dict)
