"""The service layer: one async function per user action, shared by every surface."""

from __future__ import annotations

from ctibot.config import Config
from ctibot.pbx.state import PbxState
from ctibot.services.calls import CallActions, ContactLookup
from ctibot.services.context import AmiSender, CallHistory, Publish
from ctibot.services.errors import (
    BadArgument,
    NotFound,
    NothingToDo,
    PbxRefused,
    PbxUnavailable,
    PermissionDenied,
    ServiceError,
)
from ctibot.services.info import InfoQueries
from ctibot.services.phone import PhoneSettings
from ctibot.services.queues import QueueActions

__all__ = [
    "AmiSender",
    "BadArgument",
    "CallHistory",
    "NotFound",
    "NothingToDo",
    "PbxRefused",
    "PbxUnavailable",
    "PermissionDenied",
    "ServiceError",
    "Services",
]


class Services(CallActions, PhoneSettings, QueueActions, InfoQueries):
    """Every user action: ``await services.call(user, "202")`` and so on.

    Each method takes the acting :class:`~ctibot.config.UserConfig` first, checks
    the permission, validates, acts over AMI and returns a result dataclass
    (``ctibot.services.results``) or raises a :class:`ServiceError`.
    """

    def __init__(
        self,
        config: Config,
        state: PbxState,
        ami: AmiSender,
        history: CallHistory | None = None,
        *,
        publish: Publish | None = None,
    ) -> None:
        super().__init__(config, state, ami, history, publish=publish)
        self.contact_lookups: list[ContactLookup] = []
