"""Off-hour (F35) and announcements (F36): rules per inbound route, published to the AstDB.

Each inbound route (DID) has one rule: ``never`` (the PBX routes as configured),
``always``, or ``between`` two instants. When a rule applies, the caller hears an
announcement and is hung up, sent to a voicemail box, or redirected. ctibot keeps
the rules in its database and writes them where the dialplan reads them, the AstDB
family ``CTIBOT_OFFHOUR/<did>`` with the keys ``mode start end action target
announcement`` (``start``/``end`` in epoch seconds, UTC, as the dialplan's
``${EPOCH}``), on every change and after every (re)connection to the PBX.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ctibot.plugin import (
    AmiValueError,
    BadArgument,
    NotFound,
    PbxRefused,
    PbxUnavailable,
    PermissionDenied,
    PluginContext,
    ServiceBase,
    ServiceError,
    UserConfig,
    actions,
    clip,
    validate,
)

from . import audio

PERMISSION = "offhour"
ADMIN_PERMISSION = "admin_offhour"
MODES = ("never", "always", "between")
ACTIONS = ("hangup", "voicemail", "redirect")
KEYS = ("mode", "start", "end", "action", "target", "announcement")
#: Where announcements live, relative to the PBX's sounds directory (Playback's names).
SOUNDS_SUBDIR = "custom/ctibot"
_DID_RE = re.compile(r"\+?[0-9]{1,20}")
_ID_RE = re.compile(r"[0-9]{1,12}")
_LOCAL_TIME = "%Y-%m-%dT%H:%M"
#: Seconds a recording by phone may take beyond its maximum (ringing, answering) to appear.
RECORD_GRACE = 120


class SoundsUnwritable(ServiceError):
    """The announcements' folder cannot be written (read-only, a file in the way): nothing
    was stored or deleted. The web answers 503."""

    key = "offhour.error.sounds_unwritable"
    http_status = 503


def valid_did(value: object) -> bool:
    return isinstance(value, str) and _DID_RE.fullmatch(value) is not None


def valid_family(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value) is not None


def valid_timezone(value: object) -> bool:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Route:
    """An inbound route the configuration names, and whose it is (no owners: a generic one)."""

    did: str
    owners: tuple[UserConfig, ...]
    label: str

    @property
    def generic(self) -> bool:
        return not self.owners

    @property
    def owner(self) -> UserConfig | None:
        return self.owners[0] if self.owners else None


@dataclass(frozen=True, slots=True)
class Rule:
    """One route's rule as stored (``start``/``end`` epoch seconds, UTC)."""

    did: str
    mode: str = "never"
    start: float | None = None
    end: float | None = None
    timezone: str = "UTC"
    action: str = "hangup"
    target: str = ""
    announcement: int | None = None
    updated_by: str = ""
    updated: float = 0.0

    def active(self, now: float) -> bool:
        """Whether the rule applies at ``now`` (what the dialplan decides on each call)."""
        if self.mode == "always":
            return True
        if self.mode == "between" and self.start is not None and self.end is not None:
            return self.start <= now < self.end
        return False

    def local(self, which: str) -> str:
        """``start`` or ``end`` in the rule's timezone, as a datetime-local field shows it."""
        value = self.start if which == "start" else self.end
        if value is None:
            return ""
        return datetime.fromtimestamp(value, ZoneInfo(self.timezone)).strftime(_LOCAL_TIME)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A recorded message: who made it, what it says, whether others may use it."""

    id: int
    author: str
    description: str
    public: bool
    created: float
    state: str = "ready"

    @property
    def sound(self) -> str:
        """Its name for the PBX's Playback (relative to the sounds directory, no extension)."""
        return f"{SOUNDS_SUBDIR}/offhour-{self.id}"


@dataclass(frozen=True, slots=True)
class RouteView:
    """A route as a user sees it: the route, its rule, and whether the rule is on now."""

    route: Route
    rule: Rule
    active: bool


