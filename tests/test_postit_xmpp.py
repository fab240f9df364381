"""Post-it stories through a real Prosody: a message to a colleague's virtual JID is a post-it."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from office import COMPONENT, Office, Person, team_up, until

MARKERS = "urn:xmpp:chat-markers:0"
ALICE_CTI, BOB_CTI = f"alice@{COMPONENT}", f"bob@{COMPONENT}"


def postits(chat_office: Office) -> list[dict[str, Any]]:
    """The post-its ctibot's database holds (a read-only look)."""
    path = chat_office.config.database.path
    if not Path(path).exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in db.execute("SELECT * FROM postits ORDER BY id")]
        except sqlite3.OperationalError:  # not created yet
            return []


def from_(person: Person, jid: str) -> list[Any]:
    """The messages with a body ``person`` received from ``jid``."""
    return [m for m in person.messages if m["from"].bare == jid and m["body"]]


async def test_alice_writes_to_bob_who_gets_it_from_her_reads_it_and_replies(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob", plugins=("xep_0333",))
    await alice.say("call the bank back", to=BOB_CTI)
    await until(lambda: from_(bob, ALICE_CTI))
    (note,) = from_(bob, ALICE_CTI)
    assert note["body"] == "call the bank back" and note["type"] == "chat"
    assert note.xml.find(f"{{{MARKERS}}}markable") is not None
    (kept,) = postits(chat_office)
    assert (kept["author"], kept["recipient"], kept["text"]) == ("alice", "bob", note["body"])
    assert kept["read"] is None and kept["message_id"] == note["id"]
    assert "not read yet" in await alice.ask("postits sent")
    # bob's client shows it and says so (XEP-0333): ctibot marks it read; alice sees it.
    bob.client.plugin["xep_0333"].send_marker(ALICE_CTI, note["id"], "displayed", mtype="chat")
    await until(lambda: postits(chat_office)[0]["read"] is not None)
    sent = await alice.ask("postits sent")
    assert "read " in sent and "not read" not in sent
    # bob answers in the same conversation: a post-it for alice, from bob@cti.
    await bob.say("done, they'll call you", to=ALICE_CTI)
    await until(lambda: from_(alice, BOB_CTI))
    assert from_(alice, BOB_CTI)[0]["body"] == "done, they'll call you"
    assert [(p["author"], p["recipient"]) for p in postits(chat_office)] == [
        ("alice", "bob"),
        ("bob", "alice"),
    ]
    listing = await alice.ask("postits")
    assert "Bob Brown" in listing and "done, they'll call you" in listing
    assert "postit" in await alice.ask("help")
    help_bob = await bob.ask("aiuto postit")
    assert "postit leggi" in help_bob and "bigliettino" in help_bob


async def test_bob_offline_gets_it_when_he_comes_back_once(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)  # his presence reaches ctibot once subscriptions are mutual
    hooks = chat_office.app.xmpp.hooks  # type: ignore[union-attr]
    bob_user = chat_office.config.users[1]
    await until(lambda: hooks.is_online(bob_user))
    await chat_office.logout("bob")
    await until(lambda: hooks.is_online(bob_user) is False)
    reply = await alice.ask("postit bob the courier came")
    assert "offline" in reply
    (waiting,) = postits(chat_office)
    assert waiting["delivered"] is None
    bob = await chat_office.login("bob")
    await until(lambda: from_(bob, ALICE_CTI))
    (note,) = from_(bob, ALICE_CTI)
    assert note["body"].startswith("[") and note["body"].endswith("] the courier came")
    assert postits(chat_office)[0]["delivered"] is not None
    # Anything else queued for him would have come before the answer to a command.
    await bob.ask("postits")
    assert len(from_(bob, ALICE_CTI)) == 1


async def test_bob_never_seen_online_gets_it_from_the_server_s_offline_store(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    hooks = chat_office.app.xmpp.hooks  # type: ignore[union-attr]
    assert hooks.is_online(chat_office.config.users[1]) is None  # no subscription: unknown
    await alice.say("the courier came", to=BOB_CTI)
    await until(lambda: postits(chat_office) and postits(chat_office)[0]["message_id"] is not None)
    bob = await chat_office.login("bob")  # Prosody keeps it for him; ctibot sends nothing again
    await until(lambda: from_(bob, ALICE_CTI))
    await bob.ask("postits")
    assert [m["body"] for m in from_(bob, ALICE_CTI)] == ["the courier came"]


async def test_a_stranger_writing_to_a_virtual_jid_stores_nothing(chat_office: Office) -> None:
    bob = await chat_office.login("bob")
    carol = await chat_office.login("carol")  # an account on the server, no ctibot user
    before = len(bob.messages)
    reply = await carol.ask("hello bob", to=BOB_CTI)
    assert "not a user" in reply
    assert postits(chat_office) == []
    await bob.ask("postits")  # a round trip through ctibot: nothing came before its answer
    assert [m["from"].bare for m in bob.messages[before:]] == [COMPONENT]


async def test_bad_input_gets_a_short_clear_answer_and_markup_stays_text(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    too_long = await alice.ask("x" * 100_000, to=BOB_CTI)
    assert "too long" in too_long and "100000" in too_long and len(too_long) < 200
    assert postits(chat_office) == []
    assert "no user “zorro”" in await alice.ask("postit zorro hi")
    assert "text" in await alice.ask("postit bob")
    markup = "<b>bold</b> & <script>alert(1)</script> ]]> &amp; {name}"
    await alice.say(markup, to=BOB_CTI)
    await until(lambda: from_(bob, ALICE_CTI))
    (note,) = from_(bob, ALICE_CTI)
    assert note["body"] == markup and note.xml.find("{jabber:client}body/b") is None
    assert markup in await bob.ask("postits")
    assert [p["text"] for p in postits(chat_office)] == [markup]


async def test_alice_leaves_a_postit_with_the_adhoc_form(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    adhoc = alice.client.plugin["xep_0050"]
    started = await adhoc.send_command(COMPONENT, "postit")
    fields = started["command"]["form"].get_fields()
    assert ("bob", "Bob Brown") in [(o["value"], o["label"]) for o in fields["to"]["options"]]
    assert fields["text"]["type"] == "text-multi"
    submit = alice.client.plugin["xep_0004"].make_form(ftype="submit")
    submit.add_field(var="to", value="bob")
    submit.add_field(var="text", ftype="text-multi", value="call the bank\nbefore five")
    done = await adhoc.send_command(
        COMPONENT,
        "postit",
        sessionid=started["command"]["sessionid"],
        action="complete",
        payload=submit,
    )
    assert "Bob Brown" in done["command"]["notes"][0][1]
    await until(lambda: from_(bob, ALICE_CTI))
    assert from_(bob, ALICE_CTI)[0]["body"] == "call the bank\nbefore five"
