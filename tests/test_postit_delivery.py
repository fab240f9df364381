"""Post-its through a real Prosody: a late one carries XEP-0203 delay; reading one tells the author.

Raw slixmpp clients (no xep_0203 / xep_0333 plugins on the receiving side): the stanza's
XML is what is checked.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from test_postit_xmpp import postits

from office import COMPONENT, Office, Person, team_up, until
from xmpp_fixtures import xmpp_client

DELAY = "{urn:xmpp:delay}delay"
MARKERS = "urn:xmpp:chat-markers:0"
ALICE_CTI, BOB_CTI = f"alice@{COMPONENT}", f"bob@{COMPONENT}"


def notes(person: Person, jid: str) -> list[Any]:
    return [m for m in person.messages if m["from"].bare == jid and m["body"]]


def watch_markers(person: Person) -> Person:
    """Keep the message stanzas carrying a displayed marker (slixmpp's "message" event
    fires only for those with a body)."""
    got: list[Any] = person.client.__dict__.setdefault("markers", [])
    path = f"{{jabber:client}}message/{{{MARKERS}}}displayed"
    person.client.register_handler(Callback("markers", MatchXPath(path), got.append))
    return person


async def login_watching(office: Office, name: str) -> Person:
    """Log in with the marker handler in place before the first presence: whatever the
    server kept for the user (offline storage) is seen too."""
    client = await xmpp_client(
        office.server, name, resource="phone", plugins=("xep_0030",), available=False
    )
    person = watch_markers(Person(name, client))
    client.add_event_handler("message", person.messages.append)
    await client.get_roster()
    client.send_presence()
    await client.plugin["xep_0030"].get_info(jid=client.boundjid.domain, timeout=5)
    office.people[name] = person  # logged out when the office closes
    return person


def markers(person: Person, jid: str) -> list[str]:
    """The ids of the XEP-0333 displayed markers ``person`` got from ``jid``."""
    found = []
    for m in person.client.__dict__.get("markers", []):
        marker = m.xml.find(f"{{{MARKERS}}}displayed")
        if m["from"].bare == jid and marker is not None:
            found.append(marker.get("id"))
    return found


def write(person: Person, to: str, body: str, mid: str) -> None:
    msg = person.client.make_message(mto=to, mbody=body, mtype="chat")
    msg["id"] = mid
    msg.send()


def displayed(person: Person, to: str, mid: str) -> None:
    msg = person.client.make_message(mto=to, mtype="chat")
    msg.append(ET.Element(f"{{{MARKERS}}}displayed", {"id": mid}))
    msg.send()


async def bob_offline(office: Office) -> None:
    bob = await office.login("bob")
    await team_up(office, bob)
    hooks = office.app.xmpp.hooks  # type: ignore[union-attr]
    bob_user = office.config.users[1]
    await until(lambda: hooks.is_online(bob_user))
    await office.logout("bob")
    await until(lambda: hooks.is_online(bob_user) is False)


async def test_a_postit_that_waited_carries_the_time_it_was_written(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    await bob_offline(chat_office)
    assert "offline" in await alice.ask("postit bob the courier came")
    (waiting,) = postits(chat_office)
    bob = await chat_office.login("bob")
    await until(lambda: notes(bob, ALICE_CTI))
    (note,) = notes(bob, ALICE_CTI)
    delay = note.xml.find(DELAY)
    assert delay is not None, str(note)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(waiting["created"]))
    assert delay.get("stamp") == stamp and delay.get("from") == COMPONENT
    # One sent at once carries none: it is news now.
    await alice.say("and the plumber", to=BOB_CTI)
    await until(lambda: len(notes(bob, ALICE_CTI)) == 2)
    assert notes(bob, ALICE_CTI)[1].xml.find(DELAY) is None


async def test_bob_reading_it_shows_it_read_in_alice_s_client(chat_office: Office) -> None:
    alice = watch_markers(await chat_office.login("alice"))
    bob = await chat_office.login("bob")
    write(alice, BOB_CTI, "first", "alice-1")
    write(alice, BOB_CTI, "second", "alice-2")
    await until(lambda: len(notes(bob, ALICE_CTI)) == 2)
    assert [p["origin_id"] for p in postits(chat_office)] == ["alice-1", "alice-2"]
    # Bob's client says it showed the second (and so the first): Alice's client hears
    # "displayed" for the id it sent, from bob@cti, the conversation she wrote in.
    displayed(bob, ALICE_CTI, notes(bob, ALICE_CTI)[1]["id"])
    await until(lambda: markers(alice, BOB_CTI))
    assert markers(alice, BOB_CTI) == ["alice-2"]
    assert all(p["read"] is not None for p in postits(chat_office))
    # Read with the command: the marker comes too.
    write(alice, BOB_CTI, "third", "alice-3")
    await until(lambda: len(notes(bob, ALICE_CTI)) == 3)
    third = postits(chat_office)[2]["id"]
    await bob.ask(f"postit leggi {third}")
    await until(lambda: len(markers(alice, BOB_CTI)) == 2)
    assert markers(alice, BOB_CTI) == ["alice-2", "alice-3"]


async def test_hostile_ids_are_neither_kept_nor_echoed(chat_office: Office) -> None:
    alice = watch_markers(await chat_office.login("alice"))
    bob = await chat_office.login("bob")
    write(alice, BOB_CTI, "long id", "a" * 200)
    write(alice, BOB_CTI, "odd id", "x'><b>y")
    await until(lambda: len(notes(bob, ALICE_CTI)) == 2)
    assert [p["origin_id"] for p in postits(chat_office)] == [None, None]
    # A marker with an id no message of ctibot's has (huge, markup): nothing is read.
    displayed(bob, ALICE_CTI, "z" * 5000)
    displayed(bob, ALICE_CTI, "<script>")
    await bob.ask("postits")  # a round trip: the markers were handled before its answer
    assert all(p["read"] is None for p in postits(chat_office))
    displayed(bob, ALICE_CTI, notes(bob, ALICE_CTI)[1]["id"])
    await until(lambda: all(p["read"] is not None for p in postits(chat_office)))
    await alice.ask("postits")  # a round trip: a marker for alice would have come first
    assert markers(alice, BOB_CTI) == []


async def test_alice_offline_gets_no_marker_and_sees_it_read_in_her_list(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    await team_up(chat_office, alice)
    hooks = chat_office.app.xmpp.hooks  # type: ignore[union-attr]
    alice_user = chat_office.config.users[0]
    bob = await chat_office.login("bob")
    write(alice, BOB_CTI, "see you", "alice-9")
    await until(lambda: notes(bob, ALICE_CTI))
    await chat_office.logout("alice")
    await until(lambda: hooks.is_online(alice_user) is False)
    displayed(bob, ALICE_CTI, notes(bob, ALICE_CTI)[0]["id"])
    await until(lambda: postits(chat_office)[0]["read"] is not None)
    alice = await login_watching(chat_office, "alice")
    assert "read " in await alice.ask("postits sent")
    assert markers(alice, BOB_CTI) == []
