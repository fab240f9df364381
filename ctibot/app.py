"""The running ctibot: wires the configuration, the PBX state, the AMI client and the bus."""

from __future__ import annotations

import logging
from typing import IO

from ctibot.bus import EventBus
from ctibot.config import Config
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState

log = logging.getLogger("ctibot")


class CtiApp:
    """One ctibot instance: everything shares one asyncio loop."""

    def __init__(self, config: Config, *, record: IO[bytes] | None = None) -> None:
        self.config = config
        self.bus = EventBus()
        self.state = PbxState(config.layout())
        self.ami = AmiClient(config.pbx, self.state, self.bus, record=record)

    async def start(self) -> None:
        """Connect to the PBX (in the background; it reconnects by itself)."""
        self.ami.start()

    async def stop(self) -> None:
        """Disconnect cleanly."""
        await self.ami.stop()

    async def __aenter__(self) -> CtiApp:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
