"""Voicemail (F29): the demo's real spool, the service reading it, listen/delete, traversal."""

from __future__ import annotations

import os
import subprocess
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ctibot.config import Config, PluginsConfig, UserConfig, WebConfig
from ctibot.demo.office import Office
from ctibot.demo.server import DemoPbx
from ctibot.loader import Plugins, discover
from ctibot.plugin import BadArgument, NotFound, PermissionDenied, VoicemailCountChanged
from ctibot.plugins.voicemail import events as vm_events
from ctibot.plugins.voicemail.services import VoicemailService, parse_callerid

from harness import SCALE, Harness
from services_fixtures import PROFILES, RecordingSender

ALICE = UserConfig("alice", "Alice Anders", ("201",), jid="alice@example.com")
BOB = UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.com", language="it")
CAROL = UserConfig("carol", "Carol Clark", ("203", "207"), jid="carol@example.com")
GUEST = UserConfig("dave", "Dave Davis", ("204",), profile="guest")
USERS = (ALICE, BOB, CAROL, GUEST)


def only_voicemail(spool: Path) -> PluginsConfig:
    """The voicemail plugin alone (the others' XMPP wiring is not what is tested here)."""
    others = tuple(f.name for f in discover() if f.name != "voicemail")
    return PluginsConfig(disabled=others, settings={"voicemail": {"spool": str(spool)}})


@dataclass
class Chat:
    """The XMPP hooks' send_chat as a recorder (the Prosody round trip is tested elsewhere)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    domain: str = "cti.example.com"

    def send_chat(self, user: UserConfig, body: str, **_: Any) -> str:
        self.sent.append((user.name, body))
        return "id"


@dataclass
class Live:
    """The WebApi's publish as a recorder: what the badge would receive."""

    published: list[tuple[str, Any, list[str] | None]] = field(default_factory=list)

    def publish(self, topic: str, data: Any, users: Any = None) -> None:
        names = None if users is None else [u.name for u in users]
        self.published.append((topic, data, names))


@dataclass
class Setup:
    pbx: DemoPbx
    harness: Harness
    ami: RecordingSender
    service: VoicemailService
    spool: Path
    chat: Chat
    live: Live

    def box(self, box: str) -> Path:
        return self.spool / "default" / box


@pytest.fixture
async def vm(tmp_path: Path) -> AsyncIterator[Setup]:
    spool = tmp_path / "spool"
    async with DemoPbx(Office(voicemail_spool=str(spool)), time_scale=SCALE) as pbx:
        harness = Harness(pbx)
        harness.client.start()
        await harness.client.wait_ready(5)
        ami = RecordingSender(harness.client)
        config = Config(
            path=tmp_path / "ctibot.toml",
            pbx=harness.config,
            users=USERS,
            profiles=dict(PROFILES),
            plugins=only_voicemail(spool),
            web=WebConfig(public_url="https://cti.example.com/"),
        )
        chat = Chat()
        plugins = Plugins(config, pbx=harness.state, ami=ami, bus=harness.bus, xmpp=chat)
        service = plugins.services.get("voicemail")
        assert isinstance(service, VoicemailService)
        live = Live()
        service.web = live
        await plugins.setup()
        yield Setup(pbx, harness, ami, service, spool, chat, live)
        await harness.client.stop()


async def test_the_demo_keeps_a_real_spool_in_asterisks_layout(vm: Setup) -> None:
    vm.pbx.leave_voicemail("201", '"Customer" <0699887766>', duration=4)
    folder = vm.box("201") / "INBOX"
    await vm.harness.until(lambda: (folder / "msg0000.txt").exists())
    assert (vm.box("201") / "Old").is_dir()
    with wave.open(str(folder / "msg0000.wav")) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        assert w.getnframes() == 4 * 8000
        frames = w.readframes(w.getnframes())
    assert max(frames) > 0 and len(set(frames)) > 50  # a signal, not silence
    info = (folder / "msg0000.txt").read_text()
    assert "[message]" in info
    assert 'callerid="Customer" <0699887766>' in info and "duration=4" in info
    assert "origdate=" in info and "origtime=" in info
    vm.pbx.leave_voicemail("201", '"Second" <0612345678>', duration=2)
    await vm.harness.until(lambda: (folder / "msg0001.wav").exists())


