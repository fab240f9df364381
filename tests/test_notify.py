"""Offline notices (F13, F28) against a real SMTP server (aiosmtpd) and the SMS gateway stand-in.

ctibot runs on the demo PBX with the panel; mail goes to aiosmtpd on 127.0.0.1, SMS
to the HTTP gateway of tests/sms_gateway.py. A user is online when a panel websocket
of theirs is open (test_notify_xmpp.py: a resource on a real Prosody).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, AuthResult
from sms_gateway import FakeGateway, closed_port

from ctibot.app import CtiApp
from ctibot.config import PluginsConfig, WebConfig
from ctibot.demo.office import Office
from ctibot.demo.server import DemoPbx
from ctibot.http.auth import UsersFile
from ctibot.plugins.notify.mail import MailError, MailSettings, build_message, one_line
from ctibot.plugins.notify.services import Notice

from web_fixtures import (
    SCALE,
    SECRET_KEY,
    WebOffice,
    WsClient,
    csrf_of,
    make_tls,
    wait_for,
    web_config,
    write_users_file,
)

PUBLIC_URL = "http://cti.example.com/"  # https: Secure cookies, not sent here
SENDER = "ctibot@example.com"
SMTP_USER = "ctibot-mailer"
SMTP_PASSWORD = "s3cret-smtp-pw-for-tests"
DAVE_PASSWORD = "dave-local-pw"  # Dave has no e-mail address and no mobile


# -- a real SMTP server ----------------------------------------------------------------------


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    authenticated: bool


@dataclass
class SmtpServer:
    """aiosmtpd's SMTP protocol on 127.0.0.1, port 0, in the test's loop."""

    mails: list[Mail] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.mails.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), message, bool(session.authenticated))
        )
        return "250 OK"

    async def start(self, **smtp: Any) -> SmtpServer:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self, hostname="mail.test", **smtp), "127.0.0.1", 0
        )
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway(behaviour=("answer", 200, b"OK")).start()
    try:
        yield gw
    finally:
        await gw.stop()


# -- ctibot with the panel, the spool, mail and SMS -------------------------------------------


def plugins(spool: Path, gw: FakeGateway, **notify: Any) -> PluginsConfig:
    return PluginsConfig(
        settings={
            "voicemail": {"spool": str(spool)},
            "sms": {
                "url": f"{gw.url}/send",
                "body": '{"to": "{number}", "message": "{text}"}',
                "content_type": "application/json",
                "success_status": [200],
                "timeout": 2.0,
                "connect_retries": 0,
            },
            "notify": {"coalesce": 0.3, "security": "none", "sender": SENDER, **notify},
        }
    )


@contextlib.asynccontextmanager
async def notify_office(folder: Path, gw: FakeGateway, **notify: Any) -> AsyncIterator[WebOffice]:
    spool = folder / "spool"
    async with DemoPbx(Office(voicemail_spool=str(spool)), time_scale=SCALE) as pbx:
        config = web_config(
            pbx,
            folder,
            None,
            plugins=plugins(spool, gw, **notify),
            web=WebConfig("127.0.0.1:0", SECRET_KEY, PUBLIC_URL),
        )
        write_users_file(Path(config.auth.users_file))
        UsersFile(Path(config.auth.users_file)).set_password("dave", DAVE_PASSWORD)
        app = CtiApp(config)
        await app.start()
        office = WebOffice(app, pbx, config, Path(config.auth.users_file))
        try:
            await app.ami.wait_ready(5)
            assert "notify" in app.services, "the notify plugin did not load"
            yield office
        finally:
            for client in office.clients:
                await client.aclose()
            await office.app.stop()


@pytest.fixture
async def office(
    tmp_path: Path, smtp: SmtpServer, gateway: FakeGateway
) -> AsyncIterator[WebOffice]:
    async with notify_office(tmp_path, gateway, smtp_host="127.0.0.1", smtp_port=smtp.port) as o:
        yield o


def user(office: WebOffice, name: str) -> Any:
    return office.config.user_by_name(name)


_CLIENTS: dict[tuple[int, str], httpx.AsyncClient] = {}


async def client_of(office: WebOffice, profile: str) -> httpx.AsyncClient:
    """One logged-in client per person and office (logins are rate-limited)."""
    key = (id(office.app), profile)
    if key not in _CLIENTS or _CLIENTS[key].is_closed:
        _CLIENTS[key] = await office.logged_in(profile)
    return _CLIENTS[key]


async def opt_in(office: WebOffice, profile: str, *notices: str) -> httpx.Response:
    """Save the notices on the settings page's API, as the user does."""
    client = await client_of(office, profile)
    token = csrf_of((await client.get("/settings")).text)
    return await client.post(
        "/settings", json={"notices": list(notices)}, headers={"X-CSRF-Token": token}
    )


