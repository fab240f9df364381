"""Ingest benchmark: panoramisk's bare parsing vs ctibot's whole ingest (parse + state + bus).

Replays the loadtest_50_calls capture (50 concurrent calls from a real Asterisk 20),
repeated to at least 200,000 events, in 4 KiB reads as a socket would deliver them.
Goals (issue 2): whole ingest >= 30,000 events/s and >= 0.5x panoramisk's parsing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panoramisk.message import Message  # noqa: E402

from ctibot.bus import EventBus  # noqa: E402
from ctibot.config import PbxConfig  # noqa: E402
from ctibot.pbx.ami import AmiClient, _AmiProtocol  # noqa: E402
from ctibot.pbx.layout import LAB_LAYOUT  # noqa: E402
from ctibot.pbx.state import PbxState  # noqa: E402

CAPTURE = ROOT / "tests" / "fixtures" / "ami" / "loadtest_50_calls.txt"
CHUNK = 4096
EOL = "\r\n"


def load(min_events: int, mixed: bool = False) -> tuple[bytes, int]:
    data = CAPTURE.read_bytes()
    banner_end = data.index(b"\r\n") + 2
    body = data[banner_end:]
    if mixed:
        # Every call scenario of the captures (queues, parking, transfers, recording,
        # DND...): events that touch extensions and make the state work harder.
        body = b"".join(
            p.read_bytes().split(b"\r\n", 1)[1]
            for p in sorted(CAPTURE.parent.glob("*.txt"))
            if not p.name.endswith(".sent.txt") and p != CAPTURE
        )
    per_copy = body.count(b"\r\nEvent: ") + body.startswith(b"Event: ")
    copies = -(-min_events // per_copy)
    return data[:banner_end] + body * copies, per_copy * copies


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def bench_panoramisk(pieces: list[bytes]) -> tuple[float, int]:
    """panoramisk 1.4's own parsing: its per-read decode, split and Message.from_line."""
    start = time.perf_counter()
    pending = ""
    count = 0
    for piece in pieces:
        text = pending + piece.decode("utf-8", "ignore")
        blocks = text.split(EOL + EOL)
        pending = blocks.pop()
        for block in blocks:
            message = Message.from_line(block.strip())
            if message is not None and "Event" in message:
                count += 1
    return time.perf_counter() - start, count


class _Transport:
    def write(self, data: bytes) -> None:  # the benchmark sends nothing
        pass

    def close(self) -> None:
        pass


async def bench_ctibot(pieces: list[bytes]) -> tuple[float, int, int]:
    """ctibot's real ingest path: protocol -> framer -> PbxState.apply -> EventBus."""
    bus = EventBus()
    published = [0]

    def count(event: object) -> None:
        published[0] += 1

    bus.subscribe(count)
    state = PbxState(LAB_LAYOUT)
    applied = [0]
    client = AmiClient(PbxConfig(secret="x"), state, bus)
    original = client.on_event

    def on_event(message: dict) -> None:
        applied[0] += 1
        original(message)

    client.on_event = on_event  # type: ignore[method-assign]
    client._buffer = None
    protocol = _AmiProtocol(client)
    protocol.connection_made(_Transport())  # type: ignore[arg-type]
    start = time.perf_counter()
    for piece in pieces:
        protocol.data_received(piece)
    return time.perf_counter() - start, applied[0], published[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3, help="best of N")
    parser.add_argument(
        "--mixed", action="store_true", help="replay every other call capture, not the load test"
    )
    args = parser.parse_args()
    stream, expected = load(args.events, args.mixed)
    pieces = chunks(stream)
    name = "every other call capture" if args.mixed else CAPTURE.name
    print(
        f"corpus: {name}, repeated: {expected:,} events, "
        f"{len(stream) / 1e6:.1f} MB in {len(pieces):,} reads of {CHUNK} B"
    )
    gc.collect()
    best_a = min(bench_panoramisk(pieces)[0] for _ in range(args.rounds))
    _, count_a = bench_panoramisk(pieces)
    results = [asyncio.run(bench_ctibot(pieces)) for _ in range(args.rounds)]
    best_b = min(r[0] for r in results)
    _, count_b, domain = results[0]
    assert count_a == expected == count_b, (count_a, count_b, expected)
    rate_a, rate_b = count_a / best_a, count_b / best_b
    print(f"(a) panoramisk parsing alone:          {rate_a:>10,.0f} events/s")
    print(
        f"(b) ctibot ingest (parse+state+bus):   {rate_b:>10,.0f} events/s "
        f"({domain:,} domain events published)"
    )
    ratio = rate_b / rate_a
    print(f"ratio (b)/(a): {ratio:.2f}   goal >= 0.50  {'OK' if ratio >= 0.5 else 'MISSED'}")
    print(
        f"ingest rate:   {rate_b:,.0f}/s goal >= 30,000/s  {'OK' if rate_b >= 30000 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
