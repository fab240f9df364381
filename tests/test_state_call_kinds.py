"""Conference, ChanSpy, attended and Redirect transfers, DND, forwards, trunks: true records."""

from __future__ import annotations

import pytest

from ctibot.pbx.events import CallAnswered, CallRinging, CallStateChanged
from ctibot.pbx.framing import AmiFramer
from ctibot.pbx.layout import LAB_LAYOUT
from ctibot.pbx.state import PbxState, ResyncData
from tests.conftest import CAPTURE_NAMES, capture_bytes, replay_capture
from tests.test_state_replay import assert_all_quiet, records

TRANSFER_CAPTURES = {"blind_transfer", "attended_transfer", "redirect_transfer"}


def watch_messages(name, look):
    """Replay ``name``; ``look(state, msg, events)`` after every message; its non-None results."""
    state = PbxState.for_replay(LAB_LAYOUT)
    seen = []
    for msg in AmiFramer().feed(capture_bytes(name)):
        result = look(state, msg, state.apply(msg))
        if result is not None:
            seen.append(result)
    return seen


def bridge_peer(state, ch):
    """What the service layer reads as the other party: a channel sharing ``ch``'s bridge."""
    if ch is None or ch.bridge is None:
        return None
    return next((o for o in state.channels.values() if o is not ch and o.bridge == ch.bridge), None)


# -- conference -----------------------------------------------------------------


def test_conference_each_participant_calls_800_and_none_calls_another():
    replay = replay_capture("conference")
    ended = sorted(records(replay), key=lambda r: r.from_)
    assert [r.from_ for r in ended] == ["201", "202", "203"]
    participants = {"201", "202", "203"}
    for r in ended:
        assert (r.to, r.conference, r.ended_with) == ("800", "800", "800"), r
        assert r.answered and r.answered_by is None
        assert not {r.to, r.answered_by, r.ended_with} & participants
        assert r.start <= r.answer <= r.end and r.duration == round(r.end - r.answer)
    # 201 joined the conference last (at :52, CDR) and left first (:55); 202 and 203
    # were in it from :49 / :50 to :56 / :57.
    assert [r.duration for r in ended] == [3, 7, 7]
    assert all(r.wait <= 4 for r in ended)
    assert all(e.answered_by is None for e in replay.of(CallAnswered))
    assert_all_quiet(replay.state)


def test_conference_while_all_three_are_in_it():
    def look(state, msg, events):
        if msg.get("Event") != "ConfbridgeJoin" or msg.get("CallerIDNum") != "201":
            return None
        return [
            (c["from"], c["to"], c["talking_with"], c["conference"])
            for c in state.snapshot()["calls"]
        ]

    (calls,) = watch_messages("conference", look)
    assert sorted(calls) == [
        ("201", "800", "800", "800"),
        ("202", "800", "800", "800"),
        ("203", "800", "800", "800"),
    ]


# -- ChanSpy --------------------------------------------------------------------


def test_chanspy_leg_is_answered_for_about_three_seconds_and_the_spied_call_stays():
    replay = replay_capture("chanspy")
    spy, spied = sorted(records(replay), key=lambda r: r.from_, reverse=True)
    assert (spy.from_, spy.to, spy.spied) == ("203", "201", "201")
    assert spy.answered and abs(spy.duration - 3) <= 1
    assert (spied.from_, spied.to, spied.answered_by, spied.ended_with) == (
        "201",
        "202",
        "202",
        "202",
    )
    assert spied.spied is None and spied.conference is None and not spied.transferred
    assert [e.answered_by for e in replay.of(CallAnswered)] == ["202", None]
    assert_all_quiet(replay.state)


# -- transfers --------------------------------------------------------------------


def test_attended_transfer_lists_204_and_the_consultation_is_the_same_call():
    replay = replay_capture("attended_transfer")
    # Asterisk gives the consultation call (202 -> 204) the transferred call's
    # Linkedid: one call, one record, whose last party is the target.
    (record,) = records(replay)
    assert (record.from_, record.answered_by, record.ended_with) == ("201", "202", "204")
    assert record.transferred and record.transfers == ("204",)
    assert [e.extension for e in replay.of(CallRinging)] == ["201", "202", "204"]
    assert_all_quiet(replay.state)


def test_redirect_of_201s_leg_to_205_is_a_transfer():
    replay = replay_capture("redirect_transfer")
    (record,) = records(replay)
    assert (record.from_, record.answered_by, record.ended_with) == ("201", "202", "205")
    assert record.transferred and record.transfers == ("205",)
    assert_all_quiet(replay.state)


@pytest.mark.parametrize("name", sorted(set(CAPTURE_NAMES) - TRANSFER_CAPTURES))
def test_no_other_capture_is_taken_for_a_transfer(name):
    assert not any(r.transferred or r.transfers for r in records(replay_capture(name)))


# -- DND, forwards, names -----------------------------------------------------------


def test_call_to_203_on_dnd_sent_to_voicemail_names_203():
    replay = replay_capture("dnd_and_cf_astdb")
    voicemail = records(replay)[0]
    assert (voicemail.from_, voicemail.to, voicemail.answered) == ("204", "203", False)
    assert voicemail.voicemail == "203"
    assert replay.state.snapshot()["recent_calls"][0]["voicemail"] == "203"


