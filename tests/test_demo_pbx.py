"""The demo PBX's office behaviour, scenario helpers, faults and size, over TCP."""

from __future__ import annotations

import asyncio
import time

import pytest

from ctibot.demo import DemoPbx, Office
from ctibot.pbx import actions as a
from ctibot.pbx.layout import LAB_LAYOUT, PbxLayout
from tests.demo_fixtures import RawAmiClient, field_templates, split_raw, unknown_field_orders

SCALE = 0.01


async def until(pred, timeout: float = 10.0) -> None:
    """Wait (bounded, generous for a loaded CI machine) until ``pred()`` holds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


def phone_channels(pbx: DemoPbx, ext: str):
    return pbx.channels_of(ext)


def about_phone(m: dict, event: str, ext: str, state: str | None = None) -> bool:
    """``m`` is ``event`` about a channel of ``ext``'s phone (in ``state``, if given)."""
    return (
        m.get("Event") == event
        and m.get("Channel", "").startswith(f"PJSIP/{ext}-")
        and (state is None or m.get("ChannelStateDesc") == state)
    )


#: Simulated seconds that stand for "for ever" (a day): at SCALE a default talk
#: time (600 s) or parking timeout (45 s) lasts only 6 s or 0.45 s of real time,
#: less than a loaded machine may take for a test's AMI round trips.
FOREVER = 86_400


def patient(pbx: DemoPbx) -> DemoPbx:
    """Calls stay up, parked calls stay parked and ringing phones ring until a test acts."""
    for user in pbx.office.users.values():
        user.phone.talk_time = FOREVER
    pbx.office.parking_timeout = FOREVER
    pbx.office.ring_timeout = FOREVER
    return pbx


async def test_default_office_and_layout() -> None:
    office = Office()
    assert list(office.users) == [str(e) for e in range(201, 209)]
    assert office.users["201"].fullname == "Alice Anders"
    assert set(office.queues) == {"sales", "support"}
    assert "Local/201@from-queue/n" in office.queues["sales"].members
    layout = office.layout()
    assert isinstance(layout, PbxLayout)
    assert layout.device_template == "PJSIP/{extension}"
    assert [(t.name, t.max_channels) for t in layout.trunks] == [("voip-a", 4), ("voip-b", 2)]
    assert layout.trunks[0].channels == ("PJSIP/voip-a-*",)
    assert Office.lab().layout() == LAB_LAYOUT  # the lab the captures come from
    big = Office.generate(extensions=1000, queues=20)
    assert len(big.users) == 1000 and len(big.queues) == 20


async def test_click_to_call_pjsip_channels() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        names = sorted(c.name for c in pbx.engine.channels.values())
        assert names == ["PJSIP/201-00000000", "PJSIP/202-00000001"]
        a = pbx.engine.channels["PJSIP/201-00000000"]
        assert a.linkedid == a.uniqueid and a.uniqueid.split(".")[1].isdigit()
        b = pbx.engine.channels["PJSIP/202-00000001"]
        assert b.linkedid == a.uniqueid
        # Each side sees the other: caller id / connected line of both channels.
        assert (a.cid_num, a.cid_name, a.conn_num, a.conn_name) == (
            "201",
            "Alice Anders",
            "202",
            "Bob Brown",
        )
        assert (b.cid_num, b.cid_name, b.conn_num, b.conn_name) == (
            "202",
            "Bob Brown",
            "201",
            "Alice Anders",
        )
        assert pbx.hangup("202") == 1
        await until(lambda: not pbx.engine.channels)


async def test_dnd_sends_to_voicemail_and_cf_forwards() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        pbx.set_dnd("203", True)
        assert pbx.office.astdb.get("DND", "203") == "YES"
        assert pbx.engine.device_states["Custom:DND203"] == "BUSY"
        pbx.call("201", "203")
        await until(lambda: any(c.app == "VoiceMail" for c in pbx.engine.channels.values()))
        assert phone_channels(pbx, "203") == []  # never rang
        pbx.hangup("201")
        await until(lambda: not pbx.engine.channels)
        pbx.set_dnd("203", False)
        pbx.set_forward("203", "CF", "205")
        pbx.call("201", "203")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "205")))
        assert phone_channels(pbx, "203") == []


