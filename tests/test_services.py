"""Stories of the service layer against the demo PBX: calls, DND, forwards, queues, refusals."""

from __future__ import annotations

import pytest

from ctibot.pbx.events import DndChanged
from ctibot.services import (
    BadArgument,
    NotFound,
    NothingToDo,
    PbxUnavailable,
    PermissionDenied,
)

from harness import SCALE, ring_forever, ringing_at
from services_fixtures import Office


async def answered_call(o: Office, src: str, dst: str) -> None:
    """``src`` calls ``dst`` from ctibot and ``dst`` answers."""
    await o.services.calls.call(o.users[src], dst)
    await o.until(lambda: any(c.answered_at for c in o.harness.state.calls.values()))


# -- calls ---------------------------------------------------------------------------


async def test_alice_calls_202_her_phone_rings_first_then_bob(office: Office) -> None:
    alice = office.users["alice"]
    ring_forever(office.pbx, "202")  # bob lets it ring
    result = await office.services.calls.call(alice, "202")
    assert result.destination == "202" and result.name == "Bob Brown"
    (originate,) = office.ami.of("Originate")
    assert originate["Channel"] == "PJSIP/201"
    assert originate["Exten"] == "202" and originate["Context"] == "from-internal"
    assert originate["CallerID"] == '"Alice Anders" <201>'
    assert originate["Async"] == "true"
    await office.until(lambda: ringing_at(office.harness.state, "202"))


async def test_call_by_name_and_international_number(office: Office) -> None:
    alice = office.users["alice"]
    assert (await office.services.calls.call(alice, "bob")).destination == "202"
    assert (await office.services.calls.call(alice, "Carol Clark")).destination == "203"
    assert (
        await office.services.calls.call(alice, "+39 06 1234 5678")
    ).destination == "00390612345678"


async def test_call_refusals(office: Office) -> None:
    alice, dave = office.users["alice"], office.users["dave"]
    with pytest.raises(NotFound):
        await office.services.calls.call(alice, "nobody-here")
    with pytest.raises(BadArgument):
        await office.services.calls.call(alice, "201")  # herself
    with pytest.raises((BadArgument, NotFound)):
        await office.services.calls.call(alice, "202\r\nAction: Command")
    with pytest.raises(PermissionDenied) as refused:
        await office.services.calls.hangup(dave)
    assert refused.value.params == {"permission": "hangup"}
    assert office.ami.of("Originate") == [] and office.ami.of("Hangup") == []


async def test_hangup_without_a_call_is_nothing_to_do(office: Office) -> None:
    with pytest.raises(NothingToDo):
        await office.services.calls.hangup(office.users["alice"])


async def test_alice_hangs_up_her_call_with_bob(office: Office) -> None:
    alice = office.users["alice"]
    await answered_call(office, "alice", "202")
    result = await office.services.calls.hangup(alice)
    assert result.party == "202"
    (hangup,) = office.ami.of("Hangup")
    assert hangup["Channel"].startswith("PJSIP/201-")
    await office.until(lambda: not office.harness.state.calls)


async def test_alice_transfers_bob_to_carol(office: Office) -> None:
    alice = office.users["alice"]
    await answered_call(office, "alice", "202")
    result = await office.services.calls.transfer(alice, "carol")
    assert result.destination == "203" and result.party == "202"
    (transfer,) = office.ami.of("BlindTransfer")
    assert transfer["Channel"].startswith("PJSIP/201-") and transfer["Exten"] == "203"
    state = office.harness.state
    await office.until(lambda: state.extensions["203"].status in ("ringing", "busy"))


