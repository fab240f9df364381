"""ctibot's own SQLite database: subscriptions, call history, settings, missed calls, sessions."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import aiosqlite

from ctibot.pbx.events import CallRecord

#: Versioned migrations: each runs once, in order, inside a transaction.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE subscriptions (
        contact TEXT NOT NULL,      -- local part of a virtual JID ('' = the component itself)
        jid TEXT NOT NULL,          -- the subscriber's bare JID
        since REAL NOT NULL,
        PRIMARY KEY (contact, jid)
    );
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL,
        record TEXT NOT NULL,       -- the CallRecord as JSON
        ended REAL NOT NULL
    );
    CREATE TABLE call_extensions (
        call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        extension TEXT NOT NULL
    );
    CREATE INDEX call_extensions_by_extension ON call_extensions (extension, call);
    CREATE TABLE settings (
        user TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,        -- JSON
        PRIMARY KEY (user, key)
    );
    CREATE TABLE missed_calls (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,
        record TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX missed_calls_by_user ON missed_calls (user, id);
    """,
    """
    CREATE TABLE web_sessions (
        hash TEXT PRIMARY KEY,      -- SHA-256 (hex) of the session id; never the id itself
        user TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,      -- wall-clock (time.time())
        seen REAL NOT NULL          -- wall-clock, written back lazily
    );
    CREATE INDEX web_sessions_by_seen ON web_sessions (seen);
    CREATE INDEX web_sessions_by_user ON web_sessions (user);
    """,
)


_PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def record_dict(record: CallRecord) -> dict[str, Any]:
    """A call record as JSON-ready data (``from`` spelled as in the snapshot)."""
    data = {k: getattr(record, k) for k in record.__dataclass_fields__}
    data["from"] = data.pop("from_")
    data["transfers"] = list(data["transfers"])
    return data


