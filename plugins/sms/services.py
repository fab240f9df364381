"""SMS (F10): send through the configured HTTP gateway, receive from its webhook, the history.

Every SMS is written to the history before the gateway is asked, so that one
chat message (one stanza id) is handed to the gateway once, whatever happens.
A user may hand ``per_hour`` SMS to the gateway in any hour and ``per_day`` in any
24 hours, counted from the history (a restart forgets nothing); one the gateway
could not be reached for does not count.
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctibot.plugin import (
    BadArgument,
    PermissionDenied,
    PluginContext,
    ServiceError,
    SettingError,
    TooMany,
    translate,
)

from .gateways import HttpGateway, Outcome, spec_from_settings
from .numbers import NumberError, NumberPlan, Segments, segments, shown
from .store import SmsRecord, SmsStore

if TYPE_CHECKING:
    import httpx

    from ctibot.plugin import UserConfig

PERMISSION = "sms"
#: What XML 1.0 cannot carry, and other control characters an SMS has no use for.
_CONTROL = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: An inbound sender that is no number (an alphanumeric sender ID): shown, never a JID.
_SENDER_NAME = re.compile(r"^(?=.*[A-Za-z])[0-9A-Za-z][0-9A-Za-z .&'_-]{0,19}$")
MAX_INBOUND = 10_000


class SmsNotSent(ServiceError):
    """The gateway did not take the SMS (``params["reason"]``) or may have: never retried."""

    key = "sms.fail.unreachable"


@dataclass(frozen=True, slots=True)
class SmsSent:
    """What ``send`` did: the history row and what the gateway said."""

    record: SmsRecord
    outcome: Outcome
    segments: Segments


@dataclass(frozen=True, slots=True)
class Inbound:
    """What the webhook did with one SMS: ``delivered``, ``undelivered`` or ``unknown_number``."""

    status: str
    user: str | None = None
    record_id: int | None = None


class SmsService:
    """Send and receive SMS on behalf of ctibot's users."""

    def __init__(self, ctx: PluginContext, *, transport: httpx.AsyncBaseTransport | None = None):
        self.ctx = ctx
        s = ctx.settings
        self.plan = NumberPlan(
            country_code=str(s.get("country_code", "39")),
            national_prefix=str(s.get("national_prefix", "")),
            min_digits=int(s.get("min_digits", 6)),
            max_digits=int(s.get("max_digits", 15)),
        )
        self.max_parts = int(s.get("max_parts", 6))
        self.timeout = float(s.get("timeout", 10.0))
        self.history_limit = int(s.get("history_limit", 20))
        self.per_hour = int(s.get("per_hour", 20))
        self.per_day = int(s.get("per_day", 100))
        self._locks: dict[str, asyncio.Lock] = {}
        self.secret = str(s.get("webhook_secret", ""))
        self.sender = str(s.get("sender", ""))
        self.numbers = self._receiving_numbers(s.get("numbers") or {})
        spec = spec_from_settings(s)
        self.gateway: HttpGateway | None = None
        if spec.url:
            self.gateway = HttpGateway(
                spec,
                user=str(s.get("user", "")),
                password=str(s.get("password", "")),
                sender=self.sender,
                timeout=self.timeout,
                connect_retries=int(s.get("connect_retries", 2)),
                transport=transport,
            )
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Called with a user's name when their SMS history changed (the web panel's live part).
        self.listeners: list[Any] = []

    def _receiving_numbers(self, table: Mapping[str, Any]) -> dict[str, str]:
        """``numbers = { "+390212345678" = "alice" }``: whose chat an SMS to a number reaches."""
        users = {u.name for u in self.ctx.config.users}
        out: dict[str, str] = {}
        for raw, name in table.items():
            try:
                number = self.plan.normalize(str(raw), lenient=True)
            except NumberError:
                raise SettingError(
                    f"numbers.{raw}", 'a phone number as the key, e.g. "+390212345678"', raw
                ) from None
            if name not in users:
                raise SettingError(f"numbers.{raw}", "the name of a [[users]] entry", name)
            out[number] = str(name)
        return out

    @property
    def store(self) -> SmsStore:
        return SmsStore(self.ctx.store.db)

    # -- checks --------------------------------------------------------------------------

    def may(self, user: UserConfig) -> bool:
        return PERMISSION in self.ctx.config.permissions_of(user)

    def require(self, user: UserConfig) -> None:
        if not self.may(user):
            raise PermissionDenied("sms.error.not_allowed", permission=PERMISSION)

    def number(self, raw: str, *, lenient: bool = True) -> str:
        """The E.164 form of a number, or BadArgument that says what a number is."""
        try:
            return self.plan.normalize(raw, lenient=lenient)
        except NumberError as exc:
            raise BadArgument(
                "sms.error.bad_number",
                number=exc.shown,
                minimum=self.plan.min_digits,
                maximum=self.plan.max_digits,
            ) from None

    def text(self, raw: str) -> tuple[str, Segments]:
        """The text as it will be sent (control characters removed) and its parts."""
        text = _clean(raw).strip()
        if not text:
            raise BadArgument("sms.error.empty")
        found = segments(text)
        if found.parts > self.max_parts:
            raise BadArgument(
                "sms.error.too_long",
                parts=found.parts,
                units=found.units,
                encoding=_ENCODING[found.encoding],
                maximum=self.max_parts,
            )
        return text, found

    def own_number(self, user: UserConfig) -> str:
        """What the user's SMS come from: a receiving number of theirs (so that a reply to an
        SMS they got comes from the number it went to), else ``sender``."""
        return next((n for n, name in self.numbers.items() if name == user.name), self.sender)

    # -- sending -------------------------------------------------------------------------

    async def send(
        self,
        user: UserConfig,
        number: str,
        text: str,
        *,
        origin_id: str | None = None,
        lenient: bool = True,
    ) -> SmsSent:
        """Send one SMS: refused (ServiceError) before any request when anything is wrong.

        SmsNotSent says why the gateway did not take it; ``origin_id`` (a chat
        message's id) already handed over is not handed over again.
        """
        self.require(user)
        to = self.number(number, lenient=lenient)
        body, parts = self.text(text)
        if self.gateway is None:
            raise ServiceError("sms.error.no_gateway")
        store = self.store
        own = self.own_number(user)
        # One user's SMS one at a time while counted and written: no burst slips past.
        async with self._locks.setdefault(user.name, asyncio.Lock()):
            now = self._now()
            await self._check_rate(user, now)
            row = await store.add(
                user=user.name,
                direction="out",
                number=to,
                own_number=own,
                text=body,
                parts=parts.parts,
                status="sending",
                at=now,
                origin_id=origin_id,
            )
        if row is not None:
            self._changed(user.name)
        if row is None:
            async with store.db.execute(
                "SELECT id, status FROM sms WHERE user = ? AND origin_id = ?",
                (user.name, origin_id),
            ) as cursor:
                found = await cursor.fetchone()
            raise ServiceError(
                "sms.already", id=found[0] if found else "?", status=found[1] if found else "?"
            )
        try:
            outcome = await self.gateway.send(to, body, own)
        except asyncio.CancelledError:
            # ctibot stopping mid-request: whether it went out is not known.
            await store.update(row, status="unknown", reason="cancelled", at=self._now())
            self._changed(user.name)
            raise
        await store.update(
            row,
            status=outcome.status,
            reason=outcome.reason,
            http_status=outcome.http_status,
            gateway_id=outcome.gateway_id,
            at=self._now(),
        )
        self._changed(user.name)
        self.ctx.log.info(
            "SMS #%s from %s to %s: %s %s (HTTP %s, %d attempt(s))",
            row,
            user.name,
            to,
            outcome.status,
            outcome.reason,
            outcome.http_status,
            outcome.attempts,
        )
        record = await store.get(row)
        assert record is not None
        if outcome.status != "sent":
            raise SmsNotSent(
                f"sms.fail.{outcome.reason}",
                status=outcome.status,
                http_status=outcome.http_status,
                timeout=self.timeout,
                id=row,
            )
        return SmsSent(record, outcome, parts)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a send in the background (a chat message's handler must not wait for it)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Let sends in flight finish (they are bounded by the timeout), then close."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.timeout + 1)
        if self.gateway is not None:
            await self.gateway.aclose()

    # -- receiving ------------------------------------------------------------------------

    def webhook_allowed(self, given: str | None) -> bool:
        """The shared secret, compared in constant time; no secret configured = no webhook."""
        if not self.secret or not given:
            return False
        return secrets.compare_digest(given.encode(), self.secret.encode())

    def inbound_sender(self, raw: str) -> str:
        """An inbound SMS's sender: its E.164 number, or a sender name; BadArgument otherwise."""
        try:
            return self.plan.normalize(raw, lenient=True)
        except NumberError:
            pass
        if not _SENDER_NAME.fullmatch(raw):
            raise BadArgument("sms.error.bad_number", number=shown(raw))
        return raw

    async def receive(self, sender: str, to: str, text: str) -> Inbound:
        """An SMS from ``sender`` to our number ``to``: to its owner's chat, and the history.

        BadArgument when a field is malformed (the webhook's 400). An SMS to a number
        no user owns is logged and dropped.
        """
        frm = self.inbound_sender(sender)
        ours = self.number(to)
        if not isinstance(text, str) or len(text) > MAX_INBOUND:
            raise BadArgument("error.bad_argument")
        body = _clean(text)
        owner_name = self.numbers.get(ours)
        owner = self.ctx.config.user_by_name(owner_name) if owner_name else None
        if owner is None:
            self.ctx.log.warning("SMS from %s to %s: no user owns that number, dropped", frm, ours)
            return Inbound("unknown_number")
        sent_id = self._deliver(owner, frm, body)
        status = "received" if sent_id is not None else "undelivered"
        row = await self.store.add(
            user=owner.name,
            direction="in",
            number=frm,
            own_number=ours,
            text=body,
            parts=segments(body).parts,
            status=status,
            at=self._now(),
        )
        self.ctx.log.info("SMS #%s from %s to %s (%s): %s", row, frm, ours, owner.name, status)
        self._changed(owner.name)
        return Inbound("delivered" if sent_id else "undelivered", owner.name, row)

    def _deliver(self, owner: UserConfig, frm: str, body: str) -> str | None:
        xmpp = self.ctx.xmpp
        if xmpp is None:
            return None
        if frm.startswith("+"):
            # From the number's own JID: each number is one conversation, and a reply is an SMS.
            return xmpp.send_chat(owner, body or " ", frm=xmpp.jid_of(frm))
        text = self._t(owner, "sms.inbound_from", sender=frm, text=body)
        return xmpp.send_chat(owner, text)

    # -- history --------------------------------------------------------------------------

    async def history_of(self, user: UserConfig, limit: int | None = None) -> list[SmsRecord]:
        """The user's own SMS, sent and received, newest first."""
        return await self.store.history(user.name, limit or self.history_limit)

    # -- helpers --------------------------------------------------------------------------

    async def _check_rate(self, user: UserConfig, now: float) -> None:
        """ServiceError (nothing sent) when the user reached ``per_hour`` or ``per_day``."""
        for limit, window, key in (
            (self.per_hour, 3600.0, "sms.error.slow_down"),
            (self.per_day, 86400.0, "sms.error.daily_cap"),
        ):
            if not limit:
                continue
            times = await self.store.sent_times(user.name, now - window, limit)
            if len(times) < limit:
                continue
            again = min(times) + window  # when the oldest of them leaves the window
            raise TooMany(
                key,
                count=len(times),
                maximum=limit,
                at=_clock(again, now),
                wait=max(1, math.ceil((again - now) / 60)),
            )

    def _now(self) -> float:
        return float(self.ctx.clock())

    def _changed(self, name: str) -> None:
        for listener in list(self.listeners):
            listener(name)

    def _t(self, user: UserConfig, key: str, **params: Any) -> str:
        return translate(key, user.language, **params)


_ENCODING = {"gsm7": "GSM-7", "ucs2": "UCS-2"}


def _clean(text: str) -> str:
    """Line ends as newlines, control characters (C0 but tab and newline, DEL, C1) removed:
    the same rule as post-its', whether the text came from chat, the page, the API or the
    webhook."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _clock(moment: float, now: float) -> str:
    """A moment as the user reads it: the time of day, with the date when not today."""
    then = time.localtime(moment)
    if then[:3] == time.localtime(now)[:3]:
        return time.strftime("%H:%M", then)
    return time.strftime("%d/%m %H:%M", then)