async def test_my_boxes_messages_with_caller_date_and_duration(vm: Setup) -> None:
    vm.pbx.leave_voicemail("201", '"Customer" <0699887766>', duration=4)
    vm.pbx.leave_voicemail("202", '"For Bob" <0611111111>', duration=3)
    vm.pbx.leave_voicemail("207", '"Carol second" <0622222222>', duration=6)
    await vm.harness.until(lambda: (vm.box("207") / "INBOX" / "msg0000.txt").exists())
    mine = vm.service.messages(ALICE)
    assert [(m.box, m.folder, m.id) for m in mine] == [("201", "INBOX", "msg0000")]
    assert (mine[0].caller_name, mine[0].caller_number) == ("Customer", "0699887766")
    assert mine[0].caller == "Customer (0699887766)"
    assert mine[0].duration == 4 and mine[0].origtime and mine[0].new
    assert len(mine[0].when()) == 16  # YYYY-MM-DD HH:MM
    assert {m.box for m in vm.service.messages(CAROL)} == {"207"}
    assert vm.service.counts(CAROL) == {"203": {"new": 0, "old": 0}, "207": {"new": 1, "old": 0}}
    path, mimetype = vm.service.audio(ALICE, "201", "INBOX", "msg0000")
    assert mimetype == "audio/wav" and path.read_bytes()[:4] == b"RIFF"
    with pytest.raises(NotFound):  # Bob's box is not Alice's
        vm.service.audio(ALICE, "202", "INBOX", "msg0000")
    with pytest.raises(PermissionDenied):  # a profile without the permission
        vm.service.messages(GUEST)


def test_a_hostile_callerid_is_cleaned() -> None:
    assert parse_callerid('"<script>x</script>" <123>') == ("<script>x</script>", "123")
    assert parse_callerid("0612345678") == (None, "0612345678")
    name, number = parse_callerid('"a\x00b\nc" <1\r2>')
    assert "\x00" not in (name or "") and "\n" not in (name or "") and "\r" not in (number or "")


TRAVERSALS = [
    ("201", "INBOX", "../../202/INBOX/msg0000"),
    ("201", "INBOX", "..%2f..%2f202%2fINBOX%2fmsg0000"),
    ("201", "INBOX", "%2e%2e%2f%2e%2e%2f202%2fINBOX%2fmsg0000"),
    ("201", "INBOX", "..\\..\\202\\INBOX\\msg0000"),
    ("201", "INBOX", "msg0000\x00"),
    ("201", "INBOX", "msg0000\n"),
    ("201", "INBOX", "msg0000.wav"),
    ("201", "INBOX", "/etc/passwd"),
    ("201", "INBOX", str(Path("/tmp/msg0000"))),
    ("201", "INBOX", "msg٠٠٠٠"),  # Arabic-Indic digits
    ("201", "../../202/INBOX", "msg0000"),
    ("201", "%2e%2e", "msg0000"),
    ("201", "/", "msg0000"),
    ("201", "", "msg0000"),
    ("../202", "INBOX", "msg0000"),
    ("201/../202", "INBOX", "msg0000"),
    ("%2e%2e%2f202", "INBOX", "msg0000"),
    ("/202", "INBOX", "msg0000"),
    ("..\\202", "INBOX", "msg0000"),
    ("202", "INBOX", "msg0000"),  # someone else's box
    ("201\x00", "INBOX", "msg0000"),
]


@pytest.mark.parametrize(("box", "folder", "msg"), TRAVERSALS)
async def test_path_traversal_is_refused(vm: Setup, box: str, folder: str, msg: str) -> None:
    vm.pbx.leave_voicemail("201", duration=2)
    vm.pbx.leave_voicemail("202", duration=2)
    victim = vm.box("202") / "INBOX" / "msg0000.wav"
    await vm.harness.until(lambda: victim.exists() and (vm.box("201") / "INBOX").is_dir())
    with pytest.raises((BadArgument, NotFound)):
        vm.service.audio(ALICE, box, folder, msg)
    with pytest.raises((BadArgument, NotFound)):
        await vm.service.delete(ALICE, box, folder, msg)
    if folder == "INBOX":
        with pytest.raises((BadArgument, NotFound)):
            await vm.service.mark_heard(ALICE, box, msg)
    assert victim.exists()
    assert not vm.ami.of("VoicemailRefresh")


