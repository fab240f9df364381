"""The command line: snapshot against the demo PBX, replay of real captures, run, demo."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import slixmpp

from ctibot.cli import main
from ctibot.demo.config import office_config
from ctibot.demo.server import DemoPbx
from ctibot.demo_command import config_toml
from ctibot.pbx import actions as act

from harness import SCALE, Harness, until

CAPTURES = Path(__file__).parent / "fixtures" / "ami"


async def ctibot_cli(*args: str, timeout: float = 20) -> tuple[int, str, str]:
    """Run the installed command line as a separate process (the demo PBX keeps serving)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctibot",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_snapshot_shows_what_the_office_is_doing(tmp_path: Path) -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        h = Harness(pbx)
        h.client.start()
        await h.client.wait_ready(5)
        # A live call, a DND, a forward, a paused dynamic queue member, a parked call, a message.
        pbx.phone("202").answer_after = 1.0
        pbx.call("201", "202")
        pbx.set_dnd("203", True)
        pbx.set_forward("204", "CF", "0612345678")
        await h.client.send(
            act.queue_add(
                "sales",
                "Local/205@from-queue/n",
                state_interface="hint:205@ext-local",
                member_name="Eve Evans",
            )
        )
        await h.client.send(
            act.queue_pause("Local/205@from-queue/n", True, queue="sales", reason="Lunch")
        )
        pbx.call("207", "208")
        await h.until(lambda: sum(c["state"] == "up" for c in h.state.snapshot()["calls"]) == 2)
        # Parked until picked up: the snapshot's process may start slowly on a busy machine.
        pbx.office.parking_timeout = 86_400
        parkee = next(c for c in pbx.channels_of("207"))
        parker = next(c for c in pbx.channels_of("208"))
        await h.client.send(act.park(parkee.name, timeout_channel=parker.name))
        pbx.leave_voicemail("206")
        await h.until(lambda: h.state.snapshot()["parkings"])
        await h.client.stop()

        config = tmp_path / "office.toml"
        config.write_text(config_toml(office_config(pbx.office, port=pbx.port, path=config)))
        code, out, err = await ctibot_cli("snapshot", "--config", str(config))
    assert code == 0, err
    snap = json.loads(out)
    calls = [c for c in snap["calls"] if c["state"] == "up"]
    assert [(c["from"], c["to"], c["direction"]) for c in calls] == [("201", "202", "internal")]
    assert snap["extensions"]["201"]["status"] == "busy"
    assert snap["extensions"]["203"]["dnd"] is True
    assert snap["extensions"]["204"]["forward"] == {
        "unconditional": "0612345678",
        "busy": None,
        "noanswer": None,
    }
    member = snap["queues"]["sales"]["members"]["205"]
    assert (member["dynamic"], member["paused"], member["reason"]) == (True, True, "Lunch")
    assert snap["queues"]["sales"]["members"]["201"]["dynamic"] is False
    [(slot, parked)] = snap["parkings"].items()
    assert slot == "701" and parked["from"] == "207" and parked["parked_by"] == "208"
    assert snap["mailboxes"]["206"] == {"new": 1, "old": 0}


async def test_snapshot_of_an_unreachable_pbx_says_why_and_exits_1(tmp_path: Path) -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        config = tmp_path / "office.toml"
        text = config_toml(office_config(pbx.office, port=pbx.port, path=config))
        config.write_text(text.replace('secret = "cti-secret"', 'secret = "wrong"'))
        code, out, err = await ctibot_cli("snapshot", "--config", str(config), "--timeout", "1")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"ctibot snapshot: PBX 127.0.0.1:{pbx.port} not ready: "
        "login as 'cti' refused (Authentication failed)"
    ]
    assert "wrong" not in err


async def test_snapshot_of_a_pbx_that_is_down_tries_once_and_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    from ctibot.sandbox.xmpp_servers import free_port

    port = free_port()  # nobody listens there
    config = tmp_path / "office.toml"
    config.write_text(config_toml(office_config(DemoPbx().office, port=port, path=config)))
    loop = asyncio.get_running_loop()
    began = loop.time()
    code, out, err = await ctibot_cli("snapshot", "--config", str(config), "--timeout", "2")
    took = loop.time() - began
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ctibot snapshot: PBX 127.0.0.1:{port} not ready: cannot reach")
    assert "retrying" not in err
    # The interpreter's start-up is part of it; the attempt itself takes milliseconds.
    assert took < 2 + 3


async def test_snapshot_of_a_pbx_that_never_answers_gives_up_at_the_timeout(
    tmp_path: Path,
) -> None:
    # A listener that accepts and says nothing (a PBX hung, a firewall that eats packets);
    # it times how long the snapshot held the connection, the interpreter's start-up apart.
    loop = asyncio.get_running_loop()
    held: list[float] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = loop.time()
        await reader.read()  # b"" once the snapshot closes its end
        held.append(loop.time() - accepted)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = tmp_path / "office.toml"
    config.write_text(config_toml(office_config(DemoPbx().office, port=port, path=config)))
    try:
        code, out, err = await ctibot_cli("snapshot", "--config", str(config), "--timeout", "1")
        async with asyncio.timeout(5):
            while not held:
                await asyncio.sleep(0.01)
    finally:
        server.close()
    assert code == 1 and out == "" and len(err.splitlines()) == 1, err
    assert f"127.0.0.1:{port} not ready" in err
    # One connection, given up at the 1 s deadline: not at once, not after retries.
    assert len(held) == 1 and 0.9 <= held[0] < 2.5, held


