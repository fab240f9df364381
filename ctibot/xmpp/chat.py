"""Chat messages to the component: commands (X2) to its JID, the rest to the plugins' hooks.

A message to the component (or to one's own virtual JID) is a command. A message
to another virtual JID is offered to the plugins' ``on_message`` handlers (a
post-it to a colleague, an SMS to a number); XEP-0333 markers too.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slixmpp import JID, Message
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ctibot.commands import RateLimiter, dispatch
from ctibot.config import UserConfig
from ctibot.i18n import add_messages, translate
from ctibot.plugin import VirtualMessage
from ctibot.xmpp.messages import MESSAGES
from ctibot.xmpp.stanzas import MARKERS_NS

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")

add_messages("xmpp", MESSAGES)

MessageHandler = Callable[[VirtualMessage], "Awaitable[bool] | bool"]


class ChatCommands:
    """Routes chat messages to the command dispatcher or the plugins, and sends replies back."""

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        xmpp = gateway.config.xmpp
        assert xmpp is not None
        self.limiter = RateLimiter(xmpp.rate_limit, xmpp.rate_window)
        self.handlers: list[MessageHandler] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def wire(self) -> None:
        xmpp = self.gw.xmpp
        xmpp.add_event_handler("message", self.on_message)
        # slixmpp's "message" event needs a <body>: an XEP-0333 marker alone has none.
        marker = MatchXPath(f"{{{xmpp.default_ns}}}message/{{{MARKERS_NS}}}displayed")
        xmpp.register_handler(Callback("ctibot marker", marker, self._on_marker))

    def _on_marker(self, msg: Message) -> None:
        if msg["body"]:
            return  # the "message" event brings it
        task = asyncio.ensure_future(self.on_message(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _is_command_address(self, to: JID, user: UserConfig) -> bool:
        if to.user == "":
            return True
        return to.user == user.name or to.user in user.extensions

    def receipt(self, sender: JID | str, to: JID | str, message_id: str) -> None:
        receipt = self.gw.xmpp.make_message(mto=sender, mfrom=to)
        receipt["receipt"] = message_id
        receipt.send()

    async def on_message(self, msg: Message) -> None:
        if msg["type"] in ("error", "groupchat", "headline"):
            return
        gw = self.gw
        sender, to = msg["from"], msg["to"]
        if to.domain != gw.jids.domain or not gw.jids.from_our_users_domain(sender):
            return  # not for us, or from another domain: ignored
        body = msg["body"]
        user = gw.jids.sender(sender)
        wants_receipt = bool(msg["request_receipt"] and msg["id"])
        if (
            user is not None
            and not self._is_command_address(to, user)
            and await self._offer(msg, user, body)
        ):
            return
        if wants_receipt:
            self.receipt(sender, to, msg["id"])
        if not body or not body.strip():
            return  # chat states, receipts, markers
        reply: str | None
        if user is None:
            if not self.limiter.allow(sender.bare):
                return
            reply = translate("stranger", "en")
        elif not self._is_command_address(to, user):
            reply = translate(
                "xmpp.elsewhere",
                user.language,
                name=gw.jids.display_name(to.user),
                here=gw.jids.domain,
            )
        else:
            reply = await dispatch(
                gw.services, user, body, limiter=self.limiter, sender=sender.bare
            )
        if reply:
            gw.xmpp.make_message(mto=sender, mfrom=to, mbody=reply, mtype="chat").send()

    async def _offer(self, msg: Message, user: UserConfig, body: str) -> bool:
        """A message (or marker) to another virtual JID: True when a plugin took it."""
        if not self.handlers:
            return False
        marker = msg.xml.find(f"{{{MARKERS_NS}}}displayed")
        displayed = marker.get("id") if marker is not None else None
        if not (body and body.strip()) and displayed is None:
            return False
        message = VirtualMessage(
            user=user,
            sender=str(msg["from"]),
            local=msg["to"].user,
            body=body if body and body.strip() else "",
            id=msg["id"] or None,
            displayed=displayed,
            receipt_requested=bool(msg["request_receipt"] and msg["id"]),
        )
        for handler in self.handlers:
            try:
                if await _call(handler, message):
                    return True
            except Exception:
                log.exception("XMPP: message hook %s failed", getattr(handler, "__qualname__", ""))
        return False


async def _call(handler: Callable[..., Any], *args: Any) -> Any:
    result = handler(*args)
    return await result if inspect.isawaitable(result) else result
