"""What channels do: the phones, the outside world and a FreePBX-like dialplan."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ctibot.demo import messages as m
from ctibot.demo import offhour
from ctibot.demo import voicemail as vm
from ctibot.demo.conference import CONFERENCE_ROOMS, ConferenceRooms
from ctibot.demo.voicemail import VoicemailMessage

if TYPE_CHECKING:
    from ctibot.demo.calls import CallEngine
    from ctibot.demo.channels import Channel
    from ctibot.demo.office import Queue

#: A caller must stay this long in VoiceMail (the greeting) before a message is kept.
VOICEMAIL_GREETING = 12.0
#: Seconds the Park announcement lasts before the parker is hung up.
PARK_ANNOUNCEMENT = 2.0
#: Length of the lab's "tt-monkeys" prompt (Originate ... Application: Playback).
PLAYBACK_LENGTH = 16.0
FOREVER = 10**9
#: FreePBX's echo test feature code, and how long the demo echoes before hanging up.
ECHO_TEST = "*43"
ECHO_SECONDS = 20.0
#: Loop turns an answer takes to travel up a Local channel (phone, member leg, queue).
SETTLE_TURNS = 4


class Dialplan:
    """The contexts of the lab / FreePBX dialplan, as coroutines run per channel."""

    def __init__(self, engine: CallEngine) -> None:
        self.e = engine
        self.office = engine.office
        self.queue_callers: dict[str, list[tuple[Channel, float]]] = {}
        self.rooms = ConferenceRooms(engine)
        self.conferences = self.rooms.bridges  # the rooms in use and their bridges
        #: Where Playback finds announcements and Record writes them (None: no files).
        self.sounds_dir: offhour.SoundsDir = None

    async def hold_forever(self) -> None:
        await asyncio.sleep(FOREVER)

    # -- entry ----------------------------------------------------------------
    async def run(self, ch: Channel, context: str, exten: str) -> None:
        """Run ``context,exten`` on ``ch`` (the ``;2`` half of a Local channel, or a
        channel sent there by Originate / Redirect / a transfer)."""
        if context == "phones":
            await self.phone(ch, exten)
        elif context == "pstn-sim":
            await self.outside(ch)
        elif context == "from-queue":
            await self.queue_member_leg(ch, exten)
        elif context == "from-pstn":
            await self.inbound(ch, exten)
        else:
            await self.internal(ch, exten)

    def answer_caller(self, ch: Channel) -> None:
        """Answer a channel; a Local ``;2`` answering also answers its Originate/Dial."""
        if ch.attempt is not None and not ch.attempt.done:
            self.e.answer(ch.attempt)
        else:
            self.e.set_state(ch, 6)

    # -- endpoints ------------------------------------------------------------
    async def phone(self, ch: Channel, ext: str) -> None:
        """A user's phone rings and behaves as the test set it up."""
        e = self.e
        user = self.office.users.get(ext)
        att = ch.attempt
        if user is None or att is None:
            e.hangup(ch, 1)
            return
        ch.extension = ext
        phone = self.office.phone_of(ch.device) or user.phone
        # The lab's phones are dialplan (context "phones"); a real phone runs none.
        steps = e.steps if self.office.lab_mode else None
        if steps is not None:
            steps.phone_alerting(ch, ext, phone)
        if not phone.registered or phone.congestion:
            e.fail(att, "CONGESTION", 34)
            return
        if phone.busy:
            e.fail(att, "BUSY", 17)
            return
        e.ringing(att)
        e.refresh_device(ext)
        if steps is not None:
            steps.phone_waits(ch, phone)
        if phone.answer_after is None:
            await self.hold_forever()
        await e.clock.sleep(phone.answer_after)
        if steps is not None:
            steps.phone_answers(ch)
        ch.app, ch.appdata, ch.priority = "MusicOnHold", "default,600", 18
        if att.outer is not ch:
            att.outer.app, att.outer.appdata = "AppDial", "(Outgoing Line)"
        e.answer(att)
        if steps is not None:
            steps.phone_talks(ch, ext, phone)
        await e.clock.sleep(phone.talk_time)
        e.hangup(ch, 16)

    async def outside(self, ch: Channel) -> None:
        """The far end of a trunk: rings, answers, talks."""
        e = self.e
        att = ch.attempt
        if att is None:
            return
        lab = ch.context == "pstn-sim"  # the lab's outside world is dialplan too
        if lab:
            e.steps.outside_rings(ch)
        e.ringing(att)
        if lab:
            e.steps.outside_waits(ch, self.office.outside_answer_after)
        await e.clock.sleep(self.office.outside_answer_after)
        ch.app, ch.appdata = "Wait", "600"
        if lab:
            e.steps.at(ch, 8, "Answer")
        e.answer(att)
        if lab:
            e.steps.at(ch, 9, "Wait", "600")
        await e.clock.sleep(600)
        e.hangup(ch, 16)

    # -- FreePBX-like routing -------------------------------------------------
    async def internal(self, ch: Channel, exten: str) -> None:
        """``from-internal``: extensions, queues, parking, feature codes, outside calls."""
        office = self.office
        lo, hi = office.parking_slots
        ch.variables["ROUTED"] = "1"
        if not ch.cdr_dst:
            # The call record keeps the number first dialed, not sub-dial-ext's "s".
            ch.cdr_dst = exten
            ch.variables.setdefault("CDR_DCONTEXT", "from-internal")
        if exten in ("*78", "*79"):
            await self.feature_dnd(ch, exten == "*78")
        elif exten == ECHO_TEST:
            await self.echo_test(ch)
        elif exten.startswith("*") and exten[1:] in office.users:
            await self.voicemail(ch, exten[1:])
        elif exten == office.parking_exten:
            # Dialing (or being transferred to) 700 parks the channel itself.
            self.answer_caller(ch)
            ch.app, ch.appdata = "Park", office.parking_lot
            if self.park(ch, None) is None:
                self.e.hangup(ch, 34)
                return
            await self.hold_forever()
        elif exten.isdigit() and lo <= int(exten) <= hi:
            await self.pickup(ch, int(exten))
        elif exten in CONFERENCE_ROOMS:
            await self.rooms.join(ch, exten, self.answer_caller)
        elif (queue := office.queue_by_number(exten)) is not None:
            await self.queue(ch, queue)
        elif exten in office.users:
            await self.dial_extension(ch, exten, int(ch.variables.get("FORWARD_DEPTH", "0")))
        elif exten.startswith(("0", "+")) or len(exten) >= 6:
            await self.outbound(ch, exten)
        else:
            self.e.hangup(ch, 1)

    async def inbound(self, ch: Channel, did: str) -> None:
        """``from-pstn``: the inbound route of a DID (an extension or a queue)."""
        if await offhour.night_service(self, ch, did):
            return  # ctibot's off-hour rule for the route applied
        office = self.office
        dest = office.dids.get(did)
        if dest is None and (did in office.users or office.queue_by_number(did) is not None):
            dest = did  # a test may call an extension or a queue number directly
        if dest is None:
            self.e.hangup(ch, 1)
            return
        # FreePBX's inbound routes go to ext-local / ext-queues (the CDR shows it).
        ch.variables["CDR_DCONTEXT"] = "ext-local" if dest in office.users else "ext-queues"
        queue = office.queue_by_number(dest)
        self.e.steps.inbound_route(ch, dest, queue.name if queue else None)
        await self.internal(ch, dest)

    async def dial_extension(self, ch: Channel, ext: str, depth: int = 0) -> None:
        """FreePBX's sub-dial-ext: DND -> voicemail, CF, then ring; CFB / CFU after."""
        e, db = self.e, self.office.astdb
        steps = e.steps
        devices = self.office.devices_of(ext)
        steps.gosub_dial_ext(ch, ext)
        ch.variables["DIALEDEXT"] = ext
        dnd = db.get("DND", ext)
        steps.dnd_check(ch, ext, dnd)
        if dnd:
            ch.priority = 21
            await self.voicemail(ch, ext, "b")
            return
        forward = db.get("CF", ext) if depth < 3 else None
        steps.forward_check(ch, ext, forward)
        if forward:
            await self.forward(ch, forward, depth)
            return
        steps.device_lookup(ch, "&".join(devices))
        ch.app, ch.appdata = "Dial", f"{'&'.join(devices)},15,tTkK"
        steps.dial(ch, 8, ch.appdata)
        if len(devices) == 1:
            att = e.dial(ch, devices[0])
            status = await e.wait(att, self.office.ring_timeout)
        else:
            att, status = await self._ring_all(ch, devices, self.office.ring_timeout)
        ch.variables["DIALSTATUS"] = status
        if ch.dead:
            return
        if status != "ANSWER":
            steps.dial_ended(ch, status)
        if status == "ANSWER":
            self.answer_caller(ch)
            if not self.office.lab_mode:
                # A SIP phone's answer updates the caller's connected line.
                e.set_connected(ch, ext, self.office.users[ext].fullname)
            e.bridge_two(ch, att.outer)
            await self.hold_forever()
        key = "CFB" if status == "BUSY" else "CFU"
        forward = db.get(key, ext)
        if forward and depth < 3:
            await self.forward(ch, forward, depth, key)
        elif ext in self.office.mailboxes:
            await self.voicemail(ch, ext, "b" if status == "BUSY" else "u")
        else:
            e.hangup(ch, 17 if status == "BUSY" else 19)

    async def _ring_all(self, ch: Channel, devices: list[str], timeout: float):
        """``Dial(PJSIP/201&PJSIP/91201)``: every device rings, the first to answer
        takes the call and the others stop ringing (cause 26, answered elsewhere)."""
        e = self.e
        ringing = [(device, e.dial(ch, device)) for device in devices]
        winner = await self._first_answer(ringing, timeout)
        for _device, att in ringing:
            if winner is not None and att is winner[1]:
                continue
            if not att.done:
                e.fail(att, "CANCEL", 26)
            elif att.result.result() == "ANSWER":
                e.hangup(att.outer, 26)  # answered in the same instant: too late
        if winner is not None:
            return winner[1], "ANSWER"
        results = {att.result.result() for _device, att in ringing}
        if results == {"BUSY"}:
            return ringing[0][1], "BUSY"
        if results == {"CONGESTION"}:
            return ringing[0][1], "CHANUNAVAIL"
        return ringing[0][1], "NOANSWER"

    async def forward(self, ch: Channel, target: str, depth: int, kind: str = "CF") -> None:
        """Follow a CF/CFB/CFU: voicemail for ``vmu<box>``, else FreePBX dials
        ``Local/<target>@from-internal`` (so the target's own DND/CF apply)."""
        e = self.e
        if target.startswith("vmu"):
            await self.voicemail(ch, target[3:])
            return
        # The lab's dialplan marks forwarded calls: CALLERID(name)=CF:<name>.
        e.steps.at(ch, 24, "Set", f"CALLERID(name)={kind}:{ch.cid_name}")
        e.set_callerid(ch, ch.cid_num, f"{kind}:{ch.cid_name}")
        dialstring = f"Local/{target}@from-internal/n"
        ch.app, ch.appdata = "Dial", f"{dialstring},,tT"
        e.steps.dial(ch, 25, ch.appdata)
        att = e.dial(ch, dialstring)
        att.inner.variables["FORWARD_DEPTH"] = str(depth + 1)
        status = await e.wait(att, None)
        if ch.dead:
            return
        if status == "ANSWER":
            self.answer_caller(ch)
            e.bridge_two(ch, att.outer)
            await self.hold_forever()
        e.hangup(ch, 17 if status == "BUSY" else 19)

    async def outbound(self, ch: Channel, number: str) -> None:
        """A call to the outside through the first trunk with a free channel."""
        e = self.e
        if number.startswith("+"):
            number = "00" + number[1:]
        trunk = next((t for t in self.office.trunks if e.trunk_in_use(t) < t.max_channels), None)
        if trunk is None:
            # Every trunk is full: the call fails with congestion, as a real one does.
            if ch.attempt is not None and not ch.attempt.done:
                e.fail(ch.attempt, "CONGESTION", 34)
            e.hangup(ch, 34)
            return
        dialstring = trunk.dial_string(number)
        e.steps.at(ch, 1, "NoOp", f"Outbound call to {number} via trunk {trunk.label}")
        ch.app, ch.appdata = "Dial", f"{dialstring},60,tT"
        e.steps.dial(ch, 2, ch.appdata)
        att = e.dial(ch, dialstring)
        att.outer.trunk = trunk
        status = await e.wait(att, 60)
        if ch.dead:
            return
        if status != "ANSWER":
            e.steps.dial_ended(ch, status)
        if status == "ANSWER":
            self.answer_caller(ch)
            e.bridge_two(ch, att.outer)
            await self.hold_forever()
        e.hangup(ch, 17 if status == "BUSY" else 34 if status == "CONGESTION" else 19)

    # -- voicemail ------------------------------------------------------------
    async def voicemail(
        self, ch: Channel, box: str, greeting: str = "u", *, step: bool = True
    ) -> None:
        """VoiceMail(box@default,u|b): a caller who stays past the greeting leaves a message."""
        e = self.e
        self.answer_caller(ch)
        ch.app, ch.appdata = "VoiceMail", f"{box}@{self.office.voicemail_context},{greeting}"
        if step:
            e.steps.at(ch, ch.priority, "VoiceMail", ch.appdata)
        started = e.clock.now()

        def keep_message(chan: Channel) -> None:
            length = int(e.clock.now() - started - VOICEMAIL_GREETING)
            kept = None
            if length >= 1:
                kept = self.record_message(box, f'"{chan.cid_name}" <{chan.cid_num}>', length, chan)
            e.steps.voicemail_done(chan, kept)

        ch.hooks.append(keep_message)
        await self.hold_forever()

    def record_message(
        self, box: str, callerid: str, duration: int, ch: Channel | None = None
    ) -> str | None:
        """Store a message in INBOX and send MessageWaiting (with the channel if any);
        returns the message's file (without extension)."""
        mailbox = self.office.mailboxes.get(box)
        if mailbox is None:
            return None
        number = sum(1 for msg in mailbox.messages if msg.folder == "INBOX")
        wall = self.e.clock.wall()
        msg_id = f"{int(wall)}-{len(mailbox.messages):08x}"
        date = time.strftime("%a %b %d %I:%M:%S %p UTC %Y", time.gmtime(wall))
        message = VoicemailMessage(msg_id, "INBOX", callerid, date, duration)
        mailbox.messages.append(message)
        if self.office.voicemail_spool:
            stem = vm.store_message(Path(self.office.voicemail_spool), mailbox, message, wall)
            self.announce_mailbox(box, ch)
            return str(stem)
        self.announce_mailbox(box, ch)
        spool = f"/var/spool/asterisk/voicemail/{self.office.voicemail_context}/{box}"
        return f"{spool}/INBOX/msg{number:04d}"

    def announce_mailbox(self, box: str, ch: Channel | None = None) -> None:
        mailbox = self.office.mailboxes[box]
        fields = [
            ("Mailbox", f"{box}@{mailbox.context}"),
            ("Waiting", int(mailbox.new > 0)),
            ("New", mailbox.new),
            ("Old", mailbox.old),
        ]
        if ch is not None:
            self.e.emit(m.event("MessageWaiting", m.channel_pairs(ch), fields))
        else:
            self.e.emit(m.event("MessageWaiting", fields))
        state = "INUSE" if mailbox.new else "NOT_INUSE"
        self.e.set_device_state(f"MWI:{box}@{mailbox.context}", state)

    # -- feature codes --------------------------------------------------------
    async def feature_dnd(self, ch: Channel, on: bool) -> None:
        """*78 / *79: DND in AstDB and the Custom:DND<ext> light."""
        ext = ch.cid_num
        steps = self.e.steps
        ch.context, ch.exten = "from-internal", "*78" if on else "*79"
        steps.feature_dnd(ch, ext, on, self.office.astdb.get("DND", ext))
        self.answer_caller(ch)
        ch.app, ch.appdata = (
            "Playback",
            "do-not-disturb&activated" if on else "do-not-disturb&de-activated",
        )
        self.set_dnd(ext, on)
        await self.e.clock.sleep(3)
        steps.playback_done(ch, 5)
        ch.app, ch.appdata = "Hangup", ""
        self.e.hangup(ch, 16)

    async def echo_test(self, ch: Channel) -> None:
        """*43, FreePBX's app-echo-test: the caller hears himself until he hangs up
        (the demo ends it after ``ECHO_SECONDS``)."""
        steps = self.e.steps
        ch.context, ch.exten = "app-echo-test", ECHO_TEST
        steps.at(ch, 1, "Answer")
        self.answer_caller(ch)
        steps.at(ch, 2, "Playback", "demo-echotest")
        ch.app, ch.appdata = "Playback", "demo-echotest"
        await self.e.clock.sleep(2)
        steps.playback_done(ch)
        steps.at(ch, 3, "Echo")
        ch.app, ch.appdata = "Echo", ""
        await self.e.clock.sleep(ECHO_SECONDS)
        steps.at(ch, 4, "Playback", "demo-echodone")
        ch.app, ch.appdata = "Playback", "demo-echodone"
        await self.e.clock.sleep(1)
        steps.playback_done(ch, 5)
        ch.app, ch.appdata = "Hangup", ""
        self.e.hangup(ch, 16)

    def set_dnd(self, ext: str, on: bool) -> None:
        if on:
            self.office.astdb.put("DND", ext, "YES")
        else:
            self.office.astdb.delete("DND", ext)
        self.e.set_device_state(f"Custom:DND{ext}", "BUSY" if on else "NOT_INUSE")

    # -- queues ---------------------------------------------------------------
    async def queue(self, ch: Channel, queue: Queue) -> None:
        """Queue(name): answer, wait, ring every free member at once (ringall)."""
        e = self.e
        ch.context, ch.exten = "ext-queues", queue.number
        ch.variables["CDR_DCONTEXT"] = "ext-queues"
        e.steps.queue_entry(ch, queue.name)
        self.answer_caller(ch)
        ch.app, ch.appdata = "Queue", f"{queue.name},t,,,300"
        e.steps.queue_join(ch, ch.appdata)
        callers = self.queue_callers.setdefault(queue.name, [])
        joined = e.clock.now()
        callers.append((ch, joined))
        e.emit(
            m.event(
                "QueueCallerJoin",
                m.channel_pairs(ch),
                [("Queue", queue.name), ("Position", len(callers)), ("Count", len(callers))],
            )
        )
        e.steps.moh_start(ch)
        state = {"connected": False}

        def leave_queue(chan: Channel) -> None:
            entry = next((c for c in callers if c[0] is chan), None)
            if entry is None:
                return
            position = callers.index(entry) + 1
            callers.remove(entry)
            if not state["connected"]:
                queue.abandoned += 1
                e.emit(
                    m.event(
                        "QueueCallerAbandon",
                        m.channel_pairs(chan),
                        [
                            ("Queue", queue.name),
                            ("Position", position),
                            ("OriginalPosition", position),
                            ("HoldTime", int(e.clock.now() - joined)),
                        ],
                    )
                )
            e.emit(
                m.event(
                    "QueueCallerLeave",
                    m.channel_pairs(chan),
                    [("Queue", queue.name), ("Position", position), ("Count", len(callers))],
                )
            )

        ch.hooks.append(leave_queue)
        while not ch.dead:
            free = [
                mb
                for mb in queue.members.values()
                if not mb.paused and not mb.in_call and e.hint_state(mb.extension) == "NOT_INUSE"
            ]
            if not free:
                await e.clock.sleep(1)
                continue
            ringing = []
            # ringall dials members by penalty, then interface (201 before 202).
            free.sort(key=lambda mb: (mb.penalty, mb.interface))
            for member in free:

                def called(att, member=member) -> None:
                    # AgentCalled shows the member channel in the queue's extension.
                    dialed_exten, att.outer.exten = att.outer.exten, queue.number
                    e.emit(
                        m.event(
                            "AgentCalled",
                            m.channel_pairs(ch),
                            m.channel_pairs(att.outer, "Dest"),
                            [
                                ("Queue", queue.name),
                                ("Interface", member.interface),
                                ("MemberName", member.name),
                            ],
                        )
                    )
                    att.outer.exten = dialed_exten

                ringing.append((member, e.dial(ch, member.interface, announce=called)))
            winner = await self._first_answer(ringing, queue.timeout)
            if winner is None:
                continue
            member, att = winner
            for _other, other_att in ringing:
                if other_att is att:
                    continue
                if not other_att.done:
                    # app_queue reports the cancelled member twice (seen in queue_call).
                    e._dial_event("DialEnd", other_att, "CANCEL")
                    e.fail(other_att, "CANCEL", 26)
                else:
                    # Answered in the same instant as the winner: too late, hang up.
                    e.hangup(other_att.outer, 26)
            hold = int(e.clock.now() - joined)
            e.steps.queue_connect(ch, att.outer, queue, member, hold)
            state["connected"] = True
            position = next(i for i, c in enumerate(callers, 1) if c[0] is ch)
            leave_queue(ch)
            e.steps.queue_left(ch, position, e.clock.now() - joined)
            ring_time = int(e.clock.now() - att.outer.created)
            e.emit(
                m.event(
                    "AgentConnect",
                    m.channel_pairs(ch),
                    m.channel_pairs(att.outer, "Dest"),
                    [
                        ("Queue", queue.name),
                        ("Interface", member.interface),
                        ("MemberName", member.name),
                        ("HoldTime", hold),
                        ("RingTime", ring_time),
                    ],
                )
            )
            member.in_call = True
            member.calls_taken += 1
            member.last_call = int(e.clock.wall())
            connected_at = e.clock.now()
            agent = att.outer

            def complete(
                chan: Channel, member=member, agent=agent, hold=hold, connected_at=connected_at
            ) -> None:
                member.in_call = False
                queue.completed += 1
                queue.holdtime = hold
                talk = int(e.clock.now() - connected_at)
                queue.talktime = talk
                e.emit(
                    m.event(
                        "AgentComplete",
                        m.channel_pairs(chan),
                        m.channel_pairs(agent, "Dest"),
                        [
                            ("Queue", queue.name),
                            ("Interface", member.interface),
                            ("MemberName", member.name),
                            ("HoldTime", hold),
                            ("TalkTime", talk),
                            ("Reason", "caller" if chan is ch else "agent"),
                        ],
                    )
                )

            ch.hooks.append(complete)
            agent.hooks.append(lambda chan: complete(ch) if not ch.dead else None)
            e.bridge_two(ch, agent)
            await self.hold_forever()

    async def _first_answer(self, ringing, timeout: float):
        """The first of ``ringing`` (pairs of anything and an Attempt) to answer within
        ``timeout``; the others that still ring get NOANSWER. None: nobody answered.

        The attempts' own results are read, not only the futures waited on: an answer
        that lands in the same loop turn as the deadline still wins (a loaded
        machine runs both at once), instead of leaving an answered leg orphaned."""
        e = self.e
        loop = asyncio.get_running_loop()
        pending = {asyncio.ensure_future(asyncio.shield(att.result)) for _mb, att in ringing}
        deadline = loop.time() + timeout * e.clock.scale
        settling = False
        try:
            while True:
                for mb, att in ringing:
                    if att.done and att.result.result() == "ANSWER":
                        return mb, att
                pending = {fut for fut in pending if not fut.done()}
                left = deadline - loop.time()
                if not pending:
                    break
                if left <= 0:
                    if settling:
                        break
                    # Answers already made travel up through Local channels' tasks:
                    # let them arrive before calling time.
                    settling = True
                    for _turn in range(SETTLE_TURNS):
                        await asyncio.sleep(0)
                    continue
                await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            for _mb, att in ringing:
                if not att.done:
                    e.fail(att, "NOANSWER", 19)
            return None
        finally:
            for fut in pending:
                fut.cancel()
            for _mb, att in ringing:
                if att.caller is not None and att in att.caller.dials:
                    att.caller.dials.remove(att)

    async def queue_member_leg(self, ch: Channel, ext: str) -> None:
        """``Local/<ext>@from-queue/n``: ring the member's phone for the queue."""
        e = self.e
        own = ch.attempt
        devices = self.office.devices_of(ext)
        ch.app, ch.appdata = "Dial", f"{'&'.join(devices)},,tT"
        e.steps.member_leg(ch, "&".join(devices), ch.appdata)
        if len(devices) == 1:
            att = e.dial(ch, devices[0])
            status = await e.wait(att, None)
        else:
            att, status = await self._ring_all(ch, devices, FOREVER)
        if ch.dead:
            return
        if status == "ANSWER":
            if own is not None and not own.done:
                e.answer(own)
            e.bridge_two(ch, att.outer)
            await self.hold_forever()
        if own is not None and not own.done:
            e.fail(own, status, 17 if status == "BUSY" else 19)
        e.hangup(ch, 16)

    # -- parking --------------------------------------------------------------
    def free_slot(self) -> int | None:
        lo, hi = self.office.parking_slots
        return next((s for s in range(lo, hi + 1) if s not in self.e.parked), None)

    def parked_pairs(self, ch: Channel) -> list[tuple[str, object]]:
        slot = ch.parked_slot or 0
        return [
            ("ParkerDialString", ch.variables.get("PARKER", "")),
            ("Parkinglot", self.office.parking_lot),
            ("ParkingSpace", slot),
            ("ParkingTimeout", max(0, int(self.office.parking_timeout - self._parked_for(ch)))),
            ("ParkingDuration", int(self._parked_for(ch))),
        ]

    def _parked_for(self, ch: Channel) -> float:
        return self.e.clock.now() - float(ch.variables.get("PARKED_AT", self.e.clock.now()))

    def park(self, ch: Channel, announce_to: Channel | None) -> int | None:
        """Park ``ch`` on the first free slot; the other party hears it and is hung up."""
        e = self.e
        slot = self.free_slot()
        if slot is None:
            return None
        peer = e.peer_of(ch)
        if announce_to is None:
            announce_to = peer
        if e.parking_bridge is None or e.parking_bridge.uniqueid not in e.bridges:
            e.parking_bridge = e.new_bridge("parking")
        ch.keep_alone = True
        if peer is not None:
            peer.keep_alone = True
            ch.variables["PARKER"] = peer.device
        ch.parked_slot = slot
        ch.variables["PARKED_AT"] = str(e.clock.now())
        ch.variables["PARKINGSLOT"] = str(slot)
        e.parked[slot] = ch
        e.steps.parked(ch, peer)
        e.emit(m.event("ParkedCall", m.channel_pairs(ch, "Parkee"), self.parked_pairs(ch)))
        e.enter(e.parking_bridge, ch)
        e.steps.in_parking_lot(ch)
        e.set_device_state(f"park:{slot}@parkedcalls", "INUSE")
        if announce_to is not None:
            e.spawn(self._hang_up_after_announcement(announce_to))
        e.spawn(self._park_timeout(ch, slot))
        return slot

    async def _hang_up_after_announcement(self, ch: Channel) -> None:
        await self.e.clock.sleep(PARK_ANNOUNCEMENT)
        ch.keep_alone = False
        self.e.hangup(ch, 16)

    async def _park_timeout(self, ch: Channel, slot: int) -> None:
        await self.e.clock.sleep(self.office.parking_timeout)
        if self.e.parked.get(slot) is ch and not ch.dead:
            self.e.emit(
                m.event("ParkedCallTimeOut", m.channel_pairs(ch, "Parkee"), self.parked_pairs(ch))
            )
            self.e.hangup(ch, 16)

    async def pickup(self, ch: Channel, slot: int) -> None:
        """Dialing a parking space picks the parked call up."""
        e = self.e
        parkee = e.parked.get(slot)
        if parkee is None or parkee.dead:
            e.hangup(ch, 1)
            return
        self.answer_caller(ch)
        ch.app, ch.appdata = "ParkedCall", f"{self.office.parking_lot},{slot}"
        e.steps.at(ch, 1, ch.app, ch.appdata, context="from-internal", exten=str(slot))
        pairs = self.parked_pairs(parkee)
        del e.parked[slot]
        parkee.parked_slot = None
        parkee.keep_alone = False
        e.set_device_state(f"park:{slot}@parkedcalls", "NOT_INUSE")
        br = e.new_bridge()
        e.steps.moh_stop(parkee)
        e.enter(br, parkee)
        e.enter(br, ch, record_peer=False)  # ParkedCall's record names no peer
        e.set_connected(parkee, ch.cid_num, ch.cid_name, propagate=True)
        e.emit(
            m.event(
                "UnParkedCall",
                m.channel_pairs(parkee, "Parkee"),
                m.channel_pairs(ch, "Retriever"),
                pairs,
            )
        )
        e.set_connected(ch, parkee.cid_num, parkee.cid_name, propagate=True)
        await self.hold_forever()

    # -- applications started by Originate --------------------------------------
    async def application(self, ch: Channel, app: str, data: str) -> None:
        """Originate ... Application: Wait, Playback, ChanSpy, VoiceMail, anything else."""
        e = self.e
        ch.app, ch.appdata = app, data
        lower = app.lower()
        if lower == "wait":
            try:
                seconds = float(data or 0)
            except ValueError:
                seconds = 0.0
            await e.clock.sleep(seconds)
        elif lower == "playback":
            await e.clock.sleep(PLAYBACK_LENGTH)
            e.steps.playback_done(ch)
        elif lower == "chanspy":
            await self.chanspy(ch, data)
        elif lower == "record":
            await offhour.record(self, ch, data)
        elif lower == "voicemail":
            # An Originate's application runs outside the dialplan: no Newexten.
            await self.voicemail(ch, data.split("@", 1)[0].split(",", 1)[0], step=False)
        else:
            await self.hold_forever()
        e.hangup(ch, 0)  # the dialplan just ends: Asterisk reports cause 0

    def _spyee(self, spy: Channel, spec: str) -> Channel | None:
        """The channel ChanSpy listens to: ``spec`` exactly, or the newest channel
        whose name starts with it (a device such as ``Local/201@phones``)."""
        e = self.e
        exact = e.channels.get(spec)
        if exact is not None and not exact.dead and exact is not spy:
            return exact
        for ch in reversed(list(e.channels.values())):
            if ch.dead or ch is spy or ch is spy.partner:
                continue
            if spec and ch.name.startswith(spec + "-"):
                return ch
        return None

    async def chanspy(self, ch: Channel, data: str) -> None:
        """ChanSpy(<channel or prefix>,<options>): ChanSpyStart, then listen until the
        spy or the spied channel hangs up (ChanSpyStop); with ``S`` the spy's call ends
        with the spied one, without it ChanSpy looks for another channel."""
        e = self.e
        spec, _, options = data.partition(",")
        while not ch.dead:
            spyee = self._spyee(ch, spec)
            if spyee is None:
                await e.clock.sleep(1)  # ChanSpy keeps scanning for a channel to spy on
                continue
            e.emit(
                m.event(
                    "ChanSpyStart", m.channel_pairs(ch, "Spyer"), m.channel_pairs(spyee, "Spyee")
                )
            )
            done = asyncio.get_running_loop().create_future()

            def stop(_gone: Channel, spyee: Channel = spyee, done=done) -> None:
                if done.done():
                    return
                done.set_result(None)
                e.emit(
                    m.event(
                        "ChanSpyStop", m.channel_pairs(ch, "Spyer"), m.channel_pairs(spyee, "Spyee")
                    )
                )

            ch.hooks.append(stop)
            spyee.hooks.append(stop)
            await done
            if "S" in options.split("(", 1)[0]:
                break
