"""The off-hour plugin's tables: the rules per inbound route, and the announcements."""

from __future__ import annotations

#: Versioned migrations of the plugin's own tables, run once each, in order.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE offhour_announcements (
        id INTEGER PRIMARY KEY,
        author TEXT NOT NULL,            -- user name of who made it (only they edit it)
        description TEXT NOT NULL,
        public INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'ready'  -- 'ready' | 'recording' (by phone, not yet kept)
    );
    CREATE TABLE offhour_rules (
        did TEXT PRIMARY KEY,            -- the inbound route (DID)
        mode TEXT NOT NULL,              -- 'never' | 'always' | 'between'
        start REAL,                      -- 'between': epoch seconds (UTC), inclusive
        end REAL,                        -- 'between': epoch seconds (UTC), exclusive
        timezone TEXT NOT NULL DEFAULT 'UTC',  -- what start/end were entered in
        action TEXT NOT NULL,            -- 'hangup' | 'voicemail' | 'redirect'
        target TEXT NOT NULL DEFAULT '', -- the voicemail box or the redirect destination
        announcement INTEGER REFERENCES offhour_announcements (id),
        updated_by TEXT NOT NULL,
        updated REAL NOT NULL
    );
    """,
)
