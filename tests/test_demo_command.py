"""`ctibot demo` as a newcomer meets it: ports, its state across restarts, what it prints, calls."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import slixmpp

from ctibot import demo_command
from ctibot.demo.config import office_config
from ctibot.demo.server import DemoPbx
from ctibot.demo_command import DemoConsole, demo_office
from ctibot.pbx import events as ev

from harness import Harness, until
from xmpp_fixtures import prosody_installed, require

ROOT = Path(__file__).parent.parent


class Demo:
    """``ctibot demo`` in a process of its own, its console on a pipe."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.lines)

    async def wait_for(self, pattern: str, timeout: float = 20) -> str:
        """Read output until a line matches ``pattern``; return that line."""
        assert self.proc.stdout is not None
        for line in self.lines:
            if re.search(pattern, line):
                return line
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.proc.stdout.readline()).decode()
                assert line, f"demo ended before {pattern!r}:\n{self.text}"
                self.lines.append(line)
                if re.search(pattern, line):
                    return line

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(self.proc.communicate(), 30)
        self.lines.append(out.decode())
        return self.proc.returncode or 0


def demo_env(tmp_path: Path) -> dict[str, str]:
    # A PATH without the virtual environment: as after the README's set-up, unactivated.
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }


async def start_demo(tmp_path: Path, *args: str, ready: str = "live events follow") -> Demo:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ctibot",
        "demo",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=demo_env(tmp_path),
        cwd=tmp_path,
    )
    demo = Demo(proc)
    await demo.wait_for(ready)
    return demo


def listening_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


async def test_a_taken_ami_port_given_with_the_option_is_one_line_naming_it() -> None:
    with listening_port() as sock:
        port = sock.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ctibot",
            "demo",
            "--ami-port",
            str(port),
            "--no-xmpp",
            "--duration",
            "1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1, err.decode()
    assert f"127.0.0.1:{port}" in lines[0] and "--ami-port" in lines[0]
    assert "Traceback" not in lines[0]


async def test_the_default_ami_port_taken_the_demo_takes_a_free_one_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening_port() as sock:
        taken = sock.getsockname()[1]
        monkeypatch.setattr(demo_command, "DEFAULT_AMI_PORT", taken)
        args = argparse.Namespace(
            extensions=8,
            ami_port=None,
            no_traffic=True,
            no_xmpp=True,
            xmpp_port=0,
            duration=0.5,
            state_dir=str(tmp_path / "state"),
        )
        assert await demo_command.run_demo(args) == 0
    out = capsys.readouterr().out
    assert f"Port {taken} is taken: the demo PBX takes a free one (choose with --ami-port)." in out
    port = int(out.split("Demo PBX (AMI)   127.0.0.1:")[1].split()[0])
    assert port != taken


async def test_the_demo_keeps_its_certificate_and_accounts_and_prints_commands_that_run(
    tmp_path: Path,
) -> None:
    require("prosody", prosody_installed())
    state = tmp_path / "xdg-state" / "ctibot" / "demo"  # the default: $XDG_STATE_HOME/ctibot/demo
    common = ("--ami-port", "0", "--xmpp-port", "0", "--no-traffic")
    demo = await start_demo(tmp_path, *common)
    try:
        assert f"Demo state       {state}" in demo.text
        first = re.search(r"certificate SHA-1   ([0-9a-f]{40})", demo.text)
        assert first is not None, demo.text
        certificate = (state / "prosody" / "certs" / "localhost.crt").read_bytes()
        # The snapshot line runs as printed, with a PATH that does not know ctibot.
        line = await demo.wait_for("PBX state now")
        command = shlex.split(line.split("PBX state now", 1)[1])
        assert command[0] != "ctibot" and Path(command[0]).is_absolute()
        snap = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=demo_env(tmp_path),
        )
        out, err = await asyncio.wait_for(snap.communicate(), 30)
        assert snap.returncode == 0, err.decode()
        assert b'"extensions"' in out
    finally:
        assert await demo.stop() == 0, demo.text
    # Restarted: the same certificate (a client accepted it once), the same accounts.
    again = await start_demo(tmp_path, *common)
    try:
        second = re.search(r"certificate SHA-1   ([0-9a-f]{40})", again.text)
        assert second is not None and second.group(1) == first.group(1)
        assert (state / "prosody" / "certs" / "localhost.crt").read_bytes() == certificate
        assert "alice@localhost        password alice-demo" in again.text
        assert "tls trust" in again.text  # Profanity then never stops at the certificate
    finally:
        assert await again.stop() == 0, again.text


