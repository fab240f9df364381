"""Field-style PBX (PJSIP phones, FreePBX hints): statuses, DND, time, hostile caller IDs."""

from __future__ import annotations

import json

from ctibot.pbx.events import (
    CallEnded,
    CallRinging,
    CallStateChanged,
    DndChanged,
    ExtensionStatusChanged,
    ForwardChanged,
)
from ctibot.pbx.layout import PbxLayout, TrunkSpec
from ctibot.pbx.model import Device
from ctibot.pbx.state import PbxState, ReplayClock, ResyncData
from ctibot.pbx.state_time import CdrTimes, iso, uniqueid_epoch

FIELD = PbxLayout(
    extensions=("201", "202", "203"),
    trunks=(TrunkSpec("voip-a", ("PJSIP/voip-a-*",), 10),),
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def device(state, name, value):
    return state.apply({"Event": "DeviceStateChange", "Device": name, "State": value})


def statuses(events):
    return [(e.extension, e.status) for e in events if isinstance(e, ExtensionStatusChanged)]


def test_status_takes_the_most_significant_device():
    state = PbxState(FIELD)
    assert statuses(device(state, "PJSIP/201", "NOT_INUSE")) == [("201", "idle")]
    assert statuses(device(state, "PJSIP/201", "NOT_INUSE")) == []
    # A second phone of the same extension (here set by hand: the layout knows one).
    state.extensions["201"].devices["PJSIP/201-mobile"] = Device(
        "PJSIP/201-mobile", "UNAVAILABLE", 1
    )
    assert statuses(device(state, "PJSIP/201", "RINGING")) == [("201", "ringing")]
    assert state.snapshot()["extensions"]["201"]["devices"] == {
        "PJSIP/201": "RINGING",
        "PJSIP/201-mobile": "UNAVAILABLE",
    }
    assert statuses(device(state, "PJSIP/201", "ONHOLD")) == [("201", "onhold")]
    assert statuses(device(state, "PJSIP/201", "INUSE")) == [("201", "busy")]
    assert statuses(device(state, "PJSIP/201", "RINGINUSE")) == []  # still "busy"
    # Online wins over offline: with one phone offline, the other phone counts.
    assert statuses(device(state, "PJSIP/201", "UNAVAILABLE")) == [("201", "unavailable")]
    assert statuses(device(state, "PJSIP/201-mobile", "NOT_INUSE")) == []  # not ours by name


def test_freepbx_hint_with_dnd_does_not_make_a_user_busy():
    state = PbxState(FIELD)
    hint = {"Event": "ExtensionStatus", "Exten": "202", "Hint": "PJSIP/202&Custom:DND202"}
    assert statuses(state.apply({**hint, "Status": "0"})) == [("202", "idle")]
    device(state, "PJSIP/202", "NOT_INUSE")
    # DND on: the hint turns busy because of Custom:DND202, the phone itself is idle.
    events = device(state, "Custom:DND202", "BUSY") + state.apply({**hint, "Status": "2"})
    assert [(e.extension, e.dnd) for e in events if isinstance(e, DndChanged)] == [("202", True)]
    assert statuses(events) == []
    assert state.snapshot()["extensions"]["202"]["status"] == "idle"
    assert state.snapshot()["extensions"]["202"]["dnd"] is True


def test_local_channel_device_states_are_ignored():
    state = PbxState(PbxLayout(extensions=("201",), device_template="Local/{extension}@phones"))
    assert device(state, "Local/201@phones", "INUSE") == []
    assert state.snapshot()["extensions"]["201"]["status"] == "unknown"


def test_set_astdb_as_the_client_calls_it():
    state = PbxState(FIELD)
    assert [type(e) for e in state.set_astdb("DND/201", "YES")] == [DndChanged]
    assert state.set_astdb("DND/201", "YES") == []
    (forward,) = state.set_astdb("CFU/201", "vmu201")
    assert isinstance(forward, ForwardChanged)
    assert (forward.kind, forward.destination) == ("noanswer", "vmu201")
    assert state.set_astdb("CF/999", "205") == []  # not an extension of ours
    assert state.set_astdb("AMPUSER/201/cidname", "Alice") == []
    assert state.set_astdb("CF/201/x", "205") == []
    assert [e.dnd for e in state.set_astdb("/DND/201", None)] == [False]
    assert state.snapshot()["extensions"]["201"]["forward"]["noanswer"] == "vmu201"


def pjsip_call(state, clock):
    """An inbound trunk call to 201, answered, put on hold, back, hung up (field names)."""
    out = []

    def feed(**msg):
        out.extend(state.apply(msg))

    feed(
        Event="Newchannel",
        Channel="PJSIP/voip-a-00000001",
        ChannelState="4",
        CallerIDNum="0612345678",
        CallerIDName="\x1b[2JEvil\r\nAction: Hangup",
        Exten="5550100",
        Uniqueid="1800000000.1",
        Linkedid="1800000000.1",
    )
    feed(
        Event="Newchannel",
        Channel="PJSIP/201-00000002",
        ChannelState="0",
        CallerIDNum="201",
        Uniqueid="1800000000.2",
        Linkedid="1800000000.1",
    )
    feed(
        Event="DialBegin",
        Uniqueid="1800000000.1",
        DestUniqueid="1800000000.2",
        DialString="201",
    )
    clock.now += 4
    feed(
        Event="DialEnd",
        Uniqueid="1800000000.1",
        DestUniqueid="1800000000.2",
        DialStatus="ANSWER",
    )
    for uid in ("1800000000.1", "1800000000.2"):
        feed(Event="BridgeEnter", BridgeUniqueid="b-1", Uniqueid=uid, Linkedid="1800000000.1")
    feed(Event="Hold", Uniqueid="1800000000.2")
    feed(Event="Unhold", Uniqueid="1800000000.2")
    clock.now += 30
    feed(Event="Hangup", Uniqueid="1800000000.1")
    feed(Event="Hangup", Uniqueid="1800000000.2")
    return out


def test_a_field_call_with_hold_and_a_hostile_caller_name():
    clock = Clock()
    state = PbxState(FIELD, clock)
    events = pjsip_call(state, clock)
    (ringing,) = [e for e in events if isinstance(e, CallRinging)]
    assert ringing.extension == "201" and ringing.caller_number == "0612345678"
    assert "\r" not in (ringing.caller_name or "") and "\x1b" not in (ringing.caller_name or "")
    holds = [(e.state, e.previous) for e in events if isinstance(e, CallStateChanged)]
    assert holds == [("onhold", "up"), ("up", "onhold")]
    (ended,) = [e for e in events if isinstance(e, CallEnded)]
    record = ended.record
    assert (record.direction, record.did, record.answered_by) == ("inbound", "5550100", "201")
    assert (record.wait, record.duration) == (4, 30)
    snap = state.snapshot()
    json.dumps(snap)
    assert snap["recent_calls"][0]["start"] == iso(1_800_000_000.0)
    assert snap["trunks"]["voip-a"] == {"channels_in_use": 0, "calls": 0, "max_channels": 10}


def test_live_resync_dates_calls_by_their_duration():
    clock = Clock()
    state = PbxState(FIELD, clock)
    state.resync(
        ResyncData(
            channels=[
                {
                    "Event": "CoreShowChannel",
                    "Channel": "PJSIP/201-00000001",
                    "ChannelState": "6",
                    "Uniqueid": "1.1",
                    "Linkedid": "1.1",
                    "Duration": "00:01:05",
                }
            ]
        )
    )
    (call,) = state.snapshot()["calls"]
    assert call["started_at"] == iso(clock.now - 65)


def test_replay_clock_and_cdr_times():
    clock = ReplayClock()
    clock.observe(10.0)
    clock.observe(5.0)
    assert clock() == 10.0
    assert uniqueid_epoch("1795638118.0") == 1795638118.0
    assert uniqueid_epoch("12.0") is None
    assert uniqueid_epoch("x" * 50) is None
    times = CdrTimes()
    # A PBX in UTC+1 writes local times: the offset is learnt from the UniqueID.
    times.learn("2026-11-25 21:22:26", "1795638146.12")
    assert times.read("2026-11-25 21:22:29") == 1795638149.0
    assert times.read("garbage") is None


def channel_events(*specs):
    """(name, uid, linkedid) -> Newchannel messages."""
    return [
        {
            "Event": "Newchannel",
            "Channel": name,
            "ChannelState": "0",
            "CallerIDNum": number,
            "Uniqueid": uid,
            "Linkedid": linkedid,
        }
        for name, uid, linkedid, number in specs
    ]


def dial(event, source, dest, status=""):
    msg = {"Event": event, "Uniqueid": source, "DestUniqueid": dest, "DialStatus": status}
    return {k: v for k, v in msg.items() if v}


def test_ring_group_answer_names_the_phone_that_picked_up():
    state = PbxState(FIELD, Clock())
    messages = [
        *channel_events(
            ("PJSIP/voip-a-00000001", "1.1", "1.1", "0699887766"),
            ("Local/600@from-internal-00000002;1", "1.2", "1.1", ""),
            ("Local/600@from-internal-00000002;2", "1.3", "1.1", ""),
            ("PJSIP/201-00000003", "1.4", "1.1", ""),
            ("PJSIP/202-00000004", "1.5", "1.1", ""),
        ),
        dial("DialBegin", "1.1", "1.2"),
        dial("DialBegin", "1.3", "1.4"),
        dial("DialBegin", "1.3", "1.5"),
        dial("DialEnd", "1.3", "1.5", "ANSWER"),
        dial("DialEnd", "1.3", "1.4", "CANCEL"),
        dial("DialEnd", "1.1", "1.2", "ANSWER"),
    ]
    events = [e for msg in messages for e in state.apply(msg)]
    assert sorted(e.extension for e in events if isinstance(e, CallRinging)) == ["201", "202"]
    (answered,) = [e for e in events if type(e).__name__ == "CallAnswered"]
    assert answered.answered_by == "202"
    assert state.snapshot()["calls"][0]["to"] == "202"


def test_click_to_call_through_a_local_channel_is_not_answered_by_its_caller():
    state = PbxState(FIELD, Clock())
    messages = [
        *channel_events(
            ("Local/201@from-internal-00000001;1", "2.1", "2.1", "201"),
            ("Local/201@from-internal-00000001;2", "2.2", "2.1", "201"),
            ("PJSIP/201-00000002", "2.3", "2.1", ""),
        ),
        dial("DialBegin", "2.2", "2.3"),
        dial("DialEnd", "2.2", "2.3", "ANSWER"),  # 201 picks up to place the call
    ]
    events = [e for msg in messages for e in state.apply(msg)]
    assert [type(e).__name__ for e in events] == ["CallRinging"]
    (call,) = state.snapshot()["calls"]
    assert (call["from"], call["state"]) == ("201", "ringing")
    # Then the call goes on to 202, who answers.
    messages = [
        *channel_events(("PJSIP/202-00000003", "2.4", "2.1", "")),
        dial("DialBegin", "2.1", "2.4"),
        dial("DialEnd", "2.1", "2.4", "ANSWER"),
    ]
    events = [e for msg in messages for e in state.apply(msg)]
    assert [type(e).__name__ for e in events] == ["CallRinging", "CallAnswered"]
    (call,) = state.snapshot()["calls"]
    assert (call["from"], call["to"], call["state"]) == ("201", "202", "up")


def test_a_parked_caller_who_hangs_up_frees_the_slot_even_unannounced():
    state = PbxState(FIELD, Clock())
    for msg in channel_events(("PJSIP/voip-a-00000001", "3.1", "3.1", "0699887766")):
        state.apply(msg)
    parked = {
        "Event": "ParkedCall",
        "ParkingSpace": "701",
        "Parkinglot": "default",
        "ParkeeUniqueid": "3.1",
        "ParkeeLinkedid": "3.1",
        "ParkeeCallerIDNum": "0699887766",
        "ParkerDialString": "PJSIP/205",
        "ParkingTimeout": "45",
    }
    (event,) = state.apply(parked)
    assert (event.slot, event.from_, event.parked_by) == ("701", "0699887766", "205")
    assert state.snapshot()["parkings"]["701"]["from"] == "0699887766"
    assert state.apply(parked) == []  # listed again by ParkedCalls: nothing new
    events = state.apply({"Event": "Hangup", "Uniqueid": "3.1"})
    assert [(type(e).__name__, getattr(e, "reason", None)) for e in events] == [
        ("CallUnparked", "giveup"),
        ("CallEnded", None),
    ]
    assert state.snapshot()["parkings"] == {}
