"""Post-its (F11): short notes between colleagues, in chat and through virtual JIDs."""

from __future__ import annotations

from ctibot.plugin import ALL_PROFILES, Permission, Plugin, Setting

from . import commands, http, messages, services, store, xmpp

plugin = Plugin(
    name="postit",
    description="Post-its between colleagues: left in chat or written to their virtual JID",
    permissions=(Permission("postit", "leave post-its", profiles=ALL_PROFILES),),
    settings=(
        Setting(
            "max_length", int, 1000, "longest post-it, in characters", minimum=1, maximum=100_000
        ),
        Setting("list_limit", int, 20, "post-its a listing shows", minimum=1, maximum=200),
        Setting(
            "per_window",
            int,
            30,
            "post-its one author may leave in window_minutes (0: no limit)",
            minimum=0,
            maximum=100_000,
        ),
        Setting(
            "window_minutes",
            int,
            10,
            "the window of per_window, in minutes",
            minimum=1,
            maximum=1440,
        ),
    ),
    migrations=store.MIGRATIONS,
    service=services.PostitService,
    commands=commands.COMMANDS,
    messages=messages.MESSAGES,
    routes=http.routes,
    setup=xmpp.setup,
)
