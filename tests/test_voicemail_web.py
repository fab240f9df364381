"""The voicemail page in the panel: HTTP (audio, ranges, traversal, delete) and Chromium (play)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ctibot.app import CtiApp
from ctibot.config import PluginsConfig
from ctibot.demo.office import Office
from ctibot.demo.server import DemoPbx
from ctibot.http.usercmd import token_command

from web_fixtures import (
    PROFILES,
    SCALE,
    WebOffice,
    csrf_of,
    no_outside_requests,
    screenshots_dir,
    wait_for,
    web_config,
    write_users_file,
)

SHOTS = screenshots_dir()
BOB = PROFILES["user"]  # box 202
CAROL = PROFILES["admin"]  # box 203


@contextlib.asynccontextmanager
async def office_with_spool(folder: Path) -> AsyncIterator[WebOffice]:
    spool = folder / "spool"
    async with DemoPbx(Office(voicemail_spool=str(spool)), time_scale=SCALE) as pbx:
        plugins = PluginsConfig(settings={"voicemail": {"spool": str(spool)}})
        config = web_config(pbx, folder, None, plugins=plugins)
        write_users_file(Path(config.auth.users_file))
        app = CtiApp(config)
        await app.start()
        office = WebOffice(app, pbx, config, Path(config.auth.users_file))
        try:
            await app.ami.wait_ready(5)
            yield office
        finally:
            for client in office.clients:
                await client.aclose()
            await app.stop()


@pytest.fixture
async def vm_office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    async with office_with_spool(tmp_path) as office:
        yield office


def box(office: WebOffice, number: str) -> Path:
    return Path(office.config.plugins.table("voicemail")["spool"]) / "default" / number


async def messages_in(office: WebOffice, number: str, count: int) -> None:
    await wait_for(lambda: len(list((box(office, number) / "INBOX").glob("*.txt"))) >= count)


async def test_my_messages_audio_ranges_and_download(vm_office: WebOffice) -> None:
    vm_office.pbx.leave_voicemail("202", '"<img src=x onerror=alert(1)>" <0699887766>', 3)
    vm_office.pbx.leave_voicemail("203", '"For Carol" <0611111111>', 2)
    await messages_in(vm_office, "202", 1)
    await messages_in(vm_office, "203", 1)
    bob = await vm_office.logged_in("user")
    page = await bob.get("/voicemail")
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt; (0699887766)" in page.text
    assert "<img src=x" not in page.text and "For Carol" not in page.text
    audio = await bob.get("/voicemail/202/INBOX/msg0000/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and len(audio.content) == 44 + 3 * 8000 * 2
    part = await bob.get("/voicemail/202/INBOX/msg0000/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"].startswith("bytes 0-99/")
    down = await bob.get("/voicemail/202/INBOX/msg0000/download")
    assert down.status_code == 200 and "attachment" in down.headers["content-disposition"]
    api = await bob.get("/api/voicemail")
    assert api.json()["new"] == 1 and api.json()["messages"][0]["key"] == "202/INBOX/msg0000"
    # Carol's box is not Bob's, and the guest-like anonymous visitor is sent to log in.
    assert (await bob.get("/voicemail/203/INBOX/msg0000/audio")).status_code == 404
    anonymous = await vm_office.client().get("/voicemail/202/INBOX/msg0000/audio")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["location"]


TRAVERSAL_URLS = [
    "/voicemail/202/INBOX/..%2f..%2f203%2fINBOX%2fmsg0000/audio",
    "/voicemail/202/INBOX/%2e%2e%2f%2e%2e%2f203%2fINBOX%2fmsg0000/audio",
    "/voicemail/202/INBOX/%252e%252e%252fmsg0000/audio",
    "/voicemail/202/INBOX/..%5c..%5c203%5cINBOX%5cmsg0000/audio",
    "/voicemail/202/INBOX/msg0000%00/audio",
    "/voicemail/202/INBOX/%2fetc%2fpasswd/audio",
    "/voicemail/202/%2e%2e/msg0000/audio",
    "/voicemail/202/..%2f..%2f203%2fINBOX/msg0000/audio",
    "/voicemail/%2e%2e%2f203/INBOX/msg0000/audio",
    "/voicemail/..%5c203/INBOX/msg0000/audio",
    "/voicemail/203/INBOX/msg0000/audio",
    "/voicemail/202/INBOX/../../203/INBOX/msg0000/audio",
    "/voicemail/202/INBOX/msg0000.wav/audio",
    "/voicemail/202/INBOX/msg0000/../../../203/INBOX/msg0000/audio",
]


@pytest.mark.parametrize("url", TRAVERSAL_URLS)
async def test_traversal_urls_are_refused(vm_office: WebOffice, url: str) -> None:
    vm_office.pbx.leave_voicemail("202", duration=1)
    vm_office.pbx.leave_voicemail("203", duration=1)
    await messages_in(vm_office, "203", 1)
    bob = await vm_office.logged_in("user")
    got = await bob.get(url)
    assert got.status_code in (400, 404), (url, got.status_code)
    assert not got.content.startswith(b"RIFF")
    download = await bob.get(url.replace("/audio", "/download"))
    assert download.status_code in (400, 404) and not download.content.startswith(b"RIFF")
    token = csrf_of((await bob.get("/voicemail")).text)
    deleted = await bob.post(url.replace("/audio", "/delete"), data={"csrf_token": token})
    assert deleted.status_code in (302, 400, 404)
    assert (box(vm_office, "203") / "INBOX" / "msg0000.wav").exists()
    assert (box(vm_office, "202") / "INBOX" / "msg0000.wav").exists()


async def test_delete_needs_the_csrf_token_and_refreshes_the_pbx(vm_office: WebOffice) -> None:
    vm_office.pbx.leave_voicemail("202", '"One" <0611111111>', 1)
    vm_office.pbx.leave_voicemail("202", '"Two" <0622222222>', 1)
    await messages_in(vm_office, "202", 2)
    state = vm_office.app.state
    await wait_for(lambda: "202" in state.mailboxes and state.mailboxes["202"].new == 2)
    bob = await vm_office.logged_in("user")
    refused = await bob.post("/voicemail/202/INBOX/msg0000/delete")
    assert refused.status_code == 403
    assert (box(vm_office, "202") / "INBOX" / "msg0000.wav").exists()
    token = csrf_of((await bob.get("/voicemail")).text)
    done = await bob.post(
        "/voicemail/202/INBOX/msg0000/delete",
        data={"csrf_token": token},
        headers={"Referer": f"{vm_office.url}/voicemail"},
    )
    assert done.status_code == 302
    assert not (box(vm_office, "202") / "INBOX" / "msg0000.wav").exists()
    await wait_for(lambda: state.mailboxes["202"].new == 1)  # the demo re-read the box
    assert vm_office.pbx.office.mailboxes["202"].new == 1


async def audio_state(page: Any) -> dict[str, Any]:
    return await page.evaluate(
        "() => { const a = document.querySelector('#vm-audio');"
        " return {ready: a.readyState, duration: a.duration, error: a.error && a.error.code,"
        " time: a.currentTime, src: a.currentSrc}; }"
    )


async def test_in_chromium_play_delete_and_the_live_badge(
    vm_office: WebOffice, browser: Any
) -> None:
    vm_office.pbx.leave_voicemail("202", '"Customer <b>" <0699887766>', 4)
    vm_office.pbx.leave_voicemail("202", '"Supplier" <0612345678>', 2)
    await messages_in(vm_office, "202", 2)
    context = await browser.new_context(locale="en-US", viewport={"width": 1100, "height": 640})
    page = await context.new_page()
    outside = await no_outside_requests(page)
    await page.goto(f"{vm_office.url}/login?next=/voicemail")
    await page.fill("input[name=name]", BOB.name)
    await page.fill("input[name=password]", BOB.password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/voicemail")
    rows = page.locator("tr.vm-msg")
    assert await rows.count() == 2
    assert "Customer <b> (0699887766)" in await page.inner_text(".vm-list")
    # Play the first message: the audio element loads real audio.
    await page.locator('tr[data-key="202/INBOX/msg0000"] .vm-listen').click()
    await page.wait_for_function(
        "() => { const a = document.querySelector('#vm-audio');"
        " return a.readyState >= 1 && a.duration > 0; }",
        timeout=10000,
    )
    state = await audio_state(page)
    assert state["error"] is None and abs(state["duration"] - 4.0) < 0.1
    assert state["src"].endswith("/voicemail/202/INBOX/msg0000/audio")
    await page.wait_for_function(
        "() => document.querySelector('#vm-audio').currentTime > 0.2", timeout=10000
    )
    await page.evaluate("document.querySelector('#vm-audio').pause()")  # not heard to the end
    SHOTS.mkdir(parents=True, exist_ok=True)
    # A new message arrives while the page is open: the list and the badge follow, live.
    vm_office.pbx.leave_voicemail("202", '"Late caller" <0633333333>', 3)
    await page.wait_for_function(
        "() => document.querySelectorAll('tr.vm-msg').length === 3", timeout=10000
    )
    assert "Late caller" in await page.inner_text(".vm-list")
    assert "3 new" in await page.inner_text(".vm-boxes")
    await page.wait_for_function(
        "() => document.querySelector('.vm-badge .vm-badge-count').textContent === '3'",
        timeout=10000,
    )
    await page.screenshot(path=str(SHOTS / "voicemail.png"))
    # Delete one (confirm dialog accepted).
    page.on("dialog", lambda dialog: dialog.accept())
    await page.locator('tr[data-key="202/INBOX/msg0001"] .vm-delete').click()
    await page.wait_for_function(
        "() => document.querySelectorAll('tr.vm-msg').length === 2", timeout=10000
    )
    await wait_for(lambda: not (box(vm_office, "202") / "INBOX" / "msg0001.wav").exists())
    await page.wait_for_function(
        "() => document.querySelector('.vm-boxes').innerText.includes('2 new')", timeout=10000
    )
    await page.wait_for_function(
        "() => document.querySelector('.vm-badge .vm-badge-count').textContent === '2'",
        timeout=10000,
    )
    # Heard to the end, a message moves to Old (as on the phone): one new less, live.
    await page.evaluate(
        "() => { const a = document.querySelector('#vm-audio');"
        " a.currentTime = Math.max(0, a.duration - 0.3); return a.play(); }"
    )
    await wait_for(lambda: (box(vm_office, "202") / "Old" / "msg0000.wav").exists())
    assert not (box(vm_office, "202") / "INBOX" / "msg0000.wav").exists()
    await page.wait_for_function(
        "() => document.querySelector('.vm-badge .vm-badge-count').textContent === '1'",
        timeout=10000,
    )
    assert await page.locator('tr[data-key="202/Old/msg0000"] .vm-state').inner_text() == "heard"
    assert outside == []
    await context.close()


async def test_the_top_bar_badge_on_any_page_follows_new_messages_live(
    vm_office: WebOffice, browser: Any
) -> None:
    context = await browser.new_context(locale="it-IT", viewport={"width": 1100, "height": 500})
    page = await context.new_page()
    await page.goto(f"{vm_office.url}/login?next=/queues")
    await page.fill("input[name=name]", BOB.name)
    await page.fill("input[name=password]", BOB.password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/queues")
    badge = page.locator(".vm-badge")
    assert await badge.is_hidden()  # no message yet
    await page.wait_for_function("() => !document.body.classList.contains('offline')")
    vm_office.pbx.leave_voicemail("202", '"Cliente" <0699887766>', 2)
    await badge.wait_for(state="visible", timeout=10000)
    assert await badge.locator(".vm-badge-count").inner_text() == "1"
    assert await badge.get_attribute("title") == "Nuovi messaggi in segreteria"
    await badge.click()
    await page.wait_for_url("**/voicemail")
    assert "Cliente (0699887766)" in await page.inner_text(".vm-list")
    assert await page.locator(".vm-badge .vm-badge-count").inner_text() == "1"
    # The chat notice's link opens the page on that message, loaded in the player.
    await page.goto(f"{vm_office.url}/voicemail?play=202/INBOX/msg0000")
    await page.wait_for_function(
        "() => { const a = document.querySelector('#vm-audio');"
        " return a.currentSrc.endsWith('/voicemail/202/INBOX/msg0000/audio')"
        " && a.readyState >= 1 && a.duration > 1.9; }",
        timeout=10000,
    )
    assert await page.locator("tr.vm-playing").get_attribute("data-key") == "202/INBOX/msg0000"
    # A hostile play= names nothing: no request, no player.
    await page.goto(f"{vm_office.url}/voicemail?play=%22%5D%3Cimg%20src%3Dx%3E")
    assert await page.locator(".vm-player").is_hidden()
    await context.close()


async def test_the_json_api_with_a_token(vm_office: WebOffice, capsys: Any) -> None:
    vm_office.pbx.leave_voicemail("202", '"Api" <0611111111>', 2)
    vm_office.pbx.leave_voicemail("202", '"Api two" <0622222222>', 2)
    await messages_in(vm_office, "202", 2)
    assert await token_command(vm_office.config, "bob", revoke=False) == 0
    token = capsys.readouterr().out.strip()
    api = vm_office.client(headers={"Authorization": f"Bearer {token}"})
    listed = (await api.get("/api/voicemail")).json()
    assert [m["key"] for m in listed["messages"]][:2] == ["202/INBOX/msg0001", "202/INBOX/msg0000"]
    audio = await api.get("/api/voicemail/202/INBOX/msg0000/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    heard = await api.post("/api/voicemail/202/INBOX/msg0000/heard")
    assert heard.json() == {"moved": "202/Old/msg0000"}
    gone = await api.delete("/api/voicemail/202/Old/msg0000")
    assert gone.status_code == 200 and gone.json()["deleted"] == "202/Old/msg0000"
    again = await api.delete("/api/voicemail/202/Old/msg0000")
    assert again.status_code == 404 and again.json()["error"] == "voicemail.error.no_message"
    bad = await api.delete("/api/voicemail/202/INBOX/..%2fmsg0001")
    assert (
        bad.status_code in (400, 404) and (box(vm_office, "202") / "INBOX" / "msg0001.wav").exists()
    )
    other = await api.delete("/api/voicemail/203/INBOX/msg0000")
    assert other.status_code == 404
    state = vm_office.app.state
    await wait_for(lambda: state.mailboxes["202"].new == 1 and state.mailboxes["202"].old == 0)
