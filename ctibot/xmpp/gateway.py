"""The XMPP core of ctibot: the component, virtual JIDs, subscriptions, commands, hooks.

Features hang on ``XmppGateway.hooks`` (ctibot.plugin.XmppHooks): what a virtual
JID shows (the presence plugin), popups, two-way DND, automatic queue login,
post-its and SMS are plugins; nothing here calls them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

from slixmpp import JID, Iq
from slixmpp.exceptions import XMPPError
from slixmpp.plugins.xep_0030.stanza import DiscoInfo
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher.base import MatcherBase

from ctibot.bus import EventBus
from ctibot.config import Config
from ctibot.pbx.state import PbxState
from ctibot.plugin import IqRefused, IqRequest
from ctibot.services import Services
from ctibot.store import Store
from ctibot.xmpp.adhoc import AdhocCommands
from ctibot.xmpp.chat import ChatCommands
from ctibot.xmpp.component import CtiComponent, VirtualJids
from ctibot.xmpp.hooks import GatewayHooks
from ctibot.xmpp.roster import Roster
from ctibot.xmpp.users import OnlineUsers

log = logging.getLogger("ctibot.xmpp")

IqHandler = Callable[[IqRequest], "Awaitable[str | None] | str | None"]


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


class _IqIn(MatcherBase):
    """An IQ get/set whose payload is in one namespace."""

    def match(self, xml: Any) -> bool:
        if xml.name != "iq" or xml["type"] not in ("get", "set"):
            return False
        return any(child.tag.startswith(f"{{{self._criteria}}}") for child in xml.xml)


class XmppGateway:
    """The XMPP side over the same state, bus and services as every other surface.

    The core keeps the plumbing: the component and its reconnects, the virtual JIDs
    and their vCards and disco#info (the identity of what the core names), persisted
    subscriptions and probe answers, which users are online, commands to the
    component's JID, stanza writing. ``hooks`` is what plugins get.
    """

    def __init__(
        self,
        config: Config,
        state: PbxState,
        bus: EventBus,
        services: Services,
        store: Store,
        ami_connected: Any = None,
    ) -> None:
        assert config.xmpp is not None, "the [xmpp] section is required"
        self.config = config
        self.services = services  # the command dispatcher's
        self.store = store
        self.jids = PbxJids(config, state)
        self.xmpp = CtiComponent(config.xmpp)
        self.roster = Roster(config, self.jids, self.xmpp, store)
        self.users = OnlineUsers(config, self.jids, self.xmpp)
        self.chat = ChatCommands(self)
        self.adhoc = AdhocCommands(self)
        self.features: list[str] = []
        self._tasks: set[asyncio.Future[None]] = set()
        self.hooks = GatewayHooks(self)

    async def start(self) -> None:
        await self.roster.load()
        for part in (self.roster, self.users, self.chat, self.adhoc):
            part.wire()
        self.xmpp.plugin["xep_0054"].api.register(self._vcard, "get_vcard")
        self.xmpp.plugin["xep_0030"].api.register(self._disco_info, "get_info")
        self.xmpp.start()

    async def stop(self) -> None:
        await self.xmpp.stop()

    def _vcard(self, jid: JID, node: Any, ifrom: Any, args: Any) -> Any:
        """vCard-temp of a virtual JID: the person's or the phone's name, and its number."""
        jid = JID(jid)
        claimed = bool(jid.user) and not self.jids.is_contact(jid.user)
        if claimed and not self.roster.claimed(jid.user):
            return None
        vcard = self.xmpp.plugin["xep_0054"].make_vcard()
        name = (jid.user if claimed else self.jids.display_name(jid.user)) if jid.user else "ctibot"
        vcard["FN"] = name
        vcard["NICKNAME"] = name
        if claimed:
            extensions: tuple[str, ...] = (jid.user,)  # a number's JID: that number
        else:
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
        contact = self.jids.is_contact(jid.user)
        if not (contact or self.roster.claimed(jid.user)) or node:
            raise XMPPError("item-not-found")
        info = DiscoInfo()
        name = self.jids.display_name(jid.user) if contact else jid.user
        info.add_identity("client", "phone", name)
        for feature in ("http://jabber.org/protocol/disco#info", "vcard-temp"):
            info.add_feature(feature)
        return info

    # -- IQ handlers plugins add (hooks.on_iq) ------------------------------------------------

    def add_iq_handler(self, namespace: str, handler: IqHandler) -> None:
        def received(iq: Iq) -> None:
            if iq["to"].domain == self.jids.domain:
                task = asyncio.ensure_future(self._answer(iq, namespace, handler))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        self.xmpp.register_handler(Callback(f"ctibot iq {namespace}", _IqIn(namespace), received))

    async def _answer(self, iq: Iq, namespace: str, handler: IqHandler) -> None:
        payload = next(c for c in iq.xml if c.tag.startswith(f"{{{namespace}}}"))
        request = IqRequest(
            sender=str(iq["from"]),
            user=self.jids.sender(iq["from"]),
            local=iq["to"].user,
            type=iq["type"],
            payload=payload,
        )
        try:
            result = handler(request)
            if inspect.isawaitable(result):
                result = await result
        except IqRefused as refused:
            reply = iq.reply(clear=True)
            reply["error"]["condition"] = refused.condition
            reply["error"]["type"] = "modify" if refused.condition != "forbidden" else "auth"
            if refused.text:
                reply["error"]["text"] = refused.text
            reply["type"] = "error"
            reply.send()
            return
        except Exception:
            log.exception("XMPP: IQ handler for %s failed", namespace)
            reply = iq.reply(clear=True)
            reply["error"]["condition"] = "internal-server-error"
            reply["error"]["type"] = "wait"
            reply["type"] = "error"
            reply.send()
            return
        reply = iq.reply(clear=True)
        if result:
            reply.append(ET.fromstring(result))
        reply.send()
