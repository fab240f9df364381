"""The PBX as ctibot sees it: extensions, devices, channels, calls, queues, parkings, trunks."""

from __future__ import annotations

from dataclasses import dataclass, field

# Significance of a device / hint state, per PBX-CONVENTIONS.md:
# busy > busy+ringing > ringing > on hold > online > offline (> nothing known).
RANK_UNKNOWN = 0
RANK_UNAVAILABLE = 1
RANK_IDLE = 2
RANK_ONHOLD = 3
RANK_RINGING = 4
RANK_RINGINUSE = 5
RANK_BUSY = 6

STATUS_WORDS = {
    RANK_UNKNOWN: "unknown",
    RANK_UNAVAILABLE: "unavailable",
    RANK_IDLE: "idle",
    RANK_ONHOLD: "onhold",
    RANK_RINGING: "ringing",
    # Someone on a call with another one ringing is, to colleagues, on the phone.
    RANK_RINGINUSE: "busy",
    RANK_BUSY: "busy",
}

#: DeviceStateChange / DeviceStateList ``State`` values.
DEVICE_STATE_RANKS = {
    "NOT_INUSE": RANK_IDLE,
    "INUSE": RANK_BUSY,
    "BUSY": RANK_BUSY,
    "RINGING": RANK_RINGING,
    "RINGINUSE": RANK_RINGINUSE,
    "ONHOLD": RANK_ONHOLD,
    "UNAVAILABLE": RANK_UNAVAILABLE,
    "INVALID": RANK_UNAVAILABLE,
    "UNKNOWN": RANK_UNKNOWN,
}

#: ExtensionStatus ``Status`` codes (hint states).
HINT_STATUS_RANKS = {
    "0": RANK_IDLE,
    "1": RANK_BUSY,
    "2": RANK_BUSY,
    "4": RANK_UNAVAILABLE,
    "8": RANK_RINGING,
    "9": RANK_RINGINUSE,
    "16": RANK_ONHOLD,
    "17": RANK_BUSY,  # in use + on hold
    "-1": RANK_UNKNOWN,
    "-2": RANK_UNKNOWN,
}

#: QueueMember ``Status`` codes (app_queue's device states of the member).
QUEUE_MEMBER_STATUS = {
    "0": "unknown",
    "1": "idle",
    "2": "busy",
    "3": "busy",
    "4": "unavailable",
    "5": "unavailable",
    "6": "ringing",
    "7": "busy",
    "8": "onhold",
}

FORWARD_KINDS = {"CF": "unconditional", "CFB": "busy", "CFU": "noanswer"}


@dataclass(slots=True)
class Device:
    """A phone (or BLF custom device) as Asterisk's device state engine reports it."""

    name: str
    state: str  # NOT_INUSE, INUSE, BUSY, RINGING, RINGINUSE, ONHOLD, UNAVAILABLE…
    rank: int


@dataclass(slots=True)
class Extension:
    """A phone number of the PBX and what is known of its phones.

    ``devices`` holds its phones by device name. The hint is only used while no
    device state is known: FreePBX hints include ``Custom:DND<ext>``, which would
    show a user in DND as busy.
    """

    number: str
    devices: dict[str, Device] = field(default_factory=dict)
    hint_rank: int | None = None
    status: str = "unknown"
    dnd: bool = False
    forward: dict[str, str | None] = field(
        default_factory=lambda: {"unconditional": None, "busy": None, "noanswer": None}
    )

    def compute_status(self) -> str:
        if self.devices:
            rank = max(device.rank for device in self.devices.values())
        elif self.hint_rank is not None:
            rank = self.hint_rank
        else:
            rank = RANK_UNKNOWN
        return STATUS_WORDS[rank]


@dataclass(slots=True)
class Channel:
    """One Asterisk channel, with what ctibot derived from its name once."""

    name: str
    uniqueid: str
    linkedid: str
    state: int = 0
    caller_number: str | None = None
    caller_name: str | None = None
    exten: str = ""
    extension: str | None = None  # the phone's extension when this is a phone's channel
    leg_of: str | None = None  # extension reached through a queue / forward Local leg
    trunk: str | None = None
    created_at: float = 0.0
    dialed: str | None = None  # number dialed when a Dial created this channel
    bridge: str | None = None
    on_hold: bool = False
    rang: bool = False
    answered_party: str | None = None  # who picked up behind this Local leg
    #: A leg the call created towards someone (a Dial, a transfer): Asterisk copies the
    #: caller's CallerIDName onto it, so its caller ID never names who is on it.
    outgoing: bool = False
    conference: str | None = None  # the ConfBridge this channel is in
    #: Its connected line when first seen (a resync lists it): on a leg the call
    #: opened, that is the caller.
    connected_number: str | None = None
    connected_name: str | None = None
    #: Where the channel stood in the dialplan when it entered its bridge: a bridged
    #: channel runs no dialplan, so leaving from elsewhere means an AMI Redirect.
    bridge_place: tuple[str, str, str] | None = None

    @property
    def party(self) -> str | None:
        """Who is on this channel, in the words a user reads: an extension or a number."""
        if self.extension:
            return self.extension
        if self.leg_of:
            return self.leg_of
        return self.dialed or self.caller_number


