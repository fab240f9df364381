"""The HTTP shell: a Quart app served by Hypercorn on ``[web] listen``; plugins add routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart

from ctibot.http.errors import ListenError

log = logging.getLogger("ctibot.http")

_LISTEN = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]{1,253})):(?P<port>\d{1,5})$"
)


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` / ``"[::1]:8080"`` -> (host, port); ValueError when malformed."""
    match = _LISTEN.match(text)
    if match is None:
        raise ValueError(text)
    port = int(match["port"])
    if port > 65535:
        raise ValueError(text)
    return match["v6"] or match["host"], port


class HttpShell:
    """One Quart app on one listening socket, started and stopped with ctibot.

    ``port`` is the bound port once started (``listen`` may name port 0: any free one).
    Routes are added before ``start`` with ``route`` (a decorator) or ``add_route``.
    """

    def __init__(self, listen: str = "127.0.0.1:0", *, graceful_timeout: float = 1.0) -> None:
        self.host, self.requested_port = parse_listen(listen)
        self.app = Quart("ctibot", static_folder=None)
        self.app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
        self.port: int | None = None
        self._graceful_timeout = graceful_timeout
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Event()
        self._on_stop: list[Callable[[], Any]] = []
        self.app.before_serving(self._on_serving)

    def on_stop(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` when stopping, before the server waits for open requests."""
        self._on_stop.append(callback)

    # -- routes ----------------------------------------------------------------------------

    def add_route(
        self,
        rule: str,
        handler: Callable[..., Any],
        methods: Iterable[str] = ("GET",),
        *,
        endpoint: str | None = None,
    ) -> None:
        """Serve ``handler`` (an async view) at ``rule`` for ``methods``."""
        self.app.add_url_rule(
            rule,
            endpoint or f"{handler.__module__}.{handler.__qualname__}",
            handler,
            methods=list(methods),
        )

    def route(
        self, rule: str, methods: Iterable[str] = ("GET",), *, endpoint: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of ``add_route``."""

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.add_route(rule, handler, methods, endpoint=endpoint)
            return handler

        return decorate

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL the shell answers on (once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind the socket (ListenError when the port is taken) and serve in the background."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            sock = socket.create_server((self.host, self.requested_port), family=family)
        except OSError as exc:
            shown = f"[{self.host}]" if ":" in self.host else self.host
            raise ListenError(
                exc.errno,
                f"[web] listen {shown}:{self.requested_port}: "
                + (os.strerror(exc.errno) if exc.errno else str(exc)),
            ) from None
        self.port = sock.getsockname()[1]
        cfg = HypercornConfig()
        # A socket of our own: the bound port is known (port 0) and a taken port fails here.
        cfg.bind = [f"fd://{sock.detach()}"]
        cfg.graceful_timeout = self._graceful_timeout
        cfg.accesslog = None
        cfg.errorlog = log
        self._stop.clear()
        self._started.clear()
        # Always with a trigger: without one Hypercorn takes over SIGINT/SIGTERM.
        self._task = asyncio.create_task(
            serve(self.app, cfg, shutdown_trigger=self._stop.wait), name="ctibot-http"
        )
        ready = asyncio.create_task(self._started.wait())
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises what stopped it
            raise RuntimeError("the HTTP server stopped at once")
        log.info("HTTP server listening on %s", self.url)

    async def _on_serving(self) -> None:
        self._started.set()

    async def stop(self) -> None:
        """Stop serving (open requests get ``graceful_timeout`` seconds)."""
        task, self._task = self._task, None
        if task is None:
            return
        for callback in self._on_stop:  # e.g. close the websockets: no graceful wait for them
            try:
                callback()
            except Exception:
                log.exception("HTTP server: a stop callback failed")
        self._stop.set()
        try:
            await asyncio.wait_for(task, self._graceful_timeout + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception:  # a server that failed while stopping is stopped all the same
            log.exception("HTTP server: error while stopping")
