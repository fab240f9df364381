"""SMS chat and ad-hoc commands through the real dispatcher, with a real local HTTP gateway."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from sms_gateway import FakeGateway
from test_sms import ALICE, BOB, GUEST, context, generic

from ctibot.commands.base import Registry
from ctibot.commands.parser import dispatch, form_for, run_form
from ctibot.plugin import SettingError
from ctibot.plugins.sms import plugin
from ctibot.plugins.sms.services import SmsService
from ctibot.services.registry import ServiceRegistry
from ctibot.store import Store

Say = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway(behaviour=("answer", 200, b"OK")).start()
    yield gw
    await gw.stop()


@pytest_asyncio.fixture
async def world(gateway: FakeGateway) -> AsyncIterator[tuple[ServiceRegistry, SmsService]]:
    store = await Store.open(":memory:")
    await store.migrate_plugin("sms", plugin.migrations)
    service = SmsService(context(store, generic(gateway.url, per_hour=3)))
    registry = Registry()
    for command in plugin.commands:
        registry.register(command, "sms")
    services = ServiceRegistry(service.ctx.config, registry)
    services.add("sms", service)
    yield services, service
    await service.aclose()
    await store.close()


@pytest.fixture
def say(world: tuple[ServiceRegistry, SmsService]) -> Say:
    async def say(user: Any, body: str) -> str:
        reply = await dispatch(world[0], user, body)
        assert reply is not None
        return reply

    return say


async def test_alice_sends_an_sms_and_finds_it_in_her_history(
    say: Say, gateway: FakeGateway
) -> None:
    # A space ends the number's word: "+39" alone is no number.
    assert "not a phone number" in await say(ALICE, "sms +39 3331234567 hello")
    reply = await say(ALICE, "sms +39-333-1234567 hello there")
    assert reply == "✉ SMS to +393331234567 sent (1 part)."
    assert len(gateway.requests) == 1
    history = await say(ALICE, "sms history")
    assert history.startswith("Your SMS, newest first:")
    assert "→ +393331234567 [sent] hello there" in history


async def test_italian(say: Say, gateway: FakeGateway) -> None:
    assert await say(BOB, "sms storico") == "Non hai inviato né ricevuto SMS."
    reply = await say(BOB, "messaggino 3331234567 " + "a" * 161)
    assert reply == "✉ SMS a +393331234567 inviato (2 parti)."


async def test_refusals_are_short_and_send_nothing(say: Say, gateway: FakeGateway) -> None:
    assert "not a phone number" in await say(ALICE, "sms 333abc hi")
    assert "Write the text" in await say(ALICE, "sms 3331234567")
    too_long = await say(ALICE, "sms 3331234567 " + "ł" * 500)
    assert "8 SMS parts" in too_long and "at most 6" in too_long
    assert gateway.requests == []
    # the guest profile lacks the sms permission: not even in help
    assert "sms" not in (await say(GUEST, "help")).split()
    gateway.behaviour = ("answer", 502, b"bad gateway")
    assert "HTTP 502" in await say(ALICE, "sms 3331234567 hi")


async def test_an_hourly_cap_per_user(say: Say, gateway: FakeGateway) -> None:
    for n in range(3):
        assert "sent" in await say(ALICE, f"sms 3331234567 n{n}")
    assert "3 SMS in the last hour" in await say(ALICE, "sms 3331234567 again")
    assert len(gateway.requests) == 3
    assert "inviato" in await say(BOB, "sms 3331234567 mine")  # the cap is per user


async def test_the_adhoc_form_sends_the_same_way(
    world: tuple[ServiceRegistry, SmsService], gateway: FakeGateway
) -> None:
    services, _ = world
    form = form_for("sms", ALICE, services=services)
    assert [f.var for f in form.fields] == ["number", "text"]
    reply = await run_form(
        services, ALICE, "sms", {"number": "+39 333 1234567", "text": ["line one", "line two"]}
    )
    assert "sent" in reply
    sent = json.loads(gateway.requests[0].body)
    assert (sent["to"], sent["message"]) == ("+393331234567", "line one\nline two")
    assert "not a phone number" in await run_form(
        services, ALICE, "sms", {"number": "333\r\n4567", "text": "x"}
    )
    assert len(gateway.requests) == 1


def test_a_bad_regular_expression_is_a_setting_error() -> None:
    with pytest.raises(SettingError) as caught:
        plugin.parse_settings({"success_pattern": "(unclosed"})
    assert "regular expression" in str(caught.value)
