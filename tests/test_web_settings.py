"""My settings (F23–F28): saved per user in the store, forwards on the demo PBX, shown back;
bad values refused with nothing stored; the page in Chromium (screenshot)."""

from __future__ import annotations

from typing import Any

import httpx
from test_web_calls_browser import open_panel

from web_fixtures import WebOffice, csrf_of, screenshots_dir

SCREENSHOTS = screenshots_dir()
GOOD = {
    "forward_busy": "voicemail",
    "forward_noanswer": "number",
    "forward_noanswer_number": "201",
    "noanswer_timeout": "25",
    "default_extension": "202",
    "lookup_field": "cellphone",
    "url": "https://crm.example.com/find?n=$CALLER_NUMBER",
    "click_to_call": "automatic",
    "notices": ["postit_email", "voicemail_sms"],
}


async def test_settings_saved_per_user_reach_the_pbx_and_show_back(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    astdb = web_office.pbx.office.astdb
    bob = web_clients["user"]
    token = csrf_of((await bob.get("/settings")).text)
    saved = await bob.post("/settings", data={**GOOD, "csrf_token": token})
    assert saved.status_code == 302
    assert astdb.get("CFB", "202") == "vmu202"
    assert astdb.get("CFU", "202") == "201"
    assert astdb.get("AMPUSER", "202/ringtimer") == "25"
    mine = (await bob.get("/api/settings")).json()
    assert mine["url"] == GOOD["url"] and mine["lookup_field"] == "cellphone"
    assert mine["click_to_call"] == "automatic" and mine["noanswer_timeout"] == 25
    assert mine["notices"] == ["postit_email", "voicemail_sms"]
    assert mine["forwards"] == {"busy": {"choice": "voicemail", "number": ""},
                                "noanswer": {"choice": "number", "number": "201"}}
    page = (await bob.get("/settings")).text
    assert "Your settings are saved." in page
    assert 'value="https://crm.example.com/find?n=$CALLER_NUMBER"' in page
    assert '<option value="cellphone" selected>' in page
    # another user's settings are untouched
    alice = (await web_clients["supervisor"].get("/api/settings")).json()
    assert alice["url"] == "" and alice["lookup_field"] == "workphone"
    # the forwards off again
    off = {**GOOD, "forward_busy": "off", "forward_noanswer": "off", "csrf_token": token}
    await bob.post("/settings", data=off)
    assert astdb.get("CFB", "202") is None and astdb.get("CFU", "202") is None


async def test_bad_settings_are_refused_and_nothing_is_stored(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    astdb = web_office.pbx.office.astdb
    store = web_office.app.store
    bob = web_clients["user"]
    token = csrf_of((await bob.get("/settings")).text)
    headers = {"X-CSRF-Token": token}
    bad_values = [
        {"url": "javascript:alert(1)"},
        {"url": "https://x.example/\r\nSet-Cookie: a=b"},
        {"url": "https://x.example/" + "a" * 600},
        {"noanswer_timeout": "0"},
        {"noanswer_timeout": "9999"},
        {"default_extension": "201"},  # Alice's phone, not Bob's
        {"lookup_field": "fax"},
        {"click_to_call": "telepathy"},
        {"notices": ["postit_pigeon"]},
        {"forward_noanswer_number": "0612\r\nAction: Originate"},
    ]
    for bad in bad_values:
        resp = await bob.post("/settings", json={**GOOD, **bad}, headers=headers)
        assert resp.status_code == 400, bad
        assert resp.json()["message"], bad
    assert await store.get_setting("bob", "settings.url") is None
    assert astdb.get("CFB", "202") is None and astdb.get("CFU", "202") is None
    form = await bob.post("/settings", data={**GOOD, "url": "ftp://x", "csrf_token": token})
    assert form.status_code == 302
    page = (await bob.get("/settings")).text
    assert "The link must start with http:// or https://" in page


async def test_settings_page_in_the_browser_saved_and_shown_back(
    web_office: WebOffice, browser: Any
) -> None:
    astdb = web_office.pbx.office.astdb
    page = await open_panel(web_office, browser, "/settings")
    await page.select_option("#fw-busy", "voicemail")
    await page.select_option("#fw-noanswer", "number")
    await page.fill("#fw-noanswer-number", "203")
    await page.fill("#fw-timeout", "30")
    await page.select_option("#lookup", "homephone")
    await page.fill("#url", "https://crm.example.com/card?phone=$CALLER_NUMBER&name=$CALLER_NAME")
    await page.check("input[name='click_to_call'][value='automatic']")
    await page.check("input[name='notices'][value='voicemail_email']")
    async with page.expect_navigation():
        await page.click("#settings-save")
    await page.wait_for_selector(".flash:text-is('Your settings are saved.')")
    assert astdb.get("CFB", "202") == "vmu202" and astdb.get("CFU", "202") == "203"
    assert astdb.get("AMPUSER", "202/ringtimer") == "30"
    await page.reload()
    assert await page.input_value("#fw-noanswer-number") == "203"
    assert await page.input_value("#fw-timeout") == "30"
    assert await page.input_value("#lookup") == "homephone"
    assert await page.is_checked("input[name='click_to_call'][value='automatic']")
    assert await page.is_checked("input[name='notices'][value='voicemail_email']")
    assert not await page.is_checked("input[name='notices'][value='postit_sms']")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size({"width": 1280, "height": 1100})
    await page.screenshot(path=str(SCREENSHOTS / "settings.png"), full_page=True)
    # the language chosen here is the panel's
    await page.select_option("#settings-language", "it")
    async with page.expect_navigation():
        await page.click("#settings-save")
    await page.wait_for_selector("h1:text-is('Le mie impostazioni')")
    assert page.outside == [] and page.dialogs == []


async def test_the_default_extension_shows_brand_model_firmware_from_the_pbx(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    web_office.pbx.phone("202").user_agent = "Yealink SIP-T46U 66.86.0.15"
    web_office.pbx.phone("201").user_agent = "<script>alert(1)</script> X 1.2"
    bob = (await web_clients["user"].get("/api/settings")).json()
    [phone] = bob["phones"]
    assert (phone["brand"], phone["model"], phone["firmware"]) == ("Yealink", "SIP-T46U",
                                                                  "66.86.0.15")
    page = (await web_clients["user"].get("/settings")).text
    assert '<span class="brand">Yealink</span> <span class="model">SIP-T46U</span>' in page
    alice = await web_clients["supervisor"].get("/settings")
    assert "<script>alert(1)</script>" not in alice.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in alice.text
    # a phone that is not registered has no contact: nothing is made up
    web_office.pbx.set_registered("202", False)
    [phone] = (await web_clients["user"].get("/api/settings")).json()["phones"]
    assert phone["user_agent"] is None and phone["brand"] is None