async def test_calling_a_colleague_on_dnd_as_ctibot_does() -> None:
    """Issue 6: Alice on DND, Bob clicks to call her. The Originate's Timeout bounds
    Bob's own phone ringing (originate_no_answer_timeout: Failure, Reason 3); once
    Bob answers, FreePBX's DND rule sends him to Alice's voicemail and her phone
    never rings (dnd_and_cf_astdb): the caller's leg is Up in VoiceMail, not ringing."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        # What ctibot sends for "dnd on" and for "call alice".
        for action in (
            a.with_action_id(a.db_put("DND", "201", "YES"), "dnd"),
            a.with_action_id(a.devstate_change("DND201", "BUSY"), "light"),
        ):
            await client.action(action)
        call = a.originate_call(
            "PJSIP/202", "201", context="from-internal", caller_id=("Bob Brown", "202")
        )
        assert call["Timeout"] == "15000"
        pbx.phone("202").answer_after = None  # Bob does not pick up
        started = pbx.clock.now()
        await client.action(a.with_action_id(call, "c1"))
        failed = await client.wait_for(
            lambda m: m.get("Event") == "OriginateResponse" and m["ActionID"] == "c1", timeout=10
        )
        assert 15 <= pbx.clock.now() - started < 50
        assert (failed["Response"], failed["Reason"], failed["Channel"]) == (
            "Failure",
            "3",
            "PJSIP/202",
        )
        await until(lambda: not pbx.engine.channels)

        pbx.phone("202").answer_after = 1.0  # now he does
        await client.action(a.with_action_id(call, "c2"))
        answered = await client.wait_for(
            lambda m: m.get("Event") == "OriginateResponse" and m["ActionID"] == "c2", timeout=10
        )
        assert (answered["Response"], answered["Reason"]) == ("Success", "4")
        mailbox = await client.wait_for(
            lambda m: m.get("Event") == "Newexten" and m["Application"] == "VoiceMail"
        )
        assert (mailbox["Channel"], mailbox["AppData"]) == (answered["Channel"], "201@default,b")
        assert mailbox["ChannelStateDesc"] == "Up"
        assert not phone_channels(pbx, "201")
        assert not [
            m for m in client.messages if m.get("Event") == "DialBegin" and m.get("Channel")
        ]
        await client.action(a.with_action_id(a.hangup(answered["Channel"]), "h"))
        await until(lambda: not pbx.engine.channels)
        assert not [m for m in client.messages if m.get("Channel", "").startswith("PJSIP/201-")]
        await client.close()


async def test_cfb_on_busy_and_cfu_on_no_answer() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        pbx.phone("203").busy = True
        pbx.set_forward("203", "CFB", "205")
        pbx.call("201", "203")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "205")))
        pbx.hangup("201")
        await until(lambda: not pbx.engine.channels)
        pbx.phone("203").busy = False
        pbx.phone("203").answer_after = None
        pbx.set_forward("203", "CFU", "206")
        pbx.call("201", "203")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "206")))


async def test_inbound_trunk_call_ends_after_talk_time() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        call = pbx.inbound_call("0612345678", "ACME Corp", "5550102", talk=20)
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        trunk_leg = next(c for c in pbx.engine.channels.values() if c.trunk is not None)
        assert trunk_leg.name.startswith("PJSIP/voip-a-")
        assert (trunk_leg.cid_num, trunk_leg.cid_name) == ("0612345678", "ACME Corp")
        assert await asyncio.wait_for(call, 5) == "ANSWER"
        await until(lambda: not pbx.engine.channels)


async def test_trunk_limits_give_congestion() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        a, b = pbx.office.trunks
        in_use = lambda: pbx.engine.trunk_in_use(a) + pbx.engine.trunk_in_use(b)  # noqa: E731
        callers = ("201", "202", "203", "204", "205", "206")
        for placed, ext in enumerate(callers, start=1):
            pbx.call(ext, "0612345678")
            await until(lambda placed=placed: in_use() == placed)
        assert (pbx.engine.trunk_in_use(a), pbx.engine.trunk_in_use(b)) == (4, 2)
        # The seventh caller's phone answers, the dial gets congestion and it is hung up.
        assert await asyncio.wait_for(pbx.call("207", "0612345678"), 2) == "ANSWER"
        hangup = await client.wait_for(
            lambda m: m.get("Event") == "Hangup" and m.get("Channel", "").startswith("PJSIP/207-")
        )
        assert hangup["Cause"] == "34"  # Circuit/channel congestion
        await until(lambda: phone_channels(pbx, "207") == [])
        assert in_use() == 6
        assert all(phone_channels(pbx, ext) for ext in callers)


async def test_queue_ringall_first_answer_wins() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.phone("202").answer_after = None
        pbx.inbound_call("0699887766", "Customer", "5550100")

        # Both phones ring at once: 202's ringing lasts only until 201 answers (one
        # simulated second), so look at the events rather than poll for the state.
        def first(event: str, ext: str, state: str | None = None) -> int:
            return next(
                i for i, m in enumerate(client.messages) if about_phone(m, event, ext, state)
            )

        for ext in ("201", "202"):
            await client.wait_for(lambda m, ext=ext: about_phone(m, "Newstate", ext, "Ringing"))
        await client.wait_for(lambda m: about_phone(m, "BridgeEnter", "201"))
        answered = first("BridgeEnter", "201")
        assert first("Newstate", "201", "Ringing") < answered
        assert first("Newstate", "202", "Ringing") < answered  # both rang before 201 answered
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "201")))
        await until(lambda: not phone_channels(pbx, "202"))  # cancelled
        sales = pbx.office.queues["sales"]
        assert sales.members["Local/201@from-queue/n"].calls_taken == 1
        await client.close()


def stall(pbx: DemoPbx, seconds: float) -> None:
    """Block the event loop for ``seconds`` simulated seconds, as a machine busy with
    other work does: every timer that fell due meanwhile runs in one loop turn."""
    time.sleep(seconds * pbx.clock.scale)


async def test_an_answer_due_with_the_originate_timeout_is_an_answer() -> None:
    """201 answers after 1 s, the Originate gives up after 2 s; the loop gets the CPU
    back only after both: the answer came first and counts (it was lost, and the
    answered channel orphaned with no dialplan, when both ran in one turn)."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        call = a.originate_call("PJSIP/201", "202", context="from-internal", timeout_ms=2000)
        await client.action(a.with_action_id(call, "o"))
        await client.wait_for(lambda m: about_phone(m, "Newstate", "201", "Ringing"))
        stall(pbx, 5)
        reply = await client.wait_for(lambda m: m.get("Event") == "OriginateResponse")
        assert (reply["Response"], reply["Reason"]) == ("Success", "4")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        await client.close()


