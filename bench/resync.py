"""Resync benchmark: a big office (1,000 extensions, 200 active calls, 20 queues) on the demo PBX.

Measures the time from TCP connect to a complete, correct PbxState (login, the
resync actions, their replies parsed and applied). Goal (issue 2): <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ctibot.bus import EventBus
from ctibot.demo.config import office_pbx
from ctibot.demo.office import Office
from ctibot.demo.server import DemoPbx
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState


async def one_round(pbx: DemoPbx, calls: int, queues: int) -> tuple[float, int]:
    layout = pbx.office.layout()
    config = office_pbx(pbx.office, port=pbx.port, astdb_poll=3600, ping_interval=3600)
    bus = EventBus()
    published = [0]
    bus.subscribe(lambda e: published.__setitem__(0, published[0] + 1))
    state = PbxState(layout)
    client = AmiClient(config, state, bus)
    start = time.perf_counter()
    client.start()
    await client.wait_ready(30)
    elapsed = time.perf_counter() - start
    snapshot = state.snapshot()
    await client.stop()
    # Correct, not only fast: everything the PBX has is in the state.
    assert len(snapshot["extensions"]) >= len(pbx.office.users), len(snapshot["extensions"])
    up = [c for c in snapshot["calls"] if c["state"] == "up"]
    assert len(up) == calls, (len(up), calls)
    assert len(snapshot["queues"]) == queues, len(snapshot["queues"])
    dnd = [e for e, v in snapshot["extensions"].items() if v["dnd"]]
    assert sorted(dnd) == sorted(pbx.expected_dnd), dnd  # type: ignore[attr-defined]
    return elapsed, published[0]


async def main_async(args: argparse.Namespace) -> None:
    office = Office.generate(extensions=args.extensions, queues=args.queues)
    async with DemoPbx(office, time_scale=1.0) as pbx:
        seeded = await pbx.seed_calls(args.calls)
        assert seeded == args.calls, seeded
        # Some AstDB state too, so that the DND/CF part of the resync has work to do.
        exts = list(office.users)
        pbx.expected_dnd = exts[1::50]  # type: ignore[attr-defined]
        for ext in pbx.expected_dnd:  # type: ignore[attr-defined]
            pbx.set_dnd(ext, True)
        for ext in exts[2::40]:
            pbx.set_forward(ext, "CF", "0612345678")
        print(
            f"demo PBX: {len(office.users):,} extensions, {seeded} calls up, "
            f"{len(office.queues)} queues, {len(pbx.expected_dnd)} DND"
        )  # type: ignore[attr-defined]
        times = []
        for _ in range(args.rounds):
            elapsed, events = await one_round(pbx, args.calls, args.queues)
            times.append(elapsed)
        best, median = min(times), statistics.median(times)
        print(
            f"connect -> complete state: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms "
            f"over {args.rounds} rounds ({events:,} domain events per resync)"
        )
        print(
            f"goal <= 2000 ms: {'OK' if median <= 2.0 else 'MISSED'} "
            f"(median is {median / 2.0:.2f} of the budget)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extensions", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
