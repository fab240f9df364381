"""Presence of the users' own accounts: who is online, two-way DND (X4), automatic queue login."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slixmpp import Presence

from ctibot.config import UserConfig
from ctibot.xmpp.roster import xml_attr

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")


class UserPresence:
    """Follows each configured user's resources and what they show.

    Presence stanzas only update what is known; what follows from it (the
    missed-call summary, automatic queue login / logout, two-way DND) runs one
    at a time per user and acts on the *latest* state. slixmpp runs each
    handler as its own task, so a quick online-offline-online must not let an
    older "log in" finish after a newer "log out".
    """

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        self.resources: dict[str, dict[str, str]] = {}  # user -> resource -> show ('' = online)
        self.xmpp_dnd: dict[str, bool] = {}  # what the user's XMPP presence last said about DND
        self._acted_online: dict[str, bool] = {}  # the online state last acted upon
        self._locks: dict[str, asyncio.Lock] = {}

    def wire(self) -> None:
        xmpp = self.gw.xmpp
        for kind in ("available", "away", "chat", "xa", "dnd", "unavailable"):
            xmpp.add_event_handler(f"presence_{kind}", self.on_presence)

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
        if pres["to"].domain != self.gw.jids.domain:
            return
        user = self.gw.jids.sender(pres["from"])
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
        """Act on the user's latest presence, one action at a time."""
        lock = self._locks.setdefault(user.name, asyncio.Lock())
        async with lock:
            resources = dict(self.resources.get(user.name, {}))
            online = bool(resources)
            if online != self._acted_online.get(user.name, False):
                self._acted_online[user.name] = online
                if online:
                    log.info("XMPP: %s is online", user.name)
                    await self.gw.popups.summary(user)
                else:
                    log.info("XMPP: %s went offline", user.name)
                await self._auto_queue(user, online)
            await self._sync_dnd(user, resources)

    async def _sync_dnd(self, user: UserConfig, resources: dict[str, str]) -> None:
        """PBX DND follows a *change* of the user's XMPP DND, never anything else."""
        if not resources:
            return  # going offline is not "DND off"
        dnd = "dnd" in resources.values()
        before = self.xmpp_dnd.get(user.name)
        self.xmpp_dnd[user.name] = dnd
        if before is None and not dnd:
            return  # logging in available says nothing about a DND set on the phone
        if before == dnd:
            return
        try:
            # The service compares with the PBX before writing: no ping-pong.
            result = await self.gw.services.set_dnd(user, dnd)
        except Exception as exc:  # a PBX error must not break presence handling
            log.warning("XMPP: DND for %s not changed: %s", user.name, exc)
            return
        if result.changed:
            log.info(
                "XMPP: %s set DND %s from their chat client", user.name, "on" if dnd else "off"
            )

    async def _auto_queue(self, user: UserConfig, online: bool) -> None:
        """F9: users with ``auto_queue_login`` join their queues online, leave them offline."""
        try:
            result = await self.gw.services.queue_presence(user, online)
        except Exception as exc:  # never let a PBX refusal break presence handling
            log.info(
                "XMPP: automatic queue %s for %s: %s",
                "login" if online else "logout",
                user.name,
                exc,
            )
            return
        if result is not None:
            log.info(
                "XMPP: %s automatically %s",
                user.name,
                "logged into queues" if online else "logged out of queues",
            )

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
        self.probe()

    def probe(self) -> None:
        """A presence probe to each user, from their own virtual JID."""
        gw = self.gw
        if not gw.xmpp.online.is_set():
            return
        stanzas = [
            f"<presence type='probe' from='{xml_attr(f'{user.name}@{gw.jids.domain}')}'"
            f" to='{xml_attr(user.jid)}'/>"
            for user in gw.config.users
            if user.jid is not None
        ]
        if stanzas:
            gw.xmpp.send_raw("".join(stanzas))
