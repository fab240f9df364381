"""The running ctibot: wires config, PBX state, AMI client, event bus, store and surfaces."""

from __future__ import annotations

import logging
from typing import IO

from ctibot.bus import EventBus
from ctibot.config import Config
from ctibot.http import HttpShell
from ctibot.pbx import events as ev
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState
from ctibot.services import Services
from ctibot.store import Store

log = logging.getLogger("ctibot")


class CtiApp:
    """One ctibot instance: everything shares one asyncio loop."""

    def __init__(
        self, config: Config, *, record: IO[bytes] | None = None, database: bool = True
    ) -> None:
        self.config = config
        self.bus = EventBus()
        self.state = PbxState(config.layout())
        self.ami = AmiClient(config.pbx, self.state, self.bus, record=record)
        self.store: Store | None = None
        self.services = Services(config, self.state, self.ami, publish=self.bus.publish_all)
        self.xmpp = None
        # The HTTP shell exists from the start so that plugins can add routes before it serves.
        self.http = HttpShell(config.web.listen) if config.web is not None else None
        self._database = database

    async def start(self) -> None:
        """Open the database, start the surfaces, connect to the PBX (it reconnects by itself)."""
        if self._database:
            self.store = await Store.open(self.config.database.path)
            self.services.history = self.store
            self.bus.subscribe(self._keep_call, ev.CallEnded)
        if self.config.xmpp is not None and self.store is not None:
            from ctibot.xmpp.gateway import XmppGateway

            self.xmpp = XmppGateway(
                self.config,
                self.state,
                self.bus,
                self.services,
                self.store,
                lambda: self.ami.connected,
            )
            await self.xmpp.start()
        if self.http is not None:
            await self.http.start()
        self.ami.start()

    async def stop(self) -> None:
        """Disconnect cleanly."""
        if self.http is not None:
            await self.http.stop()
        if self.xmpp is not None:
            await self.xmpp.stop()
        await self.ami.stop()
        if self.store is not None:
            await self.store.close()
            self.store = None

    async def _keep_call(self, event: ev.CallEnded) -> None:
        record = event.record
        if record.merged_into is not None or self.store is None:
            return
        tracked = self.state.naming.is_tracked  # users' phones and the PBX's others
        parties = [
            p
            for p in (
                record.from_,
                record.to,
                record.answered_by,
                record.ended_with,
                *record.transfers,
            )
            if p is not None and tracked(p)
        ]
        if parties:
            await self.store.add_call(record, parties)

    async def __aenter__(self) -> CtiApp:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
