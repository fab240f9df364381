"""Typed AMI action builders: every argument validated, a plain ``dict[str, str]`` out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from ctibot.pbx import validate as v
from ctibot.pbx.validate import AmiValueError

Action = dict[str, str]
CallerId = str | tuple[str | None, str | None]
SpyMode = Literal["listen", "whisper", "barge"]

#: Actions answered by a list of events, and the event that ends the list. Every entry
#: was read off the Asterisk 20 captures in tests/fixtures/ami (``EventList: start`` in
#: the response, ``EventList: Complete`` on the last event). DBGet answers with a list
#: on Asterisk 20 (or a plain error when the key is missing); MailboxCount does not.
LIST_COMPLETE: dict[str, str] = {
    "BridgeInfo": "BridgeInfoComplete",
    "BridgeList": "BridgeListComplete",
    "CoreShowChannels": "CoreShowChannelsComplete",
    "DBGet": "DBGetComplete",
    "DBGetTree": "DBGetTreeComplete",
    "DeviceStateList": "DeviceStateListComplete",
    "ExtensionStateList": "ExtensionStateListComplete",
    "ParkedCalls": "ParkedCallsComplete",
    "Parkinglots": "ParkinglotsComplete",
    "QueueStatus": "QueueStatusComplete",
    "QueueSummary": "QueueSummaryComplete",
    "Status": "StatusComplete",
    "VoicemailBoxSummary": "VoicemailBoxDetailComplete",
    "VoicemailUserStatus": "VoicemailUserDetailComplete",
    "VoicemailUsersList": "VoicemailUserEntryComplete",
}

#: List actions no capture holds yet: from Asterisk 20's documentation (the demo follows it).
DOCUMENTED_LISTS: dict[str, str] = {"PJSIPShowContacts": "ContactListComplete"}

#: Hangup with a ``/regex/`` channel answers with a list too (never built here).
REGEX_HANGUP_COMPLETE = "ChannelsHungupListComplete"

#: Actions that must carry ``Async: true`` (see ``validate.ASYNC_REQUIRED``).
ASYNC_ACTIONS = v.ASYNC_REQUIRED

#: An async action's outcome comes later as this event, with the action's ActionID
#: (not an event list: no EventList header, no Complete event).
ASYNC_RESULT_EVENT: dict[str, str] = {"Originate": "OriginateResponse"}

#: Actions whose single reply panoramisk 1.4 mistakes for the start of a list
#: ("Added interface to queue"): send them with ``as_list=False``.
NOT_A_LIST = frozenset({"QueueAdd"})


def list_complete_event(action: Mapping[str, str]) -> str | None:
    """The event that ends this action's answer, or None when one response is all."""
    name = action.get("Action", "")
    if name == "Hangup":
        ch = action.get("Channel", "")
        return REGEX_HANGUP_COMPLETE if len(ch) > 1 and ch[0] == ch[-1] == "/" else None
    return LIST_COMPLETE.get(name) or DOCUMENTED_LISTS.get(name)


def is_list_action(action: Mapping[str, str]) -> bool:
    """True when the answer is an event list (pass ``as_list=True`` to panoramisk)."""
    return list_complete_event(action) is not None


def check_async(action: Mapping[str, str]) -> None:
    """Raise unless an action of ``ASYNC_ACTIONS`` carries ``Async: true``."""
    name = action.get("Action", "")
    if name in ASYNC_ACTIONS and action.get("Async") != "true":
        raise AmiValueError("Async", f"{name} must carry Async: true", action.get("Async"))


def to_bytes(action: Mapping[str, str], action_id: str | None = None) -> bytes:
    """The action as it goes on the wire (after ``frame_check``), ActionID second."""
    if action_id is not None:
        action = with_action_id(action, action_id)
    v.frame_check(action)
    return "".join(f"{k}: {val}\r\n" for k, val in action.items()).encode() + b"\r\n"


def with_action_id(action: Mapping[str, str], action_id: str) -> Action:
    """A copy of ``action`` with an ``ActionID`` right after ``Action``, like the captures."""
    out: Action = {"Action": action.get("Action", ""), "ActionID": v.action_id(action_id)}
    out.update((k, val) for k, val in action.items() if k not in ("Action", "ActionID"))
    return out


