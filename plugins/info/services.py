"""The information service: a user's status, colleagues' state, recent calls, who they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ctibot.plugin import (
    CallLine,
    CurrentCall,
    Extension,
    Identity,
    NotFound,
    PhoneStatus,
    QueueMembership,
    ServiceBase,
    StatusReport,
    UserConfig,
    UserPresence,
    clip,
    label,
)

RECENT = 10
#: A user's phone state over all their extensions: the most significant wins.
PHONE_ORDER = ("busy", "ringing", "onhold", "idle", "unavailable", "unknown")


class InfoService(ServiceBase):
    """status, who, calls, whoami."""

    def current_calls(self, user: UserConfig) -> list[CurrentCall]:
        out: list[CurrentCall] = []
        for call, ch, party, name in self.live_calls(user):
            forwarded = call.forwarded_by
            if forwarded in user.extensions or forwarded == party:
                forwarded = None
            out.append(
                CurrentCall(
                    call_id=call.id,
                    extension=ch.extension or "",
                    state=call.state,
                    party=party,
                    party_name=name,
                    direction=call.direction,
                    since=call.answered_at or call.started_at,
                    recording=call.recording,
                    recording_paused=call.recording_paused,
                    outgoing=call.caller_number in user.extensions,
                    voicemail=call.voicemail if call.state == "voicemail" else None,
                    conference=call.conference,
                    spied=call.spied,
                    forwarded_from=forwarded,
                    forwarded_from_name=self.name_of_number(forwarded),
                )
            )
        return out

    async def status(self, user: UserConfig) -> StatusReport:
        """The user's phones (state, DND, forwards), queues and current calls."""
        self.require_pbx()
        phones = []
        for ext in user.extensions:
            known = self.state.extensions.get(ext) or Extension(ext)
            phones.append(PhoneStatus(ext, known.status, known.dnd, dict(known.forward)))
        queues = [
            QueueMembership(q, m.key, m.dynamic, m.paused, m.reason)
            for q, m in self.memberships(user)
        ]
        return StatusReport(tuple(phones), tuple(queues), tuple(self.current_calls(user)))

    def presence_of(self, user: UserConfig) -> UserPresence:
        """Presence as PBX-CONVENTIONS derives it: DND, forward kind, then the phone on top."""
        exts = [self.state.extensions.get(e) or Extension(e) for e in user.extensions]
        forward = next(
            (x.forward["unconditional"] for x in exts if x.forward["unconditional"]), None
        )
        if any(x.dnd for x in exts):
            presence = "dnd"
        elif forward is None:
            presence = "online"
        elif user.mobile and forward.lstrip("+0") == user.mobile.lstrip("+0"):
            presence = "cellphone"
        elif forward.startswith("vmu"):
            presence = "voicemail"
        else:
            presence = "callforward"
        statuses = {x.status for x in exts}
        phone = next((s for s in PHONE_ORDER if s in statuses), "unknown")
        if phone == "unavailable":
            phone = "offline"
        calls = self.current_calls(user)
        talking = next(
            (
                label(c.party_name, c.party)
                for c in calls
                if c.state not in ("ringing", "voicemail")
                and c.conference is None
                and (c.party or c.party_name)
            ),
            None,
        )
        return UserPresence(
            user.name,
            user.fullname,
            user.extensions,
            presence,
            phone,
            forward,
            talking,
            tuple(calls),
            self.name_of_number(forward),
        )

    def presence_of_extension(self, extension: str) -> UserPresence:
        """The same for one phone (its owner's name and mobile, only that extension)."""
        owner = self.config.user_by_extension(extension)
        phone = UserConfig(
            extension,
            owner.fullname if owner else extension,
            (extension,),
            mobile=owner.mobile if owner else None,
        )
        return self.presence_of(phone)

    async def who(self, user: UserConfig, name: str | None = None) -> list[UserPresence]:
        """Every user (or those matching ``name``) and their state."""
        self.require(user, "presence_panel")
        self.require_pbx()
        users = list(self.config.users)
        if name is not None and name.strip():
            word = " ".join(name.split()).casefold()
            users = [
                u
                for u in users
                if word in u.name or word in u.fullname.casefold() or word in u.extensions
            ]
            if not users:
                raise NotFound("error.no_such_user", name=clip(name))
        return [self.presence_of(u) for u in users]

    async def recent_calls(self, user: UserConfig, limit: int = RECENT) -> list[CallLine]:
        """The user's last calls, strictly newest first (by start, then by call id).

        From the call store, else from what the state remembers. A call ends in
        another order than it starts, so neither the end nor the store's order is
        the order: sort here, over more rows than are shown.
        """
        self.require(user, "cdr")
        mine = set(user.extensions)
        if self.history is not None:
            rows = await self.history.calls_of(list(user.extensions), max(limit * 5, 50))
        else:
            self.require_pbx()
            rows = [
                r
                for r in self.remembered_calls()
                if {r.get("from"), r.get("to"), r.get("answered_by"), r.get("ended_with")} & mine
            ]
        rows = sorted(rows, key=newest_first)
        return [self.call_line(row, user) for row in rows[:limit]]

    def call_line(self, row: dict, user: UserConfig) -> CallLine:
        """One record seen from ``user``, named by the one rule (names with numbers)."""
        line = line_of(row, set(user.extensions))
        party, name = line.party, line.party_name
        if line.direction == "out":
            if party is None or party == row.get("from"):
                # A click-to-call that never left the user's own phone: what we dialed.
                dialed = self.dialing_for(row.get("from"), _epoch(row.get("start")))
                party = dialed or (None if party == row.get("from") else party)
            name = self.name_of_number(party)
        else:
            name = self.name_of_number(party) or name
        name = self.not_self(name, party, user)
        return replace(line, party=party, party_name=name)

    async def whoami(self, user: UserConfig) -> Identity:
        """Who ctibot thinks the user is (works without the PBX)."""
        return Identity(
            name=user.name,
            fullname=user.fullname,
            extensions=user.extensions,
            default_extension=user.default_extension,
            mobile=user.mobile,
            jid=user.jid,
            language=user.language,
            profile=user.profile,
            permissions=tuple(sorted(self.config.permissions_of(user))),
        )


def _epoch(value: object) -> float | None:
    """A record's time: epoch seconds, or the snapshot's ISO 8601 text."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def _id_order(call_id: object) -> tuple[int, ...]:
    """A Linkedid ``1796115089.12`` as numbers: ``.12`` comes after ``.9``."""
    parts = str(call_id or "").rsplit("-", 1)[-1].split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


def newest_first(row: dict) -> tuple[float, tuple[int, ...]]:
    """Sort key: the latest start first; at an equal start the later call id first."""
    start = _epoch(row.get("start"))
    order = _id_order(row.get("id"))
    return (-(start if start is not None else float("-inf")), tuple(-n for n in order))


def line_of(row: dict, mine: set[str]) -> CallLine:
    """A call record (snapshot/store shape) seen from the user who owns ``mine``."""
    outgoing = row.get("from") in mine
    if outgoing:
        party, name = row.get("ended_with") or row.get("to"), None
        direction = "out"
    else:
        party, name = row.get("from"), row.get("from_name")
        direction = "in"
    return CallLine(
        call_id=str(row.get("id", "")),
        start=row.get("start"),
        direction=direction,
        party=party,
        party_name=name,
        answered=bool(row.get("answered")),
        duration=int(row.get("duration") or 0),
    )
