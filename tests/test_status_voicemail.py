"""The status command names a call in voicemail as such: "Leaving a message for …", not a call."""

from __future__ import annotations

from dataclasses import replace

from ctibot.commands import dispatch

from services_fixtures import Office


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
