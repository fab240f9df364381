"""Popup latency: from the demo PBX writing a phone's ringing event to the popup at the client.

A real Prosody (loopback), the demo PBX with background traffic, ctibot, and bob's
chat client. For each of N inbound calls to bob's phone (1001), the time from the
moment the demo PBX writes the ``Newstate … Ringing`` event of his channel on
the AMI socket to the moment bob's client receives the popup through Prosody.
In the same run, the round trip of a plain message between two clients through
the same Prosody (alice -> bob -> alice, halved) is Prosody's own latency.
The demo PBX and the two chat clients each run in a process of their own, as
Asterisk and the users' computers would: ctibot's work never delays a client's
clock reading. ``time.perf_counter`` is the system's monotonic clock, the same
in every process.
Goal (issue 7): popup p99 <= 3 x Prosody's own p99, on every run.
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
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dataclasses import replace  # noqa: E402

from ctibot.demo.office import Office as PbxOffice  # noqa: E402
from ctibot.demo.server import DemoPbx  # noqa: E402
from ctibot.plugins.presence.groups import groups_text, roster_groups  # noqa: E402
from ctibot.sandbox.xmpp_servers import ProsodyServer  # noqa: E402

from office import Office  # noqa: E402
from xmpp_fixtures import (  # noqa: E402
    ACCOUNTS,
    COMPONENT,
    COMPONENT_SECRET,
    DOMAIN,
    xmpp_client,
    xmpp_disconnect,
)

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


async def prosody_round_trips(alice, bob, count: int) -> list[float]:
    """alice -> bob -> alice through Prosody, halved: Prosody's own one-way latency."""
    echo: asyncio.Queue[float] = asyncio.Queue()

    def bob_echoes(msg: object) -> None:
        body = msg["body"] or ""  # type: ignore[index]
        if body.startswith("ping "):
            bob.send_message(mto=alice.boundjid.bare, mbody="pong " + body[5:], mtype="chat")

    def alice_hears(msg: object) -> None:
        body = msg["body"] or ""  # type: ignore[index]
        if body.startswith("pong "):
            echo.put_nowait(time.perf_counter() - float(body[5:]))

    bob.add_event_handler("message", bob_echoes)
    alice.add_event_handler("message", alice_hears)
    times = []
    for _ in range(count):
        alice.send_message(
            mto=bob.boundjid.bare, mbody=f"ping {time.perf_counter()!r}", mtype="chat"
        )
        times.append(await asyncio.wait_for(echo.get(), 5) / 2)
    return times