async def test_a_link_out_of_the_box_is_refused(vm: Setup, tmp_path: Path) -> None:
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF secret")
    folder = vm.box("201") / "INBOX"
    folder.mkdir(parents=True)
    os.symlink(outside, folder / "msg0005.wav")
    os.symlink(outside, folder / "msg0005.txt")
    with pytest.raises(BadArgument):
        vm.service.audio(ALICE, "201", "INBOX", "msg0005")
    with pytest.raises(BadArgument):
        await vm.service.delete(ALICE, "201", "INBOX", "msg0005")
    assert outside.exists()


async def test_delete_removes_the_files_and_the_pbx_refreshes_mwi(vm: Setup) -> None:
    vm.pbx.leave_voicemail("201", '"One" <0611111111>', duration=2)
    vm.pbx.leave_voicemail("201", '"Two" <0622222222>', duration=3)
    state = vm.harness.state
    await vm.harness.until(lambda: "201" in state.mailboxes and state.mailboxes["201"].new == 2)
    folder = vm.box("201") / "INBOX"
    gone = await vm.service.delete(ALICE, "201", "INBOX", "msg0000")
    assert gone.caller_name == "One"
    assert not list(folder.glob("msg0000.*")) and (folder / "msg0001.wav").exists()
    refresh = vm.ami.of("VoicemailRefresh")
    assert refresh == [{"Action": "VoicemailRefresh", "Context": "default", "Mailbox": "201"}]
    # The demo re-read the box and told its new count (MessageWaiting): the lamp follows.
    await vm.harness.until(lambda: state.mailboxes["201"].new == 1)
    assert vm.pbx.office.mailboxes["201"].new == 1
    assert [m.id for m in vm.service.messages(ALICE)] == ["msg0001"]
    badge = [d for t, d, users in vm.live.published if t == "voicemail" and users == ["alice"]]
    assert badge[-1]["new"] == 1
    with pytest.raises(NotFound):
        await vm.service.delete(ALICE, "201", "INBOX", "msg0000")


async def test_listened_messages_move_to_old(vm: Setup) -> None:
    vm.pbx.leave_voicemail("201", '"One" <0611111111>', duration=2)
    state = vm.harness.state
    await vm.harness.until(lambda: "201" in state.mailboxes and state.mailboxes["201"].new == 1)
    heard = await vm.service.mark_heard(ALICE, "201", "msg0000")
    assert heard is not None and heard.folder == "Old" and heard.caller_name == "One"
    assert (vm.box("201") / "Old" / "msg0000.wav").exists()
    assert not (vm.box("201") / "INBOX" / "msg0000.txt").exists()
    await vm.harness.until(lambda: state.mailboxes["201"].new == 0)
    assert state.mailboxes["201"].old == 1
    path, _ = vm.service.audio(ALICE, "201", "Old", "msg0000")
    assert path.stat().st_size > 1000


async def test_a_new_message_updates_the_badge_and_tells_the_owner_in_chat(vm: Setup) -> None:
    vm.pbx.leave_voicemail("207", '"Hostile <b>" <0699887766>', duration=5)
    await vm.harness.until(lambda: vm.chat.sent)
    assert vm.harness.of(VoicemailCountChanged)
    [(who, body)] = vm.chat.sent
    assert who == "carol"
    assert "Hostile <b> (0699887766)" in body and "207" in body
    assert "https://cti.example.com/voicemail?play=207/INBOX/msg0000" in body
    badge = [d for t, d, users in vm.live.published if t == "voicemail" and users == ["carol"]]
    assert badge and badge[-1]["new"] == 1
    assert badge[-1]["messages"][0]["key"] == "207/INBOX/msg0000"
    assert vm_events.listen_url(vm.service, "207/INBOX/msg0000").startswith("https://")


