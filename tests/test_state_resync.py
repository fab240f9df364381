"""After a (re)connect the state must equal the PBX's, telling listeners only what changed."""

from __future__ import annotations

from ctibot.pbx.events import (
    CallAnswered,
    CallEnded,
    CallParked,
    CallRinging,
    CallStateChanged,
    CallUnparked,
    DndChanged,
    ExtensionStatusChanged,
    ForwardChanged,
    PbxResynced,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
    VoicemailCountChanged,
)
from ctibot.pbx.framing import AmiFramer
from ctibot.pbx.layout import LAB_LAYOUT, PbxLayout
from ctibot.pbx.state import PbxState, ReplayClock, ResyncData
from tests.conftest import capture_bytes

FIELD = PbxLayout(extensions=("201", "202", "203"))


def listed(name: str, action_id: str, *events: str) -> list[dict]:
    """The items of one event list in a capture (the answer to ``action_id``)."""
    return [
        msg
        for msg in AmiFramer().feed(capture_bytes(name))
        if msg.get("ActionID") == action_id and msg.get("Event") in events
    ]


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


def lab_state() -> PbxState:
    return PbxState(LAB_LAYOUT, ReplayClock(1795638280.0))


def channel(name, uid, linkedid, state="6", bridge="", number="", duration="00:00:05"):
    return {
        "Event": "CoreShowChannel",
        "Channel": name,
        "ChannelState": state,
        "CallerIDNum": number,
        "CallerIDName": "",
        "Exten": "",
        "Uniqueid": uid,
        "Linkedid": linkedid,
        "Duration": duration,
        "BridgeId": bridge,
    }


def test_two_calls_up_are_rebuilt_from_core_show_channels():
    state = lab_state()
    items = listed("core_show_channels", "core_show_channels-4", "CoreShowChannel")
    assert len(items) == 8
    events = state.resync(ResyncData(channels=items))
    assert kinds(events) == ["CallAnswered", "CallAnswered", "PbxResynced"]
    calls = {c["from"]: c for c in state.snapshot()["calls"]}
    assert calls["201"]["to"] == "202" and calls["201"]["state"] == "up"
    assert calls["201"]["direction"] == "internal"
    assert calls["203"]["to"] == "0612345678" and calls["203"]["state"] == "up"
    assert calls["203"]["direction"] == "outbound"
    # Started when the PBX says (Duration), not when we reconnected.
    assert calls["201"]["started_at"] == "2026-11-25T20:24:32Z"  # the Linkedid's second
    assert calls["201"]["started_at"] < calls["201"]["answered_at"]
    # The lab's trunk calls are Local channel pairs: one channel in use, one call.
    trunk = state.snapshot()["trunks"]["pstn-sim"]
    assert trunk == {"channels_in_use": 1, "calls": 1, "max_channels": 4}
    assert state.consistency_errors() == []


def test_identical_data_gives_nothing_but_pbx_resynced():
    state = lab_state()
    data = ResyncData(
        channels=listed("core_show_channels", "core_show_channels-4", "CoreShowChannel"),
        extension_states=listed(
            "extension_state_list", "extension_state_list-2", "ExtensionStatus"
        ),
        device_states=listed("extension_state_list", "extension_state_list-5", "DeviceStateChange"),
        queue_status=listed(
            "queue_call", "queue_call-3", "QueueParams", "QueueMember", "QueueEntry"
        ),
        parked=listed("park_and_pickup", "park_and_pickup-4", "ParkedCall"),
        mailboxes={"203": (1, 0), "201": (0, 0)},
        astdb={"DND/201": "YES", "CF/203": "205", "CFU/202": "vmu202"},
    )
    first = state.resync(data)
    assert "CallAnswered" in kinds(first) and "CallParked" in kinds(first)
    assert kinds(state.resync(data)) == ["PbxResynced"]
    assert state.consistency_errors() == []


def test_live_state_agrees_with_the_list_asterisk_gives():
    """Replay up to CoreShowChannels, then resync with its answer: nothing to tell."""
    state = PbxState.for_replay(LAB_LAYOUT)
    items = []
    for msg in AmiFramer().feed(capture_bytes("core_show_channels")):
        if msg.get("Event") == "CoreShowChannelsComplete":
            break
        state.apply(msg)
        if msg.get("Event") == "CoreShowChannel":
            items.append(msg)
    before = state.snapshot()
    assert kinds(state.resync(ResyncData(channels=items))) == ["PbxResynced"]
    after = state.snapshot()
    assert [c["id"] for c in after["calls"]] == [c["id"] for c in before["calls"]]
    assert [c["answered_by"] for c in after["calls"]] == ["202", "0612345678"]


