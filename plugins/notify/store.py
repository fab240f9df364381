"""The notify plugin's table: every notice claimed, so that each is sent at most once."""

from __future__ import annotations

#: Versioned migrations of the plugin's own tables, run once each, in order.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE notify_sent (
        id INTEGER PRIMARY KEY,
        user TEXT NOT NULL,             -- whom the notice is for
        ref TEXT NOT NULL,              -- what it is about: postit:<id>, voicemail:<box>/<msg>|<t>
        kind TEXT NOT NULL,             -- 'postit' | 'voicemail'
        status TEXT NOT NULL,           -- baseline (there before) pending sent skipped failed
        channels TEXT NOT NULL DEFAULT '',  -- what went out: 'email', 'sms', 'email sms'
        at REAL NOT NULL
    );
    CREATE UNIQUE INDEX notify_sent_once ON notify_sent (user, ref);
    CREATE INDEX notify_sent_by_time ON notify_sent (user, at);
    """,
)
