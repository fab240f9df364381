"""The AMI client against the demo PBX over TCP: login, traps, faults, resync, AstDB polling."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace
from typing import Any

import pytest

from ctibot.config import PbxConfig
from ctibot.demo.server import DemoPbx
from ctibot.pbx import actions as act
from ctibot.pbx import events as ev
from ctibot.pbx.errors import AmiError, AmiUnavailable

from harness import SCALE, Harness, essentials, fresh_view, ring_forever, ringing_at

# -- login ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["md5", "plain"])
async def test_login_then_a_complete_state(pbx: DemoPbx, auth: str) -> None:
    h = Harness(pbx, auth=auth)
    h.client.start()
    await h.client.wait_ready(5)
    snap = h.state.snapshot()
    assert set(snap["extensions"]) >= set(pbx.office.users)
    assert set(snap["queues"]) == {"sales", "support"}
    assert [type(e) for e in h.events[:1]] == [ev.PbxConnected]
    assert len(h.of(ev.PbxResynced)) == 1  # FullyBooted at login does not cause a second one
    await h.client.stop()
    assert isinstance(h.events[-1], ev.PbxDisconnected)


async def test_bad_credentials_one_clear_line_per_try_with_backoff(
    pbx: DemoPbx, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(pbx, secret="wrong", reconnect_min=0.05, reconnect_max=0.2)

    def refusals() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "ctibot.ami"]

    with caplog.at_level(logging.WARNING, logger="ctibot.ami"):
        h.client.start()
        # Four tries show the doubling and the cap (0.05, 0.1, 0.2, 0.2): wait for
        # them rather than for a fixed time a loaded machine may not keep.
        await h.until(lambda: len(refusals()) >= 4)
        await h.client.stop()
    lines = refusals()
    assert lines, "a refused login must be logged"
    assert all("login as 'cti' refused (Authentication failed); retrying in" in x for x in lines)
    delays = [float(x.rsplit("retrying in ", 1)[1].split()[0]) for x in lines]
    assert delays[:3] == [0.05, 0.1, 0.2] and max(delays) == 0.2  # doubles, then capped
    assert "wrong" not in caplog.text  # no secret in the logs
    assert not h.client.ready.is_set() and not h.of(ev.PbxConnected)


async def test_pbx_down_then_up(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pbx = DemoPbx(port=port, time_scale=SCALE)
    pbx.port = port
    h = Harness(pbx)
    with caplog.at_level(logging.WARNING, logger="ctibot.ami"):
        h.client.start()
        await h.until(lambda: "cannot reach the PBX" in caplog.text)
    async with pbx:
        await h.client.wait_ready(5)
        assert h.client.connected
    await h.client.stop()


# -- panoramisk traps -------------------------------------------------------------------


async def test_originate_is_async_and_replies_at_once(ctibot: Harness, pbx: DemoPbx) -> None:
    ring_forever(pbx, "201")  # a sync Originate would block
    reply = await asyncio.wait_for(
        ctibot.client.send(act.originate_call("PJSIP/201", "202", context="from-internal")), 5
    )
    assert reply["Response"] == "Success" and "queued" in reply["Message"]
    await ctibot.until(
        lambda: (
            ringing_at(ctibot.state, "201")
            or any(e.extension == "201" for e in ctibot.of(ev.CallRinging))
        )
    )


async def test_queue_add_resolves_and_a_duplicate_is_a_readable_error(ctibot: Harness) -> None:
    add = act.queue_add(
        "sales",
        "Local/205@from-queue/n",
        state_interface="hint:205@ext-local",
        member_name="Eve Evans",
    )
    reply = await asyncio.wait_for(ctibot.client.send(add), 5)
    assert reply["Message"] == "Added interface to queue"
    with pytest.raises(AmiError, match="Unable to add interface: Already there"):
        await asyncio.wait_for(ctibot.client.send(add), 5)
    await ctibot.until(lambda: "205" in ctibot.state.snapshot()["queues"]["sales"]["members"])


async def test_a_missing_astdb_key_is_an_error_not_a_hang(ctibot: Harness) -> None:
    with pytest.raises(AmiError, match="Database entry not found"):
        await asyncio.wait_for(ctibot.client.send(act.db_get("CF", "208")), 5)
    await ctibot.client.send(act.db_put("CF", "208", "0612345678"))
    items = await ctibot.client.send(act.db_get("CF", "208"))
    assert items[0]["Val"] == "0612345678"


async def test_a_raising_event_handler_does_not_drop_the_connection(
    ctibot: Harness, pbx: DemoPbx
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("plugin bug")

    ctibot.bus.subscribe(broken)
    pbx.call("203", "204")
    await ctibot.until(lambda: ctibot.of(ev.CallAnswered))
    assert ctibot.client.connected and ctibot.client.resyncs == 1


# -- faults, each with a call in progress ------------------------------------------------


async def test_connection_dropped_mid_call(ctibot: Harness, pbx: DemoPbx) -> None:
    # Both keep ringing until hung up: 204 must still ring after ctibot's reconnect
    # and resync, however long a loaded machine takes for them.
    ring_forever(pbx, "202", "204")
    pbx.call("201", "202")
    await ctibot.until(lambda: ringing_at(ctibot.state, "202"))
    await pbx.drop_connections()
    # While ctibot is away: the ringing call ends and another one starts.
    pbx.hangup("201")
    pbx.call("203", "204")
    await ctibot.until(lambda: ctibot.client.resyncs == 2)
    await ctibot.until(lambda: ringing_at(ctibot.state, "204"))
    assert not ringing_at(ctibot.state, "202")  # no call left ringing for ever
    ended = [e for e in ctibot.of(ev.CallEnded) if e.record.to == "202"]
    assert len(ended) == 1 and not ended[0].record.answered
    assert essentials(ctibot.state.snapshot()) == await fresh_view(pbx)


async def test_half_open_connection_is_detected_by_the_watchdog(
    ctibot: Harness, pbx: DemoPbx, caplog: pytest.LogCaptureFixture
) -> None:
    ring_forever(pbx, "202")
    pbx.call("201", "202")
    await ctibot.until(lambda: ringing_at(ctibot.state, "202"))
    with caplog.at_level(logging.WARNING, logger="ctibot.ami"):
        pbx.freeze(True)
        await ctibot.until(lambda: "no answer to Ping" in caplog.text)
        # The session loop marks the link down a loop turn after the watchdog's verdict.
        await ctibot.until(lambda: not ctibot.client.connected)
        pbx.hangup("201")  # the call ends while the link is dead
        pbx.freeze(False)
        await ctibot.until(lambda: ctibot.client.ready.is_set())
    await ctibot.until(lambda: not ringing_at(ctibot.state, "202"))
    assert len([e for e in ctibot.of(ev.CallEnded) if e.record.to == "202"]) == 1
    assert essentials(ctibot.state.snapshot()) == await fresh_view(pbx)


async def test_shutdown_then_fully_booted(
    ctibot: Harness, pbx: DemoPbx, caplog: pytest.LogCaptureFixture
) -> None:
    ring_forever(pbx, "202")
    pbx.call("201", "202")
    pbx.call("203", "204")
    await ctibot.until(lambda: ringing_at(ctibot.state, "202") and ctibot.of(ev.CallAnswered))
    with caplog.at_level(logging.WARNING, logger="ctibot.ami"):
        restart = asyncio.create_task(pbx.restart(down_for=4))
        await ctibot.until(lambda: not ctibot.client.connected)
        pbx.hangup("201")
        await restart
    assert "Asterisk is shutting down" in caplog.text
    await ctibot.until(lambda: ctibot.client.resyncs == 2)
    assert not ringing_at(ctibot.state, "202")
    assert len([e for e in ctibot.of(ev.CallEnded) if e.record.to == "202"]) == 1
    assert essentials(ctibot.state.snapshot()) == await fresh_view(pbx)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01garbage\xff\xfe\r\n\r\n",
        b"Event: Newchannel\r\nChannel: PJSIP/2",  # truncated: the next message completes it
        b"Event: Hangup\r\n" + b"A" * (1 << 20),  # 1 MB without an end
        b"Event: Newchannel\r\nCallerIDName: Jos\xe9 \x80\x81\r\nChannel: X\r\n\r\n",
    ],
    ids=["garbage", "truncated", "huge", "non-utf8"],
)
async def test_bad_bytes_from_the_pbx_are_skipped(
    ctibot: Harness, pbx: DemoPbx, raw: bytes
) -> None:
    ring_forever(pbx, "202")
    pbx.call("201", "202")
    await ctibot.until(lambda: ringing_at(ctibot.state, "202"))
    await pbx.inject(raw)
    await pbx.inject(b"\r\n\r\n")
    pbx.hangup("201")
    await ctibot.until(lambda: not ringing_at(ctibot.state, "202"))
    assert ctibot.client.connected and ctibot.client.resyncs == 1  # the connection survived
    assert essentials(ctibot.state.snapshot()) == await fresh_view(pbx)


# -- AstDB -------------------------------------------------------------------------------


async def test_astdb_changes_made_behind_ctibots_back_are_picked_up(pbx: DemoPbx) -> None:
    h = Harness(pbx, astdb_poll=0.1)
    h.client.start()
    await h.client.wait_ready(5)
    pbx.set_forward("205", "CF", "vmu205")  # like *72 on the phone: AstDB only, no event
    await h.until(lambda: h.of(ev.ForwardChanged))
    change = h.of(ev.ForwardChanged)[0]
    assert (change.extension, change.kind, change.destination) == ("205", "unconditional", "vmu205")
    assert h.state.snapshot()["extensions"]["205"]["forward"]["unconditional"] == "vmu205"
    await h.client.stop()


async def test_a_database_put_with_no_event_shows_within_ten_seconds_by_default(
    pbx: DemoPbx,
) -> None:
    # `asterisk -rx "database put DND 206 YES"` or the FreePBX GUI: AstDB only, no AMI event.
    h = Harness(pbx, astdb_poll=PbxConfig().astdb_poll)
    h.client.start()
    await h.client.wait_ready(5)
    try:
        pbx.office.astdb.put("DND", "206", "YES")
        pbx.office.astdb.put("CFU", "206", "0612345678")
        await h.until(lambda: h.state.extensions["206"].dnd, timeout=10.5)
        await h.until(lambda: h.state.extensions["206"].forward["noanswer"] == "0612345678", 1)
    finally:
        await h.client.stop()


async def test_a_dnd_light_change_rereads_that_extensions_keys_at_once(pbx: DemoPbx) -> None:
    h = Harness(pbx, astdb_poll=3600)  # no poll in sight
    h.client.start()
    await h.client.wait_ready(5)
    try:
        # A phone's *76 / another CTI: forwards and DND in AstDB, then the BLF light.
        pbx.office.astdb.put("DND", "203", "YES")
        pbx.office.astdb.put("CF", "203", "0699887766")
        pbx.office.astdb.put("CFB", "203", "204")
        pbx.engine.set_device_state("Custom:DND203", "BUSY")
        ext = h.state.extensions["203"]
        await h.until(lambda: ext.forward["unconditional"] == "0699887766", timeout=3)
        await h.until(lambda: ext.forward["busy"] == "204" and ext.dnd, timeout=1)
        # Cleared the same way: the light goes off, the keys are read again.
        pbx.office.astdb.delete("DND", "203")
        pbx.office.astdb.delete("CF", "203")
        pbx.engine.set_device_state("Custom:DND203", "NOT_INUSE")
        await h.until(lambda: ext.forward["unconditional"] is None and not ext.dnd, timeout=3)
        assert ext.forward["busy"] == "204"  # still set in AstDB
    finally:
        await h.client.stop()


async def test_actions_fail_fast_when_not_connected(pbx: DemoPbx) -> None:
    h = Harness(pbx)
    with pytest.raises(AmiUnavailable):
        await h.client.send(act.ping())


def test_config_is_immutable_and_repr_hides_the_secret() -> None:
    config = PbxConfig(secret="top-secret")
    assert "top-secret" not in repr(replace(config, port=1))


async def test_fully_booted_without_a_reconnect_resyncs(ctibot: Harness, pbx: DemoPbx) -> None:
    # Asterisk sends FullyBooted again when it finishes booting (e.g. after a reload
    # while ctibot stayed connected): the state is read again from scratch.
    await pbx.inject(
        b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 4\r\n"
        b"LastReload: 0\r\nStatus: Fully Booted\r\n\r\n"
    )
    await ctibot.until(lambda: ctibot.client.resyncs == 2)
    assert ctibot.client.connected and len(ctibot.of(ev.PbxResynced)) == 2