class Child:
    """A helper process (the demo PBX, the chat clients) driven over stdin / stdout,
    one line per command or report."""

    def __init__(self, role: str, *args: str) -> None:
        self.role, self.args = role, args
        self.proc: asyncio.subprocess.Process | None = None
        self.written: dict[str, float] = {}  # PBX: caller number -> bob's ringing written
        self.idle: dict[str, asyncio.Event] = {}  # PBX: bob's phone is free again
        self.events: asyncio.Queue[tuple[int, float]] = asyncio.Queue()  # PBX: event counts
        self.popups: dict[str, float] = {}  # clients: caller number -> popup received
        self.popped = asyncio.Event()
        self.round_trips: asyncio.Queue[list[float]] = asyncio.Queue()  # clients
        self.first: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            f"--{self.role}-role",
            *self.args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.first = (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode().split()
        if not self.first or self.first[0] != "ready":
            raise RuntimeError(f"{self.role} process: {self.first!r}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            kind, *rest = line.decode().split()
            if kind == "rang":
                self.written.setdefault(rest[0], float(rest[1]))
            elif kind == "idle":
                self.idle.setdefault(rest[0], asyncio.Event()).set()
            elif kind == "events":
                self.events.put_nowait((int(rest[0]), float(rest[1])))
            elif kind == "popup":
                self.popups.setdefault(rest[0], float(rest[1]))
                self.popped.set()
            elif kind == "round_trips":
                self.round_trips.put_nowait([float(x) for x in rest])

    def tell(self, *words: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((" ".join(words) + "\n").encode())

    async def event_count(self) -> tuple[int, float]:
        self.tell("events")
        return await asyncio.wait_for(self.events.get(), 10)

    async def close(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.tell("quit")
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
        if self._reader is not None:
            self._reader.cancel()


async def popup_latencies(pbx: Child, clients: Child, count: int) -> list[float]:
    for i in range(count):
        number = f"09{i:08d}"
        idle = pbx.idle.setdefault(number, asyncio.Event())
        pbx.tell("call", number)
        async with asyncio.timeout(10):
            while number not in clients.popups:
                clients.popped.clear()
                await clients.popped.wait()
        pbx.tell("hangup", number)
        await asyncio.wait_for(idle.wait(), 10)
    return [clients.popups[n] - pbx.written[n] for n in clients.popups if n in pbx.written]


# -- the demo PBX's process -----------------------------------------------------------------------


async def pbx_main(rate: float) -> None:
    """The demo PBX with background traffic; calls bob when told, reports when he rings."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    out = sys.stdout
    async with DemoPbx(PbxOffice.generate(200, 2), time_scale=1.0) as pbx:
        pbx.phone(BOB).answer_after = None
        events = [0]
        emit = pbx.engine.emit

        def timed_emit(data: bytes) -> None:
            events[0] += 1
            if b"Event: Newstate" in data and b"Ringing" in data and b"PJSIP/1001-" in data:
                match = re.search(rb"ConnectedLineNum: (09\d{8})", data)
                if match:
                    emit(data)  # the write itself is part of the path measured
                    out.write(f"rang {match.group(1).decode()} {time.perf_counter()!r}\n")
                    out.flush()
                    return
            emit(data)

        pbx.engine.emit = timed_emit  # type: ignore[method-assign]
        traffic = asyncio.create_task(background(pbx, rate))
        calls: dict[str, asyncio.Task[str]] = {}
        pending: set[asyncio.Task[None]] = set()

        async def hang_up(number: str) -> None:
            for channel in [
                c
                for c in pbx.engine.channels.values()
                if c.trunk is not None and c.cid_num == number
            ]:
                pbx.hangup(channel.name)
            await calls.pop(number)
            while pbx.channels_of(BOB):
                await asyncio.sleep(0.001)
            out.write(f"idle {number}\n")
            out.flush()

        out.write(f"ready {pbx.port}\n")
        out.flush()
        while line := await stdin.readline():
            command, *args = line.decode().split()
            if command == "call":
                calls[args[0]] = pbx.inbound_call(args[0], f"Caller {args[0][-4:]}", BOB)
            elif command == "hangup":
                task = loop.create_task(hang_up(args[0]))
                pending.add(task)
                task.add_done_callback(pending.discard)
            elif command == "events":
                out.write(f"events {events[0]} {time.perf_counter()!r}\n")
                out.flush()
            elif command == "quit":
                break
        traffic.cancel()


# -- the chat clients' process ----------------------------------------------------------------


async def clients_main(port: int) -> None:
    """alice and bob's chat clients: round trips when told, popups as they come."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    out = sys.stdout
    server = SimpleNamespace(
        host="127.0.0.1", c2s_port=port, accounts=ACCOUNTS, jid=lambda user: f"{user}@{DOMAIN}"
    )
    alice = await xmpp_client(server, "alice")  # type: ignore[arg-type]
    bob = await xmpp_client(server, "bob")  # type: ignore[arg-type]

    def on_message(msg: object) -> None:
        body = msg["body"] or ""  # type: ignore[index]
        match = NUMBER.search(body)
        if match and "ti sta chiamando" in body:
            out.write(f"popup {match.group(1)} {time.perf_counter()!r}\n")
            out.flush()

    bob.add_event_handler("message", on_message)
    out.write("ready\n")
    out.flush()
    while line := await stdin.readline():
        command, *args = line.decode().split()
        if command == "round_trips":
            times = await prosody_round_trips(alice, bob, int(args[0]))
            out.write("round_trips " + " ".join(repr(t) for t in times) + "\n")
            out.flush()
        elif command == "quit":
            break
    await xmpp_disconnect(alice)
    await xmpp_disconnect(bob)


async def main_async(args: argparse.Namespace) -> None:
    pbx = Child("pbx", str(args.traffic))
    clients: Child | None = None
    try:
        await pbx.start()
        with tempfile.TemporaryDirectory(prefix="ctibot-bench-") as tmp:
            async with ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server:
                # The office as ctibot's configuration describes it; the PBX is elsewhere.
                remote = SimpleNamespace(office=PbxOffice.generate(200, 2), port=int(pbx.first[1]))
                office = Office(server, remote, Path(tmp))  # type: ignore[arg-type]
                alice, bob, _ = office.config.users
                office.config = replace(
                    office.config,
                    users=(replace(alice, extensions=(ALICE,)), replace(bob, extensions=(BOB,))),
                )
                # As in the demo, mod_groups shares each user's presence with ctibot: popups
                # go to the resources ctibot has seen online (the real path), not as a
                # headline to a user whose presence is unknown.
                server.write_groups(groups_text(roster_groups(office.config.users, COMPONENT)))
                await server.reload_groups()
                await office.start_ctibot()
                clients = Child("clients", str(server.c2s_port))
                await clients.start()
                gateway = office.app.xmpp
                bob_user = office.config.users[1]
                async with asyncio.timeout(10):
                    while gateway.users.online_jids(bob_user) != [f"{bob_user.jid}/test"]:
                        await asyncio.sleep(0.05)
                await asyncio.sleep(3)
                n0, start = await pbx.event_count()
                await asyncio.sleep(5)
                n1, now = await pbx.event_count()
                rate = (n1 - n0) / (now - start)
                clients.tell("round_trips", str(args.calls))
                prosody = await asyncio.wait_for(clients.round_trips.get(), 120)
                popups = await popup_latencies(pbx, clients, args.calls)
                n2, now = await pbx.event_count()
                rate_after = (n2 - n0) / (now - start)
                await clients.close()
                await office.close()
    finally:
        if clients is not None:
            await clients.close()
        await pbx.close()

    def line(name: str, values: list[float]) -> str:
        return (
            f"{name:<30} n={len(values):>5}  p50 {statistics.median(values) * 1000:7.2f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:7.2f} ms"
        )

    print(f"background traffic: {rate:,.0f} AMI events/s before, {rate_after:,.0f} on average")
    print(line("Prosody message (one way)", prosody))
    print(line("popup (PBX write -> client)", popups))
    ratio = percentile(popups, 0.99) / percentile(prosody, 0.99)
    print(f"popup p99 / Prosody p99 = {ratio:.2f}   goal <= 3  {'OK' if ratio <= 3 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--traffic",
        type=float,
        default=7.0,
        help="background calls per second (about 100 AMI events each, dialplan steps included)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pbx-role":
        asyncio.run(pbx_main(float(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--clients-role":
        asyncio.run(clients_main(int(sys.argv[2])))
    else:
        main()