@pytest.mark.parametrize(
    ("capture", "fact"),
    [
        (
            "inbound_call_did",
            lambda s: (
                [(r["from"], r["to"], r["direction"], r["answered"]) for r in s["recent_calls"]]
                == [("0612345678", "202", "inbound", True)]
            ),
        ),
        (
            "park_and_pickup",
            lambda s: (
                s["parkings"] == {}
                and any(
                    r["answered_by"] == "203" or r["picked_up_by"] == "203"
                    for r in s["recent_calls"]
                )
            ),
        ),
        ("queue_members", lambda s: "203" not in s["queues"]["sales"]["members"]),
        ("voicemail_mwi", lambda s: s["mailboxes"]["203"]["new"] == 0),
    ],
)
def test_replay_prints_the_final_state(capture: str, fact, capsys) -> None:
    assert main(["replay", str(CAPTURES / f"{capture}.txt"), "--lab"]) == 0
    snapshot = json.loads(capsys.readouterr().out)
    assert fact(snapshot)
    assert snapshot["calls"] == []


def test_replay_of_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "/nonexistent/capture.raw"]) == 1
    assert "cannot read" in capsys.readouterr().err


#: Events ctibot ignores (UserEvent), sent through the demo's fault injection.
FLUSH_MARKER = b"Event: UserEvent\r\nUserEvent: ctibot-test-marker\r\n\r\n"
FLUSH_PADDING = (
    b"Event: UserEvent\r\nUserEvent: padding\r\nPad: " + b"x" * 1000 + b"\r\n\r\n"
) * 256


async def test_run_records_the_raw_ami_bytes(tmp_path: Path) -> None:
    async with DemoPbx(time_scale=SCALE) as pbx:
        config = tmp_path / "office.toml"
        config.write_text(config_toml(office_config(pbx.office, port=pbx.port, path=config)))
        raw = tmp_path / "ami.raw"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ctibot",
            "run",
            "--config",
            str(config),
            "--record",
            str(raw),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        try:
            async with asyncio.timeout(15):
                # The resync's replies are in the recording: ctibot is up.
                while not raw.exists() or b"ExtensionStateListComplete" not in raw.read_bytes():
                    await asyncio.sleep(0.05)
            pbx.call("201", "202")
            await until(lambda: pbx.channels_of("202"))
            # ctibot buffers the recording: a marker it must receive after the call's
            # events, followed by more than any file buffer, reaches the file only
            # once ctibot has read everything before it (a fixed sleep would only
            # hope so).
            await pbx.inject(FLUSH_MARKER + FLUSH_PADDING)
            async with asyncio.timeout(15):
                while FLUSH_MARKER not in raw.read_bytes():
                    await asyncio.sleep(0.05)
        finally:
            proc.terminate()
            out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, out.decode()
    assert b"logged in as 'cti'" in out
    data = raw.read_bytes()
    assert data.startswith(b"Asterisk Call Manager/")
    assert b"Event: Newchannel" in data
    # ...and the recording replays.
    code, replayed, err = await ctibot_cli("replay", str(raw), "--config", str(config))
    assert code == 0, err
    assert json.loads(replayed)["extensions"]["201"]


async def test_demo_command_starts_and_a_demo_user_can_chat(tmp_path: Path) -> None:
    from xmpp_fixtures import prosody_installed, require

    require("prosody", prosody_installed())
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parent.parent),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctibot",
        "demo",
        "--ami-port",
        "0",
        "--xmpp-port",
        "0",
        "--duration",
        "8",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(20):
        while not any("XMPP component cti.localhost connected" in x for x in lines):
            line = (await proc.stdout.readline()).decode()
            assert line, "\n".join(lines)
            lines.append(line)
    text = "".join(lines)
    assert "ctibot demo is running" in text and 'user "cti", secret "demo-secret"' in text
    assert "alice@localhost        password alice-demo" in text
    port = int(text.split("XMPP (Prosody)   server 127.0.0.1, port ")[1].split(" ")[0])
    # alice logs in with what the demo printed and asks who she is.
    client = slixmpp.ClientXMPP(
        "alice@localhost/test",
        "alice-demo",
        plugin_config={"feature_mechanisms": {"unencrypted_scram": True}},
    )
    client.enable_starttls = client.enable_direct_tls = False
    client.enable_plaintext = True
    replies: list[str] = []
    client.add_event_handler("message", lambda m: replies.append(m["body"]))
    started = asyncio.Event()
    client.add_event_handler("session_start", lambda _: started.set())
    client.connect("127.0.0.1", port)
    await asyncio.wait_for(started.wait(), 10)
    client.send_message(mto="cti.localhost", mbody="whoami", mtype="chat")
    async with asyncio.timeout(10):
        while not replies:
            await asyncio.sleep(0.05)
    assert "Alice Anders" in replies[0] and "201" in replies[0]
    client.disconnect()
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, text + out.decode()
    written = tmp_path / "state" / "ctibot" / "demo" / "ctibot.toml"
    assert written.exists()
    assert main(["check-config", str(written)]) == 0


def test_xmpp_groups_writes_a_prosody_groups_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "groups.txt"
    example = Path(__file__).parent.parent / "examples" / "ctibot.toml"
    assert main(["xmpp-groups", "--config", str(example), "--output", str(out)]) == 0
    text = out.read_text()
    assert "[+CTI people]" in text and "[+CTI phones]" in text
    assert "alice@example.com=Alice Anders" in text
    assert "201@cti.example.com=201 Alice Anders" in text
    assert "212@cti.example.com" in text
    assert 'groups_file = "' in capsys.readouterr().err
