"""Call popups (F5): a chat message when a user's phone rings, follow-ups, missed-call summaries.

A popup is news: it goes only to the resources ctibot has seen online, never
stored (``send_chat(..., transient=True)``): a user whose presence is unknown
gets a headline. Calls that ring and end while the user is away are kept for
the summary sent when they come back, never delivered late as live popups:
Prosody's offline storage ignores the XEP-0334 hints, and a stored "Reply:
hangup · transfer · park" arrives at login for a call long over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ctibot.plugin import (
    CallAnswered,
    CallEnded,
    CallRinging,
    PluginContext,
    UserConfig,
    translate,
)


def _t(user: UserConfig, key: str, **params: Any) -> str:
    return translate(f"popups.{key}", user.language, **params)


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


class PopupService:
    """Turns PBX domain events into messages to the users whose phones are involved."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.owners = {ext: u for u in ctx.config.users for ext in u.extensions}
        self.open: dict[tuple[str, str], _Popup] = {}  # (call id, user name)

    def on_ringing(self, event: CallRinging) -> None:
        user = self.owners.get(event.extension)
        if user is None or user.jid is None or self.ctx.xmpp is None:
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

    def on_answered(self, event: CallAnswered) -> None:
        for (call_id, _), popup in list(self.open.items()):
            if call_id != event.call_id:
                continue
            if event.extension is not None and event.extension in popup.user.extensions:
                continue  # they answered it themselves
            if event.answered_by is None:
                continue  # an application took it (a conference, ChanSpy): nobody to name
            by = self._name_of(event.answered_by)
            self.notify(popup.user, _t(popup.user, "elsewhere", who=popup.who, by=by))

    async def on_ended(self, event: CallEnded) -> None:
        record = event.record
        xmpp = self.ctx.xmpp
        for key in [k for k in self.open if k[0] == event.call_id]:
            popup = self.open.pop(key)
            user = popup.user
            online = xmpp.is_online(user) if xmpp is not None else None
            if record.answered:
                if online is not False or record.answered_by in user.extensions:
                    continue  # seen live ("answered by …"), or they took it themselves
                await self.ctx.store.add_missed(user.name, record)  # "answered by Carol"
                continue
            at = time.strftime("%H:%M", time.localtime(record.start))
            if online:
                if xmpp is not None:
                    xmpp.send_chat(user, _t(user, "missed", who=popup.who, at=at))
                continue
            if online is None:
                self.notify(user, _t(user, "missed", who=popup.who, at=at))
            # Away, or presence unknown (that headline never reaches an offline user):
            # the summary at their next presence names it.
            await self.ctx.store.add_missed(user.name, record)

    async def summary(self, user: UserConfig) -> None:
        """Tell a user who just came online which calls rang for them meanwhile."""
        calls = await self.ctx.store.take_missed(user.name)
        if not calls or self.ctx.xmpp is None:
            return
        missed = [r for r in calls if not r.get("answered")]
        head = "summary" if len(missed) == len(calls) else "summary_all"
        lines = [_t(user, head, n=len(calls))]
        for record in calls[-20:]:
            at = time.strftime("%d/%m %H:%M", time.localtime(record["start"]))
            who = _who(user, record["from"], record["from_name"])
            if record.get("answered"):
                # A conference or ChanSpy call was answered by no one: name what it reached.
                by = self._name_of(record.get("answered_by") or record.get("to"))
                lines.append(_t(user, "line_answered", who=who, at=at, by=by))
            else:
                lines.append(_t(user, "line", who=who, at=at))
        self.ctx.xmpp.send_chat(user, "\n".join(lines))

    def _name_of(self, extension: str | None) -> str:
        owner = self.owners.get(extension) if extension else None
        return f"{owner.fullname} ({extension})" if owner is not None else extension or "?"

    def notify(self, user: UserConfig, body: str) -> None:
        """News about a call in progress: to online resources only, never stored for later."""
        if self.ctx.xmpp is not None:
            self.ctx.xmpp.send_chat(user, body, transient=True)
