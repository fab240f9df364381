"""Queues: members (static/dynamic, pause, penalty, status), waiting callers and counters."""

from __future__ import annotations

from collections.abc import Callable

from ctibot.pbx.events import (
    DomainEvent,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
)
from ctibot.pbx.model import QUEUE_MEMBER_STATUS, Call, Channel, Queue, QueueCaller, QueueMember
from ctibot.pbx.naming import ChannelNaming, clean_number, clean_text
from ctibot.pbx.state_calls import clean_name, to_int
from ctibot.pbx.state_time import ReplayClock

Events = list[DomainEvent]
MAX_QUEUE_NAME = 80


class QueueTracking:
    """The queue half of PbxState (attributes set by PbxState)."""

    naming: ChannelNaming
    clock: Callable[[], float]
    _replay: ReplayClock | None
    queues: dict[str, Queue]
    _channels: dict[str, Channel]
    _calls: dict[str, Call]

    def _queue(self, msg: dict) -> Queue | None:
        name = clean_text(msg.get("Queue", ""), MAX_QUEUE_NAME)
        if not name:
            return None
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        return queue

    def _member_key(self, msg: dict) -> tuple[str, str]:
        interface = clean_text(msg.get("Interface", "") or msg.get("Location", ""), 120)
        naming = self.naming
        key = (
            naming.extension_of_interface(interface)
            or naming.extension_of_interface(msg.get("StateInterface", ""))
            or interface
        )
        return key, interface

    @staticmethod
    def _member_event(queue: Queue, member: QueueMember, change: str) -> QueueMemberChanged:
        return QueueMemberChanged(
            queue=queue.name,
            member=member.key,
            change=change,
            dynamic=member.dynamic,
            paused=member.paused,
            reason=member.reason,
            status=member.status,
            penalty=member.penalty,
        )

    def _update_member(self, queue: Queue, msg: dict) -> Events:
        key, interface = self._member_key(msg)
        if not key:
            return []
        member = queue.members.get(key)
        added = member is None
        if member is None:
            member = queue.members[key] = QueueMember(key=key, interface=interface)
        before = (member.paused, member.reason, member.penalty, member.status)
        member.name = clean_text(msg.get("MemberName", "") or msg.get("Name", ""))
        member.state_interface = clean_text(msg.get("StateInterface", ""), 120)
        member.dynamic = msg.get("Membership") == "dynamic"
        member.paused = msg.get("Paused") == "1"
        member.reason = clean_text(msg.get("PausedReason", "")) if member.paused else ""
        member.penalty = to_int(msg.get("Penalty", ""))
        member.status = QUEUE_MEMBER_STATUS.get(msg.get("Status", ""), "unknown")
        member.calls_taken = to_int(msg.get("CallsTaken", ""))
        member.in_call = msg.get("InCall") == "1"
        if added:
            change = "added"
        elif before[0] != member.paused or (member.paused and before[1] != member.reason):
            change = "paused" if member.paused else "unpaused"
        elif before[2] != member.penalty:
            change = "penalty"
        elif before[3] != member.status:
            change = "status"
        else:
            return []
        return [self._member_event(queue, member, change)]

    def _on_queue_member(self, msg: dict) -> Events:
        queue = self._queue(msg)
        return [] if queue is None else self._update_member(queue, msg)

    def _on_queue_member_removed(self, msg: dict) -> Events:
        queue = self._queue(msg)
        if queue is None:
            return []
        member = queue.members.pop(self._member_key(msg)[0], None)
        return [] if member is None else [self._member_event(queue, member, "removed")]

    def _on_queue_params(self, msg: dict) -> Events:
        queue = self._queue(msg)
        if queue is not None:
            queue.strategy = clean_text(msg.get("Strategy", ""), 40)
            queue.answered = to_int(msg.get("Completed", ""), queue.answered)
            queue.abandoned = to_int(msg.get("Abandoned", ""), queue.abandoned)
        return []

    def _add_caller(self, queue: Queue, msg: dict, waited: int) -> Events:
        uid = msg.get("Uniqueid", "")
        ch = self._channels.get(uid)
        # A caller is a channel: one we do not know of cannot be waiting (and would
        # never leave, since its hangup would never come).
        if ch is None or uid in queue.callers:
            return []
        call_id = ch.linkedid
        call = self._calls.get(call_id)
        joined_at = self.clock() - waited
        if call is not None:
            call.queue = queue.name
            call.queue_joined_at = joined_at
        caller = QueueCaller(
            uniqueid=uid,
            call_id=call_id,
            number=clean_number(msg.get("CallerIDNum", "")),
            name=clean_name(msg.get("CallerIDName", "")),
            position=to_int(msg.get("Position", "")),
            joined_at=joined_at,
        )
        queue.callers[uid] = caller
        return [
            QueueCallerJoined(
                queue=queue.name,
                call_id=call_id,
                caller_number=caller.number,
                caller_name=caller.name,
                position=caller.position,
                count=len(queue.callers),
            )
        ]

    def _on_queue_caller_join(self, msg: dict) -> Events:
        queue = self._queue(msg)
        return [] if queue is None else self._add_caller(queue, msg, 0)

    def _on_queue_entry(self, msg: dict) -> Events:
        queue = self._queue(msg)
        return [] if queue is None else self._add_caller(queue, msg, to_int(msg.get("Wait", "")))

    def _on_queue_caller_leave(self, msg: dict) -> Events:
        queue = self._queue(msg)
        if queue is None:
            return []
        caller = queue.callers.pop(msg.get("Uniqueid", ""), None)
        if caller is None:
            return []
        return [
            QueueCallerLeft(
                queue=queue.name,
                call_id=caller.call_id,
                position=to_int(msg.get("Position", ""), caller.position),
                count=len(queue.callers),
            )
        ]

    def _on_queue_caller_abandon(self, msg: dict) -> Events:
        queue = self._queue(msg)
        if queue is None:
            return []
        queue.abandoned += 1
        caller = queue.callers.get(msg.get("Uniqueid", ""))
        return [
            QueueCallerAbandoned(
                queue=queue.name,
                call_id=caller.call_id if caller else msg.get("Linkedid", ""),
                caller_number=caller.number if caller else None,
                position=to_int(msg.get("Position", "")),
                original_position=to_int(msg.get("OriginalPosition", "")),
                hold_time=to_int(msg.get("HoldTime", "")),
            )
        ]

    def _on_agent_connect(self, msg: dict) -> Events:
        queue = self._queue(msg)
        if queue is None:
            return []
        queue.answered += 1
        ch = self._channels.get(msg.get("Uniqueid", ""))
        call = self._calls.get(ch.linkedid) if ch is not None else None
        member = self.naming.extension_of_interface(msg.get("Interface", ""))
        if call is not None and call.answered_at is not None and member is not None:
            # The queue's own word on which member took the call wins (quietly:
            # CallAnswered was told already) over two legs answering at once.
            call.answered_by = member
        if self._replay is not None and call is not None and call.queue_joined_at is not None:
            # A replay has no clock here: the caller joined, then waited HoldTime.
            connected = call.queue_joined_at + to_int(msg.get("HoldTime", ""))
            self._replay.observe(connected)
            if call.answered_at is not None and call.answered_at < connected:
                call.answered_at = connected
        return []
