"""The ctibot configuration: one TOML file, validated at start-up with actionable errors."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctibot.i18n import LANGUAGES
from ctibot.pbx.layout import PbxLayout, TrunkSpec
from ctibot.permissions import DEFAULT_PROFILE, default_profiles, permission_table

SECRET_ENV = "CTIBOT_PBX_SECRET"
XMPP_SECRET_ENV = "CTIBOT_XMPP_SECRET"
WEB_SECRET_ENV = "CTIBOT_WEB_SECRET"
LDAP_SECRET_ENV = "CTIBOT_LDAP_SECRET"
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_BARE_JID = re.compile(r"^[^@/\s\"&'<>:]{1,1023}@[a-z0-9.-]{1,253}$")
_EXTENSION = re.compile(r"^[0-9*#]{1,15}$")
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")
_AMI_USER = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_CONTEXT = re.compile(r"^[A-Za-z0-9_.-]{1,79}$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
_DEVICE = re.compile(r"^[A-Za-z0-9]{1,10}/[A-Za-z0-9_.@-]{1,80}$")
_EXTENSION_PATTERN = re.compile(r"^(?:[0-9?*]{1,15}|[0-9]{1,15}-[0-9]{1,15})$")
_DIGITS = re.compile(r"^[0-9]{1,15}$")


class ConfigError(ValueError):
    """A configuration problem: names the file, the key and what was expected."""


@dataclass(frozen=True, slots=True)
class PbxConfig:
    """How to reach the Asterisk Manager Interface and how the PBX is laid out."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "cti"
    secret: str = field(default="", repr=False)
    auth: str = "md5"  # "md5" (challenge-response, the secret never crosses the wire) or "plain"
    device: str = "PJSIP/{extension}"
    connect_timeout: float = 5.0
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    astdb_poll: float = 10.0  # AstDB changes without an AMI event show within this
    hint_context: str = "ext-local"
    queue_context: str = "from-queue"
    internal_context: str = "from-internal"
    voicemail_context: str = "default"
    parking_lot: str = "default"
    parking_exten: str = "700"
    #: Digits dialled before an outside number ("0" on many Italian PBXs; "" for none).
    outside_prefix: str = "0"
    trunks: tuple[TrunkSpec, ...] = ()
    #: Extensions taken from the PBX besides the users' own: digit globs or ranges.
    extensions: tuple[str, ...] = ("*",)
    names: dict[str, str] = field(default_factory=dict)  # extension -> name (no user owns it)


@dataclass(frozen=True, slots=True)
class XmppConfig:
    """The XMPP external component (XEP-0114) and the server it attaches to."""

    component: str  # the component's JID, a subdomain such as cti.example.com
    secret: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 5347
    domain: str = ""  # the users' domain; by default the component's parent domain
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    rate_limit: int = 10  # commands a user may send...
    rate_window: float = 10.0  # ...in this many seconds


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where ctibot keeps what it owns (SQLite)."""

    path: str = "var/ctibot.sqlite"


@dataclass(frozen=True, slots=True)
class WebConfig:
    """ctibot's HTTP server (the shell the SMS webhook and the web panel hang on)."""

    listen: str = "127.0.0.1:8080"  # host:port ([::1]:8080 for IPv6; port 0 = any free one)
    secret_key: str = field(default="", repr=False)  # signs the session cookies ("" = random)
    public_url: str = ""  # how people reach the panel, e.g. https://cti.example.com/


@dataclass(frozen=True, slots=True)
class LdapConfig:
    """``[auth.ldap]``: where the directory is and how a login name becomes a bind."""

    server: str  # ldap://host:389 or ldaps://host:636
    bind_dn: str = ""  # DN template, e.g. "uid={login},ou=people,dc=example,dc=com"
    search_base: str = ""  # or search-then-bind under this base...
    search_filter: str = "(uid={login})"  # ...with this filter ({login} is escaped)
    service_dn: str = ""  # the account that searches ("" = anonymous search)
    service_password: str = field(default="", repr=False)
    start_tls: bool = False
    ca_file: str = ""  # the CA that signed the server's certificate ("" = the system's)
    verify: bool = True  # check the server's certificate and name
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """``[auth]``: how web users log in (local users file, then LDAP when configured)."""

    users_file: str = ""  # "" = no local users
    ldap: LdapConfig | None = None


