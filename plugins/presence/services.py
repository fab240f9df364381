"""The presence service: what each virtual JID shows, and its fan-out when the PBX changes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ctibot.plugin import PluginContext, UserConfig, VirtualPresence, translate

from .groups import Groups, groups_text, roster_groups, write_groups_file
from .view import PresenceView

#: Presence is state, not news: changes this close together go out as one.
PRESENCE_DELAY = 0.02
#: After a batch this big, wait until the server has routed it (a ping round trip)
#: before the next: meanwhile further changes of the same JIDs merge, so a server
#: slower than the PBX gets fewer, fresher stanzas instead of a growing backlog.
BATCH_MARK = 300


class PresenceService:
    """Mirrors the PBX on the virtual JIDs: renders, coalesces, publishes through the hooks."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.view = PresenceView(ctx.services, ctx.config)
        self._dirty: set[str] = set()
        self._everyone = False  # the next flush publishes every subscribed contact
        self._flush: asyncio.TimerHandle | None = None
        self._inflight = False

    # -- what a virtual JID shows -----------------------------------------------------------

    def pbx_up(self) -> bool:
        return bool(getattr(self.ctx.ami, "connected", False))

    def presence_of(self, contact: str, language: str) -> VirtualPresence:
        """What ``contact`` ("" = the component itself) shows to a subscriber in ``language``."""
        up = self.pbx_up()
        xmpp = self.ctx.xmpp
        if contact == "":
            return VirtualPresence(
                True, None, "ctibot" if up else self.view.of_extensions((), language, False).status
            )
        extensions = xmpp.extensions_of(contact) if xmpp is not None else (contact,)
        return self.view.of_extensions(extensions, language, up)

    # -- when it changes --------------------------------------------------------------------

    def contacts_of_extensions(self, extensions: Iterable[str | None]) -> set[str]:
        """The virtual JIDs that show these extensions: the phones and their owners."""
        xmpp = self.ctx.xmpp
        found: set[str] = set()
        if xmpp is None:
            return found
        for ext in extensions:
            if ext is None:
                continue
            if xmpp.is_contact(ext):
                found.add(ext)
            owner = xmpp.owner(ext)
            if owner is not None:
                found.add(owner.name)
        return found

    def mark(self, contacts: Iterable[str] | None) -> None:
        """Publish these contacts (None: all) soon: changes within PRESENCE_DELAY coalesce."""
        if self.ctx.xmpp is None:
            return
        if contacts is None:
            self._everyone = True
        else:
            self._dirty.update(contacts)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(PRESENCE_DELAY, self._push_dirty)

    def _push_dirty(self) -> None:
        self._flush = None
        xmpp = self.ctx.xmpp
        if self._inflight or xmpp is None:
            return  # the end of the batch in flight flushes again
        dirty, self._dirty = self._dirty, set()
        everyone, self._everyone = self._everyone, False
        written = xmpp.publish_presence(None if everyone else dirty)
        if written >= BATCH_MARK:
            self._inflight = True
            asyncio.get_running_loop().create_task(self._drained())

    async def _drained(self) -> None:
        xmpp = self.ctx.xmpp
        try:
            if xmpp is not None:
                await xmpp.round_trip(5)
        except Exception as exc:  # a timeout or an error reply: the batch is gone anyway
            self.ctx.log.debug("presence batch marker: %s", exc)
        finally:
            self._inflight = False
            if (self._dirty or self._everyone) and self._flush is None:
                self._flush = asyncio.get_running_loop().call_later(0, self._push_dirty)

    def on_pbx_event(self, event: Any) -> None:
        """A PBX change: the phones it touches, their owners, everyone on the same call."""
        extensions = {getattr(event, "extension", None), getattr(event, "answered_by", None)}
        call_id = getattr(event, "call_id", None)
        call = self.ctx.pbx.calls.get(call_id) if call_id else None
        if call is not None:
            extensions.update(ch.extension for ch in call.channels.values())
        elif (record := getattr(event, "record", None)) is not None:
            extensions.update((record.from_, record.to, record.answered_by, record.ended_with))
        self.mark(self.contacts_of_extensions(extensions))

    def on_pbx_link(self, event: Any) -> None:
        """Connected, lost, resynced: every virtual JID may show something else."""
        self.mark(None)

    # -- rosters ----------------------------------------------------------------------------

    def team(self, user: UserConfig) -> str:
        """Ask the user's client to add every person and phone (for servers without mod_groups)."""
        xmpp = self.ctx.xmpp
        if xmpp is None or user.jid is None:
            return translate("presence.team_no_xmpp", user.language)
        contacts = xmpp.contacts()
        for local in contacts:
            xmpp.ask_subscription(user, local)
        return translate("presence.team", user.language, n=len(contacts))

    def roster_groups(
        self, users: Iterable[UserConfig] | None = None, component: str | None = None
    ) -> dict[str, list[tuple[str, str]]]:
        """Prosody's mod_groups groups: every person and phone (``ctibot xmpp-groups``).

        By default the configuration's users, component and ``[pbx.names]``.
        """
        config = self.ctx.config
        if component is None:
            if config.xmpp is None:
                raise ValueError("no [xmpp] section: no component to put in the rosters")
            component = config.xmpp.component
        return roster_groups(
            config.users if users is None else users, component, config.pbx.names
        )

    def groups_text(self, groups: Groups) -> str:
        """``groups`` as the text of a mod_groups file."""
        return groups_text(groups)

    def write_groups_file(self, path: str | Path, groups: Groups) -> None:
        """Write ``groups`` to Prosody's mod_groups file at ``path`` (replaced atomically)."""
        write_groups_file(path, groups)
