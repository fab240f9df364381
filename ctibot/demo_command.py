"""`ctibot demo`: the embedded demo PBX, ctibot connected to it, live events on the console."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

from ctibot.app import CtiApp
from ctibot.commands.base import Registry
from ctibot.config import Config, UserConfig, XmppConfig
from ctibot.demo.config import messaging_plugins, office_config, with_contacts
from ctibot.demo.office import Office, Phone
from ctibot.demo.server import DemoPbx
from ctibot.pbx import events as ev
from ctibot.sandbox.deskphones import DeskPhones
from ctibot.sandbox.mailsink import Mail, MailSink
from ctibot.sandbox.smsgateway import SmsGateway

DEMO_SECRET = "demo-secret"
SOFTPHONE = "PJSIP/91208"
DEFAULT_AMI_PORT = 5038
#: How long a person's phone rings in the demo before it answers by itself (seconds).
PEOPLE_ANSWER_AFTER = 4.0
#: The people's desk phones (by turns) and their web login: automatic click-to-call works.
DESK_PHONES = ("Yealink SIP-T54W 96.86.0.100", "snom D785 10.1.159.12")
PHONE_LOGIN = ("admin", "admin")


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
    if config.web is not None:
        lines += ["", "[web]", f'listen = "{config.web.listen}"']
        lines += [f'secret_key = "{config.web.secret_key}"'] if config.web.secret_key else []
    if config.auth.users_file:
        lines += ["", "[auth]", f'users_file = "{config.auth.users_file}"']
    phone_urls = config.plugins.table("calls").get("phone_urls")
    if phone_urls:
        urls = ", ".join(f'"{ext}" = "{url}"' for ext, url in phone_urls.items())
        lines += ["", "[plugins.calls]", f"phone_urls = {{ {urls} }}"]
    spool = config.plugins.table("voicemail").get("spool")
    if spool:
        lines += ["", "[plugins.voicemail]", f'spool = "{spool}"']
    offhour = config.plugins.table("offhour")
    if offhour:
        routes = ", ".join(f'"{did}" = "{who}"' for did, who in offhour["routes"].items())
        lines += ["", "[plugins.offhour]", f'sounds_dir = "{offhour["sounds_dir"]}"']
        lines += [f"routes = {{ {routes} }}"]
    for name in ("sms", "notify"):
        table = config.plugins.table(name)
        if table:
            lines += ["", f"[plugins.{name}]"]
            lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
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
        lines += [f'email = "{user.email}"'] if user.email else []
        lines += [f'mobile = "{user.mobile}"'] if user.mobile else []
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


def console_text(text: str, limit: int = 100) -> str:
    """Text from strangers fit for one console line: no control or format characters (no
    escape sequences, no bidi overrides), white space folded, clipped."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def sms_line(number: str, text: str) -> str:
    """The console's line for an SMS the demo's gateway stand-in took."""
    return f"📱 SMS to {console_text(number, 20)}: {console_text(text)}"


def mail_line(mail: Mail) -> str:
    """The console's line for a mail the demo's SMTP sink took."""
    to = console_text(", ".join(mail.recipients), 60)
    return f"✉ mail to {to}: {console_text(mail.subject)}"


async def start_messaging(config: Config) -> tuple[Config, SmsGateway, MailSink]:
    """The SMS gateway stand-in and the mail sink on 127.0.0.1, printing what they get, and
    the configuration using them (each person with an e-mail address and a mobile)."""
    gateway = await SmsGateway(on_sms=lambda n, t: print(sms_line(n, t), flush=True)).start()
    sink = await MailSink(on_mail=lambda m: print(mail_line(m), flush=True)).start()
    plugins = messaging_plugins(config.plugins, gateway.url, sink.port)
    return replace(config, users=with_contacts(config.users), plugins=plugins), gateway, sink


DEMO_DOMAIN = "localhost"
DEMO_COMPONENT = "cti.localhost"


def _password(name: str) -> str:
    return f"{name}-demo"


