"""A small SMTP client on asyncio streams (STARTTLS / TLS, AUTH PLAIN / LOGIN) and the messages.

ctibot keeps to one event loop with no I/O threads, so mail goes out over
``asyncio.open_connection`` rather than smtplib. Header values are single lines
of printable text: a caller ID with CR/LF cannot add a header.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

#: An address we put on an envelope: no spaces, brackets, quotes or control characters.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


class MailError(Exception):
    """The mail was not sent: the server could not be reached, refused, or said no."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where mail goes out: the server, its security, the account and the sender."""

    host: str
    port: int
    security: str
    username: str
    password: str
    sender: str
    ca_file: str = ""
    timeout: float = 10.0

    def __repr__(self) -> str:  # never the password, even in a traceback's locals
        return (
            f"MailSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, sender={self.sender!r})"
        )


def one_line(text: str, limit: int = 200) -> str:
    """Text fit for a header: control characters (CR, LF…) become spaces, trimmed, clipped."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_message(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from ctibot's sender to one address."""
    if not ADDRESS.fullmatch(to) or not ADDRESS.fullmatch(settings.sender):
        raise MailError("not an address ctibot sends to")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = one_line(subject)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, cte="quoted-printable")
    return msg


class _Session:
    """One SMTP conversation."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.features: dict[str, str] = {}

    async def reply(self) -> tuple[int, list[str]]:
        lines: list[str] = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise MailError("the server closed the connection")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 3 or not line[:3].isdigit():
                raise MailError("the server does not speak SMTP")
            lines.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), lines
            if len(lines) > 100:
                raise MailError("the server's reply is too long")

    async def command(self, line: str, *expected: int, shown: str | None = None) -> list[str]:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        code, text = await self.reply()
        if code not in expected:
            what = shown or line.split(" ", 1)[0]
            raise MailError(f"{what}: {code} {one_line(' '.join(text), 120)}")
        return text

    async def ehlo(self) -> None:
        lines = await self.command("EHLO ctibot.localdomain", 250, shown="EHLO")
        self.features = {}
        for line in lines[1:]:
            word, _, rest = line.partition(" ")
            self.features[word.upper()] = rest.upper()


async def send_mail(settings: MailSettings, msg: EmailMessage) -> None:
    """Deliver one message to the configured server, or raise MailError (never the password)."""
    try:
        async with asyncio.timeout(settings.timeout):
            await _deliver(settings, msg)
    except TimeoutError:
        raise MailError(f"no answer from {settings.host}:{settings.port} in time") from None
    except ssl.SSLError as exc:
        raise MailError(f"TLS with {settings.host}:{settings.port} failed: {exc.reason}") from None
    except OSError as exc:
        raise MailError(
            f"cannot reach {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None


def _tls_context(settings: MailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def _deliver(settings: MailSettings, msg: EmailMessage) -> None:
    tls = _tls_context(settings) if settings.security != "none" else None
    reader, writer = await asyncio.open_connection(
        settings.host,
        settings.port,
        ssl=tls if settings.security == "tls" else None,
        server_hostname=settings.host if settings.security == "tls" else None,
    )
    session = _Session(reader, writer)
    try:
        code, text = await session.reply()
        if code != 220:
            raise MailError(f"greeting: {code} {one_line(' '.join(text), 120)}")
        await session.ehlo()
        if settings.security == "starttls":
            if "STARTTLS" not in session.features:
                raise MailError("the server does not offer STARTTLS")
            await session.command("STARTTLS", 220)
            assert tls is not None
            await writer.start_tls(tls, server_hostname=settings.host)
            await session.ehlo()
        if settings.username:
            await _login(session, settings)
        sender = settings.sender
        recipients = [str(a) for a in msg.get_all("To", [])]
        await session.command(f"MAIL FROM:<{sender}>", 250)
        for to in recipients:
            if not ADDRESS.fullmatch(to):
                raise MailError("not an address ctibot sends to")
            await session.command(f"RCPT TO:<{to}>", 250, 251)
        await session.command("DATA", 354)
        data = msg.as_bytes(policy=SMTP)
        lines = data.split(b"\r\n")
        stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        writer.write(stuffed + b".\r\n")
        await writer.drain()
        code, text = await session.reply()
        if code != 250:
            raise MailError(f"DATA: {code} {one_line(' '.join(text), 120)}")
        with contextlib.suppress(MailError, OSError):  # the mail went out already
            await session.command("QUIT", 221)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _login(session: _Session, settings: MailSettings) -> None:
    """AUTH PLAIN or LOGIN; refused on a clear connection unless security is none."""
    mechanisms = session.features.get("AUTH", "").split()
    user, password = settings.username.encode(), settings.password.encode()
    if "PLAIN" in mechanisms:
        token = base64.b64encode(b"\0" + user + b"\0" + password).decode()
        await session.command(f"AUTH PLAIN {token}", 235, shown="AUTH")
    elif "LOGIN" in mechanisms:
        await session.command("AUTH LOGIN", 334, shown="AUTH")
        await session.command(base64.b64encode(user).decode(), 334, shown="AUTH")
        await session.command(base64.b64encode(password).decode(), 235, shown="AUTH")
    else:
        raise MailError("the server offers no AUTH PLAIN or LOGIN (STARTTLS first?)")