def _flag(value: object, field: str, yes: str = "true", no: str = "false") -> str:
    if not isinstance(value, bool):
        raise AmiValueError(field, "true or false", value)
    return yes if value else no


# --- session -------------------------------------------------------------------------------


def login(username: str, secret: str, events: bool = True) -> Action:
    """Plain-text login; ``events`` turns the event stream on or off."""
    return {
        "Action": "Login",
        "Username": v.username(username),
        "Secret": v.secret(secret),
        "Events": _flag(events, "events", "on", "off"),
    }


def challenge() -> Action:
    """Ask for an MD5 challenge (the reply carries ``Challenge``)."""
    return {"Action": "Challenge", "AuthType": "MD5"}


def md5_key(challenge: str, secret: str) -> str:
    """The ``Key`` of an MD5 login: md5(challenge + secret), hex."""
    data = v.challenge(challenge) + v.secret(secret)
    return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()


def login_md5(username: str, key: str, events: bool = True) -> Action:
    """Login answering a challenge, so that the secret never crosses the wire."""
    if not isinstance(key, str) or len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        raise AmiValueError("key", "32 lowercase hex digits (see md5_key)", key)
    return {
        "Action": "Login",
        "AuthType": "MD5",
        "Username": v.username(username),
        "Key": key,
        "Events": _flag(events, "events", "on", "off"),
    }


def logoff() -> Action:
    return {"Action": "Logoff"}


def ping() -> Action:
    return {"Action": "Ping"}


def core_settings() -> Action:
    return {"Action": "CoreSettings"}


def core_status() -> Action:
    return {"Action": "CoreStatus"}


# --- calls ---------------------------------------------------------------------------------


def _variables(variables: Mapping[str, str] | None) -> dict[str, str]:
    if not variables:
        return {}
    if not isinstance(variables, Mapping):
        raise AmiValueError("variables", "a mapping of name to value", variables)
    # One header, comma-joined: Asterisk splits Variable on "," (values may not hold one).
    pairs = [
        f"{v.variable_name(name)}={v.variable_value(value, f'variable {name}')}"
        for name, value in variables.items()
    ]
    return {"Variable": ",".join(pairs)}


def _originate_tail(
    caller_id: CallerId | None, timeout_ms: int | None, variables: Mapping[str, str] | None
) -> Action:
    tail: Action = {}
    if caller_id is not None:
        tail["CallerID"] = v.caller_id(caller_id)
    if timeout_ms is not None:  # None: Asterisk's default, 30 s
        tail["Timeout"] = str(v.timeout_ms(timeout_ms))
    tail.update(_variables(variables))
    tail["Async"] = "true"  # panoramisk never resolves an Originate sent without it
    return tail


def originate_call(
    device: str,
    exten: str,
    *,
    context: str,
    caller_id: CallerId | None = None,
    timeout_ms: int | None = 15000,
    variables: Mapping[str, str] | None = None,
    priority: int = 1,
) -> Action:
    """Ring ``device``; when it answers, dial ``exten`` in ``context`` (click-to-call)."""
    return {
        "Action": "Originate",
        "Channel": v.channel(device, "device"),
        "Context": v.context(context),
        "Exten": v.extension(exten, "exten"),
        "Priority": str(v.priority(priority)),
        **_originate_tail(caller_id, timeout_ms, variables),
    }


def originate_application(
    device: str,
    application: str,
    data: str,
    *,
    caller_id: CallerId | None = None,
    timeout_ms: int | None = 15000,
    variables: Mapping[str, str] | None = None,
) -> Action:
    """Ring ``device``; when it answers, run an allow-listed application on it."""
    return {
        "Action": "Originate",
        "Channel": v.channel(device, "device"),
        "Application": (app := v.application(application)),
        # Record writes a file: its name gets the same checks as a recording's.
        "Data": v.record_data(data) if app == "Record" else v.application_data(data),
        **_originate_tail(caller_id, timeout_ms, variables),
    }


#: ChanSpy options per mode: q quiet (no beep), S stop when the spied call ends,
#: w whisper to the spied party, B barge (talk to both).
SPY_OPTIONS: dict[str, str] = {"listen": "qS", "whisper": "wqS", "barge": "BqS"}


