"""Chat commands (X2): a message to the component (or to one's own virtual JID) is a command."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slixmpp import Message

from ctibot.commands import RateLimiter, dispatch, translate
from ctibot.config import UserConfig

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")

TEAM_WORDS = ("team", "squadra")
ELSEWHERE = {
    "en": "This contact shows {name}; send your commands to {here}.",
    "it": "Questo contatto mostra {name}; invia i comandi a {here}.",
}
TEAM_TEXT = {
    "en": "I have asked your client to add {n} contacts (people and phones): accept them "
    "to see everyone's state in your roster.",
    "it": "Ho chiesto al tuo client di aggiungere {n} contatti (persone e telefoni): "
    "accettali per vedere lo stato di tutti nel tuo elenco contatti.",
}


class ChatCommands:
    """Routes chat messages to the command dispatcher and sends the replies back."""

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        xmpp = gateway.config.xmpp
        assert xmpp is not None
        self.limiter = RateLimiter(xmpp.rate_limit, xmpp.rate_window)

    def wire(self) -> None:
        self.gw.xmpp.add_event_handler("message", self.on_message)

    def _is_command_address(self, msg: Message, user: UserConfig) -> bool:
        to = msg["to"]
        if to.user == "":
            return True
        return to.user == user.name or to.user in user.extensions

    async def on_message(self, msg: Message) -> None:
        if msg["type"] in ("error", "groupchat", "headline"):
            return
        gw = self.gw
        sender, to = msg["from"], msg["to"]
        if to.domain != gw.jids.domain or not gw.jids.from_our_users_domain(sender):
            return  # not for us, or from another domain: ignored
        body = msg["body"]
        if msg["request_receipt"] and msg["id"]:
            receipt = gw.xmpp.make_message(mto=sender, mfrom=to)
            receipt["receipt"] = msg["id"]
            receipt.send()
        if not body or not body.strip():
            return  # chat states, receipts, markers
        user = gw.jids.sender(sender)
        reply: str | None
        if user is None:
            if not self.limiter.allow(sender.bare):
                return
            reply = translate("stranger", "en")
        elif not self._is_command_address(msg, user):
            text = ELSEWHERE.get(user.language, ELSEWHERE["en"])
            reply = text.format(name=gw.jids.display_name(to.user), here=gw.jids.domain)
        elif body.strip().lower() in TEAM_WORDS:
            if not self.limiter.allow(sender.bare):
                return
            reply = self.team(user)
        else:
            reply = await dispatch(
                gw.services, user, body, limiter=self.limiter, sender=sender.bare
            )
        if reply:
            gw.xmpp.make_message(mto=sender, mfrom=to, mbody=reply, mtype="chat").send()

    def team(self, user: UserConfig) -> str:
        """Ask the user's client to add every person and phone (for servers without mod_groups)."""
        gw = self.gw
        contacts = gw.jids.contacts()
        for local in contacts:
            frm = f"{local}@{gw.jids.domain}"
            # "subscribed" first: a pre-approval, so their request back is accepted at once.
            gw.xmpp.send_presence(pto=user.jid, pfrom=frm, ptype="subscribed")
            gw.xmpp.make_presence(
                pto=user.jid, pfrom=frm, ptype="subscribe", pnick=gw.jids.display_name(local)
            ).send()
        return TEAM_TEXT.get(user.language, TEAM_TEXT["en"]).format(n=len(contacts))
