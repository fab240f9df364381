"""Finds and loads plugins: the bundled ``ctibot.plugins.<name>`` and the ``ctibot.plugins``
entry points; orders them by what they require; reports each failure in one line."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import pkgutil
import re
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from ctibot.commands.base import Registry
from ctibot.commands.help import core_registry
from ctibot.config import Config, ConfigError
from ctibot.i18n import CATALOG, MessageConflict
from ctibot.plugin import Plugin, PluginContext, SettingError, plugin_logger
from ctibot.services.registry import ServiceRegistry

log = logging.getLogger("ctibot.plugins")

#: The package of the bundled plugins (the ``plugins/`` folder) and the entry-point group.
BUNDLED = "ctibot.plugins"
ENTRY_POINTS = "ctibot.plugins"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Names a plugin may not take: they are the service registry's own attributes.
_TAKEN = frozenset(dir(ServiceRegistry)) | {"config", "history", "commands", "plugins"}

ENABLED, DISABLED, FAILED = "enabled", "disabled", "failed"


@dataclass(slots=True)
class Found:
    """A plugin ctibot found: its declaration, or why it could not be read."""

    name: str
    origin: str  # "bundled" or "entry point <name> (<distribution>)"
    plugin: Plugin | None
    error: str | None = None


@dataclass(slots=True)
class PluginState:
    """A plugin as one configuration sees it: enabled, disabled, or failed and why."""

    name: str
    origin: str
    plugin: Plugin | None
    state: str
    reason: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.plugin.version if self.plugin is not None else "?"


# -- discovery (once per process) ---------------------------------------------------------

_found: list[Found] | None = None


def discovered() -> bool:
    return _found is not None


def discover(refresh: bool = False) -> list[Found]:
    """Every plugin installed, bundled first, each with its declaration or its import error.

    Their strings join the message catalogue here (a clash makes that plugin fail).
    """
    global _found
    if _found is not None and not refresh:
        return _found
    _found = []  # a plugin that asks for a string while importing must not recurse here
    found: list[Found] = []
    for name, module in _bundled_modules():
        found.append(_read(name, "bundled", lambda module=module: importlib.import_module(module)))
    for ep in _entry_points():
        dist = getattr(ep.dist, "name", None) or "?"
        found.append(_read(ep.name, f"entry point {ep.value} ({dist})", ep.load))
    seen: dict[str, Found] = {}
    for each in found:
        other = seen.get(each.name)
        if other is not None:
            each.error = each.error or f"the name is taken by the plugin from {other.origin}"
            continue
        seen[each.name] = each
        if each.error is None and each.plugin is not None:
            try:
                CATALOG.add(each.name, each.plugin.messages)
            except MessageConflict as exc:
                each.error = f"bad messages: {exc}"
    _found = found
    return found


def _bundled_modules() -> list[tuple[str, str]]:
    try:
        package = importlib.import_module(BUNDLED)
    except ImportError:
        return []
    return sorted(
        (info.name, f"{BUNDLED}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.ispkg and not info.name.startswith("_")
    )


def _entry_points() -> list[metadata.EntryPoint]:
    try:
        return sorted(metadata.entry_points(group=ENTRY_POINTS), key=lambda ep: ep.name)
    except Exception:  # a broken distribution's metadata must not stop ctibot
        log.exception("cannot read the %s entry points", ENTRY_POINTS)
        return []


def _read(name: str, origin: str, load: Callable[[], Any]) -> Found:
    try:
        loaded = load()
    except Exception as exc:
        return Found(name, origin, None, f"cannot import it: {_why(exc)}")
    plugin = loaded if isinstance(loaded, Plugin) else getattr(loaded, "plugin", None)
    if not isinstance(plugin, Plugin):
        return Found(name, origin, None, "it has no `plugin = Plugin(...)` declaration")
    if not _NAME.match(plugin.name) or plugin.name in _TAKEN:
        return Found(name, origin, plugin, f"{plugin.name!r} cannot be a plugin's name")
    if plugin.name != name and origin == "bundled":
        return Found(name, origin, plugin, f"its folder is {name!r} but it says {plugin.name!r}")
    return Found(plugin.name, origin, plugin)


def _why(exc: BaseException) -> str:
    """An exception in one line: its type, message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


