"""The off-hour page (F35, F36): rules and announcements through the panel, and in Chromium."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctibot.config import PluginsConfig

from demo_fixtures import RawAmiClient
from harness import until
from web_fixtures import (
    PROFILES,
    WebOffice,
    csrf_of,
    no_outside_requests,
    running_office,
    screenshots_dir,
)

FAMILY = "CTIBOT_OFFHOUR"
SCREENSHOTS = screenshots_dir()
ROUTES = {"5550102": "bob", "5550101": "dave", "5550100": ""}


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    sounds = tmp_path / "sounds"
    settings = {"offhour": {"routes": ROUTES, "sounds_dir": str(sounds), "max_upload": 300_000}}
    async with running_office(tmp_path, None, plugins=PluginsConfig(settings=settings)) as office:
        office.pbx.engine.dialplan.sounds_dir = sounds
        yield office


def astdb(office: WebOffice, did: str, key: str) -> str | None:
    return office.pbx.office.astdb.get(f"{FAMILY}/{did}", key)


def service(office: WebOffice) -> Any:
    return office.app.services.get("offhour")


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True, timeout=30)


async def login(office: WebOffice, profile: str) -> httpx.AsyncClient:
    client = await office.logged_in(profile)
    return client


async def post_form(client: httpx.AsyncClient, url: str, data: dict, **kw: Any) -> httpx.Response:
    page = await client.get("/offhour")
    data = {**data, "csrf_token": csrf_of(page.text)}
    return await client.post(url, data=data, headers={"Referer": "/offhour"}, **kw)


async def test_the_page_shows_my_routes_only_and_saves_a_rule(office: WebOffice) -> None:
    bob = await login(office, "user")
    page = await bob.get("/offhour")
    assert page.status_code == 200
    assert 'data-did="5550102"' in page.text and 'data-did="5550100"' not in page.text
    carol = await login(office, "admin")
    admin_page = (await carol.get("/offhour")).text
    assert all(f'data-did="{did}"' in admin_page for did in ROUTES)
    resp = await post_form(
        bob,
        "/offhour/routes/5550102/rule",
        {"mode": "always", "action": "redirect", "target": "203"},
    )
    assert resp.status_code == 302
    assert (astdb(office, "5550102", "mode"), astdb(office, "5550102", "target")) == (
        "always",
        "203",
    )
    # Between two date-times of the chosen time zone: the PBX gets UTC epoch seconds.
    resp = await post_form(
        bob,
        "/offhour/routes/5550102/rule",
        {
            "mode": "between",
            "start": "2026-08-01T18:00",
            "end": "2026-08-31T08:00",
            "timezone": "Europe/Rome",
            "action": "voicemail",
            "target": "202",
        },
    )
    assert resp.status_code == 302
    assert astdb(office, "5550102", "start") == str(
        int(datetime(2026, 8, 1, 16, 0, tzinfo=UTC).timestamp())
    )
    page = (await bob.get("/offhour")).text
    assert 'value="2026-08-01T18:00"' in page and 'value="2026-08-31T08:00"' in page
    # Someone else's route: refused, nothing changes at the PBX.
    refused = await post_form(bob, "/offhour/routes/5550101/rule", {"mode": "always"})
    assert refused.status_code == 302
    assert astdb(office, "5550101", "mode") == "never"
    page = await bob.get("/offhour")
    assert "not allowed" in page.text.lower() or "permission" in page.text.lower()
    # The JSON API does the same, validated.
    token = csrf_of(page.text)
    api = await bob.post(
        "/api/offhour/routes/5550102",
        json={"mode": "between", "start": "2099-01-01T00:00", "end": "2099-01-02T00:00"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 200, api.text
    assert api.json()["mode"] == "between" and astdb(office, "5550102", "mode") == "between"
    bad = await bob.post(
        "/api/offhour/routes/5550102", json={"mode": "sometimes"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "offhour.error.bad_mode"
    schema = (await bob.get("/openapi.json")).json()
    assert {"/api/offhour", "/api/offhour/routes/{did}"} <= set(schema["paths"])


async def test_announcements_through_the_api(office: WebOffice, tmp_path: Path) -> None:
    bob = await login(office, "user")
    token = csrf_of((await bob.get("/offhour")).text)
    headers = {"X-CSRF-Token": token}
    sox("-n", "-r", "8000", "-b", "16", str(tmp_path / "a.mp3"), "synth", "1", "sine", "440")
    up = await bob.post(
        "/api/offhour/announcements",
        data={"description": "By API", "public": "true"},
        files={"file": ("a.mp3", (tmp_path / "a.mp3").read_bytes(), "audio/mpeg")},
        headers=headers,
    )
    assert up.status_code == 200, up.text
    number = up.json()["id"]
    assert up.json() == {
        "id": number,
        "author": "bob",
        "description": "By API",
        "public": True,
        "state": "ready",
        "mine": True,
    }
    bad = await bob.post(
        "/api/offhour/announcements",
        data={"description": "Not audio"},
        files={"file": ("x.mp3", b"GIF89a" + b"\x00" * 100, "audio/mpeg")},
        headers=headers,
    )
    assert bad.status_code == 400 and bad.json()["error"] == "offhour.error.not_audio"
    edit = await bob.post(
        f"/api/offhour/announcements/{number}",
        json={"description": "Renamed", "public": False},
        headers=headers,
    )
    assert edit.status_code == 200 and edit.json()["description"] == "Renamed"
    carol = await login(office, "admin")
    carol_token = csrf_of((await carol.get("/offhour")).text)
    theirs = await carol.delete(
        f"/api/offhour/announcements/{number}", headers={"X-CSRF-Token": carol_token}
    )
    assert theirs.status_code == 404  # private now: Carol does not even see it
    gone = await bob.delete(f"/api/offhour/announcements/{number}", headers=headers)
    assert gone.status_code == 200 and gone.json() == {"deleted": number}
    listed = (await bob.get("/api/offhour")).json()
    assert listed["announcements"] == [] and listed["routes"][0]["did"] == "5550102"


async def test_the_page_in_italian(office: WebOffice) -> None:
    from ctibot.plugins.offhour.messages import MESSAGES

    assert set(MESSAGES["en"]) == set(MESSAGES["it"])
    bob = await login(office, "user")
    page = await bob.get("/offhour", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert "Servizio notte" in page.text and "Rotte in ingresso" in page.text


async def test_upload_listen_and_the_bad_inputs(office: WebOffice, tmp_path: Path) -> None:
    bob = await login(office, "user")
    sox("-n", "-r", "22050", "-b", "16", str(tmp_path / "a.wav"), "synth", "1", "sine", "440")
    resp = await post_form(
        bob,
        "/offhour/announcements/upload",
        {"description": "<script>alert(1)</script><img src=x onerror=alert(2)>", "public": "1"},
        files={"file": ("a.wav", (tmp_path / "a.wav").read_bytes(), "audio/wav")},
    )
    assert resp.status_code == 302
    [found] = await service(office).announcements(office.config.user_by_name("bob"))
    page = (await bob.get("/offhour")).text
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    audio = await bob.get(f"/api/offhour/announcements/{found.id}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"].startswith("audio/wav")
    assert audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE"
    # Carol sees Bob's public announcement read-only: no edit form, no delete.
    carol = await login(office, "admin")
    carol_page = (await carol.get("/offhour")).text
    assert f'action="/offhour/announcements/{found.id}/edit"' not in carol_page
    assert f'action="/offhour/announcements/{found.id}/delete"' not in carol_page
    assert f'action="/offhour/announcements/{found.id}/edit"' in page
    took = await post_form(carol, f"/offhour/announcements/{found.id}/delete", {})
    assert took.status_code == 302 and service(office).file_of(found).exists()
    # Traversal in listen and delete: refused.
    for bad in ("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", "1%2F..%2F2", "%2Fetc%2Fpasswd", "-1"):
        got = await bob.get(f"/api/offhour/announcements/{bad}/audio")
        assert got.status_code == 404, bad
        assert b"root:" not in got.content
        await post_form(bob, f"/offhour/announcements/{bad}/delete", {})
    assert service(office).file_of(found).exists()
    # A bad file: a clear error, nothing kept; a file over the cap likewise.
    before = sorted((Path(service(office).sounds_dir) / "custom" / "ctibot").iterdir())
    for name, content in (
        ("evil.wav", b"#!/bin/sh\nrm -rf /\n" * 20),
        ("big.wav", b"RIFF\x00\x00\x00\x00WAVE" + b"\x00" * 400_000),
    ):
        resp = await post_form(
            bob,
            "/offhour/announcements/upload",
            {"description": name},
            files={"file": (name, content, "audio/wav")},
        )
        assert resp.status_code in (302, 413)
        page = (await bob.get("/offhour")).text
        assert re.search(r"not a WAV or MP3|too big|Nothing was kept", page), name
    assert sorted((Path(service(office).sounds_dir) / "custom" / "ctibot").iterdir()) == before
    assert len(await service(office).announcements(office.config.user_by_name("bob"))) == 1


async def test_record_by_phone_from_the_page(office: WebOffice) -> None:
    bob = await login(office, "user")
    resp = await post_form(
        bob, "/offhour/announcements/record", {"description": "Christmas", "public": "1"}
    )
    assert resp.status_code == 302
    page = (await bob.get("/offhour")).text
    assert "Your phone rings" in page and "recording…" in page
    # Bob's phone (the demo's 202) answers and runs Record into the announcement's file.
    await until(lambda: any(ch.app == "Record" for ch in office.pbx.channels_of("202")), 10)
    [found] = await service(office).announcements(office.config.user_by_name("bob"))
    office.pbx.hangup("202")
    await until(service(office).file_of(found).exists, 5)
    page = (await bob.get("/offhour")).text
    assert f'src="/api/offhour/announcements/{found.id}/audio"' in page


async def test_set_a_rule_in_chromium_and_the_demo_applies_it(
    office: WebOffice, browser: Any, tmp_path: Path
) -> None:
    bob_user = office.config.user_by_name("bob")
    sox("-n", "-r", "8000", "-b", "16", str(tmp_path / "closed.wav"), "synth", "2", "sine", "440")
    found = await service(office).upload(
        bob_user, (tmp_path / "closed.wav").read_bytes(), "Closed for the summer", True
    )
    who = PROFILES["user"]
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    outside = await no_outside_requests(page)
    await page.goto(office.url + "/login?next=/offhour")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    form = page.locator("form.oh-route[data-did='5550102']")
    await form.wait_for()
    await form.locator("select[name=mode]").select_option("always")
    await form.locator("select[name=announcement]").select_option(str(found.id))
    await form.locator("select[name=action]").select_option("hangup")
    assert not await form.locator("input[name=target]").is_visible()  # hangup: no target
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector(".flash")
    assert "sent to the PBX" in await page.locator(".flash").first.inner_text()
    assert await form.locator(".oh-state").inner_text() == "active now"
    assert astdb(office, "5550102", "mode") == "always"
    # Listen in the page: the audio element loads the real (2 s) announcement.
    await page.wait_for_function(
        "[...document.querySelectorAll('tr.oh-announcement audio')].every(a => a.duration > 1.5)"
    )
    # An outside caller on Bob's DID hears the announcement, then the demo hangs up.
    ami = RawAmiClient()
    await ami.login(office.pbx.port)
    try:
        office.pbx.inbound_call("0612345678", "Customer", "5550102", talk=60)
        new = await ami.wait_for(
            lambda m: m.get("Event") == "Newchannel" and m.get("Exten") == "5550102", 5
        )
        channel = new["Channel"]
        await ami.wait_for(
            lambda m: (
                m.get("Event") == "Newexten"
                and m.get("Channel") == channel
                and m.get("Application") == "Playback"
                and m.get("AppData") == f"custom/ctibot/offhour-{found.id}"
            ),
            10,
        )
        await ami.wait_for(lambda m: m.get("Event") == "Hangup" and m["Channel"] == channel, 10)
        assert not [
            m
            for m in ami.messages
            if m.get("Event") == "Newchannel" and m["Channel"].startswith("PJSIP/202-")
        ]
    finally:
        await ami.close()
    # Back to never in the page: the next caller reaches Bob's phone.
    await form.locator("select[name=mode]").select_option("never")
    await form.locator("button[type=submit]").click()
    await until(lambda: astdb(office, "5550102", "mode") == "never", 5)
    assert outside == []
    await context.close()


async def test_an_admin_sets_a_period_in_chromium(
    office: WebOffice, browser: Any, tmp_path: Path
) -> None:
    who = PROFILES["admin"]
    bob_user = office.config.user_by_name("bob")
    await service(office).set_rule(
        bob_user, "5550102", mode="always", action="redirect", target="203"
    )
    sox("-n", "-r", "8000", "-b", "16", str(tmp_path / "closed.wav"), "synth", "3", "sine", "440")
    await service(office).upload(
        bob_user, (tmp_path / "closed.wav").read_bytes(), "Closed for the summer", True
    )
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(office.url + "/login?next=/offhour")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    form = page.locator("form.oh-route[data-did='5550100']")  # the generic route
    await form.wait_for()
    assert not await form.locator("input[name=start]").is_visible()  # never: no dates
    await form.locator("select[name=mode]").select_option("between")
    await form.locator("input[name=start]").fill("2026-08-08T18:00")
    await form.locator("input[name=end]").fill("2026-08-24T08:00")
    await form.locator("select[name=timezone]").select_option("Europe/Rome")
    await form.locator("select[name=action]").select_option("voicemail")
    await form.locator("input[name=target]").fill("201")
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector(".flash")
    assert astdb(office, "5550100", "start") == str(
        int(datetime(2026, 8, 8, 16, 0, tzinfo=UTC).timestamp())
    )
    assert (astdb(office, "5550100", "action"), astdb(office, "5550100", "target")) == (
        "voicemail",
        "201",
    )
    form = page.locator("form.oh-route[data-did='5550100']")
    assert await form.locator("input[name=start]").input_value() == "2026-08-08T18:00"
    # Bob's public announcement: Carol may pick it, read-only for her.
    row = page.locator("tr.oh-announcement")
    assert await row.locator(".oh-description").inner_text() == "Closed for the summer"
    assert await row.locator("form").count() == 0
    await page.wait_for_function("document.querySelector('tr.oh-announcement audio').duration > 2")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "offhour.png"), full_page=True)
    await context.close()
