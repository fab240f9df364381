"""The SMS gateway stand-in (ctibot.sandbox.smsgateway) as the sms tests use it.

``FakeGateway`` answers ``200 OK`` in plain text unless told otherwise (``behaviour``:
``("answer", status, body)``, ``("hang",)`` or ``("close",)``) and records every request.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from ctibot.sandbox.smsgateway import GatewayRequest, SmsGateway

__all__ = ["FakeGateway", "GatewayRequest", "closed_port"]


@dataclass
class FakeGateway(SmsGateway):
    behaviour: tuple = ("answer", 200, b"OK")
    content_type: str = "text/plain"


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (the gateway is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
