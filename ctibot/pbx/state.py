"""PbxState: the pure model of the PBX, fed AMI messages, emitting domain events.

No I/O and no asyncio: ``apply(msg)`` takes every AMI message (dict), returns the
domain events it caused; ``resync(data)`` reconciles with what the AMI client
listed after a (re)connect; ``snapshot()`` is the JSON-ready picture. Time comes
from an injected clock, or from the events themselves in replay mode
(:meth:`PbxState.for_replay`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ctibot.pbx.events import CallRecord, DomainEvent, PbxResynced
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.model import Call, Channel, Extension, Mailbox, ParkedCall, Queue, Trunk
from ctibot.pbx.naming import ChannelNaming
from ctibot.pbx.state_bridges import BridgeTracking
from ctibot.pbx.state_lines import LineTracking
from ctibot.pbx.state_queues import QueueTracking
from ctibot.pbx.state_resync import Resync, ResyncData
from ctibot.pbx.state_snapshot import consistency_errors, snapshot
from ctibot.pbx.state_time import (
    CdrTimes,
    ReplayClock,
    parse_event_tv,
    parse_number_time,
)

__all__ = ["PbxState", "ReplayClock", "ResyncData"]

log = logging.getLogger(__name__)

Events = list[DomainEvent]
RECENT_CALLS = 50


def flatten(msg: dict) -> dict[str, str]:
    """A message whose values are all strings: a repeated key keeps its last value."""
    flat: dict[str, str] = {}
    for key, value in msg.items():
        if isinstance(value, str):
            flat[str(key)] = value
        elif isinstance(value, list) and value and isinstance(value[-1], str):
            flat[str(key)] = value[-1]
        else:
            flat[str(key)] = ""
    return flat


class PbxState(BridgeTracking, LineTracking, QueueTracking, Resync):
    """Extensions, devices, channels, calls, queues, parkings, trunks and mailboxes."""

    def __init__(self, layout: PbxLayout, clock: Callable[[], float] = time.time) -> None:
        self.layout = layout
        self.naming = ChannelNaming(layout)
        self.clock = clock
        # Replay mode: the clock follows the times written in the events.
        self._replay = clock if isinstance(clock, ReplayClock) else None
        self._cdr_times = CdrTimes()
        self._channels: dict[str, Channel] = {}
        self._by_name: dict[str, str] = {}
        self._calls: dict[str, Call] = {}
        self._call_of_uid: dict[str, str] = {}
        self._bridges: dict[str, set[str]] = {}
        self._internal_context = layout.internal_context
        self.extensions: dict[str, Extension] = {n: Extension(n) for n in layout.extensions}
        self.queues: dict[str, Queue] = {}
        self.parkings: dict[str, ParkedCall] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.trunks: dict[str, Trunk] = {
            t.name: Trunk(t.name, t.max_channels) for t in layout.trunks
        }
        self.recent_calls: deque[CallRecord] = deque(maxlen=RECENT_CALLS)
        self._handlers: dict[str, Callable[[dict], Events]] = {
            "Newchannel": self._on_newchannel,
            "NewCallerid": self._on_newcallerid,
            "Newstate": self._on_newstate,
            "DialBegin": self._on_dial_begin,
            "DialEnd": self._on_dial_end,
            "OriginateResponse": self._on_originate_response,
            "Hangup": self._on_hangup,
            "Rename": self._on_rename,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "BridgeDestroy": self._on_bridge_destroy,
            "Hold": self._on_hold,
            "Unhold": self._on_hold,
            "BlindTransfer": self._on_transfer,
            "AttendedTransfer": self._on_transfer,
            "ChanSpyStart": self._on_chanspy_start,
            "MixMonitorStart": self._on_mixmonitor,
            "MixMonitorStop": self._on_mixmonitor,
            "MixMonitorMute": self._on_mixmonitor,
            "Cdr": self._on_cdr,
            "ExtensionStatus": self._on_extension_status,
            "DeviceStateChange": self._on_device_state,
            "DBGetResponse": self._on_db_get,
            "DBGetTreeResponse": self._on_db_get_tree,
            "MessageWaiting": self._on_message_waiting,
            "ParkedCall": self._on_parked_call,
            "UnParkedCall": self._on_unparked,
            "ParkedCallTimeOut": self._on_unparked,
            "ParkedCallGiveUp": self._on_unparked,
            "QueueMemberAdded": self._on_queue_member,
            "QueueMemberPause": self._on_queue_member,
            "QueueMemberPenalty": self._on_queue_member,
            "QueueMemberStatus": self._on_queue_member,
            "QueueMemberRinginuse": self._on_queue_member,
            "QueueMember": self._on_queue_member,
            "QueueMemberRemoved": self._on_queue_member_removed,
            "QueueParams": self._on_queue_params,
            "QueueEntry": self._on_queue_entry,
            "QueueCallerJoin": self._on_queue_caller_join,
            "QueueCallerLeave": self._on_queue_caller_leave,
            "QueueCallerAbandon": self._on_queue_caller_abandon,
            "AgentConnect": self._on_agent_connect,
        }
        self._app_handlers: dict[str, Callable[[dict], Events]] = {
            "VoiceMail": self._on_voicemail_app,
            "Echo": self._on_echo_app,
        }

    @classmethod
    def for_replay(cls, layout: PbxLayout) -> PbxState:
        """A state whose clock advances from the times embedded in the replayed events."""
        return cls(layout, ReplayClock())

    def apply(self, msg: dict) -> Events:
        """Feed one AMI message; return the domain events it caused (often none)."""
        try:
            handler = self._handlers.get(msg.get("Event"))  # type: ignore[arg-type]
        except (AttributeError, TypeError):  # not a dict, or a repeated Event key (a list)
            return []
        if handler is None:
            # The dialplan steps the state reads: a caller sent to a mailbox (a DND rule,
            # a no-answer), a caller the PBX answers itself (the *43 echo test). Every
            # other Newexten costs this one look-up.
            handler = self._app_handlers.get(msg.get("Application"))  # type: ignore[arg-type]
            if handler is None or msg.get("Event") != "Newexten":
                if self._replay is not None:
                    self._observe_times(msg)
                return []
        try:
            for value in msg.values():
                if value.__class__ is not str:
                    msg = flatten(msg)
                    break
            if self._replay is not None:
                self._observe_times(msg)
            return handler(msg)
        except Exception:
            # Whatever the PBX (or a stranger's caller ID) sends, the state lives on.
            log.exception("AMI message not understood; state kept: %.200r", msg)
            return []

    def _observe_times(self, msg: dict) -> None:
        replay = self._replay
        assert replay is not None
        stamp = msg.get("Timestamp")
        if isinstance(stamp, str):
            replay.observe(parse_number_time(stamp))
        tv = msg.get("EventTV")
        if isinstance(tv, str):
            # Whole seconds, like every other time in a capture: a fraction here
            # would put the clock ahead of the Uniqueid and CDR times that follow.
            seconds = parse_event_tv(tv)
            replay.observe(None if seconds is None else float(int(seconds)))

    def _safe(self, fn: Callable[..., Events], *args: Any) -> Events:
        try:
            return fn(*args)
        except Exception:
            log.exception("resync data not understood; skipped")
            return []

    def resync(self, data: ResyncData) -> Events:
        """Reconcile with what the PBX listed after a (re)connect; ends with PbxResynced."""
        data = ResyncData(
            channels=_flat_list(data.channels),
            extension_states=_flat_list(data.extension_states),
            device_states=_flat_list(data.device_states),
            queue_status=_flat_list(data.queue_status),
            parked=_flat_list(data.parked),
            mailboxes=data.mailboxes if isinstance(data.mailboxes, dict) else None,
            astdb=data.astdb if isinstance(data.astdb, dict) else None,
        )
        out = self._resync_all(data)
        out.append(
            PbxResynced(
                counts={
                    "calls": len(self._calls),
                    "channels": len(self._channels),
                    "extensions": len(self.extensions),
                    "queues": len(self.queues),
                    "parked": len(self.parkings),
                }
            )
        )
        return out

    def snapshot(self) -> dict[str, Any]:
        """The JSON-ready picture of the PBX (see issue 2 for the shape)."""
        return snapshot(self)

    def consistency_errors(self) -> list[str]:
        """Broken invariants between channels, calls, bridges and trunks (empty = sound)."""
        return consistency_errors(self)

    @property
    def calls(self) -> dict[str, Call]:
        return self._calls

    @property
    def channels(self) -> dict[str, Channel]:
        return self._channels


def _flat_list(items: list[dict] | None) -> list[dict[str, str]] | None:
    if items is None:
        return None
    return [flatten(item) for item in items if isinstance(item, dict)]
