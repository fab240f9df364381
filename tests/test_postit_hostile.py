"""Hostile post-it text: control characters go the same way from chat, the page and the API."""

from __future__ import annotations

from pathlib import Path

from test_postit_xmpp import from_, postits

from ctibot.plugin import VirtualMessage

from office import COMPONENT, Office, until
from postit_fixtures import ALICE, World
from web_fixtures import csrf_of, running_office

#: C0 controls (escape, backspace, NUL), DEL, C1 controls (NEL, CSI), a bare CR.
HOSTILE = "a\x1b[31mb\x08c\x00d\x7fe\x85f\x9bg\rh\r\ni\tj"
KEPT = "a[31mbcdefg\nh\ni\tj"
#: What a chat message can carry at all (XML 1.0 forbids the C0 controls).
HOSTILE_XML = "a\x7fb\x85c\x9bd\r\ne <b>&amp;</b>"
KEPT_XML = "abcd\ne <b>&amp;</b>"


async def test_the_service_keeps_what_is_shown(postits: World) -> None:
    left = await postits.service.leave(ALICE, "bob", HOSTILE)
    assert left.postit.text == KEPT
    assert postits.hooks.to("bob")[0].body == KEPT
    message = VirtualMessage(ALICE, "alice@example.test/x", "bob", HOSTILE, "h1", None, True)
    assert await postits.chat.on_message(message)
    assert [p.text for p in await postits.service.sent(ALICE)] == [KEPT, KEPT]


async def test_the_page_and_the_api_keep_the_same_text(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        carol = await office.logged_in("admin")
        token = csrf_of((await carol.get("/postits")).text)
        resp = await carol.post(
            "/api/postits", json={"to": "bob", "text": HOSTILE}, headers={"X-CSRF-Token": token}
        )
        assert resp.status_code == 200 and resp.json()["postit"]["text"] == KEPT
        resp = await carol.post(
            "/postits/send",
            data={"to": "bob", "text": HOSTILE, "csrf_token": token},
            headers={"Referer": "/postits"},
        )
        assert resp.status_code == 302
        listed = (await carol.get("/api/postits")).json()["sent"]
        assert [p["text"] for p in listed] == [KEPT, KEPT]
        # Length: at most max_length (1000) after cleaning; the API's own cap before that.
        for text, status in (("x" * 1000, 200), ("x" * 1001, 400), ("x" * 100_001, 400)):
            resp = await carol.post(
                "/api/postits", json={"to": "bob", "text": text}, headers={"X-CSRF-Token": token}
            )
            assert resp.status_code == status, (len(text), resp.text[:200])
        only_controls = "\x1b\x7f\x85\x00"
        resp = await carol.post(
            "/api/postits",
            json={"to": "bob", "text": only_controls},
            headers={"X-CSRF-Token": token},
        )
        assert resp.status_code == 400 and resp.json()["error"] == "postit.error.empty"
        assert len((await carol.get("/api/postits")).json()["sent"]) == 3


async def test_a_chat_message_with_control_characters_through_prosody(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    bob = await chat_office.login("bob")
    await alice.say(HOSTILE_XML, to=f"bob@{COMPONENT}")
    await until(lambda: from_(bob, f"alice@{COMPONENT}"))
    assert from_(bob, f"alice@{COMPONENT}")[0]["body"] == KEPT_XML
    assert [p["text"] for p in postits(chat_office)] == [KEPT_XML]
