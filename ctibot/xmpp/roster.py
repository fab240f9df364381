"""Presence of the virtual JIDs: persisted subscriptions, probes, fan-out of PBX changes (X1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slixmpp import JID, Presence

from ctibot.pbx import events as ev
from ctibot.xmpp.presence import Presence as CtiPresence

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")

#: Domain events that may change what a virtual JID shows.
PRESENCE_EVENTS: tuple[type, ...] = (
    ev.ExtensionStatusChanged,
    ev.DndChanged,
    ev.ForwardChanged,
    ev.CallRinging,
    ev.CallAnswered,
    ev.CallEnded,
    ev.CallStateChanged,
)


class Roster:
    """Who is subscribed to which virtual JID, and what each of them last received."""

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        self.subscribers: dict[str, set[str]] = {}  # contact local part -> bare JIDs
        self.sent: dict[tuple[str, str], CtiPresence] = {}
        self._dirty: set[str] = set()
        self._flush: asyncio.Handle | None = None

    async def load(self) -> None:
        for contact, jid in await self.gw.store.subscriptions():
            self.subscribers.setdefault(contact, set()).add(jid)

    # -- incoming subscription stanzas -----------------------------------------------------

    def wire(self) -> None:
        xmpp = self.gw.xmpp
        xmpp.add_event_handler("presence_subscribe", self.on_subscribe)
        xmpp.add_event_handler("presence_unsubscribe", self.on_unsubscribe)
        xmpp.add_event_handler("presence_probe", self.on_probe)
        xmpp.add_event_handler("session_start", self.on_session_start)
        self.gw.bus.subscribe(self.on_pbx_event, *PRESENCE_EVENTS)
        self.gw.bus.subscribe(self.on_pbx_link, ev.PbxConnected, ev.PbxDisconnected, ev.PbxResynced)

    def _contact(self, pres: Presence) -> str | None:
        """The virtual JID's local part a stanza is for, if it is one of ours."""
        to: JID = pres["to"]
        if to.domain != self.gw.jids.domain:
            return None
        local = to.user
        if local == "" or self.gw.jids.is_contact(local):
            return local
        return None

    def _may_see(self, jid: JID) -> bool:
        """Configured users, and colleagues on the users' own server (mod_groups rosters)."""
        return self.gw.jids.sender(jid) is not None or self.gw.jids.from_our_users_domain(jid)

    async def on_subscribe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        sender = pres["from"]
        xmpp = self.gw.xmpp
        if contact is None or not self._may_see(sender):
            # Only the office sees the office; others are told no, politely.
            xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="unsubscribed")
            return
        xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="subscribed")
        await self.subscribe(contact, sender.bare)
        user = self.gw.jids.sender(sender)
        if user is not None and contact in ("", user.name):
            # Their own presence comes back to us: that is how two-way DND works.
            xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="subscribe")

    async def on_unsubscribe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        if contact is None:
            return
        jid = pres["from"].bare
        self.gw.xmpp.send_presence(pto=jid, pfrom=pres["to"].bare, ptype="unsubscribed")
        self.subscribers.get(contact, set()).discard(jid)
        self.sent.pop((contact, jid), None)
        await self.gw.store.remove_subscription(contact, jid)

    async def on_probe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        sender = pres["from"]
        if contact is None:
            return
        if not self._may_see(sender):
            self.gw.xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="unsubscribed")
            return
        # A server-side subscription (e.g. mod_groups) we never saw: remember it.
        if sender.bare not in self.subscribers.get(contact, ()):
            await self.subscribe(contact, sender.bare, announce=False)
        self.send(contact, sender.bare, force=True)

    async def subscribe(self, contact: str, jid: str, *, announce: bool = True) -> None:
        self.subscribers.setdefault(contact, set()).add(jid)
        await self.gw.store.add_subscription(contact, jid)
        if announce:
            self.send(contact, jid, force=True)

    def on_session_start(self, _: Any) -> None:
        """After every (re)connect, everyone gets every presence again."""
        self.sent.clear()
        for contact in list(self.subscribers):
            self.push(contact, force=True)

    # -- outgoing presence -----------------------------------------------------------------

    def presence_of(self, contact: str, language: str) -> CtiPresence:
        gw = self.gw
        up = gw.ami_connected()
        if contact == "":
            return CtiPresence(
                True, None, "ctibot" if up else gw.view.of_extensions((), language, False).status
            )
        return gw.view.of_extensions(gw.jids.extensions_of(contact), language, up)

    def send(
        self,
        contact: str,
        jid: str,
        *,
        force: bool = False,
        cache: dict[str, CtiPresence] | None = None,
    ) -> None:
        gw = self.gw
        if not gw.xmpp.online.is_set():
            return
        user = gw.config.user_by_jid(jid)
        language = user.language if user is not None else "en"
        if cache is not None and language in cache:
            presence = cache[language]
        else:
            presence = self.presence_of(contact, language)
            if cache is not None:
                cache[language] = presence
        key = (contact, jid)
        if not force and self.sent.get(key) == presence:
            return
        self.sent[key] = presence
        frm = f"{contact}@{gw.jids.domain}" if contact else gw.jids.domain
        gw.xmpp.make_presence(
            pto=jid,
            pfrom=frm,
            pshow=presence.show,
            pstatus=presence.status,
            ptype=None if presence.available else "unavailable",
            pnick=gw.jids.display_name(contact) if contact else "ctibot",
        ).send()

    def push(self, contact: str, *, force: bool = False) -> None:
        cache: dict[str, CtiPresence] = {}
        for jid in list(self.subscribers.get(contact, ())):
            self.send(contact, jid, force=force, cache=cache)

    def mark(self, contacts: Iterable[str]) -> None:
        """Recompute these contacts soon (changes in one burst of events coalesce)."""
        self._dirty.update(contacts)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_soon(self._push_dirty)

    def _push_dirty(self) -> None:
        self._flush = None
        dirty, self._dirty = self._dirty, set()
        for contact in dirty:
            self.push(contact)

    def contacts_of_extensions(self, extensions: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for ext in extensions:
            if ext is None:
                continue
            found.add(ext)
            owner = self.gw.jids.owner(ext)
            if owner is not None:
                found.add(owner.name)
        return found

    def on_pbx_event(self, event: Any) -> None:
        extensions = {getattr(event, "extension", None), getattr(event, "answered_by", None)}
        call_id = getattr(event, "call_id", None)
        call = self.gw.state.calls.get(call_id) if call_id else None
        if call is not None:
            extensions.update(ch.extension for ch in call.channels.values())
        elif isinstance(event, ev.CallEnded):
            record = event.record
            extensions.update((record.from_, record.to, record.answered_by, record.ended_with))
        self.mark(c for c in self.contacts_of_extensions(extensions) if self.gw.jids.is_contact(c))

    def on_pbx_link(self, event: Any) -> None:
        self.mark([*self.subscribers])
