"""The public API plugins import: the declaration, its settings, and the context a plugin gets.

A plugin is a package. Its ``__init__.py`` declares what it is in a few lines::

    plugin = Plugin(
        name="postit",
        description="Post-its between colleagues",
        requires=("presence",),
        permissions=(Permission("postit", "leave post-its", profiles=ALL_PROFILES),),
        settings=(Setting("max_length", int, 2000, "longest post-it", minimum=1),),
        migrations=store.MIGRATIONS,
        service=services.PostitService,
        commands=commands.COMMANDS,
        events=events.HANDLERS,
        messages=messages.MESSAGES,
    )

and keeps the rest in files of the same names in every plugin: ``services.py``,
``commands.py``, ``events.py`` (bus consumers), ``store.py`` (tables and
migrations), ``http.py`` (routes), ``messages.py`` (en/it strings). Plugins import
this module only: never another plugin's internals, never the core's private parts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# What plugins build on, re-exported: this module is the whole of the core they may import.
from ctibot.commands.base import (
    Arg,
    ArgError,
    Command,
    Context,
    FormField,
    Lines,
    Option,
    Reply,
    Result,
    Table,
    Values,
)
from ctibot.config import Config, UserConfig
from ctibot.i18n import LANGUAGES, translate
from ctibot.pbx import actions, validate
from ctibot.pbx.events import (
    CallAnswered,
    CallEnded,
    CallParked,
    CallRecord,
    CallRecordingChanged,
    CallRinging,
    CallStateChanged,
    CallUnparked,
    DndChanged,
    DomainEvent,
    ExtensionStatusChanged,
    ForwardChanged,
    PbxConnected,
    PbxDisconnected,
    PbxResynced,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
    VoicemailCountChanged,
)
from ctibot.pbx.model import Call, Channel, Extension, QueueMember
from ctibot.pbx.validate import AmiValueError
from ctibot.services.context import AmiSender, CallHistory, ServiceBase, clip
from ctibot.services.errors import (
    BadArgument,
    NotFound,
    NothingToDo,
    PbxRefused,
    PbxUnavailable,
    PermissionDenied,
    ServiceError,
    TooMany,
)
from ctibot.services.results import (
    CallAction,
    CallLine,
    CallPlaced,
    CurrentCall,
    DndResult,
    ForwardResult,
    Identity,
    PhoneStatus,
    QueueMembership,
    QueueResult,
    StatusReport,
    UserPresence,
    clean_name,
    label,
)

#: The profiles every ctibot has; a permission names those that get it by default.
ALL_PROFILES = ("user", "supervisor", "admin")
STAFF_PROFILES = ("supervisor", "admin")
ADMIN_PROFILES = ("admin",)

_KINDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


class SettingError(ValueError):
    """A plugin setting that does not fit its declaration: says what was expected."""

    def __init__(self, key: str, expected: str, got: Any = ..., *, missing: bool = False) -> None:
        self.key, self.expected, self.got, self.missing = key, expected, got, missing
        super().__init__(f"{key}: expected {expected}")


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of ``[plugins.<name>]``: its type, default, bounds and what it is for."""

    name: str
    kind: type
    default: Any = ...  # ... = required
    help: str = ""
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False  # never shown by ``ctibot plugins`` nor logged
    check: Callable[[Any], bool] | None = None
    expected: str = ""  # what to say when ``check`` refuses a value

    def describe(self) -> str:
        """What a value must be, in the words an error message uses."""
        if self.expected:
            return self.expected
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        text = _KINDS.get(self.kind, self.kind.__name__)
        if self.minimum is not None and self.maximum is not None:
            text += f" from {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            text += f" of at least {self.minimum:g}"
        elif self.maximum is not None:
            text += f" of at most {self.maximum:g}"
        return text

    def parse(self, table: Mapping[str, Any]) -> Any:
        """This setting's value from the plugin's table (or its default)."""
        if self.name not in table:
            if self.default is ...:
                raise SettingError(self.name, self.describe(), missing=True)
            return self.default
        value = table[self.name]
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and self.kind is not bool:
            raise SettingError(self.name, self.describe(), value)
        if not isinstance(value, self.kind):
            raise SettingError(self.name, self.describe(), value)
        if self.choices and value not in self.choices:
            raise SettingError(self.name, self.describe(), value)
        if isinstance(value, int | float):
            if self.minimum is not None and value < self.minimum:
                raise SettingError(self.name, self.describe(), value)
            if self.maximum is not None and value > self.maximum:
                raise SettingError(self.name, self.describe(), value)
        if self.check is not None and not self.check(value):
            raise SettingError(self.name, self.describe(), value)
        return value


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission a plugin checks, what it allows, and the default profiles that get it."""

    name: str
    description: str
    profiles: tuple[str, ...] = ALL_PROFILES


Handler = Callable[..., "Awaitable[None] | None"]
Setup = Callable[["PluginContext", Any], "Awaitable[None] | None"]


@dataclass(frozen=True, slots=True)
class Plugin:
    """What a plugin is and what it contributes: the declaration at the top of ``__init__``.

    - ``service``: a class built with the plugin's context; what commands, pages and
      other plugins (those that ``require`` this one) call.
    - ``requires``: plugins that must run (loaded first; this one fails without them);
      ``uses``: plugins loaded first when they run, whose absence is no failure.
    - ``commands``: command classes (chat and ad-hoc from one declaration).
    - ``events``: ``{DomainEventType: handler}``; a handler is called with
      ``(service, event)`` and may be a coroutine function.
    - ``messages``: ``{"en": {...}, "it": {...}}``, the plugin's strings.
    - ``migrations``: SQL scripts run once each, in order, in the shared database.
    - ``routes``: a function given the HTTP shell to add the plugin's routes to.
    - ``setup`` / ``teardown``: wiring that needs more than a declaration (XMPP hooks),
      called with ``(context, service)`` once everything is loaded / on stop.
    """

    name: str
    description: str
    version: str = "1.0"
    requires: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    permissions: tuple[Permission, ...] = ()
    settings: tuple[Setting, ...] = ()
    migrations: tuple[str, ...] = ()
    service: Callable[[PluginContext], Any] | None = None
    commands: Sequence[type] = ()
    events: Mapping[type, Handler] = field(default_factory=dict)
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    routes: Callable[[Any, Any], None] | None = None
    setup: Setup | None = None
    teardown: Setup | None = None

    def parse_settings(self, table: Mapping[str, Any]) -> dict[str, Any]:
        """The validated settings; SettingError names the first key that does not fit."""
        known = {s.name for s in self.settings} | {"enabled"}
        for key in table:
            if key not in known:
                raise SettingError(
                    str(key),
                    "one of " + ", ".join(sorted(known)) if self.settings else "no keys",
                    table[key],
                )
        return {s.name: s.parse(table) for s in self.settings}


def plugin_logger(name: str) -> logging.Logger:
    """The logger of a plugin: ``ctibot.plugins.<name>``."""
    return logging.getLogger(f"ctibot.plugins.{name}")


# -- what a plugin gets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VirtualMessage:
    """A chat message (or an XEP-0333 marker) a user wrote to a virtual JID ``<local>@cti…``."""

    user: UserConfig  # the sender, one of ctibot's users (strangers never reach plugins)
    sender: str  # the sender's full JID
    local: str  # the virtual JID's local part: a user's name, an extension, a phone number
    body: str  # empty for a marker
    id: str | None = None  # the stanza id (what a receipt or a marker refers to)
    displayed: str | None = None  # XEP-0333: the id of a message this marker says was read
    receipt_requested: bool = False


@dataclass(frozen=True, slots=True)
class VirtualPresence:
    """What a virtual JID shows: ``available`` False means ``type="unavailable"``."""

    available: bool
    show: str | None  # None (online), "away", "xa", "dnd"
    status: str


@dataclass(frozen=True, slots=True)
class IqRequest:
    """An IQ get/set to the component or a virtual JID, in a namespace a plugin handles."""

    sender: str  # the full JID of whoever asked (anyone: check ``user``)
    user: UserConfig | None  # the configured user behind it, None for a stranger
    local: str  # the addressed virtual JID's local part ("" = the component itself)
    type: str  # "get" | "set"
    payload: Any  # the query element (xml.etree.ElementTree.Element) in that namespace


class IqRefused(Exception):
    """Raised by an IQ handler: the error reply's condition (RFC 6120), e.g. "not-acceptable"."""

    def __init__(self, condition: str = "bad-request", text: str = "") -> None:
        super().__init__(text or condition)
        self.condition, self.text = condition, text


