"""SMS gateways over HTTP: a generic one (method, URL, headers, body template) and presets.

Sent with httpx on the event loop. Only a connection that could not be made is
tried again (nothing can have reached the gateway); a timeout or a broken answer
after the request went out is never retried: the SMS may have been sent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_PLACEHOLDER = re.compile(r"\{(user|password|number|digits|sender|text)\}")
_HEADER_PLACEHOLDER = re.compile(r"\{(user|password)\}")


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    """What a gateway wants: the request to make and how its answer says "accepted"."""

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = FORM
    auth: str = "none"  # "basic": user and password as HTTP basic authentication
    success_status: tuple[int, ...] = (200, 201, 202)
    success_pattern: str = ""  # a regular expression the answer must contain ("" = any)
    id_pattern: str = ""  # its first group is the gateway's id for the message


#: Providers whose request format is public, filled in from the user/password/sender settings.
PRESETS: dict[str, GatewaySpec] = {
    # Twilio Programmable Messaging: POST …/Accounts/{AccountSid}/Messages.json, basic
    # authentication with the account SID and auth token, To/From/Body form fields;
    # 201 Created with a JSON resource whose "sid" starts with SM (or MM).
    "twilio": GatewaySpec(
        url="https://api.twilio.com/2010-04-01/Accounts/{user}/Messages.json",
        body="To={number}&From={sender}&Body={text}",
        auth="basic",
        success_status=(200, 201),
        success_pattern=r'"sid"\s*:\s*"[SM]M[0-9A-Za-z]+"',
        id_pattern=r'"sid"\s*:\s*"([SM]M[0-9A-Za-z]+)"',
    ),
    # Skebby (Italy), classic HTTP API: method=send_sms_classic, recipients in international
    # format without + or 00; the answer is form-encoded, status=success or status=failed.
    "skebby": GatewaySpec(
        url="https://gateway.skebby.it/api/send/smseasy/advanced/http.php",
        body="method=send_sms_classic&username={user}&password={password}"
        "&recipients[]={digits}&text={text}&sender_number={sender}",
        success_status=(200,),
        success_pattern=r"(^|&)status=success(&|$)",
    ),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the gateway made of one SMS."""

    status: str  # "sent" (accepted) | "failed" (surely not sent) | "unknown" (may have been)
    reason: str = ""  # a message key's suffix: unreachable, http_status, not_accepted, timeout…
    http_status: int | None = None
    gateway_id: str | None = None
    attempts: int = 1


def _escape_for(content_type: str) -> Callable[[str], str]:
    if content_type.startswith(FORM):
        return lambda v: quote_plus(v, safe="")
    if content_type.startswith(JSON):
        return lambda v: json.dumps(v, ensure_ascii=False)[1:-1]
    return lambda v: v


def fill(template: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """``{user}``, ``{password}``, ``{number}``, ``{digits}``, ``{sender}``, ``{text}`` filled in.

    Only those names are placeholders: braces of a JSON body stay as they are.
    """
    return _PLACEHOLDER.sub(lambda m: escape(values.get(m[1], "")), template)


class HttpGateway:
    """Sends an SMS through one configured gateway."""

    def __init__(
        self,
        spec: GatewaySpec,
        *,
        user: str = "",
        password: str = "",
        sender: str = "",
        timeout: float = 10.0,
        connect_retries: int = 2,
        retry_delay: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.spec = spec
        self.user, self.password, self.sender = user, password, sender
        self.timeout = timeout
        self.connect_retries = connect_retries
        self.retry_delay = retry_delay
        self.connect_failures = 0  # connections refused or timed out, ever (retried or not)
        self._success = re.compile(spec.success_pattern) if spec.success_pattern else None
        self._id = re.compile(spec.id_pattern) if spec.id_pattern else None
        # trust_env=False: an HTTP_PROXY in the environment must not reroute SMS traffic.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            trust_env=False,
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def request(self, number: str, text: str, sender: str | None = None) -> httpx.Request:
        """The HTTP request for one SMS to ``number`` (E.164) — built before anything is sent."""
        spec = self.spec
        values = {
            "user": self.user,
            "password": self.password,
            "number": number,
            "digits": number.lstrip("+"),
            "sender": sender or self.sender,
            "text": text,
        }
        url = fill(spec.url, values, lambda v: quote(v, safe=""))
        headers = {
            name: _HEADER_PLACEHOLDER.sub(lambda m: values[m[1]], value)
            for name, value in spec.headers.items()
        }
        content: bytes | None = None
        if spec.method != "GET" and spec.body:
            content = fill(spec.body, values, _escape_for(spec.content_type)).encode()
            headers.setdefault("Content-Type", spec.content_type)
        if spec.auth == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return self._client.build_request(spec.method, url, headers=headers, content=content)

    async def send(self, number: str, text: str, sender: str | None = None) -> Outcome:
        """Send once; within ``timeout`` seconds in all (connection retries included)."""
        request = self.request(number, text, sender)
        deadline = time.monotonic() + self.timeout
        attempts = 0
        while True:
            attempts += 1
            left = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(left, 0.001)):
                    response = await self._client.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                # No connection: nothing reached the gateway, so trying again is safe.
                self.connect_failures += 1
                if attempts > self.connect_retries:
                    return Outcome("failed", "unreachable", attempts=attempts)
                pause = self.retry_delay * 2 ** (attempts - 1)
                if time.monotonic() + pause >= deadline:
                    return Outcome("failed", "unreachable", attempts=attempts)
                await asyncio.sleep(pause)
                continue
            except (TimeoutError, httpx.TimeoutException):
                return Outcome("unknown", "timeout", attempts=attempts)
            except httpx.HTTPError:
                return Outcome("unknown", "broken", attempts=attempts)
            return self._judge(response, attempts)

    def _judge(self, response: httpx.Response, attempts: int) -> Outcome:
        code = response.status_code
        if code not in self.spec.success_status:
            return Outcome("failed", "http_status", code, attempts=attempts)
        body = response.text[:100_000]
        if self._success is not None and not self._success.search(body):
            return Outcome("failed", "not_accepted", code, attempts=attempts)
        found = self._id.search(body) if self._id is not None else None
        gateway_id = found[1][:100] if found and found.groups() else None
        return Outcome("sent", "", code, gateway_id, attempts)


def spec_from_settings(settings: Mapping[str, Any]) -> GatewaySpec:
    """The gateway the ``[plugins.sms]`` settings describe (a preset, overridden key by key)."""
    name = settings.get("gateway", "generic")
    base = PRESETS.get(name, GatewaySpec(url=""))
    url = settings.get("url") or base.url
    return GatewaySpec(
        url=url,
        method=(settings.get("method") or base.method).upper(),
        headers=dict(settings.get("headers") or base.headers),
        body=settings.get("body") or base.body,
        content_type=settings.get("content_type") or base.content_type,
        auth=settings.get("auth") or base.auth,
        success_status=tuple(settings.get("success_status") or base.success_status),
        success_pattern=settings.get("success_pattern") or base.success_pattern,
        id_pattern=settings.get("id_pattern") or base.id_pattern,
    )