async def test_messages_already_there_at_start_are_not_announced(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    office = Office(voicemail_spool=str(spool))
    async with DemoPbx(office, time_scale=SCALE) as pbx:
        pbx.leave_voicemail("201", duration=2)  # before ctibot starts
        harness = Harness(pbx)
        harness.client.start()
        await harness.client.wait_ready(5)
        try:
            config = Config(
                path=tmp_path / "c.toml",
                pbx=harness.config,
                users=USERS,
                profiles=dict(PROFILES),
                plugins=only_voicemail(spool),
            )
            chat = Chat()
            plugins = Plugins(
                config, pbx=harness.state, ami=harness.client, bus=harness.bus, xmpp=chat
            )
            await plugins.setup()
            service = plugins.services.get("voicemail")
            await vm_events.on_count(service, VoicemailCountChanged(mailbox="201", new=1, old=0))
            assert chat.sent == []
            pbx.leave_voicemail("201", duration=2)
            await harness.until(lambda: chat.sent)
            assert "msg0001" in chat.sent[0][1]
        finally:
            await harness.client.stop()


@pytest.mark.parametrize(("ext", "sox_args"), [("WAV", ["-e", "gsm-full-rate"]), ("gsm", [])])
async def test_wav49_and_gsm_messages_play_as_pcm_wav(
    vm: Setup, ext: str, sox_args: list[str]
) -> None:
    vm.pbx.leave_voicemail("201", '"Old phone" <0611111111>', duration=3)
    folder = vm.box("201") / "INBOX"
    await vm.harness.until(lambda: (folder / "msg0000.wav").exists())
    # As Asterisk with format=wav49 (or gsm) keeps it: no PCM .wav beside the .txt.
    source = folder / "msg0000.wav"
    subprocess.run(["sox", str(source), *sox_args, str(folder / f"msg0000.{ext}")], check=True)
    source.unlink()
    with pytest.raises(NotFound):
        vm.service.audio(ALICE, "201", "INBOX", "msg0000")
    path, mimetype = await vm.service.playable(ALICE, "201", "INBOX", "msg0000")
    assert mimetype == "audio/wav" and path.parent != folder
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        assert abs(w.getnframes() - 3 * 8000) < 400  # GSM frames are 160 samples
    again, _ = await vm.service.playable(ALICE, "201", "INBOX", "msg0000")
    assert again == path  # converted once
    await vm.service.delete(ALICE, "201", "INBOX", "msg0000")
    assert not list(folder.glob("msg0000.*"))


async def test_a_broken_gsm_file_is_not_found_not_a_crash(vm: Setup) -> None:
    vm.pbx.leave_voicemail("201", duration=1)
    folder = vm.box("201") / "INBOX"
    await vm.harness.until(lambda: (folder / "msg0000.wav").exists())
    (folder / "msg0000.wav").unlink()
    (folder / "msg0000.WAV").write_bytes(b"RIFF but not really a wav49 file")
    with pytest.raises(NotFound):
        await vm.service.playable(ALICE, "201", "INBOX", "msg0000")


async def test_the_demo_console_leaves_a_voicemail_on_demand(vm: Setup) -> None:
    from ctibot.demo_command import DemoConsole

    console = DemoConsole(vm.pbx, vm.service.config)
    assert console.handle("v alice") == '✉ "ACME Corp" <0612345678> left 201 a voicemail'
    await vm.harness.until(lambda: (vm.box("201") / "INBOX" / "msg0000.wav").exists())
    assert vm.service.messages(ALICE)[0].caller == "ACME Corp (0612345678)"
    assert console.handle("v sales") == "401 has no voicemail box"
    assert "no such person" in console.handle("v nobody")
    assert '"v WHO"' in console.handle("help")


async def test_the_demo_honours_voicemail_remove_on_its_spool(vm: Setup) -> None:
    from ctibot.plugin import actions as act

    vm.pbx.leave_voicemail("201", '"One" <0611111111>', duration=1)
    folder = vm.box("201") / "INBOX"
    await vm.harness.until(lambda: (folder / "msg0000.wav").exists())
    msg_id = vm.pbx.office.mailboxes["201"].messages[0].id
    await vm.harness.client.send(act.voicemail_remove("default", "201", "INBOX", msg_id))
    assert not list(folder.glob("msg0000.*"))
    state = vm.harness.state
    await vm.harness.until(lambda: state.mailboxes["201"].new == 0)
