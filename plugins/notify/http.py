"""No pages of its own: the panel tells whether a user has it open."""

from __future__ import annotations

from typing import Any

from .services import NotifyService


def routes(web: Any, service: NotifyService) -> None:
    """Keep the panel: a user with it open is not away."""
    service.panel = web