async def leave_postit(office: WebOffice, to: str, text: str) -> int:
    """Carol leaves a post-it through the panel's API."""
    carol = await client_of(office, "admin")
    token = csrf_of((await carol.get("/postits")).text)
    resp = await carol.post(
        "/api/postits", json={"to": to, "text": text}, headers={"X-CSRF-Token": token}
    )
    assert resp.status_code == 200, resp.text
    return int(resp.json()["postit"]["id"])


async def status_of(office: WebOffice, name: str, ref: str, *wanted: str) -> tuple[str, str]:
    """Wait until the notice's row reaches one of ``wanted`` (a fact, bounded)."""
    service = office.app.services["notify"]
    found: list[Any] = [None]

    async def check() -> bool:
        found[0] = await service.status(name, ref)
        return found[0] is not None and found[0][0] in wanted

    async with asyncio.timeout(10):
        while not await check():
            await asyncio.sleep(0.02)
    return found[0]


# -- the cases -------------------------------------------------------------------------------


async def test_an_offline_user_gets_one_mail_for_a_postit(
    office: WebOffice, smtp: SmtpServer
) -> None:
    assert (await opt_in(office, "user", "postit_email")).status_code == 200
    number = await leave_postit(office, "bob", "Call the bank back\nabout the loan")
    await wait_for(lambda: len(smtp.mails) == 1)
    (mail,) = smtp.mails
    assert mail.mail_from == SENDER and mail.rcpt_tos == ["bob@example.com"]
    msg = mail.message
    assert msg["From"] == SENDER and msg["To"] == "bob@example.com"
    assert msg["Subject"] == "New post-it from Carol Clark"
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_content()
    assert body.startswith("Hello Bob Brown,")
    assert "Call the bank back" in body and "about the loan" in body
    assert "Your post-its: http://cti.example.com/postits" in body
    assert await status_of(office, "bob", f"postit:{number}", "sent") == ("sent", "email")
    # the same post-it seen again (a resync, a second event) is not sent again
    service = office.app.services["notify"]
    notice = Notice("postit", f"postit:{number}", "Carol Clark", 0.0, text="again")
    assert await service.notice(user(office, "bob"), notice) == 0
    # the post-it is in Bob's list as ever
    bob = await client_of(office, "user")
    assert [p["id"] for p in (await bob.get("/api/postits")).json()["postits"]] == [number]
    assert len(smtp.mails) == 1


async def test_a_user_with_the_panel_open_gets_no_mail(office: WebOffice, smtp: SmtpServer) -> None:
    await opt_in(office, "user", "postit_email", "postit_sms")
    bob = await client_of(office, "user")
    ws = await WsClient.connect(office.url, bob.cookies)
    try:
        await wait_for(lambda: office.web.hub.connected(user(office, "bob")))
        number = await leave_postit(office, "bob", "you are here anyway")
        assert await status_of(office, "bob", f"postit:{number}", "skipped", "sent") == (
            "skipped",
            "online",
        )
    finally:
        await ws.close()
    await wait_for(lambda: not office.web.hub.connected(user(office, "bob")))
    # the panel closed: Bob is away now, and the next post-it reaches him
    number = await leave_postit(office, "bob", "now you are away")
    assert (await status_of(office, "bob", f"postit:{number}", "sent"))[0] == "sent"
    assert [m.message["Subject"] for m in smtp.mails] == ["New post-it from Carol Clark"]
    assert "now you are away" in smtp.mails[0].message.get_content()


async def test_a_user_who_did_not_opt_in_gets_nothing(
    office: WebOffice, smtp: SmtpServer, gateway: FakeGateway
) -> None:
    await opt_in(office, "user", "voicemail_email")  # voicemails only, not post-its
    number = await leave_postit(office, "bob", "no notice for this")
    assert await status_of(office, "bob", f"postit:{number}", "skipped", "sent") == (
        "skipped",
        "not wanted",
    )
    assert smtp.mails == [] and gateway.requests == []


async def test_no_endpoint_the_setting_is_refused_and_nothing_goes_out(
    office: WebOffice, smtp: SmtpServer, gateway: FakeGateway
) -> None:
    service = office.app.services["settings"]
    store = office.app.store
    from ctibot.plugin import BadArgument, translate

    for kind, key in (("postit_email", "no_email"), ("voicemail_sms", "no_mobile")):
        with pytest.raises(BadArgument) as refused:
            await service.save(user(office, "dave"), {"notices": [kind]})
        assert refused.value.key == f"settings.error.{key}"
        assert "Nothing was saved" in translate(refused.value.key, "en")
        assert "Non è stato salvato nulla" in translate(refused.value.key, "it")
    assert await store.get_setting("dave", "settings.notices") is None
    # Bob has both: the same save goes through; the page shows Dave's boxes disabled
    await service.save(user(office, "bob"), {"notices": ["postit_email", "voicemail_sms"]})
    shown = await service.get(user(office, "dave"))
    assert shown["notice_endpoints"] == {"email": False, "sms": False}
    # a notice for Dave (whose stored choice predates the check) still goes nowhere
    await store.set_setting("dave", "settings.notices", ["postit_email", "postit_sms"])
    number = await leave_postit(office, "dave", "nobody can tell Dave")
    assert (await status_of(office, "dave", f"postit:{number}", "skipped", "sent"))[0] == "skipped"
    assert smtp.mails == [] and gateway.requests == []


