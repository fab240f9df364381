"""The panel in a real browser (Debian Chromium via Playwright): login, layout, menu, language."""

from __future__ import annotations

from web_fixtures import (
    LDAP_USERS,
    PROFILES,
    WebOffice,
    no_outside_requests,
    screenshots_dir,
    wait_for,
)

SCREENSHOTS = screenshots_dir()


async def log_in(page, office: WebOffice, name: str, password: str) -> None:
    await page.goto(office.url + "/")
    assert "/login" in page.url  # not logged in: the login page
    await page.fill("#login-name", name)
    await page.fill("#login-password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(office.url + "/")


async def test_ldap_and_local_users_log_in_and_see_the_layout(web_office, browser) -> None:
    for name, password, fullname in (
        ("alice", LDAP_USERS["alice"], "Alice Anders"),  # LDAP (slapd)
        ("bob", PROFILES["user"].password, "Bob Brown"),  # local users file
    ):
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        outside = await no_outside_requests(page)
        await log_in(page, web_office, name, password)
        assert await page.text_content(".whoami") == fullname
        assert await page.is_visible(".topbar .brand")
        links = await page.eval_on_selector_all(
            ".menu a", "els => els.map(e => e.getAttribute('href'))"
        )
        user = web_office.config.user_by_name(name)
        web = web_office.web
        pages = sorted(web.routes.values(), key=lambda i: (i.order, i.rule))
        expected = [
            i.rule for i in pages
            if i.kind == "page" and i.menu and "<" not in i.rule and web.may(user, i.permission)
        ]
        assert links == expected
        # panel.js is running: the socket is open (a page without topics opens none).
        assert await page.evaluate("typeof window.ctibot.on === 'function'")
        assert outside == []
        await page.click(".logout button")
        await page.wait_for_url("**/login")
        await context.close()


async def test_switch_language(web_office: WebOffice, browser) -> None:
    context = await browser.new_context(locale="it-IT")
    page = await context.new_page()
    await page.goto(web_office.url + "/login")
    assert await page.text_content("h1") == "Accesso"  # the browser's language
    await page.select_option("#lang-select", "en")
    await page.wait_for_function("document.querySelector('h1').textContent === 'Log in'")
    await log_in(page, web_office, "bob", PROFILES["user"].password)
    assert await page.text_content(".logout button") == "Log out"
    await page.select_option("#lang-select", "it")
    await page.wait_for_function(
        "document.querySelector('.logout button').textContent === 'Esci'"
    )
    assert await page.get_attribute("html", "lang") == "it"
    await wait_for(lambda: web_office.web._languages.get("bob") == "it")
    assert await web_office.app.store.get_setting("bob", "web.language") == "it"
    await context.close()


async def test_login_error_and_screenshots(web_office: WebOffice, browser) -> None:
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto(web_office.url + "/login")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "login.png"))
    await page.fill("#login-name", "bob")
    await page.fill("#login-password", "wrong")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".flash-error")
    assert "Wrong user name or password" in await page.text_content(".flash-error")
    await log_in(page, web_office, "carol", PROFILES["admin"].password)
    await page.screenshot(path=str(SCREENSHOTS / "layout.png"))
    await context.close()
