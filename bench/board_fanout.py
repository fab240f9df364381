"""Board fan-out: 200 websocket clients on the operator board while the demo PBX runs 500 events/s.

ctibot (panel on loopback) and the demo PBX run in this process; the 200 clients run in
a separate process (as browsers would on other machines) and speak websocket through
wsproto, looking at each message only as much as needed. While the demo PBX emits
about 500 AMI events per second (calls starting, ringing, answered, ending), a probe
changes one extension (its phone unregisters / registers again) every 100 ms; the time
is measured from the probe's AMI event leaving the PBX to the moment the *last* of the
200 clients holds the board change. In the same run, under the same load, a bare Quart
app broadcasts one message to 200 websockets (one asyncio.Queue per socket, the Quart
chat example's broker) and the same clients time it. Goal (issue 8): p99 <= 100 ms and
<= 3x the bare broadcast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-operator-pw"


# -- a tiny websocket client (wsproto) ---------------------------------------------------------


async def ws_client(
    port: int, path: str, cookie: str, first: str | None, on_text: Any, ready: asyncio.Event
) -> None:
    """Connect, send ``first`` (a subscription), then hand every text message to ``on_text``."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        CloseConnection,
        Message,
        Ping,
        RejectConnection,
        Request,
        TextMessage,
    )

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ws = WSConnection(ConnectionType.CLIENT)
    headers = [(b"cookie", cookie.encode())] if cookie else []
    writer.write(ws.send(Request(host=f"127.0.0.1:{port}", target=path, extra_headers=headers)))
    parts: list[str] = []
    while True:
        data = await reader.read(1 << 20)
        if not data:
            return
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                if first is not None:
                    writer.write(ws.send(Message(data=first)))
                ready.set()
            elif isinstance(event, RejectConnection):
                raise ConnectionError(f"websocket refused: {event.status_code}")
            elif isinstance(event, TextMessage):
                parts.append(event.data)
                if event.message_finished:
                    on_text("".join(parts), time.monotonic())
                    parts.clear()
            elif isinstance(event, Ping):
                writer.write(ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                return


async def clients_main(board_port: int, bare_port: int, count: int, cookie: str, probe: str):
    """The clients' process: ``count`` board sockets and ``count`` bare ones.

    Commands on stdin: ``arm <status>`` (from now on, note when each board client gets
    the probe extension's row in that status; answers ``armed``), ``wait`` (answers the
    monotonic time of the last board client's receipt), ``bare <text>`` (answers the
    time the last bare client got that message), ``quit``.
    """
    expect: list[str | None] = [None]
    board_at: list[float | None] = [None] * count
    bare_seen: list[dict[str, float]] = [{} for _ in range(count)]
    markers = (f'"number": "{probe}"', f'"number":"{probe}"')

    def on_board(i: int):
        def handle(text: str, at: float) -> None:
            if expect[0] is None or board_at[i] is not None:
                return
            if not any(m in text for m in markers):
                return
            frame = json.loads(text)
            for msg in frame if isinstance(frame, list) else [frame]:
                rows = (msg.get("data") or {}).get("extensions")
                if isinstance(rows, dict):
                    row = rows.get(probe)
                elif isinstance(rows, list):
                    row = next((r for r in rows if r.get("number") == probe), None)
                else:
                    continue
                if row is not None and row.get("status") == expect[0]:
                    board_at[i] = at

        return handle

    def on_bare(i: int):
        def handle(text: str, at: float) -> None:
            bare_seen[i][text] = at

        return handle

    readies = []
    tasks = []
    sub = json.dumps({"subscribe": ["board"]})
    for i in range(count):
        for port, first, handler, ck in (
            (board_port, sub, on_board(i), cookie),
            (bare_port, None, on_bare(i), ""),
        ):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(ws_client(port, "/ws", ck, first, handler, ready)))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 180)
    await asyncio.sleep(1.0)  # the snapshots are in
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode().split():
        if line[0] == "quit":
            break
        if line[0] == "arm":
            board_at[:] = [None] * count
            expect[0] = line[1]
            print("armed", flush=True)
            continue
        deadline = time.monotonic() + 5
        while True:
            if line[0] == "bare":
                got = [s.pop(line[1], None) for s in bare_seen]
                if all(g is not None for g in got):
                    print(max(got), flush=True)  # type: ignore[type-var]
                    break
                for s, g in zip(bare_seen, got, strict=True):
                    if g is not None:
                        s[line[1]] = g
            elif all(at is not None for at in board_at):
                print(max(board_at), flush=True)  # type: ignore[type-var]
                expect[0] = None
                break
            if time.monotonic() > deadline:
                print("lost", flush=True)
                expect[0] = None
                break
            await asyncio.sleep(0.001)
    for task in tasks:
        task.cancel()


