"""A phone no user owns (a meeting room) has its virtual JID, presence, vCard name and disco."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest_asyncio
from slixmpp.exceptions import IqError

from ctibot.demo.office import Office as DemoOffice
from ctibot.demo.office import User
from ctibot.demo.server import DemoPbx
from ctibot.sandbox.xmpp_servers import ProsodyServer

from harness import until
from office import SCALE, Office
from xmpp_fixtures import (
    ACCOUNTS,
    COMPONENT,
    COMPONENT_SECRET,
    DOMAIN,
    prosody_installed,
    require,
)

ROOM = f"210@{COMPONENT}"


@pytest_asyncio.fixture
async def office(tmp_path: Path) -> AsyncIterator[Office]:
    """The story office, whose PBX also has a meeting-room phone (210) that no user owns."""
    require("prosody", prosody_installed())
    phones = DemoOffice()
    phones.users["210"] = User("210", "Meeting room")
    async with (
        ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server,
        DemoPbx(phones, time_scale=SCALE) as pbx,
    ):
        office = Office(server, pbx, tmp_path)
        layout_extensions = {e for u in office.config.users for e in u.extensions}
        assert "210" not in layout_extensions
        pbx_config = replace(office.config.pbx, names={"210": "Meeting room"})
        office.config = replace(office.config, pbx=pbx_config)
        await office.start_ctibot()
        try:
            yield office
        finally:
            await office.close()


async def test_a_meeting_room_phone_shows_in_the_roster(office: Office) -> None:
    alice = await office.login("alice")
    alice.client.send_presence(pto=ROOM, ptype="subscribe")
    await until(lambda: alice.show_of(ROOM) is not None)
    assert alice.show_of(ROOM) == ("available", "", "Available")
    nick = alice.presences[ROOM].xml.find("{http://jabber.org/protocol/nick}nick")
    assert nick is not None and nick.text == "210 (Meeting room)"
    # Someone calls the meeting room: alice's roster shows it ringing, then busy.
    office.pbx.phone("210").answer_after = 2.0
    office.pbx.call("202", "210")
    await until(lambda: (alice.show_of(ROOM) or ("", "", ""))[2].startswith("Ringing"))
    await until(lambda: (alice.show_of(ROOM) or ("", "", ""))[1] == "xa")
    assert "Bob Brown (202)" in alice.show_of(ROOM)[2]
    office.pbx.hangup("210")
    await until(lambda: alice.show_of(ROOM) == ("available", "", "Available"))
    # Its DND, set in AstDB behind ctibot's back, reaches the roster by the poll.
    office.pbx.office.astdb.put("DND", "210", "YES")
    await until(lambda: (alice.show_of(ROOM) or ("", "", ""))[1] == "dnd")
    # disco#info answers for the room, and no longer for a JID the PBX does not have.
    disco = alice.client.plugin["xep_0030"]
    info = await disco.get_info(jid=ROOM, timeout=5)
    assert ("client", "phone", None, "210 (Meeting room)") in info["disco_info"]["identities"]
    try:
        await disco.get_info(jid=f"299@{COMPONENT}", timeout=5)
        raise AssertionError("299 is no phone of the PBX")
    except IqError as exc:
        assert exc.condition == "item-not-found"
    # A subscription to a phone the PBX does not have is refused.
    refused: list[str] = []
    alice.client.add_event_handler(
        "presence_unsubscribed", lambda p: refused.append(p["from"].bare)
    )
    alice.client.send_presence(pto=f"299@{COMPONENT}", ptype="subscribe")
    await until(lambda: f"299@{COMPONENT}" in refused)
