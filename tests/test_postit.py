"""Post-its (F11), the service layer: leave, list, read, delete, markers, late delivery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctibot.config import UserConfig
from ctibot.plugin import BadArgument, NotFound, PermissionDenied, VirtualMessage
from ctibot.plugins.postit import plugin

from postit_fixtures import ALICE, BOB, DAVE, DOMAIN, GUEST, Sent, World


async def test_alice_leaves_bob_a_postit_that_reaches_his_chat_from_her_jid(postits: World) -> None:
    postits.hooks.online["bob"] = True
    left = await postits.service.leave(ALICE, "bob", "call the bank back")
    assert left.delivered and left.recipient == BOB
    (sent,) = postits.hooks.to("bob")
    assert sent == Sent("bob", "call the bank back", f"alice@{DOMAIN}", True)
    (mine,) = await postits.service.mine(BOB)
    assert (mine.author, mine.recipient, mine.text) == ("alice", "bob", "call the bank back")
    assert mine.created == postits.clock.now and mine.delivered is not None and mine.unread


async def test_the_recipient_is_found_by_name_in_any_case_or_by_extension(postits: World) -> None:
    assert (await postits.service.leave(ALICE, "BOB", "one")).recipient == BOB
    assert (await postits.service.leave(ALICE, "202", "two")).recipient == BOB


async def test_a_postit_for_someone_offline_waits_for_them_to_come_back(postits: World) -> None:
    postits.hooks.online["bob"] = False
    left = await postits.service.leave(ALICE, "bob", "the courier came")
    assert not left.delivered and postits.hooks.sent == []
    postits.hooks.online["bob"] = True
    (handler,) = postits.hooks.online_handlers
    await handler(BOB)
    (sent,) = postits.hooks.to("bob")
    assert sent.body.endswith("] the courier came") and sent.body.startswith("[")
    assert sent.frm == f"alice@{DOMAIN}" and sent.markable
    await handler(BOB)  # a second login brings nothing twice
    assert len(postits.hooks.to("bob")) == 1


async def test_a_login_while_a_postit_is_being_left_sends_it_once(postits: World) -> None:
    postits.hooks.online["bob"] = True
    (came_online,) = postits.hooks.online_handlers
    await asyncio.gather(postits.service.leave(ALICE, "bob", "just now"), came_online(BOB))
    assert [s.body for s in postits.hooks.to("bob")] == ["just now"]


async def test_a_postit_that_could_not_be_sent_waits_for_the_next_login(postits: World) -> None:
    postits.hooks.online["bob"] = True
    postits.hooks.down = True
    left = await postits.service.leave(ALICE, "bob", "while the link was down")
    assert not left.delivered
    (waiting,) = await postits.service.mine(BOB)
    assert waiting.delivered is None
    postits.hooks.down = False
    (came_online,) = postits.hooks.online_handlers
    await came_online(BOB)
    (sent,) = postits.hooks.to("bob")
    assert sent.body.endswith("] while the link was down")


async def test_presence_unknown_sends_at_once_the_server_keeps_it(postits: World) -> None:
    left = await postits.service.leave(ALICE, "bob", "hello")
    assert left.delivered and len(postits.hooks.to("bob")) == 1


async def test_a_user_without_chat_account_keeps_it_in_their_list(postits: World) -> None:
    left = await postits.service.leave(ALICE, "dave", "hello Dave")
    assert not left.delivered and postits.hooks.sent == []
    assert [p.text for p in await postits.service.mine(DAVE)] == ["hello Dave"]


async def test_listing_shows_unread_first_newest_first(postits: World) -> None:
    ids = [(await postits.service.leave(ALICE, "bob", f"note {n}")).postit.id for n in range(4)]
    await postits.service.read(BOB, ids[3])
    await postits.service.read(BOB, ids[0])
    assert [p.id for p in await postits.service.mine(BOB)] == [ids[2], ids[1], ids[3], ids[0]]
    assert await postits.service.unread_count(BOB) == 2


async def test_reading_marks_it_read_and_alice_sees_when(postits: World) -> None:
    postit = (await postits.service.leave(ALICE, "bob", "call the bank back")).postit
    (sent,) = await postits.service.sent(ALICE)
    assert sent.unread
    postits.clock.now += 60
    read = await postits.service.read(BOB, postit.id)
    assert read.read == postits.clock.now
    (sent,) = await postits.service.sent(ALICE)
    assert sent.read == postits.clock.now
    # alice reading her own post-it does not mark it read for bob
    other = (await postits.service.leave(ALICE, "bob", "second")).postit
    assert (await postits.service.read(ALICE, other.id)).unread


async def test_a_displayed_marker_marks_it_and_every_earlier_one_read(postits: World) -> None:
    postits.hooks.online["bob"] = True
    first = (await postits.service.leave(ALICE, "bob", "first")).postit
    second = (await postits.service.leave(ALICE, "bob", "second")).postit
    third = (await postits.service.leave(ALICE, "bob", "third")).postit
    marker_of_second = postits.hooks.to("bob")[1]
    assert marker_of_second.body == "second"
    assert await postits.service.displayed(BOB, "alice", "m2") == 2
    state = {p.id: p.unread for p in await postits.service.mine(BOB)}
    assert state == {first.id: False, second.id: False, third.id: True}


async def test_a_marker_for_an_unknown_message_or_from_someone_else_changes_nothing(
    postits: World,
) -> None:
    postits.hooks.online["bob"] = True
    await postits.service.leave(ALICE, "bob", "first")
    assert await postits.service.displayed(BOB, "alice", "no-such-id") == 0
    assert await postits.service.displayed(DAVE, "alice", "m1") == 0  # not his
    assert await postits.service.displayed(BOB, "dave", "m1") == 0  # not from dave
    assert all(p.unread for p in await postits.service.mine(BOB))


async def test_delete_for_the_recipient_keeps_it_for_the_author(postits: World) -> None:
    postit = (await postits.service.leave(ALICE, "bob", "to be thrown")).postit
    await postits.service.delete(BOB, postit.id)
    assert await postits.service.mine(BOB) == []
    assert [p.id for p in await postits.service.sent(ALICE)] == [postit.id]
    with pytest.raises(NotFound):
        await postits.service.read(BOB, postit.id)
    await postits.service.delete(ALICE, postit.id)
    assert await postits.service.sent(ALICE) == []
    async with postits.store.db.execute("SELECT COUNT(*) FROM postits") as cursor:
        assert (await cursor.fetchone())[0] == 0  # gone once neither side wants it


async def test_someone_elses_postit_is_not_found(postits: World) -> None:
    postit = (await postits.service.leave(ALICE, "bob", "private")).postit
    for action in (postits.service.read, postits.service.delete):
        with pytest.raises(NotFound) as caught:
            await action(DAVE, postit.id)
        assert caught.value.key == "postit.error.no_such_postit"
    with pytest.raises(NotFound):
        await postits.service.read(BOB, 999)


# -- bad input ---------------------------------------------------------------------------------


async def test_unknown_user_empty_and_too_long_are_refused_and_nothing_is_kept(
    postits: World,
) -> None:
    with pytest.raises(NotFound) as caught:
        await postits.service.leave(ALICE, "zorro", "hello")
    assert caught.value.key == "postit.error.no_such_user"
    assert caught.value.params == {"name": "zorro"}
    for empty in ("", "   ", "\n\t", "\x00\x01"):
        with pytest.raises(BadArgument) as caught:
            await postits.service.leave(ALICE, "bob", empty)
        assert caught.value.key == "postit.error.empty"
    with pytest.raises(BadArgument) as caught:
        await postits.service.leave(ALICE, "bob", "x" * 100_000)
    assert caught.value.key == "postit.error.too_long"
    assert caught.value.params == {"length": 100_000, "maximum": 200}
    assert await postits.service.mine(BOB) == [] and postits.hooks.sent == []


async def test_an_unknown_name_is_echoed_short_and_printable(postits: World) -> None:
    with pytest.raises(NotFound) as caught:
        await postits.service.leave(ALICE, "z\x1b[31m" + "o" * 200, "hello")
    echoed = caught.value.params["name"]
    assert len(echoed) <= 40 and echoed.isprintable()


async def test_markup_is_kept_as_text_and_forbidden_characters_removed(postits: World) -> None:
    text = "<b>bold</b> & <script>alert(1)</script> ]]> {name} \x07bell"
    left = await postits.service.leave(ALICE, "bob", text)
    assert left.postit.text == "<b>bold</b> & <script>alert(1)</script> ]]> {name} bell"
    assert postits.hooks.to("bob")[0].body == left.postit.text


async def test_without_the_permission_nothing_is_done(postits: World) -> None:
    for action in (
        postits.service.leave(GUEST, "bob", "hi"),
        postits.service.mine(GUEST),
        postits.service.sent(GUEST),
        postits.service.read(GUEST, 1),
    ):
        with pytest.raises(PermissionDenied):
            await action
    assert await postits.service.mine(BOB) == []


# -- the declaration ---------------------------------------------------------------------------


def test_the_plugin_declares_its_permission_for_every_default_profile() -> None:
    (permission,) = plugin.permissions
    assert permission.name == "postit"
    assert set(permission.profiles) == {"user", "supervisor", "admin"}
    assert plugin.parse_settings({}) == {
        "max_length": 1000,
        "list_limit": 20,
        "per_window": 30,
        "window_minutes": 10,
    }


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
    postits: World,
) -> None:
    postits.hooks.online.update(alice=True, bob=True)
    (handler,) = postits.hooks.message_handlers
    msg = written(ALICE, "bob", "call the bank back", id="a1", receipt_requested=True)
    assert await handler(msg) is True
    assert postits.hooks.receipts == ["a1"]  # stored: her client may tick it
    (to_bob,) = postits.hooks.to("bob")
    assert (to_bob.body, to_bob.frm) == ("call the bank back", f"alice@{DOMAIN}")
    assert await handler(written(BOB, "alice", "done", id="b1")) is True
    (to_alice,) = postits.hooks.to("alice")
    assert (to_alice.body, to_alice.frm) == ("done", f"bob@{DOMAIN}")
    assert [p.text for p in await postits.service.mine(ALICE)] == ["done"]


async def test_bob_marker_to_alice_jid_marks_her_postit_read(postits: World) -> None:
    postits.hooks.online["bob"] = True
    (handler,) = postits.hooks.message_handlers
    await handler(written(ALICE, "bob", "call the bank back"))
    assert await handler(written(BOB, "alice", displayed="m1")) is True
    (sent,) = await postits.service.sent(ALICE)
    assert not sent.unread


async def test_a_reply_carrying_a_marker_marks_read_and_is_a_postit_too(postits: World) -> None:
    postits.hooks.online.update(alice=True, bob=True)
    (handler,) = postits.hooks.message_handlers
    await handler(written(ALICE, "bob", "call the bank back"))
    assert await handler(written(BOB, "alice", "done", displayed="m1")) is True
    (sent,) = await postits.service.sent(ALICE)
    assert not sent.unread
    assert [p.text for p in await postits.service.mine(ALICE)] == ["done"]


async def test_messages_to_phones_numbers_or_oneself_are_not_postits(postits: World) -> None:
    (handler,) = postits.hooks.message_handlers
    for local in ("202", "+393331234567", "alice", "nobody"):
        assert await handler(written(ALICE, local, "hello")) is False
    assert await postits.service.sent(ALICE) == [] and postits.hooks.sent == []


async def test_a_chat_state_in_a_conversation_stores_nothing(postits: World) -> None:
    (handler,) = postits.hooks.message_handlers
    assert await handler(written(ALICE, "bob", "")) is True
    assert await postits.service.sent(ALICE) == [] and postits.hooks.sent == []


async def test_a_refused_message_is_answered_in_the_conversation_it_was_written_in(
    postits: World,
) -> None:
    (handler,) = postits.hooks.message_handlers
    assert await handler(written(ALICE, "bob", "x" * 100_000, id="a1", receipt_requested=True))
    assert await handler(written(GUEST, "bob", "hello")) is True
    (too_long,) = postits.hooks.to("alice")
    assert too_long.frm == f"bob@{DOMAIN}" and "100000" in too_long.body
    assert "200" in too_long.body and not too_long.markable
    assert postits.hooks.receipts == []  # not kept: no "delivered" tick
    (refused,) = postits.hooks.to("guest")
    assert "not allowed" in refused.body
    assert await postits.service.mine(BOB) == []
