"""Typed errors of the service layer: each carries an i18n message key and its parameters."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A user action that could not be done; ``key`` + ``params`` make the user's message."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class PermissionDenied(ServiceError):
    """The user's profile lacks the permission (``params["permission"]``)."""

    key = "error.not_allowed"


class BadArgument(ServiceError):
    """An argument is malformed or out of range."""

    key = "error.bad_argument"


class NotFound(ServiceError):
    """The user, extension, queue, slot… named does not exist."""

    key = "error.not_found"


class PbxUnavailable(ServiceError):
    """ctibot is not connected to the PBX right now."""

    key = "error.pbx_unavailable"


class PbxRefused(ServiceError):
    """Asterisk refused the action; ``params["reason"]`` keeps Asterisk's own message."""

    key = "error.pbx_refused"


class NothingToDo(ServiceError):
    """The action makes no sense in the current state (hang up without a call…)."""

    key = "error.nothing_to_do"


class TooMany(ServiceError):
    """The user reached a rate limit; the web and API answer 429 Too Many Requests."""

    key = "error.too_many"
    http_status = 429