class XmppHooks(Protocol):
    """The XMPP component as plugins see it: send, and hang handlers on what happens."""

    domain: str  # the component's domain (cti.example.com)

    def jid_of(self, local: str) -> str:
        """``<local>@<domain>``: the virtual JID of a user, an extension or a number."""

    def is_online(self, user: UserConfig) -> bool | None:
        """True / False when known; None when ctibot has not seen the user's presence."""

    def send_chat(
        self,
        user: UserConfig,
        body: str,
        *,
        frm: str | None = None,
        transient: bool = False,
        markable: bool = False,
        receipt: bool = True,
        delay: float | None = None,
    ) -> str | None:
        """A chat message to a user's own account; returns its id (None when not sent).

        ``frm`` is a virtual JID (default: the component). ``transient`` is news (a
        popup): it goes to each resource seen online only, never stored nor copied; as
        a headline to the bare JID when the user's presence is unknown; nowhere when
        they are offline. ``markable`` asks for XEP-0333 markers. ``delay`` (a Unix
        time) adds an XEP-0203 delay: the client shows the message as written then.
        """

    def send_marker(
        self, user: UserConfig, message_id: str, *, frm: str, marker: str = "displayed"
    ) -> None:
        """An XEP-0333 marker (``displayed``, ``received``) from a virtual JID to a user,
        for a message id their client sent to that JID."""

    def on_online(self, handler: Callable[[UserConfig], Awaitable[None] | None]) -> None:
        """Call ``handler`` when a user comes online (first available resource).

        Also after the component reconnects, for every user found online again.
        """

    def on_away(self, handler: Callable[[UserConfig], Awaitable[None] | None]) -> None:
        """Call ``handler`` when a user's last resource goes unavailable."""

    def on_show(self, handler: Callable[[UserConfig, str], Awaitable[None] | None]) -> None:
        """Call ``handler(user, show)`` when what the user's online resources show changes.

        ``show`` is "dnd" when any resource says so, else the most available one
        ("chat", "" = available, "away", "xa"). Going offline is not a show. Handlers of
        one user run one at a time, in order, after ``on_online`` / ``on_away``.
        """

    def on_message(self, handler: Callable[[VirtualMessage], Awaitable[bool] | bool]) -> None:
        """Offer messages to virtual JIDs to ``handler``; it returns True when it took one.

        Messages from strangers, and a user's messages to their own virtual JID (commands),
        never reach handlers. A message no handler takes gets its receipt from the core;
        one a handler took gets it when the handler calls ``send_receipt``.
        """

    def send_receipt(self, message: VirtualMessage) -> None:
        """The XEP-0184 receipt of a message a handler took (when the sender asked for one)."""

    def on_iq(
        self,
        namespace: str,
        handler: Callable[[IqRequest], Awaitable[str | None] | str | None],
        *,
        feature: bool = True,
    ) -> None:
        """Answer IQ get/set whose payload is in ``namespace`` (XEP-0100 ``jabber:iq:gateway``).

        ``handler`` returns the result's payload as XML text (None: an empty result) or
        raises IqRefused. With ``feature`` the namespace is announced in the component's
        disco#info.
        """

    def add_feature(self, feature: str) -> None:
        """A feature of the component's disco#info (e.g. ``jabber:iq:gateway``)."""

    def add_identity(self, category: str, kind: str, name: str) -> None:
        """An identity of the component's disco#info (e.g. ``gateway``, ``sms``)."""

    # -- virtual JIDs and their presence (what the presence plugin shows) --------------------

    def contacts(self) -> list[str]:
        """Local parts of every person's and phone's virtual JID: users first."""

    def is_contact(self, local: str) -> bool:
        """Whether ``local`` is a person or a phone ctibot shows."""

    def extensions_of(self, local: str) -> tuple[str, ...]:
        """The extensions behind a virtual JID (a person's phones, or the phone itself)."""

    def owner(self, extension: str) -> UserConfig | None:
        """The user whose extension this is."""

    def display_name(self, local: str) -> str:
        """A virtual JID's name: the person's full name, "201 (Alice Anders)"."""

    def set_presence(self, source: Callable[[str, str], VirtualPresence]) -> None:
        """What virtual JIDs show: ``source(local, language)`` ("" = the component).

        Without a source every virtual JID shows available. The core sends it to
        subscribers when they subscribe, probe, or the component reconnects.
        """

    def claim(self, predicate: Callable[[str], bool]) -> None:
        """Serve more virtual JIDs: ``predicate(local)`` is True for those the plugin owns.

        A subscription to one is accepted and it shows available; its disco#info and
        vCard name the local part (a phone number's JID, for SMS). Users' and phones'
        JIDs stay the core's.
        """

    def publish_presence(self, contacts: Iterable[str] | None = None) -> int:
        """Send the changed presences of ``contacts`` (None: every subscribed one) at once.

        Each subscriber gets a stanza only when what it last received differs.
        Returns the number of stanzas written.
        """

    async def round_trip(self, timeout: float = 5) -> None:
        """Until the users' server has routed everything written before (a ping)."""

    def ask_subscription(self, user: UserConfig, local: str) -> None:
        """Ask the user's client to add a virtual JID to their roster (pre-approved)."""


