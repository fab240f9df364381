"""The service and command tests' office: users over the demo PBX (fixture `office`, conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ctibot.config import Config, PbxConfig, UserConfig
from ctibot.demo.server import DemoPbx
from ctibot.pbx.validate import frame_check
from ctibot.permissions import DEFAULT_PROFILES
from ctibot.services import Services, load_services

from harness import Harness

USERS = (
    UserConfig("alice", "Alice Anders", ("201",), jid="alice@example.com"),
    UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.com", language="it"),
    UserConfig(
        "carol",
        "Carol Clark",
        ("203", "207"),
        mobile="+393331234567",
        jid="carol@example.com",
        profile="supervisor",
    ),
    UserConfig("dave", "Dave Davis", ("204",), jid="dave@example.com", profile="guest"),
    UserConfig("eve", "Eve Evans", ("205",), jid="eve@example.com", language="it"),
)
PROFILES = {**DEFAULT_PROFILES, "guest": frozenset({"call"})}


def office_config(pbx_config: PbxConfig | None = None) -> Config:
    return Config(
        path=Path("office.toml"),
        pbx=pbx_config or PbxConfig(secret="x"),
        users=USERS,
        profiles=dict(PROFILES),
    )


class RecordingSender:
    """Wraps the AMI client: every action is checked by frame_check and kept."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[dict[str, str]] = []
        self.bus = getattr(inner, "bus", None)

    @property
    def connected(self) -> bool:
        return self.inner.connected

    async def send(self, action: dict[str, str]) -> Any:
        frame_check(action)
        self.sent.append(dict(action))
        return await self.inner.send(action)

    def of(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.sent if a.get("Action") == name]


@dataclass
class Office:
    """The demo PBX, ctibot's AMI client and state, the services and the users."""

    pbx: DemoPbx
    harness: Harness
    ami: RecordingSender
    services: Services
    users: dict[str, UserConfig] = field(default_factory=dict)

    async def until(self, predicate: Any, timeout: float = 10.0) -> None:
        await self.harness.until(predicate, timeout)

    def ext(self, number: str):
        return self.harness.state.extensions[number]


@pytest.fixture
async def office(pbx: DemoPbx) -> AsyncIterator[Office]:
    harness = Harness(pbx)
    harness.client.start()
    await harness.client.wait_ready(5)
    ami = RecordingSender(harness.client)
    config = office_config(harness.config)
    services = load_services(config, harness.state, ami)
    yield Office(pbx, harness, ami, services, {u.name: u for u in config.users})
    await harness.client.stop()


@pytest.fixture
async def board(pbx: DemoPbx) -> AsyncIterator[Office]:
    """The demo office with the calls and board plugins, their bus handlers subscribed."""
    harness = Harness(pbx)
    harness.client.start()
    await harness.client.wait_ready(5)
    ami = RecordingSender(harness.client)
    config = office_config(harness.config)
    services = load_services(config, harness.state, ami, bus=harness.bus, only=["calls", "board"])
    services.calls.park_confirm = 10.0
    yield Office(pbx, harness, ami, services, {u.name: u for u in config.users})
    services.board.stop()
    await harness.client.stop()
