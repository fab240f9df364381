"""A small SMTP server on loopback that keeps every mail it gets: the demo's mail goes nowhere.

Enough of RFC 5321 for ctibot's own client and smtplib: EHLO/HELO, MAIL (with SIZE),
RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT; no AUTH and no TLS (loopback only). It is
bounded: the message size, the line length, recipients, connections, idle time and the
mails kept. Each mail is parsed with the email package and handed to ``on_mail``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Self

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
#: RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF.
MAX_LINE = 1000
MAX_SIZE = 1024 * 1024
MAX_RECIPIENTS = 100
MAX_CONNECTIONS = 16
MAX_ERRORS = 10
IDLE = 60.0
_PATH = re.compile(r"(?i)(FROM|TO):\s*<([^<>\s]*)>\s*(.*)")
_NOT_HERE = {"STARTTLS", "AUTH", "VRFY", "EXPN", "HELP", "TURN", "ETRN", "BDAT"}


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail the sink took: the envelope, and the message's subject and text."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    message: EmailMessage = field(repr=False, compare=False)


class _Drop(Exception):
    """The conversation ends now (QUIT, a line too long, too many errors, idle)."""


def parse_mail(sender: str, recipients: tuple[str, ...], data: bytes) -> Mail:
    """The mail from its envelope and DATA (dot-unstuffed): the plain-text part as the body."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    body = ""
    if part is not None:
        with contextlib.suppress(LookupError, ValueError, AttributeError):
            body = str(part.get_content())
    return Mail(sender, recipients, str(message.get("Subject", "")), body, message)


