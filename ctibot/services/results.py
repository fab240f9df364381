"""What the services return: plain dataclasses that every surface renders its own way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: FreePBX writes "CF:" before the caller's name on a forwarded call: a tag, not a name.
_NAME_TAGS = re.compile(r"^\s*(?:CF[BU]?)\s*:\s*", re.IGNORECASE)


def clean_name(name: str | None) -> str | None:
    """A caller name as a user reads it: no PBX tag, nothing for an unknown one."""
    if not name:
        return None
    name = _NAME_TAGS.sub("", name).strip()
    return None if not name or name in ("<unknown>", "unknown") else name


def label(name: str | None, number: str | None) -> str:
    """The one naming rule: "Alice Anders (201)" when the name is known, else the number."""
    name = clean_name(name)
    if name and number and name != number:
        return f"{name} ({number})"
    return name or number or "?"


@dataclass(frozen=True, slots=True)
class CallPlaced:
    extension: str  # the user's phone that rings first
    destination: str  # what is dialed
    name: str | None = None  # the colleague's name when calling a user
    #: The colleague is on do-not-disturb: what the PBX's DND rule does with the call
    #: ("voicemail" or "busy"); None when they are not.
    dnd: str | None = None


@dataclass(frozen=True, slots=True)
class CallAction:
    """Hangup, transfer, park, pickup, record, spy: what was done to which call."""

    action: str
    call_id: str | None = None
    party: str | None = None  # the other party's number or extension
    destination: str | None = None  # transfer target, parking slot, spied extension…
    party_name: str | None = None  # the other party's name, when known
    destination_name: str | None = None  # the transfer target's name, when known


@dataclass(frozen=True, slots=True)
class DndResult:
    on: bool
    changed: tuple[str, ...]  # extensions written
    unchanged: tuple[str, ...]  # extensions already in that state


@dataclass(frozen=True, slots=True)
class ForwardResult:
    kind: str  # unconditional | busy | noanswer | all (off only)
    destination: str | None  # the AstDB value written (None = off)
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    timeout: int | None = None
    #: The other forwards that stay set afterwards: (kind, AstDB value), one per value.
    still_set: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class QueueResult:
    action: str  # login | logout | pause | resume
    changed: tuple[str, ...]  # queues acted on
    unchanged: tuple[str, ...]  # queues already in that state
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneStatus:
    extension: str
    status: str  # idle | ringing | busy | onhold | unavailable | unknown
    dnd: bool
    forward: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class QueueMembership:
    queue: str
    extension: str
    dynamic: bool
    paused: bool
    reason: str


@dataclass(frozen=True, slots=True)
class CurrentCall:
    call_id: str
    extension: str
    state: str  # ringing | up | onhold
    party: str | None
    party_name: str | None
    direction: str
    since: float
    recording: bool
    recording_paused: bool
    outgoing: bool = False  # the user placed it (their phone rings first on a click-to-call)
    #: What kind of call it is, when it is not a plain two-party one.
    voicemail: str | None = None  # unanswered: the caller is leaving a message in this box
    conference: str | None = None  # the user is in this conference (``party`` is it too)
    spied: str | None = None  # a ChanSpy call: the party listened to
    forwarded_from: str | None = None  # the extension whose forward sent the call on
    forwarded_from_name: str | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    phones: tuple[PhoneStatus, ...]
    queues: tuple[QueueMembership, ...]
    calls: tuple[CurrentCall, ...]


@dataclass(frozen=True, slots=True)
class UserPresence:
    name: str
    fullname: str
    extensions: tuple[str, ...]
    presence: str  # dnd | cellphone | voicemail | callforward | online
    phone: str  # ringing | busy | onhold | idle | offline | unknown
    forward: str | None = None
    talking_with: str | None = None  # "Alice Anders (201)": name and number
    calls: tuple[CurrentCall, ...] = ()  # the current calls behind ``phone``, as the user sees them
    forward_name: str | None = None  # the colleague the phone is forwarded to, when it is one


@dataclass(frozen=True, slots=True)
class CallLine:
    """One line of a user's recent calls, seen from that user."""

    call_id: str
    start: float | str | None
    direction: str  # in | out | internal
    party: str | None
    party_name: str | None
    answered: bool
    duration: int


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    fullname: str
    extensions: tuple[str, ...]
    default_extension: str
    mobile: str | None
    jid: str | None
    language: str
    profile: str
    permissions: tuple[str, ...] = field(default_factory=tuple)
