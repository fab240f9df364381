"""Roster groups for Prosody's mod_groups: every teammate gets every person and phone (X1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ctibot.config import UserConfig

#: A leading "+" makes a mod_groups group public: it goes into every roster of the host.
GROUP_PEOPLE = "+CTI people"
GROUP_PHONES = "+CTI phones"


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
