"""Voicemail notices (F14) through a real Prosody: a new message reaches its owner in chat."""

from __future__ import annotations

from pathlib import Path

from ctibot.config import PluginsConfig, WebConfig

from harness import until
from office import COMPONENT, Office


async def test_a_new_voicemail_reaches_the_owner_in_chat_with_a_link(
    chat_office: Office, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    chat_office.pbx.office.voicemail_spool = str(spool)
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot(
        plugins=PluginsConfig(settings={"voicemail": {"spool": str(spool)}}),
        web=WebConfig("127.0.0.1:0", "voicemail-test-secret-key", "https://cti.example.test/"),
    )
    bob = await chat_office.login("bob")  # Italian
    alice = await chat_office.login("alice")
    chat_office.pbx.leave_voicemail("202", '"<b>Cliente</b>" <0699887766>', duration=7)
    await until(lambda: any("segreteria" in t for t in bob.texts()))
    [notice] = [m for m in bob.messages if "segreteria" in (m["body"] or "")]
    body = notice["body"]
    assert "<b>Cliente</b> (0699887766)" in body and "202" in body and "7 s" in body
    assert "https://cti.example.test/voicemail?play=202/INBOX/msg0000" in body
    assert str(notice["from"].bare) == COMPONENT
    # Alice's box got nothing: her client heard no notice (a command answer proves the
    # stream is through).
    assert await alice.ask("whoami") != ""
    assert not any("voicemail" in t.lower() for t in alice.texts())
    # The message already announced is not announced again when the box changes.
    chat_office.pbx.leave_voicemail("202", '"Second" <0611111111>', duration=2)
    await until(lambda: sum("segreteria" in t for t in bob.texts()) == 2)
    assert "msg0001" in bob.texts()[-1] and "Second" in bob.texts()[-1]
