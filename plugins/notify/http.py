"""No pages of its own: the panel's hub tells whether a user has the panel open."""

from __future__ import annotations

from typing import Any

from .services import NotifyService


def routes(web: Any, service: NotifyService) -> None:
    """Keep the websocket hub: a user with a panel socket open is not away."""
    service.hub = web.hub
