"""The post-its page: list, read, delete, write; the unread badge; live in Chromium; the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctibot.permissions import default_profiles

from web_fixtures import (
    PROFILES,
    WebOffice,
    csrf_of,
    no_outside_requests,
    running_office,
    screenshots_dir,
    wait_for,
)

SCREENSHOTS = screenshots_dir()
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    async with running_office(tmp_path, None) as office:
        yield office


def service(office: WebOffice) -> Any:
    return office.app.services.get("postit")


def user(office: WebOffice, name: str) -> Any:
    return office.config.user_by_name(name)


async def post_form(client: httpx.AsyncClient, url: str, data: dict, **kw: Any) -> httpx.Response:
    page = await client.get("/postits")
    data = {**data, "csrf_token": csrf_of(page.text)}
    return await client.post(url, data=data, headers={"Referer": "/postits"}, **kw)


async def count(office: WebOffice) -> int:
    async with service(office).db.execute("SELECT COUNT(*) FROM postits") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def test_write_read_and_delete_through_the_page(office: WebOffice) -> None:
    carol = await office.logged_in("admin")
    bob = await office.logged_in("user")
    data = {"to": "bob", "text": "Call the bank " + HOSTILE}
    resp = await post_form(carol, "/postits/send", data)
    assert resp.status_code == 302
    assert await service(office).unread_count(user(office, "bob")) == 1
    page = await bob.get("/postits")
    assert page.status_code == 200
    assert "Carol Clark" in page.text and "Call the bank" in page.text
    for raw in ("<script>alert(", "<img src=x"):
        assert raw not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'class="pi-badge-count">1<' in page.text  # the top bar badge, on every page
    assert 'class="pi-badge-count">1<' in (await bob.get("/")).text
    [mine] = await service(office).mine(user(office, "bob"))
    assert mine.unread
    resp = await post_form(bob, f"/postits/{mine.id}/read", {})
    assert resp.status_code == 302
    assert await service(office).unread_count(user(office, "bob")) == 0
    # Carol sees it read in the post-its she left.
    api = (await carol.get("/api/postits")).json()
    assert api["sent"][0]["id"] == mine.id and api["sent"][0]["unread"] is False
    resp = await post_form(bob, f"/postits/{mine.id}/delete", {})
    assert resp.status_code == 302
    assert await service(office).mine(user(office, "bob")) == []


async def test_bad_input_gets_a_clear_message_and_stores_nothing(office: WebOffice) -> None:
    carol = await office.logged_in("admin")
    for data, words in (
        ({"to": "bob", "text": "   "}, "needs some text"),
        ({"to": "nobody", "text": "hi"}, "nobody"),
        ({"to": "bob", "text": "x" * 1001}, "1000"),
    ):
        resp = await post_form(carol, "/postits/send", data, follow_redirects=True)
        assert resp.status_code == 200
        flash = resp.text.split('class="flash flash-error"', 1)
        assert len(flash) == 2, (data, resp.text[:300])
        assert words in flash[1].split("</div>", 1)[0].lower(), (data, flash[1][:200])
    resp = await post_form(carol, "/postits/abc/read", {}, follow_redirects=True)
    assert 'class="flash flash-error"' in resp.text
    assert await count(office) == 0
    # The API says the same as JSON.
    page = await carol.get("/postits")
    token = {"X-CSRF-Token": csrf_of(page.text)}
    resp = await carol.post("/api/postits", json={"to": "bob", "text": ""}, headers=token)
    assert resp.status_code == 400 and resp.json()["error"] == "postit.error.empty"
    resp = await carol.post("/api/postits", json={"to": "bob"}, headers=token)
    assert resp.status_code == 400
    assert await count(office) == 0


async def test_csrf_and_login_are_required(office: WebOffice) -> None:
    carol = await office.logged_in("admin")
    resp = await carol.post("/postits/send", data={"to": "bob", "text": "hi"})
    assert resp.status_code in (400, 403)
    resp = await carol.post("/api/postits", json={"to": "bob", "text": "hi"})
    assert resp.status_code in (400, 403)
    stranger = office.client()
    assert (await stranger.get("/postits")).status_code == 302
    assert (await stranger.get("/api/postits")).status_code == 401
    assert await count(office) == 0


async def test_the_api_lists_sends_reads_and_deletes(office: WebOffice) -> None:
    carol = await office.logged_in("admin")
    bob = await office.logged_in("user")
    token = {"X-CSRF-Token": csrf_of((await carol.get("/postits")).text)}
    data = {"to": "202", "text": "by extension"}
    resp = await carol.post("/api/postits", json=data, headers=token)
    assert resp.status_code == 200, resp.text
    number = resp.json()["postit"]["id"]
    assert resp.json()["postit"]["recipient"] == "bob"
    listed = (await bob.get("/api/postits")).json()
    assert listed["unread"] == 1 and listed["postits"][0]["text"] == "by extension"
    bob_token = {"X-CSRF-Token": csrf_of((await bob.get("/postits")).text)}
    resp = await bob.post(f"/api/postits/{number}/read", headers=bob_token)
    assert resp.status_code == 200 and resp.json()["unread"] is False
    resp = await bob.delete(f"/api/postits/{number}", headers=bob_token)
    assert resp.json() == {"deleted": number}
    resp = await bob.delete(f"/api/postits/{number}", headers=bob_token)
    assert resp.status_code == 404
    paths = (await carol.get("/openapi.json")).json()["paths"]
    assert {"/api/postits", "/api/postits/{number}/read", "/api/postits/{number}"} <= set(paths)


async def test_a_profile_without_the_permission_is_refused(tmp_path: Path) -> None:
    profiles = default_profiles()
    profiles["user"] = profiles["user"] - {"postit"}
    async with running_office(tmp_path, None, profiles=profiles) as office:
        bob = await office.logged_in("user")
        assert (await bob.get("/postits")).status_code == 403
        assert (await bob.get("/api/postits")).status_code == 403
        page = await bob.get("/")
        assert 'href="/postits"' not in page.text and "pi-badge" not in page.text
        token = {"X-CSRF-Token": csrf_of(page.text)}
        resp = await bob.post("/api/postits", json={"to": "carol", "text": "hi"}, headers=token)
        assert resp.status_code == 403
        assert await count(office) == 0


async def login_page(office: WebOffice, browser: Any, profile: str) -> Any:
    context = await browser.new_context(viewport={"width": 1200, "height": 720})
    await context.add_init_script(
        "window.__xss = []; window.alert = function (m) { window.__xss.push(String(m)); };"
    )
    page = await context.new_page()
    outside = await no_outside_requests(page)
    page.outside = outside
    who = PROFILES[profile]
    await page.goto(office.url + "/login")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(office.url + "/")
    return page


async def test_a_postit_appears_live_in_the_recipients_page(office: WebOffice, browser) -> None:
    bob = await login_page(office, browser, "user")
    await bob.goto(office.url + "/postits")
    badge = bob.locator(".pi-badge")
    assert await badge.is_hidden()
    carol = await login_page(office, browser, "admin")
    await carol.goto(office.url + "/postits")
    await carol.select_option(".pi-to", "bob")
    await carol.fill(".pi-new-text", "Meeting moved to 3 pm " + HOSTILE)
    await carol.click(".pi-send")
    # Bob's page, never reloaded: the post-it, and the badge saying 1.
    item = bob.locator(".pi-mine .pi-item.pi-unread")
    await item.wait_for(timeout=10_000)
    assert "Meeting moved to 3 pm <script>" in await item.locator(".pi-text").inner_text()
    await bob.locator(".pi-badge-count", has_text="1").wait_for(timeout=5000)
    assert await badge.is_visible()
    # Carol's list of the post-its she left shows it, not read yet.
    await carol.locator(".pi-sent .pi-item.pi-unread").wait_for(timeout=5000)
    # A post-it left from chat (the service, as the chat command does) appears too.
    await service(office).leave(user(office, "carol"), "bob", "Second one, from chat")
    await bob.locator(".pi-badge-count", has_text="2").wait_for(timeout=5000)
    await bob.locator(".pi-text", has_text="Second one, from chat").wait_for(timeout=5000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await bob.screenshot(path=str(SCREENSHOTS / "postits.png"), full_page=True)
    # Mark one read in the page: the badge goes to 1 without a reload.
    await bob.locator(".pi-mine .pi-item.pi-unread .pi-mark").first.click()
    await bob.locator(".pi-badge-count", has_text="1").wait_for(timeout=5000)
    await wait_for(lambda: True)
    assert await bob.evaluate("window.__xss") == [] and await carol.evaluate("window.__xss") == []
    assert bob.outside == [] and carol.outside == []
