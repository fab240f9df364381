"""The demo PBX's TCP/AMI layer: DemoPbx (server, scenario and fault helpers) and sessions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time

from ctibot.demo import messages as m
from ctibot.demo.actions import ACTIONS, READONLY_ACTIONS
from ctibot.demo.calls import CallEngine
from ctibot.demo.channels import Channel
from ctibot.demo.clock import SimClock
from ctibot.demo.office import Office, Phone
from ctibot.pbx.framing import parse_message

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
#: Asterisk closes a session this long after a failed login.
BAD_LOGIN_CLOSE = 1.0
#: Largest action a client may send before we drop the connection (a real AMI is similar).
MAX_ACTION_BYTES = 64 * 1024
#: Wait for the socket when this much is queued for a client.
DRAIN_ABOVE = 1 << 20
#: A client that lets this much pile up unread is cut off (Asterisk drops slow readers too).
MAX_BACKLOG = 64 << 20


class AmiSession:
    """One AMI connection: login state, event switch, its writer."""

    def __init__(
        self, pbx: DemoPbx, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.pbx = pbx
        self.reader = reader
        self.writer = writer
        self.username: str | None = None
        self.authenticated = False
        self.events_on = True
        self.readonly = False
        self.challenge: str | None = None
        self.closed = False
        self.session_id = f"0x{id(self):x}"
        self.session_tv = _tv(pbx.clock.wall())
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        self.remote = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self.local = f"IPV4/TCP/{sock[0]}/{sock[1]}"

    # -- output ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.closed or self.pbx.frozen or self.writer.transport.is_closing():
            return
        self.writer.write(data)

    def event(self, data: bytes) -> None:
        if self.authenticated and self.events_on:
            self.send(data)

    def security_event(self, name: str, severity: str, request: str) -> None:
        """RequestNotAllowed / RequestBadFormat with the captures' field order."""
        tv = _tv(self.pbx.clock.wall())
        head = [
            ("EventTV", tv),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", 1),
        ]
        where = [
            ("SessionID", self.session_id),
            ("LocalAddress", self.local),
            ("RemoteAddress", self.remote),
            ("RequestType", f"Action: {request}"),
            ("SessionTV", self.session_tv),
        ]
        account = [("AccountID", self.username or "")]
        if name == "RequestNotAllowed":
            data = m.event(name, head, account, where)
        else:
            data = m.event(name, head, where, account)
        self.pbx.broadcast(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self.writer.close()

    # -- input ----------------------------------------------------------------
    async def run(self) -> None:
        self.send(BANNER)
        buffer = b""
        try:
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    break
                buffer = buffer + data if buffer else data
                start = 0
                # Walk the buffer by offsets: a client may pipeline thousands of
                # actions (a resync of 1,000 extensions) in one read.
                while (end := buffer.find(b"\r\n\r\n", start)) >= 0:
                    block = buffer[start:end]
                    start = end + 4
                    # A half-open PBX answers nothing: hold actions until it thaws.
                    await self.pbx._thawed.wait()
                    if self.closed:
                        return
                    text = block.decode("utf-8", "replace").strip("\r\n")
                    if text:
                        await self.handle(parse_message(text))
                    if self.writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
                        await self.writer.drain()
                buffer = buffer[start:]
                await self.writer.drain()
                if len(buffer) > MAX_ACTION_BYTES:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()
            self.pbx.sessions.discard(self)

    async def handle(self, msg: dict) -> None:
        action = str(msg.get("Action", "")).strip()
        action_id = msg.get("ActionID")
        if isinstance(action_id, list):
            action_id = action_id[0]
        key = action.lower()
        if not key:
            self.send(m.response("Error", action_id, "Missing action in request"))
            return
        if key == "login":
            await self.login(msg, action_id)
            return
        if key == "challenge":
            self.challenge = str(random.randint(100000000, 999999999))
            self.send(m.response("Success", action_id, None, [("Challenge", self.challenge)]))
            return
        if key == "logoff":
            self.send(m.response("Goodbye", action_id, "Thanks for all the fish."))
            await self.writer.drain()
            self.close()
            return
        if not self.authenticated:
            self.send(m.response("Error", action_id, "Authentication Required"))
            return
        handler = ACTIONS.get(key)
        if handler is None:
            self.send(
                m.response(
                    "Error",
                    action_id,
                    f"Invalid/unknown command: {action}. "
                    "Use Action: ListCommands to show available commands.",
                )
            )
            self.security_event("RequestBadFormat", "Error", action)
            return
        if self.readonly and key not in READONLY_ACTIONS:
            self.send(m.response("Error", action_id, "Permission denied"))
            self.security_event("RequestNotAllowed", "Error", action)
            return
        await handler(self, msg, action_id)

    async def login(self, msg: dict, action_id: str | None) -> None:
        pbx = self.pbx
        user = str(msg.get("Username", ""))
        account = pbx.accounts.get(user)
        ok = False
        if account is not None:
            secret, _readonly = account
            if str(msg.get("AuthType", "")).lower() == "md5":
                expected = hashlib.md5(((self.challenge or "") + secret).encode()).hexdigest()
                ok = self.challenge is not None and msg.get("Key") == expected
            else:
                ok = msg.get("Secret") == secret
        if not ok:
            self.send(m.response("Error", action_id, "Authentication failed"))
            await asyncio.sleep(BAD_LOGIN_CLOSE * pbx.clock.scale)
            self.close()
            return
        self.username = user
        self.readonly = account[1]
        self.authenticated = True
        self.events_on = str(msg.get("Events", "on")).lower() not in ("off", "no", "false", "0")
        self.send(m.response("Success", action_id, "Authentication accepted"))
        uptime = int(pbx.clock.now() - pbx.booted_at)
        self.event(
            m.event(
                "FullyBooted",
                [("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")],
            )
        )
        tv = _tv(pbx.clock.wall())
        self.event(
            m.event(
                "SuccessfulAuth",
                [
                    ("EventTV", tv),
                    ("Severity", "Informational"),
                    ("Service", "AMI"),
                    ("EventVersion", 1),
                    ("AccountID", user),
                    ("SessionID", self.session_id),
                    ("LocalAddress", self.local),
                    ("RemoteAddress", self.remote),
                    ("UsingPassword", 0),
                    ("SessionTV", self.session_tv),
                ],
            )
        )


def _tv(epoch: float) -> str:
    ms = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{ms:03d}+0000"


class DemoPbx:
    """An embedded Asterisk look-alike speaking AMI over TCP on loopback.

    ``async with DemoPbx(time_scale=0.05) as pbx: ... pbx.port`` — then connect
    ctibot (or any AMI client) to ``127.0.0.1:pbx.port`` as user ``cti`` /
    ``cti-secret`` (full rights) or ``cti-ro`` / ``cti-ro-secret`` (read-only:
    everything but Ping/Logoff is "Permission denied").

    Scenario helpers (no AMI needed): :meth:`call`, :meth:`inbound_call`,
    :meth:`originate`, :meth:`answer`, :meth:`hangup`, :meth:`hold`,
    :meth:`leave_voicemail`, :meth:`press` (*78/*79...), :meth:`set_dnd`,
    :meth:`set_forward`, :meth:`set_registered`, :meth:`phone` (its behaviour),
    :meth:`channels_of`, :meth:`seed_calls`, :meth:`set_traffic`.
    Faults: :meth:`drop_connections`, :meth:`freeze`, :meth:`restart`,
    :meth:`inject`. Everything timed runs on ``clock`` (``time_scale``).
    """

    def __init__(
        self,
        office: Office | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "cti",
        secret: str = "cti-secret",
        time_scale: float = 1.0,
        traffic: bool | float = False,
        readonly_username: str = "cti-ro",
        readonly_secret: str = "cti-ro-secret",
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the demo PBX listens on loopback only")
        self.office = office if office is not None else Office()
        self.host = host
        self.port = port
        self.accounts = {username: (secret, False), readonly_username: (readonly_secret, True)}
        self.clock = SimClock(time_scale)
        self.engine = CallEngine(self.office, self.clock, self.broadcast)
        self.sessions: set[AmiSession] = set()
        self.frozen = False
        self._thawed = asyncio.Event()
        self._thawed.set()
        self._server: asyncio.base_events.Server | None = None
        # traffic=True: a new call every 5 simulated seconds on average.
        self._traffic_rate = (0.2 if traffic is True else float(traffic or 0)) or 0.0
        self._traffic_task: asyncio.Task[None] | None = None
        self.started_at = time.time()
        #: Lines written by QueueLog: (time, uniqueid, queue, interface, event, message).
        self.queue_log: list[tuple[int, str, str, str, str, str]] = []
        self.booted_at = 0.0  # simulated time of the last (re)start: FullyBooted's Uptime

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=MAX_ACTION_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self._traffic_rate and self._traffic_task is None:
            self.set_traffic(self._traffic_rate)

    def set_traffic(self, rate: float) -> None:
        """Start (calls per simulated second) or stop (0) the background traffic.

        Stopping creates no new calls; those in progress end by themselves.
        """
        if self._traffic_task is not None:
            self._traffic_task.cancel()
            self._traffic_task = None
        self._traffic_rate = rate
        if rate > 0:
            from ctibot.demo.traffic import run_traffic

            self._traffic_task = asyncio.get_running_loop().create_task(run_traffic(self, rate))

    async def stop(self) -> None:
        if self._traffic_task is not None:
            self._traffic_task.cancel()
            with contextlib.suppress(BaseException):
                await self._traffic_task
            self._traffic_task = None
        await self._close_listener()
        self._thawed.set()
        await self.engine.shutdown()

    async def _close_listener(self) -> None:
        """Stop accepting, close every session, then wait for the server to settle
        (Python 3.12+'s wait_closed waits for the connections too)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1)

    async def __aenter__(self) -> DemoPbx:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        await session.run()

    def broadcast(self, data: bytes) -> None:
        """Send an event to every logged-in session that asked for events."""
        if self.frozen:
            return
        for session in list(self.sessions):
            if session.authenticated and session.events_on and not session.closed:
                transport = session.writer.transport
                if transport.is_closing():
                    continue
                if transport.get_write_buffer_size() > MAX_BACKLOG:
                    log.warning("demo PBX: dropping an AMI client that does not read")
                    session.close()
                    continue
                session.writer.write(data)

    # -- faults ---------------------------------------------------------------
    async def drop_connections(self) -> None:
        """Close every AMI socket at once (calls go on)."""
        for session in list(self.sessions):
            transport = session.writer.transport
            session.closed = True
            with contextlib.suppress(Exception):
                transport.abort()
                session.writer.close()
        self.sessions.clear()

    def freeze(self, frozen: bool = True) -> None:
        """Half-open connections: stop answering and sending, keep the sockets open."""
        self.frozen = frozen
        if frozen:
            self._thawed.clear()
        else:
            self._thawed.set()

    async def restart(self, down_for: float = 1.0) -> None:
        """Like ``core restart``: Shutdown event, close, refuse connections, come back.

        Calls keep their state (the demo has no media to lose); clients logging
        in again get ``FullyBooted`` and must resync. ``down_for`` is in
        simulated seconds.
        """
        self.broadcast(m.event("Shutdown", [("Shutdown", "Cleanly"), ("Restart", "True")]))
        for session in list(self.sessions):
            with contextlib.suppress(Exception):
                await session.writer.drain()
        port = self.port
        await self._close_listener()
        await self.clock.sleep(down_for)
        self.booted_at = self.clock.now()
        self.port = port
        self._server = await asyncio.start_server(
            self._accept, self.host, port, limit=MAX_ACTION_BYTES
        )

    async def inject(self, raw: bytes) -> None:
        """Send raw bytes (garbage, truncated or huge messages...) to every session."""
        for session in list(self.sessions):
            if not session.closed and not session.writer.transport.is_closing():
                session.writer.write(raw)
                with contextlib.suppress(Exception):
                    await session.writer.drain()

    # -- scenario helpers -----------------------------------------------------
    def _track(self, coro) -> asyncio.Task:
        """Run a helper's call as a task that ``stop()`` cancels with the calls."""
        task = asyncio.get_running_loop().create_task(coro)
        self.engine.tasks.add(task)
        task.add_done_callback(self.engine.tasks.discard)
        return task

    def phone(self, ext: str, device: str | None = None) -> Phone:
        """The behaviour of ``ext``'s phone (or of its other ``device``), to change
        from a test. Other devices are added to the office before the PBX starts:
        :meth:`Office.add_device`."""
        user = self.office.users[ext]
        return user.phone if device is None else user.other_phones[device]

    def set_registered(self, ext: str, registered: bool, device: str | None = None) -> None:
        """Unregister (UNAVAILABLE) or re-register a phone."""
        self.phone(ext, device).registered = registered
        self.engine.refresh_device(ext)

    def set_dnd(self, ext: str, on: bool) -> None:
        """DND as *78/*79 would set it (AstDB + Custom:DND<ext>)."""
        self.engine.dialplan.set_dnd(ext, on)

    def set_forward(self, ext: str, kind: str, target: str | None) -> None:
        """Set or clear CF / CFB / CFU of ``ext`` in AstDB."""
        if target:
            self.office.astdb.put(kind, ext, target)
        else:
            self.office.astdb.delete(kind, ext)

    async def originate(
        self,
        channel: str,
        *,
        context: str = "from-internal",
        exten: str | None = None,
        application: str | None = None,
        data: str = "",
        callerid: tuple[str, str] | None = None,
        timeout: float = 30.0,
    ) -> str:
        """Originate without AMI; returns the outcome (ANSWER, BUSY, ...)."""
        from ctibot.demo.actions import originate

        return await originate(
            self, channel, context, exten, application, data, callerid, timeout, None, {}
        )

    def call(self, src: str, dst: str) -> asyncio.Task[str]:
        """Click-to-call: ``src``'s phone rings, then ``dst`` is dialed."""
        name = self.office.users[src].fullname
        return self._track(self.originate(self.office.device(src), exten=dst, callerid=(src, name)))

    def inbound_call(
        self, caller_num: str, caller_name: str, did: str, *, talk: float = 600.0
    ) -> asyncio.Task[str]:
        """An outside caller on ``did`` (routed to an extension or a queue)."""
        if self.office.lab_mode:
            return self._track(
                self.originate(
                    f"Local/{did}@from-pstn",
                    application="Wait",
                    data=str(talk),
                    callerid=(caller_num, caller_name),
                )
            )
        return self._track(self._trunk_inbound(caller_num, caller_name, did, talk))

    async def _trunk_inbound(self, num: str, name: str, did: str, talk: float) -> str:
        """A call arriving on the first trunk with room (Ring state, in from-pstn)."""
        e = self.engine
        trunk = next((t for t in self.office.trunks if e.trunk_in_use(t) < t.max_channels), None)
        if trunk is None:
            return "CONGESTION"
        ch = e.new_device_channel(trunk.device, None, "from-pstn", did, state=4)
        ch.trunk = trunk
        e.set_callerid(ch, num, name)
        e.spawn(e.dialplan.inbound(ch, did), owner=ch)
        # The outside caller hangs up ``talk`` seconds after being answered (by a
        # phone, or by a queue that then rings its agents), unless hung up first.
        while not ch.dead and ch.answered_at is None:
            await self.clock.sleep(0.25)
        if ch.dead:
            return "NOANSWER"
        gone = asyncio.get_running_loop().create_future()
        ch.hooks.append(lambda _ch: gone.done() or gone.set_result(None))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gone, talk * self.clock.scale)
        e.hangup(ch, 16, soft=True)
        return "ANSWER"

    def channels_of(self, ext: str) -> list[Channel]:
        """Live channels of ``ext``'s phone."""
        return [c for c in self.engine.channels.values() if c.extension == ext and not c.dead]

    def answer(self, ext: str) -> bool:
        """Make ``ext``'s ringing phone answer now."""
        for ch in self.channels_of(ext):
            att = ch.attempt
            if att is not None and not att.done:
                ch.app, ch.appdata = "MusicOnHold", "default,600"
                self.engine.answer(att)
                return True
        return False

    def hangup(self, ext_or_channel: str, cause: int = 16) -> int:
        """Hang up a channel by name, or every channel of an extension's phone."""
        ch = self.engine.channels.get(ext_or_channel)
        targets = [ch] if ch is not None else self.channels_of(ext_or_channel)
        for target in targets:
            self.engine.hangup(target, cause, soft=True)
        return len(targets)

    def hold(self, ext: str, on: bool = True) -> int:
        """``ext`` puts its call on hold (Hold/Unhold, device ONHOLD) or takes it back."""
        e = self.engine
        changed = 0
        for ch in self.channels_of(ext):
            if ch.state != 6 or ch.on_hold == on:
                continue
            ch.on_hold = on
            if on:
                e.emit(m.event("Hold", m.channel_pairs(ch), [("MusicClass", "default")]))
            else:
                e.emit(m.event("Unhold", m.channel_pairs(ch)))
            changed += 1
        e.refresh_device(ext)
        return changed

    def leave_voicemail(self, box: str, caller: str = '"Customer" <0699887766>', duration=5):
        """A message lands in ``box``'s INBOX (MessageWaiting)."""
        self.engine.dialplan.record_message(box, caller, int(duration))

    def press(self, ext: str, code: str) -> asyncio.Task[str]:
        """``ext`` dials a feature code such as *78 / *79 from its phone."""
        phone = self.phone(ext)
        saved = phone.answer_after
        phone.answer_after = 0.0

        async def dial() -> str:
            try:
                return await self.originate(
                    self.office.device(ext),
                    exten=code,
                    callerid=(ext, self.office.users[ext].fullname),
                )
            finally:
                phone.answer_after = saved

        return self._track(dial())

    async def seed_calls(self, count: int) -> int:
        """Set up ``count`` answered calls at once (no ring time): for benchmarks."""
        from ctibot.demo.traffic import seed_calls

        return seed_calls(self, count)
