"""Offline notices (F13) and XMPP presence, on a real Prosody: online in chat = no mail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from test_notify import SENDER, SmtpServer

from ctibot.config import PluginsConfig

from harness import until
from office import Office, team_up


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_user_online_in_chat_gets_no_mail_and_one_who_left_gets_it(
    chat_office: Office, smtp: SmtpServer
) -> None:
    users = tuple(
        replace(u, email="bob@example.com") if u.name == "bob" else u
        for u in chat_office.config.users
    )
    await chat_office.stop_ctibot()
    notify = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "security": "none",
        "sender": SENDER,
        "coalesce": 0.2,
    }
    app = await chat_office.start_ctibot(
        users=users, plugins=PluginsConfig(settings={"notify": notify})
    )
    await app.store.set_setting("bob", "settings.notices", ["postit_email"])
    service = app.services["notify"]
    bob_user = app.config.user_by_name("bob")
    hooks = app.xmpp.hooks  # type: ignore[union-attr]

    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    await until(lambda: hooks.is_online(bob_user))
    await alice.ask("postit bob while you are here")
    assert await notices_settled(service, "bob", 1) == [("postit:1", "skipped", "online")]
    # Bob logs out: the next post-it reaches him by mail
    await chat_office.logout("bob")
    await until(lambda: hooks.is_online(bob_user) is False)
    await alice.ask("postit bob now that you are gone")
    await until(lambda: len(smtp.mails) == 1)
    (mail,) = smtp.mails
    assert mail.rcpt_tos == ["bob@example.com"]
    assert mail.message["Subject"] == "Nuovo post-it da Alice Anders"  # Bob reads Italian
    assert "now that you are gone" in mail.message.get_content()
    assert "while you are here" not in mail.message.get_content()
    assert (await notices_settled(service, "bob", 2))[1] == ("postit:2", "sent", "email")


async def notices_settled(service: Any, user: str, count: int) -> list[tuple[str, str, str]]:
    """The user's notices once ``count`` of them are past pending (a bounded wait)."""
    rows: list[tuple[str, str, str]] = []
    async with asyncio.timeout(10):
        while True:
            async with service.db.execute(
                "SELECT ref, status, channels FROM notify_sent WHERE user = ? ORDER BY id",
                (user,),
            ) as cursor:
                rows = [tuple(r) async for r in cursor]
            if sum(r[1] != "pending" for r in rows) >= count:
                return rows
            await asyncio.sleep(0.02)
