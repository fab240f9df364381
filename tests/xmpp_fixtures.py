"""Real XMPP servers and plain-text slixmpp clients for tests: ``from xmpp_fixtures import …``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import ssl
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from typing import Any

import pytest
import pytest_asyncio
import slixmpp

from ctibot.i18n import add_messages
from ctibot.plugin import PluginContext, plugin_logger
from ctibot.sandbox.xmpp_servers import (
    EjabberdServer,
    ProsodyServer,
    ejabberd_installed,
    prosody_installed,
)

DOMAIN = "example.test"
COMPONENT = "cti.example.test"
COMPONENT_SECRET = "cti-secret"
ACCOUNTS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

XmppServer = ProsodyServer | EjabberdServer


def require(name: str, installed: bool) -> None:
    """Fail, saying how to fix it, when a server the tests need is missing.

    Never a skip: scripts/test installs both servers, and a skipped story proves nothing.
    """
    if not installed:
        pytest.fail(f"{name} is not installed: run scripts/test (or scripts/setup --test)")


@pytest_asyncio.fixture
async def prosody() -> AsyncIterator[ProsodyServer]:
    """A fresh Prosody per test (it starts in ~0.1 s): alice, bob, carol; cti.example.test."""
    require("prosody", prosody_installed())
    async with ProsodyServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS) as server:
        yield server


@pytest.fixture(scope="module")
def ejabberd() -> Iterator[EjabberdServer]:
    """One ejabberd per test module (start ~1 s, stop ~1 s): alice, bob, carol; cti.example.test.

    A plain (sync) fixture: the server object polls its process instead of holding
    asyncio handles, so tests running in any event loop can use it. Shared by the
    module's tests: accounts and roster items they add stay for the next ones.
    """
    require("ejabberd", ejabberd_installed())
    server = EjabberdServer(DOMAIN, COMPONENT, COMPONENT_SECRET, ACCOUNTS)
    try:
        _run(server.start())
        yield server
    finally:
        _run(server.stop(graceful=False))  # its data goes next: skip the 1 s shutdown
        server.remove_data()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    # Not asyncio.run(): that would reset the thread's current event loop under
    # pytest-asyncio's feet.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


def client_for(
    server: XmppServer, user: str, resource: str = "test", tls: bool = False
) -> slixmpp.ClientXMPP:
    """A slixmpp client for ``user`` on loopback (not connected yet).

    Plain text by default; with ``tls`` it uses STARTTLS and accepts the server's
    self-signed certificate (``ProsodyServer(tls=True)``, the production examples).
    """
    client = slixmpp.ClientXMPP(
        f"{server.jid(user)}/{resource}",
        server.accounts[user],
        # No TLS on the throw-away servers: allow SCRAM over an unencrypted stream.
        plugin_config={"feature_mechanisms": {"unencrypted_scram": True}},
    )
    client.enable_starttls = tls
    client.enable_direct_tls = False
    client.enable_plaintext = True
    if tls:
        client.ssl_context.check_hostname = False
        client.ssl_context.verify_mode = ssl.CERT_NONE
    return client


async def xmpp_client(
    server: XmppServer,
    user: str,
    *,
    resource: str = "test",
    plugins: tuple[str, ...] = (),
    available: bool = True,
    tls: bool = False,
    timeout: float = 10.0,
) -> slixmpp.ClientXMPP:
    """Log ``user`` in on ``server`` and return once the session has started.

    With ``available`` the roster is fetched and initial presence sent (so the
    server delivers presence and bare-JID messages to it, as to a real client).
    Register ``plugins`` (e.g. ``"xep_0050"``) before login. Pair with
    ``await xmpp_disconnect(client)``.
    """
    client = client_for(server, user, resource, tls)
    for plugin in plugins:
        client.register_plugin(plugin)
    loop = asyncio.get_running_loop()
    started: asyncio.Future[None] = loop.create_future()

    def on_start(_event: object) -> None:
        if not started.done():
            started.set_result(None)

    def on_failure(event: object) -> None:
        if not started.done():
            started.set_exception(ConnectionError(f"{user}: login failed: {event}"))

    client.add_event_handler("session_start", on_start)
    client.add_event_handler("failed_auth", on_failure)
    client.add_event_handler("failed_all_auth", on_failure)
    client.add_event_handler("connection_failed", on_failure)
    client.connect(server.host, server.c2s_port)
    try:
        await asyncio.wait_for(started, timeout)
        if available:
            await client.get_roster(timeout=timeout)
            client.send_presence()
    except BaseException:
        client.abort()
        raise
    return client


async def xmpp_disconnect(client: slixmpp.BaseXMPP, wait: float = 2.0) -> None:
    """Close the stream and wait until slixmpp has really let go of the connection."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(wait=wait), wait + 1.0)
    if client.transport is not None:
        client.abort()
    # slixmpp keeps its send loop alive across connections and cancels it only in
    # __del__: end it now, or the test's event loop closes with a pending task.
    task = getattr(client, "_run_out_filters", None)
    if task is not None and not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=1.0)


def component_for(server: XmppServer, secret: str | None = None) -> slixmpp.ComponentXMPP:
    """A slixmpp component for ``server.component`` (not connected yet)."""
    return slixmpp.ComponentXMPP(
        server.component,
        server.component_secret if secret is None else secret,
        server.host,
        server.component_port,
    )


async def xmpp_component(
    server: XmppServer,
    *,
    secret: str | None = None,
    plugins: tuple[str, ...] = (),
    timeout: float = 10.0,
) -> slixmpp.ComponentXMPP:
    """Connect a bare component to ``server`` and return once its handshake succeeded."""
    component = component_for(server, secret)
    for plugin in plugins:
        component.register_plugin(plugin)
    loop = asyncio.get_running_loop()
    started: asyncio.Future[None] = loop.create_future()

    def on_start(_event: object) -> None:
        if not started.done():
            started.set_result(None)

    def on_end(event: object) -> None:
        if not started.done():
            started.set_exception(ConnectionError(f"component refused: {event}"))

    component.add_event_handler("session_start", on_start)
    component.add_event_handler("disconnected", on_end)
    component.add_event_handler("connection_failed", on_end)
    component.connect()
    try:
        await asyncio.wait_for(started, timeout)
    except BaseException:
        component.abort()
        raise
    return component


# -- plugins on the XMPP hooks, without the whole app -------------------------------------------


async def load_plugin(
    name: str,
    *,
    hooks: Any,
    config: Any,
    services: Mapping[str, Any] | None = None,
    store: Any = None,
    bus: Any = None,
    pbx: Any = None,
    ami: Any = None,
) -> Any:
    """Build a bundled plugin's service over ``hooks`` as the loader does; returns the service.

    Its strings join the catalogue, its bus handlers subscribe (when ``bus`` is given)
    and its ``setup`` runs. For tests that drive one plugin over a stand-in component.
    """
    plugin = importlib.import_module(f"ctibot.plugins.{name}").plugin
    add_messages(plugin.name, plugin.messages)
    ctx = PluginContext(
        name=plugin.name,
        settings=plugin.parse_settings({}),
        config=config,
        store=store,
        bus=bus,
        pbx=pbx,
        ami=ami,
        services=dict(services or {}),
        clock=time.time,
        log=plugin_logger(plugin.name),
        xmpp=hooks,
    )
    service = plugin.service(ctx) if plugin.service is not None else None
    if bus is not None:
        for kind, handler in plugin.events.items():
            bus.subscribe(functools.partial(handler, service), kind)
    if plugin.setup is not None:
        done = plugin.setup(ctx, service)
        if inspect.isawaitable(done):
            await done
    return service