class Store:
    """The database, opened once per ctibot process (WAL: readers never block the writer)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating it and its folder if needed) and migrate."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path))
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        store = cls(db)
        await store._migrate()
        return store

    async def close(self) -> None:
        await self.db.close()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.db.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    async def migrate_plugin(self, plugin: str, migrations: tuple[str, ...]) -> list[int]:
        """Run a plugin's migrations not yet applied (versions 1, 2, … in order), each once in
        its own transaction; the versions applied now. A failing one is rolled back and raised.
        """
        if not _PLUGIN_NAME.fullmatch(plugin):
            raise ValueError(f"not a plugin name: {plugin!r}")
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS plugin_migrations (plugin TEXT NOT NULL, "
            "version INTEGER NOT NULL, applied REAL NOT NULL, PRIMARY KEY (plugin, version))"
        )
        await self.db.commit()
        async with self.db.execute(
            "SELECT version FROM plugin_migrations WHERE plugin = ?", (plugin,)
        ) as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        applied: list[int] = []
        for version, script in enumerate(migrations, start=1):
            if version in done:
                continue
            try:
                await self.db.executescript(
                    f"BEGIN;\n{script}\n;INSERT INTO plugin_migrations VALUES "
                    f"('{plugin}', {version}, {time.time()!r});\nCOMMIT;"
                )
            except Exception:
                if self.db.in_transaction:
                    await self.db.rollback()
                raise
            applied.append(version)
        return applied

    async def plugin_versions(self) -> dict[str, int]:
        """The last migration applied, per plugin."""
        try:
            async with self.db.execute(
                "SELECT plugin, MAX(version) FROM plugin_migrations GROUP BY plugin"
            ) as cursor:
                return {row[0]: row[1] for row in await cursor.fetchall()}
        except aiosqlite.OperationalError:
            return {}

    # -- presence subscriptions ------------------------------------------------------

    async def add_subscription(self, contact: str, jid: str) -> bool:
        """Remember that ``jid`` is subscribed to ``contact``; True when it is new."""
        cursor = await self.db.execute(
            "INSERT OR IGNORE INTO subscriptions (contact, jid, since) VALUES (?, ?, ?)",
            (contact, jid, time.time()),
        )
        await self.db.commit()
        return cursor.rowcount > 0

    async def remove_subscription(self, contact: str, jid: str) -> None:
        await self.db.execute(
            "DELETE FROM subscriptions WHERE contact = ? AND jid = ?", (contact, jid)
        )
        await self.db.commit()

    async def subscriptions(self) -> set[tuple[str, str]]:
        """Every (contact, subscriber) pair."""
        async with self.db.execute("SELECT contact, jid FROM subscriptions") as cursor:
            return {(row[0], row[1]) async for row in cursor}

    # -- call history -----------------------------------------------------------------

    async def add_call(self, record: CallRecord, extensions: list[str]) -> None:
        """Keep a finished call for the history of the extensions that took part."""
        cursor = await self.db.execute(
            "INSERT INTO calls (call_id, record, ended) VALUES (?, ?, ?)",
            (record.call_id, json.dumps(record_dict(record)), record.end),
        )
        rowid = cursor.lastrowid
        await self.db.executemany(
            "INSERT INTO call_extensions (call, extension) VALUES (?, ?)",
            [(rowid, ext) for ext in dict.fromkeys(extensions)],
        )
        await self.db.commit()

    async def calls_of(self, extensions: list[str], limit: int = 10) -> list[dict[str, Any]]:
        """The latest calls of these extensions, newest first."""
        if not extensions:
            return []
        marks = ",".join("?" * len(extensions))
        query = (
            "SELECT DISTINCT calls.id, calls.record FROM calls JOIN call_extensions "
            f"ON call_extensions.call = calls.id WHERE extension IN ({marks}) "
            "ORDER BY calls.id DESC LIMIT ?"
        )
        async with self.db.execute(query, (*extensions, limit)) as cursor:
            return [json.loads(row[1]) async for row in cursor]

    # -- per-user settings ---------------------------------------------------------------

    async def get_setting(self, user: str, key: str, default: Any = None) -> Any:
        async with self.db.execute(
            "SELECT value FROM settings WHERE user = ? AND key = ?", (user, key)
        ) as cursor:
            row = await cursor.fetchone()
        return default if row is None else json.loads(row[0])

    async def set_setting(self, user: str, key: str, value: Any) -> None:
        await self.db.execute(
            "INSERT INTO settings (user, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (user, key) DO UPDATE SET value = excluded.value",
            (user, key, json.dumps(value)),
        )
        await self.db.commit()

    # -- calls missed while offline ------------------------------------------------------

    async def add_missed(self, user: str, record: CallRecord) -> None:
        await self.db.execute(
            "INSERT INTO missed_calls (user, record, at) VALUES (?, ?, ?)",
            (user, json.dumps(record_dict(record)), time.time()),
        )
        await self.db.commit()

    async def take_missed(self, user: str) -> list[dict[str, Any]]:
        """The calls missed while the user was offline, oldest first; forgets them."""
        async with self.db.execute(
            "SELECT id, record FROM missed_calls WHERE user = ? ORDER BY id", (user,)
        ) as cursor:
            rows = [(row[0], json.loads(row[1])) async for row in cursor]
        if rows:
            await self.db.execute(
                "DELETE FROM missed_calls WHERE user = ? AND id <= ?", (user, rows[-1][0])
            )
            await self.db.commit()
        return [record for _, record in rows]

    # -- web panel sessions (only a SHA-256 of each session id is kept) -----------------

    async def add_web_session(
        self, key: str, user: str, csrf: str, created: float, *, keep: int
    ) -> list[str]:
        """Keep a logged-in session; beyond ``keep`` sessions the least recently seen go.

        Returns the keys of the sessions that went to make room.
        """
        async with self.db.execute(
            "DELETE FROM web_sessions WHERE hash IN (SELECT hash FROM web_sessions "
            "ORDER BY seen DESC LIMIT -1 OFFSET ?) RETURNING hash",
            (max(0, keep - 1),),
        ) as cursor:
            gone = [row[0] async for row in cursor]
        await self.db.execute(
            "INSERT OR REPLACE INTO web_sessions (hash, user, csrf, created, seen) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, user, csrf, created, created),
        )
        await self.db.commit()
        return gone

    async def web_session(self, key: str) -> tuple[str, str, float, float] | None:
        """(user, csrf, created, seen) of a kept session, or None."""
        async with self.db.execute(
            "SELECT user, csrf, created, seen FROM web_sessions WHERE hash = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def touch_web_session(self, key: str, seen: float) -> bool:
        """Record when a session was last seen; False when it is no longer kept (ended)."""
        cursor = await self.db.execute(
            "UPDATE web_sessions SET seen = MAX(seen, ?) WHERE hash = ?", (seen, key)
        )
        await self.db.commit()
        return cursor.rowcount > 0

    async def touch_web_sessions(self, seen: list[tuple[str, float]]) -> None:
        """Record many (key, last seen) at once (one transaction)."""
        await self.db.executemany(
            "UPDATE web_sessions SET seen = MAX(seen, ?) WHERE hash = ?",
            [(when, key) for key, when in seen],
        )
        await self.db.commit()

    async def delete_web_session(self, key: str) -> None:
        await self.db.execute("DELETE FROM web_sessions WHERE hash = ?", (key,))
        await self.db.commit()

    async def delete_web_sessions(
        self, *, user: str | None = None, seen_before: float | None = None
    ) -> int:
        """End the sessions of ``user``, or those not seen since ``seen_before``, or all."""
        if user is not None:
            query, params = "DELETE FROM web_sessions WHERE user = ?", (user,)
        elif seen_before is not None:
            query, params = "DELETE FROM web_sessions WHERE seen < ?", (seen_before,)
        else:
            query, params = "DELETE FROM web_sessions", ()
        cursor = await self.db.execute(query, params)
        await self.db.commit()
        return cursor.rowcount
