"""What the HTTP shell raises, importable without Quart (the command line catches it)."""

from __future__ import annotations


class ListenError(OSError):
    """``[web] listen`` cannot be bound (taken, not an address of this machine): says which."""
