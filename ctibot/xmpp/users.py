"""Users' own presence: which resources each user has online, and the hooks it feeds."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slixmpp import Presence

from ctibot.config import UserConfig
from ctibot.xmpp.stanzas import xml_attr

if TYPE_CHECKING:
    from ctibot.config import Config
    from ctibot.xmpp.component import CtiComponent, VirtualJids

log = logging.getLogger("ctibot.xmpp")

UserHandler = Callable[[UserConfig], "Awaitable[None] | None"]
ShowHandler = Callable[[UserConfig, str], "Awaitable[None] | None"]

#: Most available first (RFC 6121 4.7.2.1); "" is plain available.
_SHOWS = ("chat", "", "away", "xa")


def combined_show(resources: dict[str, str]) -> str:
    """What a user's resources show together: "dnd" when any says so, else the most available."""
    shows = set(resources.values())
    if "dnd" in shows:
        return "dnd"
    return next((s for s in _SHOWS if s in shows), "")


class OnlineUsers:
    """Follows each configured user's resources and what they show.

    Presence stanzas only update what is known; the hooks that follow from it
    (``on_online``, ``on_away``, ``on_show``) run one at a time per user and see
    the *latest* state. slixmpp runs each stanza handler as its own task, so a
    quick online-offline-online must not let an older "came online" handler
    finish after a newer "went away" one.
    """

    def __init__(self, config: Config, jids: VirtualJids, xmpp: CtiComponent) -> None:
        self.config = config
        self.jids = jids
        self.xmpp = xmpp
        self.resources: dict[str, dict[str, str]] = {}  # user -> resource -> show ('' = online)
        self.online_handlers: list[UserHandler] = []
        self.away_handlers: list[UserHandler] = []
        self.show_handlers: list[ShowHandler] = []
        self._acted_online: dict[str, bool] = {}  # the online state last acted upon
        self._acted_show: dict[str, str] = {}  # the show last told to on_show handlers
        self._locks: dict[str, asyncio.Lock] = {}

    def wire(self) -> None:
        for kind in ("available", "away", "chat", "xa", "dnd", "unavailable"):
            self.xmpp.add_event_handler(f"presence_{kind}", self.on_presence)
        self.xmpp.add_event_handler("session_start", self.forget)

    def is_online(self, user: UserConfig) -> bool | None:
        """True / False, or None when ctibot has never seen the user's presence.

        Only users subscribed both ways with ctibot (mod_groups, ``team``) send it.
        """
        resources = self.resources.get(user.name)
        if resources is None:
            return None
        return bool(resources)

    def online_jids(self, user: UserConfig) -> list[str] | None:
        """The full JIDs of the user's resources seen online; None when presence is unknown."""
        resources = self.resources.get(user.name)
        if resources is None or user.jid is None:
            return None
        return [f"{user.jid}/{resource}" if resource else user.jid for resource in resources]

    async def on_presence(self, pres: Presence) -> None:
        if pres["to"].domain != self.jids.domain:
            return
        user = self.jids.sender(pres["from"])
        if user is None:
            return
        resource = pres["from"].resource
        known = self.resources.get(user.name)
        resources = self.resources.setdefault(user.name, {})
        if pres["type"] == "unavailable":
            if resource:
                resources.pop(resource, None)
            elif known:
                # A bare-JID "unavailable" answers a probe (e.g. from a virtual JID
                # the user has not authorised yet); it says nothing about the
                # resources we saw come online, whose own "unavailable" will come.
                return
        else:
            show = pres["show"] or ""
            # The server copies one presence to every virtual JID in the roster: act once.
            if resources.get(resource) == show:
                return
            resources[resource] = show
        await self._settle(user)

    async def _settle(self, user: UserConfig) -> None:
        """Run the hooks on the user's latest presence, one user's hooks at a time."""
        lock = self._locks.setdefault(user.name, asyncio.Lock())
        async with lock:
            resources = dict(self.resources.get(user.name, {}))
            online = bool(resources)
            if online != self._acted_online.get(user.name, False):
                self._acted_online[user.name] = online
                log.info("XMPP: %s %s", user.name, "is online" if online else "went offline")
                for handler in self.online_handlers if online else self.away_handlers:
                    await _run(handler, user)
            if not online:
                return  # going offline is no show (not "DND off")
            show = combined_show(resources)
            if self._acted_show.get(user.name) != show:
                self._acted_show[user.name] = show
                for show_handler in self.show_handlers:
                    await _run(show_handler, user, show)

    def forget(self, _: Any = None) -> None:
        """After the component (re)connects: forget, then ask the server for every presence.

        Without the probes ctibot would know nothing of a user until their client
        next sends presence, and would take an offline user for "unknown".
        Prosody and ejabberd answer a probe from a JID the user shares presence
        with (their own virtual JID, via ``team`` or mod_groups) with the
        available resources, or a bare "unavailable": then ctibot knows they are away.
        """
        self.resources.clear()
        self._acted_online.clear()
        self._acted_show.clear()
        self.probe()

    def probe(self) -> None:
        """A presence probe to each user, from their own virtual JID."""
        if not self.xmpp.online.is_set():
            return
        stanzas = [
            f"<presence type='probe' from='{xml_attr(f'{user.name}@{self.jids.domain}')}'"
            f" to='{xml_attr(user.jid)}'/>"
            for user in self.config.users
            if user.jid is not None
        ]
        if stanzas:
            self.xmpp.send_raw("".join(stanzas))


async def _run(handler: Callable[..., Any], *args: Any) -> None:
    """One hook: a plugin's failure is logged, never breaks presence handling."""
    try:
        result = handler(*args)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("XMPP: presence hook %s failed", getattr(handler, "__qualname__", handler))
