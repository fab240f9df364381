"""The state fed live by the demo PBX (FreePBX mode, over TCP): outbound, parked, queue calls."""

from __future__ import annotations

from ctibot.demo import DemoPbx
from ctibot.pbx import actions as a
from ctibot.pbx.events import CallEnded
from ctibot.pbx.state import PbxState, ResyncData
from tests.demo_fixtures import RawAmiClient
from tests.test_demo_pbx import FOREVER, SCALE, patient, until


class Live:
    """A PbxState fed every message a raw AMI client receives, as ctibot's client does."""

    def __init__(self, pbx: DemoPbx, client: RawAmiClient) -> None:
        self.state = PbxState(pbx.office.layout())
        self.client = client
        self.seen = 0
        self.records = []
        self.names_seen: list[tuple[str, str | None]] = []  # (channel, caller_name) of legs

    def sync(self) -> PbxState:
        for msg in self.client.messages[self.seen :]:
            for event in self.state.apply(msg):
                if isinstance(event, CallEnded):
                    self.records.append(event.record)
            for ch in self.state.channels.values():
                if ch.extension != "201":
                    self.names_seen.append((ch.name, ch.caller_name))
        self.seen = len(self.client.messages)
        return self.state

    def channel_of(self, ext: str, bridged: bool = True):
        self.sync()
        return next(
            (
                ch
                for ch in self.state.channels.values()
                if ch.extension == ext and (ch.bridge is not None or not bridged)
            ),
            None,
        )

    def peer(self, ch):
        """The far party as the services read it: across the bridge, then Local pairs."""
        peer_of = getattr(self.state, "peer_of", None)
        if peer_of is not None:
            return peer_of(ch)
        return next(
            (o for o in self.state.channels.values() if o is not ch and o.bridge == ch.bridge),
            None,
        )


async def started(pbx: DemoPbx) -> tuple[RawAmiClient, Live]:
    client = RawAmiClient()
    await client.login(pbx.port)
    return client, Live(pbx, client)


async def listed(client: RawAmiClient, action: str, event: str) -> list[dict]:
    aid = f"{action}-list"
    start = len(client.messages)
    await client.action({"Action": action, "ActionID": aid})
    return [
        m for m in client.messages[start:] if m.get("ActionID") == aid and m.get("Event") == event
    ]


async def test_outbound_call_far_party_is_the_number_with_no_name() -> None:
    """Alice calls 0612345678: the trunk channel carries her CallerIDName (app_dial
    copies it); the far party is the number alone, at every moment of the call."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client, live = await started(pbx)
        pbx.call("201", "0612345678")
        await until(lambda: (mine := live.channel_of("201")) and live.peer(mine) is not None)
        mine = live.channel_of("201")
        peer = live.peer(mine)
        assert peer.trunk is not None
        assert (peer.party, peer.caller_name) == ("0612345678", None)
        assert [n for n in live.names_seen if n[1] == "Alice Anders"] == []
        (call,) = live.state.snapshot()["calls"]
        assert (call["from_name"], call["to"], call["talking_with"], call["direction"]) == (
            "Alice Anders",
            "0612345678",
            "0612345678",
            "outbound",
        )
        pbx.hangup("201")
        await until(lambda: (live.sync(), live.records)[1])
        (record,) = live.records
        assert (record.to, record.answered_by, record.ended_with) == ("0612345678",) * 3
        await client.close()


async def park_alices_call(pbx: DemoPbx, dst: str) -> tuple[RawAmiClient, Live]:
    """Alice calls ``dst``, then parks the far end as ctibot does (Park its channel,
    coming back to hers on timeout); her phone hangs up."""
    client, live = await started(pbx)
    pbx.call("201", dst)
    await until(lambda: (mine := live.channel_of("201")) and live.peer(mine) is not None)
    mine = live.channel_of("201")
    far = live.peer(mine)
    resp = await client.action(
        {"Action": "Park", "ActionID": "park", "Channel": far.name, "TimeoutChannel": mine.name}
    )
    assert resp.get("Response") == "Success"
    await until(lambda: live.sync().parkings and live.channel_of("201", bridged=False) is None)
    return client, live


def assert_parked_call(snap: dict, to: str, direction: str, parked_name: str | None) -> None:
    (call,) = snap["calls"]
    assert (call["from"], call["from_name"], call["to"]) == ("201", "Alice Anders", to)
    assert (call["direction"], call["state"]) == (direction, "up")
    assert not call["transferred"]  # leaving for the parking bridge is no redirect
    (slot,) = snap["parkings"].values()
    assert (slot["from"], slot["from_name"], slot["parked_by"]) == (to, parked_name, "201")


async def test_parked_outgoing_trunk_call_keeps_direction_and_answer() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client, live = await park_alices_call(pbx, "0612345678")
        assert_parked_call(live.state.snapshot(), "0612345678", "outbound", None)
        # ``ctibot snapshot`` connects afresh: the state is rebuilt from the lists.
        fresh = PbxState(pbx.office.layout())
        fresh.resync(
            ResyncData(
                channels=await listed(client, "CoreShowChannels", "CoreShowChannel"),
                parked=await listed(client, "ParkedCalls", "ParkedCall"),
            )
        )
        assert_parked_call(fresh.snapshot(), "0612345678", "outbound", None)
        await client.close()


async def test_parked_internal_call_keeps_direction_and_answer_after_a_resync() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client, live = await park_alices_call(pbx, "202")
        assert_parked_call(live.state.snapshot(), "202", "internal", "Bob Brown")
        fresh = PbxState(pbx.office.layout())
        fresh.resync(
            ResyncData(
                channels=await listed(client, "CoreShowChannels", "CoreShowChannel"),
                parked=await listed(client, "ParkedCalls", "ParkedCall"),
            )
        )
        assert_parked_call(fresh.snapshot(), "202", "internal", "Bob Brown")
        await client.close()


async def test_queue_call_blind_transferred_by_the_agent_ends_with_the_target() -> None:
    """The caller stays bridged with the queue's Local/201@from-queue;1; the agent's
    transfer re-bridges its ;2 half with 204: the caller ends up talking with 204."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        pbx.phone("202").answer_after = None  # 201 takes the call
        client, live = await started(pbx)
        pbx.inbound_call("0699887766", "Customer", "5550100", talk=FOREVER)
        await until(lambda: live.channel_of("201") is not None)
        agent = live.channel_of("201")
        resp = await client.action(
            {
                "Action": "BlindTransfer",
                "ActionID": "xfer",
                "Channel": agent.name,
                "Exten": "204",
                "Context": "from-internal",
            }
        )
        assert resp.get("Response") == "Success"
        await until(lambda: live.channel_of("204") is not None)
        (call,) = live.state.snapshot()["calls"]
        assert (call["answered_by"], call["talking_with"], call["transfers"]) == (
            "201",
            "204",
            ["204"],
        )
        caller = next(ch for ch in live.state.channels.values() if ch.trunk is not None)
        assert live.peer(caller).party == "204"
        assert live.peer(live.channel_of("204")) is caller
        await client.action({"Action": "Hangup", "ActionID": "bye", "Channel": caller.name})
        await until(lambda: (live.sync(), live.records)[1])
        (record,) = live.records
        assert (record.from_, record.queue, record.answered_by) == ("0699887766", "sales", "201")
        assert record.transferred and record.transfers == ("204",)
        assert record.ended_with == "204"
        await client.close()


