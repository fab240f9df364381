"""Call popups (F5): a chat message when a user's phone rings, follow-ups, missed-call summaries."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctibot.config import UserConfig
from ctibot.pbx import events as ev

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
        "line": "• {who} at {at}",
        "unknown": "an unknown caller",
    },
    "it": {
        "ringing": "📞 {who} ti sta chiamando sul {ext}{queue}.\n"
        "Rispondi: riaggancia · trasferisci <numero> · parcheggia",
        "queue": " (coda {queue})",
        "elsewhere": "✔ Alla chiamata di {who} ha risposto {by}.",
        "missed": "✖ Chiamata persa da {who} alle {at}.",
        "summary": "Mentre eri assente hai perso {n} chiamata/e:",
        "line": "• {who} alle {at}",
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
        if not self.gw.is_online(user):
            return
        queue = _t(user, "queue", queue=event.queue) if event.queue else ""
        self.gw.send_chat(
            user, _t(user, "ringing", who=who, ext=event.extension, queue=queue), transient=True
        )

    def on_answered(self, event: ev.CallAnswered) -> None:
        for (call_id, _), popup in list(self.open.items()):
            if call_id != event.call_id:
                continue
            if event.extension is not None and event.extension in popup.user.extensions:
                continue  # they answered it themselves
            if self.gw.is_online(popup.user):
                owner = self.gw.jids.owner(event.answered_by) if event.answered_by else None
                by = (
                    f"{owner.fullname} ({event.answered_by})"
                    if owner is not None
                    else event.answered_by or "?"
                )
                self.gw.send_chat(
                    popup.user, _t(popup.user, "elsewhere", who=popup.who, by=by), transient=True
                )

    async def on_ended(self, event: ev.CallEnded) -> None:
        record = event.record
        for key in [k for k in self.open if k[0] == event.call_id]:
            popup = self.open.pop(key)
            if record.answered:
                continue
            if self.gw.is_online(popup.user):
                at = time.strftime("%H:%M", time.localtime(record.start))
                self.gw.send_chat(popup.user, _t(popup.user, "missed", who=popup.who, at=at))
            else:
                await self.gw.store.add_missed(popup.user.name, record)

    async def summary(self, user: UserConfig) -> None:
        """Tell a user who just came online what they missed."""
        missed = await self.gw.store.take_missed(user.name)
        if not missed:
            return
        lines = [_t(user, "summary", n=len(missed))]
        for record in missed[-20:]:
            at = time.strftime("%d/%m %H:%M", time.localtime(record["start"]))
            lines.append(
                _t(user, "line", who=_who(user, record["from"], record["from_name"]), at=at)
            )
        self.gw.send_chat(user, "\n".join(lines))