@dataclass
class MailSink:
    """The SMTP sink: ``start()`` it, read ``port``; ``mails`` holds the latest ones."""

    on_mail: Callable[[Mail], Any] | None = None
    host: str = LOOPBACK
    port: int = 0
    hostname: str = "mailsink.localhost"
    max_size: int = MAX_SIZE
    max_line: int = MAX_LINE
    max_recipients: int = MAX_RECIPIENTS
    max_connections: int = MAX_CONNECTIONS
    idle: float = IDLE
    keep: int = 1000
    mails: list[Mail] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _sessions: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> Self:
        # The stream's limit is the line cap (plus room for the CRLF): readline stops there.
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=self.max_line + 2
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._sessions):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- one conversation ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._sessions) >= self.max_connections:
            writer.write(b"421 4.3.2 Too many connections, try again later\r\n")
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()
            return
        self._sessions.add(writer)
        session = _Session(self, reader, writer)
        try:
            await session.run()
        except (_Drop, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._sessions.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _took(self, mail: Mail) -> None:
        self.mails.append(mail)
        del self.mails[: -self.keep]
        self.arrived.set()
        if self.on_mail is not None:
            self.on_mail(mail)


class _Session:
    """The state of one SMTP conversation."""

    def __init__(
        self, sink: MailSink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sink, self.reader, self.writer = sink, reader, writer
        self.greeted = False
        self.errors = 0
        self.sender: str | None = None
        self.recipients: list[str] = []

    async def say(self, code: int, *lines: str) -> None:
        texts = lines or ("OK",)
        for n, text in enumerate(texts):
            sep = " " if n == len(texts) - 1 else "-"
            self.writer.write(f"{code}{sep}{text}\r\n".encode())
        await self.writer.drain()

    async def line(self) -> bytes:
        """One line without its CRLF (or LF); a longer line than allowed ends the talk."""
        try:
            async with asyncio.timeout(self.sink.idle):
                raw = await self.reader.readuntil(b"\n")
        except TimeoutError:
            await self.say(421, "4.4.2 Idle too long, closing")
            raise _Drop from None
        except (asyncio.LimitOverrunError, ValueError):
            await self.say(500, "5.5.2 Line too long")
            raise _Drop from None
        if raw.endswith(b"\r\n"):
            return raw[:-2]
        return raw[:-1]

    def reset(self) -> None:
        self.sender, self.recipients = None, []

    async def run(self) -> None:
        await self.say(220, f"{self.sink.hostname} ESMTP ctibot mail sink")
        while True:
            text = (await self.line()).decode("utf-8", "replace")
            verb, _, arg = text.partition(" ")
            verb, arg = verb.upper(), arg.strip()
            handler = getattr(self, f"do_{verb.lower()}", None) if verb.isalpha() else None
            if handler is None:
                self.errors += 1
                if self.errors >= MAX_ERRORS:
                    await self.say(421, "4.7.0 Too many errors, closing")
                    raise _Drop
                if verb in _NOT_HERE:
                    await self.say(502, "5.5.1 Command not implemented")
                else:
                    await self.say(500, "5.5.1 Command unrecognized")
                continue
            await handler(arg)

    async def do_ehlo(self, arg: str) -> None:
        if not arg:
            await self.say(501, "5.5.4 EHLO needs a domain")
            return
        self.greeted = True
        self.reset()
        await self.say(
            250,
            f"{self.sink.hostname} greets {arg[:100]}",
            f"SIZE {self.sink.max_size}",
            "8BITMIME",
            "ENHANCEDSTATUSCODES",
        )

    async def do_helo(self, arg: str) -> None:
        if not arg:
            await self.say(501, "5.5.4 HELO needs a domain")
            return
        self.greeted = True
        self.reset()
        await self.say(250, self.sink.hostname)

    async def do_mail(self, arg: str) -> None:
        found = _PATH.fullmatch(arg)
        if not self.greeted:
            await self.say(503, "5.5.1 EHLO or HELO first")
        elif self.sender is not None:
            await self.say(503, "5.5.1 A mail is under way already")
        elif found is None or found[1].upper() != "FROM":
            await self.say(501, "5.5.4 Syntax: MAIL FROM:<address>")
        else:
            params = dict(p.upper().partition("=")[::2] for p in found[3].split())
            size = params.get("SIZE", "0")
            if not size.isdigit():
                await self.say(501, "5.5.4 SIZE takes a number")
            elif int(size) > self.sink.max_size:
                await self.say(552, "5.3.4 Message too big")
            else:
                self.sender = found[2]
                await self.say(250, "2.1.0 OK")

    async def do_rcpt(self, arg: str) -> None:
        found = _PATH.fullmatch(arg)
        if self.sender is None:
            await self.say(503, "5.5.1 MAIL first")
        elif found is None or found[1].upper() != "TO" or not found[2]:
            await self.say(501, "5.5.4 Syntax: RCPT TO:<address>")
        elif len(self.recipients) >= self.sink.max_recipients:
            await self.say(452, "4.5.3 Too many recipients")
        else:
            self.recipients.append(found[2])
            await self.say(250, "2.1.5 OK")

    async def do_data(self, arg: str) -> None:
        if arg:
            await self.say(501, "5.5.4 DATA takes no argument")
            return
        if self.sender is None or not self.recipients:
            await self.say(503, "5.5.1 RCPT first")
            return
        await self.say(354, "End data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        size, too_big = 0, False
        while True:
            raw = await self.line()
            if raw == b".":
                break
            if raw.startswith(b"."):
                raw = raw[1:]  # dot-unstuffing (RFC 5321 4.5.2)
            size += len(raw) + 2
            if size > self.sink.max_size:
                too_big = True
                lines = []  # read on to the end, keep nothing
            elif not too_big:
                lines.append(raw)
        sender, recipients = self.sender or "", tuple(self.recipients)
        self.reset()
        if too_big:
            await self.say(552, "5.3.4 Message too big")
            return
        try:
            mail = parse_mail(sender, recipients, b"\n".join(lines) + b"\n")
            self.sink._took(mail)
        except Exception:
            log.exception("mail sink: a mail could not be taken")
            await self.say(451, "4.3.0 Local error")
            return
        await self.say(250, "2.0.0 OK queued")

    async def do_rset(self, arg: str) -> None:
        self.reset()
        await self.say(250, "2.0.0 OK")

    async def do_noop(self, arg: str) -> None:
        await self.say(250, "2.0.0 OK")

    async def do_quit(self, arg: str) -> None:
        await self.say(221, "2.0.0 Bye")
        raise _Drop
