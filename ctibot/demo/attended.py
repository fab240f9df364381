"""Attended transfer (Atxfer) as Asterisk 20 does it: consult, merge bridges, optimise Local."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ctibot.demo import messages as m
from ctibot.demo.channels import Attempt

if TYPE_CHECKING:
    from ctibot.demo.calls import CallEngine
    from ctibot.demo.channels import Bridge, Channel

#: The lab's (and FreePBX's) attended-transfer feature code, sent as DTMF by Atxfer.
ATXFER_CODE = "*2"


def _dtmf(e: CallEngine, ch: Channel, digit: str) -> None:
    e.emit(
        m.event(
            "DTMFEnd",
            m.channel_pairs(ch),
            [("Digit", digit), ("DurationMs", 0), ("Direction", "Received")],
        )
    )


class AttendedTransfer:
    """One Atxfer: the transferer consults ``exten@context`` through a Local channel
    while the transferee waits on hold; when the transferer hangs up, the
    consultation bridge merges into the original one and the Local channel
    optimises itself away, leaving the transferee with the target."""

    def __init__(
        self, e: CallEngine, transferer: Channel, transferee: Channel, context: str, exten: str
    ) -> None:
        self.e = e
        self.transferer = transferer
        self.transferee = transferee
        self.original: Bridge = transferer.bridge  # type: ignore[assignment]
        self.context, self.exten = context, exten
        self.consultation: Bridge | None = None
        self.one: Channel | None = None
        self.two: Channel | None = None
        self.attempt: Attempt | None = None
        self.done = False

    def start(self) -> None:
        """Atxfer: the feature code and the number as DTMF, hold, then the consultation call."""
        e, t, p = self.e, self.transferer, self.transferee
        e.steps.var(t, "TRANSFER_CONTEXT", self.context)
        for digit in ATXFER_CODE:
            _dtmf(e, t, digit)
        e.emit(m.event("Hold", m.channel_pairs(t)))
        p.keep_alone = t.keep_alone = True
        e.steps.moh_start(p)
        for digit in self.exten:
            _dtmf(e, t, digit)
        one, two = e.new_local_pair(f"{self.exten}@{self.context}", t.linkedid, None, None)
        self.one, self.two = one, two
        one.cdr_younger = True  # the transferee's and transferer's records name it
        inherited = [(k, t.variables[k]) for k in ("__DIALEDEXT",) if k in t.variables]
        for half, names in (
            (one, ("TRANSFERERNAME", "ATTENDEDTRANSFER")),
            (two, ("ATTENDEDTRANSFER", "TRANSFERERNAME")),
        ):
            for name in names:
                e.steps.var(half, name, t.name)
            for name, value in inherited:
                e.steps.var(half, name, value)
        self.consultation = e.new_bridge()
        e.set_callerid(two, t.cid_num, t.cid_name)
        loop = asyncio.get_running_loop()
        att = Attempt(None, one, two, f"{self.exten}@{self.context}", loop.create_future())
        att.on_ring = self._target_rings
        one.attempt = two.attempt = att
        self.attempt = att
        e.set_connected(one, t.cid_num, t.cid_name)
        e.enter(self.consultation, one)
        two.context, two.exten, two.priority = self.context, self.exten, 1
        e.spawn(e.dialplan.run(two, self.context, self.exten), owner=two)
        t.hooks.append(self._transferer_hung_up)
        e.spawn(self._consult())

    def _target_rings(self) -> None:
        """The target rings: the transferer leaves the transferee for the consultation."""
        e, t = self.e, self.transferer
        if self.done or t.dead or self.consultation is None or self.one is None:
            return
        e.enter(self.consultation, t)
        for record in t.records:
            if record["peer"] == self.one.name:
                record["own"] = True  # the transferer's own record of the consultation
        e.set_connected(t, self.one.cid_num, self.one.cid_name, propagate_at_hangup=True)

    async def _consult(self) -> None:
        att = self.attempt
        assert att is not None and self.one is not None
        status = await asyncio.shield(att.result)
        t = self.transferer
        if self.done or t.dead:
            return
        if status == "ANSWER":
            if t.bridge is self.consultation and self.one.bridge is self.consultation:
                self.e.steps.bridged(self.one, t)  # the answered leg is bridged anew
            return
        self._abandon()

    def _abandon(self) -> None:
        """The target never answered: the transferer is back with the transferee."""
        e, t, p = self.e, self.transferer, self.transferee
        self.done = True
        e.steps.moh_stop(p)
        if not t.dead and not p.dead and p.bridge is self.original and t.bridge is not p.bridge:
            e.enter(self.original, t)
        p.keep_alone = t.keep_alone = False
        for ch in (self.one, self.two):
            if ch is not None and not ch.dead:
                e.hangup(ch, 16)
        if self.consultation is not None:
            e.destroy(self.consultation)

    def _transferer_hung_up(self, t: Channel) -> None:
        """The transferer hangs up: the consultation bridge merges into the original."""
        e, p, one = self.e, self.transferee, self.one
        if self.done or one is None or one.dead or p.dead or self.consultation is None:
            return
        if t.bridge is not self.consultation:
            self._abandon()
            return
        self.done = True
        consultation, original = self.consultation, self.original
        e.steps.var(t, "BRIDGEPEER", "")
        e.steps.moh_stop(p)
        e.leave(t, hangup_peer=False, moving=True)
        e.emit(m.event("BridgeMerge", _prefixed(original, "To"), _prefixed(consultation, "From")))
        e.enter(original, one)
        e.set_connected(p, one.cid_num, one.cid_name, propagate_at_hangup=True)
        e.set_connected(one, p.cid_num, p.cid_name)
        e.emit(
            m.event(
                "AttendedTransfer",
                [("Result", "Success")],
                m.channel_pairs(t, "OrigTransferer"),
                _prefixed(original, "Orig"),
                m.channel_pairs(t, "SecondTransferer"),
                _prefixed(consultation, "Second"),
                m.channel_pairs(p, "Transferee"),
                [
                    ("IsExternal", "No"),
                    ("DestType", "Bridge"),
                    ("DestBridgeUniqueid", original.uniqueid),
                ],
            )
        )
        e.destroy(consultation)
        p.keep_alone = False
        e.spawn(self._optimise())

    async def _optimise(self) -> None:
        """The Local channel between the transferee and the target optimises away."""
        await asyncio.sleep(0)  # after the transferer's own hangup, as Asterisk orders it
        e, p, one, two = self.e, self.transferee, self.one, self.two
        assert one is not None and two is not None
        far = e.peer_of(two)
        if p.dead or one.dead or two.dead or far is None or far.bridge is None:
            return
        target_bridge = far.bridge
        e.set_connected(far, p.cid_num, p.cid_name, propagate_at_hangup=True)
        e.emit(
            m.event(
                "LocalOptimizationBegin",
                m.channel_pairs(one, "LocalOne"),
                m.channel_pairs(two, "LocalTwo"),
                m.channel_pairs(p, "Source"),
                [("DestUniqueId", two.uniqueid), ("Id", 0)],
            )
        )
        e.leave(p, hangup_peer=False, moving=True)
        e.steps.var(two, "BRIDGEPEER", "")
        e.set_callerid(two, p.cid_num, p.cid_name)
        two.keep_alone = far.keep_alone = True
        e.leave(two, hangup_peer=False, moving=True)
        e.enter(target_bridge, p)
        e.steps.var(one, "BRIDGEPEER", "")
        e.emit(
            m.event(
                "LocalOptimizationEnd",
                m.channel_pairs(one, "LocalOne"),
                m.channel_pairs(two, "LocalTwo"),
                [("Success", "No"), ("Id", 0)],
            )
        )
        far.keep_alone = False
        e.hangup(one, 16)


def _prefixed(br: Bridge, prefix: str) -> list[tuple[str, object]]:
    return [(prefix + key, value) for key, value in br.pairs()]
