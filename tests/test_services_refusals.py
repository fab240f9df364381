"""Actions that make no sense are refused with the reason, and nothing reaches the AMI (issue 6)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ctibot.commands import dispatch
from ctibot.services import BadArgument

from harness import ring_forever, ringing_at
from services_fixtures import Office

TRANSFERS = ("BlindTransfer", "Redirect", "Atxfer")


async def bob_calls_alice(o: Office) -> None:
    """Bob's phone dials Alice; she answers; the two are bridged."""
    o.pbx.phone("201").answer_after = 0.5
    o.pbx.call("202", "201")
    state = o.harness.state
    await o.until(
        lambda: any(c.answered_at and c.caller_number == "202" for c in state.calls.values())
    )
    await o.until(
        lambda: any(
            ch.extension == "201" and ch.bridge is not None for ch in state.channels.values()
        )
    )


# -- transfer -----------------------------------------------------------------------


async def test_alice_cannot_transfer_bob_to_bob_and_is_told_why(office: Office) -> None:
    alice = office.users["alice"]
    await bob_calls_alice(office)
    for target in ("bob", "202", "Bob Brown"):
        with pytest.raises(BadArgument) as refused:
            await office.services.calls.transfer(alice, target)
        assert refused.value.key == "error.transfer_to_peer"
        assert refused.value.params["party"] == "Bob Brown (202)"
    reply = await dispatch(office.services, alice, "transfer bob")
    assert reply == (
        "You are talking with Bob Brown (202): a call cannot be transferred "
        "to the party it connects you with."
    )
    assert not any(office.ami.of(name) for name in TRANSFERS)
    # Nothing changed: bob is still talking with alice.
    call = next(c for c in office.harness.state.calls.values() if c.caller_number == "202")
    assert call.answered_by == "201" and not call.transferred


async def test_alice_cannot_transfer_a_call_to_herself(office: Office) -> None:
    alice = office.users["alice"]
    await bob_calls_alice(office)
    for target in ("alice", "201"):
        with pytest.raises(BadArgument) as refused:
            await office.services.calls.transfer(alice, target)
        assert refused.value.key == "error.transfer_self"
    bob = replace(office.users["alice"], language="it")
    reply = await dispatch(office.services, bob, "trasferisci alice")
    assert reply == "È il tuo stesso telefono: trasferisci la chiamata a qualcun altro."
    assert not any(office.ami.of(name) for name in TRANSFERS)


async def test_nobody_can_call_themselves_by_name_or_number(office: Office) -> None:
    alice = office.users["alice"]
    for target in ("alice", "201", "Alice Anders"):
        with pytest.raises(BadArgument) as refused:
            await office.services.calls.call(alice, target)
        assert refused.value.key == "error.call_self"
    assert office.ami.of("Originate") == []


# -- do-not-disturb -------------------------------------------------------------------


async def test_bob_calling_alice_on_dnd_is_told_at_once_in_italian(office: Office) -> None:
    alice, bob = office.users["alice"], office.users["bob"]
    ring_forever(office.pbx, "202")
    assert await dispatch(office.services, alice, "dnd on") == "Do not disturb is now on (201)."
    placed = await office.services.calls.call(bob, "alice")
    assert placed.dnd == "voicemail"  # 201 has a mailbox: FreePBX's DND sends callers there
    reply = await dispatch(office.services, bob, "chiama alice")
    assert reply == (
        "Chiamo Alice Anders (201): prima squilla il tuo telefono 202.\n"
        "Alice Anders (201) ha il non disturbare: il centralino passa la chiamata "
        "alla sua segreteria."
    )
    english = replace(bob, language="en")
    reply = await dispatch(office.services, english, "call alice")
    assert reply is not None and reply.endswith(
        "Alice Anders (201) is on do not disturb: the PBX sends the call to their voicemail."
    )


async def test_dnd_without_a_mailbox_answers_busy_and_no_dnd_says_nothing(
    office: Office,
) -> None:
    alice, bob = office.users["alice"], office.users["bob"]
    ring_forever(office.pbx, "202")
    reply = await dispatch(office.services, bob, "chiama alice")
    assert reply == "Chiamo Alice Anders (201): prima squilla il tuo telefono 202."
    await office.services.phone.set_dnd(alice, True)
    office.harness.state.mailboxes.pop("201", None)  # a phone with no voicemail box
    english = replace(bob, language="en")
    reply = await dispatch(office.services, english, "call 201")
    assert reply is not None
    assert reply.endswith("Alice Anders (201) is on do not disturb: the PBX answers busy.")


# -- numbers no phone can have ------------------------------------------------------------


