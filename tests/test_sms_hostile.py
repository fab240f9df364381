"""Hostile SMS text: the webhook's length cap at its edge; control characters removed alike."""

from __future__ import annotations

import httpx
from test_sms_webhook import SECRET, URL, store, web  # noqa: F401 - fixtures
from test_sms_xmpp import BOB_NUMBER, NUMBER, NUMBER_JID, from_, sms_office  # noqa: F401
from test_sms_xmpp import SECRET as XMPP_SECRET

from ctibot.plugins.sms.services import MAX_INBOUND

from office import until

#: C0 controls (escape, backspace, NUL), DEL, C1 controls (NEL, CSI), a bare CR.
HOSTILE = "a\x1b[31mb\x08c\x00d\x7fe\x85f\x9bg\rh\r\ni\tj"
KEPT = "a[31mbcdefg\nh\ni\tj"  # what a post-it keeps of the same text


async def test_the_webhook_takes_10000_characters_and_refuses_one_more(web) -> None:  # noqa: F811
    client, _, service = web
    auth = {"X-Ctibot-Secret": SECRET}
    sms = {"from": "+393331234567", "to": "+390212345678"}
    answer = await client.post(URL, json={**sms, "text": "y" * (MAX_INBOUND + 1)}, headers=auth)
    assert answer.status_code == 400 and await service.store.count() == 0
    answer = await client.post(URL, json={**sms, "text": "y" * MAX_INBOUND}, headers=auth)
    assert answer.status_code == 200 and await service.store.count() == 1
    assert MAX_INBOUND == 10_000
    # A body far beyond that is cut off by the shell (1 MiB) before anything reads it.
    answer = await client.post(URL, json={**sms, "text": "y" * 2_000_000}, headers=auth)
    assert answer.status_code == 413 and await service.store.count() == 1


async def test_control_characters_are_removed_from_an_inbound_sms(web) -> None:  # noqa: F811
    client, hooks, service = web
    answer = await client.post(
        URL,
        json={"from": "+393331234567", "to": "+390212345678", "text": HOSTILE},
        headers={"X-Ctibot-Secret": SECRET},
    )
    assert answer.status_code == 200
    assert hooks.sent[0].body == KEPT
    bob = service.ctx.config.user_by_name("bob")
    assert (await service.history_of(bob))[0].text == KEPT
    # What is sent (chat, page and API all call this) is cleaned the same way.
    assert service.text(HOSTILE)[0] == KEPT


async def test_an_inbound_sms_with_control_characters_reaches_bob_clean(
    sms_office,  # noqa: F811
) -> None:
    chat_office, gateway = sms_office
    bob = await chat_office.login("bob")
    url = f"{chat_office.app.http.url}/sms/inbound"  # type: ignore[union-attr]
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        answer = await client.post(
            url,
            json={"from": NUMBER, "to": BOB_NUMBER, "text": HOSTILE},
            headers={"X-Ctibot-Secret": XMPP_SECRET},
        )
    assert answer.status_code == 200
    await until(lambda: from_(bob, NUMBER_JID))
    assert from_(bob, NUMBER_JID)[0]["body"] == KEPT
    # Alice's SMS from chat with the same text: the gateway gets what a post-it would keep.
    alice = await chat_office.login("alice")
    in_xml = HOSTILE.replace("\x1b", "").replace("\x08", "").replace("\x00", "")
    await alice.say(in_xml, to=NUMBER_JID)  # what XML can carry of it
    await until(lambda: gateway.requests)
    assert gateway.requests[0].form()["text"] == [KEPT]
