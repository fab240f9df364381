"""One naming rule in every reply and presence: the name when known, with the number (issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctibot.commands import dispatch
from ctibot.plugins.presence.view import PresenceView

from harness import ring_forever
from services_fixtures import Office


def bridged(o: Office, ext: str) -> bool:
    return any(ch.extension == ext and ch.bridge for ch in o.harness.state.channels.values())


async def test_an_outgoing_call_names_the_colleague_like_an_incoming_one(office: Office) -> None:
    alice = office.users["alice"]
    office.pbx.phone("201").answer_after = 0.5
    office.pbx.phone("202").answer_after = 0.5
    await office.services.calls.call(alice, "bob")
    await office.until(lambda: bridged(office, "202"))
    status = await dispatch(office.services, alice, "status") or ""
    assert "On a call with Bob Brown (202) on 201" in status
    assert await dispatch(office.services, alice, "hangup") == (
        "Hung up your call with Bob Brown (202)."
    )
    await office.until(lambda: office.harness.state.recent_calls)
    calls = await dispatch(office.services, alice, "calls") or ""
    assert "to Bob Brown (202), 0:" in calls, calls


async def test_an_outbound_call_never_names_the_caller_as_the_far_party(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    office.pbx.phone("201").answer_after = 0.5
    await office.services.calls.call(alice, "0612345678")
    state = office.harness.state
    await office.until(lambda: any(ch.trunk and ch.bridge for ch in state.channels.values()))
    presence = office.services.info.presence_of(alice)
    assert presence.talking_with == "0612345678"
    assert [c.party_name for c in presence.calls] == [None]
    who = await dispatch(office.services, carol, "who alice")
    assert who == "Alice Anders (201): on the phone with 0612345678"
    view = PresenceView(office.services)
    shown = view.of_extensions(["201"], "en")
    assert shown.status.startswith("On a call with 0612345678 since"), shown
    assert "Alice" not in shown.status
    status = await dispatch(office.services, alice, "status") or ""
    assert "On a call with 0612345678 on 201" in status


async def test_a_forwarded_call_is_between_bob_and_carol_with_no_cf_tag(office: Office) -> None:
    office.pbx.set_forward("201", "CF", "203")
    ring_forever(office.pbx, "203")
    office.pbx.phone("202").answer_after = 0.5
    office.pbx.call("202", "201")
    view = PresenceView(office.services)
    state = office.harness.state
    await office.until(
        lambda: any(ch.extension == "203" and ch.state != 6 for ch in state.channels.values())
    )
    await office.until(lambda: view.of_extensions(["203"], "en").show == "away")
    ringing = view.of_extensions(["203"], "it")
    assert ringing.status == "Squilla: chiamata da Bob Brown (202)", ringing
    office.pbx.answer("203")
    await office.until(lambda: bridged(office, "203"))
    await office.until(lambda: view.of_extensions(["203"], "en").show == "xa")
    carol_sees = view.of_extensions(["203"], "it").status
    bob_sees = view.of_extensions(["202"], "it").status
    assert carol_sees.startswith("Al telefono con Bob Brown (202) dalle"), carol_sees
    assert bob_sees.startswith("Al telefono con Carol Clark (203) dalle"), bob_sees
    for text in (carol_sees, bob_sees, view.of_extensions(["203", "207"], "en").status):
        assert "CF:" not in text
    who = await dispatch(office.services, office.users["alice"], "who") or ""
    assert "Bob Brown (202): on the phone with Carol Clark (203)" in who
    assert "Carol Clark (203, 207): on the phone with Bob Brown (202)" in who


async def test_a_parked_call_picked_up_is_named(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    office.pbx.phone("201").answer_after = 0.5
    office.pbx.phone("202").answer_after = 0.5
    await office.services.calls.call(alice, "202")
    await office.until(lambda: bridged(office, "202"))
    office.services.calls.park_confirm = 10.0
    parked = await office.services.calls.park(alice)
    assert parked.destination
    reply = await dispatch(office.services, carol, f"pickup {parked.destination}")
    assert reply == (
        f"Your phone rings: the call from Bob Brown (202) parked on {parked.destination}."
    )


async def test_forwarded_to_a_colleague_shows_their_name(office: Office) -> None:
    bob = office.users["bob"]
    assert await dispatch(office.services, bob, "inoltro carol") == (
        "Le chiamate ora sono inoltrate sempre verso Carol Clark (203)."
    )
    view = PresenceView(office.services)
    await office.until(lambda: view.of_extensions(["202"], "en").show == "away")
    assert view.of_extensions(["202"], "en").status == "Forwarded to Carol Clark (203)"
    status = await dispatch(office.services, bob, "stato") or ""
    assert "inoltro sempre verso Carol Clark (203)" in status


async def test_listening_in_names_the_colleague(office: Office) -> None:
    alice, carol = office.users["alice"], office.users["carol"]
    assert await dispatch(office.services, carol, "spy dave") == (
        "Dave Davis (204) is not on a call."
    )
    office.pbx.phone("201").answer_after = 0.5
    office.pbx.phone("202").answer_after = 0.5
    await office.services.calls.call(alice, "202")
    await office.until(lambda: bridged(office, "202"))
    assert await dispatch(office.services, carol, "spy bob") == (
        "Your phone rings: then you hear Bob Brown (202)'s call."
    )


async def test_a_phone_named_in_the_configuration_is_named_too(office: Office) -> None:
    from dataclasses import replace

    config = office.services.config
    others = tuple(u for u in config.users if "206" not in u.extensions)
    office.services.config = replace(
        config, users=others, pbx=replace(config.pbx, names={"206": "Meeting room"})
    )
    ring_forever(office.pbx, "206")
    placed = await dispatch(office.services, office.users["alice"], "call 206")
    assert placed is not None
    office.pbx.phone("201").answer_after = 0.5
    await office.until(
        lambda: any(ch.extension == "206" for ch in office.harness.state.channels.values())
    )
    office.pbx.answer("206")
    await office.until(lambda: bridged(office, "206"))
    status = await dispatch(office.services, office.users["alice"], "status") or ""
    assert "On a call with Meeting room (206) on 201" in status, status


def test_a_forwarded_call_on_the_real_asterisk_names_both_parties() -> None:
    """dnd_and_cf_astdb: 204 calls 203, whose CF/203=205 sends it on through
    ``Local/205@from-internal``; mid-call, 204 and 205 talk with each other."""
    from conftest import capture_bytes

    from ctibot.config import Config, PbxConfig, UserConfig
    from ctibot.pbx.framing import AmiFramer
    from ctibot.pbx.layout import LAB_LAYOUT
    from ctibot.pbx.state import PbxState
    from ctibot.services import load_services

    class Offline:
        connected = False

        async def send(self, action: dict[str, str]) -> None:
            raise AssertionError("nothing is sent")

    users = (
        UserConfig("carol", "Carol Clark", ("203",)),
        UserConfig("dave", "Dave Davis", ("204",)),
        UserConfig("eve", "Eve Evans", ("205",)),
    )
    state = PbxState.for_replay(LAB_LAYOUT)
    services = load_services(
        Config(Path("lab.toml"), PbxConfig(secret="x"), users), state, Offline()
    )
    view = PresenceView(services)
    seen: dict[str, set[str]] = {"204": set(), "205": set()}
    both = False
    for msg in AmiFramer().feed(capture_bytes("dnd_and_cf_astdb")):
        state.apply(msg)
        for ext in seen:
            presence = services.info.presence_of_extension(ext)
            if presence.talking_with:
                seen[ext].add(presence.talking_with)
            assert "CF:" not in view.of_extensions([ext], "en").status
        both = both or (
            services.info.presence_of_extension("204").talking_with == "Eve Evans (205)"
            and services.info.presence_of_extension("205").talking_with == "Dave Davis (204)"
        )
    assert both  # at some moment each shows the other, in the one naming rule
    assert seen == {"204": {"Eve Evans (205)"}, "205": {"Dave Davis (204)"}}


LAB_USERS = (
    ("alice", "Alice Anders", "201"),
    ("bob", "Bob Brown", "202"),
    ("carol", "Carol Clark", "203"),
    ("dave", "Dave Davis", "204"),
    ("eve", "Eve Evans", "205"),
    ("frank", "Frank Fisher", "206"),
)


@pytest.mark.parametrize(
    "capture",
    [
        "inbound_call_did",
        "queue_call",
        "originate_answer_hangup",
        "blind_transfer",
        "redirect_transfer",
        "attended_transfer",
        "park_and_pickup",
        "dnd_and_cf_astdb",
        "mixmonitor",
        "chanspy",
        "conference",
    ],
)
def test_on_the_real_asterisk_nobody_talks_with_themselves(capture: str) -> None:
    """At every event of a capture, no presence names its own phone's person as the
    other party, and no PBX tag (CF:) shows."""
    from conftest import capture_bytes

    from ctibot.config import Config, PbxConfig, UserConfig
    from ctibot.pbx.framing import AmiFramer
    from ctibot.pbx.layout import LAB_LAYOUT
    from ctibot.pbx.state import PbxState
    from ctibot.services import load_services

    class Offline:
        connected = False

        async def send(self, action: dict[str, str]) -> None:
            raise AssertionError("nothing is sent")

    users = tuple(UserConfig(n, f, (e,)) for n, f, e in LAB_USERS)
    state = PbxState.for_replay(LAB_LAYOUT)
    services = load_services(
        Config(Path("lab.toml"), PbxConfig(secret="x"), users), state, Offline()
    )
    view = PresenceView(services)
    named = 0
    for msg in AmiFramer().feed(capture_bytes(capture)):
        state.apply(msg)
        if msg.get("Event") not in ("BridgeEnter", "BridgeLeave", "DialBegin", "Newstate"):
            continue
        for user in users:
            (ext,) = user.extensions
            presence = services.info.presence_of(user)
            for call in presence.calls:
                assert call.party_name != user.fullname or call.party == ext, (msg, call)
                assert call.party_name is None or "CF:" not in call.party_name
                named += call.party_name is not None
            for language in ("en", "it"):
                text = view.of_extensions([ext], language).status
                assert "CF:" not in text and f"{user.fullname} (" not in text, (ext, text)
    # The parties were named, not only left out; in a conference the call is to the
    # conference (800), never to one participant, so nobody is named there.
    assert named or capture == "conference"


def test_in_a_conference_nobody_is_shown_talking_with_one_participant() -> None:
    """conference: 201, 202 and 203 each call 800; while the three are in, each one's
    call is a call to the conference, not to one of the others."""
    from conftest import capture_bytes

    from ctibot.config import Config, PbxConfig, UserConfig
    from ctibot.pbx.framing import AmiFramer
    from ctibot.pbx.layout import LAB_LAYOUT
    from ctibot.pbx.state import PbxState
    from ctibot.services import load_services

    users = tuple(UserConfig(n, f, (e,)) for n, f, e in LAB_USERS[:3])
    state = PbxState.for_replay(LAB_LAYOUT)
    services = load_services(
        Config(Path("lab.toml"), PbxConfig(secret="x"), users), state, object()
    )
    people = {u.fullname for u in users}
    checked = 0
    for msg in AmiFramer().feed(capture_bytes("conference")):
        state.apply(msg)
        bridges = [ch.bridge for ch in state.channels.values() if ch.bridge]
        if not any(bridges.count(b) >= 3 for b in bridges):
            continue
        for user in users:
            talking = services.info.presence_of(user).talking_with
            assert not any(name in (talking or "") for name in people), (user.name, talking)
            checked += 1
    assert checked


async def test_a_click_to_call_ringing_the_callers_phone_says_whom_it_calls(
    office: Office,
) -> None:
    alice = office.users["alice"]
    ring_forever(office.pbx, "201")
    await office.services.calls.call(alice, "bob")
    view = PresenceView(office.services)
    await office.until(lambda: view.of_extensions(["201"], "en").show == "away")
    assert view.of_extensions(["201"], "en").status == "Ringing: calling Bob Brown (202)"
    assert view.of_extensions(["201"], "it").status == "Squilla: chiamata verso Bob Brown (202)"
