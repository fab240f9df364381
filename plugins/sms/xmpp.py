"""XMPP wiring: a message to ``<number>@cti…`` is an SMS; XEP-0100 turns a number into that JID."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from ctibot.plugin import (
    IqRefused,
    IqRequest,
    PluginContext,
    ServiceError,
    VirtualMessage,
    translate,
)

from .commands import parts_key
from .services import SmsService

GATEWAY_NS = "jabber:iq:gateway"


class SmsChat:
    """Chat messages to phone numbers' JIDs go out as SMS; the sender hears how it went."""

    def __init__(self, ctx: PluginContext, service: SmsService) -> None:
        self.ctx = ctx
        self.service = service

    def wire(self) -> None:
        xmpp = self.ctx.xmpp
        if xmpp is None:
            return
        xmpp.on_message(self.on_message)
        xmpp.claim(self.serves)  # "add contact +39…": subscribed, shown available
        xmpp.on_iq(GATEWAY_NS, self.on_gateway_iq)
        xmpp.add_identity("gateway", "sms", "SMS")

    def is_number_jid(self, local: str) -> bool:
        xmpp = self.ctx.xmpp
        if not self.service.plan.looks_like_number(local):
            return False
        return xmpp is None or not xmpp.is_contact(local)  # an extension's JID is a phone's

    def serves(self, local: str) -> bool:
        """A valid number's JID (no extension's): a contact the SMS gateway stands behind."""
        if not self.is_number_jid(local):
            return False
        try:
            self.service.plan.normalize(local)
        except ValueError:
            return False
        return True

    async def on_message(self, msg: VirtualMessage) -> bool:
        """A message to ``<number>@cti…``: True when it is ours (sent, or refused with a reason)."""
        if not self.is_number_jid(msg.local):
            return False
        if msg.displayed or not msg.body.strip():
            return True  # a marker or a chat state in an SMS conversation: nothing to send
        self.service.spawn(self.send(msg))
        return True

    async def send(self, msg: VirtualMessage) -> None:
        """Hand the message to the gateway; receipt once it took it, else a short reason."""
        xmpp = self.ctx.xmpp
        assert xmpp is not None
        user = msg.user
        try:
            sent = await self.service.send(
                user, msg.local, msg.body, origin_id=msg.id, lenient=False
            )
        except ServiceError as exc:
            text = translate(exc.key, user.language, **exc.params)
            if exc.key == "sms.already" and exc.params.get("status") == "sent":
                xmpp.send_receipt(msg)
            xmpp.send_chat(user, text, frm=xmpp.jid_of(msg.local), receipt=False)
            return
        except Exception:
            self.ctx.log.exception("SMS from %s to %s failed", user.name, msg.local)
            text = translate("internal_error", user.language)
            xmpp.send_chat(user, text, frm=xmpp.jid_of(msg.local), receipt=False)
            return
        xmpp.send_receipt(msg)
        parts = sent.segments.parts
        text = translate(parts_key("sms.sent_short", parts), user.language, parts=parts)
        xmpp.send_chat(user, text, frm=xmpp.jid_of(msg.local), receipt=False)

    async def on_gateway_iq(self, request: IqRequest) -> str | None:
        """XEP-0100: a get says what to type; a set turns a typed number into its JID."""
        xmpp = self.ctx.xmpp
        assert xmpp is not None
        user = request.user
        if user is None:
            raise IqRefused("forbidden")
        if request.local:
            raise IqRefused("service-unavailable")
        lang = user.language
        if request.type == "get":
            desc = escape(translate("sms.gateway.desc", lang))
            prompt = escape(translate("sms.gateway.prompt", lang))
            return (
                f"<query xmlns='{GATEWAY_NS}'><desc>{desc}</desc><prompt>{prompt}</prompt></query>"
            )
        typed = _prompt_text(request.payload)
        try:
            number = self.service.number(typed, lenient=True)
        except ServiceError as exc:
            raise IqRefused("not-acceptable", translate(exc.key, lang, **exc.params)) from None
        jid = escape(xmpp.jid_of(number))
        # <jid/> per XEP-0100 1.0; <prompt/> too, for clients written to its older versions.
        return f"<query xmlns='{GATEWAY_NS}'><jid>{jid}</jid><prompt>{jid}</prompt></query>"


def _prompt_text(payload: Any) -> str:
    if payload is None:
        return ""
    found = payload.find(f"{{{GATEWAY_NS}}}prompt")
    return (found.text or "") if found is not None else ""


async def setup(ctx: PluginContext, service: SmsService) -> None:
    """Hang the SMS handlers on the XMPP hooks (nothing to do without XMPP)."""
    SmsChat(ctx, service).wire()


async def teardown(ctx: PluginContext, service: SmsService) -> None:
    """Wait for the SMS in flight (bounded by the gateway timeout), close the HTTP client."""
    await service.aclose()
