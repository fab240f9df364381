"""The status command names a call in voicemail as such: "Leaving a message for …", not a call."""

from __future__ import annotations

from dataclasses import replace

from ctibot.commands import dispatch
from ctibot.i18n import translate
from ctibot.loader import discover
from ctibot.pbx import actions as a
from ctibot.plugins.board.http import SCRIPT_KEYS

from services_fixtures import Office

discover()  # every plugin's strings in the catalogue


async def test_status_of_a_caller_sent_to_voicemail_says_leaving_a_message(
    office: Office,
) -> None:
    """Alice (201, with a mailbox) is on DND; Bob (202) calls her: the PBX runs VoiceMail."""
    pbx = office.pbx
    pbx.set_dnd("201", True)
    pbx.call("202", "201")
    await office.until(
        lambda: any(c.state == "voicemail" for c in office.harness.state.calls.values())
    )
    bob = office.users["bob"]  # Italian
    reply = await dispatch(office.services, bob, "status")
    assert reply is not None
    assert "Lascia un messaggio per Alice Anders (201) su 202 da " in reply, reply
    assert "In chiamata" not in reply
    english = await dispatch(office.services, replace(bob, language="en"), "status")
    assert "Leaving a message for Alice Anders (201) on 202 for " in english, english
    assert "On a call" not in english


async def test_status_of_a_plain_call_still_says_on_a_call(office: Office) -> None:
    office.pbx.call("202", "201")
    await office.until(lambda: any(c.state == "up" for c in office.harness.state.calls.values()))
    reply = await dispatch(office.services, office.users["alice"], "status")
    assert reply is not None and "On a call with Bob Brown (202) on 201 for " in reply, reply
    assert "message" not in reply


async def test_status_in_a_conference_names_the_room_not_a_party(office: Office) -> None:
    office.pbx.call("201", "800")
    await office.until(
        lambda: any(c.conference == "800" for c in office.harness.state.calls.values())
    )
    alice = office.users["alice"]
    reply = await dispatch(office.services, alice, "status")
    assert reply is not None and "In conference 800 on 201 for " in reply, reply
    assert "On a call" not in reply
    italian = await dispatch(office.services, replace(alice, language="it"), "status")
    assert "In conferenza 800 su 201 da " in italian, italian


async def test_status_of_a_spy_says_whom_it_listens_to(office: Office) -> None:
    office.pbx.call("201", "202")
    await office.until(lambda: any(c.state == "up" for c in office.harness.state.calls.values()))
    alice = next(ch for ch in office.harness.state.channels.values() if ch.extension == "201")
    await office.harness.client.send(a.spy("PJSIP/203", alice.name))
    await office.until(lambda: any(c.spied == "201" for c in office.harness.state.calls.values()))
    carol = office.users["carol"]
    reply = await dispatch(office.services, carol, "status")
    assert reply is not None and "Listening to Alice Anders (201) on 203 for " in reply, reply
    assert "On a call" not in reply


async def test_the_echo_test_is_a_call_up_to_43_not_ringing_nobody(office: Office) -> None:
    """Alice's phone dials *43 (Test echo, or by hand): the PBX answers it with Echo()."""
    office.pbx.press("201", "*43")
    state = office.harness.state
    await office.until(lambda: any(c.dialed == "*43" for c in state.calls.values()))
    (call,) = [c for c in state.snapshot()["calls"] if c["from"] == "201"]
    assert (call["to"], call["state"], call["answered_by"]) == ("*43", "up", None)
    reply = await dispatch(office.services, office.users["alice"], "status")
    assert reply is not None and "On a call with *43 on 201 for " in reply, reply
    office.pbx.hangup("201")
    await office.until(lambda: not state.calls)


async def test_the_board_shows_a_caller_in_voicemail_as_leaving_a_message(board: Office) -> None:
    board.pbx.set_dnd("201", True)
    board.pbx.call("202", "201")
    await board.until(
        lambda: any(c.state == "voicemail" for c in board.harness.state.calls.values())
    )
    (call,) = board.services.board.extension_rows()["202"]["calls"]
    assert (call["state"], call["party"], call["name"]) == ("voicemail", "201", "Alice Anders")
    assert translate("board.web.call.voicemail", "en") == "leaving a message"
    assert translate("board.web.call.voicemail", "it") == "lascia un messaggio"
    assert "call.voicemail" in SCRIPT_KEYS  # the page's script has its words


async def test_the_call_box_names_the_box_a_caller_is_leaving_a_message_in(
    office: Office,
) -> None:
    office.pbx.set_dnd("201", True)
    office.pbx.call("202", "201")
    await office.until(
        lambda: any(c.state == "voicemail" for c in office.harness.state.calls.values())
    )
    (call,) = office.services.calls.my_calls(office.users["bob"])
    assert (call["state"], call["label"]) == ("voicemail", "Alice Anders (201)")
    assert translate("calls.web.voicemail", "en") == "in voicemail"
