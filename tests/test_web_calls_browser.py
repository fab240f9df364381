"""The top bar and the call box in Chromium: DND, dial, call box, hang up, language, XSS."""

from __future__ import annotations

from typing import Any

from web_fixtures import PROFILES, WebOffice, no_outside_requests, screenshots_dir, wait_for

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
SCREENSHOTS = screenshots_dir()


async def open_panel(office: WebOffice, browser: Any, path: str = "/", profile: str = "user",
                     locale: str = "en-US") -> Any:
    """A Chromium page logged in as ``profile`` on ``path``, its top bar live."""
    who = PROFILES[profile]
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 640})
    page = await context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    async def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.outside = await no_outside_requests(page)  # type: ignore[attr-defined]
    await page.goto(office.url + "/login?next=" + path)
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#phonebar[data-live='1']")
    await page.wait_for_selector("#callbox[data-live='1']", state="attached")
    return page


async def test_the_dnd_toggle_changes_the_demo_pbx_astdb(web_office: WebOffice,
                                                         browser: Any) -> None:
    astdb = web_office.pbx.office.astdb
    page = await open_panel(web_office, browser)
    toggle = page.locator("#dnd-toggle")
    assert await toggle.get_attribute("aria-pressed") == "false"
    await toggle.click()
    await wait_for(lambda: astdb.get("DND", "202") == "YES")
    await page.wait_for_selector("#dnd-toggle[aria-pressed='true']")
    await toggle.click()
    await wait_for(lambda: astdb.get("DND", "202") is None)
    await page.wait_for_selector("#dnd-toggle[aria-pressed='false']")
    # set on the phone: the top bar follows without a reload
    web_office.pbx.set_dnd("202", True)
    await page.wait_for_selector("#dnd-toggle[aria-pressed='true']")
    assert page.outside == [] and page.dialogs == []


async def test_the_forward_menu_sets_an_unconditional_forward(web_office: WebOffice,
                                                              browser: Any) -> None:
    astdb = web_office.pbx.office.astdb
    page = await open_panel(web_office, browser)
    await page.click("#forward-summary")
    await page.check("#forward-form input[value='number']")
    await page.fill("#forward-form input[name='number']", "201")
    await page.click("#forward-form button[type=submit]")
    await wait_for(lambda: astdb.get("CF", "202") == "201")
    await page.wait_for_selector("#forward-menu.active .fw-state:text-is('Alice Anders (201)')")
    await page.click("#forward-summary")
    await page.check("#forward-form input[value='off']")
    await page.click("#forward-form button[type=submit]")
    await wait_for(lambda: astdb.get("CF", "202") is None)
    await page.wait_for_selector("#forward-menu:not(.active)")


async def test_dial_from_the_box_shows_the_call_box_ticking_then_hang_up(
    web_office: WebOffice, browser: Any
) -> None:
    pbx = web_office.pbx
    store = web_office.app.store
    await store.set_setting("bob", "settings.url", "https://crm.example.com/find?n=$CALLER_NUMBER"
                            "&who=$CALLER_NAME")
    page = await open_panel(web_office, browser, "/users")
    assert await page.locator("#callbox").is_hidden()
    await page.fill("#dial-input", "204")
    await page.press("#dial-input", "Enter")
    # the demo PBX got the Originate: Bob's phone rings first, then Dave's
    await wait_for(lambda: pbx.channels_of("202"))
    party = page.locator("#callbox .call-party")
    await party.wait_for()
    await page.wait_for_selector("#callbox .call.answered .call-party:text-is('Dave Davis (204)')")
    duration = page.locator("#callbox .call-time")
    first = await duration.text_content()
    await page.wait_for_function(
        "([el, was]) => el.textContent !== was", arg=[await duration.element_handle(), first]
    )  # the duration ticks in the browser
    link = page.locator("#callbox .call-url")
    assert await link.get_attribute("href") == (
        "https://crm.example.com/find?n=204&who=Dave%20Davis"
    )
    await page.wait_for_selector("#users tr[data-name='dave'].ph-busy")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "topbar-callbox.png"))
    await page.click("#callbox .act-hangup")
    await wait_for(lambda: not pbx.channels_of("202"))
    await page.wait_for_selector("#callbox", state="hidden")
    assert page.outside == [] and page.dialogs == []


async def test_the_dial_box_lists_matching_users(web_office: WebOffice, browser: Any) -> None:
    pbx = web_office.pbx
    page = await open_panel(web_office, browser)
    await page.fill("#dial-input", "dav")
    match = page.locator("#dial-matches li")
    await match.first.wait_for()
    assert await match.all_text_contents() == ["Dave Davis (204)"]
    await page.press("#dial-input", "Enter")
    await wait_for(lambda: pbx.channels_of("204"))


async def test_a_hostile_caller_id_shows_as_text_in_the_call_box(web_office: WebOffice,
                                                                 browser: Any) -> None:
    page = await open_panel(web_office, browser)
    web_office.pbx.inbound_call("0612345678", HOSTILE, "5550102")
    party = page.locator("#callbox .call-party")
    await party.wait_for()
    await page.wait_for_function(
        "document.querySelector('#callbox .call-party').textContent.includes('0612345678')"
    )
    text = await party.text_content()
    assert "<script>alert(1)</script>" in text and "onerror" in text
    assert await page.locator("#callbox img, #callbox script").count() == 0
    assert page.dialogs == []


async def test_switch_language(web_office: WebOffice, browser: Any) -> None:
    page = await open_panel(web_office, browser)
    assert await page.get_attribute("#dial-input", "placeholder") == "Call… (number or name)"
    async with page.expect_navigation():
        await page.select_option("#lang-select", "it")
    await page.wait_for_selector("#phonebar[data-live='1']")
    assert await page.get_attribute("html", "lang") == "it"
    assert await page.get_attribute("#dial-input", "placeholder") == "Chiama… (numero o nome)"
    assert await page.locator("#dnd-toggle").text_content() == "Non disturbare"
    # a new browser (another language) still gets the user's choice
    again = await open_panel(web_office, browser, "/settings", locale="en-US")
    assert await again.locator("h1").text_content() == "Le mie impostazioni"


async def test_the_queue_menu_pauses_and_resumes_me(web_office: WebOffice, browser: Any) -> None:
    state = web_office.app.state
    page = await open_panel(web_office, browser)

    def paused() -> bool | None:
        queue = state.queues.get("sales")
        member = queue.members.get("202") if queue is not None else None
        return None if member is None else member.paused

    await wait_for(lambda: paused() is False)
    await page.click("#queue-menu summary")
    row = page.locator("#queue-panel .queue-row", has_text="sales")
    await row.locator("button:text-is('Pause')").click()
    await wait_for(lambda: paused() is True)
    await row.locator("button:text-is('Resume')").click()
    await wait_for(lambda: paused() is False)
    await page.wait_for_selector("#queue-panel .queue-row button:text-is('Pause')")
