"""Call popups (F5): a chat message when a user's phone rings, follow-ups, missed-call summaries.

A popup is news: it goes only to the resources ctibot has seen online, as a
chat message with no-store hints. A user whose presence is unknown gets a
headline instead (servers deliver those to available resources and never keep
them for later). Calls that ring and end while the user is away are kept for
the summary sent when they come back, never delivered late as live popups:
Prosody's offline storage ignores the XEP-0334 hints, and a stored "Reply:
hangup · transfer · park" arrives at login for a call long over.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctibot.config import UserConfig
from ctibot.pbx import events as ev
from ctibot.xmpp.roster import xml_attr, xml_text

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "ringing": "📞 {who} is calling you on {ext}{queue}.\n"
        "Reply: hangup · transfer <number> · park",
        "queue": " (queue {queue})",
        "elsewhere": "✔ The call from {who} was answered by {by}.",
        "missed": "✖ Missed call from {who} at {at}.",
        "summary": "While you were away you missed {n} call(s):",
        "summary_all": "While you were away {n} call(s) rang for you:",
        "line": "• {who} at {at}",
        "line_answered": "• {who} at {at}, answered by {by}",
        "unknown": "an unknown caller",
    },
    "it": {
        "ringing": "📞 {who} ti sta chiamando sul {ext}{queue}.\n"
        "Rispondi: riaggancia · trasferisci <numero> · parcheggia",
        "queue": " (coda {queue})",
        "elsewhere": "✔ Alla chiamata di {who} ha risposto {by}.",
        "missed": "✖ Chiamata persa da {who} alle {at}.",
        "summary": "Mentre eri assente hai perso {n} chiamata/e:",
        "summary_all": "Mentre eri assente ti hanno cercato {n} chiamata/e:",
        "line": "• {who} alle {at}",
        "line_answered": "• {who} alle {at}, ha risposto {by}",
        "unknown": "un numero sconosciuto",
    },
}


def _t(user: UserConfig, key: str, **params: Any) -> str:
    return TEXTS.get(user.language, TEXTS["en"])[key].format(**params)


def _who(user: UserConfig, number: str | None, name: str | None) -> str:
    if name and number and name != number:
        return f"{name} <{number}>"
    return name or number or _t(user, "unknown")


@dataclass
class _Popup:
    """What one user was told about one call."""

    user: UserConfig
    who: str
    extensions: set[str] = field(default_factory=set)


class Popups:
    """Turns PBX domain events into messages to the users whose phones are involved."""

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        self.open: dict[tuple[str, str], _Popup] = {}  # (call id, user name)

    def wire(self) -> None:
        self.gw.bus.subscribe(self.on_ringing, ev.CallRinging)
        self.gw.bus.subscribe(self.on_answered, ev.CallAnswered)
        self.gw.bus.subscribe(self.on_ended, ev.CallEnded)

    def on_ringing(self, event: ev.CallRinging) -> None:
        user = self.gw.jids.owner(event.extension)
        if user is None or user.jid is None:
            return
        if event.caller_number in user.extensions:
            return  # click-to-call rings the caller's own phone first: no popup for that
        key = (event.call_id, user.name)
        if key in self.open:
            self.open[key].extensions.add(event.extension)
            return
        who = _who(user, event.caller_number, event.caller_name)
        self.open[key] = _Popup(user, who, {event.extension})
        queue = _t(user, "queue", queue=event.queue) if event.queue else ""
        self.notify(user, _t(user, "ringing", who=who, ext=event.extension, queue=queue))

    def on_answered(self, event: ev.CallAnswered) -> None:
        for (call_id, _), popup in list(self.open.items()):
            if call_id != event.call_id:
                continue
            if event.extension is not None and event.extension in popup.user.extensions:
                continue  # they answered it themselves
            by = self._name_of(event.answered_by)
            self.notify(popup.user, _t(popup.user, "elsewhere", who=popup.who, by=by))

    async def on_ended(self, event: ev.CallEnded) -> None:
        record = event.record
        for key in [k for k in self.open if k[0] == event.call_id]:
            popup = self.open.pop(key)
            user = popup.user
            online = self.gw.users.is_online(user)
            if record.answered:
                if online is not False or record.answered_by in user.extensions:
                    continue  # seen live ("answered by …"), or they took it themselves
                await self.gw.store.add_missed(user.name, record)  # "answered by Carol"
                continue
            at = time.strftime("%H:%M", time.localtime(record.start))
            if online:
                self.gw.send_chat(user, _t(user, "missed", who=popup.who, at=at))
                continue
            if online is None:
                self.notify(user, _t(user, "missed", who=popup.who, at=at))
            # Away, or presence unknown (that headline never reaches an offline user):
            # the summary at their next presence names it.
            await self.gw.store.add_missed(user.name, record)

    async def summary(self, user: UserConfig) -> None:
        """Tell a user who just came online which calls rang for them meanwhile."""
        calls = await self.gw.store.take_missed(user.name)
        if not calls:
            return
        missed = [r for r in calls if not r.get("answered")]
        head = "summary" if len(missed) == len(calls) else "summary_all"
        lines = [_t(user, head, n=len(calls))]
        for record in calls[-20:]:
            at = time.strftime("%d/%m %H:%M", time.localtime(record["start"]))
            who = _who(user, record["from"], record["from_name"])
            if record.get("answered"):
                by = self._name_of(record.get("answered_by"))
                lines.append(_t(user, "line_answered", who=who, at=at, by=by))
            else:
                lines.append(_t(user, "line", who=who, at=at))
        self.gw.send_chat(user, "\n".join(lines))

    # -- sending ------------------------------------------------------------------------

    def _name_of(self, extension: str | None) -> str:
        owner = self.gw.jids.owner(extension) if extension else None
        return f"{owner.fullname} ({extension})" if owner is not None else extension or "?"

    def notify(self, user: UserConfig, body: str) -> None:
        """News about a call in progress: to online resources only, never stored for later.

        To each resource ctibot has seen online, as chat (a client shows it in the
        conversation with ctibot, where "hangup" is typed); nothing when the user is
        known to be offline; a headline to the bare JID when their presence is unknown.
        """
        if user.jid is None or not self.gw.xmpp.online.is_set():
            return
        resources = self.gw.users.online_jids(user)
        if resources is None:
            self._send(user.jid, body, "headline")
            return
        for jid in resources:
            self._send(jid, body, "chat")

    def _send(self, to: str, body: str, kind: str) -> None:
        # Prepared XML, as gateway.send_chat (the popup path is latency-critical).
        # Hints for the archive (XEP-0334); private + no-copy: one copy per resource
        # is sent already, carbons would duplicate them (XEP-0280).
        xmpp = self.gw.xmpp
        xmpp.send_raw(
            f"<message from='{xml_attr(self.gw.jids.domain)}' to='{xml_attr(to)}'"
            f" type='{kind}' id='{xmpp.new_id()}'><body>{xml_text(body)}</body>"
            "<no-store xmlns='urn:xmpp:hints'/><no-permanent-store xmlns='urn:xmpp:hints'/>"
            "<no-copy xmlns='urn:xmpp:hints'/><private xmlns='urn:xmpp:carbons:2'/>"
            "<request xmlns='urn:xmpp:receipts'/></message>"
        )
