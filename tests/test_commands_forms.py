"""Ad-hoc commands (XEP-0050 + XEP-0004): the forms each user gets and their round trip."""

from __future__ import annotations

from ctibot.commands import adhoc_commands_for, form_for, run_form
from ctibot.loader import load_services

from services_fixtures import USERS, Office, office_config

USER = {u.name: u for u in USERS}
#: The commands of the plugins that today's features moved into.
registry = load_services(
    office_config(), None, None, only=("calls", "phone", "queues", "info")
).commands


def fields(form):
    return {f.var: f for f in form.fields}


def test_the_ad_hoc_list_follows_permissions() -> None:
    config = office_config()
    assert [c.name for c in adhoc_commands_for(config, USER["alice"], registry)] == [
        "call",
        "dnd",
        "forward",
        "queue",
        "status",
    ]
    assert [c.name for c in adhoc_commands_for(config, USER["dave"], registry)] == [
        "call",
        "status",
    ]
    assert form_for("status", USER["bob"], registry=registry).title == "Il mio stato"
    assert form_for("status", USER["bob"], registry=registry).fields == ()


def test_forms_are_plain_descriptions_in_the_users_language() -> None:
    call = form_for("call", USER["bob"], registry=registry)
    assert (call.node, call.title) == ("call", "Fai una chiamata")
    (destination,) = call.fields
    assert destination.type == "text-single" and destination.required
    assert destination.label == "Numero, contatto o utente"
    as_dict = call.as_dict()
    assert as_dict["fields"][0]["var"] == "destination" and as_dict["fields"][0]["options"] == []
    forward = fields(form_for("forward", USER["alice"], registry=registry))
    assert forward["kind"].type == "list-single"
    assert [v for v, _ in forward["kind"].options] == ["unconditional", "busy", "noanswer"]
    # alice has no mobile: the form does not offer it
    assert [v for v, _ in forward["destination"].options] == ["off", "voicemail", "number"]
    carol = fields(form_for("forward", USER["carol"], "it", registry=registry))
    assert ("mobile", "il mio cellulare +393331234567") in carol["destination"].options
    assert carol["timeout"].type == "text-single"


async def test_queue_form_offers_the_users_queues_and_logs_in(office: Office) -> None:
    carol = office.users["carol"]
    form = fields(form_for("queue", carol, services=office.services))
    assert form["queues"].type == "list-multi"
    assert [v for v, _ in form["queues"].options] == ["support", "sales"]  # hers first
    assert form["queues"].default == ["support"]
    assert [v for v, _ in form["action"].options] == ["login", "logout", "pause", "resume"]
    reply = await run_form(
        office.services, carol, "queue", {"action": "login", "queues": ["sales"]}
    )
    assert reply == "Logged into sales."
    (add,) = office.ami.of("QueueAdd")
    assert add["Queue"] == "sales" and add["Interface"] == "Local/203@from-queue/n"
    queues = office.harness.state.queues
    await office.until(lambda: "203" in queues["sales"].members)
    reply = await run_form(
        office.services,
        carol,
        "queue",
        {"action": "pause", "queues": ["sales", "support"], "reason": "meeting"},
    )
    assert reply == "Paused in sales, support (meeting)."


async def test_forward_form_round_trip_matches_chat(office: Office) -> None:
    carol = office.users["carol"]
    astdb = office.pbx.office.astdb
    reply = await run_form(
        office.services,
        carol,
        "forward",
        {"kind": "noanswer", "destination": "number", "number": "0612345678", "timeout": "25"},
    )
    assert reply == (
        "Calls are now forwarded when not answered to 0612345678 after 25 s of ringing."
    )
    assert astdb.get("CFU", "207") == "0612345678" and astdb.get("AMPUSER", "207/ringtimer") == "25"
    reply = await run_form(
        office.services, carol, "forward", {"kind": "unconditional", "destination": "mobile"}
    )
    assert reply == "Calls are now forwarded always to your mobile (+393331234567)."
    # The same wrong value gets the same answer as in chat.
    bad = await run_form(
        office.services,
        carol,
        "forward",
        {"kind": "busy", "destination": "number", "number": "x;y"},
    )
    assert bad == "“x;y” is not a number I can dial."


async def test_dnd_and_call_forms(office: Office) -> None:
    alice = office.users["alice"]
    dnd = fields(form_for("dnd", alice, services=office.services))["state"]
    assert (dnd.type, dnd.default) == ("boolean", "0")
    assert await run_form(office.services, alice, "dnd", {"state": "true"}) == (
        "Do not disturb is now on (201)."
    )
    assert fields(form_for("dnd", alice, services=office.services))["state"].default == "1"
    assert await run_form(office.services, alice, "dnd", {"state": "0"}) == (
        "Do not disturb is now off (201)."
    )
    office.pbx.phone("202").answer_after = None
    reply = await run_form(office.services, alice, "call", {"destination": ["bob"]})
    assert reply == "Calling Bob Brown (202): your phone 201 rings first."


async def test_bad_submissions_get_a_short_answer_and_nothing_is_sent(office: Office) -> None:
    svc, users = office.services, office.users
    assert await run_form(svc, users["dave"], "forward", {"kind": "busy"}) == (
        "You are not allowed to change call forwarding."
    )
    assert await run_form(svc, users["alice"], "dnd", {"state": "maybe"}) == (
        "“maybe” is not one of on|off."
    )
    assert await run_form(svc, users["alice"], "call", {}) == "Missing <number|contact|user>."
    reply = await run_form(svc, users["carol"], "queue", {"action": "login", "queues": ["vip"]})
    assert reply is not None and reply.startswith("“vip” is not one of")
    assert "I don't know" in await run_form(svc, users["alice"], "selfdestruct", {})
    assert await run_form(svc, users["alice"], "dnd", {"state": 5}) == (  # type: ignore[dict-item]
        "The form came back malformed."
    )
    assert office.ami.sent == []


async def test_forward_form_starts_from_the_current_forward(office: Office) -> None:
    carol = office.users["carol"]
    await office.services.phone.set_forward(carol, "unconditional", "0698765432")
    form = fields(form_for("forward", carol, services=office.services))
    assert (form["destination"].default, form["number"].default) == ("number", "0698765432")
    status = await run_form(office.services, carol, "status", {})
    assert "Phone 207: " in status and "forward always to 0698765432" in status