@dataclass(frozen=True, slots=True)
class PluginsConfig:
    """``[plugins]``: which plugins are switched off, and each one's ``[plugins.<name>]`` table.

    The tables are kept as written: each plugin validates its own (the loader reports a
    table that does not fit, naming the file and the key, as for the rest of the file).
    """

    disabled: tuple[str, ...] = ()
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def table(self, name: str) -> dict[str, Any]:
        return self.settings.get(name, {})

    def is_disabled(self, name: str) -> bool:
        return name in self.disabled or self.table(name).get("enabled") is False


@dataclass(frozen=True, slots=True)
class UserConfig:
    """A person: login name, full name, the extensions (phones) they own."""

    name: str
    fullname: str
    extensions: tuple[str, ...]
    mobile: str | None = None
    email: str | None = None
    jid: str | None = None  # their own XMPP account (bare JID)
    language: str = "en"
    profile: str = DEFAULT_PROFILE
    auto_queue_login: bool = False  # log in/out of queues as they come online/go offline
    devices: tuple[str, ...] = ()  # other phones of the user's first extension, e.g. PJSIP/91201

    @property
    def default_extension(self) -> str:
        """The extension whose phone rings first for the user's calls."""
        return self.extensions[0]


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration."""

    path: Path
    pbx: PbxConfig
    users: tuple[UserConfig, ...]
    xmpp: XmppConfig | None = None
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    profiles: dict[str, frozenset[str]] = field(default_factory=default_profiles)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    web: WebConfig | None = None  # None: no [web] section, no HTTP server
    auth: AuthConfig = field(default_factory=AuthConfig)

    def layout(self) -> PbxLayout:
        """The PBX layout that the state model and the AMI client share."""
        extensions: list[str] = []
        mobiles: dict[str, str] = {}
        for user in self.users:
            for ext in user.extensions:
                if ext not in extensions:
                    extensions.append(ext)
                if user.mobile:
                    mobiles[ext] = user.mobile
        devices = {d: u.default_extension for u in self.users for d in u.devices}
        p = self.pbx
        return PbxLayout(
            extensions=tuple(extensions),
            device_template=p.device,
            trunks=p.trunks,
            hint_context=p.hint_context,
            queue_context=p.queue_context,
            internal_context=p.internal_context,
            voicemail_context=p.voicemail_context,
            parking_lot=p.parking_lot,
            parking_exten=p.parking_exten,
            mobiles=mobiles,
            devices=devices,
            discover=p.extensions,
            names=dict(p.names),
        )

    def user_by_name(self, name: str) -> UserConfig | None:
        """The user with this login name, if any."""
        for user in self.users:
            if user.name == name:
                return user
        return None

    def user_by_jid(self, jid: str) -> UserConfig | None:
        """The user whose own XMPP account is this bare JID, if any."""
        jid = jid.lower()
        for user in self.users:
            if user.jid is not None and user.jid == jid:
                return user
        return None

    def permissions_of(self, user: UserConfig) -> frozenset[str]:
        """What the user's profile allows."""
        return self.profiles.get(user.profile, frozenset())

    def extension_name(self, extension: str) -> str | None:
        """What to call an extension: its user's full name, else its ``[pbx.names]`` name."""
        user = self.user_by_extension(extension)
        return user.fullname if user is not None else self.pbx.names.get(extension)

    def user_by_extension(self, extension: str) -> UserConfig | None:
        """The user who owns an extension, if any."""
        for user in self.users:
            if extension in user.extensions:
                return user
        return None


class _Section:
    """Reads typed keys from one TOML table, collecting the first error with its path."""

    def __init__(self, path: Path, where: str, table: Any) -> None:
        self.path, self.where = path, where
        if not isinstance(table, Mapping):
            raise self.error("", "a table", table)
        self.table = table
        self.used: set[str] = set()

    def error(
        self, key: str, expected: str, got: Any = None, *, missing: bool = False
    ) -> ConfigError:
        name = f"{self.where}.{key}" if key else self.where
        if missing:
            return ConfigError(f"{self.path}: missing key {name}: expected {expected}")
        shown = repr(got)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ConfigError(f"{self.path}: {name}: expected {expected}, got {shown}")

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        expected: str,
        default: Any = ...,
        check: Callable[[Any], bool] | None = None,
    ) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.error(key, expected, missing=True)
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind is not bool:
            raise self.error(key, expected, value)
        if not isinstance(value, kind) or (check is not None and not check(value)):
            raise self.error(key, expected, value)
        return value

    def strings(
        self, key: str, expected: str, pattern: re.Pattern[str], default: Any = ...
    ) -> tuple[str, ...]:
        values = self.get(key, list, expected, default)
        if not isinstance(values, list | tuple):
            return values
        for item in values:
            if not isinstance(item, str) or not pattern.match(item):
                raise self.error(key, expected, item)
        return tuple(values)

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise ConfigError(f"{self.path}: {self.where}: unknown key {unknown[0]!r}")


