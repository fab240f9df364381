"""The running ctibot: wires config, PBX state, AMI client, bus, store, plugins and surfaces."""

from __future__ import annotations

import logging
from typing import IO, Any

from ctibot.bus import EventBus
from ctibot.commands.base import Registry
from ctibot.config import Config
from ctibot.loader import Plugins
from ctibot.pbx import events as ev
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState
from ctibot.services.registry import ServiceRegistry
from ctibot.store import Store

log = logging.getLogger("ctibot")


class CtiApp:
    """One ctibot instance: everything shares one asyncio loop.

    The plugins are loaded at once (their services and commands, without a database):
    ``app.services`` is the registry by plugin name, ``app.commands`` the commands of
    the enabled plugins. ``start`` then opens the store and runs the plugins'
    migrations, builds the XMPP gateway and the HTTP shell, runs the plugins' setups
    (with ``xmpp`` = the gateway's hooks) and connects to the PBX.
    """

    def __init__(
        self, config: Config, *, record: IO[bytes] | None = None, database: bool = True
    ) -> None:
        self.config = config
        self.bus = EventBus()
        self.state = PbxState(config.layout())
        self.ami = AmiClient(config.pbx, self.state, self.bus, record=record)
        self.store: Store | None = None
        self.plugins = Plugins(
            config,
            pbx=self.state,
            ami=self.ami,
            bus=self.bus,
            publish=self.bus.publish_all,
            database=database,
        )
        self.services: ServiceRegistry = self.plugins.services
        self.commands: Registry = self.plugins.commands
        self.xmpp: Any = None
        self.http: Any = None  # ctibot.http.shell.HttpShell
        self.web: Any = None  # ctibot.http.web.WebApi: what plugins' routes get
        self._database = database

    async def start(self) -> None:
        """Open the database, start the surfaces, connect to the PBX (it reconnects by itself)."""
        if self._database:
            self.store = await Store.open(self.config.database.path)
            await self.plugins.migrate(self.store)
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
            self.plugins.attach_xmpp(getattr(self.xmpp, "hooks", None))
        web = getattr(self.config, "web", None)
        if web is not None and self._database:
            from ctibot.http.shell import HttpShell
            from ctibot.http.web import WebApi

            self.http = HttpShell(web.listen)
            packages = {
                state.name: state.plugin.routes.__module__.rpartition(".")[0]
                for state in self.plugins.enabled()
                if state.plugin is not None and state.plugin.routes is not None
            }
            self.web = WebApi(self.http, self.config, self.store, plugin_packages=packages)
            self.plugins.add_routes(self.web)
        if self._database:
            await self.plugins.setup()
        if self.http is not None:
            try:
                await self.http.start()
            except OSError:
                await self.stop()  # what started so far (the store's thread) must not linger
                raise
        if self.xmpp is not None:
            await self.xmpp.start()
        self.ami.start()

    async def stop(self) -> None:
        """Disconnect cleanly."""
        await self.plugins.teardown()
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
