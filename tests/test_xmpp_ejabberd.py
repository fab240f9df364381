"""The same component through ejabberd 23.01 (the shipped configuration's kind): a smoke set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from ctibot.demo.server import DemoPbx
from ctibot.sandbox.xmpp_servers import EjabberdServer

from office import COMPONENT, Office, until

SCALE = 0.05


@pytest_asyncio.fixture
async def office(ejabberd: EjabberdServer, tmp_path: Path) -> AsyncIterator[Office]:
    async with DemoPbx(time_scale=SCALE) as pbx:
        office = Office(ejabberd, pbx, tmp_path)
        await office.start_ctibot()
        try:
            yield office
        finally:
            await office.close()


async def test_commands_popups_and_roster_presence_through_ejabberd(office: Office) -> None:
    server = office.server
    assert isinstance(server, EjabberdServer)
    # ejabberd's way to put the phones in a roster (what mod_groups does on Prosody).
    await server.add_roster_item("alice", f"202@{COMPONENT}", "Bob's phone")
    alice = await office.login("alice")
    bob = await office.login("bob")
    reply = await alice.ask("whoami")
    assert "Alice Anders" in reply and "201" in reply
    await until(lambda: alice.show_of(f"202@{COMPONENT}") is not None)
    office.pbx.phone("202").answer_after = 2.0
    await alice.ask("call 202")
    await until(lambda: any("ti sta chiamando" in t for t in bob.texts()))
    await until(lambda: (alice.show_of(f"202@{COMPONENT}") or ("", "", ""))[1] == "xa")
    await bob.ask("nondisturbare on")
    assert office.pbx.office.astdb.get("DND", "202") == "YES"
