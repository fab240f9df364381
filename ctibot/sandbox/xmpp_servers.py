"""Throw-away Prosody and ejabberd servers on loopback, for ctibot's demo and tests."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

LOOPBACK = "127.0.0.1"
_LOOPBACK_V6 = ("::1", "::ffff:127.")
# Prosody's own admin socket is a Unix socket: its path must fit in sun_path.
_SUN_PATH_MAX = 107


class XmppServerError(RuntimeError):
    """A throw-away XMPP server failed to start, or did something it must not do."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def prosody_installed(prosody: str = "prosody") -> bool:
    """Whether Prosody can be run here (Debian package ``prosody``)."""
    return shutil.which(prosody) is not None


def ejabberd_installed(erl: str = "erl") -> bool:
    """Whether ejabberd can be run here (Debian package ``ejabberd``)."""
    return shutil.which(erl) is not None and _ejabberd_libs() is not None


# --- quoting values for the templates ----------------------------------------------------


def _lua(value: str | int | bool) -> str:
    """A Lua literal; strings use decimal byte escapes, so any text is safe."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    out = []
    for byte in value.encode("utf-8"):
        if 32 <= byte < 127 and byte not in (0x22, 0x5C):
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _yaml(value: str | int) -> str:
    """A YAML literal: a JSON string is a valid double-quoted YAML scalar."""
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _erlang_binary(value: str) -> str:
    """An Erlang binary expression made of byte values: no escaping questions at all."""
    data = value.encode("utf-8")
    return "<<" + ",".join(str(b) for b in data) + ">>"


def _template(name: str) -> string.Template:
    try:
        text = resources.files("ctibot.xmpp_config").joinpath(name).read_text(encoding="utf-8")
    except ModuleNotFoundError:
        # A bare source checkout on sys.path (not installed): xmpp_config/ sits at the top.
        text = (Path(__file__).resolve().parents[2] / "xmpp_config" / name).read_text("utf-8")
    return string.Template(text)


def _check_localpart(user: str) -> None:
    if not user or any(c.isspace() or c in "@/\"&'<>:" for c in user) or user != user.lower():
        raise ValueError(f"{user!r} is not a usable account name (lower case, no @ / : or spaces)")


def _child_dies_with_parent() -> None:  # pragma: no cover - runs in the child
    # If the Python process dies without stopping us, the kernel sends SIGTERM:
    # no orphaned servers after a killed test run. (Tied to the forking thread.)
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# --- what a process listens on, from /proc --------------------------------------------------


def _process_tree(pid: int) -> set[int]:
    """``pid`` and all its descendants (Erlang forks helpers; they count too)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in tree:
            tree.add(current)
            todo.extend(children.get(current, ()))
    return tree


def _decode_address(hexaddr: str) -> tuple[str, int]:
    host, port = hexaddr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)
    # /proc/net/tcp6 prints the address as four host-order 32-bit words.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words), int(port, 16)


def listening_sockets(pid: int) -> list[tuple[str, str, int]]:
    """Every (protocol, address, port) that ``pid`` or a descendant listens on.

    TCP sockets in LISTEN state and any bound UDP socket. Read from /proc, so it
    needs no ``ss`` and sees the processes' own sockets only.
    """
    inodes: set[str] = set()
    for proc in _process_tree(pid):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{proc}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{proc}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
    found: list[tuple[str, str, int]] = []
    for proto, listen_state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == listen_state and fields[9] in inodes:
                    address, port = _decode_address(fields[1])
                    found.append((proto.rstrip("6"), address, port))
    return sorted(set(found))


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address.startswith(_LOOPBACK_V6)


# --- the common part ---------------------------------------------------------------------------

# Strong references: a server nobody stopped must still be found at exit.
_RUNNING: set[_XmppServer] = set()


@atexit.register
def _kill_leftovers() -> None:
    # A program that forgot stop(): don't leave servers behind after exit.
    for server in list(_RUNNING):
        server._kill_now()


