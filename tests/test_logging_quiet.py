"""`ctibot -v` logs no library's secrets: AMI actions, SQL values, request URLs stay out."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from ctibot.cli import setup_logging


async def test_a_request_url_with_a_key_in_its_query_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    setup_logging(verbose=True)
    caplog.set_level(logging.DEBUG)
    try:
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{port}/send?apikey=s3cret-key")
        assert resp.status_code == 200
    finally:
        server.close()
        await server.wait_closed()
    assert "s3cret-key" not in caplog.text
    for name in ("httpx", "httpcore", "panoramisk", "aiosqlite", "slixmpp"):
        assert logging.getLogger(name).getEffectiveLevel() > logging.DEBUG, name