def _positive(value: float) -> bool:
    return value > 0


def _load_pbx(path: Path, table: Any) -> PbxConfig:
    s = _Section(path, "[pbx]", table)
    d = PbxConfig()
    text = (str,)
    host = s.get("host", text, "a host name or IP address", d.host, _HOST.match)
    port = s.get("port", int, "a TCP port (1-65535)", d.port, lambda v: 0 < v < 65536)
    username = s.get(
        "username", text, "an AMI user name (manager.conf section)", d.username, _AMI_USER.match
    )
    secret = s.get("secret", text, "the AMI secret (or set $" + SECRET_ENV + ")", "")
    secret = os.environ.get(SECRET_ENV) or secret
    if not secret:
        raise s.error("secret", f"the AMI secret (or set ${SECRET_ENV})", missing=True)
    if any(c in secret for c in "\r\n\0"):
        raise ConfigError(f"{path}: [pbx].secret: must not contain line breaks")
    auth = s.get("auth", text, '"md5" or "plain"', d.auth, lambda v: v in ("md5", "plain"))
    device = s.get(
        "device",
        text,
        'a device template with "{extension}", e.g. "PJSIP/{extension}"',
        d.device,
        lambda v: "{extension}" in v and re.fullmatch(r"[A-Za-z0-9/@{}._-]+", v),
    )
    seconds = "a positive number of seconds"
    timings = {
        k: s.get(k, float, seconds, getattr(d, k), _positive)
        for k in (
            "connect_timeout",
            "ping_interval",
            "ping_timeout",
            "reconnect_min",
            "reconnect_max",
            "astdb_poll",
        )
    }
    contexts = {
        k: s.get(k, text, "a dialplan context name", getattr(d, k), _CONTEXT.match)
        for k in (
            "hint_context",
            "queue_context",
            "internal_context",
            "voicemail_context",
            "parking_lot",
        )
    }
    parking_exten = s.get(
        "parking_exten", text, "an extension number", d.parking_exten, _EXTENSION.match
    )
    outside_prefix = s.get(
        "outside_prefix",
        text,
        'the digits dialled before an outside number (e.g. "0"; "" for none)',
        d.outside_prefix,
        lambda v: re.fullmatch(r"[0-9]{0,4}", v),
    )
    trunks = []
    for i, t in enumerate(s.get("trunks", list, "a list of [[pbx.trunks]] tables", [])):
        ts = _Section(path, f"[[pbx.trunks]] #{i + 1}", t)
        name = ts.get("name", text, "a trunk name", check=_CONTEXT.match)
        channels = ts.strings(
            "channels",
            'channel-name globs, e.g. ["PJSIP/voip-a-*"]',
            re.compile(r"^[A-Za-z0-9/@*?._;-]{1,100}$"),
            [f"PJSIP/{name}-*"],
        )
        max_channels = ts.get(
            "max_channels", int, "a channel count (0 = unlimited)", 0, lambda v: v >= 0
        )
        ts.finish()
        trunks.append(TrunkSpec(name, channels, max_channels))
    patterns_expected = (
        'extension numbers, digit patterns or ranges, e.g. ["2??", "300-399"] ([] = none)'
    )
    patterns = s.strings("extensions", patterns_expected, _EXTENSION_PATTERN, d.extensions)
    for pattern in patterns:
        low, dash, high = pattern.partition("-")
        if dash and int(low) > int(high):
            raise s.error("extensions", "ranges from low to high, e.g. 200-299", pattern)
    names_table = s.get("names", Mapping, 'a table of names, e.g. "210" = "Meeting room"', {})
    names: dict[str, str] = {}
    ns = _Section(path, "[pbx.names]", names_table)
    for key in names_table:
        if not _DIGITS.match(str(key)):
            raise ns.error(key, 'an extension number as the key, e.g. "210"', key)
        names[key] = ns.get(
            key,
            str,
            'the extension\'s name, e.g. "Meeting room"',
            check=lambda v: 0 < len(v) <= 100 and v.isprintable(),
        )
    s.finish()
    return PbxConfig(
        host=host,
        port=port,
        username=username,
        secret=secret,
        auth=auth,
        device=device,
        parking_exten=parking_exten,
        outside_prefix=outside_prefix,
        trunks=tuple(trunks),
        extensions=patterns,
        names=names,
        **timings,
        **contexts,
    )


