"""Presence fan-out: 1,000 extension state changes to 100 subscribed clients, through Prosody.

A real Prosody (loopback) whose mod_groups puts 100 extension JIDs into the rosters
of 100 users; the demo PBX; ctibot. The 100 clients run in a separate process
(as they would on other machines) and speak XMPP over raw sockets, so that their
own parsing does not slow ctibot down. Then 1,000 DND changes (10 on each of the
100 extensions, as *78 / *79 would make them) hit the PBX; the time is measured
from the first change to the moment every client holds the final presence of
every extension. ``--pace`` spreads the changes over that many seconds instead of
one burst. Goal (issue 3): <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOMAIN, COMPONENT, SECRET = "example.test", "cti.example.test", "bench-secret"
PRESENCE = re.compile(rb"<presence\b([^>]*?)(?:/>|>(.*?)</presence>)", re.S)
FROM = re.compile(rb"""\bfrom=(['"])([^'"]+?)(?:/[^'"]*)?\1""")
SHOW = re.compile(rb"<show>([a-z]+)</show>")


def user_name(i: int) -> str:
    return f"user{i:03d}"


# -- the clients' process ----------------------------------------------------------------------


async def raw_client(port: int, user: str, seen: dict[str, bytes], ready: asyncio.Event) -> None:
    """A minimal XMPP client: SASL PLAIN, bind, initial presence; then it only listens."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = (
        f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    ).encode()

    async def until(marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionError(f"{user}: closed while waiting for {marker!r}")
            data += chunk
        return data

    writer.write(header)
    await until(b"</stream:features>")
    token = base64.b64encode(f"\0{user}\0{user}-pw".encode()).decode()
    writer.write(
        f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode()
    )
    await until(b"<success")
    writer.write(header)
    await until(b"</stream:features>")
    writer.write(
        b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        b"<resource>bench</resource></bind></iq>"
    )
    await until(b"</iq>")
    writer.write(b"<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq><presence/>")
    buffer = b""
    ready.set()
    while True:
        chunk = await reader.read(262144)
        if not chunk:
            return
        buffer += chunk
        end = 0
        for match in PRESENCE.finditer(buffer):
            attrs, body = match.group(1), match.group(2) or b""
            sender = FROM.search(attrs)
            if sender is not None and sender.group(2).endswith(COMPONENT.encode()):
                show = SHOW.search(body)
                seen[sender.group(2).decode()] = show.group(1) if show else b""
            end = match.end()
        buffer = buffer[end:]


async def clients_main(port: int, count: int, extensions: list[str]) -> None:
    """Run the clients; report readiness, then the moment the final presences are all in."""
    seens = [dict() for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [
        asyncio.create_task(raw_client(port, user_name(i), seens[i], readies[i]))
        for i in range(count)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    jids = [f"{ext}@{COMPONENT}" for ext in extensions]
    deadline = time.monotonic() + 60
    while not all(all(j in seen for j in jids) for seen in seens):
        if time.monotonic() > deadline:
            have = min(sum(j in seen for j in jids) for seen in seens)
            sys.exit(f"clients: after 60 s a client has only {have} of {len(jids)} presences")
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    expected_line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    expected = {j: v.encode() for j, v in json.loads(expected_line).items()}
    while not all(all(seen.get(j) == v for j, v in expected.items()) for seen in seens):
        await asyncio.sleep(0.002)
    print(f"done {time.monotonic()!r}", flush=True)
    for task in tasks:
        task.cancel()


# -- ctibot's side ------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> None:
    from ctibot.app import CtiApp
    from ctibot.config import UserConfig, XmppConfig
    from ctibot.demo.config import office_config
    from ctibot.demo.office import Office
    from ctibot.demo.server import DemoPbx
    from ctibot.plugins.presence.groups import groups_text
    from ctibot.sandbox.xmpp_servers import ProsodyServer

    office = Office.generate(extensions=max(args.extensions, args.clients), queues=2)
    exts = list(office.users)[: args.extensions]
    accounts = {user_name(i): f"{user_name(i)}-pw" for i in range(args.clients)}
    groups = groups_text({"+CTI phones": [(f"{e}@{COMPONENT}", e) for e in exts]})
    with tempfile.TemporaryDirectory(prefix="ctibot-fanout-") as tmp:
        async with (
            ProsodyServer(DOMAIN, COMPONENT, SECRET, accounts, groups=groups) as server,
            DemoPbx(office, time_scale=1.0) as pbx,
        ):
            # Every extension belongs to a user (virtual JIDs exist for configured phones);
            # the first ``clients`` users have XMPP accounts.
            users = tuple(
                UserConfig(
                    user_name(i),
                    f"User {i}",
                    (ext,),
                    jid=f"{user_name(i)}@{DOMAIN}" if i < args.clients else None,
                )
                for i, ext in enumerate(list(office.users)[: max(args.clients, len(exts))])
            )
            config = office_config(
                office,
                port=pbx.port,
                path=Path(tmp) / "x.toml",
                users=users,
                pbx=dict(astdb_poll=3600),
                xmpp=XmppConfig(COMPONENT, SECRET, server.host, server.component_port, DOMAIN),
                database=Path(tmp) / "db.sqlite",
            )
            app = CtiApp(config)
            await app.start()
            await app.ami.wait_ready(10)
            assert app.xmpp is not None
            await asyncio.wait_for(app.xmpp.xmpp.online.wait(), 10)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--clients-role",
                str(server.c2s_port),
                str(args.clients),
                ",".join(exts),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert proc.stdout is not None and proc.stdin is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert line.startswith(b"ready"), line
            roster = app.xmpp.roster
            start_count = roster.stanzas
            final = {}
            changes = 0
            per_ext = args.changes // len(exts)
            # The toggles end with DND on: a final state different from the initial one.
            for ext in exts:
                final[f"{ext}@{COMPONENT}"] = "dnd"
            proc.stdin.write((json.dumps(final) + "\n").encode())
            await proc.stdin.drain()
            t0 = time.monotonic()
            pause = args.pace / args.changes if args.pace else 0
            for round_ in range(per_ext):
                for ext in exts:
                    pbx.set_dnd(ext, (per_ext - 1 - round_) % 2 == 0)
                    changes += 1
                    if pause:
                        await asyncio.sleep(pause)
            t_last = time.monotonic()
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert line.startswith(b"done"), line
            after_last = float(line.split()[1]) - t_last
            elapsed = float(line.split()[1]) - t0
            await proc.wait()
            await app.stop()
            count = roster.stanzas - start_count
    mode = f"paced over {args.pace:g} s" if args.pace else "in one burst"
    print(
        f"{changes:,} DND changes on {len(exts)} extensions ({mode}), "
        f"{args.clients} clients each subscribed to all {len(exts)}"
    )
    print(
        f"presence stanzas sent by ctibot: {count:,} "
        f"({changes * args.clients:,} if no change were merged)"
    )
    print(f"after the last change, the last presence arrived {after_last * 1000:.0f} ms later")
    print(
        f"every client has every final presence after {elapsed * 1000:.0f} ms   "
        f"goal <= 2000 ms  {'OK' if elapsed <= 2 else 'MISSED'}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--clients-role":
        port, count, exts = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
        asyncio.run(clients_main(port, count, exts))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--extensions", type=int, default=100)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="spread the changes over this many seconds (0 = one burst)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
