"""`ctibot demo`: the embedded demo PBX, ctibot connected to it, live events on the console."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

from ctibot.app import CtiApp
from ctibot.config import Config, DatabaseConfig, PbxConfig, UserConfig, XmppConfig
from ctibot.demo.office import Office, Phone
from ctibot.demo.server import DemoPbx
from ctibot.pbx import events as ev

DEMO_SECRET = "demo-secret"
SOFTPHONE = "PJSIP/91208"


def office_config(office: Office, port: int, path: Path, secret: str = DEMO_SECRET) -> Config:
    """A ctibot configuration matching the demo office."""
    layout = office.layout()
    users = []
    for ext, user in office.users.items():
        name = user.fullname.split()[0].lower()
        if any(u.name == name for u in users):
            name = f"{name}{ext}"
        devices = tuple(user.other_phones)
        users.append(UserConfig(name, user.fullname, (ext,), user.mobile, devices=devices))
    pbx = PbxConfig(
        port=port,
        username="cti",
        secret=secret,
        device=layout.device_template,
        trunks=layout.trunks,
        voicemail_context=layout.voicemail_context,
        parking_lot=layout.parking_lot,
        parking_exten=layout.parking_exten,
    )
    database = DatabaseConfig(str(path.parent / "ctibot.sqlite"))
    return Config(path=path, pbx=pbx, users=tuple(users), database=database)


def config_toml(config: Config) -> str:
    """The same configuration as a TOML file a person can read and reuse."""
    p = config.pbx
    lines = [
        "# Written by `ctibot demo`: ctibot's configuration for the demo PBX.",
        "[pbx]",
        f'host = "{p.host}"',
        f"port = {p.port}",
        f'username = "{p.username}"',
        f'secret = "{p.secret}"',
        f'device = "{p.device}"',
    ]
    lines += ["", "[database]", f'path = "{config.database.path}"']
    if config.xmpp is not None:
        x = config.xmpp
        lines += [
            "",
            "[xmpp]",
            f'component = "{x.component}"',
            f'secret = "{x.secret}"',
            f'host = "{x.host}"',
            f"port = {x.port}",
            f'domain = "{x.domain}"',
        ]
    for trunk in p.trunks:
        globs = ", ".join(f'"{g}"' for g in trunk.channels)
        lines += [
            "",
            "[[pbx.trunks]]",
            f'name = "{trunk.name}"',
            f"channels = [{globs}]",
            f"max_channels = {trunk.max_channels}",
        ]
    for user in config.users:
        exts = ", ".join(f'"{e}"' for e in user.extensions)
        lines += [
            "",
            "[[users]]",
            f'name = "{user.name}"',
            f'fullname = "{user.fullname}"',
            f"extensions = [{exts}]",
            f'language = "{user.language}"',
            f'profile = "{user.profile}"',
        ]
        if user.jid:
            lines.append(f'jid = "{user.jid}"')
        if user.devices:
            devices = ", ".join(f'"{d}"' for d in user.devices)
            lines.append(f"devices = [{devices}]")
    return "\n".join(lines) + "\n"


def describe(event: Any) -> str | None:
    """One console line for the domain events a person watching the demo cares about."""
    match event:
        case ev.CallRinging():
            who = event.caller_name or event.caller_number or "unknown"
            queue = f" (queue {event.queue})" if event.queue else ""
            return f"☎  {event.extension} ringing: {who} <{event.caller_number or '?'}>{queue}"
        case ev.CallAnswered():
            return f"✆  call {event.caller_number or '?'} answered by {event.answered_by or '?'}"
        case ev.CallEnded():
            r = event.record
            how = f"{r.duration} s" if r.answered else "not answered"
            return f"✕  call {r.from_ or '?'} → {r.to or '?'} ({r.direction}) ended: {how}"
        case ev.DndChanged():
            return f"⛔ {event.extension} DND {'on' if event.dnd else 'off'}"
        case ev.ForwardChanged():
            return f"↪  {event.extension} forward {event.kind}: {event.destination or 'off'}"
        case ev.PbxConnected():
            return "ctibot: connected to the demo PBX"
        case ev.PbxResynced():
            return "ctibot: state resynced"
        case ev.PbxDisconnected():
            return f"ctibot: disconnected ({event.reason})"
    return None


DEMO_DOMAIN = "localhost"
DEMO_COMPONENT = "cti.localhost"


def _password(name: str) -> str:
    return f"{name}-demo"


async def _start_prosody(config: Config, workdir: Path, xmpp_port: int) -> Any:
    """A Prosody of the demo's own (loopback only), with an account per office user."""
    from ctibot.xmpp.groups import roster_groups
    from ctibot.xmpp.servers import ProsodyServer, XmppServerError, prosody_installed

    if not prosody_installed():
        print(
            "Prosody is not installed: the demo runs without XMPP "
            "(scripts/demo installs it: apt-get install prosody).",
            flush=True,
        )
        return None
    accounts = {u.name: _password(u.name) for u in config.users}
    data = workdir / "prosody"
    for port in (xmpp_port, 0):
        server = ProsodyServer(
            DEMO_DOMAIN,
            DEMO_COMPONENT,
            "demo-component-secret",
            accounts,
            data_dir=data,
            c2s_port=port,
            groups=roster_groups(_xmpp_users(config), DEMO_COMPONENT),
            tls=True,
        )
        try:
            await server.start()
            return server
        except XmppServerError as exc:
            if port == 0:
                print(f"Prosody did not start ({exc}): the demo runs without XMPP.", flush=True)
                return None
            print(f"Port {port} is taken: Prosody takes a free one.", flush=True)
    return None


