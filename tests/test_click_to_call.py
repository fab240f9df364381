"""Automatic click-to-call (F27): the desk phone dials by itself (Yealink Action URI with Basic,
Snom command.htm with Digest) over real HTTP to the phones' stand-in, which dials on the demo
PBX; manual mode still Originates; wrong credentials, unsupported phones, hostile numbers and
test echo give clear answers; the phone's password never comes back."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_web_calls_browser import open_panel

from ctibot.cli import setup_logging
from ctibot.commands import dispatch
from ctibot.config import PluginsConfig
from ctibot.demo.server import AmiSession
from ctibot.plugins.calls.deskphone import brand_of, check_overrides, dial_url, host_of_contact
from ctibot.sandbox.deskphones import DeskPhones, PhoneLogin

from web_fixtures import Slapd, WebOffice, csrf_of, free_port, running_office, wait_for

PHONE_USER = "admin"
PHONE_PW = "Ph0ne-s3cret-zz"
YEALINK = "Yealink SIP-T54W 96.86.0.100"
SNOM = "snom D785 10.1.159.12"
FANVIL = "Fanvil X6U 2.12.20.2"


@pytest.fixture
def ami_seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every action the demo PBX receives over AMI (lower-case names), in order."""
    seen: list[str] = []
    original = AmiSession.handle

    async def handle(self: AmiSession, msg: dict) -> None:
        seen.append(str(msg.get("Action", "")).strip().lower())
        await original(self, msg)

    monkeypatch.setattr(AmiSession, "handle", handle)
    return seen


@pytest.fixture
async def c2c(tmp_path: Path, slapd: Slapd) -> AsyncIterator[tuple[WebOffice, DeskPhones]]:
    """The panel's office whose phones answer at the stand-in: 201 (Alice) a Yealink, 202
    (Bob) a Snom, 203 (Carol) a Fanvil, 204 (Dave) at an address nobody listens on."""
    phones = DeskPhones(pbx=None, username=PHONE_USER, password=PHONE_PW)
    await phones.start()
    urls = {ext: phones.url_of(ext) for ext in ("201", "202", "203")}
    urls["204"] = f"http://127.0.0.1:{free_port()}/204"
    table = {"calls": {"phone_urls": urls, "phone_timeout": 3.0}}
    try:
        async with running_office(tmp_path, slapd, plugins=PluginsConfig(settings=table)) as o:
            phones.pbx = o.pbx
            for ext, agent in (("201", YEALINK), ("202", SNOM), ("203", FANVIL), ("204", SNOM)):
                o.pbx.phone(ext).user_agent = agent
            yield o, phones
    finally:
        await phones.stop()