def spy(
    device: str,
    target_channel: str,
    mode: SpyMode = "listen",
    *,
    caller_id: CallerId | None = None,
    timeout_ms: int | None = 15000,
) -> Action:
    """Ring the supervisor's ``device``, then listen to, whisper to or barge into a call.

    ChanSpy takes a channel *prefix*: pass the exact channel (``PJSIP/201-00000001``),
    since a device (``PJSIP/201``) would also match ``PJSIP/2010-…``.
    """
    if mode not in SPY_OPTIONS:
        raise AmiValueError("mode", "listen, whisper or barge", mode)
    target = v.channel(target_channel, "target_channel")
    return originate_application(
        device,
        "ChanSpy",
        f"{target},{SPY_OPTIONS[mode]}",
        caller_id=caller_id,
        timeout_ms=timeout_ms,
    )


def hangup(channel: str, cause: int = 16) -> Action:
    """Hang up one exact channel (a regex would hang up every match)."""
    return {"Action": "Hangup", "Channel": v.channel(channel), "Cause": str(v.cause(cause))}


def redirect(
    channel: str,
    exten: str,
    context: str,
    priority: int = 1,
    *,
    extra_channel: str | None = None,
    extra_exten: str | None = None,
    extra_context: str | None = None,
    extra_priority: int | None = None,
) -> Action:
    """Send a channel (and optionally its peer, ``extra_*``) to ``exten@context``.

    The channel leaves its bridge; a lone peer's leg then ends (a transfer done by
    Redirect, as the redirect_transfer capture shows). Fields in the capture's order.
    """
    action: Action = {"Action": "Redirect", "Channel": v.channel(channel)}
    if extra_channel is not None:
        action["ExtraChannel"] = v.channel(extra_channel, "extra_channel")
    action["Context"] = v.context(context)
    if extra_context is not None:
        action["ExtraContext"] = v.context(extra_context, "extra_context")
    action["Exten"] = v.extension(exten, "exten")
    if extra_exten is not None:
        action["ExtraExten"] = v.extension(extra_exten, "extra_exten")
    action["Priority"] = str(v.priority(priority))
    if extra_priority is not None:
        action["ExtraPriority"] = str(v.priority(extra_priority, "extra_priority"))
    return action


def blind_transfer(channel: str, exten: str, context: str) -> Action:
    """Blind-transfer the party on ``channel``'s other end to ``exten``."""
    return {
        "Action": "BlindTransfer",
        "Channel": v.channel(channel),
        "Context": v.context(context),
        "Exten": v.extension(exten, "exten"),
    }


def atxfer(channel: str, exten: str, context: str) -> Action:
    """Attended transfer from ``channel`` to ``exten`` (the transferer talks first)."""
    return {
        "Action": "Atxfer",
        "Channel": v.channel(channel),
        "Exten": v.extension(exten, "exten"),
        "Context": v.context(context),
    }


def park(channel: str, timeout_channel: str | None = None, parkinglot: str | None = None) -> Action:
    """Park ``channel`` (the far end); on timeout it rings ``timeout_channel`` (ours)."""
    action: Action = {"Action": "Park", "Channel": v.channel(channel)}
    if timeout_channel is not None:
        action["TimeoutChannel"] = v.channel(timeout_channel, "timeout_channel")
    if parkinglot is not None:
        action["Parkinglot"] = v.parking_lot(parkinglot)
    return action


def pickup_parked(
    device: str,
    slot: str | int,
    context: str,
    *,
    caller_id: CallerId | None = None,
    timeout_ms: int | None = 15000,
) -> Action:
    """Ring ``device`` and, when it answers, take the call parked on ``slot``."""
    return originate_call(
        device,
        v.parking_slot(slot),
        context=context,
        caller_id=caller_id,
        timeout_ms=timeout_ms,
    )


# --- recording -----------------------------------------------------------------------------


def mixmonitor(channel: str, file: str, options: str = "a") -> Action:
    """Start recording ``channel`` into ``file`` (``a``: append, ``b``: only when bridged)."""
    return {
        "Action": "MixMonitor",
        "Channel": v.channel(channel),
        "File": v.filename(file),
        "Options": v.mixmonitor_options(options),
    }


