"""Users and speed dial (F19) with my last ten calls (F20): state, actions, live, escaped."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from test_web_calls_browser import HOSTILE, open_panel

from web_fixtures import WebOffice, wait_for


async def test_users_page_lists_everyone_with_state_and_my_last_calls(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    pbx = web_office.pbx
    bob = web_clients["user"]
    page = (await bob.get("/users")).text
    for name in ("Alice Anders", "Carol Clark", "Dave Davis"):
        assert name in page
    assert page.count('action="/calls/dial"') >= 3  # one per colleague, none for me
    assert 'data-name="bob"' in page
    # an inbound call with a hostile caller ID, answered and ended: in my last calls, as text
    pbx.inbound_call("0612345678", HOSTILE, "5550102", talk=0.5)
    history = web_office.app.services.info
    bob_user = next(u for u in web_office.config.users if u.name == "bob")
    await wait_for(lambda: pbx.channels_of("202"))
    await wait_for(lambda: not pbx.channels_of("202"))

    async with asyncio.timeout(10):  # the call reaches the history (bounded wait on the fact)
        while not await history.recent_calls(bob_user):
            await asyncio.sleep(0.02)
    page = (await bob.get("/users")).text
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "0612345678" in page
    api = (await bob.get("/api/calls/recent")).json()["calls"]
    assert api and api[0]["party"] == "0612345678" and api[0]["direction"] == "in"
    users = (await bob.get("/api/users")).json()["users"]
    assert {u["name"] for u in users} == {"alice", "bob", "carol", "dave"}


async def test_users_page_is_live_and_calls_in_one_click(web_office: WebOffice,
                                                         browser: Any) -> None:
    pbx = web_office.pbx
    page = await open_panel(web_office, browser, "/users")
    carol = page.locator("#users tr[data-name='carol']")
    assert "ph-idle" in await carol.get_attribute("class")
    pbx.set_dnd("203", True)
    await page.wait_for_selector("#users tr[data-name='carol'].pr-dnd")
    assert "do not disturb" in await carol.locator(".u-presence").text_content()
    await page.click("#users tr[data-name='dave'] .u-call")
    await wait_for(lambda: pbx.channels_of("204"))
    await page.wait_for_selector("#users tr[data-name='dave'].ph-busy")
    await page.wait_for_selector("#callbox .call-party:text-is('Dave Davis (204)')")
    assert page.dialogs == [] and page.outside == []
