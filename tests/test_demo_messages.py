"""`ctibot demo` shows SMS and offline notices with nothing leaving the machine: its gateway
stand-in and mail sink take them, and its console prints each one on a line."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from test_demo_command import start_demo

from ctibot.config import load_config
from ctibot.demo_command import console_text

from web_fixtures import csrf_of

ARGS = ("--no-xmpp", "--no-traffic", "--ami-port", "0", "--web-port", "0")


async def logged_in(url: str, name: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A panel client logged in as ``name`` (demo password), and its CSRF header."""
    client = httpx.AsyncClient(base_url=url, trust_env=False, timeout=10)
    page = await client.get("/login")
    data = {"name": name, "password": f"{name}-demo", "csrf_token": csrf_of(page.text)}
    resp = await client.post("/login", data=data)
    assert resp.status_code == 302, resp.text
    token = csrf_of((await client.get("/settings")).text)
    return client, {"X-CSRF-Token": token}


async def test_the_demo_sends_sms_and_offline_notices_to_its_own_console(tmp_path: Path) -> None:
    state = tmp_path / "state"
    demo = await start_demo(tmp_path, *ARGS, "--state-dir", str(state))
    clients: list[httpx.AsyncClient] = []
    try:
        assert "SMS and e-mail   never leave this machine" in demo.text
        url = re.search(r"Web panel +(http://127\.0\.0\.1:\d+)/", demo.text)
        assert url, demo.text
        config = load_config(state / "ctibot.toml")  # the file it wrote is a valid config
        alice_conf = config.user_by_name("alice")
        assert alice_conf is not None
        assert (alice_conf.email, alice_conf.mobile) == ("alice@example.com", "+393470000201")
        sms = config.plugins.table("sms")["url"]
        mail = config.plugins.table("notify")
        assert sms.startswith("http://127.0.0.1:") and mail["smtp_host"] == "127.0.0.1"

        # An SMS from the panel (a stranger's kind of text) reaches the stand-in, one clean line.
        bob, bob_csrf = await logged_in(url.group(1), "bob")
        clients.append(bob)
        text = "Ciao Alice\nrichiamami \u202egnp.exe \x1b[2J" + " ok" * 60
        resp = await bob.post(
            "/api/sms", json={"number": "347 000 0201", "text": text}, headers=bob_csrf
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["sms"]["status"] == "sent"
        line = await demo.wait_for(r"📱 SMS to \+393470000201: Ciao Alice richiamami")
        assert "\u202e" not in line and "\x1b" not in line and line.endswith("…\n")
        assert len(line) < 140

        # Alice asks for post-it notices by e-mail and SMS, then is away (no panel open).
        alice, alice_csrf = await logged_in(url.group(1), "alice")
        clients.append(alice)
        resp = await alice.post(
            "/settings",
            json={"notices": ["postit_email", "postit_sms", "voicemail_email"]},
            headers={**alice_csrf, "Accept": "application/json"},
        )
        assert resp.status_code in (200, 302), resp.text
        settings = (await alice.get("/api/settings")).json()
        assert settings["notices"] == ["postit_email", "postit_sms", "voicemail_email"]
        await alice.aclose()
        # Bob leaves her a post-it: a mail and an SMS come out, printed on the console.
        resp = await bob.post(
            "/api/postits",
            json={"to": "alice", "text": "Call the customer back"},
            headers=bob_csrf,
        )
        assert resp.status_code == 200, resp.text
        line = await demo.wait_for(r"✉ mail to alice@example\.com: ", timeout=30)
        assert line.strip() == "✉ mail to alice@example.com: New post-it from Bob Brown"
        await demo.wait_for(
            r"📱 SMS to \+393470000201: Post-it from Bob Brown: Call the customer back"
        )
        # A customer leaves her a voicemail (typed at the console): a mail, as she asked.
        demo.type("v alice")
        await demo.wait_for(r"✉ mail to alice@example\.com: New voicemail from ", timeout=30)
    finally:
        for client in clients:
            await client.aclose()
        assert await demo.stop() == 0, demo.text


def test_console_text_drops_control_and_format_characters_and_clips() -> None:
    assert console_text("a\x1b[31mb\r\nc\u202ed\u2028e\x00") == "a [31mb c d e"
    assert console_text("x" * 300, 50) == "x" * 49 + "…"
