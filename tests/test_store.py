"""ctibot's SQLite store: migrations, subscriptions that survive a restart, history, settings."""

from __future__ import annotations

from pathlib import Path

from ctibot.pbx.events import CallRecord
from ctibot.store import Store


def record(call_id: str, frm: str, to: str, answered: bool = True) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        from_=frm,
        from_name=None,
        to=to,
        direction="internal",
        answered=answered,
        start=1.0,
        answer=2.0 if answered else None,
        end=5.0,
        duration=3 if answered else 0,
        wait=1,
    )


async def test_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db" / "ctibot.sqlite"
    store = await Store.open(path)
    assert await store.add_subscription("201", "alice@example.test") is True
    assert await store.add_subscription("201", "alice@example.test") is False
    await store.add_subscription("bob", "alice@example.test")
    await store.close()
    store = await Store.open(path)  # migrations run once: reopening keeps the data
    assert await store.subscriptions() == {
        ("201", "alice@example.test"),
        ("bob", "alice@example.test"),
    }
    await store.remove_subscription("201", "alice@example.test")
    assert await store.subscriptions() == {("bob", "alice@example.test")}
    await store.close()


async def test_call_history_per_extension_newest_first(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite")
    for i in range(15):
        await store.add_call(record(f"c{i}", "201", "202"), ["201", "202"])
    await store.add_call(record("other", "203", "204"), ["203", "204"])
    calls = await store.calls_of(["201"], 10)
    assert [c["call_id"] for c in calls] == [f"c{i}" for i in range(14, 4, -1)]
    assert calls[0]["from"] == "201" and calls[0]["duration"] == 3
    assert await store.calls_of(["204", "999"]) == [await store.calls_of(["203"])][0]
    assert await store.calls_of([]) == []
    await store.close()


async def test_settings_and_missed_calls(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite")
    assert await store.get_setting("alice", "auto_queue_login", False) is False
    await store.set_setting("alice", "auto_queue_login", True)
    await store.set_setting("alice", "auto_queue_login", True)
    assert await store.get_setting("alice", "auto_queue_login") is True
    await store.add_missed("alice", record("m1", "0612345678", "201", answered=False))
    await store.add_missed("alice", record("m2", "0699887766", "201", answered=False))
    missed = await store.take_missed("alice")
    assert [m["from"] for m in missed] == ["0612345678", "0699887766"]
    assert await store.take_missed("alice") == []
    await store.close()
