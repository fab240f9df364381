"""AMI actions of the demo PBX: channel and bridge listings, device and extension
states, variables and CLI commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctibot.demo import messages as m
from ctibot.demo.clock import hms
from ctibot.demo.registry import action, arg, channel_arg, send_list

if TYPE_CHECKING:
    from ctibot.demo.channels import Channel
    from ctibot.demo.server import AmiSession


# -- variables and device states ------------------------------------------------
@action("Getvar")
async def getvar(s: AmiSession, msg: dict, aid: str | None) -> None:
    name = arg(msg, "Variable")
    value = ""
    if arg(msg, "Channel"):
        ch = channel_arg(s, msg)
        if ch is None:
            s.send(m.response("Error", aid, "No such channel"))
            return
        value = ch.variables.get(name, "")
    elif name.startswith("DEVICE_STATE(") and name.endswith(")"):
        value = s.pbx.engine.device_states.get(name[13:-1], "UNKNOWN")
    s.send(m.response("Success", aid, None, [("Variable", name), ("Value", value)]))


@action("Setvar")
async def setvar(s: AmiSession, msg: dict, aid: str | None) -> None:
    name, value = arg(msg, "Variable"), arg(msg, "Value")
    e = s.pbx.engine
    if name.startswith("DEVICE_STATE(") and name.endswith(")"):
        s.send(m.response("Success", aid, "Variable Set"))
        e.set_device_state(name[13:-1], value.upper())
        return
    if arg(msg, "Channel"):
        ch = channel_arg(s, msg)
        if ch is None:
            s.send(m.response("Error", aid, "No such channel"))
            return
        e.steps.var(ch, name, value)
    s.send(m.response("Success", aid, "Variable Set"))


def _extension_status_pairs(s: AmiSession, exten: str, context: str) -> list[tuple[str, Any]]:
    office, e = s.pbx.office, s.pbx.engine
    if context == "ext-local" and exten in office.users:
        hint, state = office.hint(exten), e.hint_state(exten)
    elif context == "app-dnd-hints" and exten.startswith("*76") and exten[3:] in office.users:
        hint = f"Custom:DND{exten[3:]}"
        state = e.device_states.get(hint, "NOT_INUSE")
    else:
        return [
            ("Exten", exten),
            ("Context", context),
            ("Hint", ""),
            ("Status", -1),
            ("StatusText", "Unknown"),
        ]
    status, text = m.EXTENSION_STATUS.get(state, (-1, "Unknown"))
    return [
        ("Exten", exten),
        ("Context", context),
        ("Hint", hint),
        ("Status", status),
        ("StatusText", text),
    ]


@action("ExtensionStateList")
async def extension_state_list(s: AmiSession, msg: dict, aid: str | None) -> None:
    users = list(s.pbx.office.users)
    items = [m.list_start(aid, "Extension Statuses will follow")]
    for ext in users:
        items.append(
            m.list_item(
                "ExtensionStatus", aid, _extension_status_pairs(s, "*76" + ext, "app-dnd-hints")
            )
        )
    for ext in users:
        items.append(
            m.list_item("ExtensionStatus", aid, _extension_status_pairs(s, ext, "ext-local"))
        )
    items.append(m.list_complete("ExtensionStateListComplete", aid, 2 * len(users)))
    send_list(s, items)


@action("ExtensionState")
async def extension_state(s: AmiSession, msg: dict, aid: str | None) -> None:
    pairs = _extension_status_pairs(s, arg(msg, "Exten"), arg(msg, "Context", "ext-local"))
    s.send(m.response("Success", aid, "Extension Status", pairs))


@action("DeviceStateList")
async def device_state_list(s: AmiSession, msg: dict, aid: str | None) -> None:
    e, office = s.pbx.engine, s.pbx.office
    states = dict(e.device_states)
    for queue in office.queues.values():
        states.setdefault(f"Queue:{queue.name}", "NOT_INUSE")
        states.setdefault(f"Queue:{queue.name}_avail", "NOT_INUSE")
        for iface in queue.members:
            states.setdefault(f"Queue:{queue.name}_pause_{iface}", "NOT_INUSE")
    for box, mailbox in office.mailboxes.items():
        states.setdefault(f"MWI:{box}@{mailbox.context}", "INUSE" if mailbox.new else "NOT_INUSE")
    for ext in office.users:
        states.setdefault(f"Custom:DND{ext}", "NOT_INUSE")
    lo, _hi = office.parking_slots
    states.setdefault(f"park:{lo}@parkedcalls", "NOT_INUSE")
    items = [m.list_start(aid, "Device State Changes will follow")]
    for device, state in states.items():
        items.append(m.list_item("DeviceStateChange", aid, [("Device", device), ("State", state)]))
    items.append(m.list_complete("DeviceStateListComplete", aid, len(states)))
    send_list(s, items)


# -- channel listings -------------------------------------------------------------
def _status_fields(s: AmiSession, ch: Channel) -> list[tuple[str, Any]]:
    now = s.pbx.clock.now()
    kind = ch.name.split("/", 1)[0]
    return [
        ("Type", kind),
        ("DNID", ""),
        ("EffectiveConnectedLineNum", ch.conn_num),
        ("EffectiveConnectedLineName", ch.conn_name),
        ("TimeToHangup", 0),
        ("BridgeID", ch.bridge.uniqueid if ch.bridge else ""),
        ("Application", ch.app),
        ("Data", ch.appdata),
        ("Nativeformats", "(slin)" if kind == "Local" else "(ulaw)"),
        ("Readformat", "slin" if kind == "Local" else "ulaw"),
        ("Readtrans", ""),
        ("Writeformat", "slin" if kind == "Local" else "ulaw"),
        ("Writetrans", ""),
        ("Callgroup", 0),
        ("Pickupgroup", 0),
        ("Seconds", int(now - ch.created)),
    ]


@action("CoreShowChannels")
async def core_show_channels(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    now = s.pbx.clock.now()
    items = [m.list_start(aid, "Channels will follow")]
    channels = list(e.channels.values())
    for ch in channels:
        items.append(
            m.list_item(
                "CoreShowChannel",
                aid,
                m.channel_pairs(ch),
                [
                    ("Application", ch.app),
                    ("ApplicationData", ch.appdata),
                    ("Duration", hms(now - ch.created)),
                    ("BridgeId", ch.bridge.uniqueid if ch.bridge else ""),
                ],
            )
        )
    items.append(m.list_complete("CoreShowChannelsComplete", aid, len(channels)))
    send_list(s, items)


@action("Status")
async def status(s: AmiSession, msg: dict, aid: str | None) -> None:
    e = s.pbx.engine
    name = arg(msg, "Channel")
    if name:
        ch = e.channels.get(name)
        if ch is None:
            s.send(m.response("Error", aid, "No such channel"))
            return
        channels = [ch]
    else:
        channels = list(e.channels.values())
    wanted = [v for v in arg(msg, "Variables").split(",") if v]
    items = [m.list_start(aid, "Channel status will follow")]
    for ch in channels:
        pairs: list[tuple[str, Any]] = [("Event", "Status"), ("Privilege", "Call")]
        pairs += m.channel_pairs(ch)
        pairs += _status_fields(s, ch)
        pairs += [("Variable", f"{v}={ch.variables.get(v, '')}") for v in wanted]
        if aid is not None:
            pairs.append(("ActionID", aid))
        items.append(m.render(pairs))
    items.append(m.list_complete("StatusComplete", aid, len(channels), [("Items", len(channels))]))
    send_list(s, items)


@action("BridgeList")
async def bridge_list(s: AmiSession, msg: dict, aid: str | None) -> None:
    bridges = list(s.pbx.engine.bridges.values())
    items = [m.list_start(aid, "Bridge listing will follow")]
    items += [m.list_item("BridgeListItem", aid, br.pairs()) for br in bridges]
    items.append(m.list_complete("BridgeListComplete", aid, len(bridges)))
    send_list(s, items)


@action("BridgeInfo")
async def bridge_info(s: AmiSession, msg: dict, aid: str | None) -> None:
    br = s.pbx.engine.bridges.get(arg(msg, "BridgeUniqueid"))
    if br is None:
        s.send(m.response("Error", aid, "Bridge not found"))
        return
    items = [m.list_start(aid, "Bridge channel listing will follow")]
    items += [m.list_item("BridgeInfoChannel", aid, m.channel_pairs(ch)) for ch in br.channels]
    items.append(m.list_complete("BridgeInfoComplete", aid, len(br.channels), br.pairs()))
    send_list(s, items)


# -- CLI commands -------------------------------------------------------------------
@action("Command")
async def command(s: AmiSession, msg: dict, aid: str | None) -> None:
    e, office = s.pbx.engine, s.pbx.office
    cmd = " ".join(arg(msg, "Command").split())
    words = cmd.split(" ")
    output: list[str]
    now = s.pbx.clock.now()
    if cmd == "core show channels concise":
        output = [
            "!".join(
                [
                    ch.name,
                    ch.context,
                    ch.exten,
                    str(ch.priority),
                    m.STATE_DESC.get(ch.state, "Unknown"),
                    ch.app,
                    ch.appdata,
                    ch.cid_num,
                    "",
                    "",
                    "3",
                    str(int(now - ch.created)),
                    ch.bridge.uniqueid if ch.bridge else "",
                    ch.uniqueid,
                ]
            )
            for ch in e.channels.values()
        ]
    elif len(words) == 4 and words[:2] == ["devstate", "change"]:
        e.set_device_state(words[2], words[3].upper())
        output = [f"Changing {words[2]} to {words[3].upper()}"]
    elif len(words) >= 4 and words[:2] == ["presencestate", "change"]:
        state = words[3].upper()
        output = [f"Changing {words[2]} to {state}"]
        e.emit(
            m.event(
                "PresenceStateChange",
                [
                    ("Presentity", words[2]),
                    ("Status", state.split(",")[0].lower()),
                    ("Subtype", ""),
                    ("Message", ""),
                ],
            )
        )
    elif words[:2] == ["database", "show"]:
        entries = office.astdb.tree(*([*words[2:4], "", ""])[:2])
        output = [f"{k:<25}: {v}" for k, v in entries]
        output.append(f"{len(entries)} results found.")
    else:
        output = [
            "No such command '"
            + cmd
            + "' (type 'core show help "
            + cmd
            + "' for other possible commands)"
        ]
    s.send(
        m.response("Success", aid, "Command output follows", [("Output", line) for line in output])
    )


#: ast_devstate_str(): the device state texts of EndpointList.
DEVSTATE_TEXT = {
    "UNKNOWN": "Unknown",
    "NOT_INUSE": "Not in use",
    "INUSE": "In use",
    "BUSY": "Busy",
    "INVALID": "Invalid",
    "UNAVAILABLE": "Unavailable",
    "RINGING": "Ringing",
    "RINGINUSE": "Ring+Inuse",
    "ONHOLD": "On Hold",
}


@action("PJSIPShowEndpoints")
async def pjsip_show_endpoints(s: AmiSession, msg: dict, aid: str | None) -> None:
    """Phones and trunks as PJSIP endpoints (field order from Asterisk 20's
    documentation: no capture has this list)."""
    e, office = s.pbx.engine, s.pbx.office
    rows: list[tuple[str, str, int, str]] = []
    for ext in office.users:
        for device in office.devices_of(ext):
            if not device.startswith("PJSIP/"):
                continue
            name = device.split("/", 1)[1]
            phone = office.phone_of(device)
            contact = f"{name}/sip:{name}@127.0.0.1:5062" if phone and phone.registered else ""
            active = sum(1 for c in e.channels.values() if c.device == device and not c.dead)
            rows.append((name, e.phone_state(ext, device), active, contact))
    for trunk in office.trunks:
        if trunk.device.startswith("PJSIP/"):
            name = trunk.device.split("/", 1)[1]
            active = e.trunk_in_use(trunk)
            rows.append((name, "INUSE" if active else "NOT_INUSE", active, f"{name}/sip:{name}"))
    items = [m.list_start(aid, "A listing of Endpoints follows, presented as EndpointList events")]
    for name, state, active, contact in rows:
        items.append(
            m.list_item(
                "EndpointList",
                aid,
                [
                    ("ObjectType", "endpoint"),
                    ("ObjectName", name),
                    ("Transport", "transport-udp"),
                    ("Aor", name),
                    ("Auths", name),
                    ("OutboundAuths", ""),
                    ("DeviceState", DEVSTATE_TEXT.get(state, "Unknown")),
                    ("ActiveChannels", active),
                    ("Contacts", contact),
                ],
            )
        )
    items.append(m.list_complete("EndpointListComplete", aid, len(rows)))
    send_list(s, items)


#: What the demo's phones say they are (SIP User-Agent), by extension when none is set.
DEMO_USER_AGENTS = (
    "Yealink SIP-T54W 96.86.0.100",
    "Grandstream GXP2170 1.0.11.64",
    "snom D785 10.1.159.12",
    "Fanvil X6U 2.12.20.2",
)


@action("PJSIPShowContacts")
async def pjsip_show_contacts(s: AmiSession, msg: dict, aid: str | None) -> None:
    """The registered PJSIP contacts with their User-Agent (fields as Asterisk 20's
    ContactList event documents them)."""
    office = s.pbx.office
    rows: list[tuple[str, str]] = []
    for ext in office.users:
        for device in office.devices_of(ext):
            if not device.startswith("PJSIP/"):
                continue
            phone = office.phone_of(device)
            if phone is None or not phone.registered:
                continue
            name = device.split("/", 1)[1]
            agent = phone.user_agent
            if agent is None:
                digits = "".join(c for c in name if c.isdigit()) or "0"
                agent = DEMO_USER_AGENTS[int(digits) % len(DEMO_USER_AGENTS)]
            rows.append((name, agent))
    items = [m.list_start(aid, "A listing of Contacts follows, presented as ContactList events")]
    for name, agent in rows:
        items.append(
            m.list_item(
                "ContactList",
                aid,
                [
                    ("ObjectType", "contact"),
                    ("ObjectName", f"{name};@demo{name}"),
                    ("ViaAddr", ""),
                    ("Endpoint", name),
                    ("Aor", name),
                    ("Uri", f"sip:{name}@127.0.0.1:5062"),
                    ("UserAgent", agent),
                    ("Status", "Reachable"),
                    ("RoundtripUsec", "1500"),
                ],
            )
        )
    items.append(m.list_complete("ContactListComplete", aid, len(rows)))
    send_list(s, items)