class OffhourService(ServiceBase):
    """Every off-hour action; each method takes the acting user first."""

    def __init__(self, ctx: PluginContext) -> None:
        super().__init__(ctx)
        s = ctx.settings
        self.family: str = s.get("family", "CTIBOT_OFFHOUR")
        self.sounds_dir = Path(s.get("sounds_dir", "/var/lib/asterisk/sounds"))
        self.max_upload: int = int(s.get("max_upload", 5_000_000))
        self.max_seconds: float = float(s.get("max_seconds", 300))
        self.timezone: str = s.get("timezone", "UTC")
        self.sox: str = s.get("sox", "sox")
        self._routes: dict[str, str] = dict(s.get("routes", {}))
        self.published: int = 0  # how many times every rule was written (tests, logs)
        # One writer at a time: a resync's republication never overwrites a newer rule.
        self._lock = asyncio.Lock()
        #: Told of every change (the web panel's live page): rules' DIDs, announcements.
        self.on_change: Callable[..., Awaitable[None]] | None = None
        #: Recordings by phone started by this ctibot and not kept yet (a call's end looks).
        self.recording: set[int] = set()

    async def changed(
        self, dids: tuple[str, ...] = (), announcements: tuple[Announcement, ...] = ()
    ) -> None:
        """Tell the live page (when there is one); its failure never undoes the change."""
        if self.on_change is None:
            return
        try:
            await self.on_change(dids=dids, announcements=announcements)
        except Exception:
            self.ctx.log.exception("off-hour: the live page was not updated")

    @property
    def db(self) -> Any:
        return self.ctx.store.db

    def now(self) -> float:
        return self.ctx.clock()

    # -- routes and who may manage them ----------------------------------------

    def routes(self) -> list[Route]:
        """Every configured route: ``routes = { "<did>" = "<user|extension|queue:name>" | "" }``.

        A route belongs to a user (by login name or extension), or to the members of a
        queue (``queue:sales``: the users whose phones are its agents); "" is generic.
        """
        found = []
        for did, who in self._routes.items():
            owners: tuple[UserConfig, ...] = ()
            label = did
            if who.startswith("queue:"):
                name = who[len("queue:") :]
                queue = self.state.queues.get(name)
                members = {m.key for m in queue.members.values()} if queue is not None else set()
                owners = tuple(u for u in self.config.users if members & set(u.extensions))
                label = f"{did} → {name}"
            elif who:
                owner = next((u for u in self.config.users if u.name == who), None)
                owner = owner or self.config.user_by_extension(who)
                if owner is not None:
                    owners = (owner,)
                    label = f"{did} → {owner.fullname}"
            found.append(Route(did, owners, label))
        return found

    def may_manage(self, user: UserConfig, route: Route) -> bool:
        if self.may(user, ADMIN_PERMISSION):
            return True
        return self.may(user, PERMISSION) and any(o.name == user.name for o in route.owners)

    def may_use(self, user: UserConfig) -> bool:
        return self.may(user, PERMISSION) or self.may(user, ADMIN_PERMISSION)

    def _require_any(self, user: UserConfig) -> None:
        if not self.may_use(user):
            raise PermissionDenied(permission=PERMISSION)

    def route(self, user: UserConfig, did: str) -> Route:
        """A route the user may manage (NotFound for one that is not configured)."""
        self._require_any(user)
        route = next((r for r in self.routes() if r.did == did), None)
        if route is None:
            raise NotFound("offhour.error.no_such_route", did=clip(did))
        if not self.may_manage(user, route):
            raise PermissionDenied(permission=ADMIN_PERMISSION if route.generic else PERMISSION)
        return route

    async def overview(self, user: UserConfig) -> list[RouteView]:
        """The routes the user may manage, each with its rule and whether it applies now."""
        self._require_any(user)
        rules = await self._rules()
        now = self.now()
        out = []
        for route in self.routes():
            if self.may_manage(user, route):
                rule = rules.get(route.did, Rule(route.did, timezone=self.timezone))
                out.append(RouteView(route, rule, rule.active(now)))
        return out

    # -- rules -----------------------------------------------------------------

    def parse_time(self, text: str, timezone: str, field: str) -> float:
        """A datetime-local value (``2026-08-01T18:00``) in ``timezone`` -> epoch seconds."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadArgument("offhour.error.bad_timezone", timezone=clip(timezone)) from None
        text = (text or "").strip()
        for pattern in (_LOCAL_TIME, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                naive = datetime.strptime(text, pattern)
            except ValueError:
                continue
            return naive.replace(tzinfo=zone).timestamp()
        raise BadArgument("offhour.error.bad_time", field=field, value=clip(text))

    def check_target(self, action: str, target: str) -> str:
        """The voicemail box or redirect destination, validated as anything reaching the AMI."""
        target = (target or "").strip()
        if action == "hangup":
            return ""
        if not target:
            raise BadArgument("offhour.error.no_target")
        try:
            if action == "voicemail":
                return validate.extension(target, "voicemail box")
            return validate.dial_number(target, "destination")
        except AmiValueError as exc:
            raise BadArgument("error.bad_value", field=exc.field, expected=exc.expected) from None

    async def set_rule(
        self,
        user: UserConfig,
        did: str,
        *,
        mode: str,
        action: str = "hangup",
        target: str = "",
        start: str = "",
        end: str = "",
        timezone: str | None = None,
        announcement: int | str | None = None,
    ) -> Rule:
        """Store a route's rule and publish it to the PBX (PbxUnavailable: stored, not sent)."""
        route = self.route(user, did)
        if mode not in MODES:
            raise BadArgument("offhour.error.bad_mode", mode=clip(str(mode)))
        if action not in ACTIONS:
            raise BadArgument("offhour.error.bad_action", action=clip(str(action)))
        timezone = (timezone or self.timezone).strip()
        begin = until = None
        if mode == "between":
            begin = self.parse_time(start, timezone, "start")
            until = self.parse_time(end, timezone, "end")
            if until <= begin:
                raise BadArgument("offhour.error.end_before_start")
        elif not valid_timezone(timezone):
            timezone = self.timezone  # no date-times to read in it: the default will do
        target = self.check_target(action, target)
        chosen: int | None = None
        if announcement not in (None, "", 0, "0"):
            chosen = (await self._usable(user, str(announcement))).id
        rule = Rule(
            route.did, mode, begin, until, timezone, action, target, chosen, user.name, self.now()
        )
        async with self._lock:
            await self._store_and_publish(rule)
        return rule

    async def _store_and_publish(self, rule: Rule) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO offhour_rules (did, mode, start, end, timezone, action, "
            "target, announcement, updated_by, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rule.did,
                rule.mode,
                rule.start,
                rule.end,
                rule.timezone,
                rule.action,
                rule.target,
                rule.announcement,
                rule.updated_by,
                rule.updated,
            ),
        )
        await self.db.commit()
        self.ctx.log.info("off-hour rule of %s set by %s: %s", rule.did, rule.updated_by, rule.mode)
        await self.changed(dids=(rule.did,))
        await self.publish(rule)

    def astdb_values(self, rule: Rule) -> dict[str, str]:
        """What the dialplan reads for a rule, key by key."""
        sound = f"{SOUNDS_SUBDIR}/offhour-{rule.announcement}" if rule.announcement else ""
        return {
            "mode": rule.mode,
            "start": str(int(rule.start)) if rule.start is not None else "",
            "end": str(int(rule.end)) if rule.end is not None else "",
            "action": rule.action,
            "target": rule.target,
            "announcement": sound,
        }

    async def publish(self, rule: Rule) -> None:
        """Write a rule to the AstDB (``<family>/<did>/<key>``) through validated builders."""
        self.require_pbx()
        family = f"{self.family}/{rule.did}"
        for key, value in self.astdb_values(rule).items():
            await self.send(self.build(actions.db_put, family, key, value))

    async def publish_all(self) -> int:
        """Every configured route's rule (never when none is stored): after each (re)connect."""
        async with self._lock:
            return await self._publish_all()

    async def _publish_all(self) -> int:
        rules = await self._rules()
        count = 0
        for route in self.routes():
            rule = rules.get(route.did, Rule(route.did))
            try:
                await self.publish(rule)
            except (PbxUnavailable, PbxRefused) as exc:
                self.ctx.log.info("off-hour rule of %s not published: %s", route.did, exc)
                return count
            count += 1
        await self._forget_others({r.did for r in self.routes()})
        self.published += 1
        return count

    async def _forget_others(self, configured: set[str]) -> None:
        """DBDel the rules of routes no longer configured (a PBX without DBGetTree: kept)."""
        try:
            entries = await self.send(actions.db_get_tree(self.family))
        except (PbxUnavailable, PbxRefused):
            return
        prefix = f"/{self.family}/"
        for entry in entries if isinstance(entries, list) else []:
            path = str(entry.get("Key", ""))
            did, _, key = path[len(prefix) :].partition("/")
            if not path.startswith(prefix) or did in configured or key not in KEYS:
                continue
            with contextlib.suppress(PbxRefused, BadArgument):
                await self.send(self.build(actions.db_del, f"{self.family}/{did}", key))

    async def _rules(self) -> dict[str, Rule]:
        async with self.db.execute(
            "SELECT did, mode, start, end, timezone, action, target, announcement, updated_by, "
            "updated FROM offhour_rules"
        ) as cursor:
            rows = await cursor.fetchall()
        return {row[0]: Rule(*row) for row in rows}

    # -- announcements ---------------------------------------------------------

    def file_of(self, announcement: Announcement | int) -> Path:
        """The WAV file of an announcement (its id only: never a name from a request)."""
        number = announcement.id if isinstance(announcement, Announcement) else int(announcement)
        return self.sounds_dir / SOUNDS_SUBDIR / f"offhour-{number}.wav"

    async def announcements(self, user: UserConfig) -> list[Announcement]:
        """The user's own announcements and everyone's public ones, newest first."""
        self._require_any(user)
        await self._keep_recorded()
        return await self.visible(user)

    async def visible(self, user: UserConfig) -> list[Announcement]:
        """The announcements the user may see, as stored now (newest first)."""
        self._require_any(user)
        return await self._select(
            "(author = ? OR (public AND state = 'ready')) ORDER BY id DESC", (user.name,)
        )

    async def announcement(self, user: UserConfig, number: str | int) -> Announcement:
        """One announcement the user may see (theirs, or a public one)."""
        self._require_any(user)
        text = str(number)
        if _ID_RE.fullmatch(text) is None:
            raise NotFound("offhour.error.no_such_announcement", id=clip(text))
        found = await self._select("id = ?", (int(text),))
        if not found or (found[0].author != user.name and not found[0].public):
            raise NotFound("offhour.error.no_such_announcement", id=clip(text))
        return found[0]

    async def _usable(self, user: UserConfig, number: str) -> Announcement:
        found = await self.announcement(user, number)
        if found.state != "ready":
            raise BadArgument("offhour.error.not_ready", id=found.id)
        return found

    async def _own(self, user: UserConfig, number: str | int) -> Announcement:
        found = await self.announcement(user, number)
        if found.author != user.name:
            raise PermissionDenied(permission="offhour.author")
        return found

    def audio_file(self, announcement: Announcement) -> Path | None:
        """The file to play in the page, when it is there."""
        path = self.file_of(announcement)
        return path if path.is_file() else None

    def _clean_description(self, text: str) -> str:
        text = " ".join((text or "").split())
        if not text:
            raise BadArgument("offhour.error.no_description")
        if len(text) > 200:
            raise BadArgument("offhour.error.description_too_long", maximum=200)
        return text

    async def upload(
        self, user: UserConfig, data: bytes, description: str, public: bool = False
    ) -> Announcement:
        """A WAV or MP3 upload, converted to 8 kHz mono WAV; nothing is kept when it fails."""
        self._require_any(user)
        description = self._clean_description(description)
        if len(data) > self.max_upload:
            raise BadArgument("offhour.error.too_big", maximum=self.max_upload // 1000)
        if audio.sniff(data) is None:
            raise BadArgument("offhour.error.not_audio")
        created = self.now()
        cursor = await self.db.execute(
            "INSERT INTO offhour_announcements (author, description, public, created, state) "
            "VALUES (?, ?, ?, ?, 'converting')",
            (user.name, description, int(bool(public)), created),
        )
        number = int(cursor.lastrowid)
        await self.db.commit()
        try:
            await audio.convert(
                data, self.file_of(number), sox=self.sox, max_seconds=self.max_seconds
            )
        except audio.AudioError as exc:
            await self.db.execute("DELETE FROM offhour_announcements WHERE id = ?", (number,))
            await self.db.commit()
            raise BadArgument(exc.key, **exc.params) from None
        except OSError as exc:  # the sounds folder: read-only, full, a file in its place
            await self.db.execute("DELETE FROM offhour_announcements WHERE id = ?", (number,))
            await self.db.commit()
            self.ctx.log.warning("off-hour announcement not stored: %s", exc)
            raise SoundsUnwritable() from None
        except BaseException:
            await self.db.execute("DELETE FROM offhour_announcements WHERE id = ?", (number,))
            await self.db.commit()
            raise
        await self.db.execute(
            "UPDATE offhour_announcements SET state = 'ready' WHERE id = ?", (number,)
        )
        await self.db.commit()
        found = Announcement(number, user.name, description, bool(public), created)
        await self.changed(announcements=(found,))
        return found

    async def record_by_phone(
        self, user: UserConfig, description: str, public: bool = False
    ) -> Announcement:
        """The user's phone rings; answered, it records (``Record``) into the new announcement."""
        self._require_any(user)
        description = self._clean_description(description)
        self.require_pbx()
        created = self.now()
        cursor = await self.db.execute(
            "INSERT INTO offhour_announcements (author, description, public, created, state) "
            "VALUES (?, ?, ?, ?, 'recording')",
            (user.name, description, int(bool(public)), created),
        )
        number = int(cursor.lastrowid)
        await self.db.commit()
        found = Announcement(number, user.name, description, bool(public), created, "recording")
        # Record(file.wav,silence,maxduration,options): k keeps what was recorded on hangup.
        data = f"{found.sound}.wav,5,{int(self.max_seconds)},k"
        name, ext = self.caller_id(user)
        action = self.build(
            actions.originate_application,
            self.device(user),
            "Record",
            data,
            caller_id=(name or "ctibot", ext),
        )
        try:
            await self.send(action)
        except BaseException:
            await self.db.execute("DELETE FROM offhour_announcements WHERE id = ?", (number,))
            await self.db.commit()
            raise
        self.recording.add(number)
        await self.changed(announcements=(found,))
        return found

    async def call_ended(self, tries: int = 20, pause: float = 0.25) -> None:
        """A call ended: a recording by phone may be written now (the PBX writes the file
        as the phone hangs up; it is looked for a few times)."""
        for _ in range(tries):
            if not self.recording:
                return
            await self._keep_recorded()
            if not self.recording:
                return
            await asyncio.sleep(pause)

    async def _keep_recorded(self) -> None:
        """Recordings by phone whose file the PBX has written become ready."""
        # An upload whose conversion never finished (ctibot stopped meanwhile): forgotten.
        await self.db.execute(
            "DELETE FROM offhour_announcements WHERE state = 'converting' AND created < ?",
            (self.now() - 600,),
        )
        changed: list[Announcement] = []
        pending = await self._select("state = 'recording'", ())
        self.recording &= {found.id for found in pending}
        for found in pending:
            length = audio.duration(self.file_of(found))
            if length is not None and length > 0:
                await self.db.execute(
                    "UPDATE offhour_announcements SET state = 'ready' WHERE id = ?", (found.id,)
                )
                await self.db.commit()
                changed.append(found)
                self.recording.discard(found.id)
            elif self.now() - found.created > self.max_seconds + RECORD_GRACE:
                # Never answered, or hung up before saying anything: nothing to keep.
                await self.db.execute(
                    "DELETE FROM offhour_announcements WHERE id = ? AND state = 'recording'",
                    (found.id,),
                )
                await self.db.commit()
                changed.append(found)
                self.recording.discard(found.id)
        if changed:
            await self.changed(announcements=tuple(changed))

    async def update_announcement(
        self, user: UserConfig, number: str | int, description: str, public: bool
    ) -> Announcement:
        """Change the description or visibility (the author only)."""
        found = await self._own(user, number)
        description = self._clean_description(description)
        await self.db.execute(
            "UPDATE offhour_announcements SET description = ?, public = ? WHERE id = ?",
            (description, int(bool(public)), found.id),
        )
        await self.db.commit()
        updated = Announcement(
            found.id, found.author, description, bool(public), found.created, found.state
        )
        await self.changed(announcements=(found, updated))  # public before or now: everyone
        return updated

    async def delete_announcement(self, user: UserConfig, number: str | int) -> Announcement:
        """Throw away an announcement (the author only; not while a rule uses it)."""
        found = await self._own(user, number)
        async with self.db.execute(
            "SELECT did FROM offhour_rules WHERE announcement = ?", (found.id,)
        ) as cursor:
            used = [row[0] for row in await cursor.fetchall()]
        if used:
            raise BadArgument("offhour.error.in_use", routes=", ".join(used))
        # The file first: when the folder is read-only the announcement stays, whole.
        try:
            self.file_of(found).unlink(missing_ok=True)
        except OSError as exc:
            self.ctx.log.warning("off-hour announcement %s not deleted: %s", found.id, exc)
            raise SoundsUnwritable() from None
        await self.db.execute("DELETE FROM offhour_announcements WHERE id = ?", (found.id,))
        await self.db.commit()
        await self.changed(announcements=(found,))
        return found

    async def _select(self, where: str, params: tuple[Any, ...]) -> list[Announcement]:
        async with self.db.execute(
            "SELECT id, author, description, public, created, state FROM offhour_announcements "
            f"WHERE {where}",
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [Announcement(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]
