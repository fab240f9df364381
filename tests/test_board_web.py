"""The operator board in the panel: its routes and permissions, and Chromium watching it live."""

from __future__ import annotations

from typing import Any

import httpx

from web_fixtures import (
    PROFILES,
    WebOffice,
    csrf_of,
    no_outside_requests,
    screenshots_dir,
    wait_for,
)

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def row(office: WebOffice, number: str) -> dict:
    return office.app.services.board.extension_rows()[number]


async def until(predicate: Any, timeout: float = 10.0) -> None:
    await wait_for(predicate, timeout)


async def talking(office: WebOffice, src: str, dst: str) -> str:
    office.pbx.call(src, dst)
    await until(lambda: any(c["state"] == "up" for c in row(office, src)["calls"]))
    # and bridged: the PBX has joined the two phones (what park and transfer act on)
    await until(
        lambda: any(ch.bridge for ch in office.app.state.channels.values() if ch.extension == src)
    )
    return row(office, src)["calls"][0]["id"]


# -- over HTTP ---------------------------------------------------------------------------------


async def test_only_operators_open_the_board_and_its_actions(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    page = await web_clients["supervisor"].get("/board")
    assert page.status_code == 200 and 'id="board-data"' in page.text
    assert (await web_clients["admin"].get("/board")).status_code == 200
    assert (await web_clients["user"].get("/board")).status_code == 403
    anonymous = await web_clients["anonymous"].get("/board")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["location"]
    api = await web_clients["supervisor"].get("/api/board")
    assert api.status_code == 200 and {e["number"] for e in api.json()["extensions"]} >= {"202"}
    assert (await web_clients["user"].get("/api/board")).status_code == 403

    call_id = await talking(web_office, "202", "204")
    user = web_clients["user"]
    token = csrf_of((await user.get("/")).text)
    refused = await user.post(
        f"/board/calls/{call_id}/hangup",
        data={"extension": "202"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    assert row(web_office, "202")["calls"]  # nothing was hung up
    supervisor = web_clients["supervisor"]
    token = csrf_of(page.text)
    no_token = await supervisor.post(f"/board/calls/{call_id}/hangup", data={"extension": "202"})
    assert no_token.status_code == 403 and row(web_office, "202")["calls"]
    done = await supervisor.post(
        f"/board/calls/{call_id}/hangup",
        data={"extension": "202"},
        headers={"X-CSRF-Token": token},
    )
    assert done.status_code == 200 and done.json()["ok"] is True
    await until(lambda: not row(web_office, "202")["calls"])
    gone = await supervisor.post(
        f"/board/calls/{call_id}/hangup",
        data={"extension": "202"},
        headers={"X-CSRF-Token": token},
    )
    assert gone.status_code == 404 and gone.json()["error"] == "error.no_such_call"


# -- in Chromium -------------------------------------------------------------------------------


async def open_board(office: WebOffice, browser: Any, profile: str = "supervisor") -> Any:
    """A Chromium page logged in as ``profile`` on the board, drawn and subscribed."""
    who = PROFILES[profile]
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    async def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.outside = await no_outside_requests(page)  # type: ignore[attr-defined]
    await page.goto(office.url + "/login?next=/board")
    await page.fill("#login-name", who.name)
    await page.fill("#login-password", who.password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("body[data-board-ready='1']")
    await page.wait_for_selector("#board-extensions li.ext[data-number='202']")
    # the websocket's snapshot arrived: the board is live from here on
    await page.wait_for_function("window.boardStats.received >= 1")
    return page


def ext(page: Any, number: str) -> Any:
    return page.locator(f"#board-extensions li.ext[data-number='{number}']")


async def test_the_board_changes_live_when_a_demo_call_starts_and_ends(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    bob = ext(page, "202")
    assert "idle" in (await bob.get_attribute("class"))
    assert await bob.locator(".ext-user").text_content() == "Bob Brown"
    web_office.pbx.call("202", "204")
    await page.wait_for_selector(
        "#board-extensions li.ext[data-number='202'] li.call.st-up .name:text-is('Dave Davis')"
    )
    assert "st-busy" in (await bob.get_attribute("class"))
    dur = bob.locator(".dur")
    first = await dur.text_content()
    await page.wait_for_function(
        "([el, was]) => el.textContent !== was", arg=[await dur.element_handle(), first]
    )  # the duration ticks in the browser
    web_office.pbx.hangup("202")
    await page.wait_for_selector(
        "#board-extensions li.ext[data-number='202'].st-idle:not(.has-calls)"
    )
    assert page.outside == []


async def test_a_hostile_caller_id_is_shown_as_text_and_runs_nothing(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    web_office.pbx.inbound_call("0612345678", HOSTILE, "5550102")
    name = page.locator("#board-extensions li.ext[data-number='202'] li.call .name")
    await name.wait_for()
    assert await name.text_content() == HOSTILE
    trunk_call = page.locator("#board-trunks li.call .name").first
    await trunk_call.wait_for()
    assert await trunk_call.text_content() == HOSTILE
    assert await page.locator("#board img").count() == 0
    assert await page.evaluate("document.querySelectorAll('#board script').length") == 0
    await page.wait_for_timeout(300)  # an onerror would have fired by now
    assert page.dialogs == []
    # the page as served escaped it too (the snapshot in the page, autoescaped JSON)
    await page.reload()
    await page.wait_for_selector("body[data-board-ready='1']")
    assert await name.text_content() == HOSTILE and page.dialogs == []


async def test_dragging_a_call_onto_an_extension_transfers_it(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    await talking(web_office, "202", "204")
    call = page.locator("#board-extensions li.ext[data-number='202'] li.call")
    await call.wait_for()
    await call.drag_to(ext(page, "203"))
    # bob's caller (204, Dave) now rings carol's phone 203, which answers
    await until(lambda: any(c["party"] == "204" for c in row(web_office, "203")["calls"]))
    await page.wait_for_selector(
        "#board-extensions li.ext[data-number='203'] li.call .name:text-is('Dave Davis')"
    )
    await page.wait_for_selector("#board-extensions li.ext[data-number='202']:not(.has-calls)")


async def test_dragging_a_call_onto_a_parking_slot_parks_it_and_pick_up_takes_it(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    await talking(web_office, "202", "204")
    call = page.locator("#board-extensions li.ext[data-number='202'] li.call")
    await call.wait_for()
    await call.drag_to(page.locator("#board-parking li.slot[data-slot='701']"))
    parked = page.locator("#board-parking li.slot.taken")
    await parked.wait_for()
    assert await parked.locator(".name").text_content() == "Dave Davis"
    slot = await parked.get_attribute("data-slot")
    assert slot in web_office.app.state.parkings
    await parked.locator("button.b-pickup").click()
    # the operator's phone (alice, 201) rings and takes the parked call
    await until(lambda: any(c["party"] == "204" for c in row(web_office, "201")["calls"]))
    await page.wait_for_selector(f"#board-parking li.slot.free[data-slot='{slot}']")
    await page.wait_for_selector(
        "#board-extensions li.ext[data-number='201'] li.call .name:text-is('Dave Davis')"
    )


async def test_moving_a_call_with_the_keyboard_and_calling_an_idle_extension(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    await talking(web_office, "202", "204")
    move = page.locator("#board-extensions li.ext[data-number='202'] button.b-move")
    await move.click()
    await page.wait_for_selector("#board-move:not([hidden])")
    await ext(page, "203").focus()
    await page.keyboard.press("Enter")
    await until(lambda: any(c["party"] == "204" for c in row(web_office, "203")["calls"]))
    await page.wait_for_selector("#board-move[hidden]", state="attached")
    # a click on an idle extension calls it from the operator's phone
    await page.wait_for_selector("#board-extensions li.ext[data-number='202'].st-idle")
    await ext(page, "202").locator("button.b-dial").click()
    await until(lambda: any(c["party"] == "202" for c in row(web_office, "201")["calls"]))


async def test_the_filter_keeps_the_matching_extensions(
    web_office: WebOffice, browser: Any
) -> None:
    page = await open_board(web_office, browser)
    total = await page.locator("#board-extensions li.ext").count()
    await page.fill("#board-filter", "brown")
    await page.wait_for_function(
        "document.querySelectorAll('#board-extensions li.ext:not([hidden])').length === 1"
    )
    assert await ext(page, "202").is_visible()
    await page.fill("#board-filter", "20")
    await page.wait_for_function(
        "document.querySelectorAll('#board-extensions li.ext:not([hidden])').length >= 4"
    )
    await page.fill("#board-filter", "")
    await page.wait_for_function(
        f"document.querySelectorAll('#board-extensions li.ext:not([hidden])').length === {total}"
    )


SHOTS = screenshots_dir()


async def test_screenshot_of_the_board_with_live_calls(web_office: WebOffice, browser: Any) -> None:
    """docs/screenshots/board.png: a few calls, one parked, one from outside."""
    page = await open_board(web_office, browser)
    await page.set_viewport_size({"width": 1280, "height": 800})
    pbx = web_office.pbx
    await talking(web_office, "202", "204")
    parked_id = await talking(web_office, "203", "205")
    await web_office.app.services.calls.park_call(
        web_office.config.user_by_name("alice"), parked_id, "203"
    )
    pbx.inbound_call("0612345678", "ACME Corp", "5550101")
    await until(lambda: web_office.app.state.parkings and row(web_office, "202")["calls"])
    await page.wait_for_selector("#board-parking li.slot.taken")
    await page.wait_for_selector("#board-trunks li.call")
    await page.wait_for_timeout(1500)  # the durations tick past 0:00
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "board.png"))
    assert (SHOTS / "board.png").stat().st_size > 10_000
