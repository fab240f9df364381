"""A real HTTP server on 127.0.0.1 standing in for an SMS gateway: it records every request.

``behaviour`` says how it answers: ``("answer", status, body)``, ``("hang",)`` (reads the
request and never answers) or ``("close",)`` (reads it and drops the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from urllib.parse import parse_qs


@dataclass
class GatewayRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class FakeGateway:
    """An HTTP/1.1 server of a few lines: enough for httpx, and every byte under control."""

    behaviour: tuple = ("answer", 200, b"OK")
    content_type: str = "text/plain"
    requests: list[GatewayRequest] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _hung: list[asyncio.StreamWriter] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeGateway:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
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
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(GatewayRequest(method, path, headers, body))
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
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: {self.content_type}\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (the gateway is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
