"""Errors of the PBX link that callers (services, surfaces) catch and show to users."""


class AmiError(Exception):
    """Asterisk refused or failed an action; the message says why."""


class AmiAuthError(AmiError):
    """The AMI login was refused."""


class AmiUnavailable(AmiError):
    """ctibot is not connected to the PBX right now."""