async def test_queue_members_answering_as_the_queue_times_out_leave_no_orphan() -> None:
    """Both members answer after 1 s; the queue's 15 s ring timeout falls due in the
    same loop turn (a stalled machine): one member takes the call, the other is hung
    up. Before, the answers were missed: the answered member legs were left up with
    nobody and the caller stayed in the queue (completed 0, abandoned 1)."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        sales = pbx.office.queues["sales"]
        client = RawAmiClient()
        await client.login(pbx.port)
        call = pbx.inbound_call("0699887766", "Customer", "5550100", talk=FOREVER)
        for ext in ("201", "202"):
            await client.wait_for(lambda m, ext=ext: about_phone(m, "Newstate", ext, "Ringing"))
        stall(pbx, sales.timeout + 5)
        await until(lambda: any(mb.in_call for mb in sales.members.values()))
        await until(lambda: len(pbx.channels_of("201") + pbx.channels_of("202")) == 1)
        pbx.engine.hangup(_trunk_caller(pbx), 16, soft=True)
        assert await asyncio.wait_for(call, 5) == "ANSWER"
        await until(lambda: not pbx.engine.channels)
        assert (sales.completed, sales.abandoned) == (1, 0)
        await client.close()


def _trunk_caller(pbx: DemoPbx):
    return next(c for c in pbx.engine.channels.values() if c.trunk is not None)


async def test_queue_members_answering_together_leave_no_orphan() -> None:
    """The caller hangs up once an agent has it, not after a fixed time: the queue
    answers the caller first, so a fixed 2 s bet on the 1 s ring under CPU load
    (10 ms of real time at this scale) and lost as an abandoned call."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        sales = pbx.office.queues["sales"]
        # Both members answer after the same 1 s: one wins, the other is hung up.
        call = pbx.inbound_call("0699887766", "Customer", "5550100", talk=FOREVER)
        await until(lambda: any(mb.in_call for mb in sales.members.values()))
        await until(lambda: len(pbx.channels_of("201") + pbx.channels_of("202")) == 1)
        pbx.engine.hangup(_trunk_caller(pbx), 16, soft=True)
        assert await asyncio.wait_for(call, 5) == "ANSWER"
        await until(lambda: not pbx.engine.channels)
        assert (sales.completed, sales.abandoned) == (1, 0)
        assert sum(mb.calls_taken for mb in sales.members.values()) == 1
        assert pbx.engine.hint_state("201") == pbx.engine.hint_state("202") == "NOT_INUSE"


