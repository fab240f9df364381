"""The post-it tests' fixture `postits`: the service over a real store, recording XMPP hooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio

from ctibot.config import Config, PbxConfig, UserConfig
from ctibot.i18n import add_messages
from ctibot.plugin import PluginContext, VirtualMessage
from ctibot.plugins.postit import plugin
from ctibot.plugins.postit.services import PostitService
from ctibot.plugins.postit.xmpp import PostitChat
from ctibot.store import Store

DOMAIN = "cti.example.test"
ALICE = UserConfig("alice", "Alice Anders", ("201",), jid="alice@example.test")
BOB = UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.test", language="it")
DAVE = UserConfig("dave", "Dave Davis", ("204",))  # no chat account
GUEST = UserConfig("guest", "Guest", ("299",), jid="guest@example.test", profile="guest")


@dataclass
class Sent:
    user: str
    body: str
    frm: str | None
    markable: bool
    delay: float | None = None


@dataclass
class Hooks:
    """The XMPP hooks as a recorder: what the plugin sent and the handlers it hung."""

    domain: str = DOMAIN
    online: dict[str, bool | None] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    message_handlers: list[Callable[..., Any]] = field(default_factory=list)
    online_handlers: list[Callable[..., Any]] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    markers: list[tuple[str, str, str]] = field(default_factory=list)  # (user, id, from)
    down: bool = False  # the component is not connected: nothing can be sent

    def jid_of(self, local: str) -> str:
        return f"{local}@{self.domain}"

    def is_online(self, user: UserConfig) -> bool | None:
        return self.online.get(user.name)

    def send_chat(
        self,
        user: UserConfig,
        body: str,
        *,
        frm: str | None = None,
        transient: bool = False,
        markable: bool = False,
        receipt: bool = True,
        delay: float | None = None,
    ) -> str | None:
        if self.down:
            return None
        self.sent.append(Sent(user.name, body, frm, markable, delay))
        return f"m{len(self.sent)}"

    def send_marker(
        self, user: UserConfig, message_id: str, *, frm: str, marker: str = "displayed"
    ) -> None:
        if not self.down:
            self.markers.append((user.name, message_id, frm))

    def send_receipt(self, message: VirtualMessage) -> None:
        if message.receipt_requested and message.id:
            self.receipts.append(message.id)

    def on_online(self, handler: Callable[..., Any]) -> None:
        self.online_handlers.append(handler)

    def on_away(self, handler: Callable[..., Any]) -> None: ...

    def on_show(self, handler: Callable[..., Any]) -> None: ...

    def on_message(self, handler: Callable[..., Any]) -> None:
        self.message_handlers.append(handler)

    def to(self, name: str) -> list[Sent]:
        return [s for s in self.sent if s.user == name]


def postit_config(path: Path) -> Config:
    """Alice, Bob, Dave with the permission; a guest profile without it."""
    profiles = {name: frozenset({"postit"}) for name in ("user", "supervisor", "admin")}
    profiles["guest"] = frozenset()
    return Config(path=path, pbx=PbxConfig(), users=(ALICE, BOB, DAVE, GUEST), profiles=profiles)


async def open_store(path: Path) -> Store:
    store = await Store.open(path)
    await store.migrate_plugin("postit", plugin.migrations)  # as the loader does
    return store


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_580_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    service: PostitService
    hooks: Hooks
    clock: Clock
    store: Store
    chat: PostitChat


@pytest_asyncio.fixture
async def postits(tmp_path: Path) -> AsyncIterator[World]:
    """The post-it service of Alice, Bob, Dave and a guest, its chat side wired to Hooks."""
    add_messages("postit", plugin.messages)  # as the loader does
    store = await open_store(tmp_path / "ctibot.sqlite")
    hooks, clock = Hooks(), Clock()
    ctx = PluginContext(
        name="postit",
        settings=plugin.parse_settings({"max_length": 200}),
        config=postit_config(tmp_path / "ctibot.toml"),
        store=store,
        bus=None,
        pbx=None,  # type: ignore[arg-type]
        ami=None,
        services={},
        clock=clock,
        log=logging.getLogger("test.postit"),
        xmpp=hooks,
    )
    service = PostitService(ctx)
    chat = PostitChat(ctx, service)
    chat.wire()
    try:
        yield World(service, hooks, clock, store, chat)
    finally:
        await store.close()
