"""AMI queue actions of the demo PBX: status, summary, members, pause, penalty, log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctibot.demo import messages as m
from ctibot.demo.office import QueueMember
from ctibot.demo.registry import action, arg, send_list, truthy

if TYPE_CHECKING:
    from ctibot.demo.server import AmiSession


# -- queues -----------------------------------------------------------------------
def _queue_params(s: AmiSession, queue, aid: str | None) -> bytes:
    callers = s.pbx.engine.dialplan.queue_callers.get(queue.name, [])
    return m.list_item_tail(
        "QueueParams",
        aid,
        [
            ("Queue", queue.name),
            ("Max", 0),
            ("Strategy", queue.strategy),
            ("Calls", len(callers)),
            ("Holdtime", queue.holdtime),
            ("TalkTime", queue.talktime),
            ("Completed", queue.completed),
            ("Abandoned", queue.abandoned),
            ("ServiceLevel", 60),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", 0),
        ],
    )


def _queue_member(s: AmiSession, queue, member, aid: str | None) -> bytes:
    return m.list_item_tail(
        "QueueMember",
        aid,
        [
            ("Queue", queue.name),
            ("Name", member.name),
            ("Location", member.interface),
            ("StateInterface", member.state_interface),
            ("Membership", "dynamic" if member.dynamic else "static"),
            ("Penalty", member.penalty),
            ("CallsTaken", member.calls_taken),
            ("LastCall", member.last_call),
            ("LastPause", member.last_pause),
            ("LoginTime", member.login_time or int(s.pbx.started_at)),
            ("InCall", int(member.in_call)),
            ("Status", s.pbx.engine.member_status(member)),
            ("Paused", int(member.paused)),
            ("PausedReason", member.reason),
            ("Wrapuptime", 0),
        ],
    )


@action("QueueStatus")
async def queue_status(s: AmiSession, msg: dict, aid: str | None) -> None:
    office = s.pbx.office
    name, member_filter = arg(msg, "Queue"), arg(msg, "Member")
    queues = (
        [office.queues[name]]
        if name in office.queues
        else ([] if name else list(office.queues.values()))
    )
    now = s.pbx.clock.now()
    items = [m.list_start(aid, "Queue status will follow")]
    count = 0
    for queue in queues:
        items.append(_queue_params(s, queue, aid))
        count += 1
        for member in queue.members.values():
            if member_filter and member.interface != member_filter:
                continue
            items.append(_queue_member(s, queue, member, aid))
            count += 1
        for position, (ch, joined) in enumerate(
            s.pbx.engine.dialplan.queue_callers.get(queue.name, []), 1
        ):
            items.append(
                m.list_item_tail(
                    "QueueEntry",
                    aid,
                    [
                        ("Queue", queue.name),
                        ("Position", position),
                        ("Channel", ch.name),
                        ("Uniqueid", ch.uniqueid),
                        ("CallerIDNum", ch.cid_num),
                        ("CallerIDName", ch.cid_name),
                        ("ConnectedLineNum", ch.conn_num),
                        ("ConnectedLineName", ch.conn_name),
                        ("Wait", int(now - joined)),
                        ("Priority", 0),
                    ],
                )
            )
            count += 1
    items.append(m.list_complete("QueueStatusComplete", aid, count))
    send_list(s, items)


@action("QueueSummary")
async def queue_summary(s: AmiSession, msg: dict, aid: str | None) -> None:
    office, e = s.pbx.office, s.pbx.engine
    name = arg(msg, "Queue")
    queues = (
        [office.queues[name]]
        if name in office.queues
        else ([] if name else list(office.queues.values()))
    )
    now = s.pbx.clock.now()
    items = [m.list_start(aid, "Queue summary will follow")]
    for queue in queues:
        callers = e.dialplan.queue_callers.get(queue.name, [])
        available = sum(
            1
            for mb in queue.members.values()
            if not mb.paused and not mb.in_call and e.hint_state(mb.extension) == "NOT_INUSE"
        )
        items.append(
            m.list_item_tail(
                "QueueSummary",
                aid,
                [
                    ("Queue", queue.name),
                    ("LoggedIn", len(queue.members)),
                    ("Available", available),
                    ("Callers", len(callers)),
                    ("HoldTime", queue.holdtime),
                    ("TalkTime", queue.talktime),
                    ("LongestHoldTime", max((int(now - j) for _c, j in callers), default=0)),
                ],
            )
        )
    items.append(m.list_complete("QueueSummaryComplete", aid, len(queues)))
    send_list(s, items)


@action("QueueAdd")
async def queue_add(s: AmiSession, msg: dict, aid: str | None) -> None:

    e, office = s.pbx.engine, s.pbx.office
    queue = office.queues.get(arg(msg, "Queue"))
    iface = arg(msg, "Interface")
    if queue is None or not iface:
        s.send(
            m.response(
                "Error",
                aid,
                "Unable to add interface: No such queue" if iface else "'Interface' not specified.",
            )
        )
        return
    if iface in queue.members:
        s.send(m.response("Error", aid, "Unable to add interface: Already there"))
        return
    now = int(s.pbx.clock.wall())
    try:
        penalty = int(arg(msg, "Penalty", "0") or 0)
    except ValueError:
        penalty = 0
    member = QueueMember(
        iface,
        arg(msg, "MemberName") or iface,
        arg(msg, "StateInterface") or iface,
        dynamic=True,
        penalty=penalty,
        paused=truthy(arg(msg, "Paused", "false")),
        reason=arg(msg, "Reason"),
        login_time=now,
    )
    queue.members[iface] = member
    s.send(m.response("Success", aid, "Added interface to queue"))
    e.set_device_state(
        f"Queue:{queue.name}_pause_{iface}", "INUSE" if member.paused else "NOT_INUSE"
    )
    e.emit(m.event("QueueMemberAdded", e.member_pairs(queue, member)))
    e.device_states.pop(f"Queue:{queue.name}_avail", None)
    e.set_device_state(f"Queue:{queue.name}_avail", "NOT_INUSE")


@action("QueueRemove")
async def queue_remove(s: AmiSession, msg: dict, aid: str | None) -> None:
    e, office = s.pbx.engine, s.pbx.office
    queue = office.queues.get(arg(msg, "Queue"))
    iface = arg(msg, "Interface")
    member = queue.members.get(iface) if queue is not None else None
    if queue is None:
        s.send(m.response("Error", aid, "Unable to remove interface: No such queue"))
        return
    if member is None:
        s.send(m.response("Error", aid, "Unable to remove interface: Not there"))
        return
    if not member.dynamic:
        s.send(m.response("Error", aid, "Unable to remove interface: Not dynamic"))
        return
    del queue.members[iface]
    s.send(m.response("Success", aid, "Removed interface from queue"))
    e.emit(m.event("QueueMemberRemoved", e.member_pairs(queue, member)))


@action("QueuePause")
async def queue_pause(s: AmiSession, msg: dict, aid: str | None) -> None:
    e, office = s.pbx.engine, s.pbx.office
    iface = arg(msg, "Interface")
    paused = truthy(arg(msg, "Paused", "true"))
    name = arg(msg, "Queue")
    targets = [
        (q, q.members[iface])
        for q in office.queues.values()
        if iface in q.members and (not name or q.name == name)
    ]
    if not targets:
        s.send(m.response("Error", aid, "Interface not found"))
        return
    s.send(
        m.response(
            "Success",
            aid,
            "Interface paused successfully" if paused else "Interface unpaused successfully",
        )
    )
    for queue, member in targets:
        member.paused = paused
        if paused:
            member.reason = arg(msg, "Reason")
            member.last_pause = int(s.pbx.clock.wall())
        else:
            member.reason = ""
        e.set_device_state(f"Queue:{queue.name}_pause_{iface}", "INUSE" if paused else "NOT_INUSE")
        e.emit(m.event("QueueMemberPause", e.member_pairs(queue, member)))


@action("QueuePenalty")
async def queue_penalty(s: AmiSession, msg: dict, aid: str | None) -> None:
    e, office = s.pbx.engine, s.pbx.office
    iface = arg(msg, "Interface")
    try:
        penalty = int(arg(msg, "Penalty"))
    except ValueError:
        s.send(m.response("Error", aid, "Invalid penalty"))
        return
    name = arg(msg, "Queue")
    targets = [
        (q, q.members[iface])
        for q in office.queues.values()
        if iface in q.members and (not name or q.name == name)
    ]
    if not targets:
        s.send(m.response("Error", aid, "Invalid interface, queuename or penalty"))
        return
    s.send(m.response("Success", aid, "Interface penalty set successfully"))
    for queue, member in targets:
        member.penalty = penalty
        e.emit(m.event("QueueMemberPenalty", e.member_pairs(queue, member)))


@action("QueueLog")
async def queue_log(s: AmiSession, msg: dict, aid: str | None) -> None:
    if not arg(msg, "Queue") or not arg(msg, "Event"):
        s.send(m.response("Error", aid, "Need 'Queue' and 'Event' parameters."))
        return
    s.pbx.queue_log.append(
        (
            int(s.pbx.clock.wall()),
            arg(msg, "UniqueID", "NONE"),
            arg(msg, "Queue"),
            arg(msg, "Interface", "NONE"),
            arg(msg, "Event"),
            arg(msg, "Message"),
        )
    )
    s.send(m.response("Success", aid, "Added queue log entry"))