async def test_a_queue_caller_gone_before_any_agent_answers_is_abandoned() -> None:
    """What the busy machine made of the old test, made deterministic: the agents'
    ring outlasts the caller's patience (counted from the queue's answer)."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        for ext in ("201", "202"):
            pbx.phone(ext).answer_after = None
        sales = pbx.office.queues["sales"]
        call = pbx.inbound_call("0699887766", "Customer", "5550100", talk=2)
        assert await asyncio.wait_for(call, 5) == "ANSWER"
        await until(lambda: not pbx.engine.channels)
        assert (sales.completed, sales.abandoned) == (0, 1)
        assert sum(mb.calls_taken for mb in sales.members.values()) == 0
        assert pbx.engine.hint_state("201") == pbx.engine.hint_state("202") == "NOT_INUSE"


async def test_conference_on_800_in_the_field_layout() -> None:
    """FreePBX mode (PJSIP phones): three people dial 800 (ConfBridge): three calls to
    the room, none between the participants, as the conference capture shows."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        for ext in ("201", "202", "203"):
            pbx.call(ext, "800")
        await until(
            lambda: len([m for m in client.messages if m.get("Event") == "ConfbridgeJoin"]) == 3
        )
        room = pbx.engine.dialplan.conferences["800"]
        assert (room.type, room.technology, room.creator, room.name) == (
            "base",
            "softmix",
            "ConfBridge",
            "800",
        )
        inside = [c.name for c in room.channels]
        assert inside[0].startswith("CBAnn/800-") and len(inside) == 4
        for ext in ("201", "202", "203"):
            assert [c.bridge for c in phone_channels(pbx, ext)] == [room]
        assert not [m for m in client.messages if m.get("Event") == "DialBegin" and "Channel" in m]
        for ext in ("201", "202", "203"):
            assert pbx.hangup(ext) == 1
        await client.wait_for(lambda m: m.get("Event") == "ConfbridgeEnd")
        await until(lambda: not pbx.engine.channels)

        def recorded() -> set[str]:
            return {m["Channel"] for m in client.messages if m.get("Event") == "Cdr"}

        await until(lambda: len(recorded()) == 3)
        events = [
            m["Event"] for m in client.messages if m.get("Event", "").startswith("Confbridge")
        ]
        assert events == ["ConfbridgeStart"] + ["ConfbridgeJoin"] * 3 + ["ConfbridgeLeave"] * 3 + [
            "ConfbridgeEnd"
        ]
        cdrs = [m for m in client.messages if m.get("Event") == "Cdr"]
        rooms = {
            (m["Destination"], m["LastApplication"])
            for m in cdrs
            if m["Channel"].startswith("PJSIP/")
        }
        assert rooms == {("800", "ConfBridge")}
        assert "800" not in pbx.engine.dialplan.conferences
        await client.close()


