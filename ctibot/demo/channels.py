"""Channels, bridges and dial attempts: the demo PBX's live call objects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctibot.demo.office import Trunk


@dataclass(eq=False, slots=True)
class Channel:
    """One Asterisk channel with the fields its snapshots report."""

    name: str
    uniqueid: str
    linkedid: str
    created: float
    state: int = 0
    cid_num: str = "<unknown>"
    cid_name: str = "<unknown>"
    conn_num: str = "<unknown>"
    conn_name: str = "<unknown>"
    context: str = ""
    exten: str = ""
    priority: int = 1
    app: str = ""
    appdata: str = ""
    answered_at: float | None = None
    bridge: Bridge | None = None
    partner: Channel | None = None  # the other half of a Local channel pair
    extension: str | None = None  # the user whose phone this channel is
    trunk: Trunk | None = None
    attempt: Attempt | None = None  # the dial attempt this channel answers for
    dials: list[Attempt] = field(default_factory=list)  # attempts this channel placed
    variables: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    dead: bool = False
    on_hold: bool = False
    recording: str | None = None
    cdr_src: str = ""
    cdr_dst: str = ""
    parked_slot: int | None = None
    keep_alone: bool = False  # stays up when its bridge peer leaves (parking, transfer)
    hooks: list[Callable[[Channel], None]] = field(default_factory=list)  # run at hangup
    records: list[dict] = field(default_factory=list)  # CDR parties: peer, app, data, up
    hangup_handler: str | None = None  # pushed by the lab's phones context
    moh: bool = False  # playing music on hold (MusicOnHoldStart sent)
    dial_started: float | None = None  # app_dial running on this channel since
    dial_rang: bool = False
    dial_answered_at: float | None = None
    stale_app: tuple[str, str] | None = None  # shown by the next Newexten after a transfer
    cdr_younger: bool = False  # always the peer named by others' CDR records, never theirs
    pending_cid: tuple[str, str] | None = None  # a ;2's caller id its ;1 updates at hangup

    @property
    def device(self) -> str:
        """``PJSIP/201`` for ``PJSIP/201-00000001``, ``Local/201@phones`` for its halves."""
        return self.name.rsplit("-", 1)[0]


@dataclass(eq=False, slots=True)
class Bridge:
    """A bridge: basic (two parties talking) or the parking lot's holding bridge."""

    uniqueid: str
    type: str = "basic"
    technology: str = "simple_bridge"
    creator: str = "<unknown>"
    name: str = "<unknown>"
    channels: list[Channel] = field(default_factory=list)

    def pairs(self) -> list[tuple[str, object]]:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", self.type),
            ("BridgeTechnology", self.technology),
            ("BridgeCreator", self.creator),
            ("BridgeName", self.name),
            ("BridgeNumChannels", len(self.channels)),
            ("BridgeVideoSourceMode", "none"),
        ]


@dataclass(eq=False, slots=True)
class Attempt:
    """A Dial (or an Originate) in progress towards ``outer``/``inner``.

    ``outer`` is the channel the caller gets bridged with; ``inner`` runs the
    far end (the phone, the outside world, a Local channel's dialplan). For a
    PJSIP device or a trunk both are the same channel; for ``Local/...`` they
    are ``;1`` and ``;2``.
    """

    caller: Channel | None
    outer: Channel
    inner: Channel
    dialstring: str
    result: asyncio.Future[str]
    rang: bool = False
    on_ring: Callable[[], None] | None = None  # the far end started ringing

    @property
    def done(self) -> bool:
        return self.result.done()