# -- one configuration's view -------------------------------------------------------------


def resolve(config: Config) -> tuple[list[PluginState], list[str]]:
    """Each plugin's state under ``config``, in load order (required ones first), and the
    problems of the ``[plugins]`` section itself (a table or name no plugin has)."""
    found = discover()
    problems: list[str] = []
    known = {f.name for f in found}
    for name in config.plugins.disabled:
        if name not in known:
            problems.append(f"{config.path}: [plugins].disabled: no plugin {name!r} is installed")
    for name in config.plugins.settings:
        if name not in known:
            problems.append(f"{config.path}: [plugins.{name}]: no plugin {name!r} is installed")
    states: dict[str, PluginState] = {}
    for each in found:
        if each.name in states:
            continue  # a second plugin by that name: the first one holds it
        state = PluginState(each.name, each.origin, each.plugin, ENABLED)
        if config.plugins.is_disabled(each.name):
            state.state = DISABLED  # switched off: whether it could load is no error then
        elif each.error is not None or each.plugin is None:
            state.state, state.reason = FAILED, each.error or "unreadable"
        else:
            try:
                state.settings = each.plugin.parse_settings(config.plugins.table(each.name))
            except SettingError as exc:
                state.state, state.reason = FAILED, setting_error(config, each.name, exc)
        states[each.name] = state
    for each in _dependency_order(states):
        plugin = each.plugin
        if each.state != ENABLED or plugin is None:
            continue
        for need in plugin.requires:
            other = states.get(need)
            if other is None:
                each.state, each.reason = FAILED, f"needs the plugin {need!r}, not installed"
            elif other.state == DISABLED:
                each.state, each.reason = FAILED, f"needs the plugin {need!r}, which is disabled"
            elif other.state == FAILED:
                each.state, each.reason = FAILED, f"needs the plugin {need!r}, which failed"
            if each.state == FAILED:
                break
    return _dependency_order(states), problems