async def test_park_then_pickup_from_another_phone(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    await answered_call(office, "alice", "202")
    # park() waits 1 s (its default) for the PBX to name the slot: more on a loaded
    # machine, so that the slot below is the PBX's answer and not a timeout's None.
    office.services.calls.park_confirm = 10.0
    parked = await office.services.calls.park(alice)
    (park,) = office.ami.of("Park")
    assert park["Channel"].startswith("PJSIP/202-") and park["TimeoutChannel"].startswith(
        "PJSIP/201-"
    )
    assert parked.destination is not None and parked.destination in office.harness.state.parkings
    await office.services.calls.pickup(carol, parked.destination)
    (pickup,) = office.ami.of("Originate")[1:]
    assert pickup["Channel"] == "PJSIP/203" and pickup["Exten"] == parked.destination
    await office.until(lambda: parked.destination not in office.harness.state.parkings)
    with pytest.raises(NotFound):
        await office.services.calls.pickup(carol, "719")


async def test_record_start_pause_resume_stop(office: Office) -> None:
    alice = office.users["alice"]
    await answered_call(office, "alice", "202")
    state = office.harness.state

    def call():
        return next(iter(state.calls.values()))

    await office.services.calls.record(alice, "start")
    (mix,) = office.ami.of("MixMonitor")
    assert mix["File"].startswith("ctibot-") and mix["File"].endswith("-201.wav")
    await office.until(lambda: call().recording)
    with pytest.raises(NothingToDo):
        await office.services.calls.record(alice, "start")
    await office.services.calls.record(alice, "pause")
    await office.until(lambda: call().recording_paused)
    await office.services.calls.record(alice, "resume")
    await office.until(lambda: not call().recording_paused)
    await office.services.calls.record(alice, "stop")
    await office.until(lambda: not call().recording)
    assert [a["State"] for a in office.ami.of("MixMonitorMute")] == ["1", "0"]


async def test_spy_needs_permission_and_a_call(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    with pytest.raises(PermissionDenied):
        await office.services.calls.spy(alice, "202")
    with pytest.raises(NothingToDo):
        await office.services.calls.spy(carol, "202")
    await answered_call(office, "alice", "202")
    await office.services.calls.spy(carol, "bob", "whisper")
    (spy,) = office.ami.of("Originate")[1:]
    assert spy["Channel"] == "PJSIP/203" and spy["Application"] == "ChanSpy"
    assert spy["Data"].startswith("PJSIP/202-") and spy["Data"].endswith(",wqS")


# -- DND and forwards ------------------------------------------------------------------


async def test_dnd_on_sets_astdb_blf_and_state_at_once(office: Office) -> None:
    carol = office.users["carol"]
    result = await office.services.phone.set_dnd(carol, True)
    assert result.changed == ("203", "207")
    astdb = office.pbx.office.astdb
    assert astdb.get("DND", "203") == "YES" and astdb.get("DND", "207") == "YES"
    assert office.ext("203").dnd and office.ext("207").dnd  # no wait: visible at once
    # ...and presence hears of it on the bus like any PBX change.
    changes = office.harness.of(DndChanged)
    assert [(e.extension, e.dnd) for e in changes] == [("203", True), ("207", True)]
    assert any(a.get("Command") == "devstate change Custom:DND203 BUSY" for a in office.ami.sent)
    # Compare before write: a second "on" writes nothing.
    before = len(office.ami.sent)
    again = await office.services.phone.set_dnd(carol, True)
    assert again.changed == () and len(office.ami.sent) == before
    await office.services.phone.set_dnd(carol, False)
    assert astdb.get("DND", "203") is None and not office.ext("207").dnd


async def test_dnd_set_on_the_phone_is_respected(office: Office) -> None:
    office.pbx.set_dnd("201", True)
    await office.until(lambda: office.ext("201").dnd)
    result = await office.services.phone.set_dnd(office.users["alice"], True)
    assert result.unchanged == ("201",) and office.ami.of("DBPut") == []


async def test_forward_to_voicemail_mobile_number_and_off(office: Office) -> None:
    carol = office.users["carol"]
    astdb = office.pbx.office.astdb
    await office.services.phone.set_forward(carol, "unconditional", "voicemail")
    assert astdb.get("CF", "203") == "vmu203" and astdb.get("CF", "207") == "vmu203"
    assert office.ext("207").forward["unconditional"] == "vmu203"
    await office.services.phone.set_forward(carol, "busy", "mobile")
    assert astdb.get("CFB", "203") == "00393331234567"
    await office.services.phone.set_forward(carol, "noanswer", "0612345678", timeout=20)
    assert astdb.get("CFU", "203") == "0612345678"
    assert astdb.get("AMPUSER", "203/ringtimer") == "20"
    await office.services.phone.set_forward(carol, "unconditional", None)
    assert astdb.get("CF", "203") is None and office.ext("203").forward["unconditional"] is None
    with pytest.raises(BadArgument):
        await office.services.phone.set_forward(
            office.users["alice"], "busy", "mobile"
        )  # no mobile
    with pytest.raises(BadArgument):
        await office.services.phone.set_forward(carol, "busy", "555", timeout=20)
    with pytest.raises(BadArgument):
        await office.services.phone.set_forward(carol, "unconditional", "12,3&Local/9")


# -- queues ----------------------------------------------------------------------------


async def test_queue_login_sales_adds_a_dynamic_member(office: Office) -> None:
    carol = office.users["carol"]
    result = await office.services.queues.queue_login(carol, "sales")
    assert result.changed == ("sales",)
    (add,) = office.ami.of("QueueAdd")
    assert add["Interface"] == "Local/203@from-queue/n"
    assert add["StateInterface"] == "hint:203@ext-local"
    assert add["MemberName"] == "Carol Clark" and add["Penalty"] == "0"
    assert office.pbx.queue_log[-1][2:5] == ("sales", "Local/203@from-queue/n", "ADDMEMBER")
    state = office.harness.state
    await office.until(lambda: "203" in state.queues["sales"].members)
    assert state.queues["sales"].members["203"].dynamic
    await office.services.queues.queue_pause(carol, "lunch break")
    await office.until(lambda: state.queues["sales"].members["203"].paused)
    assert state.queues["sales"].members["203"].reason == "lunch break"
    await office.services.queues.queue_resume(carol)
    await office.until(lambda: not state.queues["sales"].members["203"].paused)
    await office.services.queues.queue_logout(carol)
    await office.until(lambda: "203" not in state.queues["sales"].members)
    assert office.pbx.queue_log[-1][4] == "REMOVEMEMBER"


async def test_queue_login_all_uses_the_qpenalty_agents(office: Office) -> None:
    office.pbx.office.astdb.put("QPENALTY/support/agents", "205", "2")
    eve = office.users["eve"]
    result = await office.services.queues.queue_login(eve)
    assert result.changed == ("support",)
    assert office.ami.of("QueueAdd")[0]["Penalty"] == "2"
    with pytest.raises(NothingToDo):
        await office.services.queues.queue_login(office.users["alice"])  # no dynamic queue
    with pytest.raises(NothingToDo):
        await office.services.queues.queue_logout(office.users["alice"], "sales")  # static member
    with pytest.raises(NotFound):
        await office.services.queues.queue_login(eve, "nosuchqueue")


# -- information -------------------------------------------------------------------------


async def test_status_who_calls_whoami(office: Office) -> None:
    alice, bob = office.users["alice"], office.users["bob"]
    office.pbx.set_dnd("202", True)
    await office.until(lambda: office.ext("202").dnd)
    await answered_call(office, "alice", "203")
    status = await office.services.info.status(alice)
    assert [p.extension for p in status.phones] == ["201"]
    assert [q.queue for q in status.queues] == ["sales"]
    assert status.calls and status.calls[0].party == "203"
    who = {p.name: p for p in await office.services.info.who(alice)}
    assert who["bob"].presence == "dnd" and who["alice"].phone == "busy"
    assert [p.name for p in await office.services.info.who(alice, "bob")] == ["bob"]
    await office.services.calls.hangup(alice)
    await office.until(lambda: office.harness.state.recent_calls)
    (line,) = await office.services.info.recent_calls(alice)
    assert line.direction == "out" and line.party == "203" and line.answered
    me = await office.services.info.whoami(bob)
    assert me.language == "it" and "call" in me.permissions


async def test_recent_calls_come_from_the_history_store_when_there_is_one(office: Office) -> None:
    class History:
        async def calls_of(self, extensions: list[str], limit: int) -> list[dict]:
            self.asked = (extensions, limit)
            return [{"id": "1.1", "from": "0612", "to": "201", "answered": False, "duration": 0}]

    history = History()
    office.services.history = history
    (line,) = await office.services.info.recent_calls(office.users["alice"])
    # More rows than are shown: the store's order is not the order (newest first).
    assert history.asked[0] == ["201"] and history.asked[1] >= 10
    assert line.direction == "in" and line.party == "0612" and not line.answered


async def test_every_action_says_the_pbx_is_unreachable_when_it_is(office: Office) -> None:
    await office.harness.client.stop()
    alice, carol = office.users["alice"], office.users["carol"]
    for attempt in (
        office.services.calls.call(alice, "202"),
        office.services.calls.hangup(alice),
        office.services.phone.set_dnd(alice, True),
        office.services.phone.set_forward(alice, "unconditional", "voicemail"),
        office.services.queues.queue_login(carol, "sales"),
        office.services.queues.queue_pause(alice),
        office.services.calls.pickup(alice, "701"),
        office.services.info.status(alice),
        office.services.info.who(alice),
    ):
        with pytest.raises(PbxUnavailable):
            await attempt
    assert (await office.services.info.whoami(alice)).name == "alice"
    assert SCALE  # the demo runs at 1/20 of real time


async def test_automatic_queue_login_follows_xmpp_presence(office: Office) -> None:
    from dataclasses import replace

    office.pbx.office.astdb.put("QPENALTY/support/agents", "205", "0")
    eve = office.users["eve"]
    assert await office.services.queues.queue_presence(eve, True) is None  # setting off
    eve = replace(eve, auto_queue_login=True)
    result = await office.services.queues.queue_presence(eve, True)
    assert result is not None and result.changed == ("support",)
    queues = office.harness.state.queues
    await office.until(lambda: "205" in queues["support"].members)
    assert await office.services.queues.queue_presence(eve, True) is not None  # already in: no add
    assert len(office.ami.of("QueueAdd")) == 1
    result = await office.services.queues.queue_presence(eve, False)
    assert result is not None and result.changed == ("support",)
    await office.until(lambda: "205" not in queues["support"].members)
    assert await office.services.queues.queue_presence(eve, False) is None
