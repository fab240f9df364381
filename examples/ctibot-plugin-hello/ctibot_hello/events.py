"""Bus consumers: every call that ends is counted."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import CallEnded

from .services import HelloService


def call_ended(service: HelloService, event: CallEnded) -> None:
    if event.record.merged_into is None:  # a call merged into another ends as that one
        service.call_ended()


HANDLERS: dict[type, Any] = {CallEnded: call_ended}
