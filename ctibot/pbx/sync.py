"""Reads the whole PBX state over AMI after a (re)connect: the actions and their parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ctibot.pbx import actions as act
from ctibot.pbx.errors import AmiError
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.naming import is_extension_like
from ctibot.pbx.state import ResyncData

Send = Callable[[dict[str, str]], Awaitable[Any]]
ASTDB_FAMILIES = ("DND", "CF", "CFB", "CFU")


def _items(reply: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [m for m in reply if m.get("Event") == event]


async def fetch_resync(send: Send, layout: PbxLayout, known: Iterable[str] = ()) -> ResyncData:
    """Ask for everything at once (AMI pipelines) and gather it into ResyncData.

    ``known`` are the extensions already tracked (configured or discovered): with
    an Asterisk older than 20 (no DBGetTree) their AstDB keys are read one by one,
    with those of every phone's hint the PBX lists now.
    """
    channels, extensions, devices, queues, parked, voicemail, trees = await asyncio.gather(
        send(act.core_show_channels()),
        send(act.extension_state_list()),
        send(act.device_state_list()),
        send(act.queue_status()),
        send(act.parked_calls()),
        _voicemail_counts(send),
        _astdb_trees(send),
    )
    hints = _items(extensions, "ExtensionStatus")
    astdb = trees
    if astdb is None:
        listed = [
            str(m.get("Exten", ""))
            for m in hints
            if m.get("Context") == layout.hint_context and is_extension_like(str(m.get("Exten")))
        ]
        astdb = await _astdb_by_key(send, [*layout.extensions, *known, *listed])
    return ResyncData(
        channels=_items(channels, "CoreShowChannel"),
        extension_states=hints,
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


def _not_found(exc: AmiError) -> bool:
    return "not found" in str(exc).lower()


async def _astdb_trees(send: Send) -> dict[str, str] | None:
    """DND/CF/CFB/CFU of every extension: one DBGetTree per family; None without DBGetTree.

    Keys of any extension-like number are kept: which of them are extensions is the
    state's business (configured and discovered ones).
    """

    async def tree(family: str) -> list[dict[str, Any]]:
        try:
            return await send(act.db_get_tree(family))
        except AmiError as exc:
            if _not_found(exc):
                return []  # an empty family
            raise

    try:
        trees = await asyncio.gather(*(tree(family) for family in ASTDB_FAMILIES))
    except AmiError:
        return None  # no DBGetTree before Asterisk 20
    values: dict[str, str] = {}
    for reply in trees:
        for item in _items(reply, "DBGetTreeResponse"):
            key = str(item.get("Key", "")).strip("/")
            family, _, ext = key.partition("/")
            if family in ASTDB_FAMILIES and is_extension_like(ext):
                values[key] = str(item.get("Val", ""))
    return values


async def fetch_astdb(send: Send, extensions: Iterable[str]) -> dict[str, str]:
    """DND/CF/CFB/CFU as ``{"DND/201": "YES", …}``: whole families, else key by key."""
    values = await _astdb_trees(send)
    if values is None:
        values = await _astdb_by_key(send, extensions)
    return values


async def fetch_extension_astdb(send: Send, extension: str) -> dict[str, str | None]:
    """The four keys of one extension (DBGet each): value, None = absent; unread keys left out."""
    out: dict[str, str | None] = {}
    for key, value in (await _get_keys(send, extension)).items():
        if value is not _UNREAD:
            out[key] = value  # type: ignore[assignment]
    return out


_UNREAD = object()


async def _get_keys(send: Send, extension: str) -> dict[str, object]:
    async def one(family: str) -> tuple[str, object]:
        key = f"{family}/{extension}"
        try:
            reply = await send(act.db_get(family, extension))
        except AmiError as exc:
            return key, None if _not_found(exc) else _UNREAD
        for item in _items(reply, "DBGetResponse"):
            return key, str(item.get("Val", ""))
        return key, None

    return dict(await asyncio.gather(*(one(family) for family in ASTDB_FAMILIES)))


async def _astdb_by_key(send: Send, extensions: Iterable[str]) -> dict[str, str]:
    """Older Asterisk without DBGetTree: one DBGet per key."""
    wanted = sorted({e for e in extensions if is_extension_like(e)})
    found = await asyncio.gather(*(_get_keys(send, ext) for ext in wanted))
    return {key: value for keys in found for key, value in keys.items() if isinstance(value, str)}
