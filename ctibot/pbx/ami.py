"""The AMI client: the only part of ctibot that talks to Asterisk (a small adapter over panoramisk).

panoramisk gives the action objects (ActionIDs, framing of actions, futures
that collect event lists). This module adds what a gateway needs and
panoramisk lacks (see shared LIBRARY-NOTES): byte framing before decoding,
explicit list handling (QueueAdd trap), Async on Originate, callbacks that
cannot drop the connection, reconnect with backoff, a ping watchdog for
half-open connections, and a full resync after every (re)connect and
FullyBooted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import IO, Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from ctibot.bus import EventBus
from ctibot.config import PbxConfig
from ctibot.pbx import actions as act
from ctibot.pbx.errors import AmiAuthError, AmiError, AmiUnavailable
from ctibot.pbx.events import PbxConnected, PbxDisconnected
from ctibot.pbx.framing import AmiFramer, AmiMessage
from ctibot.pbx.state import PbxState
from ctibot.pbx.sync import ASTDB_FAMILIES, fetch_astdb, fetch_extension_astdb, fetch_resync
from ctibot.pbx.validate import frame_check

log = logging.getLogger("ctibot.ami")


class _AmiProtocol(AMIProtocol):
    """panoramisk's protocol with byte framing and guarded dispatch."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.framer = AmiFramer()
        self.banner = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.factory = self.client
        self.encoding = "utf-8"
        self.log = log

    def send(self, data: Any, as_list: bool = False) -> asyncio.Future[Any]:
        frame_check(dict(data))
        return super().send(data, as_list=as_list)

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client.record is not None:
            client.record.write(data)
        try:
            messages = self.framer.feed(data)
        except Exception:  # pragma: no cover - the framer does not raise; belt and braces
            log.exception("AMI stream: cannot frame %d bytes; skipped", len(data))
            return
        if not self.banner.done() and self.framer.banner is not None:
            self.banner.set_result(self.framer.banner)
        responses = self.responses
        for message in messages:
            action_id = message.get("ActionID")
            if action_id is not None and action_id in responses:
                self._route_response(action_id, message)
            elif "Event" in message:
                client.on_event(message)

    def _route_response(self, action_id: Any, raw: AmiMessage) -> None:
        action = self.responses[action_id]
        message = Message(raw)
        message.raw = raw
        if not action.responses and action.as_list and raw.get("Response") in ("Error", "Failure"):
            # panoramisk waits for list items after an error reply to a list action: it never
            # resolves. An error ends the exchange.
            self.responses.pop(action_id, None)
            if not action.future.done():
                action.future.set_result([message])
            return
        try:
            done = action.add_message(message)
        except Exception:
            log.exception("AMI: cannot route the reply to %s", action.get("Action"))
            done = True
            if not action.future.done():
                action.future.set_exception(AmiError("malformed reply from the PBX"))
        if done:
            self.responses.pop(action_id, None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for action in self.responses.values():
            if not action.future.done():
                action.future.set_exception(AmiUnavailable("connection to the PBX lost"))
        self.responses.clear()
        if not self.banner.done():
            self.banner.set_exception(ConnectionError("closed before the AMI banner"))
        self.client.on_connection_lost(self, exc)


class AmiClient:
    """Keeps one logged-in AMI session alive and the PbxState in step with it."""

    def __init__(
        self,
        config: PbxConfig,
        state: PbxState,
        bus: EventBus,
        *,
        record: IO[bytes] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.state = state
        self.bus = bus
        self.record = record
        self._jitter = jitter
        self._protocol: _AmiProtocol | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event = asyncio.Event()
        self._buffer: list[AmiMessage] | None = None
        self._resync_wanted = asyncio.Event()
        self._booted_seen = asyncio.Event()
        self._rereads: dict[str, asyncio.Task[None]] = {}
        self._reread_again: set[str] = set()
        self.ready = asyncio.Event()
        self.connected = False
        self.resyncs = 0
        self.last_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting (and reconnecting) in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ami")

    async def stop(self) -> None:
        """Log off and stop; no reconnect."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until connected, logged in and resynced."""
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def _run(self) -> None:
        cfg = self.config
        delay = cfg.reconnect_min
        where = f"{cfg.host}:{cfg.port}"
        while True:
            established = False
            try:
                await self._connect()
                established = True
                self.last_error = None
                delay = cfg.reconnect_min
                await self._serve()
                reason = "connection to the PBX lost"
            except AmiAuthError as exc:
                reason = f"login as {cfg.username!r} refused ({exc})"
            except (OSError, TimeoutError, ConnectionError, AmiError) as exc:
                reason = f"cannot reach the PBX: {exc or type(exc).__name__}"
            if established and self.connected:
                self._set_disconnected(reason)
            await self._close()
            wait = delay * (0.75 + 0.5 * self._jitter())
            self.last_error = reason
            log.warning("AMI %s: %s; retrying in %.3g s", where, reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, cfg.reconnect_max)

    async def _connect(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        self._lost = asyncio.Event()
        self._resync_wanted = asyncio.Event()
        self._booted_seen = asyncio.Event()
        self._buffer = []
        async with asyncio.timeout(cfg.connect_timeout):
            _, protocol = await loop.create_connection(
                lambda: _AmiProtocol(self), cfg.host, cfg.port
            )
        self._protocol = protocol
        async with asyncio.timeout(cfg.connect_timeout):
            banner = await protocol.banner
        if not banner.startswith("Asterisk Call Manager/"):
            raise AmiError("the peer is not an Asterisk Manager Interface")
        await self._login()
        self.connected = True
        log.info("AMI %s:%s: logged in as %r (%s)", cfg.host, cfg.port, cfg.username, banner)
        self.bus.publish(PbxConnected())

    async def _login(self) -> None:
        cfg = self.config
        if cfg.auth == "md5":
            reply = await self._send(act.challenge(), timeout=cfg.connect_timeout)
            challenge = reply.get("Challenge", "")
            if reply.get("Response") != "Success" or not challenge:
                raise AmiAuthError(reply.get("Message") or "MD5 challenge refused")
            action = act.login_md5(cfg.username, act.md5_key(challenge, cfg.secret))
        else:
            action = act.login(cfg.username, cfg.secret)
        reply = await self._send(action, timeout=cfg.connect_timeout)
        if reply.get("Response") != "Success":
            raise AmiAuthError(reply.get("Message") or "authentication failed")

    async def _serve(self) -> None:
        """Resync, then keep the session alive until it is lost."""
        watchdog = asyncio.create_task(self._watchdog(), name="ami-watchdog")
        poller = asyncio.create_task(self._poll_astdb(), name="ami-astdb")
        try:
            # Asterisk sends FullyBooted right after the login reply when it is up;
            # waiting briefly for it avoids a second resync straight after the first.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._booted_seen.wait()
            self._resync_wanted.set()
            while True:
                await self._resync_wanted.wait()
                if self._lost.is_set():
                    return
                self._resync_wanted.clear()
                await self._resync()
        finally:
            watchdog.cancel()
            poller.cancel()
            for task in self._rereads.values():
                task.cancel()
            self._rereads.clear()
            self._reread_again.clear()

    async def _resync(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._buffer = []
        try:
            data = await fetch_resync(self.send, self.state.layout, self.state.naming.tracked())
        except AmiError as exc:
            log.warning("AMI resync failed (%s); reconnecting", exc)
            self._abort()
            return
        buffered, self._buffer = self._buffer, None
        self.bus.publish_all(self.state.resync(data))
        for message in buffered or ():
            self._apply(message)
        self.resyncs += 1
        self.ready.set()
        log.info("AMI: state resynced in %.0f ms", (loop.time() - started) * 1000)

    async def _watchdog(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.ping_interval)
            try:
                await self._send(act.ping(), timeout=cfg.ping_timeout)
            except (TimeoutError, AmiError):
                log.warning(
                    "AMI %s:%s: no answer to Ping within %.1f s: connection is dead, reconnecting",
                    cfg.host,
                    cfg.port,
                    cfg.ping_timeout,
                )
                self._abort()
                return

    async def _poll_astdb(self) -> None:
        """AstDB changes without an event (``database put``, the FreePBX GUI): re-read it often."""
        while True:
            await asyncio.sleep(self.config.astdb_poll)
            if not self.ready.is_set():
                continue
            try:
                values = await fetch_astdb(self.send, self.state.naming.tracked())
            except (AmiError, TimeoutError) as exc:
                log.info("AMI: AstDB re-read failed: %s", exc or type(exc).__name__)
                continue
            self.refresh_astdb(values)

    def refresh_astdb(self, values: dict[str, str]) -> None:
        """Apply a complete AstDB reading (DND/CF/CFB/CFU keys of every extension)."""
        for key in self._astdb_keys():
            self.bus.publish_all(self.state.set_astdb(key, values.get(key)))

    def _astdb_keys(self) -> list[str]:
        return [
            f"{family}/{ext}" for ext in self.state.naming.tracked() for family in ASTDB_FAMILIES
        ]

    def _reread_extension(self, extension: str) -> None:
        """Read one extension's DND/CF/CFB/CFU now (its ``Custom:DND`` light changed)."""
        if extension in self._rereads:
            self._reread_again.add(extension)  # the reading in flight may predate the change
            return
        task = asyncio.get_running_loop().create_task(
            self._reread(extension), name=f"ami-astdb-{extension}"
        )
        self._rereads[extension] = task

    async def _reread(self, extension: str) -> None:
        try:
            while True:
                self._reread_again.discard(extension)
                try:
                    values = await fetch_extension_astdb(self.send, extension)
                except (AmiError, TimeoutError) as exc:
                    log.info("AMI: AstDB of %s not re-read: %s", extension, exc)
                    return
                for key, value in values.items():
                    self.bus.publish_all(self.state.set_astdb(key, value))
                if extension not in self._reread_again:
                    return
        finally:
            self._rereads.pop(extension, None)

    # -- events ------------------------------------------------------------------------

    def on_event(self, message: AmiMessage) -> None:
        """Called by the protocol for every event that is not a reply to our action."""
        name = message["Event"]
        if name == "FullyBooted":
            self._booted_seen.set()
            if self.ready.is_set():
                self._resync_wanted.set()
        elif name == "Shutdown":
            log.warning("AMI: Asterisk is shutting down (%s)", message.get("Shutdown", "?"))
            self._abort()
            return
        if self._buffer is not None:
            self._buffer.append(message)
            return
        self._apply(message)

    def _apply(self, message: AmiMessage) -> None:
        try:
            events = self.state.apply(message)
        except Exception:
            # The state is pure and tested, but an event that crashes it must not drop the
            # connection: log it, keep going; the next resync repairs whatever it missed.
            log.exception("PBX state: cannot apply %s event", message.get("Event"))
            return
        if events:
            self.bus.publish_all(events)
        if message.get("Event") == "DeviceStateChange":
            device = message.get("Device")
            if isinstance(device, str) and device.startswith("Custom:DND"):
                # *76/*78, the GUI or another CTI changed DND (and maybe forwards with it).
                extension = self.state.naming.dnd_hint_extension(device)
                if extension is not None and self.state.naming.is_tracked(extension):
                    self._reread_extension(extension)

    def on_connection_lost(self, protocol: _AmiProtocol, exc: Exception | None) -> None:
        if protocol is self._protocol:
            self._mark_lost()

    def _set_disconnected(self, reason: str) -> None:
        self.connected = False
        self.ready.clear()
        self.bus.publish(PbxDisconnected(reason=reason))

    def _abort(self) -> None:
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            protocol.transport.abort()
        self._mark_lost()

    def _mark_lost(self) -> None:
        self._lost.set()
        self._resync_wanted.set()  # wakes the session loop, which then sees the loss

    async def _close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and not protocol.closed:
            protocol.closed = True
            protocol.transport.close()
        if self.connected:
            self._set_disconnected("stopped")

    # -- actions -----------------------------------------------------------------------

    async def send(self, action: dict[str, str], *, timeout: float = 10.0) -> Any:
        """Send a built action (see ctibot.pbx.actions) and return its reply.

        List actions return the list of items (plain dicts, the completing event
        last); others return the reply dict. ``Response: Error`` raises AmiError.
        """
        if not self.connected:
            raise AmiUnavailable("not connected to the PBX")
        reply = await self._send(action, timeout=timeout)
        if isinstance(reply, list):
            first = reply[0]
            if first.get("Response") == "Error":
                raise AmiError(first.get("Message") or "error")
            return reply[1:]
        if reply.get("Response") in ("Error", "Failure"):
            raise AmiError(reply.get("Message") or "error")
        return reply

    async def _send(self, action: dict[str, str], *, timeout: float) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise AmiUnavailable("not connected to the PBX")
        as_list = act.is_list_action(action)
        request = Action(dict(action), as_list=as_list)
        future = protocol.send(request, as_list=as_list)
        try:
            # Not wait_for: on Python 3.11 it loses a cancellation that arrives as the
            # answer does (gh-86296), and a stopping ctibot would go on serving.
            async with asyncio.timeout(timeout):
                result = await future
        except TimeoutError:
            protocol.responses.pop(request.id, None)
            raise
        if isinstance(result, list):
            return [m.raw for m in result]
        return result.raw
