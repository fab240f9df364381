"""Post-it flood limits: per author, in the service (chat, virtual JIDs, web and API all obey)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ctibot.config import PluginsConfig
from ctibot.plugin import PluginContext, ServiceError, SettingError, VirtualMessage
from ctibot.plugins.postit import plugin
from ctibot.plugins.postit.services import PostitService

from office import COMPONENT, Office, until
from postit_fixtures import ALICE, BOB, DOMAIN, World
from web_fixtures import csrf_of, running_office


async def rows(world: World) -> int:
    async with world.store.db.execute("SELECT COUNT(*) FROM postits") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


def limited(world: World, **settings: int) -> PostitService:
    """The fixture's service again with other settings, over the same database."""
    ctx = world.service.ctx
    new = PluginContext(
        name="postit",
        settings=plugin.parse_settings({"max_length": 200, **settings}),
        config=ctx.config,
        store=ctx.store,
        bus=None,
        pbx=None,  # type: ignore[arg-type]
        ami=None,
        services={},
        clock=world.clock,
        log=logging.getLogger("test.postit"),
        xmpp=world.hooks,
    )
    return PostitService(new)


async def test_the_default_lets_30_through_in_ten_minutes_then_says_when(postits: World) -> None:
    for n in range(30):
        await postits.service.leave(ALICE, "bob", f"note {n}")
        postits.clock.now += 1
    sent = len(postits.hooks.sent)
    with pytest.raises(ServiceError) as refused:
        await postits.service.leave(ALICE, "bob", "one too many")
    assert refused.value.key == "postit.error.slow_down"
    # The oldest was written 30 s ago: the window frees a place in 9 min 30 s.
    assert refused.value.params["count"] == 30 and refused.value.params["minutes"] == 10
    assert refused.value.params["wait"] == 10
    assert await rows(postits) == 30 and len(postits.hooks.sent) == sent  # nothing kept, sent
    # Bob is not limited by Alice's flood.
    await postits.service.leave(BOB, "alice", "fine here")
    postits.clock.now += 600 - 30  # the oldest leaves the window
    await postits.service.leave(ALICE, "bob", "now it goes")
    assert await rows(postits) == 32


async def test_the_answer_says_in_english_and_italian_when_to_try_again(postits: World) -> None:
    from ctibot.i18n import translate

    service = limited(postits, per_window=1, window_minutes=5)
    await service.leave(BOB, "alice", "primo")
    with pytest.raises(ServiceError) as refused:
        await service.leave(BOB, "alice", "secondo")
    it = translate(refused.value.key, "it", **refused.value.params)
    en = translate(refused.value.key, "en", **refused.value.params)
    at = refused.value.params["at"]
    assert "negli ultimi 5 minuti" in it and f"alle {at}" in it and "tra 5 min" in it
    assert "in the last 5 minutes" in en and f"at {at}" in en


async def test_a_restart_forgets_nothing_and_0_means_no_limit(postits: World) -> None:
    first = limited(postits, per_window=2)
    await first.leave(ALICE, "bob", "a")
    await first.leave(ALICE, "bob", "b")
    again = limited(postits, per_window=2)  # ctibot restarted: counted from the table
    with pytest.raises(ServiceError):
        await again.leave(ALICE, "bob", "c")
    free = limited(postits, per_window=0)
    for n in range(40):
        await free.leave(ALICE, "bob", f"free {n}")
    assert await rows(postits) == 42


