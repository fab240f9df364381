"""The simulated office: users and their phones, queues, parking lot, trunks, DIDs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctibot.demo.astdb import AstDb
from ctibot.demo.voicemail import Mailbox
from ctibot.pbx.layout import PbxLayout, TrunkSpec

FIRST_NAMES = ("Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Henry")
LAST_NAMES = ("Anders", "Brown", "Clark", "Davis", "Evans", "Fisher", "Green", "Hill")


@dataclass(slots=True)
class Phone:
    """How a user's phone behaves when it rings (settable from tests).

    ``answer_after`` simulated seconds of ringing then answer (None = never);
    ``busy`` rejects with BUSY; ``registered=False`` makes the device
    UNAVAILABLE (calls fail with congestion).
    """

    answer_after: float | None = 1.0
    busy: bool = False
    congestion: bool = False  # registered, but every call fails (the lab's "unavail" mode)
    registered: bool = True
    talk_time: float = 600.0  # the lab phones play music for 600 s once answered
    #: What the phone says it is when it registers (SIP User-Agent); None: the demo's pick.
    user_agent: str | None = None


@dataclass(slots=True)
class User:
    """An office user with one extension, its phone and maybe more devices.

    ``other_phones`` are further devices ringing with the desk phone (a
    softphone, a mobile app), by device name, e.g. ``PJSIP/91201``; add them
    with :meth:`Office.add_device`. ``traffic`` phones (:meth:`Office.add_traffic_phones`)
    belong to nobody: the background calls ring them instead of people.
    """

    extension: str
    fullname: str
    phone: Phone = field(default_factory=Phone)
    mobile: str | None = None
    other_phones: dict[str, Phone] = field(default_factory=dict)
    traffic: bool = False  # a phone of the background traffic: no person, no ctibot user

    @property
    def person(self) -> bool:
        return not self.traffic


@dataclass(slots=True)
class QueueMember:
    """A queue member as app_queue keeps it."""

    interface: str
    name: str
    state_interface: str
    dynamic: bool = False
    penalty: int = 0
    paused: bool = False
    reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    ringinuse: bool = False

    @property
    def extension(self) -> str:
        # Local/201@from-queue/n -> 201
        return self.interface.split("/", 1)[1].split("@", 1)[0]


@dataclass(slots=True)
class Queue:
    """A call queue (ringall) with its members and counters."""

    name: str
    number: str
    strategy: str = "ringall"
    members: dict[str, QueueMember] = field(default_factory=dict)  # by interface
    completed: int = 0
    abandoned: int = 0
    holdtime: int = 0
    talktime: int = 0
    timeout: float = 15.0


@dataclass(slots=True)
class Trunk:
    """A SIP trunk with a channel limit; ``device`` names its channels."""

    name: str
    max_channels: int
    device: str  # "PJSIP/voip-a" (channels PJSIP/voip-a-0000001) or "Local/{number}@pstn-sim"
    inbound: str | None = None  # the lab's inbound calls: "Local/{number}@from-pstn"

    @property
    def label(self) -> str:
        """How the dialplan names the trunk ("sim" for the lab's pstn-sim)."""
        return "sim" if self.name == "pstn-sim" else self.name

    def dial_string(self, number: str) -> str:
        if "{number}" in self.device:
            return self.device.format(number=number)
        return f"{self.device}/{number}"

    def globs(self) -> tuple[str, ...]:
        """fnmatch globs of this trunk's channel names (for PbxLayout's TrunkSpec)."""
        devices = [self.device] + ([self.inbound] if self.inbound else [])
        return tuple(d.format(number="*") + "-*" for d in devices)


@dataclass
class Office:
    """Everything the demo PBX simulates, before any call."""

    users: dict[str, User] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    trunks: list[Trunk] = field(default_factory=list)
    dids: dict[str, str] = field(default_factory=dict)  # DID -> extension or queue number
    device_template: str = "PJSIP/{extension}"
    hint_template: str = "{device}&Custom:DND{extension}"
    parking_lot: str = "default"
    parking_exten: str = "700"
    parking_slots: tuple[int, int] = (701, 720)
    parking_timeout: int = 45
    voicemail_context: str = "default"
    outside_answer_after: float = 1.0
    ring_timeout: float = 15.0
    astdb: AstDb = field(default_factory=AstDb)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    #: Where messages are written as files (Asterisk's layout); None: kept in memory only.
    voicemail_spool: str | None = None
    _other_devices: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.users and not self.queues and not self.trunks:
            self._default()
        for ext, user in self.users.items():
            self._other_devices.update(dict.fromkeys(user.other_phones, ext))
        for ext, user in self.users.items():
            self.mailboxes.setdefault(ext, Mailbox(ext, self.voicemail_context, user.fullname))

    # -- construction ---------------------------------------------------------
    def _default(self) -> None:
        for i in range(8):
            ext = str(201 + i)
            self.users[ext] = User(ext, f"{FIRST_NAMES[i]} {LAST_NAMES[i]}")
        self._default_queues()
        self.trunks = [Trunk("voip-a", 4, "PJSIP/voip-a"), Trunk("voip-b", 2, "PJSIP/voip-b")]
        self.dids = {"5550100": "401", "5550101": "402", "5550102": "202"}

    def _default_queues(self) -> None:
        sales = Queue("sales", "401")
        for ext in ("201", "202"):
            self._static_member(sales, ext)
        support = Queue("support", "402")
        for ext in ("203", "204"):
            if ext in self.users:
                self._static_member(support, ext)
        self.queues = {"sales": sales, "support": support}

    def _static_member(self, queue: Queue, ext: str) -> None:
        iface = f"Local/{ext}@from-queue/n"
        queue.members[iface] = QueueMember(
            iface, self.users[ext].fullname, f"hint:{ext}@ext-local", dynamic=False
        )

    @classmethod
    def lab(cls) -> Office:
        """The capture lab: phones 201-206 as ``Local/20X@phones``, trunk pstn-sim."""
        users = {
            str(201 + i): User(str(201 + i), f"{FIRST_NAMES[i]} {LAST_NAMES[i]}") for i in range(6)
        }
        office = cls(
            users=users,
            trunks=[Trunk("pstn-sim", 4, "Local/{number}@pstn-sim", "Local/{number}@from-pstn")],
            dids={"5550100": "401", "5550102": "202"},
            outside_answer_after=2.0,  # the lab's far end rings 2 s
            device_template="Local/{extension}@phones",
            hint_template="Custom:{extension}",
        )
        sales = Queue("sales", "401")
        # The lab lists 202 before 201 in QueueStatus (app_queue's hash order).
        for ext in ("202", "201"):
            office._static_member(sales, ext)
        office.queues = {"sales": sales}
        return office

    @classmethod
    def generate(cls, extensions: int = 1000, queues: int = 20) -> Office:
        """A big office for benchmarks: extensions 1000.., queues 5000.., 4 members each."""
        users = {}
        for i in range(extensions):
            ext = str(1000 + i)
            users[ext] = User(ext, f"{FIRST_NAMES[i % 8]} {LAST_NAMES[i // 8 % 8]} {i}")
        office = cls(
            users=users,
            trunks=[Trunk("voip-a", 120, "PJSIP/voip-a"), Trunk("voip-b", 120, "PJSIP/voip-b")],
            dids={},
        )
        exts = list(users)
        office.queues = {}
        for q in range(queues):
            queue = Queue(f"queue{q + 1}", str(5000 + q))
            for k in range(4):
                ext = exts[(q * 4 + k) % len(exts)]
                office._static_member(queue, ext)
            office.queues[queue.name] = queue
            office.dids[str(5551000 + q)] = queue.number
        return office

    #: Names of the phones that carry the background traffic.
    TRAFFIC_NAMES = ("Warehouse", "Workshop", "Front desk", "Lab")

    def add_traffic_phones(self, first: int = 301, count: int = 4) -> list[str]:
        """Phones for the background traffic, with no person behind them.

        Background calls then ring and use only these (and the trunks, each
        phone gets a DID ``55503xx``), so the people one logs in as keep their
        phones for calls of their own.
        """
        added = []
        for i in range(count):
            ext = str(first + i)
            if ext in self.users:
                raise ValueError(f"{ext}: already an extension")
            name = f"{self.TRAFFIC_NAMES[i % len(self.TRAFFIC_NAMES)]} {ext}"
            self.users[ext] = User(ext, name, traffic=True)
            self.mailboxes.setdefault(ext, Mailbox(ext, self.voicemail_context, name))
            self.dids[f"55503{i:02d}"] = ext
            added.append(ext)
        return added

    @property
    def people(self) -> dict[str, User]:
        """The users that are persons (not traffic phones), by extension."""
        return {ext: u for ext, u in self.users.items() if u.person}

    @property
    def traffic_phones(self) -> list[str]:
        return [ext for ext, u in self.users.items() if u.traffic]

    # -- lookups --------------------------------------------------------------
    @property
    def lab_mode(self) -> bool:
        return self.device_template.startswith("Local/")

    def device(self, ext: str) -> str:
        return self.device_template.format(extension=ext)

    def devices_of(self, ext: str) -> list[str]:
        """The devices that ring for ``ext``: the desk phone first, then the others."""
        return [self.device(ext), *self.users[ext].other_phones]

    def add_device(self, ext: str, device: str, phone: Phone | None = None) -> Phone:
        """Give ``ext`` another device (``PJSIP/91201``) that rings with its phone."""
        if self.lab_mode:
            raise ValueError("the lab's Local/ phones have one device each")
        if not device.startswith("PJSIP/") or self.extension_of_device(device) is not None:
            raise ValueError(f"{device}: not a free PJSIP device")
        phone = phone or Phone()
        self.users[ext].other_phones[device] = phone
        self._other_devices[device] = ext
        return phone

    def phone_of(self, device: str) -> Phone | None:
        """How the phone behind ``device`` behaves."""
        ext = self.extension_of_device(device)
        if ext is None:
            return None
        user = self.users[ext]
        return user.phone if device == self.device(ext) else user.other_phones[device]

    def hint(self, ext: str) -> str:
        devices = "&".join(self.devices_of(ext))
        return self.hint_template.format(device=devices, extension=ext)

    def state_device(self, ext: str) -> str:
        """The device whose DeviceStateChange follows the phone."""
        return f"Custom:{ext}" if self.lab_mode else self.device(ext)

    def extension_of_device(self, device: str) -> str | None:
        """The extension whose phone ``device`` is (its desk phone or another one)."""
        if (ext := self._other_devices.get(device)) is not None:
            return ext
        prefix, _, rest = self.device_template.partition("{extension}")
        if device.startswith(prefix) and device.endswith(rest):
            ext = device[len(prefix) : len(device) - len(rest)] if rest else device[len(prefix) :]
            return ext if ext in self.users else None
        return None

    def queue_by_number(self, number: str) -> Queue | None:
        for q in self.queues.values():
            if q.number == number:
                return q
        return None

    def layout(self) -> PbxLayout:
        """The matching :class:`PbxLayout` for ctibot's state model."""
        return PbxLayout(
            extensions=tuple(self.users),
            device_template=self.device_template,
            trunks=tuple(TrunkSpec(t.name, t.globs(), t.max_channels) for t in self.trunks),
            voicemail_context=self.voicemail_context,
            parking_lot=self.parking_lot,
            parking_exten=self.parking_exten,
            mobiles={e: u.mobile for e, u in self.users.items() if u.mobile},
            devices={d: e for e, u in self.users.items() for d in u.other_phones},
        )
