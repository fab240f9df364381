"""SMS bill limits: per user, per hour and per 24 hours, counted from the history (restarts too)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sms_gateway import FakeGateway, closed_port
from test_sms import ALICE, BOB, generic, make_config

from ctibot.config import PluginsConfig
from ctibot.i18n import translate
from ctibot.plugin import PluginContext, ServiceError
from ctibot.plugins.sms import plugin
from ctibot.plugins.sms.services import SmsNotSent, SmsService
from ctibot.store import Store

from office import COMPONENT, Office, until
from web_fixtures import csrf_of, running_office

NUMBER = "+393331234567"


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_580_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway(behaviour=("answer", 200, b"OK")).start()
    yield gw
    await gw.stop()


@pytest_asyncio.fixture
async def store() -> AsyncIterator[Store]:
    st = await Store.open(":memory:")
    await st.migrate_plugin("sms", plugin.migrations)
    yield st
    await st.close()


def service_of(store: Store, clock: Clock, url: str, **settings: Any) -> SmsService:
    ctx = PluginContext(
        name="sms",
        settings=plugin.parse_settings(generic(url, **settings)),
        config=make_config(),
        store=store,
        bus=None,
        pbx=None,  # type: ignore[arg-type]
        ami=None,
        services={},
        clock=clock,
        log=logging.getLogger("ctibot.plugins.sms"),
    )
    return SmsService(ctx)


def test_the_defaults_are_20_an_hour_and_100_a_day() -> None:
    settings = plugin.parse_settings({})
    assert (settings["per_hour"], settings["per_day"]) == (20, 100)


async def test_the_hourly_then_the_daily_cap_and_a_restart_forgets_nothing(
    store: Store, gateway: FakeGateway
) -> None:
    clock = Clock()
    first = clock.now
    service = service_of(store, clock, gateway.url, per_hour=2, per_day=3)
    try:
        for n in range(2):
            await service.send(ALICE, "3331234567", f"ciao {n}")
            clock.now += 60
        with pytest.raises(ServiceError) as refused:
            await service.send(ALICE, "3331234567", "one too many")
        assert refused.value.key == "sms.error.slow_down"
        assert refused.value.params["count"] == 2 and refused.value.params["wait"] == 58
        en = translate(refused.value.key, "en", **refused.value.params)
        it = translate(refused.value.key, "it", **refused.value.params)
        assert "nothing was sent" in en and f"at {refused.value.params['at']}" in en
        assert "non è stato inviato nulla" in it and "tra 58 min" in it
        assert len(gateway.requests) == 2 and len(await service.history_of(ALICE)) == 2
        await service.send(BOB, "3331234567", "bob has his own count")
        clock.now = first + 3600 + 1
        await service.send(ALICE, "3331234567", "the third today")
        clock.now += 3600
        with pytest.raises(ServiceError) as refused:
            await service.send(ALICE, "3331234567", "the fourth today")
        assert refused.value.key == "sms.error.daily_cap"
        assert "24 hours" in translate(refused.value.key, "en", **refused.value.params)
    finally:
        await service.aclose()
    # ctibot restarts: the cap still holds, counted from the history table.
    again = service_of(store, clock, gateway.url, per_hour=2, per_day=3)
    try:
        with pytest.raises(ServiceError) as refused:
            await again.send(ALICE, "3331234567", "after the restart")
        assert refused.value.key == "sms.error.daily_cap"
        assert len(gateway.requests) == 4
        clock.now = first + 86400 + 1  # the first of the day leaves the window
        await again.send(ALICE, "3331234567", "a new day")
        assert len(gateway.requests) == 5
    finally:
        await again.aclose()


async def test_a_gateway_that_could_not_be_reached_does_not_count(
    store: Store, gateway: FakeGateway
) -> None:
    clock = Clock()
    down = service_of(store, clock, f"http://127.0.0.1:{closed_port()}", per_hour=1)
    try:
        for _ in range(3):
            with pytest.raises(SmsNotSent) as failed:
                await down.send(ALICE, "3331234567", "gateway down")
            assert failed.value.key == "sms.fail.unreachable"
    finally:
        await down.aclose()
    up = service_of(store, clock, gateway.url, per_hour=1)
    try:
        await up.send(ALICE, "3331234567", "now it is up")
        with pytest.raises(ServiceError) as refused:
            await up.send(ALICE, "3331234567", "but only one an hour")
        assert refused.value.key == "sms.error.slow_down"
        assert len(gateway.requests) == 1
    finally:
        await up.aclose()


async def test_a_burst_at_once_does_not_slip_past_the_count(
    store: Store, gateway: FakeGateway
) -> None:
    service = service_of(store, Clock(), gateway.url, per_hour=3, per_day=0)
    try:
        results = await asyncio.gather(
            *(service.send(ALICE, "3331234567", f"burst {n}") for n in range(10)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(refused) == 7 and len(gateway.requests) == 3
    finally:
        await service.aclose()


async def test_chat_and_numbers_jids_obey_through_prosody(chat_office: Office) -> None:
    gateway = await FakeGateway(behaviour=("answer", 200, b"OK")).start()
    settings = {
        **chat_office.config.plugins.settings,
        "sms": {
            "url": f"{gateway.url}/send",
            "body": "to={number}&text={text}",
            "success_pattern": "^OK",
            "per_hour": 1,
        },
    }
    try:
        await chat_office.stop_ctibot()
        await chat_office.start_ctibot(plugins=PluginsConfig(settings=settings))
        alice = await chat_office.login("alice")
        number_jid = f"{NUMBER}@{COMPONENT}"
        assert "sent" in await alice.ask("first", to=number_jid)
        refused = await alice.ask("second", to=number_jid)
        assert refused.startswith("You have sent 1 SMS in the last hour")
        assert "nothing was sent" in refused and "You may send another at" in refused
        assert "You may send another at" in await alice.ask(f"sms {NUMBER} third")
        bob = await chat_office.login("bob")
        await bob.ask(f"sms {NUMBER} uno")
        assert "Potrai inviarne un altro alle" in await bob.ask(f"sms {NUMBER} due")
        await until(lambda: len(gateway.requests) >= 2)
        assert [r.form()["text"][0] for r in gateway.requests] == ["first", "uno"]
    finally:
        await chat_office.stop_ctibot()
        await gateway.stop()


async def test_the_page_and_the_api_obey(tmp_path: Path, gateway: FakeGateway) -> None:
    settings = {**generic(gateway.url), "per_hour": 1}
    plugins = PluginsConfig(settings={"sms": settings})
    async with running_office(tmp_path, None, plugins=plugins) as office:
        bob = await office.logged_in("user")
        token = csrf_of((await bob.get("/sms")).text)
        data = {"number": "3331234567", "text": "uno"}
        resp = await bob.post("/api/sms", json=data, headers={"X-CSRF-Token": token})
        assert resp.status_code == 200, resp.text
        data = {"number": "3331234567", "text": "due"}
        resp = await bob.post("/api/sms", json=data, headers={"X-CSRF-Token": token})
        assert resp.status_code == 429 and resp.json()["error"] == "sms.error.slow_down"
        assert "You may send another at" in resp.json()["message"]
        resp = await bob.post(
            "/sms/send",
            data={"number": "3331234567", "text": "tre", "csrf_token": token},
            headers={"Referer": "/sms"},
            follow_redirects=True,
        )
        flash = resp.text.split('class="flash flash-error"', 1)[1].split("</div>", 1)[0]
        assert "You may send another at" in flash
        assert len(gateway.requests) == 1
