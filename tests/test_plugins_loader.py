"""The plugin loader: bundled and third-party plugins, settings, dependencies, failures in one
line, disabled plugins' commands gone, permissions, migrations, setups and bus handlers."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctibot import loader
from ctibot.bus import EventBus
from ctibot.cli import main
from ctibot.commands import adhoc_commands_for, dispatch
from ctibot.config import Config, ConfigError, parse_config
from ctibot.loader import Plugins, load_services
from ctibot.pbx.events import PbxConnected
from ctibot.pbx.state import PbxState
from ctibot.store import Store

#: A distribution installing third-party plugins, each module written as it would be.
MODULES = {
    "greeter": '''
        """A third-party plugin: a command, a setting, a bus handler, its own strings."""
        from ctibot.plugin import (
            ADMIN_PROFILES, Command, Context, PbxConnected, Permission, Plugin, Reply, Setting,
        )

        class GreeterService:
            def __init__(self, ctx):
                self.ctx = ctx
                self.events = []
                self.set_up = None

            def greeting(self):
                return self.ctx.settings["greeting"] * self.ctx.settings["times"]

        class Greet(Command):
            name = "greet"
            aliases = {"it": ("saluta",)}
            permission = "greet"
            adhoc = True
            help = {"en": "say hello", "it": "saluta"}

            async def run(self, ctx: Context):
                return Reply.of(
                    "greeter.hello", greeting=ctx.service.greeting(), calls="calls" in ctx.services
                )

        def connected(service, event):
            service.events.append(event)

        async def setup(ctx, service):
            service.set_up = ctx.name

        plugin = Plugin(
            name="greeter",
            description="says hello",
            version="2.1",
            requires=("calls",),
            permissions=(Permission("greet", "greet people", ADMIN_PROFILES),),
            settings=(
                Setting("greeting", str, "hello", "what to say"),
                Setting("times", int, 1, "how many times", minimum=1, maximum=5),
            ),
            service=GreeterService,
            commands=(Greet,),
            events={PbxConnected: connected},
            messages={
                "en": {"greeter.hello": "{greeting} (calls: {calls})"},
                "it": {"greeter.hello": "{greeting} (chiamate: {calls})"},
            },
            setup=setup,
        )
    ''',
    "broken": '''
        """Fails to import."""
        import frobnicate_no_such_module  # noqa: F401
    ''',
    "needy": """
        from ctibot.plugin import Plugin
        plugin = Plugin(name="needy", description="needs a ghost", requires=("ghost",))
    """,
    "badsetup": """
        from ctibot.plugin import Command, Plugin, Reply

        class Boom(Command):
            name = "boom"
            async def run(self, ctx):
                return Reply.of("usage", usage="boom")

        def setup(ctx, service):
            raise RuntimeError("the wiring broke")

        plugin = Plugin(name="badsetup", description="fails in setup", commands=(Boom,),
                        setup=setup)
    """,
    "objmod": """
        from ctibot.plugin import Plugin
        declared = Plugin(name="objplug", description="named by the entry point itself")
    """,
    "ledger": """
        from ctibot.plugin import Plugin
        plugin = Plugin(
            name="ledger",
            description="keeps a table",
            migrations=(
                "CREATE TABLE ledger_lines (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
                "ALTER TABLE ledger_lines ADD COLUMN at REAL;",
            ),
        )
    """,
    "badledger": """
        from ctibot.plugin import Plugin
        plugin = Plugin(
            name="badledger",
            description="its second migration is broken",
            migrations=(
                "CREATE TABLE badledger_rows (x TEXT);",
                "INSERT INTO badledger_rows VALUES ('half'); THIS IS NOT SQL;",
            ),
        )
    """,
}
ENTRY_POINTS = {
    "greeter": "greeter",
    "broken": "broken",
    "needy": "needy",
    "badsetup": "badsetup",
    "objplug": "objmod:declared",
    "ledger": "ledger",
    "badledger": "badledger",
}

CONFIG = """
[pbx]
secret = "x"

[[users]]
name = "root"
fullname = "Rita Root"
extensions = ["201"]
profile = "admin"

