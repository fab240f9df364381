"""The queues page in the panel: HTTP (permissions, actions), Chromium (live caller, pause)."""

from __future__ import annotations

from typing import Any

import httpx

from ctibot.http.usercmd import token_command

from harness import ring_forever
from web_fixtures import (
    PROFILES,
    WebOffice,
    csrf_of,
    no_outside_requests,
    screenshots_dir,
    wait_for,
)

SHOTS = screenshots_dir()
BOB = PROFILES["user"]  # 202: a fixed member of sales


def member(office: WebOffice, queue: str, ext: str) -> Any:
    return office.app.state.queues.get(queue) and office.app.state.queues[queue].members.get(ext)


async def test_queues_page_and_actions_over_http(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    web_office.pbx.office.astdb.put("QPENALTY/support/agents", "202", "1")
    bob = web_clients["user"]
    await wait_for(lambda: "sales" in web_office.app.state.queues)
    page = await bob.get("/queues")
    assert page.status_code == 200
    assert 'data-queue="sales"' in page.text and 'data-queue="support"' in page.text
    api = (await bob.get("/api/queues")).json()
    sales = next(q for q in api["queues"] if q["name"] == "sales")
    assert sales["static"] and [a["extension"] for a in sales["agents"]] == ["201", "202"]
    token = csrf_of(page.text)
    assert (await bob.post("/queues/support/login")).status_code == 403  # no CSRF token
    done = await bob.post("/queues/support/login", data={"csrf_token": token})
    assert done.status_code == 302
    await wait_for(lambda: member(web_office, "support", "202"))
    await bob.post("/queues/support/pause", data={"csrf_token": token, "reason": "coffee"})
    await wait_for(lambda: member(web_office, "support", "202").paused)
    assert member(web_office, "support", "202").reason == "coffee"
    bad = await bob.post(
        "/queues/support/pause",
        data={"reason": "a|b"},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"]
    nosuch = await bob.post(
        "/queues/nosuch/login", headers={"X-CSRF-Token": token, "Accept": "application/json"}
    )
    assert nosuch.status_code == 404
    await bob.post("/queues/support/logout", data={"csrf_token": token})
    await wait_for(lambda: not member(web_office, "support", "202"))


async def test_in_chromium_a_waiting_caller_live_and_login_pause(
    web_office: WebOffice, browser: Any
) -> None:
    office = web_office
    office.pbx.office.astdb.put("QPENALTY/support/agents", "202", "1")
    await wait_for(lambda: "sales" in office.app.state.queues)
    context = await browser.new_context(locale="en-US", viewport={"width": 1100, "height": 640})
    page = await context.new_page()
    outside = await no_outside_requests(page)
    await page.goto(f"{office.url}/login?next=/queues")
    await page.fill("input[name=name]", BOB.name)
    await page.fill("input[name=password]", BOB.password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/queues")
    sales = page.locator('.q-card[data-queue="sales"]')
    assert await sales.locator(".q-waiting").inner_text() == "0"
    # Bob pauses in sales (a static member may pause): the queue rings Alice only.
    await sales.locator(".q-reason").fill("meeting")
    await sales.locator(".q-pause").click()
    await wait_for(lambda: member(office, "sales", "202").paused)
    await sales.locator(".q-resume").wait_for(timeout=10000)
    # A caller rings the sales queue; nobody answers: the page shows them waiting, live.
    ring_forever(office.pbx, "201", "202")
    office.pbx.inbound_call("0699887766", "<img src=x onerror=alert(1)>", "5550100")
    await page.wait_for_function(
        "() => document.querySelector('.q-card[data-queue=\"sales\"] .q-caller') !== null",
        timeout=10000,
    )
    caller = sales.locator(".q-caller-name")
    assert await caller.inner_text() == "<img src=x onerror=alert(1)> (0699887766)"
    assert await sales.locator(".q-waiting").inner_text() == "1"
    first = await sales.locator(".q-wait").inner_text()
    await page.wait_for_function(
        "(first) => document.querySelector('.q-card[data-queue=\"sales\"] .q-wait')"
        ".textContent !== first",
        arg=first,
        timeout=10000,
    )  # the wait ticks
    # Log into support, pause with a reason, resume: the PBX does it, the page follows.
    support = page.locator('.q-card[data-queue="support"]')
    await support.locator(".q-login").click()
    await wait_for(lambda: member(office, "support", "202"))
    await support.locator(".q-is-me").wait_for(timeout=10000)
    await support.locator(".q-reason").fill("lunch")
    await support.locator(".q-pause").click()
    await wait_for(lambda: member(office, "support", "202").paused)
    assert member(office, "support", "202").reason == "lunch"
    await support.locator(".q-resume").wait_for(timeout=10000)
    assert "(lunch)" in await support.locator(".q-is-me").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "queues.png"))
    await support.locator(".q-resume").click()
    await wait_for(lambda: not member(office, "support", "202").paused)
    await support.locator(".q-pause").wait_for(timeout=10000)
    assert outside == []
    await context.close()


async def test_the_queues_json_api_with_a_token(web_office: WebOffice, capsys: Any) -> None:
    web_office.pbx.office.astdb.put("QPENALTY/support/agents", "202", "1")
    assert await token_command(web_office.config, "bob", revoke=False) == 0
    token = capsys.readouterr().out.strip()
    api = web_office.client(headers={"Authorization": f"Bearer {token}"})
    await wait_for(lambda: "support" in web_office.app.state.queues)
    done = await api.post("/api/queues/support/login")
    assert done.status_code == 200 and done.json()["changed"] == ["support"]
    await wait_for(lambda: member(web_office, "support", "202"))
    paused = await api.post("/api/queues/support/pause", json={"reason": "training"})
    assert paused.json() == {
        "action": "pause",
        "changed": ["support"],
        "unchanged": [],
        "reason": "training",
    }
    await wait_for(lambda: member(web_office, "support", "202").paused)
    long = await api.post("/api/queues/support/pause", json={"reason": "x" * 81})
    assert long.status_code == 400  # validated by the schema
    assert (await api.post("/api/queues/support/resume")).json()["changed"] == ["support"]
    await wait_for(lambda: not member(web_office, "support", "202").paused)
    static = await api.post("/api/queues/sales/logout")
    assert static.status_code == 400 and static.json()["error"] == "error.static_member"
    assert (await api.post("/api/queues/support/logout")).status_code == 200
    await wait_for(lambda: not member(web_office, "support", "202"))
