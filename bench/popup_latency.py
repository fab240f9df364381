"""Popup latency: from the demo PBX writing a phone's ringing event to the popup at the client.

A real Prosody (loopback), the demo PBX with background traffic, ctibot, and bob's
chat client. For each of N inbound calls to bob's phone (1001), the time from the
moment the demo PBX writes the ``Newstate … Ringing`` event of his channel on
the AMI socket to the moment bob's client receives the popup through Prosody.
In the same run, the round trip of a plain message between two clients through
the same Prosody (alice -> bob -> alice, halved) is Prosody's own latency.
Goal (issue 3): popup p99 <= 5 x Prosody's own p99.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dataclasses import replace  # noqa: E402

from ctibot.demo.office import Office as PbxOffice  # noqa: E402
from ctibot.demo.server import DemoPbx  # noqa: E402
from ctibot.xmpp.servers import ProsodyServer  # noqa: E402

from office import Office  # noqa: E402
from xmpp_fixtures import ACCOUNTS, COMPONENT, COMPONENT_SECRET, DOMAIN  # noqa: E402

NUMBER = re.compile(r"<(09\d{8})>")
ALICE, BOB = "1000", "1001"  # alice and bob's phones in a 200-extension office


async def background(pbx: DemoPbx, rate: float) -> None:
    """Short internal calls between the other extensions, about ``rate`` new calls a second."""
    import random

    rng = random.Random(3)
    others = [e for e in pbx.office.users if e not in (ALICE, BOB)]
    for ext in others:
        phone = pbx.phone(ext)
        phone.answer_after, phone.talk_time = 0.3, 2.0
    while True:
        await asyncio.sleep(rng.expovariate(rate))
        busy = {c.extension for c in pbx.engine.channels.values()}
        idle = [e for e in others if e not in busy]
        if len(idle) >= 2:
            src, dst = rng.sample(idle, 2)
            pbx.call(src, dst)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def prosody_round_trips(office: Office, count: int) -> list[float]:
    alice, bob = office.people["alice"], office.people["bob"]
    echo: asyncio.Queue[float] = asyncio.Queue()

    def bob_echoes(msg: object) -> None:
        body = msg["body"] or ""  # type: ignore[index]
        if body.startswith("ping "):
            bob.client.send_message(
                mto=alice.client.boundjid.bare, mbody="pong " + body[5:], mtype="chat"
            )

    def alice_hears(msg: object) -> None:
        body = msg["body"] or ""  # type: ignore[index]
        if body.startswith("pong "):
            echo.put_nowait(time.perf_counter() - float(body[5:]))

    bob.client.add_event_handler("message", bob_echoes)
    alice.client.add_event_handler("message", alice_hears)
    times = []
    for _ in range(count):
        alice.client.send_message(
            mto=bob.client.boundjid.bare, mbody=f"ping {time.perf_counter()!r}", mtype="chat"
        )
        times.append(await asyncio.wait_for(echo.get(), 5) / 2)
    return times


async def popup_latencies(office: Office, count: int) -> list[float]:
    pbx = office.pbx
    bob = office.people["bob"]
    written: dict[str, float] = {}
    arrived: dict[str, float] = {}
    emit = pbx.engine.emit

    def timed_emit(data: bytes) -> None:
        if b"Event: Newstate" in data and b"Ringing" in data and b"PJSIP/1001-" in data:
            match = re.search(rb"ConnectedLineNum: (09\d{8})", data)
            if match:
                emit(data)  # the write itself is part of the path we measure
                written.setdefault(match.group(1).decode(), time.perf_counter())
                return
        emit(data)

    pbx.engine.emit = timed_emit  # type: ignore[method-assign]

    def on_message(msg: object) -> None:
        match = NUMBER.search(msg["body"] or "")  # type: ignore[index]
        if match and "ti sta chiamando" in msg["body"]:  # type: ignore[index]
            arrived.setdefault(match.group(1), time.perf_counter())

    bob.client.add_event_handler("message", on_message)
    pbx.phone(BOB).answer_after = None
    for i in range(count):
        number = f"09{i:08d}"
        task = pbx.inbound_call(number, f"Caller {i}", BOB)
        async with asyncio.timeout(10):
            while number not in arrived:
                await asyncio.sleep(0.001)
        for channel in [
            c for c in pbx.engine.channels.values() if c.trunk is not None and c.cid_num == number
        ]:
            pbx.hangup(channel.name)
        await task
        async with asyncio.timeout(10):
            while pbx.channels_of(BOB):
                await asyncio.sleep(0.001)
    return [arrived[n] - written[n] for n in arrived if n in written]


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ctibot-bench-") as tmp:
        async with (
            ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server,
            DemoPbx(PbxOffice.generate(200, 2), time_scale=1.0) as pbx,
        ):
            office = Office(server, pbx, Path(tmp))
            alice, bob, _ = office.config.users
            office.config = replace(
                office.config,
                users=(replace(alice, extensions=(ALICE,)), replace(bob, extensions=(BOB,))),
            )
            await office.start_ctibot()
            await office.login("alice")
            await office.login("bob")
            events = [0]
            emit = pbx.engine.emit

            def count(data: bytes) -> None:
                events[0] += 1
                emit(data)

            pbx.engine.emit = count  # type: ignore[method-assign]
            traffic = asyncio.create_task(background(pbx, args.traffic))
            await asyncio.sleep(3)
            start, n0 = time.perf_counter(), events[0]
            await asyncio.sleep(2)
            rate = (events[0] - n0) / (time.perf_counter() - start)
            prosody = await prosody_round_trips(office, args.calls)
            popups = await popup_latencies(office, args.calls)
            rate_after = (events[0] - n0) / (time.perf_counter() - start)
            traffic.cancel()
            await office.close()

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<30} n={len(values):>5}  p50 {statistics.median(values) * 1000:7.2f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:7.2f} ms"
        )

    print(f"background traffic: {rate:,.0f} AMI events/s before, {rate_after:,.0f} on average")
    print(line("Prosody message (one way)", prosody))
    print(line("popup (PBX write -> client)", popups))
    ratio = percentile(popups, 0.99) / percentile(prosody, 0.99)
    print(f"popup p99 / Prosody p99 = {ratio:.2f}   goal <= 5  {'OK' if ratio <= 5 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--traffic",
        type=float,
        default=12.5,
        help="background calls per second (about 25 AMI events each)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
