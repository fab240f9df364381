"""Post-its (F11): leave a short note for a colleague, list, read and delete them.

A post-it goes at once to the recipient's chat, as a message from the author's
virtual JID (so a reply there is a post-it back); one left for someone who is
offline waits in the database until they come back. It is read when the
recipient's client says so (an XEP-0333 *displayed* marker) or when they read it
with ``postit read``; then the author's client gets a *displayed* marker for the
message they wrote (when it came through chat). A post-it that waited carries an
XEP-0203 delay with the time it was written. An author may leave ``per_window``
post-its in ``window_minutes`` (counted from the table, so a restart forgets nothing).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from ctibot.plugin import (
    BadArgument,
    NotFound,
    PermissionDenied,
    PluginContext,
    TooMany,
    UserConfig,
    clip,
)

PERMISSION = "postit"
#: What XML 1.0 cannot carry, and the other control characters (C1, DEL) a note has no use
#: for: removed before storing, so what is kept is what is shown, whichever surface wrote it.
_NOT_XML = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: A chat message id ctibot keeps and echoes back in a marker: short, plain characters.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")
_COLUMNS = "id, author, recipient, text, created, delivered, read, message_id, origin_id"


def message_id_ok(value: str | None) -> bool:
    """Whether a client's message id is one ctibot may keep and send back (hostile-safe)."""
    return value is not None and _MESSAGE_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Postit:
    """One post-it as stored."""

    id: int
    author: str
    recipient: str
    text: str
    created: float
    delivered: float | None = None
    read: float | None = None
    message_id: str | None = None
    origin_id: str | None = None  # the id of the author's chat message that wrote it

    @property
    def unread(self) -> bool:
        return self.read is None


@dataclass(frozen=True, slots=True)
class PostitLeft:
    """What ``leave`` did: the post-it, and whether it reached the recipient's chat."""

    postit: Postit
    recipient: UserConfig
    delivered: bool


