"""Bus consumers: a phone rings, a call is answered, a call ends."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import CallAnswered, CallEnded, CallRinging

from .services import PopupService


def ringing(service: PopupService, event: CallRinging) -> None:
    service.on_ringing(event)


def answered(service: PopupService, event: CallAnswered) -> None:
    service.on_answered(event)


async def ended(service: PopupService, event: CallEnded) -> None:
    await service.on_ended(event)


HANDLERS: dict[type, Any] = {CallRinging: ringing, CallAnswered: answered, CallEnded: ended}
