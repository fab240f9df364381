"""AMI message builders with the field names and order of the Asterisk 20 captures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctibot.demo.channels import Channel

Pairs = list[tuple[str, Any]]

#: The 14 fields Asterisk puts in every channel snapshot, in its order.
CHANNEL_KEYS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)

#: Privilege of each event, as the captures show it.
PRIVILEGE = {
    "AgentCalled": "agent,all",
    "AgentComplete": "agent,all",
    "AgentConnect": "agent,all",
    "Cdr": "cdr,all",
    "DTMFEnd": "dtmf,all",
    "FullyBooted": "system,all",
    "Shutdown": "system,all",
    "HangupHandlerPush": "dialplan,all",
    "HangupHandlerRun": "dialplan,all",
    "Newexten": "dialplan,all",
    "VarSet": "dialplan,all",
    "QueueCallerJoin": "agent,all",
    "QueueCallerLeave": "agent,all",
    "QueueCallerAbandon": "agent,all",
    "QueueMemberAdded": "agent,all",
    "QueueMemberPause": "agent,all",
    "QueueMemberPenalty": "agent,all",
    "QueueMemberRemoved": "agent,all",
    "QueueMemberStatus": "agent,all",
    "RequestBadFormat": "security,all",
    "RequestNotAllowed": "security,all",
    "SuccessfulAuth": "security,all",
    "InvalidPassword": "security,all",
    "Status": "Call",
}

#: Queue member fields, in the order of QueueMemberAdded/Pause/Penalty/Removed/Status.
QUEUE_MEMBER_EVENT_KEYS = (
    "Queue",
    "MemberName",
    "Interface",
    "StateInterface",
    "Membership",
    "Penalty",
    "CallsTaken",
    "LastCall",
    "LastPause",
    "LoginTime",
    "InCall",
    "Status",
    "Paused",
    "PausedReason",
    "Ringinuse",
    "Wrapuptime",
)

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}

#: ExtensionStatus codes and texts (Status, StatusText).
EXTENSION_STATUS = {
    "NOT_INUSE": (0, "Idle"),
    "INUSE": (1, "InUse"),
    "BUSY": (2, "Busy"),
    "UNAVAILABLE": (4, "Unavailable"),
    "RINGING": (8, "Ringing"),
    "RINGINUSE": (9, "InUse&Ringing"),
    "ONHOLD": (16, "Hold"),
    "UNKNOWN": (-1, "Unknown"),
}

#: QueueMemberStatus "Status" codes (AST_DEVICE_*).
DEVICE_STATUS_CODE = {
    "UNKNOWN": 0,
    "NOT_INUSE": 1,
    "INUSE": 2,
    "BUSY": 3,
    "INVALID": 4,
    "UNAVAILABLE": 5,
    "RINGING": 6,
    "RINGINUSE": 7,
    "ONHOLD": 8,
}


def render(pairs: Iterable[tuple[str, Any]]) -> bytes:
    """One AMI message, CRLF lines and a blank line."""
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8", "replace")


def channel_pairs(ch: Channel, prefix: str = "") -> Pairs:
    """The channel snapshot fields, optionally prefixed (Dest, Transferee, Parkee...)."""
    return [
        (prefix + "Channel", ch.name),
        (prefix + "ChannelState", ch.state),
        (prefix + "ChannelStateDesc", STATE_DESC.get(ch.state, "Unknown")),
        (prefix + "CallerIDNum", ch.cid_num),
        (prefix + "CallerIDName", ch.cid_name),
        (prefix + "ConnectedLineNum", ch.conn_num),
        (prefix + "ConnectedLineName", ch.conn_name),
        (prefix + "Language", "en"),
        (prefix + "AccountCode", ""),
        (prefix + "Context", ch.context),
        (prefix + "Exten", ch.exten),
        (prefix + "Priority", ch.priority),
        (prefix + "Uniqueid", ch.uniqueid),
        (prefix + "Linkedid", ch.linkedid),
    ]


def event(name: str, *groups: Iterable[tuple[str, Any]]) -> bytes:
    """An unsolicited event: ``Event``, ``Privilege`` then the given fields in order."""
    pairs: Pairs = [("Event", name), ("Privilege", PRIVILEGE.get(name, "call,all"))]
    for group in groups:
        pairs.extend(group)
    return render(pairs)


def list_item(name: str, action_id: str | None, *groups: Iterable[tuple[str, Any]]) -> bytes:
    """An event of a list reply, with ActionID first (CoreShowChannel, ExtensionStatus...)."""
    pairs: Pairs = [("Event", name)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    for group in groups:
        pairs.extend(group)
    return render(pairs)


def list_item_tail(name: str, action_id: str | None, *groups: Iterable[tuple[str, Any]]) -> bytes:
    """An event of a list reply with ActionID last (QueueMember, DBGetResponse, Status...)."""
    pairs: Pairs = [("Event", name)]
    for group in groups:
        pairs.extend(group)
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    return render(pairs)


def response(
    status: str, action_id: str | None, message: str | None = None, *groups: Pairs
) -> bytes:
    """``Response: Success|Error|Goodbye``, ActionID, then Message and extra fields."""
    pairs: Pairs = [("Response", status)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    if message is not None:
        pairs.append(("Message", message))
    for group in groups:
        pairs.extend(group)
    return render(pairs)


def list_start(action_id: str | None, message: str) -> bytes:
    """The reply that opens an event list."""
    pairs: Pairs = [("Response", "Success")]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    pairs += [("EventList", "start"), ("Message", message)]
    return render(pairs)


def list_complete(name: str, action_id: str | None, count: int, *extra: Pairs) -> bytes:
    """The event that closes an event list."""
    pairs: Pairs = [("Event", name)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    pairs += [("EventList", "Complete"), ("ListItems", count)]
    for group in extra:
        pairs.extend(group)
    return render(pairs)