async def test_spy_as_ctibot_sends_it_lasts_until_the_spied_call_ends() -> None:
    """ctibot's spy(): ChanSpy on the exact channel with qS; the supervisor's leg is
    answered, ChanSpyStart, and it ends with the spied call (ChanSpyStop)."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        spied = phone_channels(pbx, "201")[0]
        await client.action(a.with_action_id(a.spy("PJSIP/203", spied.name), "spy"))
        start = await client.wait_for(lambda m: m.get("Event") == "ChanSpyStart")
        assert start["SpyeeChannel"] == spied.name
        spy = pbx.engine.channels[start["SpyerChannel"]]
        assert spy.name.startswith("PJSIP/203-") and spy.state == 6 and spy.app == "ChanSpy"
        assert pbx.hangup("202") == 1
        stop = await client.wait_for(lambda m: m.get("Event") == "ChanSpyStop")
        assert stop["SpyerChannel"] == spy.name
        await until(lambda: not pbx.engine.channels)
        await client.close()


async def test_redirect_transfer_in_the_field_layout() -> None:
    """A transfer done by Redirect (redirect_transfer): 201's channel leaves its bridge
    for from-internal,205; 202's leg ends and 201 talks with 205."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        ours = phone_channels(pbx, "201")[0]
        await client.action(a.with_action_id(a.redirect(ours.name, "205", "from-internal"), "r"))
        await until(lambda: not phone_channels(pbx, "202"))
        await until(lambda: pbx.engine.peer_of(ours) in phone_channels(pbx, "205"))
        leave = await client.wait_for(
            lambda m: m.get("Event") == "BridgeLeave" and m["Channel"] == ours.name
        )
        assert (leave["Context"], leave["Exten"]) == ("from-internal", "205")
        await client.close()


