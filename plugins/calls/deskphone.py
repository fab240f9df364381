"""Desk phones that dial on request (Yealink Action URI, Snom command.htm): automatic mode."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

#: The brands whose phones take a dial order over HTTP, by the first word of their User-Agent.
BRANDS = ("yealink", "snom")
YEALINK_PATHS = {
    "servlet": "/servlet?key=number={digits}",  # firmware of the last ten years
    "cgi-bin": "/cgi-bin/ConfigManApp.com?key=number={digits}",  # older firmware
}
SNOM_PATH = "/command.htm?number={digits}"
#: What a phone can dial: digits, * and # (the number is already validated for the PBX).
DIGITS = re.compile(r"[0-9*#]{1,32}")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*")
#: sip:201@192.168.1.20:5062;transport=udp, sips:201@[fd00::5]:5061, sip:201@phone-201.lan
_CONTACT = re.compile(r"^sips?:(?:[^@;>]*@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^:;>?]+)", re.I)


class PhoneError(Exception):
    """The phone did not take the order: ``kind`` is credentials, forbidden, unreachable,
    timeout or answer (``status`` is then the HTTP status it gave)."""

    def __init__(self, kind: str, status: int = 0) -> None:
        super().__init__(kind if not status else f"{kind} {status}")
        self.kind = kind
        self.status = status


def brand_of(user_agent: str | None) -> str | None:
    """``yealink`` / ``snom`` for a phone that can dial on request, else None."""
    if not user_agent:
        return None
    first = user_agent.strip().split(None, 1)[0].casefold() if user_agent.strip() else ""
    return first if first in BRANDS else None


def host_of_contact(uri: str | None) -> str | None:
    """The phone's address from its registered contact URI (an IP or a host name), or None."""
    found = _CONTACT.match(uri or "")
    if found is None:
        return None
    host = found["host"]
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host if len(host) <= 253 and _HOSTNAME.fullmatch(host) else None
    if address.is_unspecified or address.is_multicast:
        return None
    return f"[{address}]" if address.version == 6 else str(address)


def base_url(host: str, scheme: str = "http", port: int = 0) -> str:
    """``http://192.168.1.20`` (with ``:port`` when one is set)."""
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def check_base_url(value: object) -> bool:
    """A per-extension override: http(s)://host[:port][/prefix], nothing that could smuggle."""
    if not isinstance(value, str) or len(value) > 300:
        return False
    if any(c.isspace() or not c.isprintable() or c in "?#@\\\"'<>" for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_overrides(table: object) -> bool:
    """``{extension: base URL}`` as ``[plugins.calls] phone_urls`` takes it."""
    return isinstance(table, Mapping) and all(
        isinstance(k, str) and 0 < len(k) <= 40 and check_base_url(v) for k, v in table.items()
    )


def dial_url(base: str, brand: str, digits: str, yealink_path: str = "servlet") -> str:
    """The URL that makes the phone dial ``digits``; refuses anything but digits, * and #."""
    if not isinstance(digits, str) or not DIGITS.fullmatch(digits):
        raise ValueError("only digits, * and # are dialled by a phone")
    if brand == "yealink":
        path = YEALINK_PATHS[yealink_path]
    elif brand == "snom":
        path = SNOM_PATH
    else:
        raise ValueError(f"not a phone brand that dials on request: {brand!r}")
    return base.rstrip("/") + path.format(digits=quote(digits, safe="*"))


class PhoneAuth(httpx.Auth):
    """The phone's web login, as the phone asks for it: Digest (Snom) or Basic (Yealink).

    The first request goes without credentials; a phone that wants them refuses it (401,
    nothing dialled) and says how, and the order goes once more with them. Nothing is
    retried after that: an order the phone took is never sent twice.
    """

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code != 401 or not self.username:
            return
        schemes = [
            h.split(None, 1)[0].lower()
            for h in response.headers.get_list("www-authenticate")
            if h.strip()
        ]
        if "digest" in schemes:
            digest = httpx.DigestAuth(self.username, self.password).auth_flow(request)
            next(digest)  # the request already sent
            try:
                signed = digest.send(response)
            except StopIteration:
                return
            yield signed
        elif "basic" in schemes:
            basic = httpx.BasicAuth(self.username, self.password).auth_flow(request)
            yield next(basic)


@dataclass(frozen=True, slots=True)
class DeskPhone:
    """A user's phone that can dial on request: where it answers and which brand it is."""

    extension: str
    brand: str
    base: str  # scheme://host[:port][/prefix]
    model: str = ""

    async def dial(
        self,
        digits: str,
        username: str,
        password: str,
        *,
        timeout: float,
        verify: bool = True,
        yealink_path: str = "servlet",
    ) -> None:
        """Ask the phone to dial ``digits``; raises :class:`PhoneError` when it did not."""
        url = dial_url(self.base, self.brand, digits, yealink_path)
        status = await _get(url, PhoneAuth(username, password), timeout, verify)
        if 200 <= status < 300:
            return
        if status == 401:
            raise PhoneError("credentials")
        if status == 403:
            raise PhoneError("forbidden")
        raise PhoneError("answer", status)


async def _get(url: str, auth: httpx.Auth, timeout: float, verify: bool) -> int:
    """One GET (and its login handshake) within ``timeout`` seconds in all; the status."""
    limits = httpx.Timeout(timeout)
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(
                timeout=limits, verify=verify, trust_env=False, follow_redirects=False
            ) as client,
        ):
            response = await client.get(url, auth=auth, headers={"Connection": "close"})
            return response.status_code
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise PhoneError("unreachable") from exc
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise PhoneError("timeout") from exc
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise PhoneError("unreachable") from exc
