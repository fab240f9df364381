"""Roster groups for Prosody's mod_groups: every teammate gets every person and phone (X1)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ctibot.plugin import UserConfig

#: A leading "+" makes a mod_groups group public: it goes into every roster of the host.
GROUP_PEOPLE = "+CTI people"
GROUP_PHONES = "+CTI phones"

Groups = Mapping[str, Iterable[tuple[str, str]]]


def roster_groups(
    users: Iterable[UserConfig], component: str, names: Mapping[str, str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Group name -> (JID, display name): users' own accounts, their virtual JIDs, the phones.

    ``names`` are the phones no user owns that the configuration names (``[pbx.names]``,
    a meeting room): they join the phones. Other phones ctibot finds on the PBX are
    not known when the file is written: users add them with ``team``.

    Public groups put their members into every roster of the users' host with
    subscription both: the virtual JIDs appear for everybody, and each user's own
    presence reaches ctibot (two-way DND). Users' own accounts are listed too, so
    that colleagues can chat with each other from their rosters (F12).
    """
    domain = component
    people: list[tuple[str, str]] = [(domain, "ctibot")]
    phones: list[tuple[str, str]] = []
    for user in users:
        if user.jid is not None:
            people.append((user.jid, user.fullname))
        people.append((f"{user.name}@{domain}", f"{user.fullname} (CTI)"))
        for ext in user.extensions:
            phones.append((f"{ext}@{domain}", f"{ext} {user.fullname}"))
    owned = {jid for jid, _ in phones}
    for ext, name in sorted((names or {}).items()):
        if f"{ext}@{domain}" not in owned:
            phones.append((f"{ext}@{domain}", f"{ext} {name}"))
    return {GROUP_PEOPLE: people, GROUP_PHONES: phones}


def groups_text(groups: Groups) -> str:
    """A Prosody ``mod_groups`` file: ``[Group]`` then one ``jid=Display Name`` a line.

    Every JID listed in a group gets every other member of that group in its
    roster, with subscription ``both`` and no server plugin beyond the core
    ``mod_groups``: list a user's own JID (``alice@example.com``) next to the
    component's virtual JIDs (``alice@cti.example.com``, ``201@cti.example.com``).
    A group whose name starts with ``+`` is public: every user of the host
    gets its members. Prosody reads the file when ``mod_groups`` loads, that is
    at start, or on ``module:reload("groups", host)`` from ``prosodyctl shell``;
    a user sees the change at their next login.
    """
    lines: list[str] = []
    for group, members in groups.items():
        if not group or any(c in group for c in "[]\r\n") or group != group.strip():
            raise ValueError(f"group name {group!r}: no brackets, line breaks or outer spaces")
        lines.append(f"[{group}]")
        for jid, name in members:
            # Bare JIDs: user@domain, or a domain alone (the component itself).
            local, _, domain = jid.rpartition("@")
            if (
                not domain
                or (not local and "@" in jid)
                or any(c.isspace() or c in "=/[]" for c in jid)
            ):
                raise ValueError(f"group {group!r}: {jid!r} is not a bare JID")
            # A display name is one line; Prosody keeps everything after the first "=".
            clean = " ".join(name.split())
            lines.append(f"{jid}={clean}" if clean else jid)
    return "\n".join(lines) + "\n" if lines else ""


def write_groups_file(path: str | Path, groups: Groups) -> None:
    """Write ``groups`` as a mod_groups file, replaced atomically (Prosody never reads half)."""
    text = groups_text(groups)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
