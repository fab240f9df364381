"""The demo's SMTP sink against Python's smtplib, ctibot's own client and a raw conversation."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from ctibot.sandbox.mailsink import Mail, MailSink
from plugins.notify.mail import MailSettings, build_message, send_mail

DOTTED = "Hello,\n.a line that starts with a dot\n..and one with two\n.\nend\n"


@pytest.fixture
async def sink() -> AsyncIterator[MailSink]:
    got: list[Mail] = []
    async with MailSink(on_mail=got.append, max_size=20_000) as server:
        server.got = got  # type: ignore[attr-defined]
        yield server


class Raw:
    """A hand-typed SMTP conversation."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def reply(self) -> str:
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 5)).decode()
            assert line, "the sink closed the connection"
            lines.append(line.rstrip("\r\n"))
            if line[3:4] != "-":
                return "\n".join(lines)

    async def send(self, line: str | bytes) -> str:
        data = line if isinstance(line, bytes) else line.encode()
        self.writer.write(data + b"\r\n")
        await self.writer.drain()
        return await self.reply()


async def raw(sink: MailSink) -> Raw:
    reader, writer = await asyncio.open_connection("127.0.0.1", sink.port)
    conn = Raw(reader, writer)
    assert (await conn.reply()).startswith("220 ")
    return conn


def smtplib_send(port: int, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(msg)


async def test_smtplib_delivers_a_mail_with_dot_leading_lines_intact(sink: MailSink) -> None:
    msg = EmailMessage()
    msg["From"] = "ctibot@example.com"
    msg["To"] = "alice@example.com, bob@example.com"
    msg["Subject"] = "Nuovo post-it da Bob Brown è qui"
    msg.set_content(DOTTED)
    await asyncio.to_thread(smtplib_send, sink.port, msg)
    [mail] = sink.got  # type: ignore[attr-defined]
    assert mail.sender == "ctibot@example.com"
    assert mail.recipients == ("alice@example.com", "bob@example.com")
    assert mail.subject == "Nuovo post-it da Bob Brown è qui"
    assert mail.body == DOTTED
    assert sink.mails == [mail]


async def test_ctibots_own_client_delivers_to_the_sink(sink: MailSink) -> None:
    settings = MailSettings("127.0.0.1", sink.port, "none", "", "", "ctibot@example.com")
    await send_mail(settings, build_message(settings, "alice@example.com", "Hi", DOTTED))
    [mail] = sink.got  # type: ignore[attr-defined]
    assert (mail.sender, mail.recipients, mail.subject) == (
        "ctibot@example.com",
        ("alice@example.com",),
        "Hi",
    )
    assert mail.body == DOTTED


async def test_an_oversize_mail_is_refused_and_nothing_is_kept(sink: MailSink) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "big"
    msg.set_content(("y" * 70 + "\n") * 400)
    # smtplib announces the SIZE: refused at MAIL.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await asyncio.to_thread(smtplib_send, sink.port, msg)
    assert refused.value.smtp_code == 552
    # ctibot's client does not: refused after the data, and the session goes on.
    conn = await raw(sink)
    assert "250-SIZE 20000" in await conn.send("EHLO me")
    assert (await conn.send("MAIL FROM:<a@example.com>")).startswith("250")
    assert (await conn.send("RCPT TO:<b@example.com>")).startswith("250")
    assert (await conn.send("DATA")).startswith("354")
    conn.writer.write(b"Subject: big\r\n\r\n" + (b"z" * 900 + b"\r\n") * 30)
    assert (await conn.send(".")).startswith("552 ")
    assert (await conn.send("MAIL FROM:<a@example.com>")).startswith("250")
    assert sink.mails == [] and sink.got == []  # type: ignore[attr-defined]


async def test_bad_commands_get_500_and_quit_closes(sink: MailSink) -> None:
    conn = await raw(sink)
    assert (await conn.send("FROBNICATE now")).startswith("500 ")
    assert (await conn.send("STARTTLS")).startswith("502 ")
    assert (await conn.send("MAIL FROM:<a@example.com>")).startswith("503 ")  # no EHLO yet
    assert (await conn.send("HELO me")).startswith("250 ")
    assert (await conn.send("RCPT TO:<b@example.com>")).startswith("503 ")  # no MAIL
    assert (await conn.send("MAIL FROM:a@example.com")).startswith("501 ")
    assert (await conn.send("MAIL FROM:<a@example.com>")).startswith("250 ")
    assert (await conn.send("DATA")).startswith("503 ")  # no RCPT
    assert (await conn.send("RSET")).startswith("250 ")
    assert (await conn.send("RCPT TO:<b@example.com>")).startswith("503 ")  # reset
    assert (await conn.send("NOOP")).startswith("250 ")
    assert (await conn.send("QUIT")).startswith("221 ")
    assert await asyncio.wait_for(conn.reader.read(), 5) == b""
    assert sink.mails == []


async def test_a_line_too_long_is_refused_and_the_connection_closed(sink: MailSink) -> None:
    conn = await raw(sink)
    assert (await conn.send(b"NOOP " + b"x" * 5000)).startswith("500 ")
    assert await asyncio.wait_for(conn.reader.read(), 5) == b""
    again = await raw(sink)  # the sink serves on
    assert (await again.send("QUIT")).startswith("221 ")