@dataclass(slots=True)
class Call:
    """All channels sharing one Linkedid: one conversation, however many legs."""

    id: str
    started_at: float
    channels: dict[str, Channel] = field(default_factory=dict)
    origin: str | None = None  # uniqueid of the first channel
    origin_local: str | None = None  # its Local sibling's name, same side of the call
    caller_number: str | None = None
    caller_name: str | None = None
    callee: str | None = None
    inbound: bool = False
    via_trunk: bool = False
    did: str | None = None
    answered_at: float | None = None
    answered_by: str | None = None
    answer_channel: str | None = None  # uniqueid of the answering channel
    on_hold: bool = False
    queue: str | None = None
    queue_joined_at: float | None = None
    recording: bool = False
    recording_paused: bool = False
    recorded: bool = False
    ended_with: str | None = None
    transferred: bool = False
    transfers: list[str] = field(default_factory=list)  # where it was transferred to
    picked_up_by: str | None = None
    dialed: str | None = None  # what the caller dialed (first extension run internally)
    forwarded_from: str | None = None  # the extension whose forward sent the call on
    forward_tag: str | None = None  # CF / CFB / CFU: the dialplan marked the call forwarded
    conference: str | None = None  # the conference (ConfBridge) the caller joined
    spied: str | None = None  # the party a ChanSpy call listened to
    voicemail: str | None = None  # the mailbox the caller was sent to (VoiceMail ran)
    ringing: set[str] = field(default_factory=set)  # uniqueids of channels being dialed
    uids: list[str] = field(default_factory=list)  # every channel that was part of it

    @property
    def direction(self) -> str:
        if self.inbound:
            return "inbound"
        return "outbound" if self.via_trunk else "internal"

    @property
    def forwarded_by(self) -> str | None:
        """The extension whose forward sent the call on (the one dialed), when known."""
        if self.forwarded_from is not None:
            return self.forwarded_from
        return self.dialed if self.forward_tag is not None else None

    @property
    def state(self) -> str:
        """ringing | voicemail (unanswered, the caller leaving a message) | up | onhold."""
        if self.answered_at is None:
            return "ringing" if self.voicemail is None else "voicemail"
        return "onhold" if self.on_hold else "up"


@dataclass(slots=True)
class QueueMember:
    key: str  # extension number when derivable, else the interface
    interface: str
    name: str = ""
    state_interface: str = ""
    dynamic: bool = False
    paused: bool = False
    reason: str = ""
    status: str = "unknown"
    penalty: int = 0
    calls_taken: int = 0
    in_call: bool = False


@dataclass(slots=True)
class QueueCaller:
    uniqueid: str
    call_id: str
    number: str | None
    name: str | None
    position: int
    joined_at: float


@dataclass(slots=True)
class Queue:
    name: str
    members: dict[str, QueueMember] = field(default_factory=dict)
    callers: dict[str, QueueCaller] = field(default_factory=dict)  # by uniqueid
    strategy: str = ""
    answered: int = 0
    abandoned: int = 0


@dataclass(slots=True)
class ParkedCall:
    slot: str
    lot: str
    uniqueid: str
    call_id: str | None
    from_: str | None
    from_name: str | None
    parked_by: str | None
    parked_at: float
    timeout: int


@dataclass(slots=True)
class Trunk:
    name: str
    max_channels: int = 0
    channels: set[str] = field(default_factory=set)  # uniqueids

    def in_use(self, channels: dict[str, Channel]) -> tuple[int, int]:
        """Channels in use (a lab Local pair counts once) and calls in transit."""
        used = [channels[uid] for uid in self.channels if uid in channels]
        in_use = sum(1 for ch in used if not ch.name.endswith(";2"))
        return in_use, len({ch.linkedid for ch in used})


@dataclass(slots=True)
class Mailbox:
    box: str
    new: int = 0
    old: int = 0
