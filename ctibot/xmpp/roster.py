"""Presence of the virtual JIDs: persisted subscriptions, probes, fan-out of PBX changes (X1)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from slixmpp import JID, Presence

from ctibot.pbx import events as ev
from ctibot.xmpp.presence import Presence as CtiPresence

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")

#: Presence is state, not news: changes this close together go out as one.
PRESENCE_DELAY = 0.02
#: After a batch this big, wait until the server has routed it (a ping round trip)
#: before the next: meanwhile further changes of the same JIDs merge, so a server
#: slower than the PBX gets fewer, fresher stanzas instead of a growing backlog.
BATCH_MARK = 300
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Text safe inside an XML element: escaped, and no character XML 1.0 forbids."""
    return escape(_NOT_XML.sub("\ufffd", value))


def xml_attr(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value), {"'": "&apos;", '"': "&quot;"})


def presence_body(presence: CtiPresence, nick: str) -> str:
    """The children of a presence stanza: show, status, nick (XEP-0172)."""
    parts = []
    if presence.show:
        parts.append(f"<show>{presence.show}</show>")
    if presence.status:
        parts.append(f"<status>{xml_text(presence.status)}</status>")
    parts.append(f"<nick xmlns='http://jabber.org/protocol/nick'>{xml_text(nick)}</nick>")
    return "".join(parts)


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
        self._flush: asyncio.TimerHandle | None = None
        self._languages = {u.jid: u.language for u in gateway.config.users if u.jid}
        self.stanzas = 0  # presence stanzas written, for the benchmarks
        self._inflight = False

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
        out: list[str] = []
        for contact in list(self.subscribers):
            self.push(contact, force=True, out=out)
        self._write(out)

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
        cache: dict[str, tuple[CtiPresence, str]] | None = None,
        out: list[str] | None = None,
    ) -> None:
        """Send ``contact``'s presence to ``jid`` unless it already has it.

        Stanzas are written as prepared XML (a presence is sent thousands of times a
        second on a busy board): ``out`` collects them for one write per burst.
        """
        gw = self.gw
        if not gw.xmpp.online.is_set():
            return
        language = self._languages.get(jid, "en")
        cache = {} if cache is None else cache
        prepared = cache.get(language)
        if prepared is None:
            presence = self.presence_of(contact, language)
            nick = gw.jids.display_name(contact) if contact else "ctibot"
            prepared = cache[language] = (presence, presence_body(presence, nick))
        presence, body = prepared
        key = (contact, jid)
        if not force and self.sent.get(key) == presence:
            return
        self.sent[key] = presence
        frm = f"{contact}@{gw.jids.domain}" if contact else gw.jids.domain
        kind = "" if presence.available else " type='unavailable'"
        stanza = f"<presence from='{xml_attr(frm)}' to='{xml_attr(jid)}'{kind}>{body}</presence>"
        self.stanzas += 1
        if out is not None:
            out.append(stanza)
        else:
            gw.xmpp.send_raw(stanza)

    def push(self, contact: str, *, force: bool = False, out: list[str] | None = None) -> None:
        cache: dict[str, tuple[CtiPresence, str]] = {}
        mine = out if out is not None else []
        for jid in list(self.subscribers.get(contact, ())):
            self.send(contact, jid, force=force, cache=cache, out=mine)
        if out is None:
            self._write(mine)

    def _write(self, stanzas: list[str]) -> None:
        if stanzas and self.gw.xmpp.online.is_set():
            try:
                self.gw.xmpp.send_raw("".join(stanzas))
            except Exception as exc:  # the stream dropped: presences go again at reconnect
                log.info("XMPP: presence not sent (%s)", exc)

    def mark(self, contacts: Iterable[str]) -> None:
        """Recompute these contacts soon: changes within PRESENCE_DELAY coalesce."""
        self._dirty.update(contacts)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(PRESENCE_DELAY, self._push_dirty)

    def _push_dirty(self) -> None:
        self._flush = None
        if self._inflight:
            return  # the end of the batch in flight flushes again
        dirty, self._dirty = self._dirty, set()
        out: list[str] = []
        for contact in dirty:
            self.push(contact, out=out)
        self._write(out)
        if len(out) >= BATCH_MARK:
            self._inflight = True
            asyncio.get_running_loop().create_task(self._drained())

    async def _drained(self) -> None:
        gw = self.gw
        try:
            await gw.xmpp.plugin["xep_0199"].send_ping(
                JID(gw.jids.users_domain), ifrom=JID(gw.jids.domain), timeout=5
            )
        except Exception as exc:  # a timeout or an error reply: the batch is gone anyway
            log.debug("XMPP: presence batch marker: %s", exc)
        finally:
            self._inflight = False
            if self._dirty and self._flush is None:
                self._flush = asyncio.get_running_loop().call_later(0, self._push_dirty)

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
