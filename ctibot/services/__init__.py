"""The service layer's machinery: the base class plugins' services build on, the typed errors,
the result dataclasses and naming rule (``results``), and the registry of services by plugin.

The services themselves are the plugins' (``plugins/<name>/services.py``):
``load_services(config, state, ami)`` builds them, ``services.calls.call(user, "202")``.
"""

from __future__ import annotations

from typing import Any

from ctibot.services.context import AmiSender, CallHistory, Publish, ServiceBase
from ctibot.services.errors import (
    BadArgument,
    NotFound,
    NothingToDo,
    PbxRefused,
    PbxUnavailable,
    PermissionDenied,
    ServiceError,
)
from ctibot.services.registry import ServiceRegistry

#: The name surfaces use for "all the services" (the registry by plugin name).
Services = ServiceRegistry

__all__ = [
    "AmiSender",
    "BadArgument",
    "CallHistory",
    "NotFound",
    "NothingToDo",
    "PbxRefused",
    "PbxUnavailable",
    "PermissionDenied",
    "Publish",
    "ServiceBase",
    "ServiceError",
    "ServiceRegistry",
    "Services",
    "load_services",
]


def load_services(config: Any, state: Any, ami: Any, history: Any = None, **kwargs: Any) -> Any:
    """The registry of the enabled plugins' services (see ``ctibot.loader.load_services``)."""
    from ctibot.loader import load_services as load

    return load(config, state, ami, history, **kwargs)
