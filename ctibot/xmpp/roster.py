"""Presence of the virtual JIDs: persisted subscriptions, probe answers, and the stanza writer.

What a virtual JID shows comes from a source a plugin sets (the presence plugin
mirrors the PBX); when it changes is the plugin's business too. This keeps who
is subscribed to what (in the store, across restarts), answers subscriptions and
probes, and writes each subscriber only what differs from what it last received.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slixmpp import JID, Presence

from ctibot.plugin import VirtualPresence
from ctibot.xmpp.stanzas import presence_body, xml_attr

if TYPE_CHECKING:
    from ctibot.config import Config
    from ctibot.store import Store
    from ctibot.xmpp.component import CtiComponent, VirtualJids

log = logging.getLogger("ctibot.xmpp")

PresenceSource = Callable[[str, str], VirtualPresence]

AVAILABLE = VirtualPresence(True, None, "")


def _available(contact: str, language: str) -> VirtualPresence:
    return AVAILABLE


class Roster:
    """Who is subscribed to which virtual JID, and what each of them last received."""

    def __init__(self, config: Config, jids: VirtualJids, xmpp: CtiComponent, store: Store) -> None:
        self.jids = jids
        self.xmpp = xmpp
        self.store = store
        self.source: PresenceSource = _available
        self.subscribers: dict[str, set[str]] = {}  # contact local part -> bare JIDs
        self.sent: dict[tuple[str, str], VirtualPresence] = {}
        self._languages = {u.jid: u.language for u in config.users if u.jid}
        self.stanzas = 0  # presence stanzas written, for the benchmarks
        #: Plugins' virtual JIDs beyond users and phones (hooks.claim): local part -> bool.
        self.claims: list[Callable[[str], bool]] = []

    async def load(self) -> None:
        for contact, jid in await self.store.subscriptions():
            self.subscribers.setdefault(contact, set()).add(jid)

    # -- incoming subscription stanzas -----------------------------------------------------

    def wire(self) -> None:
        xmpp = self.xmpp
        xmpp.add_event_handler("presence_subscribe", self.on_subscribe)
        xmpp.add_event_handler("presence_unsubscribe", self.on_unsubscribe)
        xmpp.add_event_handler("presence_probe", self.on_probe)
        xmpp.add_event_handler("session_start", self.on_session_start)

    def _contact(self, pres: Presence) -> str | None:
        """The virtual JID's local part a stanza is for, if it is one of ours."""
        to: JID = pres["to"]
        if to.domain != self.jids.domain:
            return None
        local = to.user
        if local == "" or self.jids.is_contact(local) or self.claimed(local):
            return local
        return None

    def claimed(self, local: str) -> bool:
        """A plugin serves this virtual JID (a phone number's, for SMS): it shows available."""
        return any(claim(local) for claim in self.claims) if local else False

    def _may_see(self, jid: JID) -> bool:
        """Configured users, and colleagues on the users' own server (mod_groups rosters)."""
        return self.jids.sender(jid) is not None or self.jids.from_our_users_domain(jid)

    async def on_subscribe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        sender = pres["from"]
        xmpp = self.xmpp
        if contact is None or not self._may_see(sender):
            # Only the office sees the office; others are told no, politely.
            xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="unsubscribed")
            return
        xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="subscribed")
        await self.subscribe(contact, sender.bare)
        user = self.jids.sender(sender)
        if user is not None and contact in ("", user.name):
            # Their own presence comes back to us: that is how two-way DND works.
            xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="subscribe")

    async def on_unsubscribe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        if contact is None:
            return
        jid = pres["from"].bare
        self.xmpp.send_presence(pto=jid, pfrom=pres["to"].bare, ptype="unsubscribed")
        self.subscribers.get(contact, set()).discard(jid)
        self.sent.pop((contact, jid), None)
        await self.store.remove_subscription(contact, jid)

    async def on_probe(self, pres: Presence) -> None:
        contact = self._contact(pres)
        sender = pres["from"]
        if contact is None:
            return
        if not self._may_see(sender):
            self.xmpp.send_presence(pto=sender.bare, pfrom=pres["to"].bare, ptype="unsubscribed")
            return
        # A server-side subscription (e.g. mod_groups) we never saw: remember it.
        if sender.bare not in self.subscribers.get(contact, ()):
            await self.subscribe(contact, sender.bare, announce=False)
        self.send(contact, sender.bare, force=True)

    async def subscribe(self, contact: str, jid: str, *, announce: bool = True) -> None:
        self.subscribers.setdefault(contact, set()).add(jid)
        await self.store.add_subscription(contact, jid)
        if announce:
            self.send(contact, jid, force=True)

    def on_session_start(self, _: Any) -> None:
        """After every (re)connect, everyone gets every presence again."""
        self.sent.clear()
        out: list[str] = []
        for contact in list(self.subscribers):
            self.push(contact, force=True, out=out)
        self.write(out)

    # -- outgoing presence -----------------------------------------------------------------

    def send(
        self,
        contact: str,
        jid: str,
        *,
        force: bool = False,
        cache: dict[str, tuple[VirtualPresence, str]] | None = None,
        out: list[str] | None = None,
    ) -> None:
        """Send ``contact``'s presence to ``jid`` unless it already has it.

        Stanzas are written as prepared XML (a presence is sent thousands of times a
        second on a busy board): ``out`` collects them for one write per burst.
        """
        if not self.xmpp.online.is_set():
            return
        language = self._languages.get(jid, "en")
        cache = {} if cache is None else cache
        prepared = cache.get(language)
        if prepared is None:
            if contact and not self.jids.is_contact(contact) and self.claimed(contact):
                presence, nick = AVAILABLE, contact  # a claimed JID: a number is its name
            else:
                presence = self.source(contact, language)
                nick = self.jids.display_name(contact) if contact else "ctibot"
            prepared = cache[language] = (presence, presence_body(presence, nick))
        presence, body = prepared
        key = (contact, jid)
        if not force and self.sent.get(key) == presence:
            return
        self.sent[key] = presence
        frm = f"{contact}@{self.jids.domain}" if contact else self.jids.domain
        kind = "" if presence.available else " type='unavailable'"
        stanza = f"<presence from='{xml_attr(frm)}' to='{xml_attr(jid)}'{kind}>{body}</presence>"
        self.stanzas += 1
        if out is not None:
            out.append(stanza)
        else:
            self.xmpp.send_raw(stanza)

    def push(self, contact: str, *, force: bool = False, out: list[str] | None = None) -> None:
        cache: dict[str, tuple[VirtualPresence, str]] = {}
        mine = out if out is not None else []
        for jid in list(self.subscribers.get(contact, ())):
            self.send(contact, jid, force=force, cache=cache, out=mine)
        if out is None:
            self.write(mine)

    def publish(self, contacts: Iterable[str] | None = None) -> int:
        """The changed presences of ``contacts`` (None: all subscribed), in one write."""
        out: list[str] = []
        for contact in list(self.subscribers) if contacts is None else contacts:
            self.push(contact, out=out)
        self.write(out)
        return len(out)

    def write(self, stanzas: list[str]) -> None:
        if stanzas and self.xmpp.online.is_set():
            try:
                self.xmpp.send_raw("".join(stanzas))
            except Exception as exc:  # the stream dropped: presences go again at reconnect
                log.info("XMPP: presence not sent (%s)", exc)
