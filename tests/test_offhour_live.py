"""The off-hour page is live: a rule or an announcement changed elsewhere shows without reload,
and only to the users allowed to see it (hub level and in Chromium)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from ctibot.app import CtiApp
from ctibot.config import PluginsConfig, UserConfig
from ctibot.demo.server import DemoPbx
from ctibot.http.auth import UsersFile

from harness import until
from web_fixtures import (
    PROFILES,
    SCALE,
    WebOffice,
    WsClient,
    csrf_of,
    no_outside_requests,
    wait_for,
    web_config,
    write_users_file,
)

ROUTES = {"5550102": "bob", "5550101": "dave", "5550100": ""}
HOSTILE = "<img src=x onerror=alert(1)>"
PASSWORDS = {"dave": "dave-local-pw", "erin": "erin-local-pw"}


@contextlib.asynccontextmanager
async def live_office(folder: Path) -> AsyncIterator[WebOffice]:
    """The test office with the off-hour routes, Dave (a user) and Erin (a guest, without
    the off-hour permissions) logging in locally."""
    sounds = folder / "sounds"
    settings = {"offhour": {"routes": ROUTES, "sounds_dir": str(sounds)}}
    async with DemoPbx(time_scale=SCALE) as pbx:
        base = web_config(pbx, folder, None, plugins=PluginsConfig(settings=settings))
        config = replace(
            base,
            users=(*base.users, UserConfig("erin", "Erin Evans", ("205",), profile="guest")),
            profiles={**base.profiles, "guest": frozenset({"call"})},
        )
        write_users_file(Path(config.auth.users_file))
        users_file = UsersFile(Path(config.auth.users_file))
        for name, password in PASSWORDS.items():
            users_file.set_password(name, password)
        app = CtiApp(config)
        await app.start()
        office = WebOffice(app, pbx, config, Path(config.auth.users_file))
        try:
            await app.ami.wait_ready(5)
            pbx.engine.dialplan.sounds_dir = sounds
            yield office
        finally:
            for client in office.clients:
                await client.aclose()
            await app.stop()


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    async with live_office(tmp_path) as office:
        yield office


async def login(office: WebOffice, name: str) -> httpx.AsyncClient:
    who = next((p for p in PROFILES.values() if p.name == name), None)
    client = office.client()
    resp = await office.login(client, name, who.password if who else PASSWORDS[name])
    assert resp.status_code == 302, resp.text
    return client


async def headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_of((await client.get("/")).text)}


def a_wav(folder: Path) -> bytes:
    path = folder / "a.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-b", "16", str(path), "synth", "1", "sine", "440"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path.read_bytes()


def epoch(*when: int) -> float:
    return datetime(*when, tzinfo=UTC).timestamp()


class Watcher:
    """A websocket on the off-hour topic and a marker topic: what arrives before the marker
    is everything a change sent it (the hub keeps each socket's order)."""

    def __init__(self, ws: WsClient, name: str) -> None:
        self.ws, self.name, self.count = ws, name, 0

    async def until_marker(self, office: WebOffice) -> list[dict[str, Any]]:
        self.count += 1
        office.web.publish("test.marker", {"n": self.count}, users=[self.name])
        got: list[dict[str, Any]] = []
        while True:
            for message in await self.ws.messages():
                if message == {"topic": "test.marker", "data": {"n": self.count}}:
                    return got
                got.append(message)


async def watch(office: WebOffice, client: httpx.AsyncClient, name: str) -> Watcher:
    ws = await WsClient.connect(office.url, client.cookies)
    await ws.send_json({"subscribe": ["offhour", "test.marker"]})
    # Subscribed (the hub handles a socket's subscriptions in order: offhour first).
    await wait_for(
        lambda: any(
            c.user.name == name and "test.marker" in c.topics for c in office.web.hub.clients
        )
    )
    return Watcher(ws, name)


async def test_each_user_gets_only_what_they_may_see(office: WebOffice, tmp_path: Path) -> None:
    office.web.live("test.marker")
    bob, carol, dave, erin = [await login(office, n) for n in ("bob", "carol", "dave", "erin")]
    watchers = {
        n: await watch(office, c, n)
        for n, c in zip(("bob", "carol", "dave", "erin"), (bob, carol, dave, erin), strict=True)
    }
    try:
        first = {n: await w.until_marker(office) for n, w in watchers.items()}
        # Erin (no off-hour permission) is refused the topic and gets nothing of it.
        assert first["erin"] == [
            {"topic": "error", "data": {"topic": "offhour", "error": "forbidden"}}
        ]

        # The snapshot: Bob his route, Dave his, Carol (admin_offhour) every one.
        def dids(messages: list[dict[str, Any]]) -> list[str]:
            (only,) = [m for m in messages if m["topic"] == "offhour"]
            return sorted(r["did"] for r in only["data"]["routes"])

        assert dids(first["bob"]) == ["5550102"]
        assert dids(first["dave"]) == ["5550101"]
        assert dids(first["carol"]) == ["5550100", "5550101", "5550102"]
        # Carol changes the generic route: only Carol's page hears of it.
        carol_h = await headers(carol)
        done = await carol.post(
            "/api/offhour/routes/5550100", json={"mode": "always"}, headers=carol_h
        )
        assert done.status_code == 200, done.text
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["bob"] == got["dave"] == got["erin"] == []
        (change,) = got["carol"]
        generic = next(r for r in change["data"]["routes"] if r["did"] == "5550100")
        assert (generic["mode"], generic["active"]) == ("always", True)
        # Carol changes Bob's route: Bob and Carol, not Dave.
        done = await carol.post(
            "/api/offhour/routes/5550102",
            json={
                "mode": "between",
                "start": "2026-08-01T18:00",
                "end": "2026-08-31T08:00",
                "timezone": "Europe/Rome",
                "action": "redirect",
                "target": "203",
            },
            headers=carol_h,
        )
        assert done.status_code == 200, done.text
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["dave"] == got["erin"] == []
        (change,) = got["bob"]
        assert change["data"]["routes"] == [
            {
                "did": "5550102",
                "label": "5550102 → Bob Brown",
                "generic": False,
                "active": False,
                "mode": "between",
                "start": epoch(2026, 8, 1, 16),
                "end": epoch(2026, 8, 31, 6),
                "timezone": "Europe/Rome",
                "action": "redirect",
                "target": "203",
                "announcement": None,
                "start_local": "2026-08-01T18:00",
                "end_local": "2026-08-31T08:00",
            }
        ]
        assert len(got["carol"]) == 1
        # Bob's private announcement: Bob alone sees it arrive.
        bob_h = await headers(bob)
        up = await bob.post(
            "/api/offhour/announcements",
            data={"description": HOSTILE},
            files={"file": ("a.wav", a_wav(tmp_path), "audio/wav")},
            headers=bob_h,
        )
        assert up.status_code == 200, up.text
        number = up.json()["id"]
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["carol"] == got["dave"] == got["erin"] == []
        (change,) = got["bob"]
        assert change["data"]["announcements"] == [
            {
                "id": number,
                "author": "bob",
                "description": HOSTILE,
                "public": False,
                "state": "ready",
                "mine": True,
                "author_name": "Bob Brown",
            }
        ]
        # Made public: everyone with the page sees it (not as theirs); private again: gone.
        edit = await bob.post(
            f"/api/offhour/announcements/{number}",
            json={"description": "Public now", "public": True},
            headers=bob_h,
        )
        assert edit.status_code == 200, edit.text
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["erin"] == []
        for name in ("carol", "dave"):
            (change,) = got[name]
            assert [(a["description"], a["mine"]) for a in change["data"]["announcements"]] == [
                ("Public now", False)
            ]
        edit = await bob.post(
            f"/api/offhour/announcements/{number}",
            json={"description": "Mine again", "public": False},
            headers=bob_h,
        )
        assert edit.status_code == 200
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["erin"] == []
        for name in ("carol", "dave"):
            (change,) = got[name]
            assert change["data"]["announcements"] == []
        (change,) = got["bob"]
        assert change["data"]["announcements"][0]["description"] == "Mine again"
        # Deleted while private: only Bob's page is told.
        gone = await bob.delete(f"/api/offhour/announcements/{number}", headers=bob_h)
        assert gone.status_code == 200
        got = {n: await w.until_marker(office) for n, w in watchers.items()}
        assert got["carol"] == got["dave"] == got["erin"] == []
        assert got["bob"][0]["data"]["announcements"] == []
    finally:
        for w in watchers.values():
            await w.ws.close()


async def open_page(browser: Any, office: WebOffice, name: str, password: str) -> Any:
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    outside = await no_outside_requests(page)
    await page.goto(office.url + "/login?next=/offhour")
    await page.fill("#login-name", name)
    await page.fill("#login-password", password)
    await page.click("button[type=submit]")
    await page.locator("form.oh-route").first.wait_for()
    # Connected: the topic's snapshot came (the page is live from here on).
    await wait_for(
        lambda: any(c.user.name == name and "offhour" in c.topics for c in office.web.hub.clients)
    )
    page.outside = outside
    return page


async def test_two_browsers_a_change_in_one_shows_in_the_other(
    office: WebOffice, browser: Any, tmp_path: Path
) -> None:
    bob = await open_page(browser, office, "bob", PROFILES["user"].password)
    carol = await open_page(browser, office, "carol", PROFILES["admin"].password)
    bob_form = bob.locator("form.oh-route[data-did='5550102']")
    assert await bob_form.locator(".oh-state").inner_text() == "not active"
    # Carol, in her browser, sets Bob's route to "always, redirect to 203".
    form = carol.locator("form.oh-route[data-did='5550102']")
    await form.locator("select[name=mode]").select_option("always")
    await form.locator("select[name=action]").select_option("redirect")
    await form.locator("input[name=target]").fill("203")
    await form.locator("button[type=submit]").click()
    await carol.wait_for_selector(".flash")
    # Bob's page follows without reload.
    await bob_form.locator(".oh-state", has_text="active now").wait_for(timeout=10_000)
    assert await bob_form.locator("select[name=mode]").input_value() == "always"
    assert await bob_form.locator("select[name=action]").input_value() == "redirect"
    assert await bob_form.locator("input[name=target]").input_value() == "203"
    assert await bob_form.locator("input[name=target]").is_visible()
    # Bob uploads a public announcement (a hostile description) in his page: Carol's page
    # shows it, as text, playable; Bob's own rule form offers it.
    await bob.locator("form.oh-upload input[type=file]").set_input_files(
        files=[{"name": "a.wav", "mimeType": "audio/wav", "buffer": a_wav(tmp_path)}]
    )
    await bob.locator("form.oh-upload input[name=description]").fill(HOSTILE)
    await bob.locator("form.oh-upload input[name=public]").check()
    await bob.locator("form.oh-upload button[type=submit]").click()
    await bob.wait_for_selector(".flash")
    row = carol.locator("tr.oh-announcement")
    await row.locator(".oh-description", has_text=HOSTILE).wait_for(timeout=10_000)
    assert await row.locator(".oh-author").inner_text() == "Bob Brown"
    assert await carol.locator("tr.oh-announcement img").count() == 0
    await carol.wait_for_function(
        "[...document.querySelectorAll('tr.oh-announcement audio')].some(a => a.duration > 0.5)"
    )
    option = carol.locator("form.oh-route[data-did='5550100'] select[name=announcement] option")
    await expect(option).to_have_count(2)
    # Bob edits it in his page: Carol's row follows; Bob deletes it: Carol's row goes.
    edit = bob.locator("tr.oh-announcement form.oh-edit")
    await edit.locator("input[name=description]").fill("Closed for the summer")
    await edit.locator("button[type=submit]").click()
    await carol.locator(".oh-description", has_text="Closed for the summer").wait_for(
        timeout=10_000
    )
    bob.on("dialog", lambda dialog: dialog.accept())
    await bob.locator("tr.oh-announcement .oh-delete").click()
    await carol.locator("tr.oh-none").wait_for(timeout=10_000)
    assert await carol.locator("tr.oh-announcement").count() == 0
    assert bob.outside == [] and carol.outside == []


async def test_a_recording_by_phone_shows_ready_when_the_phone_hangs_up(
    office: WebOffice,
) -> None:
    office.web.live("test.marker")
    bob = await login(office, "bob")
    watcher = await watch(office, bob, "bob")
    try:
        await watcher.until_marker(office)  # the snapshot
        done = await bob.post(
            "/api/offhour/announcements/record",
            json={"description": "Christmas", "public": False},
            headers=await headers(bob),
        )
        assert done.status_code == 200, done.text
        (change,) = await watcher.until_marker(office)
        assert [(a["description"], a["state"]) for a in change["data"]["announcements"]] == [
            ("Christmas", "recording")
        ]
        # Bob's phone (the demo's 202) answers into Record; he hangs up: the page is told.
        await until(lambda: any(ch.app == "Record" for ch in office.pbx.channels_of("202")), 10)
        office.pbx.hangup("202")
        while True:
            (change,) = await watcher.ws.messages(timeout=10)
            states = [a["state"] for a in change["data"]["announcements"]]
            if states != ["recording"]:
                break
        assert states == ["ready"]
    finally:
        await watcher.ws.close()