async def test_attended_transfer_to_nobody_gives_the_call_back() -> None:
    """Atxfer to a number that does not exist: the consultation fails, the
    transferee comes off hold and the two talk on in their own bridge."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        ours, theirs = phone_channels(pbx, "201")[0], phone_channels(pbx, "202")[0]
        bridge = ours.bridge
        await client.action(a.with_action_id(a.atxfer(theirs.name, "299", "from-internal"), "x"))
        await client.wait_for(
            lambda m: m.get("Event") == "MusicOnHoldStop" and m["Channel"] == ours.name
        )
        await until(
            lambda: not [c for c in pbx.engine.channels.values() if "@from-internal-" in c.name]
        )
        assert ours.bridge is bridge and theirs.bridge is bridge
        assert pbx.engine.peer_of(ours) is theirs
        assert not [m for m in client.messages if m.get("Event") == "AttendedTransfer"]
        await client.close()


async def test_park_and_pickup_over_ami() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)  # the parked call must wait for 203, not time out in 0.45 s
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        ours = next(c for c in phone_channels(pbx, "201"))
        theirs = next(c for c in phone_channels(pbx, "202"))
        await client.action(
            {"Action": "Park", "ActionID": "p", "Channel": ours.name, "TimeoutChannel": theirs.name}
        )
        parked = await client.wait_for(lambda m: m.get("Event") == "ParkedCall")
        assert parked["ParkingSpace"] == "701" and parked["ParkeeChannel"] == ours.name
        await until(lambda: not phone_channels(pbx, "202"))  # hung up after the announcement
        pbx.call("203", "701")
        unparked = await client.wait_for(lambda m: m.get("Event") == "UnParkedCall")
        assert unparked["ParkeeChannel"] == ours.name
        assert unparked["RetrieverChannel"].startswith("PJSIP/203-")
        await client.action({"Action": "ParkedCalls", "ActionID": "l"})
        assert not [
            m
            for m in client.messages
            if m.get("ActionID") == "l" and m.get("Event") == "ParkedCall"
        ]
        await client.close()


async def test_blind_transfer_to_700_parks_the_caller() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)  # no parking timeout ringing 202 again before we look
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.inbound_call("0612345678", "ACME Corp", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        ours = phone_channels(pbx, "202")[0]
        caller = pbx.engine.peer_of(ours)
        await client.action(
            {"Action": "BlindTransfer", "ActionID": "b", "Channel": ours.name, "Exten": "700"}
        )
        parked = await client.wait_for(lambda m: m.get("Event") == "ParkedCall")
        assert (parked["ParkeeChannel"], parked["ParkingSpace"]) == (caller.name, "701")
        assert parked["ParkeeCallerIDNum"] == "0612345678"
        await until(lambda: not phone_channels(pbx, "202"))
        await client.close()


async def test_voicemail_and_feature_codes() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.leave_voicemail("203")
        mwi = await client.wait_for(lambda m: m.get("Event") == "MessageWaiting")
        assert (mwi["Mailbox"], mwi["New"]) == ("203@default", "1")
        pbx.press("206", "*78")
        await until(lambda: pbx.office.astdb.get("DND", "206") == "YES")
        pbx.press("206", "*79")
        await until(lambda: pbx.office.astdb.get("DND", "206") is None)
        # DND lights Custom:DND206, part of FreePBX's hint: the extension is Busy.
        start = len(client.messages)
        pbx.set_dnd("206", True)
        busy = await client.wait_for(
            lambda m: m.get("Event") == "ExtensionStatus" and m.get("Exten") == "206",
            start=start,
        )
        assert (busy["Hint"], busy["StatusText"]) == ("PJSIP/206&Custom:DND206", "Busy")
        pbx.set_registered("204", False)
        device = await client.wait_for(
            lambda m: m.get("Event") == "DeviceStateChange" and m.get("Device") == "PJSIP/204"
        )
        assert device["State"] == "UNAVAILABLE"
        # Asterisk aggregates PJSIP/204 (UNAVAILABLE) with Custom:DND204 (NOT_INUSE):
        # the FreePBX hint stays Idle.
        assert pbx.engine.hint_state("204") == "NOT_INUSE"
        await client.close()


async def test_hold_and_answer_helpers() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.phone("202").answer_after = None
        pbx.call("201", "202")
        await until(lambda: pbx.channels_of("202"))
        assert pbx.answer("202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        assert pbx.hold("202") == 1
        held = await client.wait_for(
            lambda m: m.get("Event") == "ExtensionStatus" and m.get("Status") == "16"
        )
        assert held["Exten"] == "202"
        pbx.hold("202", False)
        await client.wait_for(lambda m: m.get("Event") == "Unhold")
        await client.close()


async def test_unregistered_phone_with_a_plain_hint_is_unavailable() -> None:
    async with DemoPbx(Office(hint_template="{device}"), time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.set_registered("204", False)
        status = await client.wait_for(
            lambda m: m.get("Event") == "ExtensionStatus" and m.get("Exten") == "204"
        )
        assert (status["Hint"], status["StatusText"]) == ("PJSIP/204", "Unavailable")
        pbx.call("201", "204")  # an unreachable phone: the caller goes to voicemail
        await until(lambda: any(c.app == "VoiceMail" for c in pbx.engine.channels.values()))
        await client.close()


async def test_fault_drop_connections_keeps_calls() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)  # the call outlives the reconnect however slow the machine
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        await pbx.drop_connections()
        await asyncio.wait_for(client.closed.wait(), 5)
        assert len(pbx.engine.channels) == 2
        again = RawAmiClient()
        await again.login(pbx.port)
        await again.action({"Action": "CoreShowChannels", "ActionID": "c"})
        items = [m for m in again.messages if m.get("Event") == "CoreShowChannel"]
        assert len(items) == 2
        await again.close()


async def test_fault_freeze_is_half_open() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.freeze(True)
        client.send({"Action": "Ping", "ActionID": "p1"})
        with pytest.raises(TimeoutError):
            await client.wait_for(lambda m: m.get("ActionID") == "p1", timeout=0.3)
        assert not client.closed.is_set()
        pbx.freeze(False)
        await client.wait_for(lambda m: m.get("ActionID") == "p1", timeout=5)
        await client.close()


async def test_fault_restart_shutdown_then_fullybooted() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client = RawAmiClient()
        await client.login(pbx.port)
        pbx.call("201", "202")
        await until(lambda: any(c.bridge for c in phone_channels(pbx, "202")))
        # 2 s real: the refused connection below must still fall in the down time
        # after the close reached us, even on a loaded machine.
        restart = asyncio.create_task(pbx.restart(down_for=200))
        await client.wait_for(lambda m: m.get("Event") == "Shutdown")
        await asyncio.wait_for(client.closed.wait(), 5)
        await asyncio.sleep(0.05)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", pbx.port)
        await restart
        again = RawAmiClient()
        await again.login(pbx.port)
        await again.wait_for(lambda m: m.get("Event") == "FullyBooted")
        await again.action({"Action": "CoreShowChannels", "ActionID": "c"})
        assert len([m for m in again.messages if m.get("Event") == "CoreShowChannel"]) == 2
        await again.close()


async def test_fault_inject_raw_bytes() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        before = len(client.raw)
        junk = b"\xff\xfegarbage\r\n\r\nEvent: Trunc"
        await pbx.inject(junk)
        await until(lambda: len(client.raw) >= before + len(junk))
        assert junk in client.raw
        await pbx.inject(b"x" * (1 << 20))
        await until(lambda: len(client.raw) >= before + len(junk) + (1 << 20))
        await client.close()


async def test_seed_200_calls_and_list_them_fast() -> None:
    office = Office.generate(extensions=1000, queues=20)
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        # CPU time of this process (the demo and the client both run here): what the
        # listing costs, not how much of the CPU other jobs of a loaded machine took.
        t0 = time.process_time()
        assert await pbx.seed_calls(200) == 200
        client = RawAmiClient()
        await client.login(pbx.port)
        await client.action({"Action": "CoreShowChannels", "ActionID": "c"})
        await client.action({"Action": "ExtensionStateList", "ActionID": "x"})
        await client.action({"Action": "QueueStatus", "ActionID": "q"})
        elapsed = time.process_time() - t0
        items = [m for m in client.messages if m.get("Event") == "CoreShowChannel"]
        assert len(items) == 400
        assert elapsed < 2.0, elapsed
        await client.close()


@pytest.mark.parametrize("lab", [False, True])
async def test_background_traffic_is_bounded_and_settles(lab: bool) -> None:
    office = Office.lab() if lab else Office()
    async with DemoPbx(office, time_scale=0.005, traffic=1.0) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        peak = samples = 0
        # At least 30 samples 30 ms apart, and (bounded) until some traffic was seen:
        # every sample is checked against the bound.
        async with asyncio.timeout(10):
            while samples < 30 or peak == 0:
                await asyncio.sleep(0.03)
                samples += 1
                peak = max(peak, len({c.linkedid for c in pbx.engine.channels.values()}))
        assert 0 < peak <= 6
        pbx.set_traffic(0)
        await until(lambda: not pbx.engine.channels)
        busy = {
            d: s
            for d, s in pbx.engine.device_states.items()
            if s != "NOT_INUSE" and not d.startswith(("Custom:DND", "MWI:", "park:", "Queue:"))
        }
        assert busy == {}  # no phone left ringing or in use
        assert unknown_field_orders(split_raw(client.raw), field_templates()) == []
        await client.close()
    assert all(task.done() for task in pbx.engine.tasks)