async def client_of(office: WebOffice, profile: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    client = await office.logged_in(profile)
    token = csrf_of((await client.get("/settings")).text)
    return client, {"X-CSRF-Token": token}


async def automatic(
    client: httpx.AsyncClient, headers: dict[str, str], extension: str, password: str = PHONE_PW
) -> httpx.Response:
    """Save automatic mode with the phone's web login (JSON through the settings action)."""
    data = {
        "default_extension": extension,
        "click_to_call": "automatic",
        "phone_user": PHONE_USER,
        "phone_password": password,
    }
    return await client.post("/settings", json=data, headers=headers)


def call_between(office: WebOffice, caller: str, callee: str) -> bool:
    """ctibot's state shows a call from ``caller``'s phone to ``callee``'s, ringing or up."""
    user = office.app.config.user_by_extension(caller)
    return any(c["party"] == callee for c in office.app.services.calls.my_calls(user))


async def test_automatic_mode_the_yealink_dials_no_originate_no_ringing_first(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    alice, headers = await client_of(office, "supervisor")
    saved = await automatic(alice, headers, "201")
    assert saved.status_code == 200, saved.text
    before = len(ami_seen)
    dial = await alice.post("/calls/dial", json={"destination": "202"}, headers=headers)
    assert dial.status_code == 200, dial.text
    assert dial.json()["message"] == "Calling Bob Brown (202): your phone 201 dials it now."
    assert phones.dialled == [("201", "202")]
    # Basic, as a Yealink asks: refused without a login (nothing dialled), then taken.
    assert [(r.target, r.status) for r in phones.requests] == [
        ("/201/servlet?key=number=202", 401),
        ("/201/servlet?key=number=202", 200),
    ]
    await wait_for(lambda: call_between(office, "201", "202"))
    assert "originate" not in ami_seen[before:]
    assert office.pbx.phone("201").answer_after is not None  # press() put it back


async def test_snom_digest_from_chat_and_manual_mode_still_originates(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    bob, headers = await client_of(office, "user")
    assert (await automatic(bob, headers, "202")).status_code == 200
    user = office.app.config.user_by_name("bob")
    before = len(ami_seen)
    reply = await dispatch(office.app.services, user, "call alice")
    assert reply == "Calling Alice Anders (201): your phone 202 dials it now."
    assert phones.dialled == [("202", "201")]
    assert [r.status for r in phones.requests] == [401, 200]  # the Digest handshake
    await wait_for(lambda: call_between(office, "202", "201"))
    assert "originate" not in ami_seen[before:]
    # Carol keeps manual mode: her phone rings first (Originate), no phone is asked.
    carol, carol_headers = await client_of(office, "admin")
    dial = await carol.post("/calls/dial", json={"destination": "204"}, headers=carol_headers)
    assert dial.status_code == 200
    assert dial.json()["message"] == "Calling Dave Davis (204): your phone 203 rings first."
    await wait_for(lambda: "originate" in ami_seen[before:])
    assert len(phones.requests) == 2


async def test_wrong_password_is_said_clearly_and_nothing_is_dialled(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    for profile, ext, target in (("supervisor", "201", "202"), ("user", "202", "201")):
        client, headers = await client_of(office, profile)
        assert (await automatic(client, headers, ext, "wrong-one")).status_code == 200
        before = len(ami_seen)
        dial = await client.post("/calls/dial", json={"destination": target}, headers=headers)
        assert dial.status_code == 400
        assert dial.json()["message"].startswith(
            f"Your phone {ext} refused the web user and password of My settings: nothing was "
            "dialled."
        )
        assert "originate" not in ami_seen[before:]
    assert phones.dialled == []
    assert [r.status for r in phones.requests] == [401, 401, 401, 401]
    assert office.pbx.channels_of("201") == [] and office.pbx.channels_of("202") == []


async def test_hostile_destinations_never_reach_the_phone(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    alice, headers = await client_of(office, "supervisor")
    assert (await automatic(alice, headers, "201")).status_code == 200
    before = len(ami_seen)
    for hostile in (
        "202&key=OK",
        "202;ENTER",
        "../../servlet?key=F1",
        "202%26x",
        "202\r\nX: y",
        "202 #key=SPEAKER",
        "number=202",
        "+39 06 <b>",
        "*43/../x",
    ):
        dial = await alice.post("/calls/dial", json={"destination": hostile}, headers=headers)
        assert dial.status_code in (400, 404), hostile
        assert dial.json()["message"], hostile
    assert phones.requests == [] and phones.dialled == []
    assert "originate" not in ami_seen[before:]


async def test_unsupported_phone_refuses_automatic_and_falls_back_with_a_note(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    carol, headers = await client_of(office, "admin")
    page = (await carol.get("/settings")).text
    assert 'value="automatic" disabled' in page and 'id="automatic-needs"' in page
    refused = await automatic(carol, headers, "203")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "Automatic click-to-call needs a Yealink or Snom phone the PBX can reach: 203 is not one."
    )
    assert await office.app.store.get_setting("carol", "settings.click_to_call") is None
    # Saved while the phone was a Yealink, then swapped for a Fanvil: the call still goes
    # out the manual way, and says why.
    await office.app.store.set_setting("carol", "settings.click_to_call", "automatic")
    await office.app.store.set_setting("carol", "settings.phone_user", PHONE_USER)
    await office.app.store.set_setting("carol", "settings.phone_password", PHONE_PW)
    dial = await carol.post("/calls/dial", json={"destination": "201"}, headers=headers)
    assert dial.status_code == 200
    assert dial.json()["message"] == (
        "Calling Alice Anders (201): your phone 203 rings first. (Automatic click-to-call "
        "needs a Yealink or Snom phone; 203 is a Fanvil X6U 2.12.20.2: it rings first.)"
    )
    await wait_for(lambda: "originate" in ami_seen)
    assert phones.requests == []


async def test_test_echo_ok_refused_untrusted_and_unreachable(
    c2c: tuple[WebOffice, DeskPhones],
) -> None:
    office, phones = c2c
    alice, headers = await client_of(office, "supervisor")
    url = "/api/settings/test-echo"
    ok = await alice.post(
        url, json={"phone_user": PHONE_USER, "phone_password": PHONE_PW}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True and ok.json()["echo_test"] == "*43"
    assert ok.json()["message"] == (
        "Your phone 201 took the order: it is calling the echo test (*43) now."
    )
    assert phones.dialled == [("201", "*43")]
    assert phones.requests[-1].target == "/201/servlet?key=number=*43"
    # The demo PBX runs FreePBX's echo test: answered, the caller hears himself in Echo().
    await wait_for(lambda: [ch.app for ch in office.pbx.channels_of("201")] == ["Echo"])
    office.pbx.hangup("201")
    await wait_for(lambda: not office.pbx.channels_of("201"))
    bad = await alice.post(
        url, json={"phone_user": PHONE_USER, "phone_password": "nope"}, headers=headers
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "calls.phone.credentials"
    assert "refused the web user and password" in bad.json()["message"]
    phones.logins["201"] = PhoneLogin(PHONE_USER, PHONE_PW, trusted=False)
    untrusted = await alice.post(
        url, json={"phone_user": PHONE_USER, "phone_password": PHONE_PW}, headers=headers
    )
    assert untrusted.status_code == 400 and untrusted.json()["error"] == "calls.phone.forbidden"
    assert "trusted list" in untrusted.json()["message"]
    assert phones.dialled == [("201", "*43")]
    # Snom Digest through the page's button: the form's credentials, a flash message.
    bob = await office.logged_in("user")
    token = csrf_of((await bob.get("/settings")).text)
    form = {"csrf_token": token, "phone_user": PHONE_USER, "phone_password": PHONE_PW}
    done = await bob.post("/settings/test-echo", data=form)
    assert done.status_code == 302
    page = (await bob.get("/settings")).text
    assert "Your phone 202 took the order: it is calling the echo test (*43) now." in page
    assert phones.dialled[-1] == ("202", "*43")


async def test_unreachable_phone_is_said_and_nothing_is_dialled(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    dave = office.client()  # Dave (LDAP): his phone 204 is where nothing listens
    assert (await office.login(dave, "dave", "dave-ldap-pw")).status_code == 302
    headers = {"X-CSRF-Token": csrf_of((await dave.get("/settings")).text)}
    assert (await automatic(dave, headers, "204")).status_code == 200
    before = len(ami_seen)
    dial = await dave.post("/calls/dial", json={"destination": "201"}, headers=headers)
    assert dial.status_code == 503
    assert dial.json()["message"] == (
        "ctibot cannot reach your phone 204 over the network: nothing was dialled."
    )
    echo = await dave.post("/api/settings/test-echo", json={}, headers=headers)
    assert echo.status_code == 503 and echo.json()["error"] == "calls.phone.unreachable"
    assert "originate" not in ami_seen[before:]
    assert phones.requests == [] and office.pbx.channels_of("204") == []


async def test_the_phone_password_never_comes_back_nor_reaches_the_logs(
    c2c: tuple[WebOffice, DeskPhones], caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging(verbose=True)  # ctibot -v: everything at debug level
    caplog.set_level(logging.DEBUG)
    office, phones = c2c
    alice, headers = await client_of(office, "supervisor")
    assert (await automatic(alice, headers, "201")).status_code == 200
    mine = await alice.get("/api/settings")
    assert mine.json()["phone_user"] == PHONE_USER and mine.json()["phone_password_set"] is True
    assert PHONE_PW not in mine.text
    page = (await alice.get("/settings")).text
    assert PHONE_PW not in page and 'value="admin"' in page
    assert "saved (leave empty to keep it)" in page
    # an empty password keeps the stored one: the next call still logs in
    data = {
        "default_extension": "201",
        "click_to_call": "automatic",
        "phone_user": PHONE_USER,
        "phone_password": "",
    }
    assert (await alice.post("/settings", json=data, headers=headers)).status_code == 200
    dial = await alice.post("/api/calls/dial", json={"destination": "carol"}, headers=headers)
    assert dial.status_code == 200 and phones.dialled == [("201", "203")]
    assert dial.json() == {
        "extension": "201",
        "destination": "203",
        "name": "Carol Clark",
        "via": "phone",
        "message": "Calling Carol Clark (203): your phone 201 dials it now.",
    }
    echo = await alice.post("/api/settings/test-echo", json={}, headers=headers)
    assert echo.status_code == 200 and PHONE_PW not in echo.text
    api = await alice.get("/openapi.json")
    assert PHONE_PW not in api.text
    assert PHONE_PW not in caplog.text
    assert all(PHONE_PW not in str(r.args) for r in caplog.records)
    # emptying the user forgets both
    data["phone_user"] = ""
    assert (await alice.post("/settings", json=data, headers=headers)).status_code == 200
    assert await office.app.store.get_setting("alice", "settings.phone_password") is None
    assert (await alice.get("/api/settings")).json()["phone_password_set"] is False


async def test_permissions_my_settings_and_call_on_web_api_and_chat(
    c2c: tuple[WebOffice, DeskPhones], ami_seen: list[str]
) -> None:
    office, phones = c2c
    bob, headers = await client_of(office, "user")
    assert (await automatic(bob, headers, "202")).status_code == 200
    profiles: dict[str, Any] = office.app.config.profiles
    full = profiles["user"]
    profiles["user"] = frozenset(full - {"my_settings"})
    echo = await bob.post("/api/settings/test-echo", json={}, headers=headers)
    assert echo.status_code == 403
    form = await bob.post("/settings/test-echo", json={}, headers=headers)
    assert form.status_code == 403
    profiles["user"] = frozenset(full - {"call"})
    dial = await bob.post("/calls/dial", json={"destination": "201"}, headers=headers)
    assert dial.status_code == 403
    user = office.app.config.user_by_name("bob")
    reply = await dispatch(office.app.services, user, "call alice")
    assert "not allowed" in str(reply)
    echo = await bob.post("/api/settings/test-echo", json={}, headers=headers)
    assert echo.status_code == 403  # the echo test is a call too
    assert phones.requests == [] and "originate" not in ami_seen
    anonymous = office.client()
    assert (await anonymous.post("/api/settings/test-echo", json={})).status_code == 401


async def test_the_demo_phones_take_automatic_click_to_call(tmp_path: Path) -> None:
    """`ctibot demo`: the printed phone login works; Alice's Yealink dials Bob by itself."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctibot",
        "demo",
        "--no-xmpp",
        "--no-traffic",
        "--ami-port",
        "0",
        "--web-port",
        "0",
        "--duration",
        "60",
        "--state-dir",
        str(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    text = ""
    try:
        async with asyncio.timeout(30):
            while "Ctrl-C stops" not in text:
                line = await proc.stdout.readline()
                assert line, text
                text += line.decode()
        url = re.search(r"Web panel +(http://127\.0\.0\.1:\d+)/", text)
        login = re.search(r'Desk phones .*web user "(\w+)", password "(\w+)"', text)
        assert url and login, text
        async with httpx.AsyncClient(base_url=url.group(1), trust_env=False, timeout=10) as c:
            page = await c.get("/login")
            await c.post(
                "/login",
                data={"name": "alice", "password": "alice-demo", "csrf_token": csrf_of(page.text)},
            )
            headers = {"X-CSRF-Token": csrf_of((await c.get("/settings")).text)}
            data = {
                "default_extension": "201",
                "click_to_call": "automatic",
                "phone_user": login.group(1),
                "phone_password": login.group(2),
            }
            saved = await c.post("/settings", json=data, headers=headers)
            assert saved.status_code == 200, saved.text
            echo = await c.post("/api/settings/test-echo", json={}, headers=headers)
            assert echo.status_code == 200, echo.text
            dial = await c.post("/calls/dial", json={"destination": "bob"}, headers=headers)
            assert dial.status_code == 200, dial.text
            assert dial.json()["message"] == (
                "Calling Bob Brown (202): your phone 201 dials it now."
            )
            async with asyncio.timeout(10):
                while True:
                    mine = (await c.get("/api/calls/mine")).json()["calls"]
                    if any(call["party"] == "202" for call in mine):
                        break
                    await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)


def test_the_phone_address_and_dial_url_let_nothing_through() -> None:
    assert host_of_contact("sip:201@192.168.1.20:5062;transport=udp") == "192.168.1.20"
    assert host_of_contact("sips:201@[fd00::5]:5061") == "[fd00::5]"
    assert host_of_contact("sip:201@phone-201.office.lan") == "phone-201.office.lan"
    for bad in (
        "sip:201@evil.com/../x",
        "sip:201@0.0.0.0:5060",
        "http://x",
        "",
        "sip:201@a b",
        "sip:201@%2e%2e",
        "sip:201@[::]:5060",
    ):
        assert host_of_contact(bad) is None, bad
    assert dial_url("http://10.0.0.9", "yealink", "0612#") == (
        "http://10.0.0.9/servlet?key=number=0612%23"
    )
    assert dial_url("http://10.0.0.9/", "yealink", "*43", "cgi-bin") == (
        "http://10.0.0.9/cgi-bin/ConfigManApp.com?key=number=*43"
    )
    assert dial_url("https://10.0.0.9:8443", "snom", "201") == (
        "https://10.0.0.9:8443/command.htm?number=201"
    )
    for bad in ("202&key=OK", "202;ENTER", "", "+39", "1" * 33, "２０２"):
        with pytest.raises(ValueError):
            dial_url("http://10.0.0.9", "snom", bad)
    with pytest.raises(ValueError):
        dial_url("http://10.0.0.9", "fanvil", "201")
    assert brand_of("Yealink SIP-T54W 96.86.0.100") == "yealink"
    assert brand_of("snom D785 10.1.159.12") == "snom"
    assert brand_of("Grandstream GXP2170 1.0.11.64") is None and brand_of(None) is None
    assert check_overrides({"201": "http://127.0.0.1:8080/201"})
    for bad in ("ftp://x", "http://x/?key=OK", "http://u:p@x", "http://x/ y", "http://", 5):
        assert not check_overrides({"201": bad}), bad


async def test_a_bad_phone_urls_table_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "ctibot.toml"
    path.write_text(
        '[pbx]\nsecret = "x"\n\n[[users]]\nname = "alice"\nfullname = "Alice"\n'
        'extensions = ["201"]\n\n[plugins.calls]\nphone_urls = { "201" = "ftp://x" }\n'
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctibot",
        "check-config",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert "[plugins.calls].phone_urls" in out.decode(), out.decode()


async def test_in_the_browser_test_echo_then_automatic_dial_from_the_box(
    c2c: tuple[WebOffice, DeskPhones], browser: Any, ami_seen: list[str]
) -> None:
    office, phones = c2c
    page = await open_panel(office, browser, "/settings", profile="supervisor")
    assert await page.input_value("#phone-password") == ""
    await page.fill("#phone-user", PHONE_USER)
    await page.fill("#phone-password", PHONE_PW)
    async with page.expect_navigation():
        await page.click("#settings-test-echo")
    await page.wait_for_selector(".flash:has-text('calling the echo test (*43)')")
    assert phones.dialled == [("201", "*43")]
    await wait_for(lambda: not office.pbx.channels_of("201"))
    await page.fill("#phone-user", PHONE_USER)
    await page.fill("#phone-password", PHONE_PW)
    await page.check("input[name='click_to_call'][value='automatic']")
    async with page.expect_navigation():
        await page.click("#settings-save")
    await page.wait_for_selector(".flash:text-is('Your settings are saved.')")
    assert PHONE_PW not in await page.content()
    before = len(ami_seen)
    await page.fill("#dialbox input[name='destination']", "202")
    await page.press("#dialbox input[name='destination']", "Enter")
    await page.wait_for_selector("text=your phone 201 dials it now")
    assert phones.dialled[-1] == ("201", "202")
    await wait_for(lambda: call_between(office, "201", "202"))
    assert "originate" not in ami_seen[before:]
    assert page.outside == [] and page.dialogs == []


async def test_older_yealink_firmware_path_and_an_italian_answer(
    tmp_path: Path, slapd: Slapd
) -> None:
    async with DeskPhones(pbx=None, username=PHONE_USER, password=PHONE_PW) as phones:
        table = {"calls": {"phone_urls": {"201": phones.url_of("201")}, "yealink_path": "cgi-bin"}}
        async with running_office(tmp_path, slapd, plugins=PluginsConfig(settings=table)) as o:
            phones.pbx = o.pbx
            o.pbx.phone("201").user_agent = YEALINK
            alice, headers = await client_of(o, "supervisor")
            assert (await automatic(alice, headers, "201", "sbagliata")).status_code == 200
            italian = {**headers, "Accept-Language": "it-IT,it;q=0.9"}
            dial = await alice.post("/calls/dial", json={"destination": "202"}, headers=italian)
            assert dial.status_code == 400
            assert dial.json()["message"].startswith(
                "Il tuo telefono 201 ha rifiutato utente e password web delle Impostazioni: non è "
                "stato composto nulla."
            )
            assert (await automatic(alice, headers, "201")).status_code == 200
            dial = await alice.post("/calls/dial", json={"destination": "202"}, headers=italian)
            assert dial.json()["message"] == (
                "Chiamo Bob Brown (202): il tuo telefono 201 compone ora."
            )
            assert phones.requests[-1].target == "/201/cgi-bin/ConfigManApp.com?key=number=202"
            assert phones.dialled == [("201", "202")]