# -- the bare Quart broadcast -----------------------------------------------------------------


class BareBroadcast:
    """A bare Quart app: /ws sockets, one asyncio.Queue each, ``broadcast`` puts into all."""

    def __init__(self) -> None:
        from quart import Quart, websocket

        self.app = Quart("bare")
        self.queues: set[asyncio.Queue[str]] = set()
        self._stop = asyncio.Event()
        self.port = 0

        @self.app.websocket("/ws")
        async def ws() -> None:
            queue: asyncio.Queue[str] = asyncio.Queue()
            self.queues.add(queue)
            await websocket.accept()
            try:
                while True:
                    await websocket.send(await queue.get())
            finally:
                self.queues.discard(queue)

    def broadcast(self, text: str) -> None:
        for queue in self.queues:
            queue.put_nowait(text)

    async def start(self) -> None:
        import socket

        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        self.task = asyncio.create_task(serve(self.app, config, shutdown_trigger=self._stop.wait))
        await asyncio.sleep(0.3)

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 3)


# -- ctibot, the demo PBX, the load -------------------------------------------------------------


def office_config(pbx: Any, folder: Path, extensions: list[str], names: dict[str, str]) -> Any:
    from ctibot.config import AuthConfig, PluginsConfig, UserConfig, WebConfig
    from ctibot.demo.config import office_config as demo_office_config

    users = [UserConfig("operator", "Olga Operator", ("999",), profile="supervisor")]
    users += [UserConfig(f"u{ext}", names[ext], (ext,)) for ext in extensions]
    return demo_office_config(
        pbx.office,
        port=pbx.port,
        path=folder / "bench.toml",
        users=users,
        pbx=dict(astdb_poll=3600),
        database=folder / "bench.sqlite",
        plugins=PluginsConfig(),
        web=WebConfig("127.0.0.1:0", "bench-secret-key-0123456789", ""),
        auth=AuthConfig(str(folder / "users")),
    )


class EventCounter:
    """Counts the AMI events the demo PBX emits (its engine's output)."""

    def __init__(self, pbx: Any) -> None:
        self.count = 0
        inner = pbx.engine.emit

        def emit(data: bytes) -> None:
            self.count += 1
            inner(data)

        pbx.engine.emit = emit


async def load(pbx: Any, counter: EventCounter, rate: float, exclude: set[str], stop: Any) -> None:
    """Calls between idle extensions, paced so that the PBX emits about ``rate`` events/s.

    Starts at 10 calls/s and corrects the pace once a second from the events counted.
    """
    rng = random.Random(8)
    loop = asyncio.get_running_loop()
    calls_per_s = 10.0
    credit = 0.0
    exts = [e for e in pbx.office.users if e not in exclude]
    mark, marked = loop.time(), counter.count
    while not stop.is_set():
        await asyncio.sleep(0.02)
        now = loop.time()
        if now - mark >= 1.0:
            measured = (counter.count - marked) / (now - mark)
            if measured > 0:
                calls_per_s *= max(0.6, min(1.6, rate / measured)) ** 0.7
            mark, marked = now, counter.count
        credit += calls_per_s * 0.02
        busy = {ch.extension for ch in pbx.engine.channels.values() if not ch.dead}
        idle = [e for e in exts if e not in busy]
        while credit >= 1 and len(idle) >= 2:
            credit -= 1
            a, b = rng.sample(idle, 2)
            idle.remove(a)
            idle.remove(b)
            pbx.call(a, b)
            pbx.engine.spawn(_hang_up_later(pbx, a, rng.uniform(1.0, 4.0)))


async def _hang_up_later(pbx: Any, ext: str, after: float) -> None:
    await asyncio.sleep(after)
    pbx.hangup(ext)


async def start_office(args: argparse.Namespace, folder: Path) -> tuple[Any, Any, list[str]]:
    from ctibot.app import CtiApp
    from ctibot.demo.office import Office
    from ctibot.demo.server import DemoPbx
    from ctibot.http.auth import UsersFile

    office = Office.generate(extensions=args.extensions, queues=2)
    for user in office.users.values():
        user.phone.answer_after = 0.3  # a quick office: more calls per second
    pbx = DemoPbx(office, time_scale=1.0)
    await pbx.start()
    exts = list(office.users)
    config = office_config(pbx, folder, exts, {e: u.fullname for e, u in office.users.items()})
    UsersFile(Path(config.auth.users_file)).set_password("operator", PASSWORD)
    app = CtiApp(config)
    await app.start()
    await app.ami.wait_ready(20)
    return pbx, app, exts


