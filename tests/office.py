"""A whole office for XMPP stories: real Prosody, the demo PBX, ctibot, and users' chat clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest_asyncio
import slixmpp

from ctibot.app import CtiApp
from ctibot.config import Config, UserConfig, XmppConfig
from ctibot.demo.config import office_config
from ctibot.demo.server import DemoPbx
from ctibot.sandbox.xmpp_servers import EjabberdServer, ProsodyServer

from harness import until
from xmpp_fixtures import (
    ACCOUNTS,
    COMPONENT,
    COMPONENT_SECRET,
    DOMAIN,
    prosody_installed,
    require,
    xmpp_client,
    xmpp_disconnect,
)

SCALE = 0.05
#: ctibot's AMI timings in the stories: a lost PBX is noticed and found again quickly.
TIMINGS = dict(
    reconnect_min=0.05, reconnect_max=0.3, ping_interval=0.3, ping_timeout=0.5, astdb_poll=0.5
)


@dataclass
class Person:
    """A user's chat client, with everything it received."""

    name: str
    client: slixmpp.ClientXMPP
    messages: list[Any] = field(default_factory=list)
    presences: dict[str, Any] = field(default_factory=dict)  # bare JID -> last presence
    subscriptions: list[Any] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [m["body"] for m in self.messages if m["body"]]

    def show_of(self, jid: str) -> tuple[str, str, str] | None:
        """(type, show, status) of the last presence from ``jid``."""
        p = self.presences.get(jid)
        return None if p is None else (p["type"], p["show"], p["status"])

    async def say(self, body: str, to: str = COMPONENT) -> None:
        self.client.send_message(mto=to, mbody=body, mtype="chat")

    async def ask(self, body: str, to: str = COMPONENT, timeout: float = 10) -> str:
        """Send a command and return the reply."""
        before = len(self.texts())
        await self.say(body, to)
        await until(lambda: len(self.texts()) > before, timeout)
        return self.texts()[before]


def xmpp_office_config(
    pbx: DemoPbx, server: ProsodyServer | EjabberdServer, db: Path
) -> Config:
    """The office of the XMPP stories: alice, bob (Italian, a mobile), dave (no chat account)."""
    users = (
        UserConfig(
            "alice",
            "Alice Anders",
            ("201",),
            jid=f"alice@{DOMAIN}",
            language="en",
            profile="supervisor",
        ),
        UserConfig(
            "bob", "Bob Brown", ("202",), mobile="+393331234567", jid=f"bob@{DOMAIN}", language="it"
        ),
        UserConfig("dave", "Dave Davis", ("204",), language="en"),  # no XMPP account
    )
    return office_config(
        pbx.office,
        port=pbx.port,
        path=db.parent / "office.toml",
        users=users,
        database=db,
        pbx=TIMINGS,
        xmpp=XmppConfig(
            COMPONENT,
            COMPONENT_SECRET,
            server.host,
            server.component_port,
            DOMAIN,
            reconnect_min=0.1,
            reconnect_max=0.5,
            rate_limit=8,
            rate_window=2.0,
        ),
    )


class Office:
    """The running office of one test."""

    def __init__(self, server: ProsodyServer | EjabberdServer, pbx: DemoPbx, tmp: Path) -> None:
        self.server = server
        self.pbx = pbx
        self.config = xmpp_office_config(pbx, server, tmp / "ctibot.sqlite")
        self.app: CtiApp | None = None
        self.people: dict[str, Person] = {}

    async def start_ctibot(self, **changes: Any) -> CtiApp:
        config = replace(self.config, **changes) if changes else self.config
        self.app = CtiApp(config)
        await self.app.start()
        await self.app.ami.wait_ready(5)
        assert self.app.xmpp is not None
        await asyncio.wait_for(self.app.xmpp.xmpp.online.wait(), 5)
        return self.app

    async def stop_ctibot(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def login(
        self,
        name: str,
        *,
        resource: str = "laptop",
        accept_subscriptions: bool = True,
        plugins: tuple[str, ...] = (),
    ) -> Person:
        client = await xmpp_client(
            self.server,
            name,
            resource=resource,
            plugins=("xep_0030", "xep_0004", "xep_0050", "xep_0184", *plugins),
            available=False,
        )
        person = Person(name, client)
        client.add_event_handler("message", person.messages.append)

        def on_presence(pres: Any) -> None:
            if pres["type"] in ("available", "unavailable", *pres.showtypes):
                person.presences[pres["from"].bare] = pres

        client.add_event_handler("presence", on_presence)
        client.add_event_handler("presence_subscribe", person.subscriptions.append)
        client.auto_authorize = accept_subscriptions
        client.auto_subscribe = accept_subscriptions
        await client.get_roster()
        client.send_presence()
        # A server round trip: the server handles a session's stanzas in order, so once
        # this answers it holds the presence, and a popup sent at once (a headline to
        # the bare JID while ctibot has not yet seen the user) is not dropped.
        await client.plugin["xep_0030"].get_info(jid=client.boundjid.domain, timeout=5)
        self.people[name] = person
        return person

    async def logout(self, name: str) -> None:
        person = self.people.pop(name)
        await xmpp_disconnect(person.client)

    async def close(self) -> None:
        for name in list(self.people):
            with contextlib.suppress(Exception):
                await self.logout(name)
        await self.stop_ctibot()


@pytest_asyncio.fixture
async def chat_office(tmp_path: Path) -> AsyncIterator[Office]:
    """The office of the XMPP stories, running (Prosody, the demo PBX, ctibot)."""
    require("prosody", prosody_installed())
    async with (
        ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server,
        DemoPbx(time_scale=SCALE) as pbx,
    ):
        office = Office(server, pbx, tmp_path)
        await office.start_ctibot()
        try:
            yield office
        finally:
            await office.close()


async def team_up(office: Office, person: Person) -> None:
    """``team`` and wait until the subscriptions it starts are mutual.

    While they are being set up the server sends ctibot a burst of the person's
    presences (unavailable ones too, from the bare JID): ctibot's idea of whether
    they are online flips back and forth until then. Waiting for the roster makes
    every later change of their presence (logout, dnd) the last word.
    """
    gateway = office.app.xmpp  # type: ignore[union-attr]
    team = {f"{local}@{COMPONENT}" for local in gateway.jids.contacts()}
    await person.ask("team")
    roster = person.client.client_roster
    await until(lambda: all(roster[jid]["subscription"] == "both" for jid in team))
