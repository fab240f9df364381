"""``XmppGateway.hooks``: the XMPP component as plugins see it (ctibot.plugin.XmppHooks)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from slixmpp import JID

from ctibot.config import UserConfig
from ctibot.plugin import IqRequest, VirtualMessage, VirtualPresence
from ctibot.xmpp.stanzas import (
    MARKABLE,
    MARKERS_NS,
    NO_COPY_HINTS,
    NO_STORE_HINTS,
    RECEIPT_REQUEST,
    delay_element,
    xml_attr,
    xml_text,
)

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")


class GatewayHooks:
    """Send, and hang handlers on what happens: nothing else of the gateway is a plugin's."""

    def __init__(self, gateway: XmppGateway) -> None:
        self._gw = gateway
        self.domain = gateway.jids.domain

    # -- virtual JIDs ------------------------------------------------------------------------

    def jid_of(self, local: str) -> str:
        return f"{local}@{self.domain}" if local else self.domain

    def contacts(self) -> list[str]:
        return self._gw.jids.contacts()

    def is_contact(self, local: str) -> bool:
        return self._gw.jids.is_contact(local)

    def extensions_of(self, local: str) -> tuple[str, ...]:
        return self._gw.jids.extensions_of(local)

    def owner(self, extension: str) -> UserConfig | None:
        return self._gw.jids.owner(extension)

    def display_name(self, local: str) -> str:
        return self._gw.jids.display_name(local) if local else "ctibot"

    # -- users' own presence -----------------------------------------------------------------

    def is_online(self, user: UserConfig) -> bool | None:
        return self._gw.users.is_online(user)

    def on_online(self, handler: Callable[[UserConfig], Awaitable[None] | None]) -> None:
        self._gw.users.online_handlers.append(handler)

    def on_away(self, handler: Callable[[UserConfig], Awaitable[None] | None]) -> None:
        self._gw.users.away_handlers.append(handler)

    def on_show(self, handler: Callable[[UserConfig, str], Awaitable[None] | None]) -> None:
        self._gw.users.show_handlers.append(handler)

    # -- messages ----------------------------------------------------------------------------

    def send_chat(
        self,
        user: UserConfig,
        body: str,
        *,
        frm: str | None = None,
        transient: bool = False,
        markable: bool = False,
        receipt: bool = True,
        delay: float | None = None,
    ) -> str | None:
        xmpp = self._gw.xmpp
        if user.jid is None or not xmpp.online.is_set():
            return None
        # Written as prepared XML: a popup is on the path from the PBX's ringing
        # event to the user's screen, and slixmpp's stanza objects cost more than
        # the rest of that path together. Text is escaped and stripped of what
        # XML forbids (caller names come from strangers).
        sender = xml_attr(frm or self.domain)
        extra = (MARKABLE if markable else "") + (RECEIPT_REQUEST if receipt else "")
        if delay is not None:
            extra += delay_element(delay, self.domain)
        message_id = xmpp.new_id()
        if not transient:
            xmpp.send_raw(
                f"<message from='{sender}' to='{xml_attr(user.jid)}' type='chat'"
                f" id='{message_id}'><body>{xml_text(body)}</body>{extra}</message>"
            )
            return message_id
        # News (a popup): to each resource seen online, as chat (a client shows it in
        # the conversation where "hangup" is typed); nothing when the user is known to
        # be offline; a headline to the bare JID when their presence is unknown (servers
        # deliver those to available resources only and never keep them). No archive,
        # no offline storage (XEP-0334), no carbons: one copy per resource is sent.
        resources = self._gw.users.online_jids(user)
        if resources is None:
            targets, kind = [user.jid], "headline"
        else:
            targets, kind = resources, "chat"
        if not targets:
            return None
        text = f"<body>{xml_text(body)}</body>{NO_STORE_HINTS}{NO_COPY_HINTS}{extra}</message>"
        xmpp.send_raw(
            "".join(
                f"<message from='{sender}' to='{xml_attr(to)}' type='{kind}'"
                f" id='{message_id if n == 0 else xmpp.new_id()}'>{text}"
                for n, to in enumerate(targets)
            )
        )
        return message_id

    def send_marker(
        self, user: UserConfig, message_id: str, *, frm: str, marker: str = "displayed"
    ) -> None:
        xmpp = self._gw.xmpp
        if user.jid is None or not xmpp.online.is_set():
            return
        if marker not in ("received", "displayed", "acknowledged"):
            raise ValueError(f"not an XEP-0333 marker: {marker!r}")
        xmpp.send_raw(
            f"<message from='{xml_attr(frm)}' to='{xml_attr(user.jid)}' type='chat'"
            f" id='{xmpp.new_id()}'><{marker} xmlns='{MARKERS_NS}'"
            f" id='{xml_attr(message_id)}'/><store xmlns='urn:xmpp:hints'/></message>"
        )

    def send_receipt(self, message: VirtualMessage) -> None:
        if message.receipt_requested and message.id and self._gw.xmpp.online.is_set():
            self._gw.chat.receipt(message.sender, self.jid_of(message.local), message.id)

    def on_message(self, handler: Callable[[VirtualMessage], Awaitable[bool] | bool]) -> None:
        self._gw.chat.handlers.append(handler)

    # -- IQs and discovery -------------------------------------------------------------------

    def on_iq(
        self,
        namespace: str,
        handler: Callable[[IqRequest], Awaitable[str | None] | str | None],
        *,
        feature: bool = True,
    ) -> None:
        self._gw.add_iq_handler(namespace, handler)
        if feature:
            self.add_feature(namespace)

    def add_feature(self, feature: str) -> None:
        self._gw.features.append(feature)
        self._gw.xmpp.plugin["xep_0030"].add_feature(feature, jid=JID(self.domain))

    def add_identity(self, category: str, kind: str, name: str) -> None:
        self._gw.xmpp.plugin["xep_0030"].add_identity(category, kind, name, jid=JID(self.domain))

    # -- presence of the virtual JIDs --------------------------------------------------------

    def set_presence(self, source: Callable[[str, str], VirtualPresence]) -> None:
        self._gw.roster.source = source

    def claim(self, predicate: Callable[[str], bool]) -> None:
        self._gw.roster.claims.append(predicate)

    def publish_presence(self, contacts: Iterable[str] | None = None) -> int:
        return self._gw.roster.publish(contacts)

    async def round_trip(self, timeout: float = 5) -> None:
        gw = self._gw
        await gw.xmpp.plugin["xep_0199"].send_ping(
            JID(gw.jids.users_domain), ifrom=JID(self.domain), timeout=timeout
        )

    def ask_subscription(self, user: UserConfig, local: str) -> None:
        xmpp = self._gw.xmpp
        if user.jid is None:
            return
        frm = self.jid_of(local)
        # "subscribed" first: a pre-approval, so their request back is accepted at once.
        xmpp.send_presence(pto=user.jid, pfrom=frm, ptype="subscribed")
        xmpp.make_presence(
            pto=user.jid, pfrom=frm, ptype="subscribe", pnick=self.display_name(local)
        ).send()