def _load_users(path: Path, tables: Any) -> tuple[UserConfig, ...]:
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: [[users]]: expected at least one [[users]] table")
    users: list[UserConfig] = []
    seen: dict[str, str] = {}
    for i, table in enumerate(tables):
        s = _Section(path, f"[[users]] #{i + 1}", table)
        name = s.get(
            "name", str, "a login name (lowercase letters, digits, . _ -)", check=_USERNAME.match
        )
        s.where = f"[[users]] {name!r}"
        fullname = s.get(
            "fullname",
            str,
            "the person's full name",
            name,
            lambda v: 0 < len(v) <= 100 and v.isprintable(),
        )
        extensions = s.strings(
            "extensions", 'a list of extension numbers, e.g. ["201"]', _EXTENSION
        )
        if not extensions:
            raise s.error("extensions", 'at least one extension, e.g. ["201"]', [])
        mobile = s.get("mobile", str, "a phone number such as +393331234567", None, _NUMBER.match)
        email = s.get(
            "email",
            str,
            "an e-mail address",
            None,
            lambda v: re.fullmatch(r"[^@\s]+@[^@\s]+", v) is not None,
        )
        jid = s.get(
            "jid",
            str,
            "a bare JID such as alice@example.com",
            None,
            lambda v: _BARE_JID.match(v.lower()) is not None,
        )
        language = s.get("language", str, '"en" or "it"', "en", lambda v: v in LANGUAGES)
        profile = s.get(
            "profile",
            str,
            "the name of a profile",
            DEFAULT_PROFILE,
            lambda v: bool(_USERNAME.match(v)),
        )
        auto_queue = s.get("auto_queue_login", bool, "true or false", False)
        devices = s.strings("devices", 'a list of devices such as ["PJSIP/91201"]', _DEVICE, ())
        s.finish()
        if name in seen:
            raise ConfigError(f"{path}: [[users]]: user {name!r} is defined twice")
        seen[name] = name
        users.append(
            UserConfig(
                name,
                fullname,
                extensions,
                mobile,
                email,
                jid.lower() if jid else None,
                language,
                profile,
                auto_queue,
                devices,
            )
        )
    return tuple(users)


#: Sections that later parts of ctibot read; accepted here and validated by their owners.
RESERVED_SECTIONS = frozenset({"web", "auth", "ldap", "sms", "mail", "demo"})
_PLUGIN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _load_xmpp(path: Path, table: Any) -> XmppConfig:
    s = _Section(path, "[xmpp]", table)
    component = s.get(
        "component",
        str,
        "the component's domain, e.g. cti.example.com",
        check=lambda v: _DOMAIN.match(v) is not None and "." in v,
    )
    secret = s.get("secret", str, f"the component secret (or set ${XMPP_SECRET_ENV})", "")
    secret = os.environ.get(XMPP_SECRET_ENV) or secret
    if not secret:
        raise s.error("secret", f"the component secret (or set ${XMPP_SECRET_ENV})", missing=True)
    host = s.get("host", str, "the XMPP server's host name or IP address", "127.0.0.1", _HOST.match)
    port = s.get(
        "port", int, "the server's component port (1-65535)", 5347, lambda v: 0 < v < 65536
    )
    domain = s.get(
        "domain",
        str,
        "the users' XMPP domain, e.g. example.com",
        component.partition(".")[2],
        lambda v: _DOMAIN.match(v) is not None,
    )
    seconds = "a positive number of seconds"
    reconnect_min = s.get("reconnect_min", float, seconds, 0.5, _positive)
    reconnect_max = s.get("reconnect_max", float, seconds, 30.0, _positive)
    rate_limit = s.get(
        "rate_limit", int, "commands per window (a positive integer)", 10, lambda v: v > 0
    )
    rate_window = s.get("rate_window", float, seconds, 10.0, _positive)
    s.finish()
    return XmppConfig(
        component, secret, host, port, domain, reconnect_min, reconnect_max, rate_limit, rate_window
    )


