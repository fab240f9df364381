"""SMS (F10), the service layer against a real HTTP server on 127.0.0.1 standing in for the gateway.

Success, an error status, a garbage answer, a gateway that hangs and one that is
down; numbers refused before any request; GSM-7 / UCS-2 parts; the history.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sms_gateway import FakeGateway, closed_port

from ctibot.config import Config, PbxConfig, UserConfig
from ctibot.i18n import add_messages
from ctibot.plugin import BadArgument, PermissionDenied, PluginContext, VirtualMessage
from ctibot.plugins.sms import plugin
from ctibot.plugins.sms.numbers import NumberError, NumberPlan, segments
from ctibot.plugins.sms.services import SmsNotSent, SmsService
from ctibot.plugins.sms.xmpp import SmsChat
from ctibot.store import Store

DOMAIN = "cti.example.test"
ALICE = UserConfig("alice", "Alice Anders", ("201",), jid="alice@example.test")
BOB = UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.test", language="it")
GUEST = UserConfig("guest", "Guest", ("299",), jid="guest@example.test", profile="guest")

add_messages("sms", plugin.messages)


def make_config() -> Config:
    return Config(
        path=Path("<test>"),
        pbx=PbxConfig(secret="x"),
        users=(ALICE, BOB, GUEST),
        profiles={"user": frozenset({"sms"}), "guest": frozenset()},
    )


@dataclass
class Sent:
    user: str
    body: str
    frm: str | None


@dataclass
class Hooks:
    """The XMPP hooks as a recorder (the end-to-end story through Prosody is test_sms_xmpp)."""

    domain: str = DOMAIN
    sent: list[Sent] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    handlers: list[Callable[..., Any]] = field(default_factory=list)
    iq: dict[str, Callable[..., Any]] = field(default_factory=dict)
    claims: list[Callable[[str], bool]] = field(default_factory=list)
    contacts: tuple[str, ...] = ("alice", "bob", "201", "202")
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def jid_of(self, local: str) -> str:
        return f"{local}@{self.domain}"

    def is_contact(self, local: str) -> bool:
        return local in self.contacts

    def send_chat(self, user: UserConfig, body: str, *, frm: str | None = None, **_: Any) -> str:
        self.sent.append(Sent(user.name, body, frm))
        self.changed.set()
        return f"m{len(self.sent)}"

    def send_receipt(self, message: VirtualMessage) -> None:
        if message.receipt_requested and message.id:
            self.receipts.append(message.id)
            self.changed.set()

    def on_message(self, handler: Callable[..., Any]) -> None:
        self.handlers.append(handler)

    def on_iq(self, namespace: str, handler: Callable[..., Any], **_: Any) -> None:
        self.iq[namespace] = handler

    def add_identity(self, *_: Any) -> None: ...

    def claim(self, predicate: Callable[[str], bool]) -> None:
        self.claims.append(predicate)

    async def until(self, check: Callable[[], bool], timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self.changed.clear()
                await self.changed.wait()


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    gw = await FakeGateway().start()
    yield gw
    await gw.stop()


@pytest_asyncio.fixture
async def store() -> AsyncIterator[Store]:
    st = await Store.open(":memory:")
    await st.migrate_plugin("sms", plugin.migrations)
    yield st
    await st.close()


def context(store: Store, settings: dict[str, Any], xmpp: Any = None) -> PluginContext:
    return PluginContext(
        name="sms",
        settings=plugin.parse_settings(settings),
        config=make_config(),
        store=store,
        bus=None,
        pbx=None,  # type: ignore[arg-type]
        ami=None,
        services={},
        clock=time.time,
        log=logging.getLogger("ctibot.plugins.sms"),
        xmpp=xmpp,
    )


def generic(gw_url: str, **more: Any) -> dict[str, Any]:
    return {
        "url": f"{gw_url}/send",
        "body": '{"to": "{number}", "message": "{text}", "login": "{user}"}',
        "content_type": "application/json",
        "user": "acme",
        "password": "s3cret",
        "success_status": [200],
        "success_pattern": r"^OK",
        "timeout": 2.0,
        **more,
    }


@pytest_asyncio.fixture
async def service(store: Store, gateway: FakeGateway) -> AsyncIterator[SmsService]:
    svc = SmsService(context(store, generic(gateway.url)))
    yield svc
    await svc.aclose()


# -- numbers and text --------------------------------------------------------------------------


def test_numbers_become_e164() -> None:
    plan = NumberPlan(country_code="39")
    assert plan.normalize("+393331234567") == "+393331234567"
    assert plan.normalize("00393331234567") == "+393331234567"
    assert plan.normalize("3331234567") == "+393331234567"
    assert plan.normalize("0612345678") == "+390612345678"
    assert plan.normalize("+39 333 123-45.67", lenient=True) == "+393331234567"
    assert NumberPlan(country_code="33", national_prefix="0").normalize("0612345678") == (
        "+33612345678"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "+39333abc4567",
        "3331234567\r\nX-Injected: 1",
        "333123\n4567",
        "333&to=+3999",
        "333/1234567",
        "333@1234567",
        "+39 333 1234567",  # strict: a JID's local part has no spaces
        "12345",  # too short
        "+1234567890123456",  # 16 digits: longer than E.164
        "",
        "+",
        "٣٣٣١٢٣٤٥٦٧",  # Arabic-Indic digits are digits to Python, not to a gateway
    ],
)
def test_numbers_refused(bad: str) -> None:
    with pytest.raises(NumberError) as caught:
        NumberPlan().normalize(bad)
    assert "\n" not in caught.value.shown and "\r" not in caught.value.shown


def test_parts_gsm7_and_ucs2() -> None:
    assert segments("a" * 160) == segments("a" * 160)
    assert (segments("a" * 160).encoding, segments("a" * 160).parts) == ("gsm7", 1)
    assert segments("a" * 161).parts == 2
    assert segments("a" * 306).parts == 2
    assert segments("a" * 307).parts == 3
    assert segments("€" * 80).units == 160 and segments("€" * 80).parts == 1  # 2 septets each
    assert segments("€" * 81).parts == 2
    assert segments("è" * 160).encoding == "gsm7"  # è is in the GSM default alphabet
    assert (segments("ò" * 70).encoding, segments("ò" * 70).parts) == ("gsm7", 1)
    assert (segments("ł" * 70).encoding, segments("ł" * 70).parts) == ("ucs2", 1)
    assert segments("ł" * 71).parts == 2
    assert segments("ł" * 134).parts == 2
    assert segments("ł" * 135).parts == 3
    assert segments("😀" * 35).units == 70 and segments("😀" * 35).parts == 1
    assert segments("😀" * 36).parts == 2


# -- sending ----------------------------------------------------------------------------------


async def test_sent_through_the_generic_gateway(
    service: SmsService, gateway: FakeGateway, store: Store
) -> None:
    gateway.behaviour = ("answer", 200, b"OK id=42")
    sent = await service.send(ALICE, "+39 333 1234567", 'Ciao "Bob" {x} & co')
    assert sent.record.status == "sent" and sent.segments.parts == 1
    [req] = gateway.requests
    assert req.method == "POST" and req.path == "/send"
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.body) == {
        "to": "+393331234567",
        "message": 'Ciao "Bob" {x} & co',
        "login": "acme",
    }
    [row] = await service.history_of(ALICE)
    assert (row.direction, row.number, row.status, row.http_status) == (
        "out",
        "+393331234567",
        "sent",
        200,
    )


async def test_error_status_is_not_sent(service: SmsService, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 500, b"OK but broken")
    with pytest.raises(SmsNotSent) as caught:
        await service.send(ALICE, "3331234567", "hello")
    assert caught.value.key == "sms.fail.http_status"
    assert caught.value.params["http_status"] == 500
    assert len(gateway.requests) == 1  # an answer came: never tried again
    [row] = await service.history_of(ALICE)
    assert row.status == "failed" and row.reason == "http_status"


async def test_garbage_answer_is_not_taken_for_success(
    service: SmsService, gateway: FakeGateway
) -> None:
    gateway.behaviour = ("answer", 200, b"<html>\x00\xff garbage</html>")
    with pytest.raises(SmsNotSent) as caught:
        await service.send(ALICE, "3331234567", "hello")
    assert caught.value.key == "sms.fail.not_accepted"
    assert len(gateway.requests) == 1
    [row] = await service.history_of(ALICE)
    assert row.status == "failed"


async def test_a_gateway_that_hangs_tells_the_user_in_time_and_never_sends_twice(
    store: Store, gateway: FakeGateway
) -> None:
    gateway.behaviour = ("hang",)
    svc = SmsService(context(store, generic(gateway.url, timeout=1.0, connect_retries=3)))
    started = time.monotonic()
    with pytest.raises(SmsNotSent) as caught:
        await svc.send(ALICE, "3331234567", "hello")
    elapsed = time.monotonic() - started
    assert caught.value.key == "sms.fail.timeout"
    assert 0.9 <= elapsed < 2.5  # one attempt, cut at the timeout
    assert len(gateway.requests) == 1
    [row] = await svc.history_of(ALICE)
    assert row.status == "unknown"
    await svc.aclose()


async def test_a_gateway_that_drops_the_connection_is_not_retried(
    service: SmsService, gateway: FakeGateway
) -> None:
    gateway.behaviour = ("close",)
    with pytest.raises(SmsNotSent) as caught:
        await service.send(ALICE, "3331234567", "hello")
    assert caught.value.key == "sms.fail.broken"
    assert len(gateway.requests) == 1


async def test_a_gateway_that_is_down(store: Store) -> None:
    port = closed_port()
    svc = SmsService(
        context(store, generic(f"http://127.0.0.1:{port}", connect_retries=2, timeout=3.0))
    )
    started = time.monotonic()
    with pytest.raises(SmsNotSent) as caught:
        await svc.send(ALICE, "3331234567", "hello")
    assert caught.value.key == "sms.fail.unreachable"
    assert time.monotonic() - started < 3.0
    [row] = await svc.history_of(ALICE)
    assert row.status == "failed" and row.reason == "unreachable"
    await svc.aclose()


async def test_down_then_up_sends_once_on_a_connect_retry(store: Store) -> None:
    """A refused connection is retried (nothing was sent): the gateway that comes up gets one."""
    gw = FakeGateway(behaviour=("answer", 200, b"OK"))
    port = closed_port()
    svc = SmsService(
        context(store, generic(f"http://127.0.0.1:{port}", connect_retries=5, timeout=5.0))
    )
    assert svc.gateway is not None
    svc.gateway.retry_delay = 0.1
    task = asyncio.create_task(svc.send(ALICE, "3331234567", "hello"))
    async with asyncio.timeout(3):
        while svc.gateway.connect_failures == 0:  # the first attempt is refused
            await asyncio.sleep(0.01)
    gw._server = await asyncio.start_server(gw._serve, "127.0.0.1", port)
    sent = await asyncio.wait_for(task, 5)
    assert sent.record.status == "sent" and sent.outcome.attempts >= 2
    assert len(gw.requests) == 1
    await gw.stop()
    await svc.aclose()


@pytest.mark.parametrize(
    "number", ["333abc1234", "3331234567\r\nHost: evil", "333&x=1", "333/4567", "333@4567"]
)
async def test_bad_numbers_refused_before_any_request(
    service: SmsService, gateway: FakeGateway, number: str
) -> None:
    with pytest.raises(BadArgument) as caught:
        await service.send(ALICE, number, "hello")
    assert caught.value.key == "sms.error.bad_number"
    assert gateway.requests == [] and await service.history_of(ALICE) == []


async def test_text_checks(service: SmsService, gateway: FakeGateway) -> None:
    with pytest.raises(BadArgument) as caught:
        await service.send(ALICE, "3331234567", "  \x00 ")
    assert caught.value.key == "sms.error.empty"
    with pytest.raises(BadArgument) as caught:
        await service.send(ALICE, "3331234567", "a" * (153 * 6 + 1))
    assert caught.value.key == "sms.error.too_long" and caught.value.params["parts"] == 7
    with pytest.raises(BadArgument):
        await service.send(ALICE, "3331234567", "x" * 100_000)
    assert gateway.requests == []
    gateway.behaviour = ("answer", 200, b"OK")
    sent = await service.send(ALICE, "3331234567", "a" * (153 * 6))
    assert sent.segments.parts == 6


async def test_permission_sms(service: SmsService, gateway: FakeGateway) -> None:
    with pytest.raises(PermissionDenied):
        await service.send(GUEST, "3331234567", "hello")
    assert gateway.requests == []


async def test_one_chat_message_goes_out_once(service: SmsService, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 200, b"OK")
    await service.send(ALICE, "3331234567", "hello", origin_id="abc")
    with pytest.raises(Exception) as caught:
        await service.send(ALICE, "3331234567", "hello", origin_id="abc")
    assert getattr(caught.value, "key", "") == "sms.already"
    assert len(gateway.requests) == 1


# -- providers --------------------------------------------------------------------------------


async def test_twilio_request_format(store: Store, gateway: FakeGateway) -> None:
    gateway.content_type = "application/json"
    gateway.behaviour = (
        "answer",
        201,
        b'{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}',
    )
    settings = {
        "gateway": "twilio",
        "url": gateway.url + "/2010-04-01/Accounts/{user}/Messages.json",
        "user": "AC0123",
        "password": "tok",
        "sender": "+15005550006",
    }
    svc = SmsService(context(store, settings))
    sent = await svc.send(ALICE, "+393331234567", "Hi & bye")
    assert sent.record.gateway_id == "SM0123456789abcdef0123456789abcdef"
    [req] = gateway.requests
    assert req.path == "/2010-04-01/Accounts/AC0123/Messages.json"
    assert req.headers["authorization"] == "Basic " + base64.b64encode(b"AC0123:tok").decode()
    assert req.form() == {"To": ["+393331234567"], "From": ["+15005550006"], "Body": ["Hi & bye"]}
    await svc.aclose()


async def test_a_user_with_a_number_of_their_own_sends_from_it(
    store: Store, gateway: FakeGateway
) -> None:
    gateway.behaviour = ("answer", 201, b'{"sid": "SM1"}')
    settings = {
        "gateway": "twilio",
        "url": gateway.url + "/x",
        "sender": "+15005550006",
        "numbers": {"+390212345678": "bob"},
    }
    svc = SmsService(context(store, settings))
    await svc.send(BOB, "+393331234567", "reply to your SMS")
    await svc.send(ALICE, "+393331234567", "from the company's sender")
    assert [r.form()["From"] for r in gateway.requests] == [["+390212345678"], ["+15005550006"]]
    await svc.aclose()


async def test_twilio_error_answer(store: Store, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 400, b'{"code": 21211, "message": "Invalid To"}')
    settings = {"gateway": "twilio", "url": gateway.url + "/x", "user": "AC1", "password": "t"}
    svc = SmsService(context(store, settings))
    with pytest.raises(SmsNotSent) as caught:
        await svc.send(ALICE, "+393331234567", "Hi")
    assert caught.value.params["http_status"] == 400
    await svc.aclose()


async def test_skebby_request_format(store: Store, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 200, b"status=failed&code=21&message=Username+error")
    settings = {"gateway": "skebby", "url": gateway.url + "/api", "user": "u", "password": "p"}
    svc = SmsService(context(store, settings))
    with pytest.raises(SmsNotSent) as caught:
        await svc.send(ALICE, "3331234567", "Ciao è")
    assert caught.value.key == "sms.fail.not_accepted"  # 200, but the answer says failed
    gateway.behaviour = ("answer", 200, b"status=success&remaining_sms=99")
    await svc.send(ALICE, "3331234567", "Ciao è")
    form = gateway.requests[-1].form()
    assert form["method"] == ["send_sms_classic"]
    assert form["recipients[]"] == ["393331234567"]  # international, no + nor 00
    assert form["text"] == ["Ciao è"] and form["username"] == ["u"]
    await svc.aclose()


async def test_get_gateway_fills_the_url(store: Store, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 200, b"OK")
    settings = {
        "url": gateway.url + "/send?user={user}&to={digits}&msg={text}",
        "method": "GET",
        "user": "me&you",
    }
    svc = SmsService(context(store, settings))
    await svc.send(ALICE, "3331234567", "a b&c=d/é")
    [req] = gateway.requests
    assert req.method == "GET"
    assert req.path == "/send?user=me%26you&to=393331234567&msg=a%20b%26c%3Dd%2F%C3%A9"
    await svc.aclose()


# -- a message to <number>@cti… -------------------------------------------------------------------


def message(local: str, body: str, mid: str = "s1") -> VirtualMessage:
    return VirtualMessage(
        user=ALICE,
        sender="alice@example.test/phone",
        local=local,
        body=body,
        id=mid,
        receipt_requested=True,
    )


async def test_a_message_to_a_number_jid_is_an_sms_with_a_receipt(
    store: Store, gateway: FakeGateway
) -> None:
    hooks = Hooks()
    svc = SmsService(context(store, generic(gateway.url), xmpp=hooks))
    chat = SmsChat(svc.ctx, svc)
    chat.wire()
    gateway.behaviour = ("answer", 200, b"OK")
    assert await chat.on_message(message("+393331234567", "hello")) is True
    await hooks.until(lambda: bool(hooks.sent))
    assert hooks.receipts == ["s1"]
    [reply] = hooks.sent
    assert reply.frm == "+393331234567@" + DOMAIN and "sent" in reply.body
    assert len(gateway.requests) == 1
    # Not ours: a colleague's or a phone's JID, and a marker takes nothing.
    assert await chat.on_message(message("bob", "hi")) is False
    assert await chat.on_message(message("201", "hi")) is False
    await svc.aclose()


async def test_a_message_to_a_bad_number_jid_says_why_without_a_request(
    store: Store, gateway: FakeGateway
) -> None:
    hooks = Hooks()
    svc = SmsService(context(store, generic(gateway.url), xmpp=hooks))
    chat = SmsChat(svc.ctx, svc)
    for n, local in enumerate(("+39333", "333abc4567", "333\\26x", "+39333\\40evil")):
        assert await chat.on_message(message(local, "hello")) is True
        await hooks.until(lambda n=n: len(hooks.sent) > n)
        assert "not a phone number" in hooks.sent[n].body
    assert hooks.receipts == []
    assert gateway.requests == []
    await svc.aclose()


async def test_a_failing_gateway_gives_a_reason_and_no_receipt(
    store: Store, gateway: FakeGateway
) -> None:
    hooks = Hooks()
    svc = SmsService(context(store, generic(gateway.url), xmpp=hooks))
    chat = SmsChat(svc.ctx, svc)
    gateway.behaviour = ("answer", 503, b"busy")
    await chat.on_message(message("3331234567", "hello"))
    await hooks.until(lambda: bool(hooks.sent))
    assert "HTTP 503" in hooks.sent[0].body and hooks.receipts == []
    await svc.aclose()


async def test_xep0100_turns_a_typed_number_into_its_jid(store: Store) -> None:
    import xml.etree.ElementTree as ET

    from ctibot.plugin import IqRefused, IqRequest

    hooks = Hooks()
    svc = SmsService(context(store, {}, xmpp=hooks))
    chat = SmsChat(svc.ctx, svc)
    chat.wire()
    handler = hooks.iq["jabber:iq:gateway"]
    get = IqRequest("alice@example.test/x", ALICE, "", "get", None)
    assert "<prompt>Phone number</prompt>" in await handler(get)
    payload = ET.fromstring(
        "<query xmlns='jabber:iq:gateway'><prompt>+39 333 123 4567</prompt></query>"
    )
    result = await handler(IqRequest("alice@example.test/x", ALICE, "", "set", payload))
    assert f"<jid>+393331234567@{DOMAIN}</jid>" in result
    bad = ET.fromstring("<query xmlns='jabber:iq:gateway'><prompt>ab&amp;c</prompt></query>")
    with pytest.raises(IqRefused) as caught:
        await handler(IqRequest("alice@example.test/x", ALICE, "", "set", bad))
    assert caught.value.condition == "not-acceptable"
    with pytest.raises(IqRefused):
        await handler(IqRequest("eve@evil.test/x", None, "", "get", None))
    await svc.aclose()


# -- receiving ---------------------------------------------------------------------------------


async def test_inbound_reaches_the_owner_of_the_number(store: Store) -> None:
    hooks = Hooks()
    settings = {"numbers": {"+39 02 1234 5678": "bob"}, "webhook_secret": "k"}
    svc = SmsService(context(store, settings, xmpp=hooks))
    done = await svc.receive("+393331234567", "00390212345678", "Ciao Bob")
    assert (done.status, done.user) == ("delivered", "bob")
    [msg] = hooks.sent
    assert (msg.user, msg.frm, msg.body) == ("bob", f"+393331234567@{DOMAIN}", "Ciao Bob")
    named = await svc.receive("ACME Bank", "+390212345678", "code 1234")
    assert named.status == "delivered"
    assert hooks.sent[-1].frm is None and "ACME Bank" in hooks.sent[-1].body
    unknown = await svc.receive("+393331234567", "+390299999999", "who?")
    assert unknown.status == "unknown_number" and len(hooks.sent) == 2
    history = await svc.history_of(BOB)
    assert [(r.direction, r.number, r.status) for r in history] == [
        ("in", "ACME Bank", "received"),
        ("in", "+393331234567", "received"),
    ]
    assert svc.own_number(BOB) == "+390212345678"


async def test_inbound_malformed(store: Store) -> None:
    svc = SmsService(context(store, {"numbers": {"+390212345678": "bob"}}))
    for frm, to in (("+39333\r\n", "+390212345678"), ("x@y/z", "+390212345678"), ("1", "abc")):
        with pytest.raises(BadArgument):
            await svc.receive(frm, to, "hi")
    assert await svc.history_of(BOB) == []


def test_settings_refused_at_start_up(store: Store) -> None:
    from ctibot.plugin import SettingError

    with pytest.raises(SettingError):
        SmsService(context(store, {"numbers": {"+390212345678": "nobody"}}))
    with pytest.raises(SettingError):
        SmsService(context(store, {"numbers": {"not a number": "bob"}}))
    with pytest.raises(SettingError):
        plugin.parse_settings({"timeout": 0})
    with pytest.raises(SettingError):
        plugin.parse_settings({"gateway": "nope"})
    with pytest.raises(SettingError):
        plugin.parse_settings({"success_status": ["200"]})


async def test_history_lists_mine_only(service: SmsService, gateway: FakeGateway) -> None:
    gateway.behaviour = ("answer", 200, b"OK")
    await service.send(ALICE, "3331234567", "one")
    await service.send(BOB, "3331234567", "two")
    assert [r.text for r in await service.history_of(ALICE)] == ["one"]
    assert [r.text for r in await service.history_of(BOB)] == ["two"]
