"""Replaying the real Asterisk 20 captures: the state and its domain events tell what happened."""

from __future__ import annotations

import json

import pytest

from ctibot.pbx.events import (
    CallAnswered,
    CallEnded,
    CallParked,
    CallRecordingChanged,
    CallRinging,
    CallUnparked,
    DndChanged,
    ExtensionStatusChanged,
    ForwardChanged,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
    VoicemailCountChanged,
)
from ctibot.pbx.framing import AmiFramer
from ctibot.pbx.layout import LAB_LAYOUT
from ctibot.pbx.state import PbxState
from tests.conftest import CAPTURE_NAMES, capture_bytes, replay_capture


def records(replay):
    return [e.record for e in replay.of(CallEnded) if e.record.merged_into is None]


def assert_all_quiet(state):
    """No call, channel or ringing left behind, and every phone seen is idle."""
    snap = state.snapshot()
    assert snap["calls"] == []
    assert state.channels == {}
    assert state.consistency_errors() == []
    for number, ext in snap["extensions"].items():
        assert ext["status"] in ("idle", "unknown"), (number, ext["status"])
    for trunk in snap["trunks"].values():
        assert trunk["channels_in_use"] == 0
        assert trunk["calls"] == 0


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_every_capture_replays_into_a_sound_json_state(name):
    replay = replay_capture(name)
    assert replay.state.consistency_errors() == []
    json.dumps(replay.state.snapshot())
    json.dumps([e.as_dict() for e in replay.events])
    for ended in replay.of(CallEnded):
        assert "from" in ended.as_dict()["record"]


def test_inbound_call_on_a_did_reaches_202_for_about_three_seconds():
    replay = replay_capture("inbound_call_did")
    (ringing,) = replay.of(CallRinging)
    assert (ringing.extension, ringing.caller_number, ringing.caller_name) == (
        "202",
        "0612345678",
        "ACME Corp",
    )
    assert ringing.direction == "inbound"
    (answered,) = replay.of(CallAnswered)
    assert answered.answered_by == "202"
    (record,) = records(replay)
    assert (record.from_, record.from_name, record.to) == ("0612345678", "ACME Corp", "202")
    assert record.direction == "inbound"
    assert record.answered and record.answered_by == "202"
    assert record.did == "5550102"
    assert abs(record.duration - 3) <= 1
    snap = replay.state.snapshot()
    assert snap["recent_calls"][0]["from"] == "0612345678"
    assert snap["recent_calls"][0]["duration"] == record.duration
    assert snap["extensions"]["202"]["status"] == "idle"
    assert_all_quiet(replay.state)


def watch(name, kinds, look):
    """Replay ``name`` and call ``look(state, event)`` after each event of ``kinds``."""
    state = PbxState.for_replay(LAB_LAYOUT)
    seen = []
    for msg in AmiFramer().feed(capture_bytes(name)):
        for event in state.apply(msg):
            if isinstance(event, kinds):
                seen.append(look(state, event))
    return seen


def test_inbound_call_while_it_rings_and_talks():
    def look(state, event):
        (call,) = state.snapshot()["calls"]
        return type(event).__name__, call["state"], call["from"], call["to"], call["direction"]

    assert watch("inbound_call_did", (CallRinging, CallAnswered), look) == [
        ("CallRinging", "ringing", "0612345678", "202", "inbound"),
        ("CallAnswered", "up", "0612345678", "202", "inbound"),
    ]
    statuses = watch("inbound_call_did", ExtensionStatusChanged, lambda s, e: e.status)
    assert statuses == ["ringing", "busy", "idle"]


def test_click_to_call_201_to_202_is_an_internal_answered_call():
    replay = replay_capture("originate_answer_hangup")
    assert [e.extension for e in replay.of(CallRinging)] == ["201", "202"]
    (record,) = records(replay)
    assert (record.from_, record.to, record.direction) == ("201", "202", "internal")
    assert record.answered and record.answered_by == "202"
    assert abs(record.duration - 3) <= 1
    assert record.start <= record.answer <= record.end
    assert_all_quiet(replay.state)


@pytest.mark.parametrize("name", ["originate_failure", "originate_no_answer_timeout"])
def test_failed_click_to_calls_leave_nothing_ringing(name):
    replay = replay_capture(name)
    ended = records(replay)
    assert ended, "each attempt that created channels is a call that ended"
    assert all(not r.answered and r.duration == 0 for r in ended)
    assert all(r.from_ == "201" for r in ended)
    assert replay.of(CallAnswered) == []
    assert_all_quiet(replay.state)