async def test_a_customer_calls_alice_from_the_console_and_she_gets_the_popup(
    tmp_path: Path,
) -> None:
    require("prosody", prosody_installed())
    demo = await start_demo(
        tmp_path,
        "--ami-port",
        "0",
        "--xmpp-port",
        "0",
        "--no-traffic",
        "--state-dir",
        str(tmp_path / "state"),
        ready="XMPP component cti.localhost connected",
    )
    try:
        port = int(demo.text.split("XMPP (Prosody)   server 127.0.0.1, port ")[1].split(" ")[0])
        client = slixmpp.ClientXMPP(
            "alice@localhost/test",
            "alice-demo",
            plugin_config={"feature_mechanisms": {"unencrypted_scram": True}},
        )
        client.enable_starttls = client.enable_direct_tls = False
        client.enable_plaintext = True
        texts: list[str] = []
        client.add_event_handler("message", lambda m: m["body"] and texts.append(m["body"]))
        started = asyncio.Event()
        client.add_event_handler("session_start", lambda _: started.set())
        client.connect("127.0.0.1", port)
        await asyncio.wait_for(started.wait(), 10)
        await client.get_roster()
        client.send_presence()
        await demo.wait_for("XMPP: alice is online")
        # At the console: a customer calls alice.
        demo.type("c alice")
        await demo.wait_for(r"→ \S.* calls 201")
        await demo.wait_for(r"☎  201 ringing: ")
        await until(lambda: any("is calling you on 201" in t for t in texts))
        # From her chat client: a colleague calls her, on demand.
        demo.type("")  # an empty line is ignored
        client.send_message(mto="cti.localhost", mbody="demo colleague", mtype="chat")
        await until(lambda: any("calls you on 201" in t for t in texts))
        await until(lambda: sum("is calling you on 201" in t for t in texts) >= 2, 20)
        colleague = [t for t in texts if "is calling you on 201" in t][-1]
        assert re.search(r"(Warehouse|Workshop|Front desk|Lab) 30\d", colleague), texts
        demo.type("c nobody")
        await demo.wait_for("'nobody': no such person, extension or queue")
        client.disconnect()
    finally:
        assert await demo.stop() == 0, demo.text


@pytest.fixture
async def demo_pbx() -> AsyncIterator[DemoPbx]:
    office = demo_office(8)
    async with DemoPbx(office, time_scale=0.02) as pbx:
        yield pbx


async def test_background_calls_never_ring_or_use_the_peoples_phones(demo_pbx: DemoPbx) -> None:
    pbx = demo_pbx
    people = set(pbx.office.people)
    traffic = set(pbx.office.traffic_phones)
    assert traffic and not traffic & people
    h = Harness(pbx)
    h.client.start()
    try:
        await h.client.wait_ready(5)
        pbx.set_traffic(2.0)  # two new calls a simulated second: a busy day
        await h.until(lambda: len(h.of(ev.CallEnded)) >= 12, 30)
        pbx.set_traffic(0)
    finally:
        await h.client.stop()
    rung = {e.extension for e in h.of(ev.CallRinging)}
    parties = {
        p
        for e in h.of(ev.CallEnded)
        for p in (e.record.from_, e.record.to, e.record.answered_by)
        if p is not None
    }
    assert rung and rung <= traffic
    assert not parties & people, parties
    kinds = {e.record.direction for e in h.of(ev.CallEnded)}
    assert {"inbound", "internal"} <= kinds  # trunk calls to the traffic phones, and between them


async def test_the_console_makes_a_customer_or_a_colleague_call_a_person_or_a_queue(
    demo_pbx: DemoPbx, tmp_path: Path
) -> None:
    pbx = demo_pbx
    config = office_config(pbx.office, port=pbx.port, path=tmp_path / "ctibot.toml")
    console = DemoConsole(pbx, config)
    assert [u.name for u in config.users][:2] == ["alice", "bob"]
    assert not {e for u in config.users for e in u.extensions} & set(pbx.office.traffic_phones)
    assert console.handle("c alice").endswith("calls 201")
    await until(lambda: any(c.attempt for c in pbx.channels_of("201")))
    outside = [c for c in pbx.engine.channels.values() if c.trunk is not None]
    assert len(outside) == 1
    answer = console.handle("i bob")
    assert re.fullmatch(r"→ (Warehouse|Workshop|Front desk|Lab) 30\d <30\d> calls 202", answer)
    await until(lambda: pbx.channels_of("202"))
    assert console.handle("c sales").endswith("calls 401")
    assert console.handle("i sales") == "a colleague calls a person or an extension, not a queue"
    assert "no such person" in console.handle("c 999")
    assert console.handle("frobnicate").startswith("calls on demand:")
    assert console.handle("   ") == ""
