"""Shared web fixtures: ctibot + the demo PBX + the HTTP shell, slapd, logged-in clients, Chromium.

Use them from any test module (tests/conftest.py imports them)::

    async def test_x(web_office, web_clients):
        resp = await web_clients["supervisor"].get("/queues")

``web_office`` is a running ctibot on the demo PBX with the panel on 127.0.0.1 (port 0),
four people of the demo office (``PROFILES``: one per profile, their logins and
passwords) and local + LDAP login; ``web_clients`` holds an ``httpx.AsyncClient``
per profile already logged in (``"anonymous"``: not logged in). ``browser`` is a
Playwright Chromium (Debian's), ``slapd`` a throw-away OpenLDAP on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from ctibot.app import CtiApp
from ctibot.config import (
    AuthConfig,
    Config,
    LdapConfig,
    PluginsConfig,
    UserConfig,
    WebConfig,
)
from ctibot.demo.config import office_config
from ctibot.demo.server import DemoPbx
from ctibot.http.auth import UsersFile

SCALE = 0.05
SECRET_KEY = "test-secret-key-0123456789"
LDAP_SUFFIX = "dc=ctibot,dc=test"
LDAP_ADMIN = f"cn=admin,{LDAP_SUFFIX}"
LDAP_ADMIN_PW = "admin-secret"
LDAP_SERVICE = f"cn=search,{LDAP_SUFFIX}"
LDAP_SERVICE_PW = "search-secret"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Login:
    """A person of the test office: login, password, where the password lives, profile."""

    name: str
    password: str
    source: str  # "local" (users file) or "ldap"
    profile: str
    fullname: str
    extension: str


#: One person per profile (the keys are what ``web_clients`` is indexed by).
PROFILES: dict[str, Login] = {
    "user": Login("bob", "bob-local-pw", "local", "user", "Bob Brown", "202"),
    "supervisor": Login("alice", "alice-ldap-pw", "ldap", "supervisor", "Alice Anders", "201"),
    "admin": Login("carol", "carol-local-pw", "local", "admin", "Carol Clark", "203"),
}
#: In LDAP only, not a ctibot user: a right password must still not open the panel.
STRANGER = Login("mallory", "mallory-ldap-pw", "ldap", "", "Mallory Malle", "")
#: LDAP users (uid -> password); ``dave`` is a ctibot user in LDAP too.
LDAP_USERS = {
    "alice": "alice-ldap-pw",
    "dave": "dave-ldap-pw",
    "mallory": "mallory-ldap-pw",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- slapd -------------------------------------------------------------------------------------


@dataclass
class Slapd:
    """A running throw-away OpenLDAP: its URL and the DNs of the test directory."""

    url: str
    suffix: str
    people: str
    process: subprocess.Popen[bytes]
    folder: Path
    ca: Path | None = None  # the CA of its certificate (a TLS slapd)

    def bind_dn_config(self, **changes: Any) -> LdapConfig:
        """``[auth.ldap]`` with a DN template (bind as ``uid={login},ou=people,…``)."""
        return LdapConfig(self.url, bind_dn=f"uid={{login}},{self.people}", timeout=3, **changes)

    def search_config(self, **changes: Any) -> LdapConfig:
        """``[auth.ldap]`` with search-then-bind through the service account."""
        settings: dict[str, Any] = dict(
            search_base=self.people,
            search_filter="(&(objectClass=inetOrgPerson)(uid={login}))",
            service_dn=LDAP_SERVICE,
            service_password=LDAP_SERVICE_PW,
            timeout=3,
        )
        settings.update(changes)
        return LdapConfig(self.url, **settings)


def _slappasswd(password: str) -> str:
    return subprocess.run(
        ["slappasswd", "-s", password], check=True, capture_output=True, text=True
    ).stdout.strip()


def make_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1: (ca, cert, key) PEM files."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "server.key",
                                                       "server.csr", "server.pem"))
    ext = folder / "san.cnf"
    ext.write_text("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=ctibot test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    key.chmod(0o644)  # slapd runs as this user: it only needs to read it
    return ca, cert, key


def start_slapd(folder: Path, *, tls: bool = False) -> Slapd:
    """Write slapd.conf and the test users, load them offline, start slapd on loopback.

    ``tls``: with a certificate for 127.0.0.1 (StartTLS); ``Slapd.ca`` is its CA file.
    """
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    if not os.path.exists(slapd):
        pytest.fail("slapd is not installed: run scripts/setup --test (it installs slapd)")
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "db"
    db.mkdir(exist_ok=True)
    people = f"ou=people,{LDAP_SUFFIX}"
    conf = folder / "slapd.conf"
    tls_lines: list[str] = []
    ca: Path | None = None
    if tls:
        ca, cert, key = make_tls(folder)
        tls_lines = [f"TLSCACertificateFile {ca}", f"TLSCertificateFile {cert}",
                     f"TLSCertificateKeyFile {key}"]
    conf.write_text(
        "\n".join(
            [
                *tls_lines,
                "include /etc/ldap/schema/core.schema",
                "include /etc/ldap/schema/cosine.schema",
                "include /etc/ldap/schema/inetorgperson.schema",
                "include /etc/ldap/schema/nis.schema",
                f"pidfile {folder}/slapd.pid",
                "modulepath /usr/lib/ldap",
                "moduleload back_mdb",
                "database mdb",
                f"suffix {LDAP_SUFFIX}",
                f"rootdn {LDAP_ADMIN}",
                f"rootpw {_slappasswd(LDAP_ADMIN_PW)}",
                f"directory {db}",
                "maxsize 10485760",
                "access to attrs=userPassword by self read by anonymous auth by * none",
                "access to * by * read",
                "",
            ]
        )
    )
    entries = [
        f"dn: {LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: ctibot\n"
        "dc: ctibot\n",
        f"dn: {people}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {LDAP_SERVICE}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\n"
        f"cn: search\nuserPassword: {_slappasswd(LDAP_SERVICE_PW)}\n",
    ]
    for uid, password in LDAP_USERS.items():
        entries.append(
            f"dn: uid={uid},{people}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {uid.title()}\nsn: {uid.title()}\nuserPassword: {_slappasswd(password)}\n"
        )
    ldif = folder / "data.ldif"
    ldif.write_text("\n".join(entries))
    subprocess.run(["slapadd", "-f", str(conf), "-l", str(ldif)], check=True,
                   capture_output=True)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen(
        [slapd, "-h", f"{url}/", "-f", str(conf), "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("slapd did not start")
        time.sleep(0.02)
    return Slapd(url, LDAP_SUFFIX, people, process, folder, ca)


def stop_slapd(server: Slapd) -> None:
    server.process.terminate()
    try:
        server.process.wait(5)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A real OpenLDAP slapd on 127.0.0.1 (one per test session) with ``LDAP_USERS``."""
    server = start_slapd(tmp_path_factory.mktemp("slapd"))
    yield server
    stop_slapd(server)


