"""The XMPP side of ctibot, wired: component, roster, chat, ad-hoc, popups, users' presence."""

from __future__ import annotations

import logging
from typing import Any

from slixmpp import JID
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0030.stanza import DiscoInfo

from ctibot.bus import EventBus
from ctibot.config import Config, UserConfig
from ctibot.pbx.state import PbxState
from ctibot.services import Services
from ctibot.store import Store
from ctibot.xmpp.adhoc import AdhocCommands
from ctibot.xmpp.chat import ChatCommands
from ctibot.xmpp.component import CtiComponent, VirtualJids
from ctibot.xmpp.popups import Popups
from ctibot.xmpp.presence import PresenceView
from ctibot.xmpp.roster import Roster, xml_attr, xml_text
from ctibot.xmpp.userpresence import UserPresence

log = logging.getLogger("ctibot.xmpp")


#: XEP-0334 hints of a transient message.
NO_STORE_HINTS = "<no-store xmlns='urn:xmpp:hints'/><no-permanent-store xmlns='urn:xmpp:hints'/>"


class PbxJids(VirtualJids):
    """The virtual JIDs of the users and of every extension the PBX has, owned or not.

    A phone no user owns (a meeting room, a fax) is as much a contact as a user's:
    found by the PBX state at every resync (its hints and devices), named by
    ``[pbx.names]`` when the configuration names it.
    """

    def __init__(self, config: Config, state: PbxState) -> None:
        super().__init__(config)
        self.state = state
        self.names = dict(config.pbx.names)

    def contacts(self) -> list[str]:
        """Users, then every extension: the owned ones, then those the PBX alone has."""
        base = super().contacts()
        seen = set(base)
        return [*base, *(e for e in self.state.naming.tracked() if e not in seen)]

    def is_contact(self, local: str) -> bool:
        return super().is_contact(local) or self.state.naming.is_tracked(local)

    def extensions_of(self, local: str) -> tuple[str, ...]:
        found = super().extensions_of(local)
        if found or not self.state.naming.is_tracked(local):
            return found
        return (local,)

    def display_name(self, local: str) -> str:
        name = self.names.get(local)
        if name is not None and self.owner(local) is None:
            return f"{local} ({name})"
        return super().display_name(local)


class XmppGateway:
    """Everything XMPP, over the same state, bus and services as every other surface."""

    def __init__(
        self,
        config: Config,
        state: PbxState,
        bus: EventBus,
        services: Services,
        store: Store,
        ami_connected: Any,
    ) -> None:
        assert config.xmpp is not None, "the [xmpp] section is required"
        self.config = config
        self.state = state
        self.bus = bus
        self.services = services
        self.store = store
        self.ami_connected = ami_connected  # () -> bool
        self.jids = PbxJids(config, state)
        self.view = PresenceView(services)
        self.xmpp = CtiComponent(config.xmpp)
        self.roster = Roster(self)
        self.users = UserPresence(self)
        self.popups = Popups(self)
        self.chat = ChatCommands(self)
        self.adhoc = AdhocCommands(self)

    async def start(self) -> None:
        await self.roster.load()
        for part in (self.roster, self.users, self.popups, self.chat, self.adhoc):
            part.wire()
        self.xmpp.add_event_handler("session_start", self.users.forget)
        self.xmpp.plugin["xep_0054"].api.register(self._vcard, "get_vcard")
        self.xmpp.plugin["xep_0030"].api.register(self._disco_info, "get_info")
        self.xmpp.start()

    async def stop(self) -> None:
        await self.xmpp.stop()

    def _vcard(self, jid: JID, node: Any, ifrom: Any, args: Any) -> Any:
        """vCard-temp of a virtual JID: the person's or the phone's name, and its number."""
        jid = JID(jid)
        if jid.user and not self.jids.is_contact(jid.user):
            return None
        vcard = self.xmpp.plugin["xep_0054"].make_vcard()
        name = self.jids.display_name(jid.user) if jid.user else "ctibot"
        vcard["FN"] = name
        vcard["NICKNAME"] = name
        extensions = self.jids.extensions_of(jid.user) if jid.user else ()
        if extensions:
            vcard["TEL"]["NUMBER"] = extensions[0]
            vcard["TEL"]["WORK"] = True
            vcard["TEL"]["VOICE"] = True
        return vcard

    def _disco_info(self, jid: JID, node: Any, ifrom: Any, data: Any) -> Any:
        """disco#info: a virtual JID that exists is a phone or a person; others do not exist."""
        jid = JID(jid)
        disco = self.xmpp.plugin["xep_0030"]
        if not jid.user:
            return disco.static.get_info(jid, node, ifrom, data)
        if not self.jids.is_contact(jid.user) or node:
            raise XMPPError("item-not-found")
        info = DiscoInfo()
        info.add_identity("client", "phone", self.jids.display_name(jid.user))
        for feature in ("http://jabber.org/protocol/disco#info", "vcard-temp"):
            info.add_feature(feature)
        return info

    # -- helpers the parts share -------------------------------------------------------------

    def is_online(self, user: UserConfig) -> bool:
        """Worth sending a live notification: online, or presence unknown (the server decides)."""
        return self.users.is_online(user) is not False

    def send_chat(
        self, user: UserConfig, body: str, *, transient: bool = False, frm: JID | str | None = None
    ) -> None:
        """A chat message to a user's own account (popups, notifications, replies)."""
        if user.jid is None or not self.xmpp.online.is_set():
            return
        # Written as prepared XML: a popup is on the path from the PBX's ringing
        # event to the user's screen, and slixmpp's stanza objects cost more than
        # the rest of that path together. Text is escaped and stripped of what
        # XML forbids (caller names come from strangers).
        # A popup is stale a minute later: not for the archive or other devices' history.
        hints = NO_STORE_HINTS if transient else ""
        sender = xml_attr(str(frm or self.jids.domain))
        self.xmpp.send_raw(
            f"<message from='{sender}' to='{xml_attr(user.jid)}' type='chat'"
            f" id='{self.xmpp.new_id()}'><body>{xml_text(body)}</body>{hints}"
            "<request xmlns='urn:xmpp:receipts'/></message>"
        )
