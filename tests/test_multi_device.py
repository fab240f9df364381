"""A user with two devices (desk phone and softphone) on one extension, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from ctibot.demo import DemoPbx, Office
from ctibot.demo.office import Phone
from ctibot.pbx import events as ev
from ctibot.sandbox.xmpp_servers import ProsodyServer
from tests.demo_fixtures import RawAmiClient

from harness import SCALE, Harness, until
from office import Office as XmppOffice
from office import team_up
from xmpp_fixtures import ACCOUNTS, COMPONENT, COMPONENT_SECRET, DOMAIN, prosody_installed, require

SOFTPHONE = "PJSIP/91201"
V202 = f"202@{COMPONENT}"


def office_with_softphone(desk: Phone, soft: Phone) -> Office:
    office = Office()
    office.users["201"].phone = desk
    office.add_device("201", SOFTPHONE, soft)
    return office


async def connected(pbx: DemoPbx) -> tuple[Harness, RawAmiClient]:
    harness = Harness(pbx)
    harness.client.start()
    await harness.client.wait_ready(5)
    raw = RawAmiClient()
    await raw.login(pbx.port)
    return harness, raw


def is_event(name: str, channel_prefix: str, field: str = "DestChannel"):
    return lambda m: m.get("Event") == name and m.get(field, "").startswith(channel_prefix)


def extension(harness: Harness, ext: str = "201") -> dict:
    return harness.state.snapshot()["extensions"][ext]


def test_add_device_refuses_what_a_pbx_would_not_have() -> None:
    office = Office()
    office.add_device("201", SOFTPHONE)
    with pytest.raises(ValueError, match="not a free PJSIP device"):
        office.add_device("202", SOFTPHONE)  # already 201's
    with pytest.raises(ValueError, match="not a free PJSIP device"):
        office.add_device("202", "PJSIP/201")  # another user's desk phone
    with pytest.raises(ValueError, match="one device each"):
        Office.lab().add_device("201", "PJSIP/91201")
    assert office.hint("201") == "PJSIP/201&PJSIP/91201&Custom:DND201"
    assert office.layout().devices == {SOFTPHONE: "201"}
    assert office.extension_of_device(SOFTPHONE) == "201"


async def test_softphone_answers_and_the_desk_phone_stops_ringing() -> None:
    office = office_with_softphone(Phone(answer_after=None), Phone(answer_after=2.0))
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        harness, raw = await connected(pbx)
        try:
            pbx.call("202", "201")
            # Both devices ring for the one call; ctibot shows one call ringing at 201.
            await raw.wait_for(is_event("DialBegin", "PJSIP/201-"))
            await raw.wait_for(is_event("DialBegin", SOFTPHONE + "-"))
            await harness.until(lambda: extension(harness)["status"] == "ringing")
            ringing = [c for c in harness.state.snapshot()["calls"] if c["state"] == "ringing"]
            assert [(c["from"], c["to"]) for c in ringing] == [("202", "201")]
            assert extension(harness)["devices"] == {"PJSIP/201": "RINGING", SOFTPHONE: "RINGING"}
            # The softphone answers: the desk phone's leg is cancelled (answered elsewhere).
            await raw.wait_for(is_event("DialEnd", "PJSIP/201-"))
            hangup = await raw.wait_for(is_event("Hangup", "PJSIP/201-", "Channel"))
            assert hangup["Cause"] == "26"
            await harness.until(lambda: extension(harness)["devices"].get(SOFTPHONE) == "INUSE")
            assert extension(harness)["status"] == "busy"
            assert extension(harness)["devices"]["PJSIP/201"] == "NOT_INUSE"
            (call,) = harness.state.snapshot()["calls"]
            assert (call["from"], call["to"], call["state"]) == ("202", "201", "up")
            # The call ends; its record says 201 answered it.
            for ch in list(pbx.engine.channels.values()):
                if ch.device == SOFTPHONE:
                    pbx.engine.hangup(ch, 16)
            await harness.until(lambda: harness.of(ev.CallEnded))
            (ended,) = harness.of(ev.CallEnded)
            record = ended.record
            assert (record.from_, record.to, record.answered, record.answered_by) == (
                "202",
                "201",
                True,
                "201",
            )
            await harness.until(lambda: extension(harness)["status"] == "idle")
        finally:
            await raw.close()
            await harness.client.stop()


async def test_nobody_answers_and_the_call_goes_to_voicemail() -> None:
    office = office_with_softphone(Phone(answer_after=None), Phone(answer_after=None))
    office.ring_timeout = 3.0
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        harness, raw = await connected(pbx)
        try:
            pbx.call("202", "201")
            ends = [
                await raw.wait_for(is_event("DialEnd", prefix))
                for prefix in ("PJSIP/201-", SOFTPHONE + "-")
            ]
            assert {e["DialStatus"] for e in ends} == {"NOANSWER"}
            # 202's channel is now in 201's mailbox (CoreShowChannels shows where).
            await raw.action({"Action": "CoreShowChannels", "ActionID": "c"})
            listed = [m for m in raw.messages if m.get("ActionID") == "c"]
            (caller,) = [m for m in listed if m.get("Event") == "CoreShowChannel"]
            assert (caller["Application"], caller["ApplicationData"]) == (
                "VoiceMail",
                "201@default,u",
            )
            await harness.until(
                lambda: all(s == "NOT_INUSE" for s in extension(harness)["devices"].values())
            )
        finally:
            await raw.close()
            await harness.client.stop()


async def test_busy_desk_phone_leaves_the_softphone_ringing() -> None:
    office = office_with_softphone(Phone(busy=True), Phone(answer_after=1.0))
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        harness, raw = await connected(pbx)
        try:
            answered = pbx.call("202", "201")
            end = await raw.wait_for(is_event("DialEnd", "PJSIP/201-"))
            assert end["DialStatus"] == "BUSY"
            await raw.wait_for(
                lambda m: is_event("DialEnd", SOFTPHONE + "-")(m) and m["DialStatus"] == "ANSWER"
            )
            assert await asyncio.wait_for(answered, 10) == "ANSWER"
            await harness.until(lambda: extension(harness)["status"] == "busy")
        finally:
            await raw.close()
            await harness.client.stop()


async def test_unregistered_softphone_does_not_make_the_user_unavailable() -> None:
    office = office_with_softphone(Phone(), Phone())
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        harness, raw = await connected(pbx)
        try:
            pbx.set_registered("201", False, SOFTPHONE)
            await harness.until(
                lambda: extension(harness)["devices"].get(SOFTPHONE) == "UNAVAILABLE"
            )
            assert extension(harness)["status"] == "idle"  # the desk phone still takes calls
            pbx.set_registered("201", False)
            await harness.until(lambda: extension(harness)["status"] == "unavailable")
            pbx.set_registered("201", True, SOFTPHONE)
            await harness.until(lambda: extension(harness)["status"] == "idle")
        finally:
            await raw.close()
            await harness.client.stop()


async def test_endpoints_list_every_device() -> None:
    office = office_with_softphone(Phone(), Phone(registered=False))
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        raw = RawAmiClient()
        await raw.login(pbx.port)
        try:
            raw.send({"Action": "PJSIPShowEndpoints", "ActionID": "e"})
            await raw.wait_for(lambda m: m.get("Event") == "EndpointListComplete")
            rows = {
                m["ObjectName"]: (m["DeviceState"], m["Contacts"])
                for m in raw.messages
                if m.get("Event") == "EndpointList"
            }
            assert rows["201"] == ("Not in use", "201/sip:201@127.0.0.1:5062")
            assert rows["91201"] == ("Unavailable", "")
        finally:
            await raw.close()


@pytest_asyncio.fixture
async def softphone_office(tmp_path: Path) -> AsyncIterator[XmppOffice]:
    """The stories' office, where bob (202) also has a softphone that answers first."""
    require("prosody", prosody_installed())
    demo = Office()
    demo.users["202"].phone = Phone(answer_after=None)
    demo.add_device("202", "PJSIP/91202", Phone(answer_after=2.0))
    async with (
        ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server,
        DemoPbx(demo, time_scale=SCALE) as pbx,
    ):
        office = XmppOffice(server, pbx, tmp_path)
        users = tuple(
            replace(u, devices=("PJSIP/91202",)) if u.name == "bob" else u
            for u in office.config.users
        )
        office.config = replace(office.config, users=users)
        await office.start_ctibot()
        try:
            yield office
        finally:
            await office.close()