class PbxView(Protocol):
    """The PBX state, read-only: what plugins read (``ctibot.pbx.state.PbxState``)."""

    extensions: dict[str, Any]
    queues: dict[str, Any]
    parkings: dict[str, Any]
    mailboxes: dict[str, Any]
    trunks: dict[str, Any]

    @property
    def calls(self) -> dict[str, Any]: ...

    @property
    def channels(self) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class PluginContext:
    """Everything a plugin is given: nothing else of the core is its business.

    ``services`` holds the services of the plugins it ``requires`` and of those it
    ``uses`` that run (by name);
    ``xmpp`` is None when ctibot runs without XMPP; ``http`` is the HTTP shell
    (None without ``[web]``).
    """

    name: str
    settings: Mapping[str, Any]
    config: Config
    store: Any  # ctibot.store.Store: the shared database (the plugin's own tables)
    bus: Any  # ctibot.bus.EventBus: subscribe / publish domain events
    pbx: PbxView
    ami: Any  # AmiSender: ``await ami.send(action_dict)`` (actions from ctibot.plugin.actions)
    services: Mapping[str, Any]
    clock: Callable[[], float]
    log: logging.Logger
    xmpp: XmppHooks | None = None
    http: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


#: The web panel's names, loaded on first use (importing ctibot.plugin loads no Quart):
#: ``WebApi`` / ``WebRequest`` (what ``routes(web, service)`` gets), ``Coalesced`` (a live
#: topic's change handler), ``PUBLIC`` / ``OWN``
#: (route permissions), and pydantic's ``BaseModel`` / ``Field`` for JSON API models
#: (dataclasses work too).
_WEB_NAMES = {
    "WebApi": ("ctibot.http.web", "WebApi"),
    "WebRequest": ("ctibot.http.web", "WebRequest"),
    "Coalesced": ("ctibot.http.hub", "Coalesced"),
    "PUBLIC": ("ctibot.http.web", "PUBLIC"),
    "OWN": ("ctibot.http.web", "OWN"),
    "BaseModel": ("pydantic", "BaseModel"),
    "Field": ("pydantic", "Field"),
}


