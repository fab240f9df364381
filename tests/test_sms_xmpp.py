"""SMS stories through a real Prosody, ctibot's HTTP shell, and a local HTTP gateway stand-in.

Alice writes to ``+393331234567@cti…``: the gateway gets one request, her client a
receipt and "sent" in that conversation. An SMS to Bob's number comes in through the
webhook and reaches Bob's client from the sender's number JID.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sms_gateway import FakeGateway

from ctibot.config import PluginsConfig, WebConfig

from office import COMPONENT, Office, Person, until

NUMBER = "+393331234567"
NUMBER_JID = f"{NUMBER}@{COMPONENT}"
BOB_NUMBER = "+390212345678"
SECRET = "hook-secret"
GATEWAY_NS = "jabber:iq:gateway"


@pytest_asyncio.fixture
async def sms_office(chat_office: Office) -> AsyncIterator[tuple[Office, FakeGateway]]:
    gateway = await FakeGateway(behaviour=("answer", 200, b"OK")).start()
    settings = {
        "url": f"{gateway.url}/send",
        "body": "to={number}&from={sender}&text={text}",
        "sender": "ACME",
        "success_pattern": "^OK",
        "timeout": 1.5,
        "webhook_secret": SECRET,
        "numbers": {BOB_NUMBER: "bob"},
    }
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot(
        web=WebConfig("127.0.0.1:0"), plugins=PluginsConfig(settings={"sms": settings})
    )
    try:
        yield chat_office, gateway
    finally:
        await chat_office.stop_ctibot()
        await gateway.stop()


def from_(person: Person, jid: str) -> list[Any]:
    return [m for m in person.messages if m["from"].bare == jid and m["body"]]


def write(person: Person, to: str, body: str, mid: str) -> None:
    msg = person.client.make_message(mto=to, mbody=body, mtype="chat")
    msg["id"] = mid
    msg["request_receipt"] = True
    msg.send()


def receipts(person: Person, jid: str) -> list[str]:
    """The ids of the XEP-0184 receipts ``person`` received from ``jid``."""
    got: list[Any] = person.client.__dict__.setdefault("sms_receipts", [])
    return [m["receipt"] for m in got if m["from"].bare == jid]


def collect_receipts(person: Person) -> Person:
    got: list[Any] = person.client.__dict__.setdefault("sms_receipts", [])
    person.client.add_event_handler("receipt_received", got.append)
    return person


async def test_alice_writes_to_a_number_jid_and_it_goes_out_as_one_sms(sms_office) -> None:
    chat_office, gateway = sms_office
    alice = collect_receipts(await chat_office.login("alice"))
    write(alice, NUMBER_JID, "Ci vediamo alle 5 & porta il contratto", "sms-1")
    await until(lambda: from_(alice, NUMBER_JID))
    assert "sent" in from_(alice, NUMBER_JID)[0]["body"]
    await until(lambda: receipts(alice, NUMBER_JID) == ["sms-1"])
    [req] = gateway.requests
    assert req.form() == {
        "to": [NUMBER],
        "from": ["ACME"],
        "text": ["Ci vediamo alle 5 & porta il contratto"],
    }
    history = await alice.ask("sms history")
    assert NUMBER in history and "[sent]" in history


async def test_a_gateway_that_hangs_tells_alice_in_time_without_a_receipt(sms_office) -> None:
    chat_office, gateway = sms_office
    gateway.behaviour = ("hang",)
    alice = collect_receipts(await chat_office.login("alice"))
    started = time.monotonic()
    write(alice, NUMBER_JID, "hello", "sms-2")
    await until(lambda: from_(alice, NUMBER_JID), timeout=5)
    assert time.monotonic() - started < 3.0
    body = from_(alice, NUMBER_JID)[0]["body"]
    assert "did not answer within 1.5 s" in body and "not sent again" in body
    assert receipts(alice, NUMBER_JID) == [] and len(gateway.requests) == 1


async def test_the_sms_command_refuses_a_bad_number_before_any_request(sms_office) -> None:
    chat_office, gateway = sms_office
    alice = await chat_office.login("alice")
    assert "not a phone number" in await alice.ask("sms 333abc4567 hello")
    assert "not a phone number" in await alice.ask("sms 333&to=1 hello")
    assert "not a phone number" in await alice.ask("sms 333/4567 hello")
    assert gateway.requests == []
    reply = await alice.ask(f"sms {NUMBER} " + "é" * 161)
    assert "SMS to +393331234567 sent (2 parts)" in reply
    assert len(gateway.requests) == 1


async def test_an_sms_to_bobs_number_reaches_bob_who_answers_in_that_conversation(
    sms_office,
) -> None:
    chat_office, gateway = sms_office
    bob = await chat_office.login("bob")
    url = f"{chat_office.app.http.url}/sms/inbound"  # type: ignore[union-attr]
    async with httpx.AsyncClient(trust_env=False, timeout=5) as web:
        refused = await web.post(
            url,
            json={"from": NUMBER, "to": BOB_NUMBER, "text": "x"},
            headers={"X-Ctibot-Secret": "wrong"},
        )
        assert refused.status_code == 403
        answer = await web.post(
            url,
            json={"from": NUMBER, "to": BOB_NUMBER, "text": "Richiamami <subito>"},
            headers={"X-Ctibot-Secret": SECRET},
        )
    assert answer.status_code == 200
    await until(lambda: from_(bob, NUMBER_JID))
    [sms] = from_(bob, NUMBER_JID)
    assert sms["body"] == "Richiamami <subito>" and sms["type"] == "chat"
    history = await bob.ask("sms storico")  # bob speaks Italian
    assert "← +393331234567 [ricevuto] Richiamami <subito>" in history
    # His answer in that conversation is an SMS back, from the number it came to.
    await bob.say("Ti richiamo alle 3", to=NUMBER_JID)
    await until(lambda: gateway.requests)
    assert gateway.requests[0].form() == {
        "to": [NUMBER],
        "from": [BOB_NUMBER],
        "text": ["Ti richiamo alle 3"],
    }


async def test_add_contact_turns_a_typed_number_into_its_jid(sms_office) -> None:
    chat_office, _ = sms_office
    alice = await chat_office.login("alice")
    client = alice.client
    get = client.make_iq_get(queryxmlns=GATEWAY_NS, ito=COMPONENT)
    result = await get.send(timeout=5)
    query = result.xml.find(f"{{{GATEWAY_NS}}}query")
    assert query is not None and query.find(f"{{{GATEWAY_NS}}}prompt").text == "Phone number"
    iq = client.make_iq_set(ito=COMPONENT)
    iq.append(
        ET.fromstring(f"<query xmlns='{GATEWAY_NS}'><prompt>+39 333 123 4567</prompt></query>")
    )
    result = await iq.send(timeout=5)
    jid = result.xml.find(f"{{{GATEWAY_NS}}}query/{{{GATEWAY_NS}}}jid")
    assert jid is not None and jid.text == NUMBER_JID
    info = await client.plugin["xep_0030"].get_info(jid=COMPONENT, timeout=5)
    assert GATEWAY_NS in info["disco_info"]["features"]


async def test_a_number_jid_can_be_subscribed_to_and_shows_available(sms_office) -> None:
    """After XEP-0100's "add contact", the roster holds +39…@cti: the core accepts it."""
    chat_office, _ = sms_office
    alice = await chat_office.login("alice")
    client = alice.client
    client.send_presence(pto=NUMBER_JID, ptype="subscribe")
    await until(lambda: NUMBER_JID in alice.presences)
    assert alice.presences[NUMBER_JID]["type"] == "available"
    await until(lambda: client.client_roster[NUMBER_JID]["subscription"] in ("to", "both"))
    info = await client.plugin["xep_0030"].get_info(jid=NUMBER_JID, timeout=5)
    assert [i[3] for i in info["disco_info"]["identities"]] == [NUMBER]
    iq = client.make_iq_get(ito=NUMBER_JID)
    iq.append(ET.fromstring("<vCard xmlns='vcard-temp'/>"))
    card = (await iq.send(timeout=5)).xml.find("{vcard-temp}vCard")
    assert card is not None and card.findtext("{vcard-temp}FN") == NUMBER
    assert card.findtext("{vcard-temp}TEL/{vcard-temp}NUMBER") == NUMBER
