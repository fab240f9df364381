"""The post-it plugin's table: who left what for whom, when it was delivered and read."""

from __future__ import annotations

#: Versioned migrations of the plugin's own tables, run once each, in order.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE postits (
        id INTEGER PRIMARY KEY,
        author TEXT NOT NULL,           -- user name of who left it
        recipient TEXT NOT NULL,        -- user name of whom it is for
        text TEXT NOT NULL,
        created REAL NOT NULL,
        delivered REAL,                 -- when it went to the recipient's chat (NULL = waiting)
        read REAL,                      -- when the recipient read it (NULL = unread)
        message_id TEXT,                -- id of the chat message that carried it (XEP-0333)
        author_deleted INTEGER NOT NULL DEFAULT 0,
        recipient_deleted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX postits_by_recipient ON postits (recipient, id);
    CREATE INDEX postits_by_author ON postits (author, id);
    CREATE INDEX postits_by_message ON postits (recipient, message_id);
    """,
    # The id of the author's chat message that wrote the post-it: the *displayed* marker
    # the author's client gets back names it.
    """
    ALTER TABLE postits ADD COLUMN origin_id TEXT;
    CREATE INDEX postits_by_created ON postits (author, created);
    """,
)
