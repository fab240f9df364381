"""Post-it chat and ad-hoc commands: a transcript per story, through the real dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from ctibot.commands.base import Registry
from ctibot.commands.parser import dispatch, form_for, run_form
from ctibot.plugins.postit import plugin
from ctibot.services.registry import ServiceRegistry

from postit_fixtures import ALICE, BOB, DAVE, GUEST, World

Say = Callable[..., Awaitable[str]]


@pytest.fixture
def services(postits: World) -> ServiceRegistry:
    registry = Registry()
    for command in plugin.commands:
        registry.register(command, "postit")
    services = ServiceRegistry(postits.service.ctx.config, registry)
    services.add("postit", postits.service)
    return services


@pytest.fixture
def say(services: ServiceRegistry) -> Say:
    async def say(user, body: str) -> str:  # type: ignore[no-untyped-def]
        reply = await dispatch(services, user, body)
        assert reply is not None
        return reply

    return say


async def test_alice_leaves_bob_a_postit_he_lists_and_reads(postits: World, say: Say) -> None:
    postits.hooks.online["bob"] = True
    reply = await say(ALICE, "postit bob call the bank back")
    assert "Bob Brown" in reply and "delivered" in reply
    listing = await say(BOB, "bigliettini")
    assert "1 da leggere" in listing and "Alice Anders" in listing
    assert "call the bank back" in listing and "●" in listing
    (postit,) = await postits.service.mine(BOB)
    shown = await say(BOB, f"postit leggi {postit.id}")
    assert shown.endswith("\ncall the bank back") and "Alice Anders" in shown
    assert "○" in await say(BOB, "postits")


async def test_alice_asks_whether_bob_read_it(postits: World, say: Say) -> None:
    await say(ALICE, "postit bob call the bank back")
    assert "not read yet" in await say(ALICE, "postits sent")
    (postit,) = await postits.service.mine(BOB)
    await say(BOB, f"postit read {postit.id}")
    sent = await say(ALICE, "postits sent")
    assert "read " in sent and "not read" not in sent
    assert "(read " in await say(ALICE, f"postit read #{postit.id}")


async def test_offline_and_no_chat_account_are_said(postits: World, say: Say) -> None:
    postits.hooks.online["bob"] = False
    assert "offline" in await say(ALICE, "postit bob later")
    assert "no chat account" in await say(ALICE, "postit dave hi")
    sent = (await say(ALICE, "postits sent")).splitlines()
    assert "Dave Davis" in sent[1] and "not read yet" in sent[1]  # no chat: nothing to wait for
    assert "Bob Brown" in sent[2] and "waiting for them to come online" in sent[2]


async def test_delete_and_listing_when_empty(postits: World, say: Say) -> None:
    assert await say(BOB, "postits") == "Non hai post-it."
    await say(ALICE, "postit bob to be thrown")
    (postit,) = await postits.service.mine(BOB)
    assert f"{postit.id} eliminato" in await say(BOB, f"postit elimina {postit.id}")
    assert await say(BOB, "postits") == "Non hai post-it."
    assert "no post-it" in await say(DAVE, f"postit delete {postit.id}")


async def test_postit_alone_lists_mine_and_postit_sent_lists_sent(postits: World, say: Say) -> None:
    assert await say(ALICE, "postit") == "You have no post-its."
    assert await say(ALICE, "postit sent") == "You have sent no post-its."


# -- bad input ---------------------------------------------------------------------------------


async def test_bad_input_gets_a_short_clear_answer(postits: World, say: Say) -> None:
    assert "no user “zorro”" in await say(ALICE, "postit zorro hello")
    assert await say(ALICE, "postit bob") == "A post-it needs some text."
    too_long = await say(ALICE, "postit bob " + "x" * 500)
    assert "too long" in too_long and "500" in too_long and "200" in too_long
    assert "too long" in await say(ALICE, "postit bob " + "x" * 100_000)
    assert "“tre” non è un numero da 1 a 999999999" in await say(BOB, "postit leggi tre")
    assert "Manca <n>" in await say(BOB, "postit leggi")
    assert len(await say(ALICE, "postit <b>" + "z" * 300 + " hi")) < 200
    assert await postits.service.mine(BOB) == []


async def test_markup_shows_as_text_in_listings(postits: World, say: Say) -> None:
    await say(ALICE, "postit bob <b>bold</b> & <i>{name}</i>")
    assert "<b>bold</b> & <i>{name}</i>" in await say(BOB, "postits")


async def test_without_the_permission_the_command_is_refused(postits: World, say: Say) -> None:
    assert "not allowed to leave post-its" in await say(GUEST, "postit bob hi")
    assert await postits.service.mine(BOB) == []


# -- ad-hoc --------------------------------------------------------------------------------------


async def test_the_adhoc_form_lists_colleagues_and_leaves_a_postit(
    postits: World, services: ServiceRegistry
) -> None:
    form = form_for("postit", ALICE, services=services)
    (to, text) = form.fields
    assert ("bob", "Bob Brown") in to.options and all(v != "alice" for v, _ in to.options)
    assert text.type == "text-multi"
    reply = await run_form(
        services, ALICE, "postit", {"to": "bob", "text": ["call the bank", "back"]}
    )
    assert "Bob Brown" in reply
    (postit,) = await postits.service.mine(BOB)
    assert postit.text == "call the bank\nback"
    assert "text" in await run_form(services, ALICE, "postit", {"to": "bob", "text": ""})
    listing = await run_form(services, BOB, "postits", {"which": "mine"})
    assert "call the bank back" in listing