def _load_web(path: Path, table: Any) -> WebConfig:
    s = _Section(path, "[web]", table)
    listen = s.get(
        "listen",
        str,
        'host:port to listen on, e.g. "127.0.0.1:8080" or "[::1]:8080"',
        "127.0.0.1:8080",
        lambda v: re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}", v) is not None
        and int(v.rpartition(":")[2]) <= 65535,
    )
    secret_key = s.get(
        "secret_key",
        str,
        "a long random string (at least 16 characters) that signs the session cookies",
        "",
        lambda v: v == "" or len(v) >= 16,
    )
    secret_key = os.environ.get(WEB_SECRET_ENV) or secret_key
    public_url = s.get(
        "public_url",
        str,
        'the address people reach the panel at, e.g. "https://cti.example.com/"',
        "",
        lambda v: v == "" or re.fullmatch(r"https?://[^\s\"'<>]{1,2000}", v) is not None,
    )
    s.finish()
    return WebConfig(listen, secret_key, public_url)


def _load_auth(path: Path, table: Any) -> AuthConfig:
    s = _Section(path, "[auth]", table)
    users_file = s.get(
        "users_file",
        str,
        "the path of the local users file (ctibot user add writes it)",
        "",
        lambda v: len(v) < 4096 and "\0" not in v,
    )
    ldap_table = s.table.get("ldap")
    if ldap_table is not None:
        s.used.add("ldap")
    s.finish()
    ldap = _load_ldap(path, ldap_table) if ldap_table is not None else None
    return AuthConfig(users_file, ldap)


def _load_ldap(path: Path, table: Any) -> LdapConfig:
    s = _Section(path, "[auth.ldap]", table)
    server = s.get(
        "server",
        str,
        'the directory URL, e.g. "ldap://ldap.example.com" or "ldaps://ldap.example.com:636"',
        check=lambda v: re.fullmatch(r"ldaps?://[A-Za-z0-9.:\[\]_-]{1,300}/?", v) is not None,
    )
    dn = "a DN with {login}, e.g. \"uid={login},ou=people,dc=example,dc=com\""
    bind_dn = s.get("bind_dn", str, dn, "", lambda v: v == "" or "{login}" in v)
    search_base = s.get("search_base", str, "the DN to search users under", "")
    search_filter = s.get(
        "search_filter",
        str,
        'an LDAP filter with {login}, e.g. "(uid={login})"',
        "(uid={login})",
        lambda v: "{login}" in v and v.startswith("(") and v.endswith(")"),
    )
    if not bind_dn and not search_base:
        raise s.error("bind_dn", f"{dn}, or search_base (search-then-bind)", missing=True)
    service_dn = s.get("service_dn", str, "the DN of the account that searches", "")
    service_password = s.get("service_password", str, "that account's password", "")
    service_password = os.environ.get(LDAP_SECRET_ENV) or service_password
    start_tls = s.get("start_tls", bool, "true or false", False)
    ca_file = s.get("ca_file", str, "the path of a CA certificate file (PEM)", "")
    verify = s.get("verify", bool, "true or false", True)
    timeout = s.get("timeout", float, "a positive number of seconds", 5.0, _positive)
    s.finish()
    return LdapConfig(
        server, bind_dn, search_base, search_filter, service_dn, service_password,
        start_tls, ca_file, verify, timeout,
    )


def _load_database(path: Path, table: Any) -> DatabaseConfig:
    s = _Section(path, "[database]", table)
    db = s.get(
        "path",
        str,
        "a file path for the SQLite database",
        "var/ctibot.sqlite",
        lambda v: 0 < len(v) < 4096 and "\0" not in v,
    )
    s.finish()
    return DatabaseConfig(db)