_DIRECTIONS = ("read", "write", "both")


def mixmonitor_mute(channel: str, mute: bool, direction: str = "both") -> Action:
    """Pause (``mute=True``) or resume a recording: PauseMonitor is gone on Asterisk 20."""
    if direction not in _DIRECTIONS:
        raise AmiValueError("direction", "read, write or both", direction)
    return {
        "Action": "MixMonitorMute",
        "Channel": v.channel(channel),
        "Direction": direction,
        "State": _flag(mute, "mute", "1", "0"),
    }


def stop_mixmonitor(channel: str) -> Action:
    return {"Action": "StopMixMonitor", "Channel": v.channel(channel)}


# --- queues --------------------------------------------------------------------------------


def queue_add(
    queue: str,
    interface: str,
    *,
    state_interface: str | None,
    member_name: str | None,
    penalty: int | None = 0,
    paused: bool | None = False,
) -> Action:
    """Log a dynamic member in (``None`` leaves a field out).

    Not a list action: send it with ``as_list=False`` (see ``NOT_A_LIST``).
    """
    action: Action = {
        "Action": "QueueAdd",
        "Queue": v.queue_name(queue),
        "Interface": v.interface(interface),
    }
    if member_name is not None:
        action["MemberName"] = v.member_name(member_name)
    if state_interface is not None:
        action["StateInterface"] = v.state_interface(state_interface)
    if penalty is not None:
        action["Penalty"] = str(v.positive_int(penalty, "penalty", minimum=0, maximum=99_999))
    if paused is not None:
        action["Paused"] = _flag(paused, "paused")
    return action


def queue_remove(queue: str, interface: str) -> Action:
    return {
        "Action": "QueueRemove",
        "Queue": v.queue_name(queue),
        "Interface": v.interface(interface),
    }


def queue_pause(
    interface: str, paused: bool, *, queue: str | None = None, reason: str | None = None
) -> Action:
    """Pause or unpause a member in one queue, or in all of them when ``queue`` is None."""
    action: Action = {"Action": "QueuePause"}
    if queue is not None:
        action["Queue"] = v.queue_name(queue)
    action["Interface"] = v.interface(interface)
    action["Paused"] = _flag(paused, "paused")
    if reason is not None:
        # The reason lands in the queue log, whose fields "|" separates.
        action["Reason"] = v.text(reason, "reason", max_len=80, forbid="|")
    return action


def queue_penalty(interface: str, penalty: int, *, queue: str | None = None) -> Action:
    """Set a member's penalty in one queue, or in all of them."""
    action: Action = {"Action": "QueuePenalty"}
    if queue is not None:
        action["Queue"] = v.queue_name(queue)
    action["Interface"] = v.interface(interface)
    action["Penalty"] = str(v.positive_int(penalty, "penalty", minimum=0, maximum=99_999))
    return action


def queue_log(
    queue: str,
    event: str,
    *,
    interface: str,
    message: str | Sequence[str] | None = None,
    uniqueid: str = "NONE",
) -> Action:
    """Write a line in the queue log; a sequence ``message`` becomes ``|``-separated fields."""
    action: Action = {
        "Action": "QueueLog",
        "Queue": v.queue_name(queue),
        "Event": v.event_name(event),
        "Uniqueid": v.uniqueid(uniqueid),
        "Interface": v.interface(interface),
    }
    if message is not None:
        fields = [message] if isinstance(message, str) else list(message)
        action["Message"] = "|".join(
            v.text(f, "message", max_len=255, forbid="|", allow_empty=True) for f in fields
        )
    return action


def queue_status(queue: str | None = None, member: str | None = None) -> Action:
    action: Action = {"Action": "QueueStatus"}
    if queue is not None:
        action["Queue"] = v.queue_name(queue)
    if member is not None:
        action["Member"] = v.interface(member, "member")
    return action


def queue_summary(queue: str | None = None) -> Action:
    action: Action = {"Action": "QueueSummary"}
    if queue is not None:
        action["Queue"] = v.queue_name(queue)
    return action


# --- AstDB ---------------------------------------------------------------------------------