async def test_the_settings_page_refuses_and_disables_without_an_endpoint(
    office: WebOffice,
) -> None:
    bob = await client_of(office, "user")
    page = (await bob.get("/settings")).text
    assert 'value="postit_email">' in page and 'value="voicemail_sms">' in page
    dave = office.client()
    assert (await office.login(dave, "dave", DAVE_PASSWORD)).status_code == 302
    page = (await dave.get("/settings")).text
    for kind in ("postit_email", "postit_sms", "voicemail_email", "voicemail_sms"):
        assert f'value="{kind}" disabled>' in page
    assert "no e-mail address of yours is configured" in page
    assert "no mobile number of yours is configured" in page
    token = csrf_of(page)
    resp = await dave.post(
        "/settings", json={"notices": ["postit_email"]}, headers={"X-CSRF-Token": token}
    )
    assert resp.status_code == 400
    assert "E-mail notices need your e-mail address" in resp.json()["message"]
    form = await dave.post("/settings", data={"notices": "voicemail_sms", "csrf_token": token})
    assert form.status_code == 302
    assert "SMS notices need your mobile number" in (await dave.get("/settings")).text
    assert await office.app.store.get_setting("dave", "settings.notices") is None


async def test_voicemail_reaches_the_away_user_by_mail_and_sms_once(
    office: WebOffice, smtp: SmtpServer, gateway: FakeGateway
) -> None:
    await opt_in(office, "user", "voicemail_email", "voicemail_sms")
    office.pbx.leave_voicemail("202", '"Mario <b>Rossi</b>" <0699887766>', 3)
    office.pbx.leave_voicemail("202", '"Supplier" <0612345678>', 2)
    await wait_for(lambda: len(smtp.mails) >= 1 and len(gateway.requests) >= 1)
    # the burst was gathered into one mail and one SMS
    (mail,) = smtp.mails
    assert mail.rcpt_tos == ["bob@example.com"]
    assert mail.message["Subject"] == "2 new voicemails"
    body = mail.message.get_content()
    assert "Voicemail from Mario <b>Rossi</b> (0699887766) in box 202" in body
    assert "Voicemail from Supplier (0612345678) in box 202" in body
    assert "Listen to your voicemail: http://cti.example.com/voicemail" in body
    (sms,) = gateway.requests
    sent = json.loads(sms.body)
    assert sent["to"] == "+39333000202"
    assert "2 new post-its and voicemails" in sent["message"]
    assert "http://cti.example.com/voicemail" in sent["message"]
    # a resync of the PBX (every MessageWaiting again) sends nothing twice
    service = office.app.services["notify"]
    assert await service.voicemail_changed("202") == 0
    # nor does a restart of ctibot on the same database
    await office.app.stop()
    office.app = CtiApp(office.config)
    await office.app.start()
    await office.app.ami.wait_ready(5)
    assert await office.app.services["notify"].voicemail_changed("202") == 0
    office.pbx.leave_voicemail("202", '"Third" <0633333333>', 1)
    await wait_for(lambda: len(smtp.mails) == 2)
    assert smtp.mails[1].message["Subject"] == "New voicemail from Third (0633333333)"
    await wait_for(lambda: len(gateway.requests) == 2)
    assert "Third" in json.loads(gateway.requests[1].body)["message"]


async def test_a_hostile_caller_name_cannot_add_headers(
    office: WebOffice, smtp: SmtpServer
) -> None:
    await opt_in(office, "user", "voicemail_email")
    service = office.app.services["notify"]
    hostile = "Evil\r\nBcc: mallory@evil.example\r\nSubject: pwned"
    notice = Notice("voicemail", "voicemail:202/msg9999|1", hostile, 1.0, box="202", duration=1)
    assert await service.notice(user(office, "bob"), notice) == 1
    await wait_for(lambda: len(smtp.mails) == 1)
    (mail,) = smtp.mails
    assert mail.rcpt_tos == ["bob@example.com"]
    msg = mail.message
    assert msg["Bcc"] is None and len(msg.get_all("Subject")) == 1
    assert msg["Subject"] == "New voicemail from Evil Bcc: mallory@evil.example Subject: pwned"
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    # and straight from the builder: one line whatever comes in, no address but ours
    settings = MailSettings("127.0.0.1", 25, "none", "", "", SENDER)
    built = build_message(settings, "bob@example.com", "a\nTo: x@y.example", "body")
    assert built.get_all("To") == ["bob@example.com"] and one_line("a\r\nb\x00c") == "a b c"
    with pytest.raises(MailError):
        build_message(settings, "bob@example.com>\r\nRCPT TO:<x@y.example", "s", "b")


