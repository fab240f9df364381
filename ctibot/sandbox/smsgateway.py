"""A real HTTP server on loopback standing in for an SMS gateway: it keeps every request.

The demo points ``[plugins.sms]`` at it (:func:`demo_settings`: the sms plugin's generic
gateway posting JSON ``{"to": …, "text": …}``) and prints each SMS it gets through
``on_sms``; the tests also tell it how to answer. ``behaviour``: ``("answer", status,
body)``, ``("hang",)`` (reads the request and never answers) or ``("close",)`` (reads it and
drops the connection). Requests are bounded (head, body, how many are kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024
#: The demo's request path, and the answer the sms plugin takes as "accepted".
SEND_PATH = "/send"
ACCEPTED = b'{"status": "accepted"}'


def demo_settings(url: str) -> dict[str, Any]:
    """``[plugins.sms]`` for a stand-in at ``url``: a generic gateway, JSON to ``/send``."""
    return {
        "gateway": "generic",
        "url": url + SEND_PATH,
        "method": "POST",
        "content_type": "application/json",
        "body": '{"to": "{number}", "text": "{text}"}',
        "success_pattern": '"accepted"',
        "sender": "ctibot",
    }


@dataclass
class GatewayRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def sms(self) -> tuple[str, str] | None:
        """The number and text of a JSON ``{"to", "text"}`` or form ``to``/``text`` request."""
        data: Any
        if self.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(self.body)
            except ValueError:
                return None
        else:
            data = {k: v[0] for k, v in self.form().items() if v}
        if not isinstance(data, dict):
            return None
        to, text = data.get("to"), data.get("text")
        return (to, text) if isinstance(to, str) and isinstance(text, str) else None


@dataclass
class SmsGateway:
    """An HTTP/1.1 server of a few lines: enough for httpx, and every byte under control."""

    behaviour: tuple = ("answer", 200, ACCEPTED)
    content_type: str = "application/json"
    on_sms: Callable[[str, str], Any] | None = None
    host: str = LOOPBACK
    keep: int = 1000  # requests kept (the oldest go first)
    requests: list[GatewayRequest] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _hung: list[asyncio.StreamWriter] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.stopping.set()  # hung answers end (their tasks finish rather than linger)
        for writer in self._hung:
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _answer(
        self, writer: asyncio.StreamWriter, status: int, payload: bytes, kind: str
    ) -> None:
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = headers.get("content-length", "0")
                if not length.isdigit() or int(length) > MAX_BODY:
                    await self._answer(writer, 413, b"too large", "text/plain")
                    return
                body = await reader.readexactly(int(length))
                request = GatewayRequest(method, path, headers, body)
                self.requests.append(request)
                del self.requests[: -self.keep]
                self.arrived.set()
                kind = self.behaviour[0]
                if kind == "hang":
                    self._hung.append(writer)
                    await self.stopping.wait()
                    return
                if kind == "close":
                    writer.close()
                    return
                _, status, payload = self.behaviour
                sms = request.sms() if self.on_sms is not None else None
                if sms is not None and self.on_sms is not None:
                    try:
                        self.on_sms(*sms)
                    except Exception:
                        log.exception("SMS gateway stand-in: on_sms failed")
                await self._answer(writer, status, payload, self.content_type)
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            ConnectionError,
            asyncio.CancelledError,
        ):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
