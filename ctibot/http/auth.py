"""Who is logging in: the local users file (salted scrypt), LDAP (ldap3), the login rate limit."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import ssl
import time
from collections import deque
from pathlib import Path

from ctibot.config import LdapConfig

log = logging.getLogger("ctibot.http.auth")

#: A login name as ``[[users]]`` spells it; anything else is refused before any lookup.
LOGIN = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
#: scrypt's cost: 16 MiB of memory, about 50 ms here.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` with a fresh 16-byte salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Does ``password`` match a ``hash_password`` string? (constant time; False when malformed)"""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest, validate=True)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want) or 32,
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


class UsersFile:
    """The local users file: one ``name:scrypt$…`` line per user, ``#`` comments.

    Read at each login (an edit by ``ctibot user passwd`` applies at once).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        users: dict[str, str] = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, _, stored = line.partition(":")
            users[name.strip()] = stored.strip()
        return users

    def set_password(self, name: str, password: str) -> None:
        """Add or replace the user's line (the file is written 0600, atomically)."""
        if not LOGIN.match(name):
            raise ValueError(f"{name!r} is not a login name (lowercase letters, digits, . _ -)")
        users = self.read()
        users[name] = hash_password(password)
        lines = ["# ctibot local users: name:scrypt hash (ctibot user add / ctibot user passwd)"]
        lines += [f"{n}:{h}" for n, h in sorted(users.items())]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(tmp, self.path)

    def has(self, name: str) -> bool:
        return name in self.read()

    def check(self, name: str, password: str) -> bool | None:
        """True/False for a user of the file, None when the file does not know them."""
        stored = self.read().get(name)
        if stored is None:
            check_password(password, _DUMMY)  # the same time for unknown names
            return None
        return check_password(password, stored)


class LdapAuth:
    """Checks a password against LDAP by binding as the user (blocking ldap3 in a thread)."""

    def __init__(self, settings: LdapConfig) -> None:
        self.settings = settings

    async def check(self, login: str, password: str) -> bool:
        if not password or len(password) > MAX_PASSWORD:
            return False
        try:
            return await asyncio.to_thread(self._check, login, password)
        except Exception as exc:
            log.warning("LDAP login of %r failed: %s", login, exc)
            return False

    def _server(self):  # type: ignore[no-untyped-def]
        import ldap3

        s = self.settings
        tls = None
        if s.start_tls or s.server.startswith("ldaps:"):
            tls = ldap3.Tls(
                validate=ssl.CERT_REQUIRED if s.verify else ssl.CERT_NONE,
                ca_certs_file=s.ca_file or None,
            )
        return ldap3.Server(s.server, connect_timeout=s.timeout, tls=tls, get_info=ldap3.NONE)

    def _connection(self, server, user: str | None, password: str | None):  # type: ignore[no-untyped-def]
        import ldap3

        conn = ldap3.Connection(
            server,
            user=user,
            password=password,
            client_strategy=ldap3.SAFE_SYNC,
            receive_timeout=self.settings.timeout,
            raise_exceptions=False,
        )
        conn.open()
        if self.settings.start_tls and not conn.start_tls():
            raise OSError("StartTLS refused")
        return conn

    def _check(self, login: str, password: str) -> bool:
        from ldap3.utils.conv import escape_filter_chars
        from ldap3.utils.dn import escape_rdn

        s = self.settings
        server = self._server()
        if s.bind_dn:
            dn = s.bind_dn.replace("{login}", escape_rdn(login))
        else:
            search = self._connection(server, s.service_dn or None, s.service_password or None)
            try:
                if s.service_dn:
                    ok, *_ = search.bind()
                    if not ok:
                        log.warning("LDAP: the service account %s cannot bind", s.service_dn)
                        return False
                flt = s.search_filter.replace("{login}", escape_filter_chars(login))
                ok, _result, entries, _ = search.search(
                    s.search_base, flt, attributes=[], size_limit=2
                )
                found = [e for e in entries or () if e.get("type") == "searchResEntry"]
                if not ok or len(found) != 1:
                    return False
                dn = found[0]["dn"]
            finally:
                search.unbind()
        conn = self._connection(server, dn, password)
        try:
            ok, *_ = conn.bind()
            return bool(ok)
        finally:
            conn.unbind()


class RateLimit:
    """Failed logins per key (IP, login name) in a sliding window: too many and it waits."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        seen = self._failures.get(key)
        if seen is None:
            return deque()
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if not seen:
            del self._failures[key]
        return seen

    def blocked(self, *keys: str) -> float:
        """Seconds until these keys may try again (0: now)."""
        wait = 0.0
        for key in keys:
            seen = self._recent(key)
            if len(seen) >= self.limit:
                wait = max(wait, seen[0] + self.window - self.clock())
        return wait

    def fail(self, *keys: str) -> None:
        now = self.clock()
        if len(self._failures) > 100_000:  # bounded memory under a spray of names
            self._failures.clear()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


def new_token() -> str:
    """A random secret for sessions, CSRF and API tokens."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """How an API token is stored (SHA-256: the token is random, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
