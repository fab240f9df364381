"""AMI actions of the demo PBX: core, Originate, call control, parking and recording."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from ctibot.demo import messages as m
from ctibot.demo.attended import AttendedTransfer
from ctibot.demo.registry import (
    ACTIONS,
    READONLY_ACTIONS,
    action,
    arg,
    args,
    channel_arg,
    send_list,
)

if TYPE_CHECKING:
    from ctibot.demo.channels import Channel
    from ctibot.demo.server import AmiSession, DemoPbx

__all__ = ["ACTIONS", "READONLY_ACTIONS", "originate"]


# -- core ---------------------------------------------------------------------
@action("Ping")
async def ping(s: AmiSession, msg: dict, aid: str | None) -> None:
    s.send(
        m.response("Success", aid, None, [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])
    )


@action("Events")
async def events(s: AmiSession, msg: dict, aid: str | None) -> None:
    mask = arg(msg, "EventMask", "on").lower()
    s.events_on = mask not in ("off", "no", "false", "0")
    s.send(m.response("Success", aid, None, [("Events", "On" if s.events_on else "Off")]))


@action("CoreSettings")
async def core_settings(s: AmiSession, msg: dict, aid: str | None) -> None:
    s.send(
        m.response(
            "Success",
            aid,
            None,
            [
                ("AMIversion", "9.0.0"),
                ("AsteriskVersion", "GIT-20-516d2c60ac"),
                ("SystemName", ""),
                ("CoreMaxCalls", 0),
                ("CoreMaxLoadAvg", "0.000000"),
                ("CoreRunUser", ""),
                ("CoreRunGroup", ""),
                ("CoreMaxFilehandles", 0),
                ("CoreRealTimeEnabled", "No"),
                ("CoreCDRenabled", "Yes"),
                ("CoreHTTPenabled", "No"),
                ("SoundsSearchCustomDir", "No"),
            ],
        )
    )


@action("CoreStatus")
async def core_status(s: AmiSession, msg: dict, aid: str | None) -> None:
    started = time.gmtime(s.pbx.started_at)
    day, clock = time.strftime("%Y-%m-%d", started), time.strftime("%H:%M:%S", started)
    calls = len({c.linkedid for c in s.pbx.engine.channels.values()})
    s.send(
        m.response(
            "Success",
            aid,
            None,
            [
                ("CoreStartupDate", day),
                ("CoreStartupTime", clock),
                ("CoreReloadDate", day),
                ("CoreReloadTime", clock),
                ("CoreCurrentCalls", calls),
                ("CoreProcessedCalls", s.pbx.engine.processed_calls),
            ],
        )
    )


@action("ListCommands")
async def list_commands(s: AmiSession, msg: dict, aid: str | None) -> None:
    s.send(m.response("Success", aid, None, [(n, n) for n in sorted(ACTIONS)]))


# -- originate ----------------------------------------------------------------
_CALLERID = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$')


def parse_callerid(text: str) -> tuple[str, str] | None:
    if not text:
        return None
    match = _CALLERID.match(text)
    if match:
        return match.group(2), match.group(1).strip()
    return text.strip(), ""


def _originate_response(
    pbx: DemoPbx,
    aid: str | None,
    ok: bool,
    channel: str,
    context: str | None,
    exten: str | None,
    application: str | None,
    data: str,
    reason: int,
    uniqueid: str,
    cid: tuple[str, str] | None,
) -> bytes:
    pairs: list[tuple[str, Any]] = []
    if aid is not None:
        pairs.append(("ActionID", aid))
    pairs += [("Response", "Success" if ok else "Failure"), ("Channel", channel)]
    if application:
        pairs += [("Application", application), ("Data", data)]
    else:
        pairs += [("Context", context), ("Exten", exten)]
    pairs += [
        ("Reason", reason),
        ("Uniqueid", uniqueid),
        ("CallerIDNum", cid[0] if cid else "<unknown>"),
        ("CallerIDName", cid[1] if cid and cid[1] else "<unknown>"),
    ]
    return m.event("OriginateResponse", pairs)


#: OriginateResponse Reason per dial outcome (AST_CONTROL_*).
REASONS = {"ANSWER": 4, "BUSY": 5, "CONGESTION": 8, "NOANSWER": 3, "CANCEL": 1, "CHANUNAVAIL": 0}


def _dialable(pbx: DemoPbx, channel: str) -> bool:
    """A Local channel, a phone of the office, or a trunk with a number."""
    if channel.startswith("Local/") and "@" in channel:
        return True
    office = pbx.office
    if office.extension_of_device(channel) is not None:
        return True
    return pbx.engine.trunk_of_dialstring(channel) is not None


async def originate(
    pbx: DemoPbx,
    channel: str,
    context: str | None,
    exten: str | None,
    application: str | None,
    data: str,
    cid: tuple[str, str] | None,
    timeout: float,
    aid: str | None,
    variables: dict[str, str],
    announce: bool = False,
) -> str:
    """Dial ``channel``; once answered run the context/exten or the application."""
    e = pbx.engine
    dialplan = e.dialplan
    if not _dialable(pbx, channel):
        # No such endpoint: Asterisk cannot even create the channel.
        if announce:
            pbx.broadcast(
                _originate_response(
                    pbx, aid, False, channel, context, exten, application, data, 0, "<unknown>", cid
                )
            )
        return "CHANUNAVAIL"
    att = e.dial(None, channel, cid=cid)
    for key, value in variables.items():
        att.outer.variables[key] = value
    status = await e.wait(att, timeout)
    ok = status == "ANSWER"
    if announce:
        pbx.broadcast(
            _originate_response(
                pbx,
                aid,
                ok,
                att.outer.name if ok else channel,
                context,
                exten,
                application,
                data,
                REASONS.get(status, 0),
                att.outer.uniqueid if ok else "<unknown>",
                cid,
            )
        )
    if ok and not att.outer.dead:
        outer = att.outer
        if application:
            coro = dialplan.application(outer, application, data)
        else:
            outer.context, outer.exten, outer.priority = context or "from-internal", exten or "s", 1
            coro = dialplan.run(outer, outer.context, outer.exten)
        e.spawn(coro, owner=outer)
    return status


@action("Originate")
async def originate_action(s: AmiSession, msg: dict, aid: str | None) -> None:
    pbx = s.pbx
    channel = arg(msg, "Channel")
    application = arg(msg, "Application") or None
    context = arg(msg, "Context", "from-internal")
    exten = arg(msg, "Exten") or None
    data = arg(msg, "Data")
    if not channel or (application is None and exten is None):
        s.send(
            m.response(
                "Error", aid, "Channel not specified" if not channel else "Exten not specified"
            )
        )
        return
    try:
        timeout = float(arg(msg, "Timeout", "30000")) / 1000.0
    except ValueError:
        timeout = 30.0
    cid = parse_callerid(arg(msg, "CallerID"))
    variables = {}
    for item in args(msg, "Variable"):
        for part in item.split(","):
            key, _, value = part.partition("=")
            if key:
                variables[key.strip()] = value
    is_async = arg(msg, "Async").lower() in ("true", "yes", "1", "on")
    call = (pbx, channel, context, exten, application, data, cid, timeout, aid, variables)
    if is_async:
        s.send(m.response("Success", aid, "Originate successfully queued"))
        pbx.engine.spawn(originate(*call, announce=True))
        return
    status = await originate(*call)
    if status == "ANSWER":
        s.send(m.response("Success", aid, "Originate successfully queued"))
    else:
        s.send(m.response("Error", aid, "Originate failed"))


# -- channel control ------------------------------------------------------------


@action("Hangup")
async def hangup(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    name = arg(msg, "Channel")
    try:
        cause = int(arg(msg, "Cause", "16") or 16)
    except ValueError:
        cause = 16
    if len(name) > 2 and name.startswith("/") and name.endswith("/"):
        try:
            pattern = re.compile(name[1:-1])
        except re.error:
            s.send(m.response("Error", aid, "Invalid regex"))
            return
        # Newest first, the order Asterisk's channel container gave in the captures.
        matched = [c for c in reversed(list(e.channels.values())) if pattern.search(c.name)]
        items = [m.list_start(aid, "Channels hung up will follow")]
        for ch in matched:
            items.append(
                m.render(
                    [("Event", "ChannelHungup"), ("Channel", ch.name), ("ActionID", aid)]
                    if aid
                    else [("Event", "ChannelHungup"), ("Channel", ch.name)]
                )
            )
        items.append(m.list_complete("ChannelsHungupListComplete", aid, len(matched)))
        send_list(s, items)
        for ch in matched:
            e.hangup(ch, cause, soft=True)
        return
    ch = e.channels.get(name)
    if ch is None:
        s.send(m.response("Error", aid, "No such channel"))
        return
    s.send(m.response("Success", aid, "Channel Hungup"))
    e.hangup(ch, cause, soft=True)


def _restart_in(s: AmiSession, ch: Channel, context: str, exten: str) -> None:
    """Send a channel elsewhere in the dialplan (Redirect, transfers)."""
    e = s.pbx.engine
    old = ch.task
    ch.task = None
    if old is not None and old is not asyncio.current_task():
        old.cancel()
    ch.keep_alone = False
    ch.context, ch.exten, ch.priority = context, exten, 1
    e.spawn(e.dialplan.run(ch, context, exten), owner=ch)


@action("Redirect")
async def redirect(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    ch = channel_arg(s, msg)
    if ch is None:
        s.send(m.response("Error", aid, "Channel specified does not exist"))
        return
    extra = channel_arg(s, msg, "ExtraChannel")
    s.send(m.response("Success", aid, "Redirect successful"))
    context = arg(msg, "Context", "from-internal")
    targets = [(ch, context, arg(msg, "Exten"))]
    if extra is not None:
        targets.append(
            (extra, arg(msg, "ExtraContext", context), arg(msg, "ExtraExten", arg(msg, "Exten")))
        )
    for c, ctx, exten in targets:
        # The channel is already at its new place when it leaves the bridge, still
        # showing the application it was in (its Dial() returns ANSWER there).
        c.keep_alone = True
        e.steps.unbridged(c)
        c.stale_app = (c.app, c.appdata) if c.app else None
        c.context, c.exten, c.priority = ctx, exten, 1
    for c, _ctx, _exten in targets:
        if c.bridge is not None:
            e.leave(c)  # a peer left alone (not redirected too) hangs up
    for c, ctx, exten in targets:
        _restart_in(s, c, ctx, exten)


@action("BlindTransfer")
async def blind_transfer(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    ch = channel_arg(s, msg)
    if ch is None:
        s.send(m.response("Error", aid, "No such channel"))
        return
    peer = e.peer_of(ch)
    if peer is None or ch.bridge is None:
        s.send(m.response("Error", aid, "Transfer failed"))
        return
    context, exten = arg(msg, "Context", "from-internal"), arg(msg, "Exten")
    s.send(m.response("Success", aid, "Transfer succeeded"))
    e.emit(
        m.event(
            "BlindTransfer",
            [("Result", "Success")],
            m.channel_pairs(ch, "Transferer"),
            m.channel_pairs(peer, "Transferee"),
            ch.bridge.pairs(),
            [("IsExternal", "Yes"), ("Context", context), ("Extension", exten)],
        )
    )
    peer.keep_alone = True
    e.steps.blind_transfer(ch, peer)
    peer.context, peer.exten, peer.priority = context, exten, 1
    e.leave(ch, hangup_peer=False)
    e.hangup(ch, 16)
    if peer.bridge is not None:
        e.leave(peer, hangup_peer=False)
    _restart_in(s, peer, context, exten)


@action("Atxfer")
async def atxfer(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    ch = channel_arg(s, msg)
    peer = e.peer_of(ch) if ch is not None else None
    if ch is None or peer is None:
        s.send(m.response("Error", aid, "No such channel"))
        return
    exten = arg(msg, "Exten").rstrip("#")
    s.send(m.response("Success", aid, "Atxfer successfully queued"))
    AttendedTransfer(e, ch, peer, arg(msg, "Context", "from-internal"), exten).start()


@action("Park")
async def park(s: AmiSession, msg: dict, aid: str | None) -> None:
    ch = channel_arg(s, msg)
    if ch is None:
        s.send(m.response("Error", aid, "Channel does not exist"))
        return
    announce = channel_arg(s, msg, "TimeoutChannel") or channel_arg(s, msg, "AnnounceChannel")
    slot = s.pbx.engine.dialplan.park(ch, announce)
    if slot is None:
        s.send(m.response("Error", aid, "Park action failed"))
        return
    # Asterisk 20 sends this message with a trailing newline; the capture keeps it.
    s.send(m.response("Success", aid, "Park successful\n"))


@action("ParkedCalls")
async def parked_calls(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    items = [m.list_start(aid, "Parked calls will follow")]
    for slot in sorted(e.parked):
        ch = e.parked[slot]
        items.append(
            m.list_item_tail(
                "ParkedCall", aid, m.channel_pairs(ch, "Parkee"), e.dialplan.parked_pairs(ch)
            )
        )
    items.append(
        m.list_complete("ParkedCallsComplete", aid, len(e.parked), [("Total", len(e.parked))])
    )
    send_list(s, items)


@action("Parkinglots")
async def parkinglots(s: AmiSession, msg: dict, aid: str | None) -> None:
    office = s.pbx.office
    lo, hi = office.parking_slots
    send_list(
        s,
        [
            m.list_start(aid, "Parking lots will follow"),
            m.list_item(
                "Parkinglot",
                aid,
                [
                    ("Name", office.parking_lot),
                    ("StartSpace", lo),
                    ("StopSpace", hi),
                    ("Timeout", office.parking_timeout),
                ],
            ),
            m.list_complete("ParkinglotsComplete", aid, 1),
        ],
    )


# -- recording ------------------------------------------------------------------
@action("MixMonitor")
async def mixmonitor(s: AmiSession, msg: dict, aid: str | None) -> None:
    ch = channel_arg(s, msg)
    if ch is None:
        s.send(m.response("Error", aid, "No such channel"))
        return
    ch.recording = arg(msg, "File") or f"/var/spool/asterisk/monitor/{ch.uniqueid}.wav"
    s.send(m.response("Success", aid))
    steps = s.pbx.engine.steps
    steps.var(ch, "MIXMONITOR_FILENAME", ch.recording)
    s.pbx.engine.emit(m.event("MixMonitorStart", m.channel_pairs(ch)))
    steps.rebridged(ch)


@action("MixMonitorMute")
async def mixmonitor_mute(s: AmiSession, msg: dict, aid: str | None) -> None:
    ch = channel_arg(s, msg)
    if ch is None or ch.recording is None:
        s.send(
            m.response("Error", aid, "No such channel" if ch is None else "Cannot set mute flag")
        )
        return
    direction, state = arg(msg, "Direction", "both"), arg(msg, "State", "1")
    s.send(m.response("Success", aid))
    s.pbx.engine.emit(
        m.event(
            "MixMonitorMute",
            m.channel_pairs(ch),
            [
                ("Direction", direction),
                ("State", 1 if state.lower() in ("1", "yes", "true", "on") else 0),
            ],
        )
    )


@action("StopMixMonitor")
async def stop_mixmonitor(s: AmiSession, msg: dict, aid: str | None) -> None:
    ch = channel_arg(s, msg)
    if ch is None or ch.recording is None:
        s.send(
            m.response("Error", aid, "No such channel" if ch is None else "Could not stop monitor")
        )
        return
    ch.recording = None
    s.send(m.response("Success", aid))
    s.pbx.engine.emit(m.event("MixMonitorStop", m.channel_pairs(ch)))
    s.pbx.engine.steps.rebridged(ch)


# The other handler modules register themselves on import.
from ctibot.demo import actions_queues, actions_state, actions_storage  # noqa: E402, F401
