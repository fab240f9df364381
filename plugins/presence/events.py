"""Bus consumers: the PBX changes that may change what a virtual JID shows."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import (
    CallAnswered,
    CallEnded,
    CallRinging,
    CallStateChanged,
    DndChanged,
    ExtensionStatusChanged,
    ForwardChanged,
    PbxConnected,
    PbxDisconnected,
    PbxResynced,
)

from .services import PresenceService


def changed(service: PresenceService, event: Any) -> None:
    service.on_pbx_event(event)


def link(service: PresenceService, event: Any) -> None:
    service.on_pbx_link(event)


#: Domain events that may change what a virtual JID shows.
PRESENCE_EVENTS: tuple[type, ...] = (
    ExtensionStatusChanged,
    DndChanged,
    ForwardChanged,
    CallRinging,
    CallAnswered,
    CallEnded,
    CallStateChanged,
)

HANDLERS: dict[type, Any] = {
    **dict.fromkeys(PRESENCE_EVENTS, changed),
    PbxConnected: link,
    PbxDisconnected: link,
    PbxResynced: link,
}