async def test_a_burst_at_once_does_not_slip_past_the_count(postits: World) -> None:
    service = limited(postits, per_window=5)
    results = await asyncio.gather(
        *(service.leave(ALICE, "bob", f"burst {n}") for n in range(20)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(refused) == 15 and await rows(postits) == 5


async def test_a_message_to_a_virtual_jid_over_the_limit_is_answered_there(
    postits: World,
) -> None:
    service = limited(postits, per_window=1)
    postits.chat.service = service
    message = VirtualMessage(ALICE, "alice@example.test/laptop", "bob", "hi", "x1", None, True)
    assert await postits.chat.on_message(message)
    message = VirtualMessage(ALICE, "alice@example.test/laptop", "bob", "again", "x2", None, True)
    assert await postits.chat.on_message(message)
    answer = postits.hooks.to("alice")[-1]
    assert answer.frm == f"bob@{DOMAIN}" and "you may leave another at" in answer.body
    assert postits.hooks.receipts == ["x1"] and await rows(postits) == 1


def test_the_settings_are_validated() -> None:
    for bad in ({"per_window": -1}, {"window_minutes": 0}, {"window_minutes": 2000}):
        with pytest.raises(SettingError):
            plugin.parse_settings(bad)


async def test_chat_and_virtual_jids_obey_through_prosody(chat_office: Office) -> None:
    settings = {**chat_office.config.plugins.settings, "postit": {"per_window": 2}}
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot(plugins=PluginsConfig(settings=settings))
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    bob_cti = f"bob@{COMPONENT}"
    await alice.say("first", to=bob_cti)
    assert "Bob Brown" in await alice.ask("postit bob second")
    refused = await alice.ask("third", to=bob_cti)
    assert refused.startswith("⚠ You have left 2 post-its in the last 10 minutes")
    assert "you may leave another at" in refused
    assert "you may leave another at" in await alice.ask("postit bob fourth")
    # The ad-hoc form says the same.
    adhoc = alice.client.plugin["xep_0050"]
    started = await adhoc.send_command(COMPONENT, "postit")
    submit = alice.client.plugin["xep_0004"].make_form(ftype="submit")
    submit.add_field(var="to", value="bob")
    submit.add_field(var="text", ftype="text-multi", value="fifth")
    done = await adhoc.send_command(
        COMPONENT,
        "postit",
        sessionid=started["command"]["sessionid"],
        action="complete",
        payload=submit,
    )
    assert "you may leave another at" in done["command"]["notes"][0][1]
    await until(lambda: len([m for m in bob.messages if m["body"]]) >= 2)
    await bob.ask("postits")  # a round trip: anything else for bob came before its answer
    notes = [m["body"] for m in bob.messages if m["from"].bare == f"alice@{COMPONENT}"]
    assert notes == ["first", "second"]
    # Bob writes in Italian and gets his own limit's answer in Italian.
    await bob.say("uno", to=f"alice@{COMPONENT}")
    await bob.say("due", to=f"alice@{COMPONENT}")
    assert "potrai lasciarne un altro alle" in await bob.ask("tre", to=f"alice@{COMPONENT}")


async def test_the_page_and_the_api_obey(tmp_path: Path) -> None:
    plugins = PluginsConfig(settings={"postit": {"per_window": 1}})
    async with running_office(tmp_path, None, plugins=plugins) as office:
        carol = await office.logged_in("admin")
        token = csrf_of((await carol.get("/postits")).text)
        resp = await carol.post(
            "/api/postits", json={"to": "bob", "text": "one"}, headers={"X-CSRF-Token": token}
        )
        assert resp.status_code == 200, resp.text
        resp = await carol.post(
            "/api/postits", json={"to": "bob", "text": "two"}, headers={"X-CSRF-Token": token}
        )
        assert resp.status_code == 429 and resp.json()["error"] == "postit.error.slow_down"
        assert "you may leave another at" in resp.json()["message"]
        resp = await carol.post(
            "/postits/send",
            data={"to": "bob", "text": "three", "csrf_token": token},
            headers={"Referer": "/postits"},
            follow_redirects=True,
        )
        flash = resp.text.split('class="flash flash-error"', 1)[1].split("</div>", 1)[0]
        assert "you may leave another at" in flash
        service = office.app.services.get("postit")
        async with service.db.execute("SELECT text FROM postits") as cursor:
            assert [row[0] async for row in cursor] == ["one"]