@pytest.fixture(scope="session")
def slapd_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """The same directory with a certificate for 127.0.0.1 signed by ``slapd_tls.ca``."""
    server = start_slapd(tmp_path_factory.mktemp("slapd-tls"), tls=True)
    yield server
    stop_slapd(server)


# -- ctibot with the panel ------------------------------------------------------------------------


@dataclass
class WebOffice:
    """A running ctibot (demo PBX, panel on a free port) and its people."""

    app: CtiApp
    pbx: DemoPbx
    config: Config
    users_file: Path
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.app.http.url

    @property
    def web(self) -> Any:
        return self.app.web

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A fresh (not logged-in) client of the panel; closed by the fixture."""
        kwargs.setdefault("timeout", 10)
        client = httpx.AsyncClient(base_url=self.url, trust_env=False, **kwargs)
        self.clients.append(client)
        return client

    async def login(
        self, client: httpx.AsyncClient, name: str, password: str, *, next: str = "/"
    ) -> httpx.Response:
        """Log in through the form (GET /login for the CSRF token, then POST)."""
        page = await client.get("/login")
        token = csrf_of(page.text)
        return await client.post(
            "/login", data={"name": name, "password": password, "csrf_token": token, "next": next}
        )

    async def logged_in(self, profile: str) -> httpx.AsyncClient:
        """A new client logged in as the person of ``profile``."""
        who = PROFILES[profile]
        client = self.client()
        resp = await self.login(client, who.name, who.password)
        assert resp.status_code == 302, resp.text
        return client


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its meta tag)."""
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found, "no csrf-token meta in the page"
    return found.group(1)


def web_config(pbx: DemoPbx, folder: Path, slapd: Slapd | None, **changes: Any) -> Config:
    """The test office's configuration: the panel on port 0, local users + LDAP."""
    users = (
        *(UserConfig(p.name, p.fullname, (p.extension,), profile=p.profile,
                     mobile=f"+39333000{p.extension}", email=f"{p.name}@example.com")
          for p in PROFILES.values()),
        UserConfig("dave", "Dave Davis", ("204",)),
    )
    users_file = folder / "users"
    config = office_config(
        pbx.office,
        port=pbx.port,
        path=folder / "ctibot.toml",
        users=users,
        pbx=dict(
            reconnect_min=0.05,
            reconnect_max=0.3,
            ping_interval=0.3,
            ping_timeout=0.5,
            astdb_poll=0.5,
        ),
        plugins=PluginsConfig(),
        web=WebConfig("127.0.0.1:0", SECRET_KEY, ""),
        auth=AuthConfig(str(users_file), slapd.bind_dn_config() if slapd is not None else None),
    )
    return replace(config, **changes) if changes else config


