"""The SMS plugin's table: every SMS sent or received, with its status, and its queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Versioned migrations of the plugin's own tables, run once each, in order.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sms (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,             -- the user who sent it, or whom it was for
        direction TEXT NOT NULL,        -- 'out' | 'in'
        number TEXT NOT NULL,           -- the other party (E.164; an inbound sender's name)
        own_number TEXT NOT NULL,       -- ours: the sender shown, or the number it came to
        text TEXT NOT NULL,
        parts INTEGER NOT NULL,
        status TEXT NOT NULL,           -- sending sent failed unknown received undelivered
        reason TEXT NOT NULL DEFAULT '',
        http_status INTEGER,
        gateway_id TEXT,
        origin_id TEXT,                 -- the chat message's id: the same stanza is sent once
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE INDEX sms_by_user ON sms (user, id);
    CREATE UNIQUE INDEX sms_by_origin ON sms (user, origin_id) WHERE origin_id IS NOT NULL;
    """,
)

_COLUMNS = (
    "id, user, direction, number, own_number, text, parts, status, reason, http_status, "
    "gateway_id, origin_id, created, updated"
)


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """One SMS as kept in the history."""

    id: int
    user: str
    direction: str
    number: str
    own_number: str
    text: str
    parts: int
    status: str
    reason: str
    http_status: int | None
    gateway_id: str | None
    origin_id: str | None
    created: float
    updated: float


class SmsStore:
    """Reads and writes the ``sms`` table of the shared database (an aiosqlite connection)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    async def add(
        self,
        *,
        user: str,
        direction: str,
        number: str,
        own_number: str,
        text: str,
        parts: int,
        status: str,
        at: float,
        origin_id: str | None = None,
    ) -> int | None:
        """A new row; None when the user already has one for this ``origin_id``."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO sms (user, direction, number, own_number, text, parts, "
            "status, origin_id, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (user, direction, number, own_number, text, parts, status, origin_id, at, at),
        )
        await self.db.commit()
        return cursor.lastrowid if cursor.rowcount > 0 else None

    async def update(
        self,
        sms_id: int,
        *,
        status: str,
        at: float,
        reason: str = "",
        http_status: int | None = None,
        gateway_id: str | None = None,
    ) -> None:
        await self.db.execute(
            "UPDATE sms SET status = ?, reason = ?, http_status = ?, gateway_id = ?, "
            "updated = ? WHERE id = ?",
            (status, reason, http_status, gateway_id, at, sms_id),
        )
        await self.db.commit()

    async def get(self, sms_id: int) -> SmsRecord | None:
        rows = await self._select("id = ?", (sms_id,))
        return rows[0] if rows else None

    async def history(self, user: str, limit: int) -> list[SmsRecord]:
        """The user's SMS, sent and received, newest first."""
        return await self._select("user = ? ORDER BY id DESC LIMIT ?", (user, limit))

    async def sent_times(self, user: str, since: float, limit: int) -> list[float]:
        """When the user's newest ``limit`` SMS since then were handed to the gateway; an SMS
        the gateway could not be reached for (nothing went out) is not counted."""
        async with self.db.execute(
            "SELECT created FROM sms WHERE user = ? AND direction = 'out' AND created > ? "
            "AND NOT (status = 'failed' AND reason = 'unreachable') "
            "ORDER BY created DESC LIMIT ?",
            (user, since, limit),
        ) as cursor:
            return [float(row[0]) async for row in cursor]

    async def count(self) -> int:
        async with self.db.execute("SELECT COUNT(*) FROM sms") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _select(self, where: str, params: tuple[Any, ...]) -> list[SmsRecord]:
        async with self.db.execute(f"SELECT {_COLUMNS} FROM sms WHERE {where}", params) as cursor:
            return [SmsRecord(*row) async for row in cursor]