class _XmppServer:
    """Process handling shared by ProsodyServer and EjabberdServer."""

    kind: ClassVar[str] = "xmpp"
    host: str = LOOPBACK

    def __init__(
        self,
        domain: str,
        component: str | None,
        component_secret: str | None,
        accounts: Mapping[str, str] | None,
        data_dir: str | Path | None,
        c2s_port: int,
        component_port: int,
        log_level: str,
        startup_timeout: float,
        template: str | None,
        extra_ports: Sequence[str],
    ) -> None:
        self.domain = domain
        self.component = component or f"cti.{domain}"
        self.component_secret = component_secret or secrets.token_urlsafe(16)
        self.accounts: dict[str, str] = {}
        for user, password in (accounts or {}).items():
            _check_localpart(user)
            self.accounts[user] = password
        self._own_dir = data_dir is None
        self.data_dir = Path(
            data_dir if data_dir is not None else tempfile.mkdtemp(prefix=f"ctibot-{self.kind}-")
        ).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.c2s_port = c2s_port
        self.component_port = component_port
        self._started_once = False  # after a first start, restarts keep the ports
        # Another configuration in the *-local template format (the tests use it to run
        # the shipped production examples), and names of more loopback ports it opens:
        # each is chosen at start and substituted as $name.
        self.template = template
        self.extra_ports: dict[str, int] = dict.fromkeys(extra_ports, 0)
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.start_seconds: float | None = None  # how long the last start() took
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: Path = self.data_dir / f"{self.kind}.stdout"
        self._log_offsets: dict[Path, int] = {}

    # -- what subclasses provide
    def _prepare(self) -> None:
        """Write the configuration (and anything else) for the chosen ports."""
        raise NotImplementedError

    def _command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    async def _after_listening(self) -> None:
        """Anything to wait for once the ports accept connections."""

    def _ports(self) -> dict[str, int]:
        """Every port the server may listen on, by name (0: to be chosen at start)."""
        return {
            "c2s_port": self.c2s_port,
            "component_port": self.component_port,
            **self.extra_ports,
        }

    def _set_port(self, name: str, port: int) -> None:
        if name in self.extra_ports:
            self.extra_ports[name] = port
        else:
            setattr(self, name, port)

    def _render(self, default_template: str, **values: str | int) -> str:
        template = string.Template(self.template) if self.template else _template(default_template)
        return template.substitute(self.extra_ports, **values)

    def _fill_ports(self) -> None:
        taken = {port for port in self._ports().values() if port}
        for name, port in self._ports().items():
            if not port:
                port = free_port()
                while port in taken:
                    port = free_port()
                taken.add(port)
                self._set_port(name, port)

    @property
    def log_file(self) -> Path:
        raise NotImplementedError

    # -- public API
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def jid(self, user: str) -> str:
        """The bare JID of a local account."""
        return f"{user}@{self.domain}"

    def virtual_jid(self, local: str) -> str:
        """A JID on the component, such as ``alice@cti.example.test``."""
        return f"{local}@{self.component}"

    async def start(self) -> None:
        """Start on loopback; ports left at 0 are chosen now and kept for restarts."""
        if self.running:
            return
        requested = self._ports()
        for attempt in range(3):
            self._fill_ports()
            try:
                await self._start_once()
                self._started_once = True
                return
            except _PortTaken as taken:
                # Someone else got a port between free_port() and our bind: choose again,
                # unless the port was asked for (or is the one to keep across a restart).
                auto = [name for name, port in requested.items() if not port]
                if self._started_once or not auto or attempt == 2:
                    raise XmppServerError(
                        f"{self.kind}: port {taken} on {self.host} is taken by another process"
                    ) from None
                for name in auto:
                    self._set_port(name, 0)

    async def stop(self, timeout: float = 10.0, *, graceful: bool = True) -> None:
        """Ask the server to stop (SIGTERM), wait for it, kill it if it won't go.

        ``graceful=False`` kills at once: for a server whose data is thrown away next
        (ejabberd's orderly shutdown takes about a second, Prosody's 20 ms).
        """
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.to_thread(process.wait)

    async def restart(self) -> None:
        """Stop, then start again on the same ports with the same data (accounts survive)."""
        await self.stop()
        await self.start()

    def remove_data(self) -> None:
        """Delete the data directory if this object created it (never one it was given)."""
        if self._own_dir and not self.running:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            self.remove_data()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Data we created is deleted right after: no need for an orderly shutdown.
        await self.stop(graceful=not self._own_dir)
        self.remove_data()

    def log_tail(self, lines: int = 30) -> str:
        """The end of what the server logged since its last start, for error messages."""
        parts = []
        for path in (self.log_file, self._stdout):
            with contextlib.suppress(OSError), open(path, "rb") as file:
                # Only this run: an old "port in use" must not explain a new failure.
                file.seek(self._log_offsets.get(path, 0))
                text = file.read().decode(errors="replace").splitlines()[-lines:]
                if text:
                    parts.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(parts) or "(no output)"

    # -- internals
    async def _start_once(self) -> None:
        began = time.monotonic()
        self._prepare()
        argv, env = self._command()
        self._log_offsets = {
            path: path.stat().st_size if path.exists() else 0
            for path in (self.log_file, self._stdout)
        }
        with open(self._stdout, "ab") as out:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=env,
                # Own session: a Ctrl-C at the terminal reaches Python, which then stops us
                # cleanly, instead of reaching the server directly.
                start_new_session=True,
                preexec_fn=_child_dies_with_parent,
            )
        _RUNNING.add(self)
        try:
            await self._wait_for_ports(began + self.startup_timeout)
            await self._after_listening()
            self._check_loopback_only()
        except BaseException:
            await self.stop()
            raise
        self.start_seconds = time.monotonic() - began

    def _check_alive(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            return
        tail = self.log_tail()
        if "in use" in tail.lower() or "eaddrinuse" in tail.lower():
            # Name the port: Prosody says "port N … in use",
            # Erlang "{N,{127,0,0,1},tcp},eaddrinuse".
            ports = [str(p) for p in self._ports().values() if p]
            named = [
                p
                for p in ports
                if re.search(rf"(?<!\d){p}(?!\d).{{0,80}}?(eaddrinuse|in use)", tail, re.S | re.I)
            ]
            raise _PortTaken("/".join(named or ports))
        code = process.returncode if process else None
        raise XmppServerError(f"{self.kind} exited during start (code {code}):\n{tail}")

    async def _wait_for_ports(self, deadline: float) -> None:
        pending = [self.c2s_port, self.component_port]
        while pending:
            self._check_alive()
            if time.monotonic() > deadline:
                raise XmppServerError(
                    f"{self.kind} did not listen on {self.host}:{pending} within "
                    f"{self.startup_timeout} s:\n{self.log_tail()}"
                )
            if await _accepts(self.host, pending[0]):
                pending.pop(0)
            else:
                await asyncio.sleep(0.02)
            # A port that answers but belongs to someone else is caught by the check below.

    def _check_loopback_only(self) -> None:
        assert self._process is not None
        allowed = set(self._ports().values())
        sockets = listening_sockets(self._process.pid)
        bad = [s for s in sockets if not _is_loopback(s[1]) or s[2] not in allowed]
        if bad:
            raise XmppServerError(
                f"{self.kind} (pid {self._process.pid}) must listen on {self.host} ports "
                f"{sorted(allowed)} only; it listens on {sockets}\n{self.log_tail()}"
            )
        mine = {s[2] for s in sockets if s[0] == "tcp"}
        missing = {self.c2s_port, self.component_port} - mine
        if missing:
            # Something answered on our port, but not us (Prosody logs and goes on).
            raise _PortTaken("/".join(str(p) for p in sorted(missing)))

    def _kill_now(self) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()


class _PortTaken(Exception):
    pass


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


# --- Prosody -----------------------------------------------------------------------------------


def _prosody_encode(part: str) -> str:
    # util.datamanager's encode(): every byte but [A-Za-z0-9] becomes %xx (lower-case hex).
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02x}" for b in part.encode()
    )