async def login_cookie(url: str) -> str:
    import re

    import httpx

    async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf-token" content="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        resp = await client.post(
            "/login", data={"name": "operator", "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 302, resp.text
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ctibot-board-") as tmp:
        pbx, app, exts = await start_office(args, Path(tmp))
        probe = exts[-1]
        bare = BareBroadcast()
        await bare.start()
        cookie = await login_cookie(app.http.url)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--clients-role", str(app.http.port), str(bare.port),
            str(args.clients), cookie, probe,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdin is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 180)
        assert line.startswith(b"ready"), line
        # ctibot's share: from the probe's AMI event to the delta handed to the hub
        board = app.services.board
        if args.coalesce is not None:
            board.coalesce = args.coalesce
        published_at: list[float] = []
        flush_ms: list[float] = []
        inner_publisher = board.publisher
        inner_flush = board.flush

        def publisher(topic: str, data: Any) -> None:
            if probe in (data.get("extensions") or {}):
                published_at.append(time.monotonic())
            inner_publisher(topic, data)

        def flush() -> None:
            started = time.perf_counter()
            inner_flush()
            flush_ms.append((time.perf_counter() - started) * 1000)

        board.publisher, board.flush = publisher, flush
        handed: list[float] = []
        counter = EventCounter(pbx)
        stop = asyncio.Event()
        loader = asyncio.create_task(load(pbx, counter, args.rate, {probe}, stop))
        await asyncio.sleep(3)  # the load settles at its rate
        board_ms: list[float] = []
        bare_ms: list[float] = []
        lost = 0
        events_at_start, t_start = counter.count, time.monotonic()
        flushes_at_start = app.services.board.flushes
        async def ask(command: str) -> bytes:
            proc.stdin.write(command.encode() + b"\n")  # type: ignore[union-attr]
            await proc.stdin.drain()  # type: ignore[union-attr]
            return (await asyncio.wait_for(proc.stdout.readline(), 30)).strip()  # type: ignore[union-attr]

        for i in range(args.probes):
            # the board: the probe phone unregisters (or registers again)
            status = "unavailable" if i % 2 == 0 else "idle"
            assert await ask(f"arm {status}") == b"armed"
            t0 = time.monotonic()
            published_at.clear()
            pbx.set_registered(probe, status == "idle")
            answer = await ask("wait")
            if published_at:
                handed.append((published_at[0] - t0) * 1000)
            if answer == b"lost":
                lost += 1
            else:
                board_ms.append((float(answer) - t0) * 1000)
            # the bare broadcast of one message to 200 websockets
            t0 = time.monotonic()
            bare.broadcast(f"probe-{i}")
            answer = await ask(f"bare probe-{i}")
            if answer != b"lost":
                bare_ms.append((float(answer) - t0) * 1000)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - t_start
        rate = (counter.count - events_at_start) / elapsed
        flushes = (app.services.board.flushes - flushes_at_start) / elapsed
        stop.set()
        await loader
        proc.stdin.write(b"quit\n")
        await proc.stdin.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 10)
        await bare.stop()
        await app.stop()
        await pbx.stop()
    b99, r99 = p99(board_ms), p99(bare_ms)
    print(
        f"{args.clients} board websockets, {args.extensions} extensions; the demo PBX emitted "
        f"{rate:.0f} AMI events/s; the board published {flushes:.0f} deltas/s"
    )
    print(
        f"board: AMI event -> last of {args.clients} clients: median "
        f"{statistics.median(board_ms):.1f} ms, p99 {b99:.1f} ms, max {max(board_ms):.1f} ms "
        f"({len(board_ms)} probes, {lost} lost)"
    )
    print(
        f"  of which in ctibot (AMI event -> delta handed to the hub): median "
        f"{statistics.median(handed):.1f} ms, p99 {p99(handed):.1f} ms; one flush (diff of "
        f"the whole board + publish): median {statistics.median(flush_ms):.2f} ms, "
        f"max {max(flush_ms):.1f} ms"
    )
    print(
        f"bare Quart broadcast of one message to {args.clients} websockets: median "
        f"{statistics.median(bare_ms):.1f} ms, p99 {r99:.1f} ms"
    )
    ok = b99 <= 100 and b99 <= 3 * r99
    print(
        f"goal p99 <= 100 ms and <= 3x bare ({3 * r99:.1f} ms): {'OK' if ok else 'MISSED'} "
        f"(ratio {b99 / r99:.2f}x)"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--clients-role":
        board_port, bare_port, count = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        asyncio.run(clients_main(board_port, bare_port, count, sys.argv[5], sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--extensions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500, help="AMI events per second")
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--coalesce", type=float, help="[plugins.board] coalesce (s)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
