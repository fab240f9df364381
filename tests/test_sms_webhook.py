"""The inbound SMS webhook on ctibot's HTTP shell (Quart on Hypercorn), over real HTTP.

403 without the secret, 400 for a malformed body, 202 for a number nobody owns:
nothing delivered in any of them.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from test_sms import BOB, DOMAIN, Hooks, context

from ctibot.config import ConfigError, WebConfig, parse_config
from ctibot.http.shell import HttpShell, parse_listen
from ctibot.plugins.sms import plugin
from ctibot.plugins.sms.services import SmsService
from ctibot.store import Store

SECRET = "w3bh00k-secret"
URL = "/sms/inbound"


@pytest_asyncio.fixture
async def store() -> AsyncIterator[Store]:
    st = await Store.open(":memory:")
    await st.migrate_plugin("sms", plugin.migrations)
    yield st
    await st.close()


@pytest_asyncio.fixture
async def web(store: Store) -> AsyncIterator[tuple[httpx.AsyncClient, Hooks, SmsService]]:
    hooks = Hooks()
    settings = {"numbers": {"+390212345678": "bob"}, "webhook_secret": SECRET}
    service = SmsService(context(store, settings, xmpp=hooks))
    shell = HttpShell("127.0.0.1:0")
    assert plugin.routes is not None
    plugin.routes(shell, service)
    await shell.start()
    async with httpx.AsyncClient(base_url=shell.url, trust_env=False, timeout=5) as client:
        yield client, hooks, service
    await shell.stop()
    await service.aclose()


async def test_inbound_sms_reaches_bob_from_the_senders_jid(web) -> None:
    client, hooks, service = web
    answer = await client.post(
        URL,
        json={"from": "+393331234567", "to": "+390212345678", "text": "Richiamami <b>&</b>"},
        headers={"X-Ctibot-Secret": SECRET},
    )
    assert answer.status_code == 200 and answer.json() == {"status": "delivered"}
    [msg] = hooks.sent
    assert (msg.user, msg.frm, msg.body) == (
        "bob",
        f"+393331234567@{DOMAIN}",
        "Richiamami <b>&</b>",
    )
    [row] = await service.history_of(BOB)
    assert (row.direction, row.status) == ("in", "received")


async def test_twilio_style_form_with_the_secret_in_the_url(web) -> None:
    client, hooks, _ = web
    answer = await client.post(
        f"{URL}?secret={SECRET}",
        data={"From": "+393331234567", "To": "+390212345678", "Body": "ciao"},
    )
    assert answer.status_code == 200
    assert [m.body for m in hooks.sent] == ["ciao"]


async def test_no_or_wrong_secret_is_403_and_nothing_delivered(web) -> None:
    client, hooks, service = web
    body = {"from": "+393331234567", "to": "+390212345678", "text": "x"}
    for headers in ({}, {"X-Ctibot-Secret": "wrong"}, {"X-Ctibot-Secret": SECRET + "x"}):
        assert (await client.post(URL, json=body, headers=headers)).status_code == 403
    assert (await client.post(f"{URL}?secret=nope", json=body)).status_code == 403
    assert (await client.get(URL, headers={"X-Ctibot-Secret": SECRET})).status_code == 405
    assert hooks.sent == [] and await service.store.count() == 0


async def test_no_secret_configured_refuses_everyone(store: Store) -> None:
    service = SmsService(context(store, {"numbers": {"+390212345678": "bob"}}))
    shell = HttpShell("127.0.0.1:0")
    plugin.routes(shell, service)  # type: ignore[misc]
    await shell.start()
    async with httpx.AsyncClient(base_url=shell.url, trust_env=False) as client:
        answer = await client.post(
            URL,
            json={"from": "+393331234567", "to": "+390212345678", "text": "x"},
            headers={"X-Ctibot-Secret": ""},
        )
    await shell.stop()
    assert answer.status_code == 403


async def test_malformed_bodies_are_400(web) -> None:
    client, hooks, service = web
    auth = {"X-Ctibot-Secret": SECRET}
    bodies = [
        {"content": b"{not json", "headers": {**auth, "Content-Type": "application/json"}},
        {"json": ["+393331234567", "+390212345678", "x"], "headers": auth},
        {"json": {"from": "+393331234567", "to": "+390212345678"}, "headers": auth},
        {"json": {"from": 3933312345, "to": "+390212345678", "text": "x"}, "headers": auth},
        {"json": {"from": "+39333\r\n1234", "to": "+390212345678", "text": "x"}, "headers": auth},
        {"json": {"from": "+393331234567", "to": "02&x", "text": "x"}, "headers": auth},
        {
            "json": {"from": "+393331234567", "to": "+390212345678", "text": "x" * 20_000},
            "headers": auth,
        },
        {"content": b"\xff\xfe", "headers": auth},
    ]
    for kwargs in bodies:
        answer = await client.post(URL, **kwargs)
        assert answer.status_code == 400, kwargs
    assert hooks.sent == [] and await service.store.count() == 0


async def test_unknown_receiving_number_is_202_logged_and_dropped(web, caplog) -> None:
    client, hooks, service = web
    answer = await client.post(
        URL,
        json={"from": "+393331234567", "to": "+390299999999", "text": "hi"},
        headers={"X-Ctibot-Secret": SECRET},
    )
    assert answer.status_code == 202
    assert hooks.sent == [] and await service.store.count() == 0
    assert any("no user owns" in r.getMessage() for r in caplog.records)


# -- the HTTP shell itself ---------------------------------------------------------------------


async def test_the_shell_serves_on_a_free_port_and_a_taken_one_fails_start() -> None:
    shell = HttpShell("127.0.0.1:0")

    async def hello() -> str:
        return "hello"

    shell.add_route("/hello", hello)
    await shell.start()
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            assert (await client.get(f"{shell.url}/hello")).text == "hello"
        taken = HttpShell(f"127.0.0.1:{shell.port}")
        with pytest.raises(OSError):
            await taken.start()
    finally:
        await shell.stop()
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{shell.url}/hello")


def test_web_listen_is_validated() -> None:
    base = '[pbx]\nsecret = "x"\n[[users]]\nname = "alice"\nextensions = ["201"]\n'
    assert parse_config(base).web is None
    assert parse_config(base + '[web]\nlisten = "[::1]:8080"\n').web == WebConfig("[::1]:8080")
    assert parse_config(base + "[web]\n").web == WebConfig("127.0.0.1:8080")
    for bad in ('"8080"', '"127.0.0.1:99999"', '"host name:80"', "8080"):
        with pytest.raises(ConfigError, match=r"\[web\]\.listen: expected host:port"):
            parse_config(base + f"[web]\nlisten = {bad}\n")
    assert parse_listen("[::1]:0") == ("::1", 0)


def test_ctibot_run_with_a_taken_web_port_says_so_in_one_line_and_exits(tmp_path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config = tmp_path / "ctibot.toml"
    config.write_text(
        '[pbx]\nport = 1\nsecret = "x"\n[[users]]\nname = "alice"\nextensions = ["201"]\n'
        f'[database]\npath = "{tmp_path / "db.sqlite"}"\n[web]\nlisten = "127.0.0.1:{port}"\n'
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ctibot", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        taken.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == f"ctibot: [web] listen 127.0.0.1:{port}: Address already in use"