async def test_forwarded_call_parties_are_the_caller_and_the_target() -> None:
    """Alice forwards to Carol (CF/201=203); Bob calls Alice: Bob and Carol talk, the
    record says forwarded from 201, and the dialplan's CF: tag is no one's name."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        pbx.set_forward("201", "CF", "203")
        client, live = await started(pbx)
        # Bob's click-to-call as ctibot sends it (the OriginateResponse names 201).
        originate = a.originate_call("PJSIP/202", "201", context="from-internal")
        await client.action({**originate, "ActionID": "call", "CallerID": '"Bob Brown" <202>'})
        # Both phones bridged: 203's BridgeEnter may come before 202's.
        await until(lambda: None not in (live.channel_of("203"), live.channel_of("202")))
        bob, carol = live.channel_of("202"), live.channel_of("203")
        bobs_peer, carols_peer = live.peer(bob), live.peer(carol)
        assert bobs_peer.party == "203" and bobs_peer.caller_name in (None, "Carol Clark")
        assert (carols_peer.party, carols_peer.caller_name) == ("202", "Bob Brown")
        (call,) = live.state.snapshot()["calls"]
        assert (call["from"], call["from_name"], call["talking_with"]) == (
            "202",
            "Bob Brown",
            "203",
        )
        assert call["forwarded_from"] == "201"
        live.names_seen.clear()
        pbx.hangup("203")
        await until(lambda: (live.sync(), live.records)[1])
        (record,) = live.records
        assert (record.from_, record.from_name, record.ended_with) == ("202", "Bob Brown", "203")
        assert record.forwarded_from == "201"
        await client.close()


async def test_conference_in_the_field_layout_is_three_calls_to_800() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        client, live = await started(pbx)
        for ext in ("201", "202", "203"):
            pbx.call(ext, "800")
        await until(
            lambda: (
                len(live.sync().snapshot()["calls"]) == 3
                and all(c["conference"] for c in live.state.snapshot()["calls"])
            )
        )
        calls = live.state.snapshot()["calls"]
        assert sorted((c["from"], c["to"], c["talking_with"], c["state"]) for c in calls) == [
            (ext, "800", "800", "up") for ext in ("201", "202", "203")
        ]
        for ext in ("201", "202", "203"):
            assert live.peer(live.channel_of(ext)) is None  # many parties, not one
        for ext in ("201", "202", "203"):
            pbx.hangup(ext)
        await until(lambda: (live.sync(), len(live.records) >= 3 and not live.state.calls)[1])
        assert sorted((r.from_, r.to, r.conference, r.answered) for r in live.records) == [
            (ext, "800", "800", True) for ext in ("201", "202", "203")
        ]
        await client.close()


async def test_call_to_a_phone_on_dnd_sent_to_voicemail_names_the_extension() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        patient(pbx)
        pbx.set_dnd("203", True)
        client, live = await started(pbx)
        originate = a.originate_call("PJSIP/201", "203", context="from-internal")
        await client.action({**originate, "ActionID": "call", "CallerID": '"Alice Anders" <201>'})
        await until(lambda: any(c.app == "VoiceMail" for c in pbx.engine.channels.values()))
        # While 201 listens to 203's greeting the call is in 203's voicemail, not ringing.
        await until(lambda: [c.state for c in live.sync().calls.values()] == ["voicemail"])
        (call,) = live.state.calls.values()
        assert (call.voicemail, call.answered_at, call.state) == ("203", None, "voicemail")
        assert live.state.snapshot()["calls"][0]["voicemail"] == "203"
        pbx.hangup("201")
        await until(lambda: (live.sync(), live.records)[1])
        (record,) = live.records
        assert (record.from_, record.to, record.answered) == ("201", "203", False)
        assert (record.voicemail, record.answered_by) == ("203", None)
        await client.close()