def test_queue_members_login_pause_penalty_logout():
    replay = replay_capture("queue_members")
    changes = [(e.member, e.change) for e in replay.of(QueueMemberChanged) if e.member == "203"]
    assert changes == [
        ("203", "added"),
        ("203", "paused"),
        ("203", "unpaused"),
        ("203", "penalty"),
        ("203", "removed"),
    ]
    added, paused, *_ = (e for e in replay.of(QueueMemberChanged) if e.member == "203")
    assert added.dynamic and not added.paused
    assert paused.paused and paused.reason == "Lunch"
    penalty = next(e for e in replay.of(QueueMemberChanged) if e.change == "penalty")
    assert penalty.penalty == 2
    members = replay.state.snapshot()["queues"]["sales"]["members"]
    assert "203" not in members
    assert set(members) == {"201", "202"}
    assert not members["201"]["dynamic"]


def test_queue_call_answered_by_201_talk_time_excludes_the_wait():
    replay = replay_capture("queue_call")
    (joined,) = replay.of(QueueCallerJoined)
    assert (joined.queue, joined.caller_number) == ("sales", "0699887766")
    assert replay.of(QueueCallerLeft)[0].queue == "sales"
    rang = {e.extension for e in replay.of(CallRinging)}
    assert rang == {"201", "202"}
    assert all(e.queue == "sales" for e in replay.of(CallRinging))
    (answered,) = replay.of(CallAnswered)
    assert answered.answered_by == "201" and answered.queue == "sales"
    (record,) = records(replay)
    assert record.answered_by == "201" and record.queue == "sales"
    assert record.direction == "inbound" and record.from_ == "0699887766"
    # The caller waited about 3 s in the queue, then talked about 3 s.
    assert abs(record.wait - 3) <= 1
    assert abs(record.duration - 3) <= 1
    assert record.duration < (record.end - record.start)
    queue = replay.state.snapshot()["queues"]["sales"]
    assert queue["answered"] == 1 and queue["abandoned"] == 0 and queue["waiting"] == 0
    assert_all_quiet(replay.state)


def test_queue_call_shows_a_waiting_caller_while_it_rings():
    def look(state, event):
        queue = state.snapshot()["queues"]["sales"]
        return queue["waiting"], queue["callers"][0]["number"]

    assert watch("queue_call", CallRinging, look) == [(1, "0699887766"), (1, "0699887766")]


def test_park_and_pickup_701_taken_then_free_and_203_picked_up():
    replay = replay_capture("park_and_pickup")
    (parked,) = replay.of(CallParked)
    assert (parked.slot, parked.from_, parked.parked_by) == ("701", "201", "202")
    (unparked,) = replay.of(CallUnparked)
    assert (unparked.slot, unparked.picked_up_by, unparked.reason) == ("701", "203", "pickup")
    assert replay.state.snapshot()["parkings"] == {}
    (record,) = records(replay)
    assert record.from_ == "201" and record.answered_by == "202"
    assert record.picked_up_by == "203" and record.ended_with == "203"
    assert_all_quiet(replay.state)


def test_park_shows_the_slot_while_parked():
    slots = watch("park_and_pickup", CallParked, lambda state, e: state.snapshot()["parkings"])
    assert slots == [
        {
            "701": {
                "from": "201",
                "from_name": "Alice Anders",
                "parked_by": "202",
                "call_id": "1795638188.30",
                "lot": "default",
                "parked_at": slots[0]["701"]["parked_at"],
                "timeout": 45,
            }
        }
    ]


def test_dnd_and_forward_from_astdb_and_feature_codes():
    replay = replay_capture("dnd_and_cf_astdb")
    dnd = [(e.extension, e.dnd) for e in replay.of(DndChanged)]
    # DBPut/DBDel on 203 (told by the client), then *78 / *79 from 206 (Custom:DND206).
    assert dnd == [("203", True), ("203", False), ("206", True), ("206", False)]
    forwards = [(e.extension, e.kind, e.destination) for e in replay.of(ForwardChanged)]
    assert forwards == [("203", "unconditional", "205"), ("203", "unconditional", None)]
    # The call to 203 while forwarded to 205 rang and was answered at 205.
    forwarded = [r for r in records(replay) if r.answered]
    assert [(r.from_, r.answered_by) for r in forwarded] == [("204", "205")]
    extensions = replay.state.snapshot()["extensions"]
    assert not extensions["203"]["dnd"] and not extensions["206"]["dnd"]
    assert extensions["203"]["forward"] == {"unconditional": None, "busy": None, "noanswer": None}
    assert_all_quiet(replay.state)


