"""Dialplan step events (Newexten, VarSet, hangup handlers, music on hold), as Asterisk sends them.

Only the events are produced here: which application a channel is "in" for
its CDR (``Channel.app``) stays with the dialplan code that runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctibot.demo import messages as m

if TYPE_CHECKING:
    from ctibot.demo.calls import Attempt, CallEngine
    from ctibot.demo.channels import Channel
    from ctibot.demo.office import Phone, Queue, QueueMember

#: Variables a dialed channel inherits (the ``__`` prefix).
INHERITED = ("__DIALEDEXT", "__FROMQ")
#: What app_queue resets when Queue() starts.
QUEUE_TIMES = ("ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS")
#: What app_dial resets when Dial() starts, in its order.
DIAL_VARS = (
    "DIALSTATUS",
    "DIALEDPEERNUMBER",
    "DIALEDPEERNAME",
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "PROGRESSTIME",
    "PROGRESSTIME_MS",
)


def _seconds(value: float) -> str:
    return f"{value:g}"


def _cid(value: str) -> str:
    return "" if value == "<unknown>" else value


class Steps:
    """Emits the dialplan's step events for the channels of one engine."""

    def __init__(self, engine: CallEngine) -> None:
        self.e = engine

    # -- primitives -----------------------------------------------------------
    def at(
        self,
        ch: Channel,
        priority: int,
        app: str,
        data: str = "",
        *,
        context: str | None = None,
        exten: str | None = None,
    ) -> None:
        """Newexten: ``ch`` runs ``app(data)`` at ``context,exten,priority``.

        A channel sent elsewhere while inside an application (a blind transfer)
        arrives showing that old application, and its Dial() returns then.
        """
        if context is not None:
            ch.context = context
        if exten is not None:
            ch.exten = exten
        ch.priority = priority
        stale, ch.stale_app = ch.stale_app, None
        shown = stale or (app, data)
        self.e.emit(
            m.event(
                "Newexten",
                m.channel_pairs(ch),
                [("Extension", ch.exten), ("Application", shown[0]), ("AppData", shown[1])],
            )
        )
        if stale is not None and ch.dial_started is not None:
            ch.dial_started = None
            self.var(ch, "DIALSTATUS", "ANSWER")

    def var(self, ch: Channel, name: str, value: str = "") -> None:
        """VarSet (the variable is kept on the channel too)."""
        ch.variables[name] = value
        self.e.emit(m.event("VarSet", m.channel_pairs(ch), [("Variable", name), ("Value", value)]))

    def set(self, ch: Channel, priority: int, name: str, value: str) -> None:
        """``Set(name=value)``: its Newexten, then its VarSet."""
        self.at(ch, priority, "Set", f"{name}={value}")
        self.var(ch, name, value)

    # -- the lab's simulated phones (context "phones") ------------------------
    def phone_mode(self, phone: Phone) -> str:
        """The lab's AstDB phone mode for how ``phone`` is set to behave."""
        if phone.busy:
            return "busy"
        if phone.congestion or not phone.registered:
            return "unavailable"
        return "noanswer" if phone.answer_after is None else ""

    def phone_alerting(self, ch: Channel, ext: str, phone: Phone) -> str:
        """``phones,<ext>,1..13``: up to Ringing, or to Busy / Congestion; returns the mode."""
        mode = self.phone_mode(phone)
        caller = f'"{_cid(ch.cid_name)}" <{_cid(ch.cid_num)}>'
        self.at(ch, 1, "NoOp", f"Simulated phone {ext} alerting, caller {caller}")
        if mode:
            self.var(ch, "DB_RESULT", mode)
        self.set(ch, 2, "MODE", mode)
        self.set(ch, 3, "MODE", mode or "answer")
        # A ring time other than the lab's 1 s comes from AstDB too.
        ring = _seconds(phone.answer_after or 1)
        if ring != "1":
            self.var(ch, "DB_RESULT", ring)
        self.set(ch, 4, "RING", "" if ring == "1" else ring)
        self.set(ch, 5, "RING", ring)
        self.set(ch, 6, "TALK", "")
        self.set(ch, 7, "TALK", _seconds(phone.talk_time))
        self.at(ch, 8, "GotoIf", f"{int(mode == 'busy')}?busy")
        if mode == "busy":
            self.at(ch, 22, "Busy", "3")
            return mode
        self.at(ch, 9, "GotoIf", f"{int(mode == 'unavailable')}?unavail")
        if mode == "unavailable":
            self.at(ch, 24, "Congestion", "3")
            return mode
        self.at(ch, 10, "Set", f"GROUP(phones)={ext}")
        handler = f"phones-hangup,s,1({ext})"
        self.at(ch, 11, "Set", f"CHANNEL(hangup_handler_push)={handler}")
        ch.hangup_handler = handler
        self.e.emit(m.event("HangupHandlerPush", m.channel_pairs(ch), [("Handler", handler)]))
        self.at(ch, 12, "Set", f"DEVICE_STATE(Custom:{ext})=RINGING")
        self.at(ch, 13, "Ringing")
        return mode

    def phone_waits(self, ch: Channel, phone: Phone) -> None:
        """``phones,<ext>,14..15``: never answering (Wait 600), or ringing RING seconds."""
        noanswer = phone.answer_after is None
        self.at(ch, 14, "GotoIf", f"{int(noanswer)}?noanswer")
        if noanswer:
            self.at(ch, 20, "Wait", "600")
        else:
            self.at(ch, 15, "Wait", _seconds(phone.answer_after or 1))

    def phone_answers(self, ch: Channel) -> None:
        self.at(ch, 16, "Answer")

    def phone_talks(self, ch: Channel, ext: str, phone: Phone) -> None:
        """``phones,<ext>,17..18``: in use, music on hold for TALK seconds."""
        self.at(ch, 17, "Set", f"DEVICE_STATE(Custom:{ext})=INUSE")
        self.at(ch, 18, "MusicOnHold", f"default,{_seconds(phone.talk_time)}")
        self.moh_start(ch)

    def moh_start(self, ch: Channel) -> None:
        ch.moh = True
        self.e.emit(m.event("MusicOnHoldStart", m.channel_pairs(ch), [("Class", "default")]))

    def moh_stop(self, ch: Channel) -> None:
        if ch.moh:
            ch.moh = False
            self.e.emit(m.event("MusicOnHoldStop", m.channel_pairs(ch)))

    def hangup(self, ch: Channel) -> None:
        """Music stops, then the hangup handler runs (``phones-hangup,s,1(<ext>)``)
        or the ``h`` extension of from-internal."""
        self.moh_stop(ch)
        if ch.context == "from-internal" and "ROUTED" in ch.variables:
            self.at(ch, 1, "NoOp", "from-internal hangup", exten="h")
            ch.priority = 2
        handler, ch.hangup_handler = ch.hangup_handler, None
        if handler is None:
            return
        self.e.emit(m.event("HangupHandlerRun", m.channel_pairs(ch), [("Handler", handler)]))
        ext = handler.rpartition("(")[2].rstrip(")")
        self.var(ch, "LOCAL(ARG1)", ext)
        self.var(ch, "LOCAL(ARGC)", "1")
        saved = ch.context, ch.exten, ch.priority
        self.at(
            ch,
            1,
            "Set",
            f"DEVICE_STATE(Custom:{ext})=NOT_INUSE",
            context="phones-hangup",
            exten="s",
        )
        if ch.pending_cid is not None:
            pending, ch.pending_cid = ch.pending_cid, None
            self.e.set_callerid(ch, *pending)
        self.at(ch, 2, "Return")
        for name in ("ARGC", "ARG1", "GOSUB_RETVAL"):
            self.var(ch, name)
        ch.context, ch.exten, ch.priority = saved

    # -- FreePBX-like routing -------------------------------------------------
    def inbound_route(self, ch: Channel, dest: str, queue: str | None) -> None:
        """``from-pstn,<did>``: the inbound route's NoOp and its Goto."""
        if queue is None:
            self.at(ch, 1, "NoOp", f"DID -> extension {dest}")
            self.at(ch, 2, "Goto", f"ext-local,{dest},1")
            ch.context, ch.exten = "ext-local", dest
        else:
            self.at(ch, 1, "NoOp", f"Main number -> {queue} queue")
            self.at(ch, 2, "Goto", f"ext-queues,{dest},1")
            ch.context, ch.exten = "ext-queues", dest

    def feature_dnd(self, ch: Channel, ext: str, on: bool, was: str | None) -> None:
        """*78 / *79 up to the Playback (the Hangup follows it)."""
        self.at(ch, 1, "Answer")
        if on:
            self.at(ch, 2, "Set", f"DB(DND/{ext})=YES")
            self.at(ch, 3, "Set", f"DEVICE_STATE(Custom:DND{ext})=BUSY")
        else:
            if was:
                self.var(ch, "DB_RESULT", was)
            self.set(ch, 2, "TMP", was or "")
            self.at(ch, 3, "Set", f"DEVICE_STATE(Custom:DND{ext})=NOT_INUSE")
        state = "activated" if on else "de-activated"
        self.at(ch, 4, "Playback", f"do-not-disturb&{state}")

    def playback_done(self, ch: Channel, priority: int | None = None) -> None:
        """Playback finished; with ``priority``, the dialplan's Hangup() follows."""
        self.var(ch, "PLAYBACKSTATUS", "SUCCESS")
        if priority is not None:
            self.at(ch, priority, "Hangup")

    def voicemail_done(self, ch: Channel, message_file: str | None) -> None:
        if message_file is not None:
            self.var(ch, "VM_MESSAGEFILE", message_file)
        self.var(ch, "VMSTATUS", "SUCCESS" if message_file is not None else "FAILED")

    def queue_entry(self, ch: Channel, queue: str) -> None:
        """``ext-queues,<number>,1..2``: NoOp and Answer (before the caller is answered)."""
        self.at(ch, 1, "NoOp", f"Queue {queue}")
        self.at(ch, 2, "Answer")

    def queue_join(self, ch: Channel, data: str) -> None:
        """``ext-queues,<number>,3..4``: __FROMQ and Queue(); app_queue resets its times."""
        self.set(ch, 3, "__FROMQ", "true")
        self.at(ch, 4, "Queue", data)
        for name in (*QUEUE_TIMES, "QUEUEWAIT", "QUEUEWAIT_MS"):
            self.var(ch, name)
        ch.dial_started = self.e.clock.now()
        ch.dial_rang = True  # app_queue keeps no ring time

    def queue_vars(self, ch: Channel, queue: Queue) -> None:
        """app_queue's QUEUE* variables (its ``setqueuevar``)."""
        perf = 100.0 if queue.completed else 0.0
        waiting = len(self.e.dialplan.queue_callers.get(queue.name, ()))
        for name, value in (
            ("QUEUENAME", queue.name),
            ("QUEUEMAX", 0),
            ("QUEUESTRATEGY", queue.strategy),
            ("QUEUECALLS", waiting),
            ("QUEUEHOLDTIME", queue.holdtime),
            ("QUEUETALKTIME", queue.talktime),
            ("QUEUECOMPLETED", queue.completed),
            ("QUEUEABANDONED", queue.abandoned),
            ("QUEUESRVLEVEL", 60),
            ("QUEUESRVLEVELPERF", f"{perf:.1f}"),
        ):
            self.var(ch, name, str(value))

    def queue_connect(
        self, ch: Channel, agent: Channel, queue: Queue, member: QueueMember, hold: int
    ) -> None:
        """A member answered: music stops, both channels learn the member and the wait."""
        self.moh_stop(ch)
        member_vars = (
            ("MEMBERINTERFACE", member.interface),
            ("MEMBERNAME", member.name),
            ("MEMBERCALLS", str(member.calls_taken)),
            ("MEMBERLASTCALL", str(member.last_call)),
            ("MEMBERPENALTY", str(member.penalty)),
            ("MEMBERDYNAMIC", str(int(member.dynamic))),
            ("MEMBERREALTIME", "0"),
        )
        position = next(
            (
                i
                for i, c in enumerate(self.e.dialplan.queue_callers.get(queue.name, ()), 1)
                if c[0] is ch
            ),
            1,
        )
        for target in (ch, agent):
            for name, value in member_vars:
                self.var(target, name, value)
        for target in (ch, agent):
            self.var(target, "QEHOLDTIME", str(hold))
            self.var(target, "QEORIGINALPOS", str(position))
        queue.holdtime = hold
        self.queue_vars(ch, queue)
        self.queue_vars(agent, queue)
        ch.dial_answered_at = self.e.clock.now()

    def queue_left(self, ch: Channel, position: int, waited: float) -> None:
        self.var(ch, "QUEUEPOSITION", str(position))
        self.var(ch, "QUEUEWAIT", str(int(waited)))
        self.var(ch, "QUEUEWAIT_MS", str(int(waited) * 1000))  # app_queue counts seconds

    def member_leg(self, ch: Channel, devices: str, data: str) -> None:
        """``from-queue,<ext>,1..4``: DND check, the member's devices, Dial()."""
        self.at(ch, 1, "GotoIf", "0?dnd")
        self.set(ch, 2, "DEV", "")
        self.set(ch, 3, "DEV", devices)
        self.dial(ch, 4, data)

    def gosub_dial_ext(self, ch: Channel, ext: str) -> None:
        """``Gosub(sub-dial-ext,s,1(<ext>))`` from the context that routed the call."""
        self.at(ch, 1, "Gosub", f"sub-dial-ext,s,1({ext})")
        self.var(ch, "LOCAL(ARG1)", ext)
        self.var(ch, "LOCAL(ARGC)", "1")
        ch.context, ch.exten = "sub-dial-ext", "s"
        self.set(ch, 1, "EXT", ext)
        self.set(ch, 2, "__DIALEDEXT", ext)

    def dnd_check(self, ch: Channel, ext: str, dnd: str | None) -> None:
        if dnd:
            self.var(ch, "DB_RESULT", dnd)
        self.at(ch, 3, "GotoIf", f"{int(bool(dnd))}?dnd")
        if dnd:
            self.at(ch, 20, "NoOp", f"DND active on {ext}")

    def forward_check(self, ch: Channel, ext: str, forward: str | None) -> None:
        if forward:
            self.var(ch, "DB_RESULT", forward)
        self.set(ch, 4, "FWD", forward or "")
        self.at(ch, 5, "GotoIf", f"{int(bool(forward))}?cf")
        if forward:
            self.at(ch, 23, "NoOp", f"Call forward unconditional {ext} -> {forward}")

    def device_lookup(self, ch: Channel, devices: str) -> None:
        self.set(ch, 6, "DEV", "")
        self.set(ch, 7, "DEV", devices)

    def outside_rings(self, ch: Channel) -> None:
        """``pstn-sim,<number>,1..5``: the lab's simulated far end, up to Ringing."""
        self.set(ch, 1, "MODE", "")
        self.set(ch, 2, "TALK", "")
        self.set(ch, 3, "TALK", "600")
        self.at(ch, 4, "GotoIf", "0?busy")
        self.at(ch, 5, "Ringing")

    def outside_waits(self, ch: Channel, ring: float) -> None:
        self.at(ch, 6, "GotoIf", "0?noanswer")
        self.at(ch, 7, "Wait", _seconds(ring))

    # -- app_dial -------------------------------------------------------------
    def dial(self, ch: Channel, priority: int, data: str) -> None:
        """``Dial(data)`` starts: its Newexten and app_dial's variables reset."""
        self.at(ch, priority, "Dial", data)
        for name in DIAL_VARS:
            self.var(ch, name)
        ch.dial_started = self.e.clock.now()
        ch.dial_rang = False

    def queue_ended(self, ch: Channel, queue: Queue) -> None:
        """The queue caller's Queue() returns: statistics, times, statistics again."""
        self.queue_vars(ch, queue)
        self._times(ch, with_status=False)
        self.queue_vars(ch, queue)

    def dial_ringing(self, caller: Channel) -> None:
        if caller.dial_started is None or caller.dial_rang:
            return
        caller.dial_rang = True
        ring = self.e.clock.now() - caller.dial_started
        self.var(caller, "RINGTIME", str(int(ring)))
        self.var(caller, "RINGTIME_MS", str(int(ring * 1000)))

    def dial_answered(self, caller: Channel, att: Attempt) -> None:
        if caller.dial_started is None or caller.context == "ext-queues":
            return  # app_queue reports its member on connect
        self.var(caller, "DIALSTATUS", "ANSWER")
        self.var(caller, "DIALEDPEERNAME", att.outer.name)
        number = att.dialstring if att.outer is not att.inner else att.dialstring.split("/", 1)[-1]
        self.var(caller, "DIALEDPEERNUMBER", number)
        caller.dial_answered_at = self.e.clock.now()

    def dial_ended(self, caller: Channel, status: str | None = None) -> None:
        """Dial() returns: if answered, how long it was answered and dialing; its
        status (ANSWER when answered, else ``status`` or CANCEL)."""
        if caller.dial_started is None:
            return
        if caller.context == "ext-queues":
            queue = self.e.office.queues.get(caller.variables.get("QUEUENAME", ""))
            if queue is not None and caller.dial_answered_at is not None:
                self.queue_ended(caller, queue)
            caller.dial_started = None
            return
        if caller.dial_answered_at is not None:
            self._times(caller, with_status=True)
        else:
            caller.dial_started = None
            self.var(caller, "DIALSTATUS", status or "CANCEL")

    def _times(self, caller: Channel, *, with_status: bool) -> None:
        started, caller.dial_started = caller.dial_started or 0.0, None
        now = self.e.clock.now()
        talk = now - (caller.dial_answered_at or now)
        caller.dial_answered_at = None
        self.var(caller, "ANSWEREDTIME", str(int(talk)))
        self.var(caller, "ANSWEREDTIME_MS", str(int(talk * 1000)))
        self.var(caller, "DIALEDTIME", str(int(now - started)))
        self.var(caller, "DIALEDTIME_MS", str(int((now - started) * 1000)))
        if with_status:
            self.var(caller, "DIALSTATUS", "ANSWER")

    def local_dialed(self, one: Channel, two: Channel, caller: Channel | None, target: str) -> None:
        """A Local pair created by Dial() inherits the dial's variables; an
        Originate's ``;1`` just shows it is an outgoing line."""
        if caller is None:
            self.at(one, 1, "AppDial2", "(Outgoing Line)")
            return
        if caller.context == "ext-queues":
            # app_queue: the member's ;1 is an outgoing line of the queue.
            self.at(one, 1, "AppQueue", "(Outgoing Line)")
            self.var(one, "__FROMQ", "true")
            self.var(one, "DIALEDPEERNUMBER", target)
            self.var(two, "DIALEDPEERNUMBER", target)
            self.var(two, "__FROMQ", "true")
            return
        inherited = [(k, caller.variables[k]) for k in INHERITED if k in caller.variables]
        dialed_exten, one.exten = one.exten, two.exten  # set before Dial() copied its own
        for half in (one, two):
            self.var(half, "DIALEDPEERNUMBER", target)
            for name, value in inherited:
                self.var(half, name, value)
            if half is one:
                one.exten = dialed_exten
                self.at(one, 1, "AppDial", "(Outgoing Line)")

    def bridged(self, a: Channel, b: Channel) -> None:
        """Two parties meet; a transferred one forgets who transferred it."""
        for ch, peer in ((a, b), (b, a)):
            if ch.variables.get("BLINDTRANSFER"):
                self.var(ch, "BLINDTRANSFER")
            self.var(ch, "BRIDGEPEER", peer.name)

    def blind_transfer(self, transferer: Channel, transferee: Channel) -> None:
        """BlindTransfer: the transferer's phone comes off hold, both note the
        transfer, and the transferee leaves its bridge with its Dial() still shown."""
        self.e.emit(m.event("Unhold", m.channel_pairs(transferer)))
        self.var(transferer, "BLINDTRANSFER", transferee.name)
        self.var(transferee, "BLINDTRANSFER", transferer.name)
        self.var(transferee, "BRIDGEPEER")
        transferee.stale_app = (transferee.app, transferee.appdata)

    def unbridged(self, *channels: Channel) -> None:
        """A party leaves: whoever still names a peer has it cleared."""
        for ch in channels:
            if ch.variables.get("BRIDGEPEER"):
                self.var(ch, "BRIDGEPEER")

    def rebridged(self, ch: Channel) -> None:
        """An audiohook (MixMonitor) joined or left: the bridge sets its peers again."""
        br = ch.bridge
        if br is not None and br.type == "basic" and len(br.channels) == 2:
            peer = br.channels[0] if br.channels[1] is ch else br.channels[1]
            self.bridged(peer, ch)

    def parked(self, ch: Channel, peer: Channel | None) -> None:
        """The Park action: the parker is the parkee's blind-transfer target."""
        if peer is not None:
            self.var(ch, "BLINDTRANSFER", peer.name)
            self.var(ch, "BLINDTRANSFER", peer.name)

    def in_parking_lot(self, ch: Channel) -> None:
        if "BLINDTRANSFER" in ch.variables:
            self.var(ch, "BLINDTRANSFER")
        self.var(ch, "BRIDGEPEER")
        self.moh_start(ch)
