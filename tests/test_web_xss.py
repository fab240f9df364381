"""Hostile caller IDs show as text on every page of the panel (server HTML and live JS)."""

from __future__ import annotations

import contextlib

from web_fixtures import PROFILES, WebOffice, wait_for

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)><svg onload=alert(3)>"


def hostile_call(office: WebOffice) -> None:
    office.pbx.inbound_call("0612345678", HOSTILE, "5550102")


def ringing(office: WebOffice) -> bool:
    return any(c.get("from_name") == HOSTILE for c in office.app.state.snapshot()["calls"])


def menu_pages(office: WebOffice) -> list[str]:
    return sorted(i.rule for i in office.web.routes.values() if i.kind == "page"
                  and "<" not in i.rule and i.rule != "/openapi.json")


async def test_no_page_carries_a_raw_caller_id(web_office: WebOffice, web_clients) -> None:
    hostile_call(web_office)
    await wait_for(lambda: ringing(web_office))
    for profile in PROFILES:
        for path in menu_pages(web_office):
            resp = await web_clients[profile].get(path)
            for raw in ("<script>alert(", "<img src=x", "<svg onload"):
                assert raw not in resp.text, (profile, path, raw)


async def test_no_script_runs_from_a_caller_id_in_chromium(web_office: WebOffice, browser):
    hostile_call(web_office)
    await wait_for(lambda: ringing(web_office))
    context = await browser.new_context()
    await context.add_init_script(
        "window.__xss = []; window.alert = function (m) { window.__xss.push(String(m)); };"
    )
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    who = PROFILES["admin"]
    await page.goto(web_office.url + "/login")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(web_office.url + "/")
    for path in menu_pages(web_office):
        await page.goto(web_office.url + path)
        await page.wait_for_load_state("load")
        # Pages that show the call show it as text; give the live snapshot that long.
        with contextlib.suppress(Exception):
            await page.wait_for_function(
                "t => document.body.innerText.includes(t)", arg="<script>alert(1)", timeout=1500
            )
        fired = await page.evaluate("window.__xss")
        assert fired == [] and dialogs == [], (path, fired, dialogs)
    await context.close()
