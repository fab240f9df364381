"""Popups are news: calls that rang while a user was away reach them as one summary, never late."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from harness import ring_forever
from office import Office, team_up, until


def calls_recorded(chat_office: Office) -> int:
    """Finished calls in ctibot's call history (read-only look)."""
    path = chat_office.config.database.path
    if not Path(path).exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM calls").fetchone()
    return count


def hang_up_outside_callers(chat_office: Office) -> None:
    for channel in [c for c in chat_office.pbx.engine.channels.values() if c.trunk is not None]:
        chat_office.pbx.hangup(channel.name)


async def test_calls_that_rang_while_bob_was_away_come_as_one_summary_not_as_popups(
    chat_office: Office,
) -> None:
    # bob shares his presence with ctibot (as every demo user does, through mod_groups),
    # then logs out; ctibot restarts meanwhile, so it has not seen him since it started.
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    await chat_office.logout("bob")
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot()
    # While bob is away: ACME calls his DID and gives up ...
    ring_forever(chat_office.pbx, "202")
    chat_office.pbx.inbound_call("0612345678", "ACME Corp", "5550102")
    await until(lambda: chat_office.pbx.channels_of("202"))
    hang_up_outside_callers(chat_office)
    await until(lambda: not chat_office.pbx.channels_of("202") and calls_recorded(chat_office) == 1)
    # ... and Initech calls sales (alice and bob): alice answers, they talk, it ends.
    chat_office.pbx.phone("201").answer_after = 1.0
    chat_office.pbx.inbound_call("0698765432", "Initech", "5550100")
    await until(lambda: any(c.answered_at for c in chat_office.pbx.channels_of("201")))
    # ctibot sees them talking (the queue's legs are bridged) before the caller hangs up.
    app = chat_office.app
    assert app is not None
    await until(lambda: any(c["state"] == "up" for c in app.state.snapshot()["calls"]))
    hang_up_outside_callers(chat_office)
    await until(lambda: not chat_office.pbx.channels_of("201") and calls_recorded(chat_office) == 2)
    # bob comes back: whatever the server kept for him arrives at login, before
    # anything ctibot sends in answer to his presence.
    bob = await chat_office.login("bob")
    await until(lambda: any("ACME" in t for t in bob.texts()))
    texts = bob.texts()
    assert not any("ti sta chiamando" in t or "Rispondi" in t for t in texts), texts
    # ... nor the follow-ups of calls in progress ("missed", "answered by").
    assert [t for t in texts if "Chiamata persa" in t or t.startswith("✔")] == []
    summaries = [t for t in texts if "Mentre eri assente" in t]
    assert len(summaries) == 1, texts
    summary = summaries[0]
    assert summary.startswith("Mentre eri assente ti hanno cercato 2 chiamata/e:")
    lines = summary.splitlines()[1:]
    assert len(lines) == 2
    assert lines[0].startswith("• ACME Corp <0612345678> alle ")
    assert lines[1].startswith("• Initech <0698765432> alle ")
    assert lines[1].endswith(", ha risposto Alice Anders (201)")


async def test_a_popup_goes_to_each_online_resource_once_and_is_not_for_storage(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")
    await team_up(chat_office, alice)
    gateway = chat_office.app.xmpp  # type: ignore[union-attr]
    alice_user = chat_office.config.users[0]
    await until(lambda: gateway.users.is_online(alice_user))
    ring_forever(chat_office.pbx, "201")
    chat_office.pbx.inbound_call("0612345678", "ACME Corp", "5550100")
    await until(lambda: any("is calling you" in t for t in alice.texts()))
    popups = [m for m in alice.messages if "is calling you" in (m["body"] or "")]
    assert len(popups) == 1
    popup = popups[0]
    assert popup["type"] == "chat" and popup["to"].full == f"{alice_user.jid}/laptop"
    for hint in ("no-store", "no-permanent-store", "no-copy"):
        assert popup.xml.find(f"{{urn:xmpp:hints}}{hint}") is not None
    hang_up_outside_callers(chat_office)