def test_call_gone_while_disconnected_ends_once_with_a_record():
    state = lab_state()
    items = listed("core_show_channels", "core_show_channels-4", "CoreShowChannel")
    state.resync(ResyncData(channels=items))
    without_201 = [m for m in items if m["Linkedid"] != "1795638272.62"]
    events = state.resync(ResyncData(channels=without_201))
    (ended,) = [e for e in events if isinstance(e, CallEnded)]
    assert ended.call_id == "1795638272.62"
    assert ended.record.from_ == "201" and ended.record.answered
    assert kinds(events)[-1] == "PbxResynced"
    assert kinds(state.resync(ResyncData(channels=without_201))) == ["PbxResynced"]
    assert [c["from"] for c in state.snapshot()["calls"]] == ["203"]
    assert state.snapshot()["recent_calls"][-1]["from"] == "201"


def test_a_call_that_rang_and_was_answered_while_we_were_away():
    state = PbxState(FIELD, ReplayClock(1_800_000_000.0))
    state.apply(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/201-00000001",
            "ChannelState": "4",
            "CallerIDNum": "201",
            "CallerIDName": "Alice",
            "Uniqueid": "1799999990.1",
            "Linkedid": "1799999990.1",
        }
    )
    state.apply(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/202-00000002",
            "ChannelState": "0",
            "CallerIDNum": "202",
            "Uniqueid": "1799999990.2",
            "Linkedid": "1799999990.1",
        }
    )
    rang = state.apply(
        {
            "Event": "DialBegin",
            "Uniqueid": "1799999990.1",
            "DestUniqueid": "1799999990.2",
            "DialString": "202",
        }
    )
    assert kinds(rang) == ["CallRinging"]
    assert state.snapshot()["calls"][0]["state"] == "ringing"
    data = ResyncData(
        channels=[
            channel("PJSIP/201-00000001", "1799999990.1", "1799999990.1", bridge="b1"),
            channel("PJSIP/202-00000002", "1799999990.2", "1799999990.1", bridge="b1"),
        ]
    )
    events = state.resync(data)
    (answered,) = [e for e in events if isinstance(e, CallAnswered)]
    assert answered.answered_by == "202"
    assert not [e for e in events if isinstance(e, CallRinging | CallEnded)]
    assert state.snapshot()["calls"][0]["state"] == "up"
    assert kinds(state.resync(data)) == ["PbxResynced"]


def test_a_call_ringing_on_the_pbx_rings_here_after_resync():
    state = PbxState(FIELD, ReplayClock(1_800_000_000.0))
    events = state.resync(
        ResyncData(
            channels=[
                channel("PJSIP/trunk-00000001", "1799999990.1", "1799999990.1", "4", number="0611"),
                channel("PJSIP/203-00000002", "1799999990.2", "1799999990.1", "5"),
            ]
        )
    )
    (ringing,) = [e for e in events if isinstance(e, CallRinging)]
    assert ringing.extension == "203"
    (call,) = state.snapshot()["calls"]
    assert call["state"] == "ringing" and call["to"] == "203"


def test_queues_resync_adds_removes_and_keeps_waiting_callers():
    state = lab_state()
    caller = channel("Local/5550100@from-pstn-0000000a;2", "1795638176.21", "1795638176.21")
    first = state.resync(
        ResyncData(
            channels=[caller],
            queue_status=listed(
                "queue_call", "queue_call-3", "QueueParams", "QueueMember", "QueueEntry"
            ),
        )
    )
    added = sorted(e.member for e in first if isinstance(e, QueueMemberChanged))
    assert added == ["201", "202"]
    (joined,) = [e for e in first if isinstance(e, QueueCallerJoined)]
    assert joined.caller_number == "0699887766"
    queue = state.snapshot()["queues"]["sales"]
    assert queue["waiting"] == 1 and queue["strategy"] == "ringall"
    # Later: 203 logged in and paused, 201 gone, the caller gone.
    paused = listed("queue_members", "queue_members-7", "QueueParams", "QueueMember")
    bob = listed("queue_members", "queue_members-12", "QueueMember")[0]
    second = state.resync(ResyncData(queue_status=[*paused, bob]))
    changes = sorted(
        (e.member, e.change, e.reason) for e in second if isinstance(e, QueueMemberChanged)
    )
    assert changes == [("201", "removed", ""), ("202", "status", ""), ("203", "added", "Lunch")]
    assert [type(e) for e in second if isinstance(e, QueueCallerLeft)] == [QueueCallerLeft]
    members = state.snapshot()["queues"]["sales"]["members"]
    assert members["203"]["paused"] and members["203"]["dynamic"]
    assert kinds(state.resync(ResyncData(queue_status=[*paused, bob]))) == ["PbxResynced"]