async def _start_prosody(config: Config, workdir: Path, xmpp_port: int) -> Any:
    """A Prosody of the demo's own (loopback only), with an account per office user."""
    from ctibot.sandbox.xmpp_servers import ProsodyServer, XmppServerError, prosody_installed

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
            groups=demo_groups(config),
            tls=True,
        )
        try:
            await server.start()
            return server
        except XmppServerError as exc:
            if port == 0:
                print(f"Prosody did not start ({exc}): the demo runs without XMPP.", flush=True)
                return None
            print(
                f"Port {port} is taken: Prosody takes a free one (choose with --xmpp-port).",
                flush=True,
            )
    return None


def demo_groups(config: Config) -> str:
    """The mod_groups file of the demo's Prosody: every person and phone in every roster.

    The groups are the presence plugin's (``ctibot xmpp-groups``): its service, through
    the loader. Without it (disabled) nobody is in anyone's roster: users send ``team``.
    """
    from ctibot.loader import load_services
    from ctibot.pbx.state import PbxState

    services = load_services(config, PbxState(config.layout()), None, only=("info", "presence"))
    presence = services.get("presence")
    if presence is None:
        return ""
    return presence.groups_text(presence.roster_groups(_xmpp_users(config), DEMO_COMPONENT))


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


def _fingerprints(certificate: Path) -> tuple[str, str] | None:
    """SHA-1 and SHA-256 of a PEM certificate, in hex as Profanity prints them."""
    try:
        der = ssl.PEM_cert_to_DER_cert(certificate.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return hashlib.sha1(der).hexdigest(), hashlib.sha256(der).hexdigest()


def _login_help(config: Config, server: Any) -> str:
    people = "\n".join(
        f"                   {u.jid:<22} password {_password(u.name):<14} "
        f"({u.fullname}, {', '.join(u.extensions)}, {u.language})"
        for u in config.users[:8]
    )
    first = config.users[0]
    prints = _fingerprints(server.certificate) if server.tls else None
    cert = (
        f"\n                   certificate SHA-1   {prints[0]}"
        f"\n                               SHA-256 {prints[1]}"
        if prints
        else ""
    )
    return f"""  XMPP (Prosody)   server 127.0.0.1, port {server.c2s_port} (STARTTLS, self-signed)
{people}
                   Write "help" (or "aiuto") to {DEMO_COMPONENT}. Phones and colleagues
                   are already in every roster: 201@{DEMO_COMPONENT}, alice@{DEMO_COMPONENT}…
  From a client    The demo keeps its certificate (and accounts) across restarts: accept
                   it once.{cert}
                   Profanity: start `profanity`, type (then the password when asked)
                   /connect {first.jid} server 127.0.0.1 port {server.c2s_port} tls trust
                   Gajim: Accounts › Add › advanced: host 127.0.0.1 port {server.c2s_port},
                   accept the certificate. Dino: server 127.0.0.1, trust the certificate.
                   Conversations (Android) needs a reachable server with a real certificate:
                   see xmpp_config/README.md."""


#: The demo's web profiles (the others are users): who sees the operator board, who administers.
DEMO_PROFILES = {"alice": "supervisor", "carol": "admin"}
DEFAULT_WEB_PORT = 8080


def with_web(config: Config, workdir: Path, port: int | None) -> Config:
    """The panel on 127.0.0.1 (``port``; 8080, or a free one when taken) with a local users
    file in the state directory: each demo user logs in with their demo password."""
    from ctibot.config import AuthConfig, WebConfig
    from ctibot.http.auth import UsersFile, new_token

    if port is None:
        port = DEFAULT_WEB_PORT
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                print(f"Port {port} is taken: the panel takes a free one (--web-port).",
                      flush=True)
                port = 0
    key_file = workdir / "web-secret"
    if not key_file.exists():
        key_file.write_text(new_token() + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    secret = key_file.read_text(encoding="utf-8").strip()
    users_path = workdir / "web-users"
    users = UsersFile(users_path)
    known = users.read()
    from ctibot.http.auth import check_password

    for user in config.users:
        stored = known.get(user.name)
        if stored is None or not check_password(_password(user.name), stored):
            users.set_password(user.name, _password(user.name))
    people = tuple(replace(u, profile=DEMO_PROFILES.get(u.name, u.profile)) for u in config.users)
    return replace(
        config,
        users=people,
        web=WebConfig(f"127.0.0.1:{port}", secret, ""),
        auth=AuthConfig(str(users_path)),
    )


def _web_help(app: CtiApp, config: Config) -> str:
    """The panel's lines of the demo's banner: its URL and a login per demo user."""
    if app.http is None or app.http.port is None:
        return "  Web panel        off"
    logins = [f"{u.name} / {_password(u.name)}" + (f" ({u.profile})" if u.profile != "user"
                                                    else "") for u in config.users]
    rows, row = [], ""
    for login in logins:
        if row and len(row) + len(login) > 60:
            rows.append(row)
            row = ""
        row += ("   " if row else "") + login
    rows.append(row)
    text = f"  Web panel        {app.http.url}/   (OpenAPI {app.http.url}/api/docs)\n"
    text += "  Panel logins     " + "\n                   ".join(rows)
    return text


def default_state_dir() -> Path:
    """Where the demo keeps its state: ``$XDG_STATE_HOME/ctibot/demo`` (~/.local/state/…)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "ctibot" / "demo"


def ctibot_command() -> str:
    """How to run this ctibot from a shell: ``ctibot`` if the PATH finds it, else its path."""
    script = Path(sys.executable).parent / "ctibot"
    if not script.exists():
        return f"{shlex.quote(sys.executable)} -m ctibot"
    found = shutil.which("ctibot")
    if found is not None and Path(found).resolve() == script.resolve():
        return "ctibot"
    return shlex.quote(str(script.absolute()))


async def _start_pbx(office: Office, args: argparse.Namespace) -> DemoPbx | None:
    """The demo PBX on the asked port, or on a free one when the default port is taken."""
    asked = args.ami_port
    port = DEFAULT_AMI_PORT if asked is None else asked
    pbx = DemoPbx(office, port=port, secret=DEMO_SECRET, traffic=not args.no_traffic)
    try:
        await pbx.start()
        return pbx
    except OSError as exc:
        if asked is not None or exc.errno != errno.EADDRINUSE:
            print(
                f"ctibot demo: cannot listen on 127.0.0.1:{port} for AMI "
                f"({exc.strerror or exc}): choose another port with --ami-port PORT "
                "(0 = any free port).",
                file=sys.stderr,
                flush=True,
            )
            return None
    print(
        f"Port {port} is taken: the demo PBX takes a free one (choose with --ami-port).",
        flush=True,
    )
    pbx = DemoPbx(office, port=0, secret=DEMO_SECRET, traffic=not args.no_traffic)
    await pbx.start()
    return pbx


def demo_office(extensions: int) -> Office:
    """The office the demo simulates: people, and phones of its own for background calls."""
    if extensions == 8:
        office = Office()
        # Henry's softphone rings with his desk phone; the desk phone takes the calls.
        office.add_device("208", SOFTPHONE, Phone(answer_after=None))
        office.add_traffic_phones(301)
    else:
        office = Office.generate(extensions, 2)
        office.add_traffic_phones(9001)
    for n, user in enumerate(office.people.values()):
        user.phone.answer_after = PEOPLE_ANSWER_AFTER  # time to see the popup, and act
        user.phone.user_agent = DESK_PHONES[n % len(DESK_PHONES)]
    return office


def with_desk_phones(config: Config, phones: DeskPhones) -> Config:
    """ctibot reaches the demo's desk phones at their stand-in (``[plugins.calls] phone_urls``)."""
    from ctibot.config import PluginsConfig

    plugins = config.plugins
    calls = {**plugins.table("calls"), "phone_urls": phones.urls()}
    return replace(
        config, plugins=PluginsConfig(plugins.disabled, {**plugins.settings, "calls": calls})
    )


async def run_demo(args: argparse.Namespace) -> int:
    # Ctrl-C (or SIGTERM) from now on stops the demo cleanly, even while it starts.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        return await _run_demo(args, stop, loop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


async def _run_demo(
    args: argparse.Namespace, stop: asyncio.Event, loop: asyncio.AbstractEventLoop
) -> int:
    office = demo_office(args.extensions)
    pbx = await _start_pbx(office, args)
    if pbx is None:
        return 1
    workdir = Path(args.state_dir).expanduser() if args.state_dir else default_state_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    office.voicemail_spool = str(workdir / "voicemail")  # Asterisk's layout, real WAV files
    config_path = workdir / "ctibot.toml"
    pbx.engine.dialplan.sounds_dir = workdir / "sounds"  # Playback and Record (off-hour)
    config = office_config(
        office, port=pbx.port, path=config_path, secret=DEMO_SECRET, sounds=workdir / "sounds"
    )
    server = None if args.no_xmpp else await _start_prosody(config, workdir, args.xmpp_port)
    if server is not None:
        config = with_xmpp(config, server)
    config = with_web(config, workdir, getattr(args, "web_port", None))
    desk = await DeskPhones(pbx, username=PHONE_LOGIN[0], password=PHONE_LOGIN[1]).start()
    config = with_desk_phones(config, desk)
    config, gateway, sink = await start_messaging(config)
    config_path.write_text(config_toml(config), encoding="utf-8")
    app = CtiApp(config)
    app.bus.subscribe(lambda e: (line := describe(e)) and print(line, flush=True))
    console = DemoConsole(pbx, config)
    if server is not None:
        register_demo_command(pbx, app.commands)
    await app.start()
    queues = ", ".join(f"{q.name} ({q.number})" for q in office.queues.values())
    trunks = ", ".join(f"{t.name} ({t.max_channels} channels)" for t in office.trunks)
    people = list(office.people)
    phones = office.traffic_phones
    first, last = office.parking_slots
    traffic = (
        "are off"
        if args.no_traffic
        else f"come and go on the phones {phones[0]}–{phones[-1]} and the trunks"
    )
    softphone = "".join(
        f"\n                   {ext} also rings on {', '.join(user.other_phones)} (a softphone)"
        for ext, user in office.users.items()
        if user.other_phones
    )
    xmpp_help = _login_help(config, server) if server is not None else "  XMPP             off"
    chat_demo = (
        f'\n                   or write "demo customer" / "demo colleague" to {DEMO_COMPONENT}'
        if server is not None
        else ""
    )
    print(
        f"""
ctibot demo is running.
  Demo PBX (AMI)   127.0.0.1:{pbx.port}   user "cti", secret "{DEMO_SECRET}"
                   (any AMI tool can connect: telnet 127.0.0.1 {pbx.port})
  Office           {len(people)} people {people[0]}–{people[-1]}, queues {queues},
                   parking {office.parking_exten} (slots {first}–{last}), trunks {trunks}{softphone}
                   phones {phones[0]}–{phones[-1]} carry the background calls (nobody's phones)
{xmpp_help}
  Calls on demand  type here, then Enter: "c alice" (a customer calls Alice), "i bob"
                   (a colleague's phone calls Bob), "c sales" (a customer calls a queue){chat_demo}
{_web_help(app, config)}
  Desk phones      Yealink and snom; web user "{PHONE_LOGIN[0]}", password "{PHONE_LOGIN[1]}"
                   (My settings: automatic click-to-call, Test echo)
  SMS and e-mail   never leave this machine: each one shows up here (My settings › Notify me)
  Demo state       {workdir}  (--state-dir)
  ctibot config    {config_path}
  PBX state now    {ctibot_command()} snapshot --config {shlex.quote(str(config_path))}
Background calls {traffic}; live events follow. Ctrl-C stops.
""",
        flush=True,
    )
    console.attach(loop)
    try:
        if args.duration:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.duration)
        else:
            await stop.wait()
    finally:
        console.detach(loop)
        await app.stop()
        if server is not None:
            await server.stop()
        await desk.stop()
        await gateway.stop()
        await sink.stop()
        await pbx.stop()
    return 0


class DemoConsole:
    """Lines typed at the demo's terminal: calls on demand, so popups can be tried at will."""

    HELP = (
        'calls on demand: "c WHO" a customer calls, "i WHO" a colleague\'s phone calls, '
        '"v WHO" a customer leaves a voicemail; '
        "WHO is a person (alice), an extension (202) or a queue (sales, 401)"
    )

    def __init__(self, pbx: DemoPbx, config: Config) -> None:
        self.pbx = pbx
        self.config = config
        self._buffer = b""
        self._attached = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read stdin without blocking the loop (a terminal, a pipe; nothing if closed)."""
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return
        with contextlib.suppress(OSError, ValueError, NotImplementedError, PermissionError):
            loop.add_reader(fd, self._readable, fd, loop)
            self._attached = True

    def detach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._attached:
            with contextlib.suppress(Exception):
                loop.remove_reader(sys.stdin.fileno())
            self._attached = False

    def _readable(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:  # end of input: stop listening, the demo goes on
            self.detach(loop)
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            answer = self.handle(line.decode(errors="replace"))
            if answer:
                print(answer, flush=True)

    def resolve(self, who: str) -> str | None:
        """A person's name, an extension or a queue (name or number) -> what to dial."""
        office = self.pbx.office
        word = who.strip().lower()
        user = self.config.user_by_name(word)
        if user is not None:
            return user.default_extension
        if word in office.users:
            return word
        queue = office.queues.get(word) or office.queue_by_number(word)
        return queue.number if queue is not None else None

    def handle(self, line: str) -> str:
        """Run one console line; the answer to print."""
        from ctibot.demo.traffic import colleague_call, customer_call

        words = line.split()
        if not words:
            return ""
        key = words[0].lower()
        if key not in ("c", "customer", "i", "colleague", "v", "voicemail") or len(words) != 2:
            return self.HELP
        target = self.resolve(words[1])
        if target is None:
            return f"{words[1]!r}: no such person, extension or queue. {self.HELP}"
        if key in ("v", "voicemail"):
            from ctibot.demo.voicemail import customer_message

            left = customer_message(self.pbx, target)
            if left is None:
                return f"{target} has no voicemail box"
            return f"✉ {left} left {target} a voicemail"
        if key in ("c", "customer"):
            who = customer_call(self.pbx, target)
        else:
            if self.pbx.office.queue_by_number(target) is not None:
                return "a colleague calls a person or an extension, not a queue"
            found = colleague_call(self.pbx, target)
            if found is None:
                return "every colleague's phone is busy: try again in a moment"
            who = found
        return f"→ {who} calls {target}"


def register_demo_command(pbx: DemoPbx, registry: Registry) -> None:
    """``demo customer`` / ``demo colleague``: a call to you on demand (the demo only)."""
    from ctibot.commands import Arg, Command, Context
    from ctibot.demo.traffic import colleague_call, customer_call

    class DemoCall(Command):
        name = "demo"
        order = 200
        args = (
            Arg(
                "who",
                kind="choice",
                choices=("customer", "colleague"),
                aliases={"cliente": "customer", "collega": "colleague"},
                required=True,
                metavar={"en": "customer|colleague", "it": "cliente|collega"},
            ),
        )
        help = {  # noqa: RUF012 - a declaration, read-only
            "en": "demo only: a customer (or a colleague) calls you now",
            "it": "solo demo: un cliente (o un collega) ti chiama ora",
        }

        async def run(self, ctx: Context, who: str) -> str:
            ext = ctx.user.default_extension
            italian = ctx.language == "it"
            if who == "customer":
                caller = customer_call(pbx, ext)
            else:
                found = colleague_call(pbx, ext)
                if found is None:
                    return (
                        "I telefoni dei colleghi sono occupati: riprova tra poco."
                        if italian
                        else "Every colleague's phone is busy: try again in a moment."
                    )
                caller = found
            return f"{caller} ti chiama sul {ext}." if italian else f"{caller} calls you on {ext}."

    registry.register(DemoCall)
