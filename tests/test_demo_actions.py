"""Every AMI action of the demo PBX in the field layout (PJSIP phones, two trunks).

Besides each action's own facts, every message the demo sends here must have
one of the field lists the real captures show for that message kind, and every
reply and list item carries the ActionID of its action.
"""

from __future__ import annotations

import asyncio
import time

from ctibot.demo import DemoPbx
from tests.demo_fixtures import RawAmiClient, field_templates, split_raw, unknown_field_orders

SCALE = 0.01
FOREVER = 86_400  # simulated seconds (a day)
TEMPLATES = field_templates()


async def until(pred, timeout: float = 10.0) -> None:
    """Wait (bounded, generous for a loaded CI machine) until ``pred()`` holds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


class Tour:
    """A logged-in client numbering its actions."""

    def __init__(self, client: RawAmiClient) -> None:
        self.client = client
        self.n = 0

    async def __call__(self, action: str, **fields: str) -> tuple[dict, list[dict]]:
        self.n += 1
        aid = f"t-{self.n}"
        resp = await self.client.action({"Action": action, "ActionID": aid, **fields})
        items = [m for m in self.client.messages if m.get("ActionID") == aid and "Event" in m]
        return resp, items


def bridged(pbx: DemoPbx, ext: str):
    return next((c for c in pbx.channels_of(ext) if c.bridge is not None), None)


async def test_action_tour_in_the_field_layout() -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        # The tour makes dozens of AMI round trips while its calls are up: at SCALE a
        # talk time (600 s) lasts 6 s and a parking timeout (45 s) 0.45 s of real
        # time, which a loaded machine can outrun. Calls stay until hung up here.
        for user in pbx.office.users.values():
            user.phone.talk_time = FOREVER
        pbx.office.parking_timeout = FOREVER
        client = RawAmiClient()
        await client.login(pbx.port)
        act = Tour(client)

        # Click-to-call, answered by both phones.
        resp, _ = await act(
            "Originate",
            Channel="PJSIP/201",
            Context="from-internal",
            Exten="202",
            Priority="1",
            CallerID='"Alice Anders" <201>',
            Timeout="15000",
            Async="true",
        )
        assert resp["Message"] == "Originate successfully queued"
        answered = await client.wait_for(lambda m: m.get("Event") == "OriginateResponse")
        assert (answered["Response"], answered["Reason"]) == ("Success", "4")
        await until(lambda: bridged(pbx, "202"))
        ours, theirs = bridged(pbx, "201"), bridged(pbx, "202")

        # Channel listings.
        resp, items = await act("CoreShowChannels")
        assert {i["Channel"] for i in items if i["Event"] == "CoreShowChannel"} == {
            ours.name,
            theirs.name,
        }
        assert items[-1]["ListItems"] == "2"
        resp, items = await act("Status", Channel=ours.name, Variables="DIALEDEXT")
        assert items[0]["Event"] == "Status"
        resp, items = await act("BridgeList")
        bridge_id = items[0]["BridgeUniqueid"]
        resp, items = await act("BridgeInfo", BridgeUniqueid=bridge_id)
        assert [i["Event"] for i in items] == ["BridgeInfoChannel"] * 2 + ["BridgeInfoComplete"]
        resp, _ = await act("Command", Command="core show channels concise")
        assert len(resp["Output"]) == 2 and resp["Output"][0].count("!") == 13

        # Recording: start, pause, resume, stop.
        await act("MixMonitor", Channel=ours.name, File="/tmp/rec.wav", Options="a")
        await act("MixMonitorMute", Channel=ours.name, Direction="both", State="1")
        await act("MixMonitorMute", Channel=ours.name, Direction="both", State="0")
        resp, _ = await act("Getvar", Channel=ours.name, Variable="MIXMONITOR_FILENAME")
        assert resp["Value"] == "/tmp/rec.wav"
        await act("StopMixMonitor", Channel=ours.name)
        resp, _ = await act("PauseMonitor", Channel=ours.name)
        assert resp["Response"] == "Error" and resp["Message"].startswith("Invalid/unknown command")

        # Listen in from 203: Originate to ChanSpy.
        await act(
            "Originate",
            Channel="PJSIP/203",
            Application="ChanSpy",
            Data=f"{ours.name},qS",
            CallerID="Spy <203>",
            Async="true",
        )
        await until(lambda: any(c.app == "ChanSpy" for c in pbx.engine.channels.values()))

        # Attended transfer of 202's party (201) to 204: 202 consults 204 while 201
        # waits on hold, then hangs up and 201 talks with 204 (attended_transfer).
        resp, _ = await act("Atxfer", Channel=theirs.name, Exten="204", Context="from-internal")
        assert resp["Response"] == "Success"
        await until(lambda: bridged(pbx, "204") is not None)
        consulting = pbx.engine.peer_of(bridged(pbx, "204"))
        assert consulting is not None and consulting.name.startswith("Local/204@from-internal-")
        assert pbx.engine.peer_of(theirs) is consulting.partner  # 202 talks with 204
        assert ours.bridge is not None and pbx.engine.peer_of(ours) is None  # 201 on hold
        await act("Hangup", Channel=theirs.name)
        await until(lambda: bridged(pbx, "204") and bridged(pbx, "204").bridge is ours.bridge)
        assert not pbx.channels_of("202")
        assert not [c for c in pbx.engine.channels.values() if c.name.startswith("Local/204@")]
        transfer = await client.wait_for(lambda m: m.get("Event") == "AttendedTransfer")
        assert transfer["TransfereeChannel"] == ours.name

        # Park 201's leg, list, pick up with a Redirect of 205's channel to 701.
        agent = bridged(pbx, "204")
        resp, _ = await act("Park", Channel=ours.name, TimeoutChannel=agent.name)
        assert resp["Message"].startswith("Park successful")
        resp, items = await act("ParkedCalls")
        assert items[0]["ParkingSpace"] == "701"
        resp, items = await act("Parkinglots")
        assert (items[0]["StartSpace"], items[0]["StopSpace"]) == ("701", "720")
        pbx.phone("205").answer_after = 0.0
        pbx.call("205", "206")
        await until(lambda: bridged(pbx, "206"))
        picker = bridged(pbx, "205")
        await act("Redirect", Channel=picker.name, Context="from-internal", Exten="701")
        unparked = await client.wait_for(lambda m: m.get("Event") == "UnParkedCall")
        assert unparked["RetrieverChannel"] == picker.name

        # Blind transfer of 201 (now with 205) to 207.
        await act("BlindTransfer", Channel=picker.name, Context="from-internal", Exten="207")
        await until(lambda: bridged(pbx, "207"))

        # Variables and device states.
        await act("Setvar", Variable="DEVICE_STATE(Custom:foo)", Value="INUSE")
        resp, _ = await act("Getvar", Variable="DEVICE_STATE(Custom:foo)")
        assert resp["Value"] == "INUSE"
        await act("Command", Command="devstate change Custom:DND208 BUSY")
        resp, _ = await act("ExtensionState", Exten="*76208", Context="app-dnd-hints")
        assert resp["StatusText"] == "Busy"
        resp, _ = await act("Command", Command="presencestate change CustomPresence:201 AWAY")
        assert resp["Output"].startswith("Changing")
        resp, _ = await act("Command", Command="core restart now")
        assert resp["Output"].startswith("No such command")
        resp, items = await act("ExtensionStateList")
        assert items[-1]["ListItems"] == "16"
        resp, items = await act("PJSIPShowEndpoints")
        endpoints = {i["ObjectName"]: i for i in items if i["Event"] == "EndpointList"}
        assert set(endpoints) == {str(x) for x in range(201, 209)} | {"voip-a", "voip-b"}
        resp, items = await act("DeviceStateList")
        assert items[-1]["Event"] == "DeviceStateListComplete"

        # Queues.
        resp, items = await act("QueueSummary")
        assert [i["Queue"] for i in items[:-1]] == ["sales", "support"]
        resp, _ = await act(
            "QueueAdd",
            Queue="support",
            Interface="Local/208@from-queue/n",
            MemberName="Henry Hill",
            StateInterface="hint:208@ext-local",
            Penalty="1",
        )
        assert resp["Message"] == "Added interface to queue"
        resp, _ = await act("QueueAdd", Queue="support", Interface="Local/208@from-queue/n")
        assert resp["Message"] == "Unable to add interface: Already there"
        await act("QueuePause", Interface="Local/208@from-queue/n", Paused="true", Reason="Lunch")
        resp, items = await act("QueueStatus", Queue="support", Member="Local/208@from-queue/n")
        member = next(i for i in items if i["Event"] == "QueueMember")
        assert (member["Paused"], member["PausedReason"], member["Membership"]) == (
            "1",
            "Lunch",
            "dynamic",
        )
        await act("QueuePenalty", Interface="Local/208@from-queue/n", Penalty="3")
        resp, _ = await act("QueueLog", Queue="support", Event="ADDMEMBER", Interface="208")
        assert resp["Response"] == "Success"
        resp, _ = await act("QueueRemove", Queue="support", Interface="Local/208@from-queue/n")
        assert resp["Message"] == "Removed interface from queue"

        # AstDB.
        await act("DBPut", Family="CF", Key="201", Val="0612345678")
        resp, items = await act("DBGet", Family="CF", Key="201")
        assert items[0]["Val"] == "0612345678"
        resp, items = await act("DBGetTree", Family="CF")
        assert items[0]["Key"] == "/CF/201"
        resp, _ = await act("Command", Command="database show CF")
        assert resp["Output"][-1] == "1 results found."
        resp, _ = await act("DBDel", Family="CF", Key="201")
        assert resp["Message"] == "Key deleted successfully"

        # Voicemail.
        pbx.leave_voicemail("203", duration=7)
        resp, _ = await act("MailboxCount", Mailbox="203@default")
        assert resp["NewMessages"] == "1"
        resp, _ = await act("MailboxStatus", Mailbox="203@default")
        assert resp["Waiting"] == "1"
        resp, items = await act("VoicemailUsersList")
        assert len(items) == 9
        resp, items = await act("VoicemailUserStatus", Context="default", Mailbox="203")
        assert items[0]["NewMessageCount"] == "1"
        resp, items = await act("VoicemailBoxSummary", Context="default", Mailbox="203")
        msg_id = items[0]["ID"]
        assert items[0]["Duration"] == "7"
        resp, _ = await act(
            "VoicemailRemove", Context="default", Mailbox="203", Folder="INBOX", ID=msg_id
        )
        assert resp["Response"] == "Success"
        await act("VoicemailRefresh", Context="default", Mailbox="203")

        # Failures: a busy phone, a synchronous Originate that fails.
        pbx.phone("206").busy = True
        await act("Originate", Channel="PJSIP/206", Exten="201", Context="from-internal", Async="1")
        failed = await client.wait_for(
            lambda m: m.get("Event") == "OriginateResponse" and m.get("Response") == "Failure"
        )
        assert failed["Reason"] == "5"
        resp, _ = await act("Originate", Channel="PJSIP/206", Exten="201", Context="from-internal")
        assert (resp["Response"], resp["Message"]) == ("Error", "Originate failed")

        # A device that does not exist: failure at once, no channel.
        resp, _ = await act("Originate", Channel="PJSIP/999", Exten="201", Context="from-internal")
        assert (resp["Response"], resp["Message"]) == ("Error", "Originate failed")
        assert not any(c.name.startswith("PJSIP/999") for c in pbx.engine.channels.values())

        # Hang everything up by regex.
        resp, items = await act("Hangup", Channel="/^PJSIP\\/.*$/")
        assert items[-1]["Event"] == "ChannelsHungupListComplete"
        await until(lambda: not pbx.engine.channels)
        await act("Logoff")
        await asyncio.wait_for(client.closed.wait(), 5)

    messages = split_raw(client.raw)
    assert unknown_field_orders(messages, TEMPLATES) == []
    for msg in messages:
        head = dict(msg[:3])
        if "Response" in head:
            assert any(k == "ActionID" for k, _ in msg), msg