def __getattr__(name: str) -> Any:
    found = _WEB_NAMES.get(name)
    if found is None:
        raise AttributeError(f"module 'ctibot.plugin' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(found[0]), found[1])


__all__ = [
    "ADMIN_PROFILES",
    "ALL_PROFILES",
    "LANGUAGES",
    "STAFF_PROFILES",
    "AmiSender",
    "AmiValueError",
    "Arg",
    "ArgError",
    "BadArgument",
    "Call",
    "CallAction",
    "CallAnswered",
    "CallEnded",
    "CallHistory",
    "CallLine",
    "CallParked",
    "CallPlaced",
    "CallRecord",
    "CallRecordingChanged",
    "CallRinging",
    "CallStateChanged",
    "CallUnparked",
    "Channel",
    "Command",
    "Config",
    "Context",
    "CurrentCall",
    "DndChanged",
    "DndResult",
    "DomainEvent",
    "Extension",
    "ExtensionStatusChanged",
    "FormField",
    "ForwardChanged",
    "ForwardResult",
    "Identity",
    "IqRefused",
    "IqRequest",
    "Lines",
    "NotFound",
    "NothingToDo",
    "Option",
    "PbxConnected",
    "PbxDisconnected",
    "PbxRefused",
    "PbxResynced",
    "PbxUnavailable",
    "PbxView",
    "Permission",
    "PermissionDenied",
    "PhoneStatus",
    "Plugin",
    "PluginContext",
    "QueueCallerAbandoned",
    "QueueCallerJoined",
    "QueueCallerLeft",
    "QueueMember",
    "QueueMemberChanged",
    "QueueMembership",
    "QueueResult",
    "Reply",
    "Result",
    "ServiceBase",
    "ServiceError",
    "Setting",
    "SettingError",
    "StatusReport",
    "Table",
    "TooMany",
    "UserConfig",
    "UserPresence",
    "Values",
    "VirtualMessage",
    "VirtualPresence",
    "VoicemailCountChanged",
    "XmppHooks",
    "actions",
    "clean_name",
    "clip",
    "label",
    "plugin_logger",
    "translate",
    "validate",
]
