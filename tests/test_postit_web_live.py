"""The post-its page's "sent" list shows when the recipient read one, live (Chromium)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_postit_web import login_page

from web_fixtures import WebOffice, running_office


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    async with running_office(tmp_path, None) as office:
        yield office


def service(office: WebOffice) -> Any:
    return office.app.services.get("postit")


async def test_the_sent_list_shows_the_read_time_without_a_reload(
    office: WebOffice, browser: Any
) -> None:
    carol = await login_page(office, browser, "admin")
    await carol.goto(office.url + "/postits")
    await carol.select_option(".pi-to", "bob")
    await carol.fill(".pi-new-text", "Budget meeting at 4")
    await carol.click(".pi-send")
    sent = carol.locator(".pi-sent .pi-item.pi-unread")
    await sent.wait_for(timeout=10_000)
    assert "not read yet" in await sent.locator(".pi-status").inner_text()
    bob = office.config.user_by_name("bob")
    [note] = await service(office).mine(bob)
    read = await service(office).read(bob, note.id)  # as "postit read" or a chat marker does
    at = time.strftime("%d/%m %H:%M", time.localtime(read.read))
    status = carol.locator(".pi-sent .pi-item:not(.pi-unread) .pi-status", has_text=at)
    await status.wait_for(timeout=5000)
    assert await status.inner_text() == f"read {at}"
    # The page rendered afresh says the same.
    await carol.reload()
    await carol.locator(".pi-sent .pi-status", has_text=f"read {at}").wait_for(timeout=5000)