def db_put(family: str, key: str, value: str) -> Action:
    return {
        "Action": "DBPut",
        "Family": v.astdb_family(family),
        "Key": v.astdb_key(key),
        "Val": v.astdb_value(value),
    }


def db_del(family: str, key: str) -> Action:
    return {"Action": "DBDel", "Family": v.astdb_family(family), "Key": v.astdb_key(key)}


def db_get(family: str, key: str) -> Action:
    """Read one key; Asterisk 20 answers with a list (DBGetResponse, DBGetComplete)."""
    return {"Action": "DBGet", "Family": v.astdb_family(family), "Key": v.astdb_key(key)}


def db_get_tree(family: str | None = None, key: str | None = None) -> Action:
    """Read a whole family (or everything); Asterisk 20+ only."""
    action: Action = {"Action": "DBGetTree"}
    if family is not None:
        action["Family"] = v.astdb_family(family)
    if key is not None:
        if family is None:
            raise AmiValueError("key", "needs a family")
        action["Key"] = v.astdb_key(key)
    return action


# --- CLI commands --------------------------------------------------------------------------

_SAFE_CLI_WORD = r"[A-Za-z0-9_.@:+*#-]+"
_COMMAND_TEMPLATES: tuple[tuple[str, str], ...] = (
    (
        "core show channels[ concise|verbose|count]",
        r"core show channels(?: (?:concise|verbose|count))?",
    ),
    ("core show version", r"core show version"),
    ("core show uptime[ seconds]", r"core show uptime(?: seconds)?"),
    ("database show[ <family>]", rf"database show(?: {_SAFE_CLI_WORD}(?:/{_SAFE_CLI_WORD})*)?"),
    (
        "devstate change Custom:<name> <STATE>",
        rf"devstate change Custom:[A-Za-z0-9_.-]+ (?:{'|'.join(v.DEVICE_STATES)})",
    ),
    (
        "presencestate change CustomPresence:<ext> <STATE>[,subtype[,message]]",
        r"presencestate change CustomPresence:[A-Za-z0-9_.-]+ "
        rf"(?:(?:{'|'.join(v.PRESENCE_STATES)})(?:,[^\s\",\\]*(?:,[^\s\",\\]*)?)?"
        rf"|\"(?:{'|'.join(v.PRESENCE_STATES)})(?:,[^\",\\]*(?:,[^\",\\]*)?)?\")",
    ),
    ("queue show[ <queue>]", r"queue show(?: [A-Za-z0-9][A-Za-z0-9_.-]*)?"),
    ("pjsip show endpoints", r"pjsip show endpoints"),
    ("pjsip show registrations", r"pjsip show registrations"),
    ("sip show peers", r"sip show peers"),
    (
        "voicemail show users[ for <context>]",
        r"voicemail show users(?: for [A-Za-z0-9][A-Za-z0-9_.-]*)?",
    ),
)
_COMMAND_RES = tuple(re.compile(rx) for _, rx in _COMMAND_TEMPLATES)

#: The CLI commands ``command()`` lets through, as a user would read them.
COMMAND_TEMPLATES = tuple(t for t, _ in _COMMAND_TEMPLATES)


def command(cmd: str) -> Action:
    """A CLI command, only if it matches one of ``COMMAND_TEMPLATES`` (read-only or state)."""
    s = v.text(cmd, "command", max_len=255)
    if not any(rx.fullmatch(s) for rx in _COMMAND_RES):
        raise AmiValueError(
            "command", "only show commands and devstate/presencestate change are allowed", s
        )
    return {"Action": "Command", "Command": s}


def devstate_change(name: str, state: str) -> Action:
    """Set ``Custom:<name>`` (e.g. ``DND201`` so that phones' BLF keys light up)."""
    return command(
        f"devstate change Custom:{v.custom_device(name, 'name')} {v.device_state(state)}"
    )


