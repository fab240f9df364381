"""Permissions (what a user may do) and the profiles that bundle them (SPEC F2).

The core checks one permission of its own (``admin``); every other one is declared by
the plugin that checks it (``Permission`` in its ``__init__``). The table and the
default profiles are the core's plus every plugin ctibot finds, enabled or not, so
that a profile may name the permission of a plugin that is switched off today.
"""

from __future__ import annotations

from typing import Any

#: The permissions of the core itself, with what they allow.
CORE_PERMISSIONS: dict[str, str] = {"admin": "administer ctibot"}
#: Which default profiles get the core's permissions.
CORE_PROFILES: dict[str, tuple[str, ...]] = {"admin": ("admin",)}
#: The profiles used when the configuration does not define them.
PROFILE_NAMES = ("user", "supervisor", "admin")
DEFAULT_PROFILE = "user"


def permission_table() -> dict[str, str]:
    """Every permission: the core's and every plugin's found (name -> what it allows)."""
    from ctibot import loader

    table = dict(CORE_PERMISSIONS)
    for found in loader.discover():
        if found.plugin is None:
            continue
        for perm in found.plugin.permissions:
            table.setdefault(perm.name, perm.description)
    return table


def default_profiles() -> dict[str, frozenset[str]]:
    """The default profiles: each gets the permissions whose declaration names it."""
    from ctibot import loader

    grants: dict[str, set[str]] = {name: set() for name in PROFILE_NAMES}
    for perm, profiles in CORE_PROFILES.items():
        for profile in profiles:
            grants.setdefault(profile, set()).add(perm)
    for found in loader.discover():
        if found.plugin is None:
            continue
        for perm in found.plugin.permissions:
            for profile in perm.profiles:
                grants.setdefault(profile, set()).add(perm.name)
    return {name: frozenset(perms) for name, perms in grants.items()}


def __getattr__(name: str) -> Any:
    """``PERMISSIONS`` and ``DEFAULT_PROFILES``, computed when first asked for."""
    if name == "PERMISSIONS":
        return permission_table()
    if name == "DEFAULT_PROFILES":
        return default_profiles()
    raise AttributeError(name)