def _load_profiles(path: Path, table: Any) -> dict[str, frozenset[str]]:
    """The default profiles, then those the file defines (which replace a default one).

    A profile may name the permission of any plugin ctibot knows, enabled or not.
    """
    profiles = default_profiles()
    if table is None:
        return profiles
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [profiles]: expected tables such as [profiles.user]")
    permissions = permission_table()
    known = ", ".join(sorted(permissions))
    for name, body in table.items():
        s = _Section(path, f"[profiles.{name}]", body)
        if not _USERNAME.match(name):
            raise ConfigError(f"{path}: [profiles.{name}]: a profile name is lowercase letters")
        perms = s.get("permissions", list, f"a list of permissions among: {known}")
        for perm in perms:
            if perm not in permissions and not _unknown_plugins():
                raise s.error("permissions", f"permissions among: {known}", perm)
        s.finish()
        profiles[name] = frozenset(perms)
    return profiles


def _unknown_plugins() -> bool:
    """Did a plugin fail to import (so its permissions are not known)?"""
    from ctibot import loader

    return any(found.plugin is None for found in loader.discover())


def _load_plugins(path: Path, table: Any) -> PluginsConfig:
    s = _Section(path, "[plugins]", table)
    expected = 'a list of plugin names, e.g. ["sms"]'
    disabled = s.strings("disabled", expected, _PLUGIN, ())
    settings: dict[str, dict[str, Any]] = {}
    for key, value in s.table.items():
        if key == "disabled":
            continue
        s.used.add(key)
        if not _PLUGIN.match(str(key)):
            raise s.error(str(key), "a plugin's name (lowercase letters, digits, _)", key)
        if not isinstance(value, Mapping):
            raise s.error(str(key), f"a [plugins.{key}] table of the plugin's settings", value)
        enabled = value.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _Section(path, f"[plugins.{key}]", value).error(
                "enabled", "true or false", enabled
            )
        settings[str(key)] = dict(value)
    s.finish()
    return PluginsConfig(disabled, settings)


def parse_config(text: str, path: Path | str = "<config>") -> Config:
    """Validate TOML text into a Config, or raise ConfigError."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for key in data:
        if (
            key not in ("pbx", "users", "xmpp", "database", "profiles", "plugins")
            and key not in RESERVED_SECTIONS
        ):
            raise ConfigError(f"{path}: unknown section [{key}]")
    if "pbx" not in data:
        raise ConfigError(f"{path}: missing section [pbx]: expected host, port, username, secret")
    pbx = _load_pbx(path, data["pbx"])
    users = _load_users(path, data.get("users"))
    owners: dict[str, str] = {}
    for user in users:
        for ext in user.extensions:
            if ext in owners:
                raise ConfigError(
                    f"{path}: [[users]] {user.name!r}.extensions: {ext} already belongs to "
                    f"{owners[ext]!r}"
                )
            owners[ext] = user.name
    for ext in pbx.names:
        if ext in owners:
            raise ConfigError(
                f"{path}: [pbx.names].{ext}: {ext} belongs to [[users]] {owners[ext]!r}, "
                "who names it: expected extensions no user owns"
            )
    profiles = _load_profiles(path, data.get("profiles"))
    xmpp = _load_xmpp(path, data["xmpp"]) if "xmpp" in data else None
    database = _load_database(path, data.get("database", {}))
    plugins = _load_plugins(path, data.get("plugins", {}))
    web = _load_web(path, data["web"]) if "web" in data else None
    auth = _load_auth(path, data.get("auth", {}))
    jids: dict[str, str] = {}
    device_owner: dict[str, str] = {}
    for user in users:
        for device in user.devices:
            if device in device_owner:
                raise ConfigError(
                    f"{path}: [[users]] {user.name!r}.devices: {device} already "
                    f"belongs to {device_owner[device]!r}"
                )
            device_owner[device] = user.name
        if user.profile not in profiles:
            raise ConfigError(
                f"{path}: [[users]] {user.name!r}.profile: no profile "
                f"{user.profile!r} (known: {', '.join(sorted(profiles))})"
            )
        if user.jid is not None:
            if user.jid in jids:
                raise ConfigError(
                    f"{path}: [[users]] {user.name!r}.jid: {user.jid} already "
                    f"belongs to {jids[user.jid]!r}"
                )
            jids[user.jid] = user.name
    return Config(
        path=path,
        pbx=pbx,
        users=users,
        xmpp=xmpp,
        database=database,
        profiles=profiles,
        web=web,
        plugins=plugins,
        auth=auth,
    )


def load_config(path: Path | str) -> Config:
    """Read and validate a configuration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, path)