def setting_error(config: Config, name: str, exc: SettingError) -> str:
    """A plugin setting's error in the words of every other configuration error."""
    where = f"[plugins.{name}].{exc.key}"
    if exc.missing:
        return f"{config.path}: missing key {where}: expected {exc.expected}"
    shown = repr(exc.got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{config.path}: {where}: expected {exc.expected}, got {shown}"


def _dependency_order(states: dict[str, PluginState]) -> list[PluginState]:
    """Required plugins before those that need them; a cycle fails every plugin in it."""
    order: list[PluginState] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def visit(each: PluginState) -> None:
        if each.name in placed:
            return
        if each.name in visiting:
            cycle = [*visiting[visiting.index(each.name) :], each.name]
            for name in cycle:
                member = states[name]
                if member.state == ENABLED:
                    member.state = FAILED
                    member.reason = "its requirements go round in a circle: " + " → ".join(cycle)
            return
        visiting.append(each.name)
        wanted = (*each.plugin.requires, *each.plugin.uses) if each.plugin is not None else ()
        for need in wanted:
            if need in states:
                visit(states[need])
        visiting.pop()
        placed.add(each.name)
        order.append(each)

    for name in sorted(states, key=lambda n: (states[n].origin != "bundled", n)):
        visit(states[name])
    return order


def plugin_errors(config: Config) -> list[str]:
    """What ``check-config`` reports about plugins: one line per problem."""
    states, problems = resolve(config)
    return [*problems, *(f"plugin {s.name}: {s.reason}" for s in states if s.state == FAILED)]


def check_profiles(config: Config) -> None:
    """ConfigError when a profile names a permission no plugin declares (check-config)."""
    from ctibot.permissions import permission_table

    table = permission_table()
    for profile, perms in config.profiles.items():
        for perm in sorted(perms):
            if perm not in table:
                raise ConfigError(
                    f"{config.path}: [profiles.{profile}].permissions: no plugin declares "
                    f"the permission {perm!r}"
                )


# -- loading for one running ctibot -------------------------------------------------------


class Plugins:
    """The plugins of one running ctibot: their states, services, commands and contexts."""

    def __init__(
        self,
        config: Config,
        *,
        pbx: Any,
        ami: Any,
        bus: Any = None,
        store: Any = None,
        history: Any = None,
        publish: Callable[[list[Any]], None] | None = None,
        clock: Callable[[], float] | None = None,
        xmpp: Any = None,
        database: bool = True,
    ) -> None:
        self.config = config
        self.pbx, self.ami, self.bus, self.store = pbx, ami, bus, store
        self.xmpp = xmpp
        self.clock = clock or getattr(pbx, "clock", None) or time.time
        self.commands: Registry = core_registry()
        self.services = ServiceRegistry(config, self.commands)
        self.services.plugins = self
        self.contexts: dict[str, PluginContext] = {}
        self._unsubscribe: dict[str, list[Callable[[], None]]] = {}
        self._set_up: list[str] = []
        #: Shared by every plugin's service (what ctibot dialled, for naming calls).
        self._shared: dict[str, Any] = {"history": history, "publish": publish}
        self.states, self.problems = resolve(config)
        for problem in self.problems:
            log.error("%s", problem)
        for state in self.states:
            if state.state == FAILED:
                log.error("plugin %s not loaded: %s", state.name, state.reason)
        for state in self.states:
            if state.state != ENABLED:
                continue
            if not database and state.plugin is not None and state.plugin.migrations:
                # Its tables are its memory: without a database it would fail at every use.
                self.fail(state.name, "it keeps tables, and this ctibot runs without a database")
                continue
            self._load(state)

    # -- what the loaded set holds ---------------------------------------------------------

    def state(self, name: str) -> PluginState | None:
        return next((s for s in self.states if s.name == name), None)

    def enabled(self) -> list[PluginState]:
        return [s for s in self.states if s.state == ENABLED]

    # -- the steps ---------------------------------------------------------------------------

    def _load(self, state: PluginState) -> None:
        plugin = state.plugin
        assert plugin is not None
        missing = [n for n in plugin.requires if n not in self.contexts]
        if missing:
            self.fail(state.name, f"needs the plugin {missing[0]!r}, which failed")
            return
        ctx = PluginContext(
            name=state.name,
            settings=dict(state.settings),
            config=self.config,
            store=self.store,
            bus=self.bus,
            pbx=self.pbx,
            ami=self.ami,
            services=self.services.only((*plugin.requires, *plugin.uses)),
            clock=self.clock,
            log=plugin_logger(state.name),
            xmpp=self.xmpp,
            extra=self._shared,
        )
        try:
            self.commands.check(plugin.commands, state.name)
            service = plugin.service(ctx) if plugin.service is not None else None
        except Exception as exc:
            self.fail(state.name, _why(exc), loaded=False)
            return
        self.contexts[state.name] = ctx
        if service is not None:
            self.services.add(state.name, service)
        for command in plugin.commands:
            self.commands.register(command, state.name)
        if self.bus is not None:
            unsubscribe = self._unsubscribe.setdefault(state.name, [])
            for kind, handler in plugin.events.items():
                unsubscribe.append(self.bus.subscribe(_bound(state.name, handler, service), kind))

    def fail(self, name: str, reason: str, *, loaded: bool = True) -> None:
        """Take a plugin out (and every plugin that needs it), in one log line each."""
        state = self.state(name)
        if state is None or state.state == FAILED:
            return
        state.state, state.reason = FAILED, reason
        log.error("plugin %s not loaded: %s", name, reason)
        self.contexts.pop(name, None)
        self.services._services.pop(name, None)
        for command in self.commands.of(name):
            self.commands.unregister(command.name)
        for unsubscribe in self._unsubscribe.pop(name, []):
            unsubscribe()
        for other in self.states:
            needs = other.plugin.requires if other.plugin is not None else ()
            if other.state == ENABLED and name in needs:
                self.fail(other.name, f"needs the plugin {name!r}, which failed")

    async def migrate(self, store: Any) -> None:
        """Each enabled plugin's migrations not yet applied, once each, in a transaction."""
        self.store = store
        for state in self.enabled():
            ctx = self.contexts.get(state.name)
            if ctx is not None:
                ctx.store = store
            plugin = state.plugin
            if plugin is None or not plugin.migrations or store is None:
                continue
            try:
                applied = await store.migrate_plugin(state.name, tuple(plugin.migrations))
            except Exception as exc:
                self.fail(state.name, f"its database migration failed: {_why(exc)}")
                continue
            if applied:
                log.info("plugin %s: database migrations %s applied", state.name, applied)
        if self._shared.get("history") is None and hasattr(store, "calls_of"):
            self.services.history = store

    def attach_xmpp(self, hooks: Any) -> None:
        """The XMPP hooks every plugin's context holds (None without XMPP)."""
        self.xmpp = hooks
        for ctx in self.contexts.values():
            ctx.xmpp = hooks

    def add_routes(self, http: Any) -> None:
        """Let each enabled plugin add its HTTP routes to the shell."""
        for state in self.enabled():
            plugin = state.plugin
            ctx = self.contexts.get(state.name)
            if plugin is None or plugin.routes is None or ctx is None:
                continue
            ctx.http = http
            try:
                plugin.routes(http, self.services.get(state.name))
            except Exception as exc:
                self.fail(state.name, f"its HTTP routes failed: {_why(exc)}")

    async def setup(self) -> None:
        """Run each enabled plugin's ``setup(context, service)``, required ones first."""
        for state in self.enabled():
            plugin = state.plugin
            ctx = self.contexts.get(state.name)
            if plugin is None or plugin.setup is None or ctx is None:
                continue
            try:
                result = plugin.setup(ctx, self.services.get(state.name))
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self.fail(state.name, f"its setup failed: {_why(exc)}")
                continue
            self._set_up.append(state.name)

    async def teardown(self) -> None:
        """Each plugin's ``teardown``, in the reverse order; a failure is logged, not raised."""
        while self._set_up:
            name = self._set_up.pop()
            state = self.state(name)
            plugin = state.plugin if state is not None else None
            ctx = self.contexts.get(name)
            if plugin is None or plugin.teardown is None or ctx is None:
                continue
            try:
                result = plugin.teardown(ctx, self.services.get(name))
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("plugin %s: teardown failed", name)


def _bound(name: str, handler: Callable[..., Any], service: Any) -> Callable[[Any], Any]:
    """A bus handler calling ``handler(service, event)``."""
    bound = functools.partial(handler, service)
    functools.update_wrapper(bound, handler)  # the bus names it in its log lines
    return bound


def load_services(
    config: Config,
    state: Any,
    ami: Any,
    history: Any = None,
    *,
    publish: Callable[[list[Any]], None] | None = None,
    bus: Any = None,
    store: Any = None,
    only: Iterable[str] | None = None,
) -> ServiceRegistry:
    """The services (and, as ``.commands``, the commands) of the enabled plugins, built over
    a PBX state and an AMI sender: what tests and tools use instead of a whole ctibot.
    Without ``store`` the plugins that keep tables are left out (failed, logged).

    ``only`` keeps just these plugins enabled (and the core).
    """
    if only is not None:
        from dataclasses import replace

        keep = set(only)
        names = [f.name for f in discover() if f.name not in keep]
        plugins = replace(config.plugins, disabled=(*config.plugins.disabled, *names))
        config = replace(config, plugins=plugins)
    loaded = Plugins(
        config,
        pbx=state,
        ami=ami,
        bus=bus,
        store=store,
        history=history,
        publish=publish,
        database=store is not None,
    )
    return loaded.services
