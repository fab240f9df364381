"""The operator board's service on the demo PBX: the picture, live deltas, actions, refusals."""

from __future__ import annotations

import pytest

from ctibot.services import NotFound, NothingToDo, PermissionDenied

from services_fixtures import Office

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def row(o: Office, number: str) -> dict:
    return o.services.board.extension_rows()[number]


async def talking(o: Office, src: str, dst: str) -> str:
    """``src``'s phone calls ``dst``, which answers; the call's id."""
    o.pbx.call(src, dst)
    await o.until(lambda: any(c["state"] == "up" for c in row(o, src)["calls"]))
    # and bridged: the PBX has joined the two phones (what park and transfer act on)
    await o.until(
        lambda: any(ch.bridge for ch in o.harness.state.channels.values() if ch.extension == src)
    )
    return row(o, src)["calls"][0]["id"]


async def test_the_board_shows_every_extension_with_its_user_and_a_call_as_it_happens(
    board: Office,
) -> None:
    carol = board.users["carol"]
    snap = board.services.board.snapshot(carol)
    numbers = [e["number"] for e in snap["extensions"]]
    assert numbers == sorted(numbers, key=int) and {"201", "202", "203", "207"} <= set(numbers)
    alice = next(e for e in snap["extensions"] if e["number"] == "201")
    assert alice["user"] == "Alice Anders" and alice["jid"] == "alice@example.com"
    assert alice["status"] == "idle" and alice["calls"] == []
    assert [p["slot"] for p in snap["parkings"]][:2] == ["701", "702"]
    assert snap["trunks"] and all(t["max"] > 0 for t in snap["trunks"])
    assert snap["can"]["hangup"] and snap["can"]["spy"] and not snap["can"]["postit"]

    call_id = await talking(board, "201", "202")
    (call,) = row(board, "201")["calls"]
    assert call["party"] == "202" and call["name"] == "Bob Brown" and call["state"] == "up"
    assert row(board, "202")["calls"][0]["name"] == "Alice Anders"
    await board.until(lambda: row(board, "201")["status"] == "busy")
    board.pbx.hangup("201")
    await board.until(lambda: row(board, "201")["calls"] == [])
    assert call_id not in board.harness.state.calls


async def test_deltas_carry_only_the_extensions_that_changed_and_coalesce(board: Office) -> None:
    service = board.services.board
    published: list[dict] = []
    service.publisher = lambda topic, data: published.append(data)
    first = service.delta()
    assert first is not None and len(first["extensions"]) >= 5  # the first one has everything
    assert service.delta() is None  # nothing changed since
    await talking(board, "201", "202")
    await board.until(
        lambda: any(
            c["state"] == "up"
            for d in published
            for c in d.get("extensions", {}).get("201", {}).get("calls", ())
        )
    )
    await board.until(lambda: service._flush is None)
    slim = next(d["extensions"]["201"] for d in published if "201" in d.get("extensions", {}))
    assert "user" not in slim and slim["status"]  # the user's fields went with the first one
    # many PBX events (Newchannel, Newstate, DialBegin, BridgeEnter...) became few updates
    assert len(published) < len(board.harness.events)
    changed = set().union(*(d.get("extensions", {}).keys() for d in published))
    assert changed <= {"201", "202"} and all(d["kind"] == "delta" for d in published)


async def test_a_hostile_caller_name_is_kept_as_text(board: Office) -> None:
    board.pbx.inbound_call("0612345678", HOSTILE, "5550102")
    await board.until(lambda: row(board, "202")["calls"])
    (call,) = row(board, "202")["calls"]
    assert call["party"] == "0612345678" and call["name"] == HOSTILE
    trunk_calls = [c for t in board.services.board.trunk_rows() for c in t["calls"]]
    assert trunk_calls and trunk_calls[0]["from_name"] == HOSTILE


async def test_the_operator_hangs_up_records_and_transfers_other_peoples_calls(
    board: Office,
) -> None:
    carol, service = board.users["carol"], board.services.board
    call_id = await talking(board, "201", "202")
    await service.record(carol, call_id, "201", "start")
    await board.until(lambda: row(board, "201")["calls"][0]["recording"])
    await service.record(carol, call_id, "201", "stop")
    await board.until(lambda: not row(board, "201")["calls"][0]["recording"])
    # alice's caller (202) goes to eve's phone 205, which rings, then answers
    await service.transfer(carol, call_id, "201", "205")
    await board.until(lambda: any(c["party"] == "202" for c in row(board, "205")["calls"]))
    await board.until(lambda: row(board, "201")["calls"] == [])
    (new,) = row(board, "205")["calls"]
    await service.hangup(carol, new["id"], "205")
    await board.until(lambda: row(board, "205")["calls"] == [] and row(board, "202")["calls"] == [])
    with pytest.raises(NotFound):
        await service.hangup(carol, new["id"], "205")


async def test_the_operator_parks_a_call_and_picks_it_up_on_her_phone(board: Office) -> None:
    carol, service = board.users["carol"], board.services.board
    call_id = await talking(board, "201", "202")
    parked = await service.park(carol, call_id, "201")
    slot = parked.destination
    assert slot is not None
    slots = {p["slot"]: p for p in service.parking_rows()}
    assert slots[slot]["from"] == "202" and slots[slot]["from_name"] == "Bob Brown"
    await service.pickup(carol, slot)
    await board.until(lambda: any(c["party"] == "202" for c in row(board, "203")["calls"]))
    await board.until(lambda: {p["slot"]: p for p in service.parking_rows()}[slot]["from"] == "")
    with pytest.raises(NotFound):
        await service.pickup(carol, slot)


async def test_spy_and_call_from_the_board(board: Office) -> None:
    carol, service = board.users["carol"], board.services.board
    with pytest.raises(NothingToDo):
        await service.spy(carol, "201", "listen")
    await talking(board, "201", "202")
    done = await service.spy(carol, "201", "whisper")
    assert done.action == "whisper"
    (spy,) = board.ami.of("Originate")
    assert spy["Channel"] == "PJSIP/203" and spy["Data"].startswith("PJSIP/201-")
    await service.call(carol, "205")
    assert board.ami.of("Originate")[-1]["Exten"] == "205"
    with pytest.raises(NotFound):
        await service.call(carol, "9999")


async def test_users_without_operator_panel_are_refused_everything(board: Office) -> None:
    alice, service = board.users["alice"], board.services.board
    call_id = await talking(board, "202", "205")
    assert board.services.board.operators() == [board.users["carol"]]
    refused = [
        lambda: service.hangup(alice, call_id, "202"),
        lambda: service.transfer(alice, call_id, "202", "201"),
        lambda: service.park(alice, call_id, "202"),
        lambda: service.record(alice, call_id, "202", "start"),
        lambda: service.spy(alice, "202", "listen"),
        lambda: service.pickup(alice, "701"),
        lambda: service.call(alice, "205"),
    ]
    for action in refused:
        with pytest.raises(PermissionDenied):
            await action()
    with pytest.raises(PermissionDenied):
        service.snapshot(alice)
    # the calls service refuses the operator methods on its own too (another page, the API)
    with pytest.raises(PermissionDenied):
        await board.services.calls.hangup_call(alice, call_id, "202")
    assert board.ami.of("Hangup") == [] and board.ami.of("Park") == []
