"""Permissions (what a user may do) and the profiles that bundle them (SPEC F2)."""

from __future__ import annotations

#: Every permission ctibot checks, with what it allows. Names follow the reference product.
PERMISSIONS: dict[str, str] = {
    "call": "place calls from one's own phone",
    "hangup": "hang up one's own calls",
    "transfer": "transfer one's own calls",
    "park": "park one's own calls",
    "pickup": "pick up parked calls",
    "recording": "record one's own calls",
    "dnd": "set do-not-disturb on one's own extensions",
    "call_forward": "set call forwarding on one's own extensions",
    "queue_agent": "log in/out and pause in queues",
    "presence_panel": "see the state of other users and phones",
    "cdr": "see one's own call history",
    "spy": "listen to other people's calls",
    "intrude": "whisper into / barge into other people's calls",
    "operator_panel": "act on other people's calls",
    "admin": "administer ctibot",
}

#: Profiles used when the configuration defines none.
DEFAULT_PROFILES: dict[str, frozenset[str]] = {
    "user": frozenset(
        {
            "call",
            "hangup",
            "transfer",
            "park",
            "pickup",
            "recording",
            "dnd",
            "call_forward",
            "queue_agent",
            "presence_panel",
            "cdr",
        }
    ),
    "supervisor": frozenset(set(PERMISSIONS) - {"admin"}),
    "admin": frozenset(PERMISSIONS),
}
DEFAULT_PROFILE = "user"