[[users]]
name = "ugo"
fullname = "Ugo User"
extensions = ["202"]
language = "it"
"""


@pytest.fixture
def third_party(tmp_path: Path) -> Iterator[Path]:
    """The distribution installed on sys.path (and gone afterwards)."""
    site = tmp_path / "site"
    site.mkdir()
    for name, source in MODULES.items():
        (site / f"{name}.py").write_text(textwrap.dedent(source))
    dist = site / "ctibot_testplugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ctibot-testplugins\nVersion: 1.0\n"
    )
    lines = "".join(f"{k} = {v}\n" for k, v in ENTRY_POINTS.items())
    (dist / "entry_points.txt").write_text(f"[ctibot.plugins]\n{lines}")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    loader.discover(refresh=True)
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for name in MODULES:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        loader.discover(refresh=True)


def config(extra: str = "", path: str = "office.toml") -> Config:
    return parse_config(CONFIG + textwrap.dedent(extra), path)


def services_of(cfg: Config, **kwargs):
    return load_services(cfg, PbxState(cfg.layout()), None, **kwargs)


def failures(caplog: pytest.LogCaptureFixture) -> dict[str, list[str]]:
    """The error lines of the loader, by the plugin each names."""
    found: dict[str, list[str]] = {}
    for record in caplog.records:
        if record.name == "ctibot.plugins" and record.levelno >= logging.ERROR:
            text = record.getMessage()
            assert "\n" not in text, text
            found.setdefault(text.split()[1], []).append(text)
    return found


# -- finding plugins ------------------------------------------------------------------------


def test_bundled_and_third_party_plugins_are_found(third_party: Path) -> None:
    found = {f.name: f for f in loader.discover()}
    for name in ("calls", "phone", "queues", "info"):
        assert found[name].origin == "bundled" and found[name].error is None
    assert found["greeter"].origin == "entry point greeter (ctibot-testplugins)"
    assert found["objplug"].plugin is not None  # the entry point names a Plugin object
    assert found["broken"].plugin is None
    assert found["broken"].error.startswith("cannot import it: ModuleNotFoundError")


def test_a_third_party_command_gets_its_service_settings_and_strings(third_party: Path) -> None:
    cfg = config('[plugins.greeter]\ngreeting = "ciao"\ntimes = 2\n')
    services = services_of(cfg)
    root, ugo = cfg.users
    assert services.greeter.greeting() == "ciaociao"

    async def ask(user, body):
        return await dispatch(services, user, body)

    import asyncio

    assert asyncio.run(ask(root, "greet")) == "ciaociao (calls: True)"
    assert asyncio.run(ask(root, "saluta")) == "ciaociao (calls: True)"
    # Its permission went to the admin profile only, as declared.
    assert asyncio.run(ask(ugo, "saluta")) == "Non hai il permesso di greet people."
    assert "greet" in [c.name for c in adhoc_commands_for(cfg, root, services.commands)]
    assert "greet" not in [c.name for c in adhoc_commands_for(cfg, ugo, services.commands)]


def test_each_failure_is_one_line_naming_the_plugin_and_the_others_load(
    third_party: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "ctibot.plugins")
    services = services_of(config())
    lines = failures(caplog)
    assert lines["broken"] == [
        "plugin broken not loaded: cannot import it: ModuleNotFoundError: "
        "No module named 'frobnicate_no_such_module' (broken.py:3)"
    ]
    assert lines["needy"] == ["plugin needy not loaded: needs the plugin 'ghost', not installed"]
    assert len(lines["ledger"]) == 1 and "without a database" in lines["ledger"][0]
    assert "greeter" not in lines and "calls" not in lines
    assert {"calls", "phone", "queues", "info", "greeter"} <= set(services)
    states = {s.name: s.state for s in services.plugins.states}
    assert states["broken"] == states["needy"] == "failed"
    assert states["objplug"] == states["greeter"] == "enabled"


def test_bad_settings_are_named_as_every_configuration_error(
    third_party: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cases = {
        "times = 9": "office.toml: [plugins.greeter].times: expected an integer from 1 to 5, got 9",
        'times = "2"': "office.toml: [plugins.greeter].times: expected an integer from 1 to 5, "
        "got '2'",
        "colour = 1": "office.toml: [plugins.greeter].colour: expected one of enabled, greeting, "
        "times, got 1",
    }
    for line, message in cases.items():
        caplog.clear()
        caplog.set_level(logging.ERROR, "ctibot.plugins")
        services = services_of(config(f"[plugins.greeter]\n{line}\n"))
        assert failures(caplog)["greeter"] == [f"plugin greeter not loaded: {message}"]
        assert "greeter" not in services and "greet" not in services.commands.words()
        assert "calls" in services


def test_check_config_reports_plugin_errors_and_exits_1(
    third_party: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ctibot.toml"
    path.write_text(
        CONFIG + '[plugins]\ndisabled = ["broken", "nosuch"]\n[plugins.greeter]\ntimes = 0\n'
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"ctibot: {path}: [plugins].disabled: no plugin 'nosuch' is installed" in err
    assert (
        f"ctibot: plugin greeter: {path}: [plugins.greeter].times: expected an integer "
        "from 1 to 5, got 0" in err
    )
    assert "plugin needy: needs the plugin 'ghost', not installed" in err
    assert "plugin broken" not in err  # switched off: that it cannot be imported is no error
    path.write_text(CONFIG + '[plugins]\ndisabled = ["broken", "needy"]\n')
    assert main(["check-config", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


def test_a_disabled_plugins_commands_leave_help_and_the_ad_hoc_list(third_party: Path) -> None:
    import asyncio

    cfg = config('[plugins]\ndisabled = ["calls"]\n')
    services = services_of(cfg)
    root = cfg.users[0]
    help_text = asyncio.run(dispatch(services, root, "help")) or ""
    listed = {line.split()[0] for line in help_text.splitlines()[1:-1]}
    assert {"help", "dnd", "forward", "status", "who"} <= listed
    assert not {"call", "hangup", "transfer", "park", "spy", "greet"} & listed
    assert asyncio.run(dispatch(services, root, "call 202")) == (
        "I don't know “call”; did you mean calls? Try help."  # info's command, still there
    )
    adhoc = [c.name for c in adhoc_commands_for(cfg, root, services.commands)]
    assert "call" not in adhoc and "dnd" in adhoc
    assert "calls" not in services
    greeter = services.plugins.state("greeter")
    assert (greeter.state, greeter.reason) == (
        "failed",
        "needs the plugin 'calls', which is disabled",
    )
    # Another ctibot in the same process keeps its own commands.
    assert services_of(config()).commands.lookup("call") is not None


def test_a_profile_may_name_any_known_plugins_permission(third_party: Path) -> None:
    cfg = config(
        '[plugins]\ndisabled = ["calls", "greeter"]\n'
        '[profiles.reception]\npermissions = ["call", "greet", "dnd"]\n'
    )
    assert cfg.profiles["reception"] == frozenset({"call", "greet", "dnd"})
    assert "greet" in cfg.profiles["admin"] and "greet" not in cfg.profiles["user"]
    assert "spy" in cfg.profiles["supervisor"] and "spy" not in cfg.profiles["user"]
    # A plugin that cannot be read may be the one declaring it: kept, not refused.
    odd = config('[profiles.reception]\npermissions = ["frobnicate"]\n')
    assert odd.profiles["reception"] == frozenset({"frobnicate"})


def test_an_unknown_permission_is_refused_when_every_plugin_could_be_read() -> None:
    with pytest.raises(ConfigError) as info:
        config('[profiles.reception]\npermissions = ["call", "frobnicate"]\n')
    assert str(info.value).startswith(
        "office.toml: [profiles.reception].permissions: expected permissions among: admin, "
    )
    assert ", call, " in str(info.value)  # in order, plugins' permissions among the core's
    assert str(info.value).endswith(", got 'frobnicate'")


def test_required_plugins_come_first_and_a_circle_fails_its_members() -> None:
    from ctibot.loader import PluginState, _dependency_order
    from ctibot.plugin import Plugin

    def state(name: str, *requires: str) -> PluginState:
        return PluginState(name, "bundled", Plugin(name, name, requires=requires), "enabled")

    states = {
        s.name: s
        for s in (state("a", "b"), state("b", "c"), state("c"), state("x", "y"), state("y", "x"))
    }
    order = [s.name for s in _dependency_order(states)]
    assert order.index("c") < order.index("b") < order.index("a")
    assert states["x"].state == states["y"].state == "failed"
    assert "go round in a circle" in states["x"].reason
    assert states["a"].state == "enabled"


async def test_migrations_run_once_each_in_a_transaction(
    third_party: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "ctibot.plugins")
    cfg = config()
    path = tmp_path / "ctibot.sqlite"
    store = await Store.open(path)
    try:
        plugins = Plugins(cfg, pbx=PbxState(cfg.layout()), ami=None)
        await plugins.migrate(store)
        versions = await store.plugin_versions()
        assert (versions["ledger"], versions["badledger"]) == (2, 1)
        async with store.db.execute("SELECT * FROM badledger_rows") as cursor:
            assert await cursor.fetchall() == []  # the failed second one left nothing behind
        (line,) = failures(caplog)["badledger"]
        assert line.startswith("plugin badledger not loaded: its database migration failed: ")
        assert plugins.state("badledger").state == "failed"
        assert plugins.state("ledger").state == "enabled"
        await store.db.execute("INSERT INTO ledger_lines (text, at) VALUES ('kept', 1.0)")
        await store.db.commit()
    finally:
        await store.close()
    store = await Store.open(path)
    try:
        again = Plugins(cfg, pbx=PbxState(cfg.layout()), ami=None)
        await again.migrate(store)  # nothing new for ledger: its rows stay
        async with store.db.execute("SELECT text FROM ledger_lines") as cursor:
            assert await cursor.fetchall() == [("kept",)]
        async with store.db.execute(
            "SELECT plugin, version FROM plugin_migrations ORDER BY plugin, version"
        ) as cursor:
            rows = await cursor.fetchall()
        mine = [r for r in rows if r[0] in ("ledger", "badledger")]
        assert mine == [("badledger", 1), ("ledger", 1), ("ledger", 2)]
    finally:
        await store.close()


async def test_setups_run_and_one_that_fails_takes_its_commands_away(
    third_party: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "ctibot.plugins")
    cfg = config()
    bus = EventBus()
    plugins = Plugins(cfg, pbx=PbxState(cfg.layout()), ami=None, bus=bus)
    assert plugins.commands.lookup("boom") is not None
    await plugins.setup()
    assert plugins.services.greeter.set_up == "greeter"
    (line,) = failures(caplog)["badsetup"]
    assert line.startswith(
        "plugin badsetup not loaded: its setup failed: RuntimeError: the wiring broke (badsetup.py:"
    )
    assert plugins.commands.lookup("boom") is None
    event = PbxConnected(banner="Asterisk Call Manager/7.0.3")
    bus.publish(event)
    greeter = plugins.services.greeter
    assert greeter.events == [event]
    plugins.fail("greeter", "taken out by the test")
    bus.publish(PbxConnected(banner="again"))
    assert plugins.services.get("greeter") is None
    assert greeter.events == [event]  # its bus handler went with it


def test_the_plugins_command_lists_states_versions_permissions_and_commands(
    third_party: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ctibot.toml"
    path.write_text(CONFIG + '[plugins]\ndisabled = ["phone"]\n[plugins.greeter]\ntimes = 3\n')
    assert main(["plugins", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "phone 1.0 (bundled): disabled" in out
    assert "greeter 2.1 (entry point greeter (ctibot-testplugins)): enabled" in out
    assert "  permissions: greet (admin)" in out
    assert "  commands: greet" in out
    assert "  [plugins.greeter].times = 3  how many times" in out
    assert "needy 1.0 (entry point needy (ctibot-testplugins)): failed: needs the plugin " in out
    assert "broken ? (entry point broken (ctibot-testplugins)): failed: cannot import it:" in out
    assert "calls 1.0 (bundled): enabled" in out
    assert "  commands: call, hangup, transfer, park, pickup, record, spy, whisper, barge" in out
    assert "dndsync" not in out or "requires: phone" in out


async def test_ctibot_without_xmpp_loads_migrates_and_sets_up_its_plugins(
    third_party: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ctibot.app import CtiApp

    caplog.set_level(logging.ERROR, "ctibot.plugins")
    db = tmp_path / "ctibot.sqlite"
    cfg = config(f'[database]\npath = "{db}"\n[plugins]\ndisabled = ["broken", "needy"]\n')
    app = CtiApp(cfg)
    assert app.services is app.plugins.services and app.commands is app.services.commands
    assert app.commands.lookup("greet") is not None and app.commands.lookup("boom") is not None
    await app.start()
    try:
        assert app.xmpp is None
        assert app.services.greeter.set_up == "greeter"  # setups ran, with xmpp None
        assert app.plugins.contexts["greeter"].xmpp is None
        assert (await app.store.plugin_versions())["ledger"] == 2  # type: ignore[union-attr]
        assert app.services.info.history is app.store  # the call history, as before
        assert app.commands.lookup("boom") is None  # badsetup's setup failed
        assert set(failures(caplog)) == {"badsetup", "badledger"}
    finally:
        await app.stop()


def test_a_plugin_loads_after_those_it_uses_and_without_them(tmp_path: Path) -> None:
    """notify uses sms (SMS notices) but requires it not: with sms off it sends mail only."""
    from ctibot.app import CtiApp
    from ctibot.loader import PluginState, _dependency_order
    from ctibot.plugin import Plugin

    states = {
        "a": PluginState("a", "bundled", Plugin("a", "a", uses=("z",)), "enabled"),
        "z": PluginState("z", "bundled", Plugin("z", "z"), "enabled"),
    }
    assert [s.name for s in _dependency_order(states)] == ["z", "a"]
    db = tmp_path / "ctibot.sqlite"
    both = CtiApp(config(f'[database]\npath = "{db}"\n'))
    assert both.plugins.state("notify").state == "enabled"  # type: ignore[union-attr]
    assert "sms" in both.plugins.contexts["notify"].services
    assert "sms" in both.plugins.contexts["board"].services
    alone = CtiApp(config(f'[database]\npath = "{db}"\n[plugins]\ndisabled = ["sms"]\n'))
    assert alone.plugins.state("notify").state == "enabled"  # type: ignore[union-attr]
    assert "sms" not in alone.plugins.contexts["notify"].services
    assert alone.plugins.state("board").state == "enabled"  # type: ignore[union-attr]
