"""AstDB poll benchmark: what re-reading DND/CF/CFB/CFU costs the PBX with 1,000 extensions.

ctibot re-reads AstDB every ``astdb_poll`` seconds (10 by default), because a
``database put``, the FreePBX GUI and feature codes change it without an AMI
event. Per poll this prints the AMI actions, the bytes each way, the messages
the PBX writes, the wall time, and the CPU time the demo PBX (in a process of
its own) and ctibot spend; then the load at a 10 s interval. Two ways to read:
one DBGetTree per family (Asterisk 20, what ctibot does) and one DBGet per key
(older Asterisk). The demo PBX is Python, not Asterisk: its CPU figures are an
upper bound of the work, not Asterisk's own cost.
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
from ctibot.pbx import sync
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState


def populate(pbx: DemoPbx) -> dict[str, int]:
    """A plausible AstDB: some DND, forwards of each kind, and the families FreePBX keeps."""
    exts = list(pbx.office.users)
    counts = {"DND": 0, "CF": 0, "CFB": 0, "CFU": 0}
    for ext in exts[1::50]:
        pbx.set_dnd(ext, True)
        counts["DND"] += 1
    for kind, step in (("CF", 40), ("CFB", 10), ("CFU", 10)):
        for ext in exts[2::step]:
            pbx.set_forward(ext, kind, "0612345678")
            counts[kind] += 1
    for ext in exts:  # what a FreePBX AstDB also holds, per extension
        for key in ("cidname", "cidnum", "device", "outboundcid", "recording", "voicemail"):
            pbx.office.astdb.put("AMPUSER", f"{ext}/{key}", ext)
        pbx.office.astdb.put("DEVICE", f"{ext}/user", ext)
    return counts


async def pbx_main(extensions: int) -> None:
    """The demo PBX: prints its port, then its CPU time whenever asked."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with DemoPbx(Office.generate(extensions, 20), time_scale=1.0) as pbx:
        counts = populate(pbx)
        keys = len(pbx.office.astdb.tree())
        print(f"ready {pbx.port} {keys} " + " ".join(f"{k}={v}" for k, v in counts.items()))
        sys.stdout.flush()
        while line := await stdin.readline():
            if line.strip() == b"cpu":
                print(f"cpu {time.process_time()!r}", flush=True)
            else:
                break


class Child:
    """The demo PBX's process."""

    def __init__(self, extensions: int) -> None:
        self.extensions = extensions
        self.proc: asyncio.subprocess.Process | None = None
        self.ready: list[str] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--pbx-role",
            "--extensions",
            str(self.extensions),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.ready = (await asyncio.wait_for(self.proc.stdout.readline(), 120)).decode().split()
        if not self.ready or self.ready[0] != "ready":
            raise RuntimeError(f"demo PBX process: {self.ready!r}")

    async def cpu(self) -> float:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(b"cpu\n")
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 30)).decode().split()
        return float(line[1])

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"quit\n")
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()


class Received:
    """Counts what ctibot reads from the AMI socket (the client's ``record`` stream)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.messages = 0
        self._tail = b""

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        joined = self._tail + data
        self.messages += joined.count(b"\r\n\r\n")
        self._tail = joined[-3:]
        return len(data)

    def flush(self) -> None:
        pass


async def measure(
    child: Child, client: AmiClient, received: Received, mode: str, rounds: int
) -> dict[str, float]:
    protocol = client._protocol  # the bench counts the bytes written
    assert protocol is not None and protocol.transport is not None
    transport = protocol.transport
    sent = [0]
    write = transport.write

    def counting_write(data: bytes) -> None:
        sent[0] += len(data)
        write(data)

    transport.write = counting_write  # type: ignore[method-assign]
    actions = [0]

    async def send(action: dict[str, str]) -> object:
        actions[0] += 1
        return await client.send(action, timeout=60)

    tracked = client.state.naming.tracked()
    walls: list[float] = []
    got = 0
    received.bytes = received.messages = 0
    pbx_cpu, own_cpu = await child.cpu(), time.process_time()
    for _ in range(rounds):
        start = time.perf_counter()
        if mode == "tree":
            values = await sync.fetch_astdb(send, tracked)
        else:
            values = await sync._astdb_by_key(send, tracked)  # the fallback
        client.refresh_astdb(values)
        walls.append(time.perf_counter() - start)
        got = len(values)
    own_cpu = time.process_time() - own_cpu
    pbx_cpu = await child.cpu() - pbx_cpu
    transport.write = write  # type: ignore[method-assign]
    return {
        "actions": actions[0] / rounds,
        "out": sent[0] / rounds,
        "in": received.bytes / rounds,
        "messages": received.messages / rounds,
        "wall": statistics.median(walls),
        "pbx_cpu": pbx_cpu / rounds,
        "own_cpu": own_cpu / rounds,
        "keys": got,
    }


async def main_async(args: argparse.Namespace) -> None:
    child = Child(args.extensions)
    await child.start()
    try:
        port, total_keys = int(child.ready[1]), int(child.ready[2])
        office = Office.generate(args.extensions, 20)
        layout = office.layout()
        config = office_pbx(office, port=port, astdb_poll=3600, ping_interval=3600)
        received = Received()
        state = PbxState(layout)
        client = AmiClient(config, state, EventBus(), record=received)  # type: ignore[arg-type]
        client.start()
        await client.wait_ready(60)
        print(
            f"demo PBX (own process): {args.extensions:,} extensions, AstDB {total_keys:,} keys "
            f"({' '.join(child.ready[3:])}, the rest AMPUSER/DEVICE)"
        )
        interval = args.interval
        for mode, title in (
            ("tree", "DBGetTree per family (Asterisk 20)"),
            ("key", "DBGet per key (older Asterisk)"),
        ):
            r = await measure(child, client, received, mode, args.rounds)
            print(f"\n{title}: {r['keys']:.0f} keys set, median of {args.rounds} polls")
            print(
                f"  per poll: {r['actions']:,.0f} AMI actions, {r['out'] / 1024:,.1f} KiB sent, "
                f"{r['in'] / 1024:,.1f} KiB received in {r['messages']:,.0f} messages, "
                f"wall {r['wall'] * 1000:,.1f} ms"
            )
            print(
                f"  CPU per poll: demo PBX {r['pbx_cpu'] * 1000:,.1f} ms, "
                f"ctibot {r['own_cpu'] * 1000:,.1f} ms"
            )
            print(
                f"  at one poll every {interval:g} s: PBX {r['pbx_cpu'] / interval * 100:.3f} % "
                f"of one core, {r['actions'] / interval:,.1f} actions/s, "
                f"{r['messages'] / interval:,.1f} messages/s, "
                f"{(r['in'] + r['out']) / interval / 1024:,.2f} KiB/s; "
                f"ctibot {r['own_cpu'] / interval * 100:.3f} % of one core"
            )
        await client.stop()
    finally:
        await child.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extensions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--interval", type=float, default=10.0, help="astdb_poll, seconds")
    parser.add_argument("--pbx-role", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pbx_role:
        asyncio.run(pbx_main(args.extensions))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