def write_users_file(path: Path) -> None:
    users = UsersFile(path)
    for who in PROFILES.values():
        if who.source == "local":
            users.set_password(who.name, who.password)


@contextlib.asynccontextmanager
async def running_office(
    folder: Path, slapd: Slapd | None, **changes: Any
) -> AsyncIterator[WebOffice]:
    """ctibot + demo PBX + panel, started and stopped around the block."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        config = web_config(pbx, folder, slapd, **changes)
        write_users_file(Path(config.auth.users_file))
        app = CtiApp(config)
        await app.start()
        office = WebOffice(app, pbx, config, Path(config.auth.users_file))
        try:
            await app.ami.wait_ready(5)
            yield office
        finally:
            for client in office.clients:
                await client.aclose()
            await app.stop()


@pytest.fixture
async def web_office(tmp_path: Path, slapd: Slapd) -> AsyncIterator[WebOffice]:
    """A running ctibot on the demo PBX with the panel (every bundled plugin enabled)."""
    async with running_office(tmp_path, slapd) as office:
        yield office


@pytest.fixture
async def web_clients(web_office: WebOffice) -> dict[str, httpx.AsyncClient]:
    """``{"user"|"supervisor"|"admin": logged-in client, "anonymous": not logged in}``."""
    clients = {profile: await web_office.logged_in(profile) for profile in PROFILES}
    clients["anonymous"] = web_office.client()
    return clients


# -- Playwright -----------------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (never ``playwright install``)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: run scripts/setup --test (it installs chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def no_outside_requests(page: Any) -> list[str]:
    """Abort (and list) every request a page makes off 127.0.0.1: catches CDN use."""
    outside: list[str] = []

    async def check(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await page.route("**/*", check)
    return outside


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    """Bounded wait on a fact."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


# -- a small websocket client (the tests' stand-in for panel.js) -----------------------------------


class WsRefused(Exception):
    """The server answered the websocket handshake with an HTTP status (``.status``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"websocket refused: HTTP {status}")
        self.status = status


class WsClient:
    """RFC 6455 over asyncio streams, text frames only: enough to test the hub."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed: int | None = None  # the close code the server sent

    @classmethod
    async def connect(
        cls, base_url: str, cookies: httpx.Cookies | dict[str, str] | None = None,
        *, path: str = "/ws", origin: str | None = None,
    ) -> WsClient:
        import base64
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        jar = dict(cookies.items()) if cookies is not None else {}
        headers = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if jar:
            headers.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        if origin:
            headers.append(f"Origin: {origin}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        status = int(status_line.split()[1])
        while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b""):
            pass
        if status != 101:
            writer.close()
            raise WsRefused(status)
        return cls(reader, writer)

    async def send_json(self, data: Any) -> None:
        import json
        import struct

        payload = json.dumps(data).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def recv_json(self, timeout: float = 5.0) -> Any:
        """The next text frame, parsed; ConnectionError when the server closed."""
        import json
        import struct

        async with asyncio.timeout(timeout):
            while True:
                first, second = await self.reader.readexactly(2)
                opcode, n = first & 0x0F, second & 0x7F
                if n == 126:
                    (n,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif n == 127:
                    (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(n)
                if opcode == 0x8:
                    self.closed = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    raise ConnectionError(f"closed by the server: {self.closed}")
                if opcode == 0x1:
                    return json.loads(payload)
                if opcode == 0x9:  # ping: answer pong
                    mask = os.urandom(4)
                    self.writer.write(bytes([0x8A, 0x80 | n]) + mask
                                      + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def messages(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The next frame as a list of ``{"topic", "data"}`` (the hub batches when it coalesces)."""
        frame = await self.recv_json(timeout)
        return frame if isinstance(frame, list) else [frame]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            mask = os.urandom(4)
            payload = (1000).to_bytes(2, "big")
            self.writer.write(bytes([0x88, 0x82]) + mask
                              + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            await self.writer.drain()
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def screenshots_dir() -> Path:
    """Where browser tests save their screenshots: ``$CTIBOT_SCREENSHOTS`` (set it to
    ``docs/screenshots`` to refresh the README's pictures), else a temporary folder, so a
    test run never rewrites files of the project."""
    chosen = os.environ.get("CTIBOT_SCREENSHOTS")
    if chosen:
        return Path(chosen)
    import tempfile

    return Path(tempfile.gettempdir()) / "ctibot-screenshots"
