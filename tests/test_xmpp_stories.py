"""Stories through a real Prosody: chat commands, popups, rosters, two-way DND, faults."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from harness import ring_forever
from office import COMPONENT, Office, team_up, until


def calls_kept(chat_office: Office) -> int:
    """Call records ctibot's database holds (read-only look)."""
    path = chat_office.config.database.path
    if not Path(path).exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            (count,) = db.execute("SELECT COUNT(*) FROM calls").fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0
    return count


def missed_calls_kept(chat_office: Office, user: str) -> int:
    """Missed calls ctibot's database holds for ``user`` (read-only look)."""
    path = chat_office.config.database.path
    if not Path(path).exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM missed_calls WHERE user = ?", (user,)
        ).fetchone()
    return count


ALICE, BOB = "alice@example.test", "bob@example.test"
#: What ctibot sends by itself all the time: it re-reads the AstDB every astdb_poll seconds.
ASTDB_READS = ("DBGet", "DBGetTree")
V201, V202, VALICE = f"201@{COMPONENT}", f"202@{COMPONENT}", f"alice@{COMPONENT}"


async def test_alice_calls_bob_who_gets_a_popup_and_sees_her_on_the_phone(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    chat_office.pbx.phone("202").answer_after = 3.0
    reply = await alice.ask("call 202")
    assert "202" in reply
    # The demo PBX got an Originate from alice's phone: it rings, she answers, 202 rings.
    await until(lambda: chat_office.pbx.channels_of("202"))
    await until(lambda: any("ti sta chiamando" in t for t in bob.texts()))
    popup = next(t for t in bob.texts() if "ti sta chiamando" in t)
    assert "Alice Anders" in popup and "201" in popup and "riaggancia" in popup
    popup_msg = next(m for m in bob.messages if "ti sta chiamando" in (m["body"] or ""))
    assert popup_msg.xml.find("{urn:xmpp:hints}no-store") is not None
    assert popup_msg["request_receipt"]
    # bob asks for the team; his client accepts; then he sees 201 on a call with himself.
    await bob.ask("team")
    # 201 is already "xa" while it dials 202: wait for the presence that names bob,
    # not for the first "xa" to arrive.
    await until(
        lambda: (bob.show_of(V201) or ("", "", ""))[2].startswith("Al telefono con Bob Brown (202)")
    )
    assert bob.show_of(V201)[1] == "xa"


async def test_commands_errors_and_help(chat_office: Office) -> None:
    alice = await chat_office.login("alice", plugins=("xep_0085",))  # she sends chat states
    bob = await chat_office.login("bob")
    assert "help" in (await alice.ask("frobnicate")).lower()
    assert await alice.ask("pickup") == "Missing <slot>. Usage: pickup <slot>"  # asked once
    help_bob = await bob.ask("aiuto")
    assert "chiama" in help_bob and "ascolta" not in help_bob  # bob may not spy
    help_alice = await alice.ask("help")
    assert "spy" in help_alice  # alice is a supervisor
    whoami = await bob.ask("chisono")
    assert "Bob Brown" in whoami and "202" in whoami
    # Chat states, and messages with nothing to read, get no answer: the answer to the
    # command sent right after them is the next (and only) thing alice receives.
    whoami_alice = await alice.ask("whoami")
    assert "Alice Anders" in whoami_alice and "201" in whoami_alice
    before = len(alice.texts())
    msg = alice.client.make_message(mto=COMPONENT, mtype="chat")
    msg["chat_state"] = "composing"
    msg.send()
    await alice.say(" \n\t ")
    assert await alice.ask("whoami") == whoami_alice
    assert len(alice.texts()) == before + 1


async def test_a_stranger_is_refused_politely_and_nothing_happens(chat_office: Office) -> None:
    carol = await chat_office.login("carol")  # has an account on the server, but is no ctibot user
    sent = actions_sent(chat_office)
    reply = await carol.ask("call 202")
    assert reply == "Sorry, you are not a user of this phone system; ask your administrator."
    # What her message made ctibot send the PBX was sent before the reply; a round trip
    # through ctibot's own AMI connection (in order) makes sure the PBX has read it too.
    sent_for_carol = [a for a in sent if a["Action"] not in ASTDB_READS]
    await chat_office.app.ami.send({"Action": "Ping"})  # type: ignore[union-attr]
    assert sent_for_carol == []
    assert not chat_office.pbx.channels_of("202") and not chat_office.pbx.channels_of("201")


async def test_dnd_from_chat_from_the_phone_and_from_the_xmpp_client(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await alice.ask("team")
    await until(lambda: alice.show_of(V202) is not None)
    # bob types "nondisturbare on": AstDB says so, alice's roster shows him dnd.
    await bob.ask("nondisturbare on")
    assert chat_office.pbx.office.astdb.get("DND", "202") == "YES"
    await until(lambda: (alice.show_of(V202) or ("", "", ""))[1] == "dnd")
    await bob.ask("nondisturbare off")
    await until(lambda: (alice.show_of(V202) or ("", "", ""))[1] == "")
    # alice presses *78 on her phone: her own contact shows dnd as soon as ctibot sees it.
    await until(lambda: alice.show_of(VALICE) is not None)
    chat_office.pbx.press("201", "*78")
    await until(lambda: (alice.show_of(VALICE) or ("", "", ""))[1] == "dnd")
    # ... and a change of her XMPP status that is not about DND does not clear it.
    # (ctibot hears her presence once she has accepted her contact's subscription.)
    await until(lambda: alice.client.client_roster[VALICE]["subscription"] == "both")
    # ctibot tells its plugins what she shows one hook after the other: once a hook
    # hung after theirs has seen "away" and back, they have acted on both.
    gateway = chat_office.app.xmpp  # type: ignore[union-attr]
    alice_shows: list[str] = []
    gateway.hooks.on_show(
        lambda user, show: alice_shows.append(show) if user.name == "alice" else None
    )
    sent = actions_sent(chat_office)
    alice.client.send_presence(pshow="away")
    alice.client.send_presence()
    await until(lambda: alice_shows[-2:] == ["away", ""])
    assert [a for a in sent if a["Action"] in ("DBPut", "DBDel", "DevStateChange")] == []
    assert chat_office.pbx.office.astdb.get("DND", "201") == "YES"
    # bob sets <show>dnd</show> on his own client: PBX DND on; back to available: off.
    await team_up(chat_office, bob)  # his presence reaches ctibot once the subscriptions are mutual
    await until(lambda: gateway.users.is_online(chat_office.config.users[1]))
    bob.client.send_presence(pshow="dnd")
    await until(lambda: chat_office.pbx.office.astdb.get("DND", "202") == "YES")
    bob.client.send_presence()
    await until(lambda: chat_office.pbx.office.astdb.get("DND", "202") is None)


async def test_subscriptions_survive_a_ctibot_restart(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    await alice.ask("team")
    await until(lambda: alice.show_of(V201) is not None and alice.show_of(V202) is not None)
    await chat_office.logout("alice")
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot()
    # alice comes back: her server probes the virtual JIDs; ctibot answers from its database.
    alice = await chat_office.login("alice", resource="phone")
    await until(lambda: alice.show_of(V202) is not None and alice.show_of(V201) is not None)
    assert alice.show_of(V202)[0] == "available"
    roster = alice.client.client_roster
    assert roster[V202]["subscription"] == "both"


async def test_prosody_restart_the_component_comes_back_and_reannounces(
    chat_office: Office,
) -> None:
    app = chat_office.app
    assert app is not None and app.xmpp is not None
    alice = await chat_office.login("alice")
    whoami = await alice.ask("whoami")
    assert "Alice Anders" in whoami and "201" in whoami
    await alice.ask("team")
    await until(lambda: alice.show_of(V202) is not None)
    await chat_office.logout("alice")
    await chat_office.server.restart()
    await until(lambda: app.xmpp.xmpp.sessions >= 2, 10)
    alice = await chat_office.login("alice")
    await until(lambda: alice.show_of(V202) is not None)
    assert await alice.ask("whoami") == whoami  # answered as before, not with an error


async def test_pbx_down_commands_say_so_and_presence_is_unknown(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    await alice.ask("team")
    await until(lambda: alice.show_of(V202) is not None)
    await chat_office.pbx.stop()
    await until(lambda: chat_office.app is not None and not chat_office.app.ami.connected)
    reply = await alice.ask("call 202")
    assert "not reachable" in reply
    await until(lambda: "PBX is not reachable" in ((alice.show_of(V202) or ("", "", ""))[2]))


async def test_missed_calls_are_summarised_when_bob_comes_online(chat_office: Office) -> None:
    gateway = chat_office.app.xmpp  # type: ignore[union-attr]
    bob_user = chat_office.config.users[1]
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    await until(lambda: gateway.users.is_online(bob_user))
    await chat_office.logout("bob")
    await until(lambda: gateway.users.is_online(bob_user) is False)
    # While bob is away, ACME calls his DID and gives up (his phone would ring on).
    ring_forever(chat_office.pbx, "202")
    task = chat_office.pbx.inbound_call("0612345678", "ACME Corp", "5550102")
    await until(lambda: chat_office.pbx.channels_of("202"))
    for channel in [c for c in chat_office.pbx.engine.channels.values() if c.trunk is not None]:
        chat_office.pbx.hangup(channel.name)  # the caller hangs up
    await until(lambda: not chat_office.pbx.channels_of("202"))
    await asyncio.wait_for(task, 10)
    # ctibot keeps the missed call for bob once it has seen the call end: wait for
    # that, not for a fixed time, before bob comes back.
    await until(lambda: missed_calls_kept(chat_office, "bob") > 0)
    bob = await chat_office.login("bob")
    await until(lambda: any("hai perso" in t for t in bob.texts()))
    summary = next(t for t in bob.texts() if "hai perso" in t)
    assert "ACME Corp <0612345678>" in summary
    assert not any("ti sta chiamando" in t for t in bob.texts())  # no stale popup


async def test_flooding_is_rate_limited_with_a_message(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    for _ in range(20):
        await alice.say("whoami")
    # A message to a phone's JID is no command (never rate limited) and is answered
    # after the 20 before it: by then each of them was answered or dropped.
    await alice.say("whoami", to=V202)
    limit = chat_office.config.xmpp.rate_limit  # type: ignore[union-attr]
    await until(lambda: any(t.startswith("This contact shows") for t in alice.texts()))
    await until(lambda: sum(t.startswith("You are Alice") for t in alice.texts()) >= limit)
    texts = alice.texts()
    assert sum("slow down" in t.lower() for t in texts) == 1, texts
    assert sum(t.startswith("You are Alice Anders") for t in texts) == limit, texts
    assert len(texts) == limit + 2, texts


async def test_adhoc_commands_dnd_form(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    adhoc = alice.client.plugin["xep_0050"]
    items = await alice.client.plugin["xep_0030"].get_items(
        jid=COMPONENT, node="http://jabber.org/protocol/commands"
    )
    nodes = {item[1] for item in items["disco_items"]["items"]}
    assert {"call", "dnd", "forward", "queue"} <= nodes
    result = await adhoc.send_command(COMPONENT, "dnd")
    form = result["command"]["form"]
    assert "state" in form.get_fields()
    form_reply = alice.client.plugin["xep_0004"].make_form(ftype="submit")
    form_reply.add_field(var="state", value=True)
    done = await adhoc.send_command(
        COMPONENT,
        "dnd",
        sessionid=result["command"]["sessionid"],
        action="complete",
        payload=form_reply,
    )
    notes = done["command"]["notes"]
    assert notes and "on" in notes[0][1].lower()
    assert chat_office.pbx.office.astdb.get("DND", "201") == "YES"


async def test_virtual_jids_have_vcards(chat_office: Office) -> None:
    alice = await chat_office.login("alice", plugins=("xep_0054",))
    card = await alice.client.plugin["xep_0054"].get_vcard(V202, cached=False)
    assert card["vcard_temp"]["FN"] == "202 (Bob Brown)"
    assert card["vcard_temp"]["TEL"]["NUMBER"] == "202"
    card = await alice.client.plugin["xep_0054"].get_vcard(VALICE, cached=False)
    assert card["vcard_temp"]["FN"] == "Alice Anders"


async def test_bob_joins_his_queue_when_he_comes_online_and_leaves_when_he_goes(
    chat_office: Office,
) -> None:
    from dataclasses import replace

    # FreePBX lists the queues an agent may join in AstDB.
    chat_office.pbx.office.astdb.put("QPENALTY", "support/agents/202", "0")
    # Once: bob and ctibot subscribe to each other ("team"), so that his presence
    # reaches ctibot from now on. While those subscriptions are being set up the
    # server sends ctibot a burst of available / unavailable presences of bob's;
    # done before automatic queue login is on, that burst cannot leave a queue
    # login or logout of its own finishing after the ones this test is about.
    await team_up(chat_office, await chat_office.login("bob"))
    await chat_office.logout("bob")
    await chat_office.stop_ctibot()
    alice, bob, dave = chat_office.config.users
    await chat_office.start_ctibot(users=(alice, replace(bob, auto_queue_login=True), dave))
    state = chat_office.app.state  # type: ignore[union-attr]
    await chat_office.login("bob")
    await until(lambda: "202" in state.snapshot()["queues"]["support"]["members"])
    assert state.snapshot()["queues"]["support"]["members"]["202"]["dynamic"] is True
    await chat_office.logout("bob")
    await until(lambda: "202" not in state.snapshot()["queues"]["support"]["members"])


async def test_stanzas_from_other_domains_are_ignored(chat_office: Office) -> None:
    gateway = chat_office.app.xmpp  # type: ignore[union-attr]
    sent: list[object] = []
    gateway.xmpp.send_raw = sent.append  # nothing may leave, by either path
    gateway.xmpp.send = lambda stanza, *a, **k: sent.append(stanza)
    actions = actions_sent(chat_office)
    msg = gateway.xmpp.make_message(
        mto=COMPONENT, mfrom="alice@evil.example/x", mbody="call 202", mtype="chat"
    )
    await gateway.chat.on_message(msg)
    # The same message from alice's own server is answered and rings her phone: what
    # the first one made ctibot do would have happened before.
    msg = gateway.xmpp.make_message(
        mto=COMPONENT, mfrom=f"{ALICE}/x", mbody="call 202", mtype="chat"
    )
    await gateway.chat.on_message(msg)
    await until(lambda: chat_office.pbx.channels_of("201"))
    assert [str(stanza["to"]) for stanza in sent] == [f"{ALICE}/x"], sent
    assert [a["Action"] for a in actions].count("Originate") == 1, actions


async def test_a_queue_call_rings_two_agents_and_the_one_who_misses_it_is_told(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    chat_office.pbx.phone("201").answer_after = 2.0  # alice picks up; bob's phone keeps ringing
    chat_office.pbx.phone("202").answer_after = None
    chat_office.pbx.inbound_call("0612345678", "ACME Corp", "5550100")  # the DID of queue sales
    await until(lambda: any("queue sales" in t for t in alice.texts()))
    await until(lambda: any("coda sales" in t for t in bob.texts()))
    assert any("ACME Corp <0612345678>" in t for t in alice.texts())
    await until(lambda: any("ha risposto Alice Anders" in t for t in bob.texts()))
    assert not any("answered by" in t for t in alice.texts())  # she answered it herself


async def test_forward_from_chat_shows_in_the_roster(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await alice.ask("team")
    await until(lambda: alice.show_of(V202) is not None)
    reply = await bob.ask("inoltro segreteria")
    assert chat_office.pbx.office.astdb.get("CF", "202") == "vmu202", reply
    await until(lambda: (alice.show_of(V202) or ("", "", ""))[2] == "Forwarded to voicemail")
    await bob.ask("inoltro off")
    assert chat_office.pbx.office.astdb.get("CF", "202") is None


async def test_adhoc_queue_form_pauses_alice_in_sales(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    adhoc = alice.client.plugin["xep_0050"]
    started = await adhoc.send_command(COMPONENT, "queue")
    form = started["command"]["form"]
    fields = form.get_fields()
    assert fields["queues"]["type"] == "list-multi"
    assert "sales" in [o["value"] for o in fields["queues"]["options"]]
    submit = alice.client.plugin["xep_0004"].make_form(ftype="submit")
    submit.add_field(var="action", value="pause")
    submit.add_field(var="queues", ftype="list-multi", value=["sales"])
    submit.add_field(var="reason", value="Lunch")
    done = await adhoc.send_command(
        COMPONENT,
        "queue",
        sessionid=started["command"]["sessionid"],
        action="complete",
        payload=submit,
    )
    assert "sales" in done["command"]["notes"][0][1]
    state = chat_office.app.state  # type: ignore[union-attr]
    await until(lambda: state.snapshot()["queues"]["sales"]["members"]["201"]["paused"])
    assert state.snapshot()["queues"]["sales"]["members"]["201"]["reason"] == "Lunch"


async def test_each_user_sees_only_the_adhoc_commands_they_may_run(chat_office: Office) -> None:
    from dataclasses import replace

    await chat_office.stop_ctibot()
    alice, bob, dave = chat_office.config.users
    profiles = {**chat_office.config.profiles, "reception": frozenset({"call", "dnd"})}
    await chat_office.start_ctibot(
        users=(alice, replace(bob, profile="reception"), dave), profiles=profiles
    )
    commands = "http://jabber.org/protocol/commands"

    async def nodes(name: str) -> set[str]:
        person = await chat_office.login(name)
        items = await person.client.plugin["xep_0030"].get_items(jid=COMPONENT, node=commands)
        return {item[1] for item in items["disco_items"]["items"]}

    assert {"call", "dnd", "forward", "queue"} <= await nodes("alice")
    bob_nodes = await nodes("bob")
    assert "call" in bob_nodes and "dnd" in bob_nodes
    assert "forward" not in bob_nodes and "queue" not in bob_nodes
    assert await nodes("carol") == set()  # not a ctibot user


async def test_a_hostile_caller_name_reaches_bob_as_plain_text(chat_office: Office) -> None:
    bob = await chat_office.login("bob")
    ring_forever(chat_office.pbx, "202")
    name = "</body><x/>& 'Evil' \"Corp\" \u202e\ufffe"
    chat_office.pbx.inbound_call("0612345678", name, "5550102")
    await until(lambda: any("ti sta chiamando" in t for t in bob.texts()))
    popup = next(t for t in bob.texts() if "ti sta chiamando" in t)
    # The markup arrives as text; a bidi override (spoofing) and what XML cannot
    # carry do not arrive at all.
    assert "</body><x/>& 'Evil' \"Corp\"" in popup and "0612345678" in popup
    assert "\u202e" not in popup and "\ufffe" not in popup
    # The stream survived: bob still gets answers.
    assert "Bob Brown" in await bob.ask("chisono")


# -- issue 6: refusals with the reason, and one naming rule ------------------------------

V204 = f"204@{COMPONENT}"


def actions_sent(chat_office: Office) -> list[dict]:
    """Every action ctibot sends the PBX from now on (still sent: this only keeps a copy)."""
    ami = chat_office.app.ami  # type: ignore[union-attr]
    sent: list[dict] = []
    inner = ami.send

    async def send(action: dict, *args: object, **kwargs: object) -> object:
        sent.append(dict(action))
        return await inner(action, *args, **kwargs)

    ami.send = send  # type: ignore[method-assign]
    return sent


def statuses_from(person, jid: str) -> list[str]:
    """Every presence status ``person`` receives from ``jid`` from now on."""
    seen: list[str] = []

    def keep(pres) -> None:
        if pres["from"].bare == jid:
            seen.append(pres["status"])

    person.client.add_event_handler("presence", keep)
    return seen


def talking(chat_office: Office, ext: str) -> bool:
    return any(
        c.extension == ext and c.state == 6 and c.bridge for c in chat_office.pbx.channels_of(ext)
    )


async def test_alice_may_not_transfer_bob_to_bob_nor_call_herself(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    chat_office.pbx.phone("201").answer_after = 0.5
    chat_office.pbx.call("202", "201")  # bob calls alice; she answers
    state = chat_office.app.state  # type: ignore[union-attr]
    await until(
        lambda: any(c["to"] == "201" and c["state"] == "up" for c in state.snapshot()["calls"])
    )
    await until(lambda: talking(chat_office, "201"))
    sent = actions_sent(chat_office)
    assert await alice.ask("transfer bob") == (
        "You are talking with Bob Brown (202): a call cannot be transferred "
        "to the party it connects you with."
    )
    assert await alice.ask("transfer alice") == (
        "That is your own phone: transfer the call to someone else."
    )
    assert await alice.ask("call alice") == "That is your own phone."
    assert await alice.ask("call 99999999999999999999999999") == (
        "“99999999999999999999999999” is too long for a phone number (at most 15 digits)."
    )
    assert sent == []  # nothing reached the PBX
    # still talking with each other
    assert talking(chat_office, "201") and talking(chat_office, "202")


async def test_bob_calling_alice_on_dnd_is_told_at_once(chat_office: Office) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    ring_forever(chat_office.pbx, "202")
    assert await alice.ask("dnd on") == "Do not disturb is now on (201)."
    assert await bob.ask("chiama alice") == (
        "Chiamo Alice Anders (201): prima squilla il tuo telefono 202.\n"
        "Alice Anders (201) ha il non disturbare: il centralino passa la chiamata "
        "alla sua segreteria."
    )


async def test_an_outbound_call_shows_the_number_dialled_never_the_callers_name(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await bob.ask("team")
    await until(lambda: bob.show_of(V201) is not None)
    seen = statuses_from(bob, V201)
    chat_office.pbx.phone("201").answer_after = 0.5
    await alice.ask("call 0612345678")
    await until(lambda: any(t.startswith("Al telefono con 0612345678 dalle") for t in seen))
    state = chat_office.app.state  # type: ignore[union-attr]
    await until(lambda: any(c.answered_at for c in state.calls.values()))  # the callee answers
    assert await bob.ask("chi alice") == "Alice Anders (201): al telefono con 0612345678"
    await alice.ask("hangup")
    await until(lambda: bob.show_of(V201) is not None and bob.show_of(V201)[2] == "Disponibile")
    assert not any("Alice" in t for t in seen), seen


async def test_a_forwarded_call_shows_bob_and_dave_talking_with_no_cf_tag(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    await alice.ask("team")
    await until(lambda: alice.show_of(V202) is not None and alice.show_of(V204) is not None)
    bob_seen, dave_seen = statuses_from(alice, V202), statuses_from(alice, V204)
    assert await alice.ask("forward 204") == "Calls are now forwarded always to Dave Davis (204)."
    chat_office.pbx.phone("204").answer_after = 0.5
    chat_office.pbx.call("202", "201")  # bob calls alice: dave's phone rings and he answers
    await until(
        lambda: (alice.show_of(V202) or ("", "", ""))[2].startswith(
            "On a call with Dave Davis (204) since"
        )
    )
    await until(
        lambda: (alice.show_of(V204) or ("", "", ""))[2].startswith(
            "On a call with Bob Brown (202) since"
        )
    )
    chat_office.pbx.hangup("202")
    await until(lambda: (alice.show_of(V202) or ("", "", ""))[2] == "Available")
    await until(lambda: (alice.show_of(V204) or ("", "", ""))[2] == "Available")
    for text in bob_seen + dave_seen:
        assert "CF:" not in text, text
    assert not any("Bob Brown" in t for t in bob_seen), bob_seen  # bob never talks to himself


async def test_hanging_up_a_click_to_call_still_ringing_names_the_callee(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    ring_forever(chat_office.pbx, "201", "202")
    assert await alice.ask("call 202") == ("Calling Bob Brown (202): your phone 201 rings first.")
    await until(lambda: chat_office.pbx.channels_of("201"))
    assert await alice.ask("hangup") == "Hung up your call with Bob Brown (202)."
    await until(lambda: not chat_office.pbx.channels_of("201"))
    await until(lambda: calls_kept(chat_office) > 0)  # the store has the call's record
    reply = await alice.ask("calls")
    assert "to Bob Brown (202), no answer" in reply, reply


async def test_forward_off_from_chat_clears_every_forward(chat_office: Office) -> None:
    bob = await chat_office.login("bob")
    astdb = chat_office.pbx.office.astdb
    assert await bob.ask("inoltro 204 norisposta 20") == (
        "Le chiamate ora sono inoltrate se non rispondi verso Dave Davis (204) "
        "dopo 20 s di squilli."
    )
    assert await bob.ask("inoltro cellulare occupato") == (
        "Le chiamate ora sono inoltrate se occupato verso il tuo cellulare (+393331234567)."
    )
    assert await bob.ask("inoltro no") == "Tutti gli inoltri di chiamata sono disattivati."
    assert astdb.get("CFU", "202") is None and astdb.get("CFB", "202") is None
