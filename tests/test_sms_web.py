"""The SMS page: send one (live part counter), my history with its status, live; the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sms_gateway import FakeGateway

from ctibot.config import PluginsConfig
from ctibot.permissions import default_profiles
from plugins.sms.numbers import segments

from web_fixtures import (
    PROFILES,
    WebOffice,
    csrf_of,
    no_outside_requests,
    running_office,
    screenshots_dir,
)

SCREENSHOTS = screenshots_dir()
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
SECRET = "webhook-secret-for-tests"
OURS = "+390212345678"


def settings(gw: FakeGateway) -> dict[str, Any]:
    return {
        "sms": {
            "url": f"{gw.url}/send",
            "body": '{"to": "{number}", "message": "{text}"}',
            "content_type": "application/json",
            "success_status": [200],
            "success_pattern": r"^OK",
            "timeout": 2.0,
            "connect_retries": 0,
            "webhook_secret": SECRET,
            "numbers": {OURS: "bob"},
        }
    }


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway().start()
    try:
        yield gw
    finally:
        await gw.stop()


@pytest.fixture
async def office(tmp_path: Path, gateway: FakeGateway) -> AsyncIterator[WebOffice]:
    plugins = PluginsConfig(settings=settings(gateway))
    async with running_office(tmp_path, None, plugins=plugins) as office:
        yield office


def service(office: WebOffice) -> Any:
    return office.app.services.get("sms")


async def count(office: WebOffice) -> int:
    async with service(office).store.db.execute("SELECT COUNT(*) FROM sms") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def post_form(client: httpx.AsyncClient, url: str, data: dict, **kw: Any) -> httpx.Response:
    page = await client.get("/sms")
    data = {**data, "csrf_token": csrf_of(page.text)}
    return await client.post(url, data=data, headers={"Referer": "/sms"}, **kw)


def flash_error(html: str) -> str:
    parts = html.split('class="flash flash-error" role="status">', 1)
    assert len(parts) == 2, html[:400]
    return parts[1].split("</div>", 1)[0]


async def inbound(office: WebOffice, text: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=office.url, trust_env=False) as hook:
        return await hook.post(
            "/sms/inbound",
            json={"from": "+393471112233", "to": OURS, "text": text},
            headers={"X-Ctibot-Secret": SECRET},
        )


async def test_send_through_the_page_and_see_the_history(office: WebOffice, gateway) -> None:
    bob = await office.logged_in("user")
    resp = await post_form(bob, "/sms/send", {"number": "347 1234567", "text": "Hello " + HOSTILE})
    assert resp.status_code == 302
    assert len(gateway.requests) == 1 and b"+393471234567" in gateway.requests[0].body
    assert (await inbound(office, "Reply " + HOSTILE)).status_code in (200, 202)
    page = await bob.get("/sms")
    assert page.status_code == 200
    for raw in ("<script>alert(", "<img src=x"):
        assert raw not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "sms-row sms-out sms-st-sent" in page.text
    assert "sms-row sms-in sms-st-" in page.text
    # Another user's history is not Bob's.
    carol = await office.logged_in("admin")
    assert "+393471234567" not in (await carol.get("/sms")).text


async def test_a_failed_send_says_why_and_is_kept_as_failed(office: WebOffice, gateway) -> None:
    gateway.behaviour = ("answer", 500, b"boom")
    bob = await office.logged_in("user")
    resp = await post_form(
        bob, "/sms/send", {"number": "+393471234567", "text": "hi"}, follow_redirects=True
    )
    assert "500" in flash_error(resp.text)
    assert "sms-st-failed" in resp.text
    history = (await bob.get("/api/sms")).json()["sms"]
    assert [r["status"] for r in history] == ["failed"]


async def test_bad_input_gets_a_clear_message_and_stores_nothing(
    office: WebOffice, gateway: FakeGateway
) -> None:
    bob = await office.logged_in("user")
    for data, words in (
        ({"number": "12", "text": "hi"}, "12"),
        ({"number": "not a number", "text": "hi"}, "number"),
        ({"number": "+393471234567", "text": "   "}, "text"),
        ({"number": "+393471234567", "text": "€" * 600}, "7"),
    ):
        resp = await post_form(bob, "/sms/send", data, follow_redirects=True)
        assert words in flash_error(resp.text).lower(), data
    token = {"X-CSRF-Token": csrf_of((await bob.get("/sms")).text)}
    resp = await bob.post("/api/sms", json={"number": "x", "text": "hi"}, headers=token)
    assert resp.status_code == 400 and resp.json()["error"] == "sms.error.bad_number"
    resp = await bob.post("/api/sms", json={"text": "hi"}, headers=token)
    assert resp.status_code == 400
    assert await count(office) == 0 and gateway.requests == []


async def test_csrf_login_and_permission_are_required(tmp_path: Path, gateway) -> None:
    profiles = default_profiles()
    profiles["user"] = profiles["user"] - {"sms"}
    plugins = PluginsConfig(settings=settings(gateway))
    async with running_office(tmp_path, None, plugins=plugins, profiles=profiles) as office:
        carol = await office.logged_in("admin")
        resp = await carol.post("/sms/send", data={"number": "+393471234567", "text": "hi"})
        assert resp.status_code in (400, 403)
        resp = await carol.post("/api/sms", json={"number": "+393471234567", "text": "hi"})
        assert resp.status_code in (400, 403)
        stranger = office.client()
        assert (await stranger.get("/sms")).status_code == 302
        assert (await stranger.get("/api/sms")).status_code == 401
        bob = await office.logged_in("user")
        assert (await bob.get("/sms")).status_code == 403
        assert (await bob.get("/api/sms")).status_code == 403
        page = await bob.get("/")
        assert 'href="/sms"' not in page.text
        token = {"X-CSRF-Token": csrf_of(page.text)}
        resp = await bob.post(
            "/api/sms", json={"number": "+393471234567", "text": "hi"}, headers=token
        )
        assert resp.status_code == 403
        assert await count(office) == 0 and gateway.requests == []


async def test_the_api_sends_and_lists(office: WebOffice, gateway) -> None:
    carol = await office.logged_in("admin")
    token = {"X-CSRF-Token": csrf_of((await carol.get("/sms")).text)}
    resp = await carol.post(
        "/api/sms", json={"number": "+393471234567", "text": "è " * 100}, headers=token
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["sms"]["status"] == "sent" and body["parts"] == 2 and body["encoding"] == "gsm7"
    listed = (await carol.get("/api/sms")).json()["sms"]
    assert [r["id"] for r in listed] == [body["sms"]["id"]]
    paths = (await carol.get("/openapi.json")).json()["paths"]
    assert "/api/sms" in paths and {"get", "post"} <= set(paths["/api/sms"])


COUNTED = [
    "",
    "hello",
    "a" * 160,
    "a" * 161,
    "€" * 80,
    "[]" * 40 + "x",
    "è" * 153 * 2,
    "ciao 😀",
    "й" * 70,
    "й" * 71,
    "й" * 134 + "x",
    "line\nbreak{}",
]


async def test_the_page_counts_parts_as_the_service_and_shows_live_status(
    office: WebOffice, gateway, browser
) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 640})
    await context.add_init_script(
        "window.__xss = []; window.alert = function (m) { window.__xss.push(String(m)); };"
    )
    page = await context.new_page()
    outside = await no_outside_requests(page)
    who = PROFILES["user"]
    await page.goto(office.url + "/login")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(office.url + "/")
    await page.goto(office.url + "/sms")
    for text in COUNTED:
        found = await page.evaluate("t => window.ctibotSmsSegments(t)", text)
        expected = segments(text)
        assert (found["encoding"], found["units"], found["parts"]) == (
            expected.encoding,
            expected.units,
            expected.parts,
        ), text
    await page.fill(".sms-text", "€" * 81)  # 162 GSM-7 units: two parts
    counter = page.locator(".sms-counter")
    assert await counter.get_attribute("data-parts") == "2"
    assert "162 / 306" in await counter.inner_text()
    await page.fill(".sms-number", "+39 347 1234567")
    await page.fill(".sms-text", "Running late, 10 minutes")
    gateway.behaviour = ("answer", 200, b"OK id=1")
    await page.click(".sms-submit")
    await page.locator(".sms-row.sms-out.sms-st-sent").wait_for(timeout=10_000)
    assert await page.locator(".sms-text").input_value() == ""
    # An inbound SMS shows up without a reload, as text.
    assert (await inbound(office, "On my way " + HOSTILE)).status_code in (200, 202)
    row = page.locator(".sms-row.sms-in")
    await row.wait_for(timeout=10_000)
    assert "On my way <script>" in await row.locator(".sms-body").inner_text()
    # A failed one: its row says so.
    gateway.behaviour = ("answer", 503, b"busy")
    await page.fill(".sms-number", "3471234567")
    await page.fill(".sms-text", "Second try")
    await page.click(".sms-submit")
    await page.locator(".sms-row.sms-st-failed").wait_for(timeout=10_000)
    await page.fill(".sms-text", "Grazie, a dopo! 😀")
    await page.evaluate("document.getElementById('toasts').textContent = ''")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "sms.png"), full_page=True)
    assert await page.evaluate("window.__xss") == [] and outside == []
