"""Stand-ins for Yealink and Snom desk phones' web servers: told to dial, they dial on the demo PBX.

One small HTTP/1.1 server on loopback serves every phone of a demo office, each under its
extension: ``http://127.0.0.1:<port>/201/servlet?key=number=202`` (Yealink's Action URI,
HTTP Basic, also ``/cgi-bin/ConfigManApp.com``) or ``…/202/command.htm?number=201`` (Snom,
HTTP Digest). The brand is the phone's SIP User-Agent, as the demo PBX reports it. A
right login makes the demo PBX place the call from that phone as if dialled off-hook
(:meth:`DemoPbx.press`); a wrong one is refused (401) and nothing is dialled.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"
DIGITS = re.compile(r"[0-9*#]{1,32}")
YEALINK_REALM = "Gigabit Color IP Phone"
SNOM_REALM = "snom"
MAX_HEAD = 16 * 1024


@dataclass
class PhoneLogin:
    """A phone's web login and behaviour; ``trusted=False``: ctibot's address is not on its
    trusted list (the phone answers 403)."""

    username: str = "admin"
    password: str = "admin"
    trusted: bool = True


@dataclass(frozen=True)
class PhoneRequest:
    """One request a phone received, and what it answered."""

    extension: str
    target: str
    authorized: bool
    status: int


@dataclass
class DeskPhones:
    """The office's Yealink and Snom phones' web servers (others answer 404)."""

    pbx: Any  # ctibot.demo.server.DemoPbx
    username: str = "admin"
    password: str = "admin"
    logins: dict[str, PhoneLogin] = field(default_factory=dict)
    host: str = LOOPBACK
    port: int = 0
    requests: list[PhoneRequest] = field(default_factory=list)
    dialled: list[tuple[str, str]] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _nonces: set[str] = field(default_factory=set)

    # -- what the demo and tests use -----------------------------------------------------

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def url_of(self, extension: str) -> str:
        """Where ``extension``'s phone answers (ctibot's ``[plugins.calls] phone_urls``)."""
        return f"http://{self.host}:{self.port}/{extension}"

    def urls(self) -> dict[str, str]:
        """Every person's phone that is a Yealink or a Snom: extension -> its address."""
        return {ext: self.url_of(ext) for ext in self.pbx.office.people if self.brand(ext)}

    def login(self, extension: str) -> PhoneLogin:
        found = self.logins.get(extension)
        return found if found is not None else PhoneLogin(self.username, self.password)

    def brand(self, extension: str) -> str | None:
        """``yealink`` / ``snom`` as the phone's User-Agent says (the demo's pick when unset)."""
        from ctibot.demo.actions_state import DEMO_USER_AGENTS

        user = self.pbx.office.users.get(extension)
        if user is None:
            return None
        agent = user.phone.user_agent
        if agent is None:
            digits = "".join(c for c in extension if c.isdigit()) or "0"
            agent = DEMO_USER_AGENTS[int(digits) % len(DEMO_USER_AGENTS)]
        word = agent.split(None, 1)[0].casefold() if agent.strip() else ""
        return word if word in ("yealink", "snom") else None

    # -- HTTP ------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEAD:
                    break
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                if len(parts) != 3:
                    await self._answer(writer, 400, "bad request")
                    break
                status, extra, body = self._handle(parts[0], parts[1], headers)
                await self._answer(writer, status, body, extra)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(
        self, writer: asyncio.StreamWriter, status: int, body: str, extra: tuple[str, ...] = ()
    ) -> None:
        reasons = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            405: "Method Not Allowed",
        }
        data = body.encode()
        head = [
            f"HTTP/1.1 {status} {reasons.get(status, 'Error')}",
            "Content-Type: text/html",
            f"Content-Length: {len(data)}",
            *extra,
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        await writer.drain()

    def _handle(
        self, method: str, target: str, headers: dict[str, str]
    ) -> tuple[int, tuple[str, ...], str]:
        parts = urlsplit(target)
        extension, _, path = parts.path.lstrip("/").partition("/")
        brand = self.brand(extension)
        query = parse_qs(parts.query, keep_blank_values=True)
        if brand == "yealink" and "/" + path in ("/servlet", "/cgi-bin/ConfigManApp.com"):
            key = (query.get("key") or [""])[0]
            number = key[len("number=") :] if key.lower().startswith("number=") else None
        elif brand == "snom" and path == "command.htm":
            number = (query.get("number") or [None])[0]
        else:
            self.requests.append(PhoneRequest(extension, target, False, 404))
            return 404, (), "<html><body>Not Found</body></html>"
        if method != "GET":
            self.requests.append(PhoneRequest(extension, target, False, 405))
            return 405, (), "method not allowed"
        login = self.login(extension)
        if brand == "yealink":
            authorized = self._basic_ok(headers.get("authorization", ""), login)
            challenge = f'WWW-Authenticate: Basic realm="{YEALINK_REALM}"'
        else:
            authorized = self._digest_ok(headers.get("authorization", ""), method, target, login)
            nonce = secrets.token_hex(16)
            if len(self._nonces) > 1000:
                self._nonces.clear()
            self._nonces.add(nonce)
            challenge = (
                f'WWW-Authenticate: Digest realm="{SNOM_REALM}", nonce="{nonce}", '
                'qop="auth", algorithm=MD5'
            )
        if not authorized:
            self.requests.append(PhoneRequest(extension, target, False, 401))
            return 401, (challenge,), "<html><body>401 Unauthorized</body></html>"
        if not login.trusted:
            self.requests.append(PhoneRequest(extension, target, True, 403))
            return 403, (), "<html><body>Forbidden</body></html>"
        if number is None or not DIGITS.fullmatch(number):
            self.requests.append(PhoneRequest(extension, target, True, 400))
            return 400, (), "<html><body>bad number</body></html>"
        self.requests.append(PhoneRequest(extension, target, True, 200))
        self.dialled.append((extension, number))
        self.pbx.press(extension, number)  # the phone goes off-hook and dials
        if brand == "yealink":
            return 200, (), "<html><body>OK</body></html>"
        return 200, (), f"<html><body><h1>Dialing {number}</h1></body></html>"

    @staticmethod
    def _basic_ok(header: str, login: PhoneLogin) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            return False
        wanted = f"{login.username}:{login.password}".encode()
        return hmac.compare_digest(given, wanted)

    def _digest_ok(self, header: str, method: str, target: str, login: PhoneLogin) -> bool:
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "digest":
            return False
        fields = dict(
            (k.strip().lower(), v.strip().strip('"'))
            for k, _, v in (p.partition("=") for p in re.split(r",\s*(?=\w+=)", rest))
        )
        nonce = fields.get("nonce", "")
        if nonce not in self._nonces or fields.get("uri") != target:
            return False
        if fields.get("username") != login.username or fields.get("realm") != SNOM_REALM:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()  # HTTP Digest is MD5

        ha1 = md5(f"{login.username}:{SNOM_REALM}:{login.password}")
        ha2 = md5(f"{method}:{target}")
        if fields.get("qop") == "auth":
            expected = md5(
                f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expected = md5(f"{ha1}:{nonce}:{ha2}")
        if not hmac.compare_digest(expected, fields.get("response", "")):
            return False
        self._nonces.discard(nonce)  # one order per nonce, as a phone would
        return True
