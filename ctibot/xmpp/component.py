"""The XMPP external component (XEP-0114): connection, reconnection, and the virtual JIDs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

from slixmpp import JID
from slixmpp.componentxmpp import ComponentXMPP

from ctibot.config import Config, UserConfig, XmppConfig

log = logging.getLogger("ctibot.xmpp")

PLUGINS = (
    "xep_0030",
    "xep_0004",
    "xep_0050",
    "xep_0054",
    "xep_0085",
    "xep_0172",
    "xep_0184",
    "xep_0199",
    "xep_0334",
)


class CtiComponent(ComponentXMPP):
    """slixmpp's component with ctibot's needs: own subscription handling and reconnects.

    slixmpp answers probes from its in-memory roster (``unsubscribed`` after a
    restart, which strips the virtual JIDs from users' rosters) and drops the
    stream for good when the server goes away: both are replaced here.
    """

    def __init__(self, xmpp: XmppConfig, *, jitter: Callable[[], float] = random.random) -> None:
        super().__init__(xmpp.component, xmpp.secret, xmpp.host, xmpp.port)
        self.settings = xmpp
        self._jitter = jitter
        for name in PLUGINS:
            self.register_plugin(name)
        self.plugin["xep_0184"].auto_ack = False  # it would send receipts without a 'from'
        # Subscription and probe handling is ours (persisted): remove the in-memory defaults.
        self.del_event_handler("presence_probe", self._handle_probe)
        for event, handler in (
            ("presence_subscribe", self._handle_subscribe),
            ("presence_subscribed", self._handle_subscribed),
            ("presence_unsubscribe", self._handle_unsubscribe),
            ("presence_unsubscribed", self._handle_unsubscribed),
            ("roster_subscription_request", self._handle_new_subscription),
        ):
            self.del_event_handler(event, handler)
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("connection_failed", self._on_connection_failed)
        self.online = asyncio.Event()
        self.sessions = 0
        self._stopping = False
        self._delay = xmpp.reconnect_min
        self._retry: asyncio.TimerHandle | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect now; reconnect with backoff whenever the stream is lost."""
        self._stopping = False
        self.connect()

    async def stop(self) -> None:
        self._stopping = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.online.is_set():
            self.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.disconnected, 2)
        else:
            self.abort()

    def _on_session_start(self, _: Any) -> None:
        self.sessions += 1
        self._delay = self.settings.reconnect_min
        self.online.set()
        log.info(
            "XMPP component %s connected to %s:%s",
            self.boundjid.bare,
            self.settings.host,
            self.settings.port,
        )

    def _on_disconnected(self, reason: Any) -> None:
        was_online = self.online.is_set()
        self.online.clear()
        if was_online and not self._stopping:
            log.warning("XMPP component %s: stream lost (%s)", self.boundjid.bare, reason or "-")
        self._schedule_reconnect()

    def _on_connection_failed(self, reason: Any) -> None:
        log.warning(
            "XMPP component %s: cannot connect to %s:%s (%s)",
            self.boundjid.bare,
            self.settings.host,
            self.settings.port,
            reason,
        )
        # slixmpp would retry on its own, backing off up to 5 minutes: ours is bounded.
        self.cancel_connection_attempt()
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._stopping or self._retry is not None:
            return
        wait = self._delay * (0.75 + 0.5 * self._jitter())
        self._delay = min(self._delay * 2, self.settings.reconnect_max)
        log.info("XMPP component: reconnecting in %.3g s", wait)
        self._retry = self.loop.call_later(wait, self._reconnect)

    def _reconnect(self) -> None:
        self._retry = None
        if not self._stopping and not self.online.is_set():
            self.connect()


class VirtualJids:
    """Maps virtual JIDs (``201@cti…``, ``alice@cti…``) to extensions and users, and back."""

    def __init__(self, config: Config) -> None:
        assert config.xmpp is not None
        self.config = config
        self.domain = config.xmpp.component
        self.users_domain = config.xmpp.domain
        self._users = {u.name: u for u in config.users}
        self._owner = {ext: u for u in config.users for ext in u.extensions}

    def of_extension(self, extension: str) -> JID:
        return JID(f"{extension}@{self.domain}")

    def of_user(self, user: UserConfig) -> JID:
        return JID(f"{user.name}@{self.domain}")

    def contacts(self) -> list[str]:
        """Local parts of every virtual JID: users first, then extensions."""
        return [*self._users, *self._owner]

    def is_contact(self, local: str) -> bool:
        return local in self._users or local in self._owner

    def extensions_of(self, local: str) -> tuple[str, ...]:
        """The extensions behind a virtual JID's local part."""
        user = self._users.get(local)
        if user is not None:
            return user.extensions
        return (local,) if local in self._owner else ()

    def owner(self, extension: str) -> UserConfig | None:
        return self._owner.get(extension)

    def display_name(self, local: str) -> str:
        user = self._users.get(local)
        if user is not None:
            return user.fullname
        owner = self._owner.get(local)
        return f"{local} ({owner.fullname})" if owner else local

    def sender(self, jid: JID) -> UserConfig | None:
        """The configured user behind a real JID (bare), if any."""
        return self.config.user_by_jid(jid.bare)

    def from_our_users_domain(self, jid: JID) -> bool:
        return jid.domain == self.users_domain