def presencestate_change(
    extension: str, state: str, subtype: str | None = None, message: str | None = None
) -> Action:
    """Set ``CustomPresence:<extension>``; the CLI wants the argument quoted if it has spaces."""
    parts = [v.presence_state(state)]
    # The CLI splits the argument on "," and honours quotes and backslashes: refuse all three.
    if subtype is not None or message is not None:
        parts.append(v.text(subtype or "", "subtype", max_len=64, forbid=',"\\', allow_empty=True))
    if message is not None:
        parts.append(v.text(message, "message", max_len=128, forbid=',"\\', allow_empty=True))
    arg = ",".join(parts)
    if re.search(r"\s", arg):
        arg = f'"{arg}"'
    ext = v.custom_device(extension, "extension")
    return command(f"presencestate change CustomPresence:{ext} {arg}")


def set_device_state(name: str, state: str) -> Action:
    """Set ``Custom:<name>`` through ``Setvar DEVICE_STATE()`` (no CLI needed)."""
    return {
        "Action": "Setvar",
        "Variable": f"DEVICE_STATE(Custom:{v.custom_device(name, 'name')})",
        "Value": v.device_state(state),
    }


# --- lists and status ----------------------------------------------------------------------


def core_show_channels() -> Action:
    return {"Action": "CoreShowChannels"}


def extension_state_list() -> Action:
    return {"Action": "ExtensionStateList"}


def extension_state(exten: str, context: str) -> Action:
    return {
        "Action": "ExtensionState",
        "Exten": v.extension(exten, "exten"),
        "Context": v.context(context),
    }


def device_state_list() -> Action:
    return {"Action": "DeviceStateList"}


def pjsip_show_contacts() -> Action:
    """Every registered PJSIP contact: its endpoint, URI, status and the phone's User-Agent."""
    return {"Action": "PJSIPShowContacts"}


def parked_calls(parkinglot: str | None = None) -> Action:
    action: Action = {"Action": "ParkedCalls"}
    if parkinglot is not None:
        action["ParkingLot"] = v.parking_lot(parkinglot)
    return action


def parkinglots() -> Action:
    return {"Action": "Parkinglots"}


def bridge_list() -> Action:
    return {"Action": "BridgeList"}


def bridge_info(bridge: str) -> Action:
    return {"Action": "BridgeInfo", "BridgeUniqueid": v.bridge_id(bridge)}


def status(channel: str | None = None, variables: Iterable[str] | None = None) -> Action:
    """Channel status, of all channels or one, optionally with some of its variables."""
    action: Action = {"Action": "Status"}
    if channel is not None:
        action["Channel"] = v.channel(channel)
    if variables is not None:
        if isinstance(variables, str):
            variables = [variables]
        names = [v.variable_name(n, "variables") for n in variables]
        if names:
            action["Variables"] = ",".join(names)
    return action


def getvar(channel: str, variable: str) -> Action:
    return {
        "Action": "Getvar",
        "Channel": v.channel(channel),
        "Variable": v.variable_name(variable),
    }


def mailbox_count(mailbox: str) -> Action:
    return {"Action": "MailboxCount", "Mailbox": v.mailbox(mailbox)}


def mailbox_status(mailbox: str) -> Action:
    return {"Action": "MailboxStatus", "Mailbox": v.mailbox(mailbox)}


def voicemail_users_list() -> Action:
    return {"Action": "VoicemailUsersList"}


def voicemail_user_status(context: str, mailbox: str) -> Action:
    return {
        "Action": "VoicemailUserStatus",
        "Context": v.context(context),
        "Mailbox": v.mailbox_box(mailbox),
    }


def voicemail_box_summary(context: str, mailbox: str) -> Action:
    return {
        "Action": "VoicemailBoxSummary",
        "Context": v.context(context),
        "Mailbox": v.mailbox_box(mailbox),
    }


def voicemail_remove(context: str, mailbox: str, folder: str, message_id: str) -> Action:
    return {
        "Action": "VoicemailRemove",
        "Context": v.context(context),
        "Mailbox": v.mailbox_box(mailbox),
        "Folder": v.voicemail_folder(folder),
        "ID": v.message_id(message_id),
    }


def voicemail_refresh(context: str | None = None, mailbox: str | None = None) -> Action:
    """Tell app_voicemail to re-read the spool (after files changed behind its back)."""
    action: Action = {"Action": "VoicemailRefresh"}
    if context is not None:
        action["Context"] = v.context(context)
    if mailbox is not None:
        action["Mailbox"] = v.mailbox_box(mailbox)
    return action
