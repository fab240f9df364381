"""Roster groups for Prosody's mod_groups: every teammate gets every person and phone (X1)."""

from __future__ import annotations

from collections.abc import Iterable

from ctibot.config import UserConfig

#: A leading "+" makes a mod_groups group public: it goes into every roster of the host.
GROUP_PEOPLE = "+CTI people"
GROUP_PHONES = "+CTI phones"


def roster_groups(users: Iterable[UserConfig], component: str) -> dict[str, list[tuple[str, str]]]:
    """Group name -> (JID, display name): users' own accounts, their virtual JIDs, the phones.

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
    return {GROUP_PEOPLE: people, GROUP_PHONES: phones}