class ProsodyServer(_XmppServer):
    """A Prosody 0.12 of our own: loopback, free ports, a VirtualHost, a component, mod_groups.

    ``async with ProsodyServer("example.test", accounts={"alice": "alice-pw"}) as server:``
    then clients log in on ``server.host:server.c2s_port`` and the component
    ``server.component`` connects on ``server.component_port`` with
    ``server.component_secret``. ``server.groups_file`` is Prosody's mod_groups file:
    ``groups`` is its text (the presence plugin's ``groups_text`` writes it).
    """

    kind = "prosody"

    def __init__(
        self,
        domain: str = "example.test",
        component: str | None = None,
        component_secret: str | None = None,
        accounts: Mapping[str, str] | None = None,
        *,
        data_dir: str | Path | None = None,
        c2s_port: int = 0,
        component_port: int = 0,
        groups: str | None = None,
        extra_modules: Sequence[str] = (),
        tls: bool = False,
        log_level: str = "info",
        startup_timeout: float = 10.0,
        prosody: str = "prosody",
        prosodyctl: str = "prosodyctl",
        template: str | None = None,
        extra_ports: Sequence[str] = (),
    ) -> None:
        super().__init__(
            domain,
            component,
            component_secret,
            accounts,
            data_dir,
            c2s_port,
            component_port,
            log_level,
            startup_timeout,
            template,
            extra_ports,
        )
        self.prosody = prosody
        self.prosodyctl = prosodyctl
        self.extra_modules = tuple(extra_modules)
        # STARTTLS offered (never required) with a self-signed certificate: for the
        # demo, whose clients (Dino, Conversations) won't log in without TLS.
        self.tls = tls
        self.config_file = self.data_dir / "prosody.cfg.lua"
        self.pidfile = self.data_dir / "prosody.pid"
        self.data_path = self.data_dir / "data"
        self.groups_file = self.data_dir / "groups.txt"
        self.admin_socket = self.data_dir / "prosody.sock"
        if groups is not None:
            self.write_groups(groups)
        elif not self.groups_file.exists():
            # mod_groups refuses to load without the file.
            self.groups_file.write_text("")
        for user, password in self.accounts.items():
            self._write_account(user, password)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "prosody.log"

    def _prepare(self) -> None:
        if shutil.which(self.prosody) is None:
            raise XmppServerError(
                f"{self.prosody!r} not found: install Debian's prosody (scripts/setup --test)"
            )
        (self.data_dir / "certs").mkdir(exist_ok=True)
        self.data_path.mkdir(exist_ok=True)
        modules = list(self.extra_modules)
        if self.tls:
            self._make_certificate()
            modules.append("tls")
        admin_socket = str(self.admin_socket)
        if len(admin_socket.encode()) > _SUN_PATH_MAX:
            raise XmppServerError(f"data_dir too long for a Unix socket: {admin_socket}")
        text = self._render(
            "prosody-local.cfg.lua",
            run_as_root=_lua(os.geteuid() == 0),
            pidfile=_lua(str(self.pidfile)),
            data_path=_lua(str(self.data_path)),
            certificates=_lua(str(self.data_dir / "certs")),
            admin_socket=_lua(admin_socket),
            log_level=_lua(self.log_level),
            log_file=_lua(str(self.log_file)),
            c2s_port=_lua(self.c2s_port),
            component_port=_lua(self.component_port),
            extra_modules="".join(f"{_lua(m)}; " for m in modules),
            groups_file=_lua(str(self.groups_file)),
            domain=_lua(self.domain),
            component=_lua(self.component),
            component_secret=_lua(self.component_secret),
        )
        self.config_file.write_text(text, encoding="utf-8")

    def _command(self) -> tuple[list[str], dict[str, str]]:
        return [self.prosody, "--config", str(self.config_file), "-F"], dict(os.environ)

    @property
    def certificate(self) -> Path:
        """The self-signed certificate offered with ``tls=True`` (Prosody finds it by name)."""
        return self.data_dir / "certs" / f"{self.domain}.crt"

    def _make_certificate(self) -> None:
        key = self.certificate.with_suffix(".key")
        if self.certificate.exists() and key.exists():
            return
        if shutil.which("openssl") is None:
            raise XmppServerError("tls=True needs the openssl command")
        names = f"subjectAltName=DNS:{self.domain},DNS:{self.component}"
        argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"]
        argv += ["-subj", f"/CN={self.domain}", "-addext", names]
        argv += ["-keyout", str(key), "-out", str(self.certificate)]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise XmppServerError(f"openssl could not make a certificate: {result.stderr}")
        key.chmod(0o600)

    def _write_account(self, user: str, password: str) -> None:
        # What `prosodyctl register` writes for internal_plain (measured: 30 ms a call
        # for prosodyctl, microseconds for this). Prosody reads it at each login.
        accounts = self.data_path / _prosody_encode(self.domain) / "accounts"
        accounts.mkdir(parents=True, exist_ok=True, mode=0o750)
        target = accounts / f"{_prosody_encode(user)}.dat"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(f'return {{\n\t["password"] = {_lua(password)};\n}};\n')
        tmp.chmod(0o640)
        os.replace(tmp, target)

    async def add_account(self, user: str, password: str) -> None:
        """Create (or reset) an account; works before start and while running."""
        _check_localpart(user)
        self._write_account(user, password)
        self.accounts[user] = password

    def write_groups(self, text: str) -> None:
        """Replace the groups file (takes effect after reload_groups() or restart()).

        Replaced atomically, so that Prosody never reads half of it.
        """
        tmp = self.groups_file.with_name(f".{self.groups_file.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.groups_file)

    async def reload_groups(self) -> None:
        """Make Prosody re-read ``groups_file`` (users see it at their next login)."""
        await self.shell(f"module:reload('groups', {_lua(self.domain)})", expect="1 host")

    async def shell(self, command: str, expect: str | None = None) -> str:
        """Run a ``prosodyctl shell`` command over the admin socket; return its output."""
        if not self.running:
            raise XmppServerError("prosody is not running")
        process = await asyncio.create_subprocess_exec(
            self.prosodyctl,
            "--config",
            str(self.config_file),
            "shell",
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 20)
        text = out.decode(errors="replace")
        if process.returncode != 0 or (expect is not None and expect not in text):
            raise XmppServerError(f"prosodyctl shell {command!r} failed: {text.strip()}")
        return text


# --- ejabberd ----------------------------------------------------------------------------------


def _ejabberd_libs() -> str | None:
    """Where Debian keeps ejabberd's Erlang applications (ejabberdctl's ERL_LIBS)."""
    for pattern in ("/usr/lib/*/ejabberd-*/ebin/ejabberd.app", "/usr/lib/erlang/lib/ejabberd-*/"):
        for hit in sorted(glob.glob(pattern)):
            path = Path(hit)
            return str(path.parent.parent.parent if path.name == "ejabberd.app" else path.parent)
    return None


class EjabberdServer(_XmppServer):
    """An ejabberd 23.01 of our own, the same interface as ProsodyServer.

    Started as a foreground Erlang node (``erl -s ejabberd``) with our config,
    spool and log passed explicitly: ``ejabberdctl`` is not used, because it
    re-runs itself as the ``ejabberd`` user and, when that user cannot read the
    config it was given, silently starts the Debian default that listens on all
    interfaces. There is no epmd: the node's distribution port (used by
    ``ctl()``, i.e. ejabberd_ctl, to register accounts) is bound to 127.0.0.1
    on a port chosen here. After start, the process tree must listen on
    loopback and on our three ports only, or the server is stopped and start() raises.
    """

    kind = "ejabberd"

    def __init__(
        self,
        domain: str = "example.test",
        component: str | None = None,
        component_secret: str | None = None,
        accounts: Mapping[str, str] | None = None,
        *,
        data_dir: str | Path | None = None,
        c2s_port: int = 0,
        component_port: int = 0,
        dist_port: int = 0,
        log_level: str = "info",
        startup_timeout: float = 30.0,
        erl: str = "erl",
        template: str | None = None,
        extra_ports: Sequence[str] = (),
    ) -> None:
        super().__init__(
            domain,
            component,
            component_secret,
            accounts,
            data_dir,
            c2s_port,
            component_port,
            log_level,
            startup_timeout,
            template,
            extra_ports,
        )
        self.erl = erl
        self.dist_port = dist_port
        self.node = f"ctibot-{secrets.token_hex(4)}@localhost"
        self.config_file = self.data_dir / "ejabberd.yml"
        self.spool_dir = self.data_dir / "spool"
        self.groups_file = None  # no mod_groups: see add_roster_item()
        self._ready_file = self.data_dir / "ready"
        self._cookie = self.data_dir / ".erlang.cookie"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "ejabberd.log"

    def _ports(self) -> dict[str, int]:
        return {**super()._ports(), "dist_port": self.dist_port}

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EJABBERD_", "ERL_"))}
        env.update(
            HOME=str(self.data_dir),  # the Erlang cookie lives here, shared with ctl()
            EJABBERD_CONFIG_PATH=str(self.config_file),
            EJABBERD_LOG_PATH=str(self.log_file),
            EJABBERD_PID_PATH=str(self.data_dir / "ejabberd.pid"),
            CONTRIB_MODULES_PATH=str(self.data_dir / "modules"),
            ERL_CRASH_DUMP=str(self.data_dir / "erl_crash.dump"),
            ERL_CRASH_DUMP_BYTES="0",
        )
        libs = _ejabberd_libs()
        if libs:
            env["ERL_LIBS"] = libs
        return env

    def _prepare(self) -> None:
        if shutil.which(self.erl) is None or _ejabberd_libs() is None:
            raise XmppServerError(
                "ejabberd not found: install Debian's ejabberd (scripts/setup --test)"
            )
        self.spool_dir.mkdir(exist_ok=True)
        if not self._cookie.exists():
            self._cookie.write_text(secrets.token_hex(16))
            self._cookie.chmod(0o400)
        self._ready_file.unlink(missing_ok=True)
        text = self._render(
            "ejabberd-local.yml",
            log_level=self.log_level,
            domain=_yaml(self.domain),
            c2s_port=self.c2s_port,
            component_port=self.component_port,
            component=_yaml(self.component),
            component_secret=_yaml(self.component_secret),
        )
        self.config_file.write_text(text, encoding="utf-8")

    def _dist_args(self) -> list[str]:
        # No epmd (it would listen on every interface, shared by all nodes): the
        # node listens on dist_port itself, on loopback; ctl clients dial that port.
        return ["-start_epmd", "false", "-erl_epmd_port", str(self.dist_port)]

    def _command(self) -> tuple[list[str], dict[str, str]]:
        # Accounts are registered inside the node once ejabberd has started (no extra
        # Erlang VM per account), then the ready file tells start() it's done.
        register = ", ".join(
            f"R({_erlang_binary(user)}, {_erlang_binary(password)})"
            for user, password in self.accounts.items()
        )
        boot = (
            "R = fun(U, P) -> case ejabberd_auth:try_register(U, "
            f"{_erlang_binary(self.domain)}, P) of ok -> ok; {{error, exists}} -> ok; "
            'E -> io:format("ctibot: register ~s failed: ~p~n", [U, E]), halt(3) end end, '
            + (register + ", " if register else "")
            + f'ok = file:write_file({_erlang_binary(str(self._ready_file))}, <<"ok">>).'
        )
        spool = json.dumps(str(self.spool_dir))  # an Erlang string literal for ASCII paths
        argv = [
            self.erl,
            "-sname",
            self.node,
            "-noinput",
            *self._dist_args(),
            "-kernel",
            "inet_dist_use_interface",
            "{127,0,0,1}",
            "+K",
            "true",
            "+P",
            "250000",
            "-mnesia",
            "dir",
            spool,
            # The log goes to log_file; the console (our .stdout file) gets only
            # critical lines and Erlang's own crash output.
            "-ejabberd",
            "quiet",
            "true",
            "-s",
            "ejabberd",
            "-eval",
            boot,
        ]
        return argv, self._env()

    async def _after_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not self._ready_file.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise XmppServerError(f"ejabberd never finished starting:\n{self.log_tail()}")
            await asyncio.sleep(0.02)

    async def ctl(self, *args: str, timeout: float = 30.0) -> str:
        """Run an ejabberdctl command (``register``, ``srg_create``…) against this node."""
        if not self.running:
            raise XmppServerError("ejabberd is not running")
        argv = [
            self.erl,
            "-sname",
            f"ctl-{secrets.token_hex(4)}@localhost",
            "-hidden",
            "-noinput",
            *self._dist_args(),
            "-dist_listen",
            "false",
            "-s",
            "ejabberd_ctl",
            "-extra",
            self.node,
            *args,
        ]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._env(),
            cwd=self.data_dir,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
        text = out.decode(errors="replace")
        if process.returncode != 0:
            raise XmppServerError(f"ejabberdctl {' '.join(args[:1])} failed: {text.strip()}")
        return text

    async def add_roster_item(
        self, user: str, jid: str, name: str = "", group: str = "CTI", subscription: str = "both"
    ) -> None:
        """Put ``jid`` into ``user``'s roster (``ejabberdctl add_rosteritem``), e.g. a virtual
        JID of the component with subscription both: ejabberd's way to do what Prosody's
        mod_groups does. The user's client gets a roster push if online."""
        local, _, host = jid.rpartition("@")
        await self.ctl("add_rosteritem", user, self.domain, local, host, name, group, subscription)

    async def add_account(self, user: str, password: str) -> None:
        """Create an account; works before start (registered at boot) and while running."""
        _check_localpart(user)
        if self.running:
            await self.ctl("register", user, self.domain, password)
        self.accounts[user] = password
