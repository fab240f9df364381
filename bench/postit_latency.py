"""Post-it latency: from Alice's client writing to ``bob@cti…`` to Bob's client receiving it.

A real Prosody (loopback), the demo PBX, ctibot, and alice and bob's chat clients.
For each of N rounds, alice first writes a plain message to bob's own account
(Prosody's own latency: one hop through the server), then a message to bob's
virtual JID: Prosody routes it to ctibot's component, ctibot keeps it as a
post-it (an SQLite INSERT) and writes it to bob as a chat message from
``alice@cti…``, and Prosody routes that to bob's client (two hops and ctibot).
Both chat clients run in a process of their own, as users' computers would:
one clock (``time.perf_counter``) times both paths, and ctibot's work never
delays a client. Goal (issue 7): post-it p99 <= 3 x Prosody's own p99.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from ctibot.demo.server import DemoPbx  # noqa: E402

from office import Office  # noqa: E402
from xmpp_fixtures import (  # noqa: E402
    ACCOUNTS,
    COMPONENT,
    COMPONENT_SECRET,
    DOMAIN,
    ProsodyServer,
    xmpp_client,
    xmpp_disconnect,
)

GOAL = 3.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the chat clients' process ----------------------------------------------------------------


async def rounds(alice, bob, count: int) -> tuple[list[float], list[float]]:
    """``count`` plain messages and ``count`` post-its, alternately, each timed one way."""
    arrived: asyncio.Queue[tuple[str, int, float]] = asyncio.Queue()
    virtual_alice = f"alice@{COMPONENT}"

    def bob_hears(msg: object) -> None:
        now = time.perf_counter()
        body = msg["body"] or ""  # type: ignore[index]
        kind, _, rest = body.partition(" ")
        if kind not in ("direct", "postit"):
            return
        sender = msg["from"].bare  # type: ignore[index]
        if (kind == "postit") != (sender == virtual_alice):
            return
        number, sent = rest.split()
        arrived.put_nowait((kind, int(number), now - float(sent)))

    bob.add_event_handler("message", bob_hears)
    paths = {"direct": bob.boundjid.bare, "postit": f"bob@{COMPONENT}"}
    times: dict[str, list[float]] = {"direct": [], "postit": []}
    for n in range(count):
        for kind, to in paths.items():
            alice.send_message(mto=to, mbody=f"{kind} {n} {time.perf_counter()!r}", mtype="chat")
            while True:
                got_kind, number, elapsed = await asyncio.wait_for(arrived.get(), 10)
                if (got_kind, number) == (kind, n):
                    break
            times[kind].append(elapsed)
    bob.del_event_handler("message", bob_hears)
    return times["direct"], times["postit"]


async def clients_main(port: int) -> None:
    """alice and bob's chat clients: told ``run N``, they answer with both lists of times."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    out = sys.stdout
    server = SimpleNamespace(
        host="127.0.0.1", c2s_port=port, accounts=ACCOUNTS, jid=lambda user: f"{user}@{DOMAIN}"
    )
    alice = await xmpp_client(server, "alice")  # type: ignore[arg-type]
    bob = await xmpp_client(server, "bob")  # type: ignore[arg-type]
    out.write("ready\n")
    out.flush()
    while line := await stdin.readline():
        command, *args = line.decode().split()
        if command == "run":
            direct, postit = await rounds(alice, bob, int(args[0]))
            out.write("direct " + " ".join(repr(t) for t in direct) + "\n")
            out.write("postit " + " ".join(repr(t) for t in postit) + "\n")
            out.flush()
        elif command == "quit":
            break
    await xmpp_disconnect(alice)
    await xmpp_disconnect(bob)


# -- ctibot's process ---------------------------------------------------------------------------


async def run_clients(port: int, count: int) -> tuple[list[float], list[float]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--clients-role",
        str(port),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 60)
        if first.strip() != b"ready":
            raise RuntimeError(f"clients process: {first!r}")
        results: dict[str, list[float]] = {}
        proc.stdin.write(f"run {count}\n".encode())
        while len(results) < 2:
            line = await asyncio.wait_for(proc.stdout.readline(), 30 + count * 0.2)
            if not line:
                raise RuntimeError("clients process ended early")
            kind, *values = line.decode().split()
            results[kind] = [float(v) for v in values]
        proc.stdin.write(b"quit\n")
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
    return results["direct"], results["postit"]


async def main_async(args: argparse.Namespace) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="ctibot-bench-") as tmp:
        async with (
            ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server,
            DemoPbx() as pbx,
        ):
            office = Office(server, pbx, Path(tmp))
            xmpp = office.config.xmpp
            assert xmpp is not None
            # Alice writes a few hundred messages a minute: the chat flood guard is not
            # what is measured.
            # ... nor the post-it limit (30 in 10 minutes by default).
            plugins = office.config.plugins
            tables = {**plugins.settings, "postit": {**plugins.table("postit"), "per_window": 0}}
            office.config = replace(
                office.config,
                xmpp=replace(xmpp, rate_limit=1_000_000),
                plugins=replace(plugins, settings=tables),
            )
            await office.start_ctibot()
            try:
                await run_clients(server.c2s_port, args.warmup)
                return await run_clients(server.c2s_port, args.messages)
            finally:
                await office.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measure")
    args = parser.parse_args()

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<34} n={len(values):>5}  p50 {statistics.median(values) * 1000:7.2f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:7.2f} ms"
        )

    for run in range(1, args.runs + 1):
        direct, postit = asyncio.run(main_async(args))
        ratio = percentile(postit, 0.99) / percentile(direct, 0.99)
        print(f"run {run}")
        print(line("Prosody message (alice -> bob)", direct))
        print(line("post-it (alice -> bob@cti -> bob)", postit))
        verdict = "OK" if ratio <= GOAL else "MISSED"
        print(f"post-it p99 / Prosody p99 = {ratio:.2f}   goal <= {GOAL:g}  {verdict}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--clients-role":
        asyncio.run(clients_main(int(sys.argv[2])))
    else:
        main()