def test_a_caller_sent_to_voicemail_is_in_voicemail_not_ringing():
    """FreePBX's DND rule runs VoiceMail(203@default,b) on the caller's own channel."""

    def look(state, msg, events):
        changes = [(e.state, e.previous) for e in events if isinstance(e, CallStateChanged)]
        if msg.get("Event") == "Hangup" or changes:
            return changes, [(c.state, c.voicemail, c.answered_at) for c in state.calls.values()]
        return None

    seen = watch_messages("dnd_and_cf_astdb", look)
    assert seen[0] == ([("voicemail", "ringing")], [("voicemail", "203", None)])
    assert not any(change for change, _ in seen[1:] if change == [("voicemail", "ringing")])


def test_forwarded_call_is_between_caller_and_205_forwarded_from_203():
    replay = replay_capture("dnd_and_cf_astdb")
    (forwarded,) = [r for r in records(replay) if r.answered]
    assert (forwarded.from_, forwarded.from_name) == ("204", "Dave Davis")
    assert (forwarded.to, forwarded.answered_by, forwarded.ended_with) == ("205", "205", "205")
    assert forwarded.forwarded_from == "203"
    assert replay.state.snapshot()["recent_calls"][1]["forwarded_from"] == "203"


def test_the_cf_tag_is_never_a_name():
    def names(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if "name" in key and isinstance(item, str):
                    yield item
                yield from names(item)
        elif isinstance(value, list):
            for item in value:
                yield from names(item)

    def look(state, msg, events):
        found = [n for n in names(state.snapshot()) if "CF:" in n]
        found += [n for e in events for n in names(e.as_dict()) if "CF:" in n]
        found += [
            ch.caller_name for ch in state.channels.values() if "CF:" in (ch.caller_name or "")
        ]
        return found or None

    assert watch_messages("dnd_and_cf_astdb", look) == []


def test_forwarded_call_peers_as_the_services_read_them():
    def look(state, msg, events):
        if msg.get("Event") != "BridgeEnter":
            return None
        by_end = {ch.name[-10:]: ch for ch in state.channels.values()}
        caller, phone = by_end.get("00000015;1"), by_end.get("00000017;1")
        near = bridge_peer(state, caller)
        seen = [(near.party, near.caller_name)] if near is not None else []
        for ch in (caller, phone):
            far = state.peer_of(ch) if ch is not None else None
            if far is not None:
                seen.append((far.party, far.caller_name))
        return seen

    # The first BridgeEnter pairs nobody; then 204 talks with 205 through the
    # forward's Local pair (no name from those legs: they carry the caller's copy),
    # and once 205's phone is bridged too, 205 talks with "Dave Davis" (204), with
    # no CF: tag, and 204 with 205's phone.
    assert watch_messages("dnd_and_cf_astdb", look)[-3:] == [
        [("205", None), ("205", None)],
        [("205", None), ("205", None)],
        [("205", None), ("205", None), ("204", "Dave Davis")],
    ]


@pytest.mark.parametrize("name", CAPTURE_NAMES)
def test_nobody_talks_with_himself(name):
    for r in records(replay_capture(name)):
        assert r.from_ not in (r.to, r.answered_by, r.ended_with), r


# -- outbound through a trunk ---------------------------------------------------------


def test_outbound_trunk_leg_carries_no_name_and_is_the_number_dialed():
    """Asterisk copies the caller's CallerIDName onto the trunk channel."""

    def look(state, msg, events):
        if msg.get("Event") != "BridgeEnter" or "pstn-sim" in msg.get("Channel", ""):
            return None
        caller = state.channels.get(msg.get("Uniqueid"))
        peer = bridge_peer(state, caller)
        if peer is None or peer.trunk is None:
            return None
        return caller.caller_name, peer.party, peer.caller_name, peer.caller_number

    assert watch_messages("core_show_channels", look) == [
        ("Carol Clark", "0612345678", None, "0612345678")
    ]
    peers = watch_messages("loadtest_50_calls", look)
    assert len(peers) == 50
    assert all(name is None and party.startswith("06123450") for _, party, name, _ in peers)


def test_outbound_trunk_legs_never_carry_the_callers_number_or_name():
    def look(state, msg, events):
        bad = []
        for call in state.calls.values():
            for ch in call.channels.values():
                named = ch.caller_name is not None or ch.party == call.caller_number
                if ch.outgoing and ch.trunk is not None and named:
                    bad.append((ch.name, ch.party, ch.caller_name))
        return bad or None

    assert watch_messages("core_show_channels", look) == []
    assert watch_messages("loadtest_50_calls", look) == []


def test_conference_rebuilt_at_a_resync_is_three_calls_to_800():
    from tests.test_state_resync import channel, lab_state

    state = lab_state()
    items = []
    for n, ext in enumerate(("201", "202", "203")):
        uid = f"1796109348.{30 + 2 * n}"
        leg = channel(f"Local/{ext}@phones-0000001{n};1", uid, uid, bridge="conf-800", number=ext)
        leg.update(Application="ConfBridge", ApplicationData="800,default_bridge,default_user")
        phone = channel(f"Local/{ext}@phones-0000001{n};2", uid[:-2] + str(31 + 2 * n), uid)
        items += [leg, phone]
    state.resync(ResyncData(channels=items))
    calls = state.snapshot()["calls"]
    assert sorted((c["from"], c["to"], c["talking_with"], c["state"]) for c in calls) == [
        ("201", "800", "800", "up"),
        ("202", "800", "800", "up"),
        ("203", "800", "800", "up"),
    ]
    assert all(c["conference"] == "800" and c["answered_by"] is None for c in calls)