class PostitService:
    """Every post-it action; each method takes the acting user first."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.max_length: int = int(ctx.settings.get("max_length", 1000))
        self.list_limit: int = int(ctx.settings.get("list_limit", 20))
        self.per_window: int = int(ctx.settings.get("per_window", 30))
        self.window: float = 60.0 * float(ctx.settings.get("window_minutes", 10))
        self._locks: dict[str, asyncio.Lock] = {}
        #: Called with the names of the users whose post-its changed (the web panel's live part).
        self.listeners: list[Any] = []
        #: Called with each PostitLeft once it is stored (the notify plugin's offline notices).
        self.on_left: list[Any] = []

    @property
    def db(self) -> Any:
        return self.ctx.store.db

    # -- checks ----------------------------------------------------------------

    def may(self, user: UserConfig) -> bool:
        return PERMISSION in self.ctx.config.permissions_of(user)

    def require(self, user: UserConfig) -> None:
        if not self.may(user):
            raise PermissionDenied(permission=PERMISSION)

    def user_named(self, name: str) -> UserConfig | None:
        """A user by login name (any case) or by one of their extensions."""
        wanted = name.strip().casefold()
        for user in self.ctx.config.users:
            if user.name.casefold() == wanted:
                return user
        for user in self.ctx.config.users:
            if wanted in user.extensions:
                return user
        return None

    def recipients(self, user: UserConfig) -> list[UserConfig]:
        """Whom a user can leave a post-it for (the ad-hoc form's list)."""
        return [u for u in self.ctx.config.users if u.name != user.name]

    def name_of(self, login: str) -> str:
        found = self.user_named(login)
        return found.fullname if found is not None else login

    def clean(self, text: str) -> str:
        """The text as it will be kept: trimmed, XML-safe, length-checked."""
        text = _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
        if not text:
            raise BadArgument("postit.error.empty")
        if len(text) > self.max_length:
            raise BadArgument("postit.error.too_long", length=len(text), maximum=self.max_length)
        return text

    # -- actions ---------------------------------------------------------------

    async def leave(
        self, user: UserConfig, to: str, text: str, *, origin_id: str | None = None
    ) -> PostitLeft:
        """Leave a post-it for the user ``to``; it goes to their chat now if they are online.

        ``origin_id``: the id of the chat message that wrote it (kept when it is a safe
        id, for the *displayed* marker the author gets back). Refused, with nothing
        stored, when the author has left ``per_window`` post-its in the window.
        """
        self.require(user)
        recipient = self.user_named(to)
        if recipient is None:
            raise NotFound("postit.error.no_such_user", name=clip(to))
        text = self.clean(text)
        origin = origin_id if message_id_ok(origin_id) else None
        # One author's post-its one at a time: the count and the INSERT are one step.
        lock = self._locks.setdefault(user.name, asyncio.Lock())
        async with lock:
            return await self._leave(user, recipient, text, origin)

    async def _leave(
        self, user: UserConfig, recipient: UserConfig, text: str, origin: str | None
    ) -> PostitLeft:
        created = self._now()
        await self._check_rate(user, created)
        # Claimed for delivery in the same INSERT when it goes out now: a login at this
        # moment (deliver_waiting) never sends it a second time. Written, then sent, then
        # committed: a commit may checkpoint the WAL (an fsync, tens of milliseconds),
        # which has no business between Alice's message and Bob's screen.
        now = self._reachable(recipient) is not False
        try:
            cursor = await self.db.execute(
                "INSERT INTO postits (author, recipient, text, created, delivered, origin_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user.name, recipient.name, text, created, created if now else None, origin),
            )
            postit = Postit(
                int(cursor.lastrowid), user.name, recipient.name, text, created, origin_id=origin
            )
            delivered = now and await self._deliver(recipient, postit, late=False, commit=False)
        finally:
            await self.db.commit()
        self._changed(user.name, recipient.name)
        left = PostitLeft(postit, recipient, delivered)
        for hook in list(self.on_left):
            try:
                hook(left)
            except Exception:
                self.ctx.log.exception("post-it #%s: a hook failed", postit.id)
        return left

    async def mine(self, user: UserConfig) -> list[Postit]:
        """The user's post-its: unread first, newest first within each."""
        self.require(user)
        return await self._select(
            "recipient = ? AND NOT recipient_deleted ORDER BY read IS NOT NULL, id DESC LIMIT ?",
            (user.name, self.list_limit),
        )

    async def sent(self, user: UserConfig) -> list[Postit]:
        """The post-its the user left, newest first, each saying whether it was read."""
        self.require(user)
        return await self._select(
            "author = ? AND NOT author_deleted ORDER BY id DESC LIMIT ?",
            (user.name, self.list_limit),
        )

    async def unread_count(self, user: UserConfig) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM postits WHERE recipient = ? AND read IS NULL "
            "AND NOT recipient_deleted",
            (user.name,),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def read(self, user: UserConfig, number: int) -> Postit:
        """One post-it of the user's (or one they left); reading one's own marks it read."""
        self.require(user)
        postit = await self._visible(user, number)
        if postit.recipient == user.name and postit.read is None:
            await self.db.execute(
                "UPDATE postits SET read = ? WHERE id = ? AND read IS NULL",
                (self._now(), postit.id),
            )
            await self.db.commit()
            postit = await self._get(postit.id) or postit
            self._changed(postit.author, postit.recipient)
            await self._tell_author(user, postit.author)
        return postit

    async def delete(self, user: UserConfig, number: int) -> Postit:
        """Throw away one of the user's post-its (or withdraw one they left)."""
        self.require(user)
        postit = await self._visible(user, number)
        if postit.recipient == user.name:
            await self.db.execute(
                "UPDATE postits SET recipient_deleted = 1 WHERE id = ?", (postit.id,)
            )
        if postit.author == user.name:
            await self.db.execute(
                "UPDATE postits SET author_deleted = 1 WHERE id = ?", (postit.id,)
            )
        await self.db.execute(
            "DELETE FROM postits WHERE id = ? AND author_deleted AND recipient_deleted",
            (postit.id,),
        )
        await self.db.commit()
        self._changed(user.name)
        return postit

    async def displayed(self, user: UserConfig, author: str, message_id: str) -> int:
        """An XEP-0333 *displayed* marker from ``user`` for a message from ``author``.

        The marker says this message and every earlier one in the conversation were
        seen: each post-it from ``author`` delivered up to it is read, and the author's
        client hears so. Returns how many. An id no message of ctibot's can have is ignored.
        """
        if not message_id_ok(message_id):
            return 0
        async with self.db.execute(
            "SELECT id FROM postits WHERE recipient = ? AND author = ? AND message_id = ?",
            (user.name, author, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return 0
        cursor = await self.db.execute(
            "UPDATE postits SET read = ? WHERE recipient = ? AND author = ? AND id <= ? "
            "AND read IS NULL AND delivered IS NOT NULL",
            (self._now(), user.name, author, row[0]),
        )
        await self.db.commit()
        if cursor.rowcount:
            self._changed(user.name, author)
            await self._tell_author(user, author)
        return int(cursor.rowcount)

    async def deliver_waiting(self, user: UserConfig) -> int:
        """Send a user who just came online the post-its left while they were away."""
        waiting = await self._select(
            "recipient = ? AND delivered IS NULL AND read IS NULL AND NOT recipient_deleted "
            "ORDER BY id",
            (user.name,),
        )
        sent = 0
        for postit in waiting:
            cursor = await self.db.execute(
                "UPDATE postits SET delivered = ? WHERE id = ? AND delivered IS NULL",
                (self._now(), postit.id),
            )
            await self.db.commit()
            if cursor.rowcount == 0:
                continue  # on its way already (left at this very moment)
            if not await self._deliver(user, postit, late=True):
                break
            sent += 1
        return sent

    # -- helpers ---------------------------------------------------------------

    async def _check_rate(self, user: UserConfig, now: float) -> None:
        """ServiceError when ``user`` has left ``per_window`` post-its in the window."""
        if not self.per_window:
            return
        async with self.db.execute(
            "SELECT created FROM postits WHERE author = ? AND created > ? "
            "ORDER BY created DESC LIMIT ?",
            (user.name, now - self.window, self.per_window),
        ) as cursor:
            times = [float(row[0]) async for row in cursor]
        if len(times) < self.per_window:
            return
        again = min(times) + self.window  # when the oldest of them leaves the window
        raise TooMany(
            "postit.error.slow_down",
            count=len(times),
            minutes=round(self.window / 60),
            at=_clock(again, now),
            wait=max(1, math.ceil((again - now) / 60)),
        )

    async def _tell_author(self, recipient: UserConfig, author: str) -> None:
        """An XEP-0333 *displayed* marker to the author for the newest post-it of theirs
        the recipient has read with none unread before it (markers mean "up to here")."""
        xmpp = self.ctx.xmpp
        writer = self.ctx.config.user_by_name(author)
        if xmpp is None or writer is None or writer.jid is None:
            return
        if xmpp.is_online(writer) is False:
            return  # nothing to show it on; the post-its list says it was read
        async with self.db.execute(
            "SELECT origin_id FROM postits WHERE author = ? AND recipient = ? "
            "AND read IS NOT NULL AND origin_id IS NOT NULL AND id < COALESCE("
            "(SELECT MIN(id) FROM postits WHERE author = ? AND recipient = ? AND read IS NULL),"
            " 1e18) ORDER BY id DESC LIMIT 1",
            (author, recipient.name, author, recipient.name),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or not message_id_ok(row[0]):
            return
        xmpp.send_marker(writer, str(row[0]), frm=xmpp.jid_of(recipient.name))

    def _now(self) -> float:
        return float(self.ctx.clock())

    def _changed(self, *names: str) -> None:
        for listener in list(self.listeners):
            listener(*names)

    def _reachable(self, user: UserConfig) -> bool | None:
        xmpp = self.ctx.xmpp
        if xmpp is None or user.jid is None:
            return False
        return xmpp.is_online(user)

    async def _deliver(
        self, recipient: UserConfig, postit: Postit, *, late: bool, commit: bool = True
    ) -> bool:
        """The post-it (claimed: ``delivered`` set) as a chat message from its author's
        virtual JID; True when sent, else it is waiting again."""
        xmpp = self.ctx.xmpp
        message_id = None
        if xmpp is not None and recipient.jid is not None:
            body = postit.text
            if late:
                body = f"[{time.strftime('%d/%m %H:%M', time.localtime(postit.created))}] {body}"
            frm = xmpp.jid_of(postit.author)
            # XEP-0203: the time it was written, so the client shows that, not now.
            delay = postit.created if late else None
            message_id = xmpp.send_chat(recipient, body, frm=frm, markable=True, delay=delay)
        if message_id is None:
            await self.db.execute("UPDATE postits SET delivered = NULL WHERE id = ?", (postit.id,))
        else:
            await self.db.execute(
                "UPDATE postits SET message_id = ? WHERE id = ?", (message_id, postit.id)
            )
        if commit:
            await self.db.commit()
        return message_id is not None

    async def _visible(self, user: UserConfig, number: int) -> Postit:
        """A post-it the user received or left (and has not deleted), or NotFound."""
        found = await self._select(
            "id = ? AND ((recipient = ? AND NOT recipient_deleted) "
            "OR (author = ? AND NOT author_deleted))",
            (number, user.name, user.name),
        )
        if not found:
            raise NotFound("postit.error.no_such_postit", id=number)
        return found[0]

    async def _get(self, number: int) -> Postit | None:
        found = await self._select("id = ?", (number,))
        return found[0] if found else None

    async def _select(self, where: str, params: tuple[Any, ...]) -> list[Postit]:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM postits WHERE {where}", params) as c:
            return [Postit(*row) async for row in c]


def _clock(moment: float, now: float) -> str:
    """A moment as the user reads it: the time of day, with the date when not today."""
    then = time.localtime(moment)
    if then[:3] == time.localtime(now)[:3]:
        return time.strftime("%H:%M", then)
    return time.strftime("%d/%m %H:%M", then)