def _xmpp_users(config: Config) -> tuple[UserConfig, ...]:
    """Every demo user gets a JID; bob writes in Italian; alice is a supervisor."""
    return tuple(
        replace(
            u,
            jid=f"{u.name}@{DEMO_DOMAIN}",
            language="it" if u.name == "bob" else "en",
            profile="supervisor" if u.name == "alice" else u.profile,
        )
        for u in config.users
    )


def with_xmpp(config: Config, server: Any) -> Config:
    """The demo configuration plus its XMPP side."""
    xmpp = XmppConfig(
        DEMO_COMPONENT, server.component_secret, server.host, server.component_port, DEMO_DOMAIN
    )
    return replace(config, users=_xmpp_users(config), xmpp=xmpp)


def _login_help(config: Config, server: Any) -> str:
    people = "\n".join(
        f"                   {u.jid:<22} password {_password(u.name):<14} "
        f"({u.fullname}, {', '.join(u.extensions)}, {u.language})"
        for u in config.users[:8]
    )
    return f"""  XMPP (Prosody)   server 127.0.0.1, port {server.c2s_port} (STARTTLS, self-signed)
{people}
                   Write "help" (or "aiuto") to {DEMO_COMPONENT}. Phones and colleagues
                   are already in every roster: 201@{DEMO_COMPONENT}, alice@{DEMO_COMPONENT}…
  From a client    Gajim: Accounts › Add › advanced: host 127.0.0.1 port {server.c2s_port},
                   accept the self-signed certificate. Profanity:
                   /connect alice@{DEMO_DOMAIN} server 127.0.0.1 port {server.c2s_port} tls allow
                   Dino: add the account with server 127.0.0.1 and trust the certificate.
                   Conversations (Android) needs a reachable server with a real certificate:
                   see xmpp_config/README.md."""


async def run_demo(args: argparse.Namespace) -> int:
    if args.extensions == 8:
        office = Office()
        # Henry's softphone rings with his desk phone; the desk phone takes the calls.
        office.add_device("208", SOFTPHONE, Phone(answer_after=None))
    else:
        office = Office.generate(args.extensions, 2)
    pbx = DemoPbx(office, port=args.ami_port, secret=DEMO_SECRET, traffic=not args.no_traffic)
    await pbx.start()
    workdir = Path.cwd() / "var" / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "ctibot.toml"
    config = office_config(office, pbx.port, config_path)
    server = None if args.no_xmpp else await _start_prosody(config, workdir, args.xmpp_port)
    if server is not None:
        config = with_xmpp(config, server)
    config_path.write_text(config_toml(config), encoding="utf-8")
    app = CtiApp(config)
    app.bus.subscribe(lambda e: (line := describe(e)) and print(line, flush=True))
    await app.start()
    queues = ", ".join(f"{q.name} ({q.number})" for q in office.queues.values())
    trunks = ", ".join(f"{t.name} ({t.max_channels} channels)" for t in office.trunks)
    exts = list(office.users)
    first, last = office.parking_slots
    traffic = "are off" if args.no_traffic else "come and go"
    softphone = "".join(
        f"\n                   {ext} also rings on {', '.join(user.other_phones)} (a softphone)"
        for ext, user in office.users.items()
        if user.other_phones
    )
    xmpp_help = _login_help(config, server) if server is not None else "  XMPP             off"
    print(
        f"""
ctibot demo is running.
  Demo PBX (AMI)   127.0.0.1:{pbx.port}   user "cti", secret "{DEMO_SECRET}"
                   (any AMI tool can connect: telnet 127.0.0.1 {pbx.port})
  Office           {len(exts)} extensions {exts[0]}–{exts[-1]}, queues {queues},
                   parking {office.parking_exten} (slots {first}–{last}), trunks {trunks}{softphone}
{xmpp_help}
  ctibot config    {config_path}
  PBX state now    ctibot snapshot --config {config_path}
Background calls {traffic}; live events follow. Ctrl-C stops.
""",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        if args.duration:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.duration)
        else:
            await stop.wait()
    finally:
        await app.stop()
        if server is not None:
            await server.stop()
        await pbx.stop()
    return 0