async def test_a_number_longer_than_any_phone_number_is_refused(office: Office) -> None:
    alice = office.users["alice"]
    for number in ("99999999999999999999999999", "06123456789012345", "+1 234 5678 9012 3456"):
        with pytest.raises(BadArgument) as refused:
            await office.services.calls.call(alice, number)
        assert refused.value.key == "error.number_too_long", number
    reply = await dispatch(office.services, alice, "call 99999999999999999999999999")
    assert reply == (
        "“99999999999999999999999999” is too long for a phone number (at most 15 digits)."
    )
    assert office.ami.of("Originate") == []
    # The longest real ones still go: E.164's 15 digits, after "00" and the outside prefix.
    ring_forever(office.pbx, "201")
    assert (await office.services.calls.call(alice, "+123456789012345")).destination == (
        "00123456789012345"
    )
    assert (await office.services.calls.call(alice, "000123456789012345")).destination == (
        "000123456789012345"
    )
    assert len(office.ami.of("Originate")) == 2


async def test_forward_and_transfer_to_an_impossible_number_are_refused(office: Office) -> None:
    alice = office.users["alice"]
    with pytest.raises(BadArgument) as refused:
        await office.services.phone.set_forward(alice, "unconditional", "1" * 30)
    assert refused.value.key == "error.number_too_long"
    assert office.ami.of("DBPut") == []
    await bob_calls_alice(office)
    with pytest.raises(BadArgument) as refused:
        await office.services.calls.transfer(alice, "9" * 20)
    assert refused.value.key == "error.number_too_long"
    assert not any(office.ami.of(name) for name in TRANSFERS)


async def test_the_outside_prefix_is_configurable(office: Office) -> None:
    pbx_config = office.services.config.pbx
    office.services.config = replace(
        office.services.config, pbx=replace(pbx_config, outside_prefix="9")
    )
    alice = office.users["alice"]
    with pytest.raises(BadArgument) as refused:
        await office.services.calls.call(alice, "0" + "1" * 16)  # no 9 in front: 17 > 15 + 0
    assert refused.value.params["maximum"] == 15
    ring_forever(office.pbx, "201")
    await office.services.calls.call(alice, "9" + "1" * 15)  # the prefix, then 15 digits
    assert len(office.ami.of("Originate")) == 1


# -- forwards -------------------------------------------------------------------------------


async def test_forward_off_clears_every_forward(office: Office) -> None:
    carol = office.users["carol"]
    astdb = office.pbx.office.astdb
    svc = office.services
    assert await dispatch(svc, carol, "forward voicemail") == (
        "Calls are now forwarded always to your voicemail."
    )
    assert await dispatch(svc, carol, "forward 204 busy") == (
        "Calls are now forwarded when busy to Dave Davis (204)."
    )
    assert await dispatch(svc, carol, "forward 0612345678 noanswer 20") == (
        "Calls are now forwarded when not answered to 0612345678 after 20 s of ringing."
    )
    assert astdb.get("AMPUSER", "203/ringtimer") == "20"
    # Turning one kind off says what stays.
    assert await dispatch(svc, carol, "forward off busy") == (
        "Forwarding when busy is off.\n"
        "Still set: always to your voicemail; when not answered to 0612345678."
    )
    assert await dispatch(svc, carol, "forward off") == "All call forwarding is off."
    for family in ("CF", "CFB", "CFU"):
        for ext in ("203", "207"):
            assert astdb.get(family, ext) is None, (family, ext)
            kind = {"CF": "unconditional", "CFB": "busy", "CFU": "noanswer"}[family]
            assert office.ext(ext).forward[kind] is None
    assert await dispatch(svc, carol, "forward") == "No call forwarding."


async def test_italian_forward_echoes_the_ring_time_and_off_clears_all(office: Office) -> None:
    bob = office.users["bob"]
    svc = office.services
    assert await dispatch(svc, bob, "inoltro 204 norisposta 20") == (
        "Le chiamate ora sono inoltrate se non rispondi verso Dave Davis (204) "
        "dopo 20 s di squilli."
    )
    assert await dispatch(svc, bob, "inoltro segreteria occupato") == (
        "Le chiamate ora sono inoltrate se occupato verso la tua segreteria."
    )
    assert await dispatch(svc, bob, "inoltro no norisposta") == (
        "Inoltro se non rispondi disattivato.\nRestano attivi: se occupato verso la tua segreteria."
    )
    assert await dispatch(svc, bob, "inoltro no") == (
        "Tutti gli inoltri di chiamata sono disattivati."
    )
    assert office.pbx.office.astdb.get("CFB", "202") is None


# -- recent calls ----------------------------------------------------------------------------


