"""The queues page's service side (F33): my queues' agents, waiting callers, counts; live."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ctibot.plugin import PermissionDenied
from ctibot.plugins.queues.http import QueuesLive

from harness import ring_forever
from services_fixtures import Office


@dataclass
class Live:
    """The WebApi's publish as a recorder (what each user's browser would receive)."""

    published: list[tuple[str, Any, list[str] | None]] = field(default_factory=list)

    def publish(self, topic: str, data: Any, users: Any = None, *, key: Any = None) -> int:
        self.published.append((topic, data, None if users is None else [u.name for u in users]))
        return 1

    def watching(self, topic: str) -> set[str] | None:
        return None  # a recorder: every user counts as watching

    def last(self, user: str) -> dict[str, Any] | None:
        found = [d for t, d, u in self.published if t == "queues" and u == [user]]
        return found[-1] if found else None


def queue(view: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(q for q in view if q["name"] == name)


async def test_my_queues_with_agents_and_counts(office: Office) -> None:
    alice = office.users["alice"]
    await office.until(lambda: "sales" in office.harness.state.queues)
    view = await office.services.queues.overview(alice)
    assert [q["name"] for q in view] == ["sales"]  # support is not hers
    sales = view[0]
    assert [a["extension"] for a in sales["agents"]] == ["201", "202"]
    assert [a["name"] for a in sales["agents"]] == ["Alice Anders", "Bob Brown"]
    assert sales["logged_in"] and sales["static"] and not sales["paused"]
    assert (sales["waiting"], sales["callers"]) == (0, [])
    assert isinstance(sales["answered"], int) and isinstance(sales["abandoned"], int)
    with pytest.raises(PermissionDenied):
        await office.services.queues.overview(office.users["dave"])  # the guest profile


async def test_a_waiting_caller_shows_with_a_growing_wait(office: Office) -> None:
    alice = office.users["alice"]
    service = office.services.queues
    ring_forever(office.pbx, "201", "202")
    office.pbx.inbound_call("0699887766", "<b>Customer</b>", "5550100")
    state = office.harness.state
    await office.until(lambda: state.queues["sales"].callers)
    first = queue(await service.overview(alice), "sales")
    assert first["waiting"] == 1
    [caller] = first["callers"]
    assert caller["caller"] == "<b>Customer</b> (0699887766)"
    await office.until(
        lambda: (
            queue(service.known_overview(alice), "sales")["callers"][0]["wait"]
            >= caller["wait"] + 2
        )
    )


async def test_dynamic_queues_login_pause_with_reason_resume(office: Office) -> None:
    office.pbx.office.astdb.put("QPENALTY/support/agents", "205", "2")
    eve = office.users["eve"]
    service = office.services.queues
    state = office.harness.state
    await office.until(lambda: "support" in state.queues)
    support = queue(await service.overview(eve), "support")
    assert not support["logged_in"]  # offered: she may log in
    await service.queue_login(eve, "support")
    await office.until(lambda: "205" in state.queues["support"].members)
    assert queue(service.known_overview(eve), "support")["logged_in"]
    await service.queue_pause(eve, "lunch", "support")
    await office.until(lambda: state.queues["support"].members["205"].paused)
    support = queue(service.known_overview(eve), "support")
    assert (support["paused"], support["reason"]) == (True, "lunch")
    me = next(a for a in support["agents"] if a["me"])
    assert me["paused"] and me["reason"] == "lunch" and me["dynamic"]
    await service.queue_resume(eve, "support")
    await office.until(lambda: not state.queues["support"].members["205"].paused)


async def test_queue_changes_reach_each_users_topic(office: Office) -> None:
    service = office.services.queues
    live = Live()
    watcher = QueuesLive(live, service)
    office.harness.bus.subscribe(watcher.changed)
    ring_forever(office.pbx, "201", "202")
    office.pbx.inbound_call("0611111111", "Waiting", "5550100")
    await office.until(
        lambda: (
            (live.last("alice") or {}).get("queues")
            and queue(live.last("alice")["queues"], "sales")["waiting"] == 1
        )
    )
    bob = live.last("bob")
    assert bob is not None and queue(bob["queues"], "sales")["waiting"] == 1
    carol = live.last("carol")
    assert carol is not None and [q["name"] for q in carol["queues"]] == ["support"]
    assert live.last("dave") is None  # no queue_agent permission, nothing sent
    # Alice answers: the caller leaves the queue, answered counts one more — live.
    before = queue(live.last("alice")["queues"], "sales")["answered"]
    office.pbx.answer("201")
    await office.until(
        lambda: queue(live.last("alice")["queues"], "sales")["answered"] == before + 1
        and queue(live.last("alice")["queues"], "sales")["waiting"] == 0
    )
