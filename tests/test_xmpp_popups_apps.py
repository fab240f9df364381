"""Calls an application answers (ChanSpy): no popup or notice names a "?" for who answered."""

from __future__ import annotations

from office import Office, team_up, until


async def test_a_spy_call_answered_by_chanspy_never_says_answered_by_a_question_mark(
    chat_office: Office,
) -> None:
    alice = await chat_office.login("alice")  # a supervisor
    await team_up(chat_office, alice)
    chat_office.pbx.call("202", "204")
    state = chat_office.app.state
    await until(lambda: any(c.answered_at for c in state.calls.values()))
    reply = await alice.ask("spy bob")
    # ctibot's state sees the spy call answered by the application (ChanSpyStart) ...
    await until(lambda: any(c.spied == "202" and c.answered_at for c in state.calls.values()))
    # ... then a round trip through ctibot: whatever that answer caused has arrived.
    await alice.ask("whoami")
    assert reply.startswith("Your phone rings")
    assert not [t for t in alice.texts() if "?" in t], alice.texts()