async def test_calls_are_newest_first_when_they_end_in_another_order(office: Office) -> None:
    carol = office.users["carol"]
    state = office.harness.state
    for ext in ("203", "207"):
        office.pbx.phone(ext).answer_after = 0.5
    office.pbx.call("201", "203")  # the first call to start...
    await office.until(lambda: any(c.answered_by == "203" for c in state.calls.values()))
    office.pbx.call("202", "207")  # ...then the second
    await office.until(lambda: any(c.answered_by == "207" for c in state.calls.values()))
    office.pbx.hangup("207")  # the second ends first
    await office.until(lambda: len(state.recent_calls) == 1)
    office.pbx.hangup("203")
    await office.until(lambda: len(state.recent_calls) == 2)
    lines = await office.services.info.recent_calls(carol)
    assert [line.party for line in lines] == ["202", "201"]
    reply = await dispatch(office.services, carol, "calls") or ""
    assert reply.index("Bob Brown (202)") < reply.index("Alice Anders (201)")


async def test_calls_with_equal_start_times_keep_the_later_call_first(office: Office) -> None:
    later = "2026-12-01T08:51:40Z"  # the ISO text the snapshot stores

    class History:
        async def calls_of(self, extensions: list[str], limit: int) -> list[dict]:
            # What a store ordered by the text of the id gives: ".9" above ".10".
            return [
                {"id": "1796115089.9", "from": "202", "to": "201", "start": 1796115089.0},
                {"id": "1796115089.10", "from": "203", "to": "201", "start": 1796115089.0},
                {"id": "1796115088.9", "from": "204", "to": "201", "start": later},
                {"id": "1796115080.1", "from": "205", "to": "201", "start": 1796115080.0},
            ]

    office.services.history = History()
    lines = await office.services.info.recent_calls(office.users["alice"])
    assert [line.party for line in lines] == ["204", "203", "202", "205"]


async def test_ringing_a_colleague_is_listed_as_them(office: Office) -> None:
    alice = office.users["alice"]
    ring_forever(office.pbx, "201", "202")
    await office.services.calls.call(alice, "202")
    await office.until(lambda: office.harness.state.calls)
    assert not ringing_at(office.harness.state, "202")  # alice's own phone is still ringing
    assert await dispatch(office.services, alice, "hangup") == (
        "Hung up your call with Bob Brown (202)."
    )
    await office.until(lambda: office.harness.state.recent_calls)
    reply = await dispatch(office.services, alice, "calls") or ""
    assert "to Bob Brown (202), no answer" in reply, reply


def test_outside_prefix_is_read_from_the_configuration(tmp_path) -> None:
    from ctibot.config import ConfigError, load_config

    base = '[[users]]\nname = "alice"\nfullname = "Alice"\nextensions = ["201"]\n'
    path = tmp_path / "ctibot.toml"
    path.write_text('[pbx]\nsecret = "x"\n' + base)
    assert load_config(path).pbx.outside_prefix == "0"
    path.write_text('[pbx]\nsecret = "x"\noutside_prefix = "9"\n' + base)
    assert load_config(path).pbx.outside_prefix == "9"
    path.write_text('[pbx]\nsecret = "x"\noutside_prefix = "9,w"\n' + base)
    with pytest.raises(ConfigError, match="outside_prefix"):
        load_config(path)


async def test_transferring_to_a_colleague_on_dnd_says_what_the_pbx_does(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    await bob_calls_alice(office)
    await office.services.phone.set_dnd(carol, True)
    reply = await dispatch(office.services, alice, "transfer carol")
    assert reply == (
        "Bob Brown (202) is being transferred to Carol Clark (203).\n"
        "Carol Clark (203) is on do not disturb: the PBX sends the call to their voicemail."
    )
    assert len(office.ami.of("BlindTransfer")) == 1


async def test_a_click_to_call_recorded_to_the_callers_own_phone_lists_what_was_dialled(
    office: Office,
) -> None:
    """A record may name the caller's own phone as the destination (the Originate
    rang it first): the line shows what ctibot dialled, never the caller."""
    alice = office.users["alice"]
    ring_forever(office.pbx, "201")
    await office.services.calls.call(alice, "bob")
    now = office.harness.state.clock()

    class History:
        async def calls_of(self, extensions: list[str], limit: int) -> list[dict]:
            return [{"id": "1.1", "from": "201", "to": "201", "start": now, "answered": False}]

    office.services.history = History()
    (line,) = await office.services.info.recent_calls(alice)
    assert (line.direction, line.party, line.party_name) == ("out", "202", "Bob Brown")
    reply = await dispatch(office.services, alice, "calls") or ""
    assert "to Bob Brown (202), no answer" in reply and "Alice" not in reply
