"""The queues service (F9): log in / out of dynamic queues, pause and resume."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import (
    NotFound,
    NothingToDo,
    PbxRefused,
    PbxUnavailable,
    QueueResult,
    ServiceBase,
    UserConfig,
    clip,
    label,
)
from ctibot.plugin import actions as act
from ctibot.plugin import validate as v

MAX_REASON = 80


class QueuesService(ServiceBase):
    """QueueAdd / QueueRemove / QueuePause as FreePBX does them (PBX-CONVENTIONS).

    ``memberships(user)`` (which queues the user is in) is ServiceBase's.
    """

    def is_queue(self, name: str) -> bool:
        """Does the PBX have a queue by this name?"""
        return name in self.state.queues

    async def dynamic_queues(self, user: UserConfig) -> dict[str, int]:
        """Queues the user may log into, with the penalty: FreePBX's QPENALTY/<q>/agents/<ext>."""
        ext = user.default_extension
        allowed: dict[str, int] = {}
        try:
            entries = await self.send(act.db_get_tree("QPENALTY"))
        except PbxRefused:
            entries = []  # Asterisk before 20 has no DBGetTree: only named queues then
        for entry in entries if isinstance(entries, list) else []:
            parts = str(entry.get("Key", "")).strip("/").split("/")
            if len(parts) == 4 and parts[0] == "QPENALTY" and parts[2:] == ["agents", ext]:
                try:
                    allowed[parts[1]] = max(0, int(str(entry.get("Val", "0")) or 0))
                except ValueError:
                    allowed[parts[1]] = 0
        for name, member in self.memberships(user):
            if member.dynamic:
                allowed.setdefault(name, member.penalty)
        return allowed

    def _queue(self, name: str) -> str:
        name = self.build(v.queue_name, name.strip())
        if name not in self.state.queues:
            raise NotFound("error.no_such_queue", queue=clip(name))
        return name

    def interface(self, ext: str) -> str:
        return f"Local/{ext}@{self.layout.queue_context}/n"

    async def queue_login(self, user: UserConfig, queue: str | None = None) -> QueueResult:
        """Log the user's default extension into one queue or into all their dynamic queues."""
        self.require(user, "queue_agent")
        self.require_pbx()
        ext = user.default_extension
        allowed = await self.dynamic_queues(user)
        if queue is not None:
            name = self._queue(queue)
            targets = {name: allowed.get(name, 0)}
        elif allowed:
            targets = allowed
        else:
            raise NothingToDo("error.no_dynamic_queues")
        iface = self.interface(ext)
        changed, unchanged = [], []
        for name, penalty in sorted(targets.items()):
            known = self.state.queues.get(name)
            member = known.members.get(ext) if known is not None else None
            if member:
                if not member.dynamic and queue is not None:
                    raise NothingToDo("error.static_member", queue=name)
                unchanged.append(name)
                continue
            await self.send(
                self.build(
                    act.queue_add,
                    name,
                    iface,
                    state_interface=f"hint:{ext}@{self.layout.hint_context}",
                    member_name=self.caller_id(user)[0] or ext,
                    penalty=penalty,
                    paused=False,
                )
            )
            await self.send(self.build(act.queue_log, name, "ADDMEMBER", interface=iface))
            changed.append(name)
        return QueueResult("login", tuple(changed), tuple(unchanged))

    async def queue_logout(self, user: UserConfig, queue: str | None = None) -> QueueResult:
        """Log the user out of one dynamic queue or of all of them."""
        self.require(user, "queue_agent")
        self.require_pbx()
        name = self._queue(queue) if queue is not None else None
        mine = [(q, m) for q, m in self.memberships(user) if name is None or q == name]
        if name is not None and mine and not any(m.dynamic for _, m in mine):
            raise NothingToDo("error.static_member", queue=name)
        targets = [(q, m) for q, m in mine if m.dynamic]
        if not targets:
            raise NothingToDo("error.not_logged_in" if name else "error.in_no_queue")
        changed = []
        for q, member in targets:
            iface = self.build(v.interface, member.interface)
            await self.send(self.build(act.queue_remove, q, iface))
            await self.send(self.build(act.queue_log, q, "REMOVEMEMBER", interface=iface))
            changed.append(q)
        return QueueResult("logout", tuple(changed), ())

    async def _set_paused(
        self, user: UserConfig, paused: bool, reason: str | None, queue: str | None
    ) -> QueueResult:
        self.require(user, "queue_agent")
        if reason is not None:
            reason = " ".join(reason.split()) or None
        if reason is not None:
            reason = self.build(v.text, reason, "reason", max_len=MAX_REASON, forbid="|")
        self.require_pbx()
        name = self._queue(queue) if queue is not None else None
        targets = [(q, m) for q, m in self.memberships(user) if name is None or q == name]
        if not targets:
            raise NothingToDo("error.not_logged_in" if name else "error.in_no_queue")
        changed, unchanged = [], []
        for q, member in targets:
            if member.paused == paused and (not paused or member.reason == (reason or "")):
                unchanged.append(q)
                continue
            iface = self.build(v.interface, member.interface)
            await self.send(
                self.build(
                    act.queue_pause, iface, paused, queue=q, reason=reason if paused else None
                )
            )
            changed.append(q)
        return QueueResult(
            "pause" if paused else "resume", tuple(changed), tuple(unchanged), reason
        )

    async def queue_pause(
        self, user: UserConfig, reason: str | None = None, queue: str | None = None
    ) -> QueueResult:
        """Pause the user in one queue or in every queue they are in, with a reason."""
        return await self._set_paused(user, True, reason, queue)

    async def queue_resume(self, user: UserConfig, queue: str | None = None) -> QueueResult:
        """Unpause the user in one queue or in all of them."""
        return await self._set_paused(user, False, None, queue)

    async def queue_presence(self, user: UserConfig, online: bool) -> QueueResult | None:
        """Automatic login / logout as the user comes online / goes offline (F9).

        Only for users with ``auto_queue_login``; None when there was nothing to do
        (setting off, no dynamic queue, already in that state, PBX away).
        """
        if not user.auto_queue_login or not self.may(user, "queue_agent"):
            return None
        try:
            if online:
                return await self.queue_login(user)
            return await self.queue_logout(user)
        except (NothingToDo, PbxUnavailable):
            return None

    def queue_names(self, user: UserConfig) -> list[str]:
        """Queues to offer the user: those they are in, then every other known queue."""
        mine = [q for q, _ in self.memberships(user)]
        return list(dict.fromkeys(mine + sorted(self.state.queues)))

    # -- the queues page (F33) -----------------------------------------------------

    def my_queue_names(self, user: UserConfig, allowed: dict[str, int] | None = None) -> list[str]:
        """The user's queues: those they are in, and the dynamic ones they may log into."""
        mine = [q for q, _ in self.memberships(user)]
        more = [q for q in (allowed or {}) if q in self.state.queues]
        return sorted(dict.fromkeys(mine + more))

    def queue_view(self, user: UserConfig, name: str) -> dict[str, Any]:
        """One queue as the page shows it: agents, waiting callers, counts, and me."""
        queue = self.state.queues[name]
        now = self.now()
        mine = set(user.extensions)
        agents = [
            {
                "key": m.key,
                "name": clip(m.name or m.key, 60),
                "extension": m.key if m.key.isdigit() else None,
                "status": m.status,
                "in_call": m.in_call,
                "paused": m.paused,
                "reason": clip(m.reason, MAX_REASON) if m.paused else "",
                "dynamic": m.dynamic,
                "calls_taken": m.calls_taken,
                "me": m.key in mine,
            }
            for m in sorted(queue.members.values(), key=lambda m: (m.name or m.key, m.key))
        ]
        callers = [
            {
                "position": c.position,
                "caller": label(c.name, c.number),
                "wait": max(0, int(now - c.joined_at)),
            }
            for c in sorted(queue.callers.values(), key=lambda c: (c.position, c.joined_at))
        ]
        me = next((a for a in agents if a["me"]), None)
        return {
            "name": name,
            "agents": agents,
            "callers": callers,
            "waiting": len(callers),
            "answered": queue.answered,
            "abandoned": queue.abandoned,
            "logged_in": me is not None,
            "static": me is not None and not me["dynamic"],
            "paused": bool(me and me["paused"]),
            "reason": me["reason"] if me else "",
        }

    async def overview(self, user: UserConfig) -> list[dict[str, Any]]:
        """Each of the user's queues with its agents, waiting callers and counts (F33)."""
        self.require(user, "queue_agent")
        allowed: dict[str, int] = {}
        if self.connected:
            try:
                allowed = await self.dynamic_queues(user)
            except (PbxUnavailable, PbxRefused):
                allowed = {}
        self._allowed[user.name] = set(allowed)
        return [self.queue_view(user, q) for q in self.my_queue_names(user, allowed)]

    def known_overview(self, user: UserConfig) -> list[dict[str, Any]]:
        """Like ``overview`` with the dynamic queues last looked up (no PBX round trip)."""
        allowed = dict.fromkeys(self._allowed.get(user.name, ()), 0)
        return [self.queue_view(user, q) for q in self.my_queue_names(user, allowed)]

    @property
    def _allowed(self) -> dict[str, set[str]]:
        """Per user, the dynamic queues last found in AstDB (QPENALTY)."""
        found = self.__dict__.get("_allowed_queues")
        if found is None:
            found = self.__dict__["_allowed_queues"] = {}
        return found

    @property
    def connected(self) -> bool:
        return bool(getattr(self.ami, "connected", True))
