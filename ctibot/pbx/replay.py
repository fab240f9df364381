"""Replays a raw AMI capture through the framer and the state model (field debugging)."""

from __future__ import annotations

from typing import Any

from ctibot.pbx.events import DomainEvent
from ctibot.pbx.framing import AmiFramer
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.state import PbxState


def replay_events(data: bytes, layout: PbxLayout) -> tuple[PbxState, list[DomainEvent]]:
    """Feed raw AMI bytes (as received, banner first) to a replay-clocked state."""
    state = PbxState.for_replay(layout)
    events: list[DomainEvent] = []
    for message in AmiFramer().feed(data):
        if "Event" in message:
            events.extend(state.apply(message))
    return state, events


def replay_capture(data: bytes, layout: PbxLayout) -> dict[str, Any]:
    """The final state, as JSON-ready data, after replaying raw AMI bytes."""
    state, _ = replay_events(data, layout)
    return state.snapshot()