def test_extension_and_device_lists_set_every_status_once():
    state = lab_state()
    data = ResyncData(
        extension_states=listed(
            "extension_state_list", "extension_state_list-2", "ExtensionStatus"
        ),
        device_states=listed("extension_state_list", "extension_state_list-5", "DeviceStateChange"),
    )
    events = state.resync(data)
    changed = sorted(e.extension for e in events if isinstance(e, ExtensionStatusChanged))
    assert changed == ["201", "202", "203", "204", "205", "206"]
    assert kinds(state.resync(data)) == ["PbxResynced"]


def test_astdb_is_the_truth_for_dnd_and_forwards():
    state = lab_state()
    on = state.resync(ResyncData(astdb={"DND/201": "YES", "CF/203": "205", "CFB/202": "vmu202"}))
    assert [(e.extension, e.dnd) for e in on if isinstance(e, DndChanged)] == [("201", True)]
    assert sorted(
        (e.extension, e.kind, e.destination) for e in on if isinstance(e, ForwardChanged)
    ) == [("202", "busy", "vmu202"), ("203", "unconditional", "205")]
    # A stale Custom:DND201 NOT_INUSE in the device list does not flip DND twice.
    stale = {"Event": "DeviceStateChange", "Device": "Custom:DND201", "State": "NOT_INUSE"}
    again = ResyncData(
        device_states=[stale], astdb={"DND/201": "YES", "CF/203": "205", "CFB/202": "vmu202"}
    )
    assert kinds(state.resync(again)) == ["PbxResynced"]
    off = state.resync(ResyncData(astdb={}))
    assert [(e.extension, e.dnd) for e in off if isinstance(e, DndChanged)] == [("201", False)]
    assert len([e for e in off if isinstance(e, ForwardChanged)]) == 2
    extensions = state.snapshot()["extensions"]
    assert extensions["203"]["forward"]["unconditional"] is None


def test_parked_calls_and_mailboxes():
    state = lab_state()
    parked = listed("park_and_pickup", "park_and_pickup-4", "ParkedCall")
    events = state.resync(ResyncData(parked=parked, mailboxes={"203@default": (1, 0)}))
    (park,) = [e for e in events if isinstance(e, CallParked)]
    assert (park.slot, park.from_, park.parked_by) == ("701", "201", "202")
    assert [(e.mailbox, e.new) for e in events if isinstance(e, VoicemailCountChanged)] == [
        ("203", 1)
    ]
    assert state.snapshot()["parkings"]["701"]["parked_by"] == "202"
    gone = state.resync(ResyncData(parked=[], mailboxes={"203": (0, 1)}))
    assert [(e.slot, e.reason) for e in gone if isinstance(e, CallUnparked)] == [("701", "gone")]
    assert state.snapshot()["mailboxes"]["203"] == {"new": 0, "old": 1}
    assert state.snapshot()["parkings"] == {}


def test_lists_not_fetched_are_left_alone():
    state = lab_state()
    state.resync(ResyncData(astdb={"DND/201": "YES"}, mailboxes={"201": (2, 0)}))
    assert kinds(state.resync(ResyncData())) == ["PbxResynced"]
    assert state.snapshot()["extensions"]["201"]["dnd"]
    assert state.snapshot()["mailboxes"]["201"]["new"] == 2
    assert isinstance(state.resync(ResyncData())[-1], PbxResynced)


def test_a_caller_listed_in_voicemail_at_a_resync_is_in_voicemail():
    """ctibot reconnects while Bob listens to Alice's greeting (DND sent him there)."""
    state = PbxState(FIELD, ReplayClock(1_800_000_000.0))
    bob = {
        **channel("PJSIP/202-00000001", "1799999990.1", "1799999990.1", number="202"),
        "Application": "VoiceMail",
        "ApplicationData": "201@default,b",
    }
    events = state.resync(ResyncData(channels=[bob]))
    (call,) = state.calls.values()
    assert (call.state, call.voicemail, call.answered_at) == ("voicemail", "201", None)
    assert [e.state for e in events if isinstance(e, CallStateChanged)] == ["voicemail"]
