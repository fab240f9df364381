"""Offline notices (F13, F28): new post-its and voicemails by e-mail and SMS, while away.

A notice is for a user who is not logged in — no XMPP resource online and no panel
open — who asked for that kind in their settings (``settings.notices``) and has the
endpoint (``email`` / ``mobile`` in ``[[users]]``). Every post-it and voicemail seen is
claimed once in ``notify_sent`` before anything goes out, so a resync or a restart never
sends a notice twice; a burst is gathered for ``coalesce`` seconds into one mail and one
SMS, and ``per_hour`` bounds how many a user gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ctibot.plugin import PluginContext, ServiceError, SettingError, UserConfig, clip, translate

from .mail import ADDRESS, DEFAULT_PORTS, MailError, MailSettings, build_message, one_line
from .mail import send_mail as _send_mail

KINDS = ("postit", "voicemail")
CHANNELS = ("email", "sms")
#: The settings plugin's store key for the notices a user asked for.
NOTICES_KEY = "settings.notices"
PAGES = {"postit": "/postits", "voicemail": "/voicemail"}
#: Items one mail lists at most (a box that fills at once: the rest is counted).
MAX_LISTED = 20
SMS_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Notice:
    """Something new for a user: a post-it or a voicemail (texts from strangers: plain text)."""

    kind: str  # "postit" | "voicemail"
    ref: str  # what it is, once: postit:<id> / voicemail:<box>/<msg>|<origtime>
    who: str  # the post-it's author, the voicemail's caller
    at: float
    text: str = ""  # the post-it's text
    box: str = ""
    duration: int = 0


@dataclass
class _Waiting:
    row: int
    notice: Notice
    channels: tuple[str, ...]


@dataclass
class _Batch:
    items: list[_Waiting] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class NotifyService:
    """Decides who gets a notice and sends it (mail here, SMS through the sms plugin)."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        s = ctx.settings
        self.mail: MailSettings | None = None
        host = str(s.get("smtp_host", ""))
        if host:
            security = str(s.get("security", "starttls"))
            sender = str(s.get("sender", ""))
            if not ADDRESS.fullmatch(sender):
                raise SettingError("sender", "the From address of the notices", sender)
            self.mail = MailSettings(
                host=host,
                port=int(s.get("smtp_port", 0)) or DEFAULT_PORTS[security],
                security=security,
                username=str(s.get("username", "")),
                password=str(s.get("password", "")),
                sender=sender,
                ca_file=str(s.get("ca_file", "")),
                timeout=float(s.get("timeout", 10.0)),
            )
        self.coalesce = float(s.get("coalesce", 30.0))
        self.per_hour = int(s.get("per_hour", 12))
        self.sms = ctx.services.get("sms")
        self.postit = ctx.services.get("postit")
        self.voicemail = ctx.services.get("voicemail")
        self.panel: Any = None  # the web panel (WebApi), once the routes are added
        self._batches: dict[str, _Batch] = {}
        self._sent_at: dict[str, deque[float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._down: set[str] = set()  # channels whose last attempt failed (logged once)
        self._stopping = False

    @property
    def db(self) -> Any:
        return self.ctx.store.db

    # -- who gets what -------------------------------------------------------------------

    def online(self, user: UserConfig) -> bool:
        """Logged in to the CTI: an XMPP resource seen online, or a panel socket open."""
        xmpp = self.ctx.xmpp
        if xmpp is not None and xmpp.is_online(user) is True:
            return True
        return self.panel is not None and bool(self.panel.connected(user))

    def endpoints(self, user: UserConfig) -> dict[str, bool]:
        """Which channels can reach the user: an e-mail address (and a server), a mobile."""
        return {
            "email": self.mail is not None and bool(user.email and ADDRESS.fullmatch(user.email)),
            "sms": self.sms is not None and bool(user.mobile),
        }

    async def wanted(self, user: UserConfig, kind: str) -> tuple[str, ...]:
        """The channels the user asked for this kind of notice on and can be reached by."""
        chosen = await self.ctx.store.get_setting(user.name, NOTICES_KEY, [])
        reach = self.endpoints(user)
        chosen = chosen if isinstance(chosen, list) else []
        return tuple(c for c in CHANNELS if f"{kind}_{c}" in chosen and reach[c])

    # -- what happened -------------------------------------------------------------------

    def postit_left(self, left: Any) -> None:
        """The post-it plugin's hook: a post-it was stored for ``left.recipient``."""
        postit = left.postit
        author = self.postit.name_of(postit.author) if self.postit is not None else postit.author
        notice = Notice("postit", f"postit:{postit.id}", author, postit.created, text=postit.text)
        self.spawn(self.notice(left.recipient, notice))

    async def voicemail_changed(self, box: str) -> int:
        """A box's counts changed: each owner's INBOX messages not seen before are notices."""
        found = 0
        for user, entry in self._inbox(box):
            found += await self.notice(user, self._voicemail_notice(entry))
        return found

    def _inbox(self, box: str) -> list[tuple[UserConfig, Any]]:
        vm = self.voicemail
        if vm is None:
            return []
        out: list[tuple[UserConfig, Any]] = []
        for user in vm.owners(box):
            try:
                out += [(user, e) for e in vm.messages(user, box) if e.new]
            except ServiceError:
                continue  # not allowed to have voicemail, or no such box
        return out

    @staticmethod
    def _voicemail_notice(entry: Any) -> Notice:
        at = float(entry.origtime) if entry.origtime else time.time()
        return Notice(
            "voicemail",
            f"voicemail:{entry.box}/{entry.id}|{entry.origtime}",
            entry.caller,
            at,
            box=entry.box,
            duration=int(entry.duration or 0),
        )

    async def learn(self) -> int:
        """Claim every voicemail already in the boxes (at start-up): never a notice for those."""
        count = 0
        for user in self.ctx.config.users:
            boxes = self.voicemail.boxes(user) if self.voicemail is not None else ()
            for box in boxes:
                for owner, entry in self._inbox(box):
                    if owner.name == user.name:
                        notice = self._voicemail_notice(entry)
                        count += await self._claim(user, notice, "baseline") is not None
        return count

    async def notice(self, user: UserConfig, notice: Notice) -> int:
        """Claim the notice (once ever); queue it when the user is away and asked for it.

        Returns 1 when it was queued to go out, else 0.
        """
        row = await self._claim(user, notice, "pending")
        if row is None:
            return 0  # seen before: a resync, a restart, a second event
        channels = await self.wanted(user, notice.kind)
        why = None
        if not channels:
            why = "not wanted"
        elif self.online(user):
            why = "online"
        elif self.per_hour and len(self._recent(user.name)) >= self.per_hour:
            why = "rate"
            self.ctx.log.info("notify: %s had %d notices this hour", user.name, self.per_hour)
        if why is not None:
            await self._mark([row], "skipped", why)
            return 0
        batch = self._batches.setdefault(user.name, _Batch())
        batch.items.append(_Waiting(row, notice, channels))
        if batch.task is None and not self._stopping:
            batch.task = self.spawn(self._flush_later(user))
        return 1

    async def _claim(self, user: UserConfig, notice: Notice, status: str) -> int | None:
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO notify_sent (user, ref, kind, status, at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user.name, notice.ref, notice.kind, status, self._now()),
        )
        await self.db.commit()
        return int(cursor.lastrowid) if cursor.rowcount else None

    async def _mark(self, rows: list[int], status: str, channels: str) -> None:
        await self.db.executemany(
            "UPDATE notify_sent SET status = ?, channels = ?, at = ? WHERE id = ?",
            [(status, channels, self._now(), row) for row in rows],
        )
        await self.db.commit()

    async def status(self, user: str, ref: str) -> tuple[str, str] | None:
        """What became of a notice: (status, channels), None when never seen."""
        async with self.db.execute(
            "SELECT status, channels FROM notify_sent WHERE user = ? AND ref = ?", (user, ref)
        ) as cursor:
            row = await cursor.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    # -- sending ---------------------------------------------------------------------------

    async def _flush_later(self, user: UserConfig) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(self.coalesce)
        await self.flush(user)

    async def flush(self, user: UserConfig) -> None:
        """Send what waits for the user: one mail and one SMS for the whole batch."""
        batch = self._batches.pop(user.name, None)
        if batch is None or not batch.items:
            return
        self._recent(user.name).append(self._now())
        done: dict[int, list[str]] = {w.row: [] for w in batch.items}
        for channel in CHANNELS:
            items = [w for w in batch.items if channel in w.channels]
            if not items:
                continue
            if await self._send(channel, user, [w.notice for w in items], items[0].row):
                for w in items:
                    done[w.row].append(channel)
        sent = [row for row, channels in done.items() if channels]
        for row in sent:
            await self._mark([row], "sent", " ".join(done[row]))
        failed = [row for row, channels in done.items() if not channels]
        if failed:
            await self._mark(failed, "failed", "")

    async def _send(
        self, channel: str, user: UserConfig, notices: list[Notice], first: int
    ) -> bool:
        try:
            if channel == "email":
                await self.send_mail(user, notices)
            else:
                await self.send_sms(user, notices, first)
        except (MailError, ServiceError) as exc:
            why = exc.key if isinstance(exc, ServiceError) else str(exc)
            if channel not in self._down:
                self._down.add(channel)
                self.ctx.log.warning("notify: %s to %s not sent: %s", channel, user.name, why)
            else:
                self.ctx.log.debug("notify: %s to %s not sent: %s", channel, user.name, why)
            return False
        except Exception:
            self.ctx.log.exception("notify: %s to %s failed", channel, user.name)
            return False
        if channel in self._down:
            self._down.discard(channel)
            self.ctx.log.info("notify: %s goes out again", channel)
        return True

    async def send_mail(self, user: UserConfig, notices: list[Notice]) -> None:
        if self.mail is None or not user.email:
            raise MailError("no mail server or no address")
        subject, body = self.compose(user, notices)
        await _send_mail(self.mail, build_message(self.mail, user.email, subject, body))
        self.ctx.log.info("notify: mail to %s: %d notice(s)", user.name, len(notices))

    async def send_sms(self, user: UserConfig, notices: list[Notice], first: int) -> None:
        if self.sms is None or not user.mobile:
            raise ServiceError("notify.error.no_sms")
        text = self.sms_text(user, notices)
        await self.sms.send(user, user.mobile, text, origin_id=f"notify:{first}")

    # -- the words -------------------------------------------------------------------------

    def link(self, kind: str) -> str:
        web = self.ctx.config.web
        base = str(getattr(web, "public_url", "") or "").rstrip("/")
        return f"{base}{PAGES[kind]}" if base else ""

    def compose(self, user: UserConfig, notices: list[Notice]) -> tuple[str, str]:
        """The subject and plain-text body of one mail, in the user's language."""
        lang = user.language

        def t(key: str, **params: Any) -> str:
            return translate(f"notify.{key}", lang, **params)

        kinds = {n.kind for n in notices}
        if len(notices) == 1:
            n = notices[0]
            subject = t(f"subject.{n.kind}", who=one_line(n.who, 80))
        elif len(kinds) == 1:
            subject = t(f"subject.{next(iter(kinds))}s", count=len(notices))
        else:
            subject = t("subject.mixed", count=len(notices))
        lines = [t("mail.hello", name=user.fullname), "", t("mail.intro"), ""]
        for n in notices[:MAX_LISTED]:
            when = time.strftime("%d/%m/%Y %H:%M", time.localtime(n.at))
            if n.kind == "postit":
                lines.append(t("mail.postit", who=one_line(n.who, 80), when=when))
                lines += ["    " + line for line in clip(n.text, 2000).splitlines()]
            else:
                lines.append(
                    t(
                        "mail.voicemail",
                        who=one_line(n.who, 80),
                        when=when,
                        box=n.box,
                        duration=n.duration,
                    )
                )
            lines.append("")
        if len(notices) > MAX_LISTED:
            lines += [t("mail.more", count=len(notices) - MAX_LISTED), ""]
        for kind in KINDS:
            url = self.link(kind)
            if url and kind in kinds:
                lines.append(t(f"mail.link.{kind}", url=url))
        lines += ["", "-- ", t("mail.footer")]
        return subject, "\n".join(lines) + "\n"

    def sms_text(self, user: UserConfig, notices: list[Notice]) -> str:
        """One short SMS for the batch, in the user's language."""
        lang = user.language
        kinds = {n.kind for n in notices}
        if len(notices) == 1:
            n = notices[0]
            text = translate(
                f"notify.sms.{n.kind}",
                lang,
                who=one_line(n.who, 60),
                text=one_line(n.text, 120),
                duration=n.duration,
                box=n.box,
            )
        else:
            text = translate("notify.sms.many", lang, count=len(notices))
        urls = [self.link(k) for k in KINDS if k in kinds and self.link(k)]
        if urls:
            text += " " + " ".join(urls)
        return clip(text, SMS_LENGTH)

    # -- housekeeping ----------------------------------------------------------------------

    def _recent(self, name: str) -> deque[float]:
        sent = self._sent_at.setdefault(name, deque())
        while sent and sent[0] < self._now() - 3600:
            sent.popleft()
        return sent

    def _now(self) -> float:
        return float(self.ctx.clock())

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.ctx.log.error("notify: a notice failed", exc_info=task.exception())

    async def stop(self) -> None:
        """Send what waits now (ctibot stops), and wait for what is on its way."""
        self._stopping = True
        for batch in list(self._batches.values()):
            if batch.task is not None:
                batch.task.cancel()  # _flush_later flushes at once when cancelled
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=(self.mail.timeout if self.mail else 10))


async def setup(ctx: PluginContext, service: NotifyService) -> None:
    """Learn the voicemails already there, and hear of each post-it left."""
    await service.learn()
    if service.postit is not None:
        service.postit.on_left.append(service.postit_left)


async def teardown(ctx: PluginContext, service: NotifyService) -> None:
    if service.postit is not None and service.postit_left in service.postit.on_left:
        service.postit.on_left.remove(service.postit_left)
    await service.stop()
