"""Reads the whole PBX state over AMI after a (re)connect: the actions and their parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ctibot.pbx import actions as act
from ctibot.pbx.errors import AmiError
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.state import ResyncData

Send = Callable[[dict[str, str]], Awaitable[Any]]
ASTDB_FAMILIES = ("DND", "CF", "CFB", "CFU")


def _items(reply: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [m for m in reply if m.get("Event") == event]


async def fetch_resync(send: Send, layout: PbxLayout) -> ResyncData:
    """Ask for everything at once (AMI pipelines) and gather it into ResyncData."""
    channels, extensions, devices, queues, parked, voicemail, astdb = await asyncio.gather(
        send(act.core_show_channels()),
        send(act.extension_state_list()),
        send(act.device_state_list()),
        send(act.queue_status()),
        send(act.parked_calls()),
        _voicemail_counts(send),
        fetch_astdb(send, layout),
    )
    return ResyncData(
        channels=_items(channels, "CoreShowChannel"),
        extension_states=_items(extensions, "ExtensionStatus"),
        device_states=_items(devices, "DeviceStateChange"),
        queue_status=[
            m for m in queues if m.get("Event") in ("QueueParams", "QueueMember", "QueueEntry")
        ],
        parked=_items(parked, "ParkedCall"),
        mailboxes=voicemail,
        astdb=astdb,
    )


async def _voicemail_counts(send: Send) -> dict[str, tuple[int, int]]:
    try:
        reply = await send(act.voicemail_users_list())
    except AmiError:
        return {}  # no app_voicemail on this PBX
    counts: dict[str, tuple[int, int]] = {}
    for entry in _items(reply, "VoicemailUserEntry"):
        box = str(entry.get("VoiceMailbox", ""))
        try:
            counts[box] = (
                int(entry.get("NewMessageCount", 0)),
                int(entry.get("OldMessageCount", 0)),
            )
        except (TypeError, ValueError):
            continue
    return counts


async def fetch_astdb(send: Send, layout: PbxLayout) -> dict[str, str]:
    """DND/CF/CFB/CFU of every configured extension, as ``{"DND/201": "YES", …}``."""
    wanted = set(layout.extensions)
    values: dict[str, str] = {}

    async def tree(family: str) -> list[dict[str, Any]]:
        try:
            return await send(act.db_get_tree(family))
        except AmiError as exc:
            if "not found" in str(exc).lower():
                return []  # an empty family
            raise

    try:
        trees = await asyncio.gather(*(tree(family) for family in ASTDB_FAMILIES))
    except AmiError:
        return await _astdb_by_key(send, layout)  # no DBGetTree before Asterisk 20
    for reply in trees:
        for item in _items(reply, "DBGetTreeResponse"):
            key = str(item.get("Key", "")).strip("/")
            family, _, ext = key.partition("/")
            if family in ASTDB_FAMILIES and ext in wanted:
                values[key] = str(item.get("Val", ""))
    return values


async def _astdb_by_key(send: Send, layout: PbxLayout) -> dict[str, str]:
    """Older Asterisk without DBGetTree: one DBGet per key."""

    async def one(family: str, ext: str) -> tuple[str, str | None]:
        try:
            reply = await send(act.db_get(family, ext))
        except AmiError:
            return f"{family}/{ext}", None
        for item in _items(reply, "DBGetResponse"):
            return f"{family}/{ext}", str(item.get("Val", ""))
        return f"{family}/{ext}", None

    pairs = await asyncio.gather(*(one(f, e) for e in layout.extensions for f in ASTDB_FAMILIES))
    return {key: value for key, value in pairs if value is not None}