async def test_smtp_down_is_logged_once_and_the_postit_is_kept(
    tmp_path: Path, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ctibot.plugins.notify")
    port = closed_port()
    async with notify_office(
        tmp_path,
        gateway,
        smtp_host="127.0.0.1",
        smtp_port=port,
        password=SMTP_PASSWORD,
        username=SMTP_USER,
    ) as office:
        await opt_in(office, "user", "postit_email")
        first = await leave_postit(office, "bob", "while the mail server is down")
        assert (await status_of(office, "bob", f"postit:{first}", "failed", "sent"))[0] == "failed"
        second = await leave_postit(office, "bob", "still down")
        assert (await status_of(office, "bob", f"postit:{second}", "failed", "sent"))[0] == (
            "failed"
        )
        bob = await client_of(office, "user")
        kept = [p["text"] for p in (await bob.get("/api/postits")).json()["postits"]]
        assert kept == ["still down", "while the mail server is down"]
    warnings = [
        r
        for r in caplog.records
        if r.name == "ctibot.plugins.notify" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert f"127.0.0.1:{port}" in warnings[0].getMessage()
    assert SMTP_PASSWORD not in caplog.text


async def test_starttls_and_auth_against_a_server_with_its_own_ca(
    tmp_path: Path, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    import ssl

    caplog.set_level(logging.DEBUG)
    (tmp_path / "tls").mkdir()
    ca, cert, key = make_tls(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = await SmtpServer().start(
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    try:
        async with notify_office(
            tmp_path,
            gateway,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            security="starttls",
            username=SMTP_USER,
            password=SMTP_PASSWORD,
            ca_file=str(ca),
        ) as office:
            await opt_in(office, "user", "postit_email")
            number = await leave_postit(office, "bob", "over TLS")
            assert (await status_of(office, "bob", f"postit:{number}", "sent", "failed"))[0] == (
                "sent"
            )
            (mail,) = server.mails
            assert mail.authenticated and mail.rcpt_tos == ["bob@example.com"]
            # without the CA the certificate is not trusted: nothing is sent
            settings = MailSettings(
                "127.0.0.1", server.port, "starttls", SMTP_USER, SMTP_PASSWORD, SENDER, timeout=5
            )
            from ctibot.plugins.notify.mail import send_mail

            with pytest.raises(MailError, match="TLS"):
                await send_mail(settings, build_message(settings, "bob@example.com", "s", "b"))
            # a wrong password is refused
            wrong = replace(settings, ca_file=str(ca), password="wrong")
            with pytest.raises(MailError, match="AUTH"):
                await send_mail(wrong, build_message(wrong, "bob@example.com", "s", "b"))
            assert SMTP_PASSWORD not in repr(settings)
    finally:
        await server.stop()
    assert len(server.mails) == 1
    assert SMTP_PASSWORD not in caplog.text


async def test_a_burst_is_bounded_per_hour(
    tmp_path: Path, smtp: SmtpServer, gateway: FakeGateway
) -> None:
    async with notify_office(
        tmp_path, gateway, smtp_host="127.0.0.1", smtp_port=smtp.port, per_hour=1, coalesce=0
    ) as office:
        await opt_in(office, "user", "postit_email")
        first = await leave_postit(office, "bob", "one")
        assert (await status_of(office, "bob", f"postit:{first}", "sent"))[0] == "sent"
        second = await leave_postit(office, "bob", "two")
        assert await status_of(office, "bob", f"postit:{second}", "skipped", "sent") == (
            "skipped",
            "rate",
        )
        assert len(smtp.mails) == 1


async def test_mail_in_italian_for_an_italian_user(
    tmp_path: Path, smtp: SmtpServer, gateway: FakeGateway
) -> None:
    async with notify_office(tmp_path, gateway, smtp_host="127.0.0.1", smtp_port=smtp.port) as o:
        bob = replace(user(o, "bob"), language="it")
        service = o.app.services["notify"]
        await o.app.store.set_setting("bob", "settings.notices", ["postit_email"])
        notice = Notice("postit", "postit:999", "Carol Clark", 1.0, text="ciao")
        assert await service.notice(bob, notice) == 1
        await wait_for(lambda: len(smtp.mails) == 1)
        msg = smtp.mails[0].message
        assert msg["Subject"] == "Nuovo post-it da Carol Clark"
        assert msg.get_content().startswith("Ciao Bob Brown,")
        assert "I tuoi post-it: http://cti.example.com/postits" in msg.get_content()
