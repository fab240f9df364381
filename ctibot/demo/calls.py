"""The call engine: creates channels, dials, bridges and hangs up, emitting AMI events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable

from ctibot.demo import messages as m
from ctibot.demo.channels import Attempt, Bridge, Channel
from ctibot.demo.clock import SimClock
from ctibot.demo.office import Office, Trunk
from ctibot.demo.steps import Steps

log = logging.getLogger(__name__)

Cid = tuple[str, str]  # (number, name)

#: Asterisk's device state aggregation order (ast_devstate_aggregate_add).
AGGREGATE_ORDER = {
    "INVALID": 0,
    "UNKNOWN": 1,
    "UNAVAILABLE": 2,
    "NOT_INUSE": 3,
    "ONHOLD": 4,
    "RINGING": 5,
    "INUSE": 6,
    "BUSY": 7,
    "RINGINUSE": 8,
}

#: Hangup causes and their texts (Cause-txt of the Hangup event).
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    26: "Answered elsewhere",
    34: "Circuit/channel congestion",
}


class CallEngine:
    """Owns every channel and bridge; all call events come out of here.

    ``emit(bytes)`` is called with each rendered event; the server fans it out
    to the AMI sessions that want events. The dialplan (what a channel does)
    lives in :mod:`ctibot.demo.dialplan`; this class is the mechanics.
    """

    def __init__(self, office: Office, clock: SimClock, emit: Callable[[bytes], None]) -> None:
        self.office = office
        self.clock = clock
        self.emit = emit
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.parked: dict[int, Channel] = {}
        self.parking_bridge: Bridge | None = None
        self.channel_seq = 0
        self.uid_seq = itertools.count(1)
        self.device_states: dict[str, str] = {}
        self.device_channels: dict[str, int] = {}
        self.ext_states: dict[str, str] = {}  # last ExtensionStatus sent per extension
        self._hint_index: dict[str, list[str]] | None = None
        self.processed_calls = 0
        self.tasks: set[asyncio.Task[None]] = set()
        from ctibot.demo.dialplan import Dialplan  # the dialplan needs the engine

        self.dialplan = Dialplan(self)
        self.steps = Steps(self)
        for ext in office.users:
            for device in self.state_devices(ext):
                phone = office.phone_of(device) or office.users[ext].phone
                self.device_states[device] = "NOT_INUSE" if phone.registered else "UNAVAILABLE"
        for ext in office.users:
            self.ext_states[ext] = self.hint_state(ext)

    # -- helpers --------------------------------------------------------------
    def spawn(self, coro, owner: Channel | None = None) -> asyncio.Task[None]:
        """Run a channel's dialplan (or any engine job) as a tracked task."""
        task = asyncio.get_running_loop().create_task(self._guard(coro))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if owner is not None:
            owner.task = task
        return task

    @staticmethod
    async def _guard(coro) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug in one call must not stop the PBX
            log.exception("demo PBX: call task failed")

    def new_uniqueid(self) -> str:
        return f"{int(self.clock.wall())}.{next(self.uid_seq)}"

    def _next_seq(self) -> str:
        seq = f"{self.channel_seq:08x}"
        self.channel_seq += 1
        return seq

    def _make(self, name: str, linkedid: str | None, state: int, context: str, exten: str):
        uid = self.new_uniqueid()
        ch = Channel(name, uid, linkedid or uid, self.clock.now(), state=state)
        ch.context, ch.exten = context, exten
        self.channels[name] = ch
        return ch

    def newchannel(self, ch: Channel) -> None:
        self.emit(m.event("Newchannel", m.channel_pairs(ch)))
        self._count_device(ch.device, +1)

    def _count_device(self, device: str, delta: int) -> None:
        """Channel-derived device state (``Local/201@phones``, ``PJSIP/voip-a``):
        in use while the device has a channel. Phones have their own, finer state."""
        count = self.device_channels.get(device, 0) + delta
        self.device_channels[device] = count
        if self._ext_of_state_device(device) is not None:
            return
        self.set_device_state(device, "INUSE" if count > 0 else "NOT_INUSE")

    # -- channel creation -----------------------------------------------------
    def new_local_pair(
        self, target: str, linkedid: str | None, caller: Channel | None, cid: Cid | None
    ) -> tuple[Channel, Channel]:
        """``Local/exten@context`` -> its ``;1`` (Down) and ``;2`` (Ring) halves.

        Their caller ids are set before the LocalBridge event, as Asterisk does:
        from the Originate's CallerID, or from the ``caller`` that dials them.
        """
        exten, _, context = target.partition("@")
        context = context.split("/", 1)[0]
        base = f"Local/{exten}@{context}-{self._next_seq()}"
        one = self._make(base + ";1", linkedid, 0, context, exten)
        two = self._make(base + ";2", one.linkedid, 4, context, exten)
        one.partner, two.partner = two, one
        self.newchannel(one)
        self.newchannel(two)
        if caller is not None:
            # A dialed ;1 takes the caller's current exten as its number ("s"
            # inside sub-dial-ext, as the lab shows; the caller's number for a
            # queue) and the caller's connected-line name.
            number = caller.cid_num if caller.context == "ext-queues" else caller.exten
            name = caller.conn_name
            if name == "<unknown>" and caller.context == "ext-queues":
                name = caller.cid_name
            if caller.context == "ext-queues":
                # app_queue: caller id now, connected line once the member rings.
                one.cid_num, one.cid_name = number, name
                self.emit(
                    m.event(
                        "NewCallerid",
                        m.channel_pairs(one),
                        [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
                    )
                )
            else:
                one.exten = number  # Dial() copies the caller's exten
                self.identify(one, (number, name), (caller.cid_num, caller.cid_name))
            self.identify(two, (caller.cid_num, caller.cid_name), (number, name))
        elif cid is not None:
            self.set_callerid(one, *cid)
            self.set_connected(one, *cid)
            self.identify(two, cid, cid)
        self.emit(
            m.event(
                "LocalBridge",
                m.channel_pairs(one, "LocalOne"),
                m.channel_pairs(two, "LocalTwo"),
                [("Context", context), ("Exten", exten), ("LocalOptimization", "No")],
            )
        )
        return one, two

    def identify(self, ch: Channel, cid: Cid, connected: Cid) -> None:
        """Set caller id and connected line together, then announce both."""
        if not ch.cdr_src and cid[0]:
            ch.cdr_src = cid[0]
        ch.cid_num, ch.cid_name = cid[0] or "<unknown>", cid[1] or "<unknown>"
        ch.conn_num, ch.conn_name = connected[0] or "<unknown>", connected[1] or "<unknown>"
        self.emit(
            m.event(
                "NewCallerid",
                m.channel_pairs(ch),
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )
        )
        self.emit(m.event("NewConnectedLine", m.channel_pairs(ch)))

    def new_device_channel(
        self, device: str, linkedid: str | None, context: str, exten: str, state: int = 0
    ) -> Channel:
        """``PJSIP/201`` -> ``PJSIP/201-00000007`` (a phone or trunk channel)."""
        ch = self._make(f"{device}-{self._next_seq()}", linkedid, state, context, exten)
        self.newchannel(ch)
        return ch

    # -- channel changes ------------------------------------------------------
    def set_state(self, ch: Channel, state: int) -> None:
        if ch.dead or ch.state == state:
            return
        ch.state = state
        if state == 6 and ch.answered_at is None:
            ch.answered_at = self.clock.now()
        self.emit(m.event("Newstate", m.channel_pairs(ch)))
        if ch.extension:
            self.refresh_device(ch.extension)

    def set_callerid(self, ch: Channel, num: str, name: str) -> None:
        if not ch.cdr_src and num:
            ch.cdr_src = num  # the call record keeps the first caller id
        ch.cid_num, ch.cid_name = num or "<unknown>", name or "<unknown>"
        self.emit(
            m.event(
                "NewCallerid",
                m.channel_pairs(ch),
                [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
            )
        )

    def set_connected(
        self,
        ch: Channel,
        num: str,
        name: str,
        *,
        propagate: bool = False,
        propagate_at_hangup: bool = False,
    ) -> None:
        ch.conn_num, ch.conn_name = num or "<unknown>", name or "<unknown>"
        self.emit(m.event("NewConnectedLine", m.channel_pairs(ch)))
        partner = ch.partner
        if propagate_at_hangup and partner is not None and ch.name.endswith(";1"):
            # A bridge change mid-call (a transfer): the ;2 learns it when it hangs up.
            partner.pending_cid = (ch.conn_num, ch.conn_name)
        if propagate and partner is not None and not partner.dead and ch.name.endswith(";1"):
            # A Local channel turns its ;1's connected line into its ;2's caller id:
            # the phone behind it learns who it now talks to.
            self.set_callerid(partner, num, name)

    # -- device and extension states ------------------------------------------
    def state_devices(self, ext: str) -> list[str]:
        """The devices whose DeviceStateChange follows ``ext``'s phones."""
        if self.office.lab_mode:
            return [self.office.state_device(ext)]
        return self.office.devices_of(ext)

    def phone_state(self, ext: str, device: str | None = None) -> str:
        """The state of ``ext``'s phones, or of its one ``device``."""
        user = self.office.users.get(ext)
        if user is None:
            return "UNKNOWN"
        phone = user.phone if device is None else self.office.phone_of(device) or user.phone
        if not phone.registered:
            return "UNAVAILABLE"
        inuse = ringing = hold = False
        for ch in self.channels.values():
            if ch.extension != ext or ch.dead or (device is not None and ch.device != device):
                continue
            if ch.state == 6:
                if ch.on_hold:
                    hold = True
                else:
                    inuse = True
            elif ch.state in (4, 5):
                ringing = True
        if inuse and ringing:
            return "RINGINUSE"
        if inuse:
            return "INUSE"
        if ringing:
            return "RINGING"
        if hold:
            return "ONHOLD"
        return "NOT_INUSE"

    def refresh_device(self, ext: str) -> None:
        if self.office.lab_mode:
            self.set_device_state(self.office.state_device(ext), self.phone_state(ext))
            return
        for device in self.office.devices_of(ext):
            self.set_device_state(device, self.phone_state(ext, device))

    def set_device_state(self, device: str, state: str) -> None:
        """DeviceStateChange, then the hints and queue members that follow the device."""
        if self.device_states.get(device) == state:
            return
        self.device_states[device] = state
        self.emit(m.event("DeviceStateChange", [("Device", device), ("State", state)]))
        if device.startswith("Custom:DND") and device[10:] in self.office.users:
            # FreePBX's DND hint *76<ext>@app-dnd-hints follows Custom:DND<ext>.
            status, text = m.EXTENSION_STATUS.get(state, (-1, "Unknown"))
            self.emit(
                m.event(
                    "ExtensionStatus",
                    [
                        ("Exten", "*76" + device[10:]),
                        ("Context", "app-dnd-hints"),
                        ("Hint", device),
                        ("Status", status),
                        ("StatusText", text),
                    ],
                )
            )
        for ext in self._hinted_by(device):
            self._announce_hint(ext)

    def _announce_hint(self, ext: str) -> None:
        """ExtensionStatus and QueueMemberStatus when an extension's hint changes."""
        hint_state = self.hint_state(ext)
        if self.ext_states.get(ext) == hint_state:
            return
        self.ext_states[ext] = hint_state
        status, text = m.EXTENSION_STATUS.get(hint_state, (-1, "Unknown"))
        self.emit(
            m.event(
                "ExtensionStatus",
                [
                    ("Exten", ext),
                    ("Context", "ext-local"),
                    ("Hint", self.office.hint(ext)),
                    ("Status", status),
                    ("StatusText", text),
                ],
            )
        )
        for queue in self.office.queues.values():
            for member in queue.members.values():
                if member.extension == ext:
                    self.emit(m.event("QueueMemberStatus", self.member_pairs(queue, member)))

    def _hinted_by(self, device: str) -> list[str]:
        """The extensions whose hint (``PJSIP/201&Custom:DND201``) lists ``device``."""
        if self._hint_index is None:
            index: dict[str, list[str]] = {}
            for ext in self.office.users:
                for dev in self.office.hint(ext).split("&"):
                    index.setdefault(dev, []).append(ext)
            self._hint_index = index
        return self._hint_index.get(device, [])

    def hint_state(self, ext: str) -> str:
        """The hint's state: its devices aggregated the way Asterisk does."""
        devices = self.office.hint(ext).split("&")
        if len(devices) == 1:
            return self.device_states.get(devices[0], "UNKNOWN")
        best, ringing = "INVALID", False
        for dev in devices:
            default = "NOT_INUSE" if dev.startswith("Custom:") else "UNKNOWN"
            state = self.device_states.get(dev, default)
            if state in ("RINGING", "RINGINUSE"):
                ringing = True
                if state == "RINGINUSE":
                    state = "INUSE"
            if AGGREGATE_ORDER.get(state, 0) > AGGREGATE_ORDER.get(best, 0):
                best = state
        return "RINGINUSE" if best == "INUSE" and ringing else best

    def _ext_of_state_device(self, device: str) -> str | None:
        if device.startswith("Custom:") and not device.startswith("Custom:DND"):
            ext = device[7:]
        else:
            ext = self.office.extension_of_device(device)
        if ext in self.office.users and device in self.state_devices(ext):
            return ext
        return None

    def member_status(self, member) -> int:
        state = self.hint_state(member.extension)
        return m.DEVICE_STATUS_CODE.get(state, 0)

    def member_pairs(self, queue, member) -> list[tuple[str, object]]:
        return [
            ("Queue", queue.name),
            ("MemberName", member.name),
            ("Interface", member.interface),
            ("StateInterface", member.state_interface),
            ("Membership", "dynamic" if member.dynamic else "static"),
            ("Penalty", member.penalty),
            ("CallsTaken", member.calls_taken),
            ("LastCall", member.last_call),
            ("LastPause", member.last_pause),
            ("LoginTime", member.login_time),
            ("InCall", int(member.in_call)),
            ("Status", self.member_status(member)),
            ("Paused", int(member.paused)),
            ("PausedReason", member.reason),
            ("Ringinuse", int(member.ringinuse)),
            ("Wrapuptime", 0),
        ]

    # -- dialing --------------------------------------------------------------
    def trunk_in_use(self, trunk: Trunk) -> int:
        return sum(1 for ch in self.channels.values() if ch.trunk is trunk and not ch.dead)

    def trunk_of_dialstring(self, dialstring: str) -> Trunk | None:
        for t in self.office.trunks:
            for device in (t.device, t.inbound):
                if device is None:
                    continue
                if "{number}" in device:
                    if dialstring.endswith(device.split("{number}", 1)[1]):
                        return t
                elif dialstring.startswith(device + "/"):
                    return t
        return None

    def dial(
        self,
        caller: Channel | None,
        dialstring: str,
        *,
        cid: tuple[str, str] | None = None,
        linkedid: str | None = None,
        announce: Callable[[Attempt], None] | None = None,
    ) -> Attempt:
        """Start ringing ``dialstring`` for ``caller`` (None for an Originate)."""
        linkedid = caller.linkedid if caller is not None else linkedid
        trunk = self.trunk_of_dialstring(dialstring)
        if dialstring.startswith("Local/"):
            target = dialstring[6:]
            outer, inner = self.new_local_pair(target, linkedid, caller, cid)
            self.steps.local_dialed(outer, inner, caller, target)
            exten, _, ctx = target.partition("@")
            ctx = ctx.split("/", 1)[0]
            if trunk is not None:
                outer.trunk = trunk
        else:
            device, _, number = dialstring.partition("/")
            device = f"{device}/{number.split('/', 1)[0]}"
            extra = number.split("/", 1)[1] if "/" in number else ""
            # A phone's channel carries its extension; a trunk's the number dialed.
            exten = self.office.extension_of_device(device) or extra or "s"
            outer = inner = self.new_device_channel(device, linkedid, "from-internal", exten)
            outer.trunk = trunk
            if cid is not None:
                self.set_callerid(outer, *cid)
            ctx = ""
        loop = asyncio.get_running_loop()
        att = Attempt(caller, outer, inner, dialstring.removeprefix("Local/"), loop.create_future())
        outer.variables["CDR_DIALED"] = inner.variables["CDR_DIALED"] = "1"
        inner.attempt = att
        if outer is not inner:
            outer.attempt = att
        if announce is not None:
            announce(att)
        if caller is not None:
            outer.cdr_dst = "dialed"
            self.add_record(caller, outer.name, caller.app or "Dial", caller.appdata, False)
            caller.dials.append(att)
            if outer is inner:
                # app_dial: a phone channel keeps its endpoint's caller id; a trunk
                # channel (none preset) gets the caller's exten and name.
                ext = self.office.extension_of_device(outer.device)
                if ext is not None:
                    own = (ext, self.office.users[ext].fullname)
                else:
                    name = caller.conn_name if caller.conn_name != "<unknown>" else caller.cid_name
                    own = (caller.exten or exten, name)
                self.identify(outer, own, (caller.cid_num, caller.cid_name))
            self.emit(
                m.event(
                    "DialBegin",
                    m.channel_pairs(caller),
                    m.channel_pairs(outer, "Dest"),
                    [("DialString", att.dialstring)],
                )
            )
        else:
            self.emit(
                m.event(
                    "DialBegin", m.channel_pairs(outer, "Dest"), [("DialString", att.dialstring)]
                )
            )
        if outer is not inner:
            self.spawn(self.dialplan.run(inner, ctx, exten), owner=inner)
        else:
            ext = self.office.extension_of_device(outer.device)
            if ext is not None:
                outer.extension = ext
                self.spawn(self.dialplan.phone(outer, ext), owner=outer)
            else:
                self.spawn(self.dialplan.outside(outer), owner=outer)
        return att

    def _dial_event(self, name: str, att: Attempt, status: str) -> None:
        if att.caller is not None:
            self.emit(
                m.event(
                    name,
                    m.channel_pairs(att.caller),
                    m.channel_pairs(att.outer, "Dest"),
                    [("DialStatus", status)],
                )
            )
        else:
            self.emit(m.event(name, m.channel_pairs(att.outer, "Dest"), [("DialStatus", status)]))

    def ringing(self, att: Attempt) -> None:
        """The far end rings: Newstate Ringing on the dialed channel, DialState."""
        if att.done or att.rang:
            return
        att.rang = True
        caller = att.caller
        queue_leg = (
            caller is not None and caller.context == "ext-queues" and att.outer is not att.inner
        )
        if queue_leg:
            # app_queue's member channel: the queue's number, and the caller as
            # connected line, announced right after the ringing.
            att.outer.exten = caller.exten
            att.outer.conn_num, att.outer.conn_name = caller.cid_num, caller.cid_name
        self.set_state(att.outer, 5)
        if caller is not None:
            self.steps.dial_ringing(caller)
        if queue_leg:
            self.steps.at(att.outer, 1, "AppQueue", "(Outgoing Line)")
        if queue_leg:
            self.emit(m.event("NewConnectedLine", m.channel_pairs(att.outer)))
        self._dial_event("DialState", att, "RINGING")
        if att.on_ring is not None:
            att.on_ring()
        if caller is not None and caller.attempt is not None:
            # Ringing travels back through Local channels to whoever dialed them.
            self.ringing(caller.attempt)

    def answer(self, att: Attempt) -> None:
        """The far end answers: both halves Up, DialEnd ANSWER, the dialer goes on."""
        if att.done:
            return
        if att.inner is not att.outer:
            self.set_state(att.inner, 6)
        self.set_state(att.outer, 6)
        caller = att.caller
        local = att.inner is not att.outer
        app_dial = local and caller is not None and caller.context != "ext-queues"
        if app_dial:
            att.outer.exten = ""  # AppDial: the answered ;1 has left the dialplan
        if caller is not None:
            self.steps.dial_answered(caller, att)
        self._dial_event("DialEnd", att, "ANSWER")
        if app_dial:
            self.steps.at(att.outer, 1, "AppDial", "(Outgoing Line)")
        if att.caller is not None:
            for record in att.caller.records:
                if record["peer"] == att.outer.name:
                    record["up"] = True
        att.outer.attempt = att.inner.attempt = None
        att.result.set_result("ANSWER")

    def fail(self, att: Attempt, status: str, cause: int, *, dialend: bool = True) -> None:
        """The attempt ends without answer: DialEnd and the attempt's channels hang up."""
        if att.done:
            return
        if att.inner is not att.outer and status in ("BUSY", "CONGESTION"):
            self.set_state(att.inner, 7)
        if dialend:
            self._dial_event("DialEnd", att, status)
        att.result.set_result(status)
        att.outer.attempt = att.inner.attempt = None
        if att.outer is not att.inner and status in ("BUSY", "CONGESTION"):
            # A Local ;1 whose ;2 was refused just goes away (cause 0); the ;2
            # keeps the refusal's cause (as captured).
            att.inner.variables["HANGUPCAUSE"] = str(cause)
            self.hangup(att.outer, 0)
        else:
            self.hangup(att.outer, cause)
        self.hangup(att.inner, cause, soft=True)

    async def wait(self, att: Attempt, timeout: float | None) -> str:
        """Wait for the attempt's outcome; NOANSWER after ``timeout`` simulated seconds."""
        try:
            if timeout is None:
                return await asyncio.shield(att.result)
            return await asyncio.wait_for(asyncio.shield(att.result), timeout * self.clock.scale)
        except TimeoutError:
            if att.done:
                # Answered in the same instant the time ran out (a loaded machine runs
                # both when it gets the CPU back): the answer came first, it counts.
                return att.result.result()
            # An Originate that times out sends no DialEnd (as the capture shows).
            self.fail(att, "NOANSWER", 19, dialend=att.caller is not None)
            return "NOANSWER"
        finally:
            if att.caller is not None and att in att.caller.dials:
                att.caller.dials.remove(att)

    # -- bridges --------------------------------------------------------------
    def new_bridge(self, kind: str = "basic", name: str = "") -> Bridge:
        """A basic bridge, the parking lot's holding bridge or a ConfBridge ``name``."""
        br = Bridge(str(uuid.uuid4()))
        if kind == "conference":
            br.type, br.technology, br.creator, br.name = "base", "softmix", "ConfBridge", name
        elif kind == "parking":
            br.type, br.technology, br.creator, br.name = (
                "parking",
                "holding_bridge",
                "Parking",
                self.office.parking_lot,
            )
        self.bridges[br.uniqueid] = br
        self.emit(m.event("BridgeCreate", br.pairs()))
        return br

    def enter(self, br: Bridge, ch: Channel, *, record_peer: bool = True) -> None:
        if ch.bridge is not None:
            self.leave(ch, hangup_peer=False, moving=True)
        if br.type == "parking":
            slot = ch.variables.get("PARKINGSLOT", "")
            self.add_record(ch, "", "Park", f"{self.office.parking_lot}:{slot}", True)
        else:
            for other in br.channels:
                if record_peer:
                    self.add_record(ch, other.name, ch.app, ch.appdata, True)
                else:
                    self.add_record(ch, "", ch.app, ch.appdata, True)
                self.add_record(other, ch.name, other.app, other.appdata, True)
        br.channels.append(ch)
        ch.bridge = br
        self.emit(m.event("BridgeEnter", br.pairs(), m.channel_pairs(ch)))
        if ch.variables.get("ATTENDEDTRANSFER"):
            self.steps.var(ch, "ATTENDEDTRANSFER", "")  # the consultation leg has arrived
        if br.type == "basic" and len(br.channels) == 2:
            self.steps.bridged(*br.channels)

    def leave(
        self, ch: Channel, *, hangup_peer: bool = True, defer: bool = False, moving: bool = False
    ):
        """BridgeLeave; the last party of a basic bridge hangs up (its Dial() returns).

        With ``defer`` the peer to hang up is returned instead, so that the caller
        can first finish its own hangup (Asterisk's order in the captures).
        A channel ``moving`` to another bridge keeps its BRIDGEPEER until it arrives.
        """
        br = ch.bridge
        if br is None:
            return None
        if br.type == "basic" and not moving:
            self.steps.unbridged(ch, *(c for c in br.channels if c is not ch))
        br.channels.remove(ch)
        ch.bridge = None
        self.emit(m.event("BridgeLeave", br.pairs(), m.channel_pairs(ch)))
        if br.type == "basic":
            if hangup_peer and len(br.channels) == 1:
                peer = br.channels[0]
                if not peer.keep_alone:
                    if defer:
                        return peer
                    self.leave(peer, hangup_peer=False)
                    self.hangup(peer, 16)
            if not br.channels:
                self.destroy(br)
        return None

    def destroy(self, br: Bridge) -> None:
        if self.bridges.pop(br.uniqueid, None) is not None:
            self.emit(m.event("BridgeDestroy", br.pairs()))

    def bridge_two(self, a: Channel, b: Channel) -> Bridge:
        br = self.new_bridge()
        self.enter(br, b)
        self.enter(br, a)
        return br

    def peer_of(self, ch: Channel) -> Channel | None:
        if ch.bridge is None:
            return None
        for other in ch.bridge.channels:
            if other is not ch:
                return other
        return None

    # -- hangup ---------------------------------------------------------------
    def hangup(self, ch: Channel, cause: int = 16, *, soft: bool = False) -> None:
        """Hang a channel up, with everything that follows from it."""
        if ch.dead:
            return
        ch.dead = True
        if "HANGUPCAUSE" in ch.variables:
            cause = int(ch.variables["HANGUPCAUSE"])
        for hook in ch.hooks:
            hook(ch)
        ch.hooks.clear()
        if soft or ch.partner is None or ch.name.endswith(";2"):
            # Channels running dialplan get a soft hangup request first.
            self.emit(m.event("SoftHangupRequest", m.channel_pairs(ch), [("Cause", cause)]))
        att = ch.attempt
        if att is not None and not att.done:
            # The far end went away while ringing: the dialer gets its answer.
            status = "CANCEL" if att.caller is None or att.caller.dead else "NOANSWER"
            self._dial_event("DialEnd", att, status)
            att.result.set_result(status)
        for pending in list(ch.dials):
            if not pending.done:
                self._dial_event("DialEnd", pending, "CANCEL")
                pending.result.set_result("CANCEL")
                self.hangup(pending.outer, 26)
                self.hangup(pending.inner, 26)
            elif pending.result.result() == "ANSWER" and pending.outer.bridge is None:
                # Answered but not bridged yet (both in one loop turn): no orphan.
                self.hangup(pending.outer, 16)
        ch.dials.clear()
        if ch.recording is not None:
            ch.recording = None
            self.emit(m.event("MixMonitorStop", m.channel_pairs(ch)))
        lone_peer = self.leave(ch, defer=True) if ch.bridge is not None else None
        if ch.parked_slot is not None:
            self.parked.pop(ch.parked_slot, None)
            ch.parked_slot = None
        partner = ch.partner
        if partner is not None and not partner.dead:
            self.emit(m.event("HangupRequest", m.channel_pairs(partner), [("Cause", cause)]))
        self.steps.dial_ended(ch)
        self.steps.hangup(ch)
        if ch.context == "from-internal" and "ROUTED" in ch.variables:
            ch.exten = "h"  # the dialplan's h extension runs at hangup
        self.emit(
            m.event(
                "Hangup",
                m.channel_pairs(ch),
                [("Cause", cause), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))],
            )
        )
        self.channels.pop(ch.name, None)
        self._count_device(ch.device, -1)
        self._cdr(ch)
        if ch.extension:
            self.refresh_device(ch.extension)
        if lone_peer is not None and not lone_peer.dead:
            br = lone_peer.bridge
            self.leave(lone_peer, hangup_peer=False)
            self.hangup(lone_peer, 16, soft=True)
            if br is not None and not br.channels:
                self.destroy(br)
        if partner is not None and not partner.dead:
            self.hangup(partner, cause)
        task = ch.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.processed_calls += 1

    def _cdr(self, ch: Channel) -> None:
        """The Cdr events of a channel: one per party it dialed, was bridged with or
        parked by (Asterisk's CDR engine), none for a dialed ``;1`` half or a
        dialed party that never answered."""
        own = [r for r in ch.records if r.get("own")]
        if ch.cdr_dst == "dialed" and not ch.name.endswith(";2") and not own:
            return  # a dialed channel is the DestinationChannel of its caller's record
        if ch.answered_at is None and "CDR_DIALED" in ch.variables and not ch.records:
            return
        now = self.clock.now()
        start = self.clock.wall() - (now - ch.created)
        answered = ch.answered_at
        source = ch.cdr_src or (ch.cid_num if ch.cid_num != "<unknown>" else "")
        destination = ch.cdr_dst if ch.cdr_dst not in ("", "dialed") else ch.exten
        records = own if ch.cdr_dst == "dialed" and not ch.name.endswith(";2") else ch.records
        records = records or [{"peer": "", "app": ch.app, "data": ch.appdata, "up": True}]
        for record in records:
            up = answered is not None and record["up"]
            self.emit(
                m.event(
                    "Cdr",
                    [
                        ("AccountCode", ""),
                        ("Source", source),
                        ("Destination", destination),
                        ("DestinationContext", ch.variables.get("CDR_DCONTEXT", ch.context)),
                        ("CallerID", f'"{ch.cid_name}" <{ch.cid_num}>'),
                        ("Channel", ch.name),
                        ("DestinationChannel", record["peer"]),
                        ("LastApplication", record["app"]),
                        ("LastData", record["data"]),
                        ("StartTime", _fmt_time(start)),
                        (
                            "AnswerTime",
                            _fmt_time(start + (answered - ch.created)) if up else "",
                        ),
                        ("EndTime", _fmt_time(self.clock.wall())),
                        ("Duration", int(now - ch.created)),
                        ("BillableSeconds", int(now - answered) if up else 0),
                        ("Disposition", "ANSWERED" if up else "NO ANSWER"),
                        ("AMAFlags", "DOCUMENTATION"),
                        ("UniqueID", ch.uniqueid),
                        ("UserField", ""),
                    ],
                )
            )

    def add_record(self, ch: Channel, peer: str, app: str, data: str, up: bool) -> None:
        """A new CDR party for ``ch`` (a dial, a new bridge peer, parking)."""
        if ch.cdr_younger or (peer and any(r["peer"] == peer for r in ch.records)):
            return
        ch.records.append({"peer": peer, "app": app, "data": data, "up": up})

    async def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task


def _fmt_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
