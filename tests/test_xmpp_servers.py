"""Real Prosody and ejabberd on loopback: logins, the component, mod_groups, loopback-only ports."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import slixmpp

from ctibot.plugins.presence.groups import groups_text, write_groups_file
from ctibot.sandbox import xmpp_servers as servers
from ctibot.sandbox.xmpp_servers import (
    EjabberdServer,
    ProsodyServer,
    XmppServerError,
    ejabberd_installed,
    free_port,
    listening_sockets,
    prosody_installed,
)

from xmpp_fixtures import (
    COMPONENT,
    COMPONENT_SECRET,
    DOMAIN,
    client_for,
    component_for,
    require,
    xmpp_client,
    xmpp_component,
    xmpp_disconnect,
)

CONFIGS = Path(__file__).resolve().parent.parent / "xmpp_config"


@pytest.fixture(params=["prosody", "ejabberd"])
def server(request: pytest.FixtureRequest) -> ProsodyServer | EjabberdServer:
    """Each test that takes ``server`` runs once against Prosody and once against ejabberd."""
    return request.getfixturevalue(request.param)


async def _wait(future: asyncio.Future, what: str, timeout: float = 5.0):
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


# --- both servers ------------------------------------------------------------------------------


async def test_alice_logs_in_in_plain_text_and_a_wrong_password_is_refused(server) -> None:
    alice = await xmpp_client(server, "alice")
    assert alice.boundjid.bare == f"alice@{DOMAIN}"
    await xmpp_disconnect(alice)

    intruder = client_for(server, "bob")
    intruder.password = "not-bob-pw"
    refused = asyncio.get_running_loop().create_future()
    intruder.add_event_handler("failed_auth", lambda _e: refused.done() or refused.set_result(1))
    intruder.add_event_handler("session_start", lambda _e: refused.done() or refused.set_result(0))
    intruder.connect(server.host, server.c2s_port)
    assert await _wait(refused, "the refusal of a wrong password") == 1
    intruder.abort()
    await xmpp_disconnect(intruder, wait=0)


async def test_a_component_gets_what_a_client_sends_to_a_virtual_jid(server) -> None:
    component = await xmpp_component(server)
    received: asyncio.Future[slixmpp.Message] = asyncio.get_running_loop().create_future()
    component.add_event_handler("message", lambda msg: received.done() or received.set_result(msg))
    alice = await xmpp_client(server, "alice")
    try:
        alice.send_message(mto=f"x@{COMPONENT}", mbody="call 202", mtype="chat")
        msg = await _wait(received, "the message at the component")
        assert msg["to"].bare == f"x@{COMPONENT}"
        assert msg["from"].bare == f"alice@{DOMAIN}"
        assert msg["body"] == "call 202"

        # And back: the component answers from the virtual JID (explicit mfrom).
        answer: asyncio.Future[slixmpp.Message] = asyncio.get_running_loop().create_future()
        alice.add_event_handler("message", lambda m: answer.done() or answer.set_result(m))
        component.send_message(
            mto=msg["from"], mfrom=f"x@{COMPONENT}", mbody="Calling 202", mtype="chat"
        )
        reply = await _wait(answer, "the component's answer at alice")
        assert (reply["from"].bare, reply["body"]) == (f"x@{COMPONENT}", "Calling 202")
    finally:
        await xmpp_disconnect(alice)
        await xmpp_disconnect(component)


async def test_a_wrong_component_secret_is_refused(server) -> None:
    component = component_for(server, secret="not-the-secret")
    errors: list[str] = []
    ended = asyncio.get_running_loop().create_future()
    component.add_event_handler("stream_error", lambda err: errors.append(err["condition"]))
    component.add_event_handler("session_start", lambda _e: ended.done() or ended.set_result(0))
    component.add_event_handler("disconnected", lambda _e: ended.done() or ended.set_result(1))
    component.connect()
    assert await _wait(ended, "the end of the refused component stream") == 1
    assert errors == ["not-authorized"]
    await xmpp_disconnect(component, wait=0)


async def test_each_server_listens_on_loopback_and_its_own_ports_only(server) -> None:
    sockets = listening_sockets(server.pid)
    assert sockets, "the process tree must be listening"
    assert {address for _, address, _ in sockets} == {"127.0.0.1"}
    ports = {port for _, _, port in sockets}
    assert {server.c2s_port, server.component_port} <= ports
    extra = ports - {server.c2s_port, server.component_port}
    # ejabberd's Erlang distribution port (for ejabberd_ctl) is its one extra port.
    assert extra == ({server.dist_port} if isinstance(server, EjabberdServer) else set())


async def test_an_account_added_while_running_can_log_in(server) -> None:
    await server.add_account("dave", "dave-pw")
    dave = await xmpp_client(server, "dave")
    assert dave.boundjid.bare == f"dave@{DOMAIN}"
    await xmpp_disconnect(dave)


async def test_ejabberd_roster_items_give_alice_virtual_jids_with_subscription_both(
    ejabberd: EjabberdServer,
) -> None:
    # ejabberd has no mod_groups: the admin (or ctibot) adds the items with ejabberdctl.
    await ejabberd.add_roster_item("carol", f"201@{COMPONENT}", "Phone 201")
    roster = await ejabberd.ctl("get_roster", "carol", DOMAIN)
    assert f"201@{COMPONENT}\tPhone 201\tboth" in roster
    component = await xmpp_component(ejabberd)
    probes: asyncio.Queue[str] = asyncio.Queue()
    component.add_event_handler("presence_probe", lambda p: probes.put_nowait(p["to"].bare))
    carol = await xmpp_client(ejabberd, "carol")
    try:
        assert f"201@{COMPONENT}" in carol.client_roster
        probe = await _wait(asyncio.ensure_future(probes.get()), "the probe at carol's login")
        assert probe == f"201@{COMPONENT}"
    finally:
        await xmpp_disconnect(carol)
        await xmpp_disconnect(component)


@pytest.mark.parametrize("kind", ["prosody", "ejabberd"])
async def test_odd_secrets_and_passwords_survive_the_generated_configuration(kind: str) -> None:
    # Quotes, backslashes, template and Lua/YAML/Erlang syntax, non-ASCII: all data.
    odd = "q\"uo\\te' $domain ]]--{{~p}}. é ✓"
    if kind == "prosody":
        require("prosody", prosody_installed())
        server: ProsodyServer | EjabberdServer = ProsodyServer(DOMAIN, COMPONENT, odd, {"zoe": odd})
    else:
        require("ejabberd", ejabberd_installed())
        server = EjabberdServer(DOMAIN, COMPONENT, odd, {"zoe": odd})
    async with server:
        component = await xmpp_component(server)
        zoe = await xmpp_client(server, "zoe")
        await xmpp_disconnect(zoe)
        await xmpp_disconnect(component)


# --- Prosody -----------------------------------------------------------------------------------


async def test_the_groups_file_puts_virtual_jids_in_alices_roster(prosody: ProsodyServer) -> None:
    prosody.write_groups(
        groups_text(
            {
                "CTI": [
                    (f"alice@{DOMAIN}", "Alice"),
                    (f"alice@{COMPONENT}", "Alice (phones)"),
                    (f"201@{COMPONENT}", "Phone 201"),
                ]
            }
        )
    )
    await prosody.reload_groups()
    component = await xmpp_component(prosody)
    probes: asyncio.Queue[str] = asyncio.Queue()
    component.add_event_handler("presence_probe", lambda p: probes.put_nowait(p["to"].bare))
    alice = await xmpp_client(prosody, "alice")
    try:
        roster = alice.client_roster
        for jid in (f"alice@{COMPONENT}", f"201@{COMPONENT}"):
            assert jid in roster, sorted(roster)
            assert roster[jid]["subscription"] == "both"
        assert roster[f"201@{COMPONENT}"]["name"] == "Phone 201"
        # At her login the component is asked for each virtual JID's presence.
        seen = {await _wait(asyncio.ensure_future(probes.get()), "probes") for _ in range(2)}
        assert seen == {f"alice@{COMPONENT}", f"201@{COMPONENT}"}
    finally:
        await xmpp_disconnect(alice)
        await xmpp_disconnect(component)


async def test_a_restart_keeps_ports_and_accounts_and_drops_the_component(
    prosody: ProsodyServer,
) -> None:
    ports = (prosody.c2s_port, prosody.component_port)
    component = await xmpp_component(prosody)
    dropped = asyncio.get_running_loop().create_future()
    component.add_event_handler("disconnected", lambda e: dropped.done() or dropped.set_result(e))
    await prosody.restart()
    await _wait(dropped, "the component noticing the restart")
    assert (prosody.c2s_port, prosody.component_port) == ports
    # The same component can come back (ctibot's reconnect loop does this by itself).
    await xmpp_disconnect(component, wait=0)
    again = await xmpp_component(prosody)
    alice = await xmpp_client(prosody, "alice")
    await xmpp_disconnect(alice)
    await xmpp_disconnect(again)


async def test_with_tls_prosody_offers_starttls_and_still_takes_plain_logins() -> None:
    require("prosody", prosody_installed())
    async with ProsodyServer(DOMAIN, accounts={"alice": "alice-pw"}, tls=True) as server:
        secure = await xmpp_client(server, "alice", tls=True)
        assert secure.transport.get_extra_info("ssl_object") is not None
        await xmpp_disconnect(secure)
        plain = await xmpp_client(server, "alice")
        assert plain.transport.get_extra_info("ssl_object") is None
        await xmpp_disconnect(plain)


async def test_two_prosody_instances_run_side_by_side() -> None:
    require("prosody", prosody_installed())
    accounts = {"alice": "alice-pw"}
    async with (
        ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, accounts) as one,
        ProsodyServer(DOMAIN, COMPONENT, "other-secret", accounts) as two,
    ):
        assert one.data_dir != two.data_dir
        assert not {one.c2s_port, one.component_port} & {two.c2s_port, two.component_port}
        clients = [await xmpp_client(s, "alice") for s in (one, two)]
        components = [await xmpp_component(s) for s in (one, two)]
        for c in clients + components:
            await xmpp_disconnect(c)
        pids = (one.pid, two.pid)
    assert not one.running and not two.running
    assert not one.data_dir.exists() and not two.data_dir.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


async def test_a_server_that_listens_on_a_port_not_its_own_is_stopped_and_reported() -> None:
    require("prosody", prosody_installed())
    server = ProsodyServer(DOMAIN, accounts={"alice": "alice-pw"})
    stray = free_port()
    original = server._prepare

    def careless() -> None:
        # A config that opens one more c2s port (still loopback: nothing leaks in this test).
        original()
        text = server.config_file.read_text()
        text = text.replace(
            f"c2s_ports = {{ {server.c2s_port} }}", f"c2s_ports = {{ {server.c2s_port}, {stray} }}"
        )
        server.config_file.write_text(text)

    server._prepare = careless  # type: ignore[method-assign]
    try:
        with pytest.raises(XmppServerError, match=f"it listens on .*{stray}"):
            await server.start()
        assert not server.running
    finally:
        await server.stop()
        server.remove_data()


async def test_a_port_taken_by_someone_else_is_reported_or_avoided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require("prosody", prosody_installed())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        # Asked for explicitly: a clear error, and no server left running.
        server = ProsodyServer(DOMAIN, accounts={"alice": "alice-pw"}, c2s_port=taken)
        with pytest.raises(XmppServerError, match=f"port {taken} .* taken by another process"):
            await server.start()
        assert not server.running
        server.remove_data()
        # Chosen by us and lost in a race: choose again.
        real = servers.free_port
        offers = iter([taken])
        monkeypatch.setattr(servers, "free_port", lambda: next(offers, None) or real())
        async with ProsodyServer(DOMAIN, accounts={"alice": "alice-pw"}) as server:
            assert taken not in (server.c2s_port, server.component_port)
            await xmpp_disconnect(await xmpp_client(server, "alice"))


# --- the groups file and the shipped configurations ---------------------------------------------


def test_write_groups_file_writes_what_mod_groups_reads(tmp_path: Path) -> None:
    path = tmp_path / "groups.txt"
    write_groups_file(
        path,
        {
            "Sales": [("alice@example.com", "Alice\nRossi"), ("201@cti.example.com", "")],
            "+Everyone": [
                ("reception@cti.example.com", "Reception = desk"),
                ("cti.example.com", ""),
            ],
        },
    )
    assert path.read_text() == (
        "[Sales]\nalice@example.com=Alice Rossi\n201@cti.example.com\n"
        "[+Everyone]\nreception@cti.example.com=Reception = desk\ncti.example.com\n"
    )
    for bad in (
        {"A]": []},
        {"A": [("not a jid", "x")]},
        {"A": [("a=b@c", "")]},
        {"A": [("@c", "")]},
    ):
        with pytest.raises(ValueError):
            write_groups_file(path, bad)


def test_the_shipped_prosody_configuration_passes_prosodyctl_check() -> None:
    require("prosody", prosody_installed())
    # As root, prosodyctl would check the file as the prosody user, who may not be
    # able to enter the checkout (e.g. under /root): --root checks it as we are.
    as_root = ["--root"] if os.geteuid() == 0 else []
    result = subprocess.run(
        ["prosodyctl", *as_root, "--config", str(CONFIGS / "prosody.cfg.lua"), "check", "config"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout, result.stdout


def _self_signed(directory: Path, domain: str) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subject = ["-subj", f"/CN={domain}", "-addext", f"subjectAltName=DNS:{domain},DNS:*.{domain}"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            *subject,
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _production_ejabberd_template(cert: Path, key: Path) -> str:
    """The shipped ejabberd.yml with only what must change on a test machine changed:
    its names, ports (free, loopback) and certificate paths."""
    text = (CONFIGS / "ejabberd.yml").read_text().replace("$", "$$")
    for old, new in (
        ("hosts:\n  - example.com\n", "hosts:\n  - $domain\n"),
        ("loglevel: info", "loglevel: $log_level"),
        ('"/etc/ejabberd/certs/example.com/fullchain.pem"', json.dumps(str(cert))),
        ('"/etc/ejabberd/certs/example.com/privkey.pem"', json.dumps(str(key))),
        ("port: 5222", "port: $c2s_port"),
        ("port: 5269", "port: $s2s_port"),
        ("port: 5347", "port: $component_port"),
        ('ip: "::"', 'ip: "127.0.0.1"'),
        ("      cti.example.com:\n", "      $component:\n"),
        ('password: "change-me-to-a-long-random-secret"', "password: $component_secret"),
    ):
        assert old in text, f"the shipped ejabberd.yml no longer has {old!r}"
        text = text.replace(old, new)
    return text


async def test_the_shipped_ejabberd_configuration_serves_the_component(tmp_path: Path) -> None:
    require("ejabberd", ejabberd_installed())
    cert, key = _self_signed(tmp_path, DOMAIN)
    server = EjabberdServer(
        DOMAIN,
        COMPONENT,
        COMPONENT_SECRET,
        {"alice": "alice-pw"},
        template=_production_ejabberd_template(cert, key),
        extra_ports=["s2s_port"],
    )
    async with server:
        assert "starttls_required: true" in server.config_file.read_text()
        await _component_and_tls_login_work(server)


async def _component_and_tls_login_work(server: ProsodyServer | EjabberdServer) -> None:
    """A production configuration: the component gets in, alice logs in over STARTTLS
    (plain text is refused there) and her message reaches the component."""
    component = await xmpp_component(server)
    received: asyncio.Future[slixmpp.Message] = asyncio.get_running_loop().create_future()
    component.add_event_handler("message", lambda m: received.done() or received.set_result(m))
    # Without TLS the server offers no way to log in: the client gets nowhere.
    with pytest.raises((ConnectionError, TimeoutError)):
        await xmpp_disconnect(await xmpp_client(server, "alice", timeout=1))
    alice = await xmpp_client(server, "alice", tls=True)
    try:
        assert alice.transport.get_extra_info("ssl_object") is not None
        alice.send_message(mto=f"201@{COMPONENT}", mbody="status", mtype="chat")
        msg = await _wait(received, "the message at the component")
        assert (msg["from"].bare, msg["body"]) == (f"alice@{DOMAIN}", "status")
    finally:
        await xmpp_disconnect(alice)
        await xmpp_disconnect(component)


def _production_prosody_template() -> str:
    """The shipped prosody.cfg.lua with its paths, names and ports made private and loopback."""
    text = (CONFIGS / "prosody.cfg.lua").read_text().replace("$", "$$")
    log_block = text[text.index("log = {") : text.index("}", text.index("log = {")) + 1]
    for old, new in (
        ('pidfile = "/run/prosody/prosody.pid"', "pidfile = $pidfile"),
        ('data_path = "/var/lib/prosody"', "data_path = $data_path"),
        (
            log_block,
            'log = { { levels = { min = $log_level }, to = "file", filename = $log_file } }',
        ),
        ('certificates = "/etc/prosody/certs"', "certificates = $certificates"),
        ("component_ports = { 5347 }", "component_ports = { $component_port }"),
        ('groups_file = "/var/lib/ctibot/prosody-groups.txt"', "groups_file = $groups_file"),
        ('VirtualHost "example.com"', "VirtualHost $domain"),
        ('Component "cti.example.com"', "Component $component"),
        ('"change-me-to-a-long-random-secret"', "$component_secret"),
    ):
        assert old in text, f"the shipped prosody.cfg.lua no longer has {old!r}"
        text = text.replace(old, new)
    # Global options must come before the first VirtualHost: put the test machine's
    # needs first (the file itself sets none of them).
    return (
        "run_as_root = $run_as_root\ndaemonize = false\nadmin_socket = $admin_socket\n"
        'interfaces = { "127.0.0.1" }\nc2s_ports = { $c2s_port }\ns2s_ports = { $s2s_port }\n'
        "c2s_direct_tls_ports = { }\nlegacy_ssl_ports = { }\nhttp_ports = { }\nhttps_ports = { }\n"
        + text
    )


async def test_the_shipped_prosody_configuration_serves_the_component() -> None:
    require("prosody", prosody_installed())
    server = ProsodyServer(
        DOMAIN,
        COMPONENT,
        COMPONENT_SECRET,
        {"alice": "alice-pw"},
        template=_production_prosody_template(),
        extra_ports=["s2s_port"],
        tls=True,  # the certificate for example.test, in the configured directory
    )
    async with server:
        assert 'authentication = "internal_hashed"' in server.config_file.read_text()
        await _component_and_tls_login_work(server)