def test_dnd_read_back_with_dbget_is_seen_without_the_client():
    replay = replay_capture("dnd_and_cf_astdb", client=False)
    # DBGet / DBGetTree answers carry the value; DBDel is invisible without the client.
    assert ("203", True) in [(e.extension, e.dnd) for e in replay.of(DndChanged)]


def test_blind_transfer_201_ends_up_talking_with_204():
    replay = replay_capture("blind_transfer")
    assert [e.extension for e in replay.of(CallRinging)] == ["201", "202", "204"]
    (record,) = records(replay)
    assert (record.from_, record.answered_by, record.ended_with) == ("201", "202", "204")
    assert record.transferred and record.transfers == ("204",)
    assert_all_quiet(replay.state)


def test_mixmonitor_recording_on_paused_resumed_stopped():
    replay = replay_capture("mixmonitor")
    steps = [(e.recording, e.paused) for e in replay.of(CallRecordingChanged)]
    assert steps == [(True, False), (True, True), (True, False), (False, False)]
    (record,) = records(replay)
    assert record.recorded and record.answered_by == "202"
    assert_all_quiet(replay.state)


def test_extension_state_list_then_204_through_every_state():
    replay = replay_capture("extension_state_list")
    statuses = [e.status for e in replay.of(ExtensionStatusChanged) if e.extension == "204"]
    assert statuses == ["idle", "busy", "unavailable", "ringing", "onhold", "idle"]
    snap = replay.state.snapshot()
    assert {n: e["status"] for n, e in snap["extensions"].items()} == dict.fromkeys(
        ("201", "202", "203", "204", "205", "206"), "idle"
    )
    # The *76<ext> DND hints are not extensions.
    assert not any(n.startswith("*") for n in snap["extensions"])
    assert not any(e["dnd"] for e in snap["extensions"].values())


def test_voicemail_203_gets_one_new_message_then_none():
    replay = replay_capture("voicemail_mwi")
    counts = [(e.mailbox, e.new, e.old) for e in replay.of(VoicemailCountChanged)]
    assert counts == [("203", 1, 0), ("203", 0, 0)]
    assert replay.state.snapshot()["mailboxes"] == {"203": {"new": 0, "old": 0}}
    assert_all_quiet(replay.state)


def test_core_show_channels_live_events_follow_two_calls():
    replay = replay_capture("core_show_channels")
    ended = sorted((r.from_, r.to, r.direction) for r in records(replay))
    assert ended == [("201", "202", "internal"), ("203", "0612345678", "outbound")]
    assert_all_quiet(replay.state)


def test_loadtest_fifty_outbound_calls_all_end():
    replay = replay_capture("loadtest_50_calls")
    ended = records(replay)
    assert len(ended) == 50
    assert all(r.direction == "outbound" and r.answered for r in ended)
    assert {r.to for r in ended} == {f"06123450{i:02d}" for i in range(50)}
    assert {r.from_ for r in ended} == {f"07000000{i:02d}" for i in range(50)}
    snap = replay.state.snapshot()
    assert len(snap["recent_calls"]) == 50
    assert_all_quiet(replay.state)


def test_loadtest_trunk_counts_calls_in_transit():
    state = PbxState.for_replay(LAB_LAYOUT)
    peak = 0
    for msg in AmiFramer().feed(capture_bytes("loadtest_50_calls")):
        state.apply(msg)
        if msg.get("Event") == "BridgeEnter":
            peak = max(peak, state.snapshot()["trunks"]["pstn-sim"]["calls"])
    assert peak > 1


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_feeding_one_byte_at_a_time_gives_the_same_state(name):
    whole = replay_capture(name)
    bytewise = replay_capture(name, chunk=1)
    assert bytewise.state.snapshot() == whole.state.snapshot()
    assert bytewise.events == whole.events
