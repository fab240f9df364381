"""Post-its (F11), the service layer: leave, list, read, delete, markers, late delivery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from ctibot.config import Config, PbxConfig, UserConfig
from ctibot.i18n import add_messages
from ctibot.plugin import BadArgument, NotFound, PermissionDenied, PluginContext, VirtualMessage
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


@dataclass
class Hooks:
    """The XMPP hooks as a recorder: what the plugin sent and the handlers it hung."""

    domain: str = DOMAIN
    online: dict[str, bool | None] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    message_handlers: list[Callable[..., Any]] = field(default_factory=list)
    online_handlers: list[Callable[..., Any]] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
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
    ) -> str | None:
        if self.down:
            return None
        self.sent.append(Sent(user.name, body, frm, markable))
        return f"m{len(self.sent)}"

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
async def world(tmp_path: Path) -> AsyncIterator[World]:
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


async def test_alice_leaves_bob_a_postit_that_reaches_his_chat_from_her_jid(world: World) -> None:
    world.hooks.online["bob"] = True
    left = await world.service.leave(ALICE, "bob", "call the bank back")
    assert left.delivered and left.recipient == BOB
    (sent,) = world.hooks.to("bob")
    assert sent == Sent("bob", "call the bank back", f"alice@{DOMAIN}", True)
    (mine,) = await world.service.mine(BOB)
    assert (mine.author, mine.recipient, mine.text) == ("alice", "bob", "call the bank back")
    assert mine.created == world.clock.now and mine.delivered is not None and mine.unread


async def test_the_recipient_is_found_by_name_in_any_case_or_by_extension(world: World) -> None:
    assert (await world.service.leave(ALICE, "BOB", "one")).recipient == BOB
    assert (await world.service.leave(ALICE, "202", "two")).recipient == BOB


async def test_a_postit_for_someone_offline_waits_for_them_to_come_back(world: World) -> None:
    world.hooks.online["bob"] = False
    left = await world.service.leave(ALICE, "bob", "the courier came")
    assert not left.delivered and world.hooks.sent == []
    world.hooks.online["bob"] = True
    (handler,) = world.hooks.online_handlers
    await handler(BOB)
    (sent,) = world.hooks.to("bob")
    assert sent.body.endswith("] the courier came") and sent.body.startswith("[")
    assert sent.frm == f"alice@{DOMAIN}" and sent.markable
    await handler(BOB)  # a second login brings nothing twice
    assert len(world.hooks.to("bob")) == 1


async def test_a_login_while_a_postit_is_being_left_sends_it_once(world: World) -> None:
    world.hooks.online["bob"] = True
    (came_online,) = world.hooks.online_handlers
    await asyncio.gather(world.service.leave(ALICE, "bob", "just now"), came_online(BOB))
    assert [s.body for s in world.hooks.to("bob")] == ["just now"]


async def test_a_postit_that_could_not_be_sent_waits_for_the_next_login(world: World) -> None:
    world.hooks.online["bob"] = True
    world.hooks.down = True
    left = await world.service.leave(ALICE, "bob", "while the link was down")
    assert not left.delivered
    (waiting,) = await world.service.mine(BOB)
    assert waiting.delivered is None
    world.hooks.down = False
    (came_online,) = world.hooks.online_handlers
    await came_online(BOB)
    (sent,) = world.hooks.to("bob")
    assert sent.body.endswith("] while the link was down")


async def test_presence_unknown_sends_at_once_the_server_keeps_it(world: World) -> None:
    left = await world.service.leave(ALICE, "bob", "hello")
    assert left.delivered and len(world.hooks.to("bob")) == 1


async def test_a_user_without_chat_account_keeps_it_in_their_list(world: World) -> None:
    left = await world.service.leave(ALICE, "dave", "hello Dave")
    assert not left.delivered and world.hooks.sent == []
    assert [p.text for p in await world.service.mine(DAVE)] == ["hello Dave"]


async def test_listing_shows_unread_first_newest_first(world: World) -> None:
    ids = [(await world.service.leave(ALICE, "bob", f"note {n}")).postit.id for n in range(4)]
    await world.service.read(BOB, ids[3])
    await world.service.read(BOB, ids[0])
    assert [p.id for p in await world.service.mine(BOB)] == [ids[2], ids[1], ids[3], ids[0]]
    assert await world.service.unread_count(BOB) == 2


async def test_reading_marks_it_read_and_alice_sees_when(world: World) -> None:
    postit = (await world.service.leave(ALICE, "bob", "call the bank back")).postit
    (sent,) = await world.service.sent(ALICE)
    assert sent.unread
    world.clock.now += 60
    read = await world.service.read(BOB, postit.id)
    assert read.read == world.clock.now
    (sent,) = await world.service.sent(ALICE)
    assert sent.read == world.clock.now
    # alice reading her own post-it does not mark it read for bob
    other = (await world.service.leave(ALICE, "bob", "second")).postit
    assert (await world.service.read(ALICE, other.id)).unread


async def test_a_displayed_marker_marks_it_and_every_earlier_one_read(world: World) -> None:
    world.hooks.online["bob"] = True
    first = (await world.service.leave(ALICE, "bob", "first")).postit
    second = (await world.service.leave(ALICE, "bob", "second")).postit
    third = (await world.service.leave(ALICE, "bob", "third")).postit
    marker_of_second = world.hooks.to("bob")[1]
    assert marker_of_second.body == "second"
    assert await world.service.displayed(BOB, "alice", "m2") == 2
    state = {p.id: p.unread for p in await world.service.mine(BOB)}
    assert state == {first.id: False, second.id: False, third.id: True}


async def test_a_marker_for_an_unknown_message_or_from_someone_else_changes_nothing(
    world: World,
) -> None:
    world.hooks.online["bob"] = True
    await world.service.leave(ALICE, "bob", "first")
    assert await world.service.displayed(BOB, "alice", "no-such-id") == 0
    assert await world.service.displayed(DAVE, "alice", "m1") == 0  # not his
    assert await world.service.displayed(BOB, "dave", "m1") == 0  # not from dave
    assert all(p.unread for p in await world.service.mine(BOB))


async def test_delete_for_the_recipient_keeps_it_for_the_author(world: World) -> None:
    postit = (await world.service.leave(ALICE, "bob", "to be thrown")).postit
    await world.service.delete(BOB, postit.id)
    assert await world.service.mine(BOB) == []
    assert [p.id for p in await world.service.sent(ALICE)] == [postit.id]
    with pytest.raises(NotFound):
        await world.service.read(BOB, postit.id)
    await world.service.delete(ALICE, postit.id)
    assert await world.service.sent(ALICE) == []
    async with world.store.db.execute("SELECT COUNT(*) FROM postits") as cursor:
        assert (await cursor.fetchone())[0] == 0  # gone once neither side wants it


async def test_someone_elses_postit_is_not_found(world: World) -> None:
    postit = (await world.service.leave(ALICE, "bob", "private")).postit
    for action in (world.service.read, world.service.delete):
        with pytest.raises(NotFound) as caught:
            await action(DAVE, postit.id)
        assert caught.value.key == "postit.error.no_such_postit"
    with pytest.raises(NotFound):
        await world.service.read(BOB, 999)


# -- bad input ---------------------------------------------------------------------------------


async def test_unknown_user_empty_and_too_long_are_refused_and_nothing_is_kept(
    world: World,
) -> None:
    with pytest.raises(NotFound) as caught:
        await world.service.leave(ALICE, "zorro", "hello")
    assert caught.value.key == "postit.error.no_such_user"
    assert caught.value.params == {"name": "zorro"}
    for empty in ("", "   ", "\n\t", "\x00\x01"):
        with pytest.raises(BadArgument) as caught:
            await world.service.leave(ALICE, "bob", empty)
        assert caught.value.key == "postit.error.empty"
    with pytest.raises(BadArgument) as caught:
        await world.service.leave(ALICE, "bob", "x" * 100_000)
    assert caught.value.key == "postit.error.too_long"
    assert caught.value.params == {"length": 100_000, "maximum": 200}
    assert await world.service.mine(BOB) == [] and world.hooks.sent == []


async def test_an_unknown_name_is_echoed_short_and_printable(world: World) -> None:
    with pytest.raises(NotFound) as caught:
        await world.service.leave(ALICE, "z\x1b[31m" + "o" * 200, "hello")
    echoed = caught.value.params["name"]
    assert len(echoed) <= 40 and echoed.isprintable()


async def test_markup_is_kept_as_text_and_forbidden_characters_removed(world: World) -> None:
    text = "<b>bold</b> & <script>alert(1)</script> ]]> {name} \x07bell"
    left = await world.service.leave(ALICE, "bob", text)
    assert left.postit.text == "<b>bold</b> & <script>alert(1)</script> ]]> {name} bell"
    assert world.hooks.to("bob")[0].body == left.postit.text


async def test_without_the_permission_nothing_is_done(world: World) -> None:
    for action in (
        world.service.leave(GUEST, "bob", "hi"),
        world.service.mine(GUEST),
        world.service.sent(GUEST),
        world.service.read(GUEST, 1),
    ):
        with pytest.raises(PermissionDenied):
            await action
    assert await world.service.mine(BOB) == []


# -- the declaration ---------------------------------------------------------------------------


def test_the_plugin_declares_its_permission_for_every_default_profile() -> None:
    (permission,) = plugin.permissions
    assert permission.name == "postit"
    assert set(permission.profiles) == {"user", "supervisor", "admin"}
    assert plugin.parse_settings({}) == {"max_length": 1000, "list_limit": 20}


def test_every_default_profile_gets_it() -> None:
    from ctibot.permissions import default_profiles

    profiles = default_profiles()
    assert all("postit" in profiles[name] for name in ("user", "supervisor", "admin"))


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    import string

    en, it = plugin.messages["en"], plugin.messages["it"]
    assert set(en) == set(it)
    for key in en:
        names = {n for _, n, _, _ in string.Formatter().parse(en[key]) if n}
        assert names == {n for _, n, _, _ in string.Formatter().parse(it[key]) if n}, key


# -- messages written to virtual JIDs (the handler the XMPP hook calls) ------------------------


def written(user: UserConfig, local: str, body: str = "", **more: Any) -> VirtualMessage:
    return VirtualMessage(user, f"{user.jid}/laptop", local, body, **more)


async def test_alice_writing_to_bob_jid_leaves_him_a_postit_and_his_reply_one_for_her(
    world: World,
) -> None:
    world.hooks.online.update(alice=True, bob=True)
    (handler,) = world.hooks.message_handlers
    msg = written(ALICE, "bob", "call the bank back", id="a1", receipt_requested=True)
    assert await handler(msg) is True
    assert world.hooks.receipts == ["a1"]  # stored: her client may tick it
    (to_bob,) = world.hooks.to("bob")
    assert (to_bob.body, to_bob.frm) == ("call the bank back", f"alice@{DOMAIN}")
    assert await handler(written(BOB, "alice", "done", id="b1")) is True
    (to_alice,) = world.hooks.to("alice")
    assert (to_alice.body, to_alice.frm) == ("done", f"bob@{DOMAIN}")
    assert [p.text for p in await world.service.mine(ALICE)] == ["done"]


async def test_bob_marker_to_alice_jid_marks_her_postit_read(world: World) -> None:
    world.hooks.online["bob"] = True
    (handler,) = world.hooks.message_handlers
    await handler(written(ALICE, "bob", "call the bank back"))
    assert await handler(written(BOB, "alice", displayed="m1")) is True
    (sent,) = await world.service.sent(ALICE)
    assert not sent.unread


async def test_a_reply_carrying_a_marker_marks_read_and_is_a_postit_too(world: World) -> None:
    world.hooks.online.update(alice=True, bob=True)
    (handler,) = world.hooks.message_handlers
    await handler(written(ALICE, "bob", "call the bank back"))
    assert await handler(written(BOB, "alice", "done", displayed="m1")) is True
    (sent,) = await world.service.sent(ALICE)
    assert not sent.unread
    assert [p.text for p in await world.service.mine(ALICE)] == ["done"]


async def test_messages_to_phones_numbers_or_oneself_are_not_postits(world: World) -> None:
    (handler,) = world.hooks.message_handlers
    for local in ("202", "+393331234567", "alice", "nobody"):
        assert await handler(written(ALICE, local, "hello")) is False
    assert await world.service.sent(ALICE) == [] and world.hooks.sent == []


async def test_a_chat_state_in_a_conversation_stores_nothing(world: World) -> None:
    (handler,) = world.hooks.message_handlers
    assert await handler(written(ALICE, "bob", "")) is True
    assert await world.service.sent(ALICE) == [] and world.hooks.sent == []


async def test_a_refused_message_is_answered_in_the_conversation_it_was_written_in(
    world: World,
) -> None:
    (handler,) = world.hooks.message_handlers
    assert await handler(written(ALICE, "bob", "x" * 100_000, id="a1", receipt_requested=True))
    assert await handler(written(GUEST, "bob", "hello")) is True
    (too_long,) = world.hooks.to("alice")
    assert too_long.frm == f"bob@{DOMAIN}" and "100000" in too_long.body
    assert "200" in too_long.body and not too_long.markable
    assert world.hooks.receipts == []  # not kept: no "delivered" tick
    (refused,) = world.hooks.to("guest")
    assert "not allowed" in refused.body
    assert await world.service.mine(BOB) == []