async def test_bob_answers_on_his_softphone_one_popup_no_missed_call(
    softphone_office: XmppOffice,
) -> None:
    office = softphone_office
    alice = await office.login("alice")
    bob = await office.login("bob")
    await team_up(office, bob)
    await alice.ask("call 202")
    # Both of bob's devices ring: he gets one popup, and his roster shows 202 ringing.
    await until(lambda: any("ti sta chiamando" in t for t in bob.texts()))
    await until(lambda: len(office.pbx.channels_of("202")) == 1)  # desk phone cancelled
    await until(lambda: (bob.show_of(V202) or ("", "", ""))[1] == "xa")
    assert bob.show_of(V202)[2].startswith("Al telefono con Alice Anders (201)")
    answered = office.pbx.channels_of("202")[0]
    assert answered.name.startswith("PJSIP/91202-")
    # The call ends; bob answered it himself, so nothing says he missed it.
    office.pbx.engine.hangup(answered, 16)
    await until(lambda: (bob.show_of(V202) or ("", "", ""))[1] == "")
    popups = [t for t in bob.texts() if "ti sta chiamando" in t]
    assert len(popups) == 1
    follow_ups = [t for t in bob.texts() if "persa" in t.lower() or "risposto" in t.lower()]
    assert follow_ups == []
    # His call list shows the call as answered (a duration), not as missed.
    await until(lambda: office.app is not None and office.app.state.recent_calls)
    await bob.say("chiamate")
    await until(lambda: any("ultime chiamate" in t for t in bob.texts()))
    history = next(t for t in bob.texts() if "ultime chiamate" in t)
    assert "da Alice Anders" in history and "persa" not in history
