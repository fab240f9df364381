"""The JSON-ready snapshot of PbxState, and the invariants that keep it sound."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctibot.pbx.events import CallRecord
from ctibot.pbx.model import Call
from ctibot.pbx.state_time import iso

if TYPE_CHECKING:
    from ctibot.pbx.state import PbxState


def record_json(record: CallRecord) -> dict[str, Any]:
    return {
        "id": record.call_id,
        "from": record.from_,
        "from_name": record.from_name,
        "to": record.to,
        "direction": record.direction,
        "answered": record.answered,
        "answered_by": record.answered_by,
        "ended_with": record.ended_with,
        "queue": record.queue,
        "did": record.did,
        "start": iso(record.start),
        "answer": iso(record.answer),
        "end": iso(record.end),
        "duration": record.duration,
        "wait": record.wait,
        "transferred": record.transferred,
        "transfers": list(record.transfers),
        "picked_up_by": record.picked_up_by,
        "recorded": record.recorded,
        "forwarded_from": record.forwarded_from,
        "conference": record.conference,
        "spied": record.spied,
        "voicemail": record.voicemail,
    }


def call_json(call: Call) -> dict[str, Any]:
    bridged = sorted(
        {ch.party for ch in call.channels.values() if ch.bridge is not None and ch.party},
    )
    return {
        "id": call.id,
        "from": call.caller_number,
        "from_name": call.caller_name,
        "to": call.conference
        or call.spied
        or call.answered_by
        or call.queue
        or call.callee
        or call.dialed,
        "direction": call.direction,
        "state": call.state,
        "started_at": iso(call.started_at),
        "answered_at": iso(call.answered_at),
        "answered_by": call.answered_by,
        "talking_with": call.ended_with or call.answered_by,
        "bridged": bridged,
        "queue": call.queue,
        "did": call.did,
        "recording": call.recording,
        "recording_paused": call.recording_paused,
        "transferred": call.transferred,
        "transfers": list(call.transfers),
        "forwarded_from": call.forwarded_by,
        "conference": call.conference,
        "spied": call.spied,
        "voicemail": call.voicemail,
        "channels": sorted(ch.name for ch in call.channels.values()),
    }


def snapshot(state: PbxState) -> dict[str, Any]:
    now = state.clock()
    extension_calls: dict[str, list[str]] = {}
    for call in state.calls.values():
        for ch in call.channels.values():
            if ch.extension is not None:
                ids = extension_calls.setdefault(ch.extension, [])
                if call.id not in ids:
                    ids.append(call.id)
    calls = sorted(state.calls.values(), key=lambda c: (c.started_at, c.id))
    return {
        "extensions": {
            number: {
                "status": ext.status,
                "dnd": ext.dnd,
                "forward": dict(ext.forward),
                "devices": {name: d.state for name, d in sorted(ext.devices.items())},
                "calls": extension_calls.get(number, []),
            }
            for number, ext in sorted(state.extensions.items())
        },
        "calls": [call_json(call) for call in calls],
        "queues": {
            name: {
                "members": {
                    key: {
                        "name": m.name,
                        "interface": m.interface,
                        "dynamic": m.dynamic,
                        "paused": m.paused,
                        "reason": m.reason,
                        "status": m.status,
                        "penalty": m.penalty,
                        "calls_taken": m.calls_taken,
                    }
                    for key, m in sorted(queue.members.items())
                },
                "waiting": len(queue.callers),
                "callers": [
                    {
                        "call_id": state.channels[c.uniqueid].linkedid
                        if c.uniqueid in state.channels
                        else c.call_id,
                        "number": c.number,
                        "name": c.name,
                        "position": c.position,
                        "wait": max(0, round(now - c.joined_at)),
                    }
                    for c in sorted(queue.callers.values(), key=lambda c: (c.position, c.uniqueid))
                ],
                "strategy": queue.strategy,
                "answered": queue.answered,
                "abandoned": queue.abandoned,
            }
            for name, queue in sorted(state.queues.items())
        },
        "parkings": {
            slot: {
                "from": p.from_,
                "from_name": p.from_name,
                "parked_by": p.parked_by,
                "call_id": p.call_id,
                "lot": p.lot,
                "parked_at": iso(p.parked_at),
                "timeout": p.timeout,
            }
            for slot, p in sorted(state.parkings.items())
        },
        "mailboxes": {
            box: {"new": m.new, "old": m.old} for box, m in sorted(state.mailboxes.items())
        },
        "trunks": {
            name: dict(
                zip(("channels_in_use", "calls"), trunk.in_use(state.channels), strict=True),
                max_channels=trunk.max_channels,
            )
            for name, trunk in sorted(state.trunks.items())
        },
        "recent_calls": [record_json(r) for r in state.recent_calls],
    }


def consistency_errors(state: PbxState) -> list[str]:
    errors: list[str] = []
    channels = state.channels
    in_calls: set[str] = set()
    for call_id, call in state.calls.items():
        if call.id != call_id:
            errors.append(f"call {call_id!r} filed under another id")
        if not call.channels:
            errors.append(f"call {call_id!r} has no channel")
        for uid, ch in call.channels.items():
            in_calls.add(uid)
            if channels.get(uid) is not ch:
                errors.append(f"call {call_id!r} holds unknown channel {uid!r}")
            if ch.linkedid != call_id:
                errors.append(f"channel {uid!r} in call {call_id!r} links {ch.linkedid!r}")
        if not call.ringing <= set(call.channels):
            errors.append(f"call {call_id!r} rings a channel it lost")
    for uid in channels:
        if uid not in in_calls:
            errors.append(f"channel {uid!r} belongs to no call")
    for bridge, members in state._bridges.items():
        for uid in members:
            ch = channels.get(uid)
            if ch is None or ch.bridge != bridge:
                errors.append(f"bridge {bridge!r} lists {uid!r} that is not in it")
    for name, trunk in state.trunks.items():
        if not trunk.channels <= set(channels):
            errors.append(f"trunk {name!r} counts channels that are gone")
    for name, queue in state.queues.items():
        for uid in queue.callers:
            if uid not in channels:
                errors.append(f"queue {name!r} has a waiting caller without channel {uid!r}")
    return errors
