"""The WebApi plugins get: pages, actions, JSON API, live topics; sessions, CSRF, login, i18n."""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape
from quart import Response, g, jsonify, redirect, render_template, request, websocket

from ctibot.config import Config, UserConfig
from ctibot.http.auth import LOGIN, MAX_PASSWORD, LdapAuth, RateLimit, UsersFile, token_hash
from ctibot.http.hub import Hub, Topic
from ctibot.i18n import LANGUAGES, translate
from ctibot.services.errors import NotFound, PbxUnavailable, PermissionDenied, ServiceError

log = logging.getLogger("ctibot.http.web")

#: ``permission=PUBLIC``: anyone, logged in or not (the login page, static files).
PUBLIC = "@public"
#: ``permission=OWN``: the handler checks credentials of its own (a webhook's shared secret).
OWN = "@own"
COOKIE = "ctibot_session"
LANG_COOKIE = "ctibot_lang"
SESSION_IDLE = 12 * 3600.0  # seconds of wall-clock time without a request: the session ends
MAX_SESSIONS = 50_000  # in memory, and logged-in ones in the store
SEEN_WRITE = 60.0  # a session's last-seen time reaches the store at most this often
SESSION_PURGE = 3600.0  # how often expired sessions are swept from the store and memory
LANGUAGE_KEY = "web.language"
TOKENS_KEY = "web.api_tokens"

SHELL_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "web.title": "ctibot panel",
        "web.login.title": "Log in",
        "web.login.name": "User name",
        "web.login.password": "Password",
        "web.login.submit": "Log in",
        "web.login.failed": "Wrong user name or password.",
        "web.login.unknown_user": "You can log in, but you are not a user of this phone "
        "system: ask your administrator.",
        "web.login.slow_down": "Too many failed logins: try again in {minutes} minutes.",
        "web.login.expired": "The form expired: please try again.",
        "web.logout": "Log out",
        "web.logged_out": "You are logged out.",
        "web.language": "Language",
        "web.home.title": "Welcome, {name}",
        "web.home.text": "Pick a page in the menu.",
        "web.home.nothing": "There is nothing in the panel for you yet.",
        "web.forbidden": "You may not open this page.",
        "web.not_found": "There is no such page.",
        "web.csrf": "The form expired or came from elsewhere: reload the page and try again.",
        "web.error": "Something went wrong; please try again.",
        "web.api_docs": "API",
        "web.live.offline": "Reconnecting…",
        "web.saved": "Saved.",
    },
    "it": {
        "web.title": "Pannello ctibot",
        "web.login.title": "Accesso",
        "web.login.name": "Nome utente",
        "web.login.password": "Password",
        "web.login.submit": "Entra",
        "web.login.failed": "Nome utente o password errati.",
        "web.login.unknown_user": "Le credenziali sono giuste, ma non sei un utente di questo "
        "centralino: chiedi all'amministratore.",
        "web.login.slow_down": "Troppi accessi falliti: riprova tra {minutes} minuti.",
        "web.login.expired": "Il modulo è scaduto: riprova.",
        "web.logout": "Esci",
        "web.logged_out": "Sei uscito.",
        "web.language": "Lingua",
        "web.home.title": "Benvenuto, {name}",
        "web.home.text": "Scegli una pagina dal menu.",
        "web.home.nothing": "Per ora nel pannello non c'è niente per te.",
        "web.forbidden": "Non puoi aprire questa pagina.",
        "web.not_found": "Questa pagina non esiste.",
        "web.csrf": "Il modulo è scaduto o viene da un altro sito: ricarica la pagina e riprova.",
        "web.error": "Qualcosa è andato storto; riprova.",
        "web.api_docs": "API",
        "web.live.offline": "Riconnessione…",
        "web.saved": "Salvato.",
    },
}


@dataclass(slots=True)
class RouteInfo:
    """What the shell knows of a route: the permission it checks before the handler."""

    rule: str
    endpoint: str
    methods: tuple[str, ...]
    kind: str  # "page" | "action" | "api" | "websocket" | "raw"
    permission: str | None  # None = any logged-in user; PUBLIC; OWN; else a permission
    plugin: str
    menu: Mapping[str, str] | None = None
    order: int = 100


@dataclass(frozen=True, slots=True)
class TopbarItem:
    """A plugin's partial in the top bar (dial box, DND toggle, a badge…)."""

    template: str
    permission: str | None
    order: int
    context: Callable[[Any], Any] | None


@dataclass(slots=True)
class Session:
    """A browser's session; the cookie holds its signed id only.

    A logged-in session is also in the store, under ``key`` (a SHA-256 of the id, so a copy
    of the database gives no cookie), and outlives a restart; flash messages stay in memory.
    """

    sid: str
    user: str | None
    csrf: str
    seen: float  # wall-clock (a restart must not make an idle session young)
    key: str = ""
    created: float = 0.0
    stored: float | None = None  # the ``seen`` the store has; None: not in the store
    flashes: list[tuple[str, str]] = field(default_factory=list)


def session_key(sid: str) -> str:
    """What the store keeps of a session id."""
    return hashlib.sha256(sid.encode()).hexdigest()


class WebRequest:
    """One request as a handler sees it."""

    def __init__(
        self,
        web: WebApi,
        user: UserConfig | None,
        language: str,
        session: Session | None,
        form: Mapping[str, Any],
        json: Any,
        by_token: bool = False,
    ) -> None:
        self.web = web
        self.user: UserConfig = user  # type: ignore[assignment]  # None only on PUBLIC routes
        self.language = language
        self.session = session
        self.form = form
        self.json = json
        self.query: Any = None  # the validated query string model of an API route
        self.args = request.args
        self.by_token = by_token

    def t(self, key: str, **params: Any) -> str:
        """The message ``key`` in the request's language."""
        return translate(key, self.language, **params)

    def may(self, permission: str | None) -> bool:
        return self.web.may(self.user, permission)

    def flash(self, text: str, kind: str = "info") -> None:
        if self.session is not None and len(self.session.flashes) < 10:
            self.session.flashes.append((kind, text))

    def wants_json(self) -> bool:
        return _wants_json()

    def redirect(self, url: str, flash: str | None = None, kind: str = "info") -> Response:
        """Go to a local URL (with a message), or answer JSON to a fetch()."""
        if self.wants_json():
            return jsonify({"ok": kind != "error", "message": flash, "redirect": url})
        if flash:
            self.flash(flash, kind)
        return redirect(_local(url))

    def back(self, flash: str | None = None, kind: str = "info") -> Response:
        """Back to the page the form was on (same site only), with an optional message."""
        referrer = urlsplit(request.referrer or "/")
        if referrer.netloc and referrer.netloc != request.host:
            return self.redirect("/", flash, kind)
        local = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        return self.redirect(_local(local or "/"), flash, kind)


def _local(url: str) -> str:
    """Only a path on this site: no scheme, no host, no ``//`` (no open redirect)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or "X-CSRF-Token" in request.headers


class WebApi:
    """The shell's side that plugins code against (``routes(web, service)``)."""

    def __init__(
        self,
        shell: Any,
        config: Config,
        store: Any = None,
        *,
        plugin_packages: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shell = shell
        self.app = shell.app
        self.config = config
        self.store = store
        self.clock = clock
        web = config.web
        key = web.secret_key if web is not None and web.secret_key else ""
        if not key:
            key = secrets.token_urlsafe(32)
            log.warning("[web] secret_key is not set: sessions end when ctibot restarts")
        self._key = key.encode()
        self._random_key = not (web is not None and web.secret_key)
        self.public_url = web.public_url if web is not None else ""
        self.secure_cookies = self.public_url.startswith("https:")
        self.routes: dict[str, RouteInfo] = {}
        self._topbar: list[TopbarItem] = []
        self.sessions: dict[str, Session] = {}  # by session_key(sid): the store's cache
        self.max_sessions = MAX_SESSIONS
        self._purged = 0.0
        self.limits = RateLimit()
        self.hub = Hub(self.may)
        self.users_file = UsersFile(config.auth.users_file) if config.auth.users_file else None
        self.ldap = LdapAuth(config.auth.ldap) if config.auth.ldap is not None else None
        self._languages: dict[str, str | None] = {}
        self.plugin_packages: dict[str, str] = dict(plugin_packages or {})
        self.plugin_packages.setdefault("ctibot", "ctibot.web")
        shell_templates = str(self._folder("ctibot.web", "templates"))
        self._template_loaders: list[Any] = [FileSystemLoader(shell_templates)]
        self._templated: set[str] = {"ctibot.web"}
        for package in self.plugin_packages.values():  # each plugin's templates/ folder
            self._add_templates(package)
        self.app.jinja_options = {**self.app.jinja_options, "autoescape": True}
        self.app.jinja_loader = ChoiceLoader(self._template_loaders)
        self.app.secret_key = key
        from ctibot.i18n import add_messages

        add_messages("web", SHELL_MESSAGES)
        self._install()
        self.app.before_serving(self._sessions_start)
        self.app.after_serving(self._sessions_flush)

    # -- plugins' view -------------------------------------------------------------------

    def page(
        self,
        rule: str,
        *,
        permission: str | None,
        template: str,
        menu: Mapping[str, str] | None = None,
        order: int = 100,
        endpoint: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A GET page: the handler returns the template's context (or a Response)."""

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            info = self._register(rule, handler, ("GET",), "page", permission, endpoint)
            info.menu, info.order = menu, order

            async def view(**kwargs: Any) -> Any:
                req, refused = await self._guard(info)
                if refused is not None:
                    return refused
                try:
                    result = await _call(handler, req, **kwargs)
                except ServiceError as exc:
                    status = _status(exc)
                    return await self.render(
                        "error.html", req, status=status, message=self.error_text(req, exc)
                    )
                if isinstance(result, Response) or not isinstance(result, Mapping | type(None)):
                    return result
                return await self.render(template, req, **dict(result or {}))

            self._add(info, view)
            return handler

        return decorate

    def action(
        self,
        rule: str,
        *,
        permission: str | None,
        methods: Iterable[str] = ("POST",),
        endpoint: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A form POST (CSRF checked): the handler returns ``req.back(...)`` or JSON data."""

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            info = self._register(rule, handler, tuple(methods), "action", permission, endpoint)

            async def view(**kwargs: Any) -> Any:
                req, refused = await self._guard(info)
                if refused is not None:
                    return refused
                try:
                    result = await _call(handler, req, **kwargs)
                except ServiceError as exc:
                    text = self.error_text(req, exc)
                    if req.wants_json():
                        return self.json_error(req, exc)
                    return req.back(text, "error")
                if result is None:
                    return req.back()
                return result

            self._add(info, view)
            return handler

        return decorate

    def api(
        self,
        rule: str,
        *,
        permission: str | None,
        methods: Iterable[str] = ("GET",),
        request: Any = None,
        response: Any = None,
        query: Any = None,
        status: int = 200,
        endpoint: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A JSON API route: session (with the CSRF header) or ``Authorization: Bearer``.

        ``request``/``query``/``response`` are pydantic models or dataclasses that
        quart-schema validates and puts in the OpenAPI document; the handler finds the
        validated body in ``req.json`` and the query in ``req.query``.
        """
        from quart_schema import validate_querystring, validate_request, validate_response

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            info = self._register(rule, handler, tuple(methods), "api", permission, endpoint)

            async def inner(**kwargs: Any) -> Any:
                req: WebRequest = g.ctibot_request
                if "data" in kwargs:
                    req.json = kwargs.pop("data")
                if "query_args" in kwargs:
                    req.query = kwargs.pop("query_args")
                result = await _call(handler, req, **kwargs)
                return (result, status) if response is not None else result

            inner.__name__ = handler.__name__
            inner.__doc__ = handler.__doc__
            validated: Any = inner
            if query is not None:
                validated = validate_querystring(query)(validated)
            if request is not None:
                validated = validate_request(request)(validated)
            if response is not None:
                validated = validate_response(response, status)(validated)

            @functools.wraps(validated)
            async def view(**kwargs: Any) -> Any:
                req, refused = await self._guard(info)
                if refused is not None:
                    return refused
                g.ctibot_request = req
                try:
                    return await validated(**kwargs)
                except ServiceError as exc:
                    return self.json_error(req, exc)

            self._add(info, view)
            return handler

        return decorate

    def topbar(
        self,
        template: str,
        *,
        permission: str | None = None,
        order: int = 100,
        context: Callable[[WebRequest], Any] | None = None,
    ) -> None:
        """A partial shown in every page's top bar to users with ``permission``.

        ``context(req)`` (sync or async) gives the partial extra variables (as ``bar``);
        the partial sees the page's context too (``user``, ``t``, ``csrf_field``…).
        """
        self._topbar.append(TopbarItem(template, permission, order, context))
        self._topbar.sort(key=lambda item: (item.order, item.template))

    def live(
        self,
        topic: str,
        snapshot: Callable[[UserConfig], Any] | None = None,
        *,
        permission: str | None = None,
    ) -> None:
        """A websocket topic; ``snapshot(user)`` (sync or async) is what a subscriber gets first."""
        plugin = self._plugin_of(snapshot) if snapshot is not None else "core"
        self.hub.add_topic(Topic(topic, snapshot, permission, plugin))

    def connected(self, user: Any) -> bool:
        """Whether the user has the panel open now (a websocket of theirs is connected)."""
        return self.hub.connected(user)

    def watching(self, topic: str) -> set[str] | None:
        """The names of the users with a browser on ``topic`` now (None: everyone may be)."""
        return self.hub.watching(topic)

    def publish(
        self, topic: str, data: Any, users: Iterable[Any] | None = None, *, key: Any = None
    ) -> int:
        """Push ``data`` to the topic's subscribers (``users`` only, when given); never blocks.

        ``key``: a waiting message of the same topic and key is replaced (coalescing).
        """
        return self.hub.publish(topic, data, users, key=key)

    def add_route(
        self,
        rule: str,
        handler: Callable[..., Any],
        methods: Iterable[str] = ("GET",),
        *,
        endpoint: str | None = None,
        permission: str | None = OWN,
    ) -> None:
        """A bare Quart view that checks its own credentials (a webhook); no CSRF, no session."""
        info = self._register(rule, handler, tuple(methods), "raw", permission, endpoint)
        self._add(info, handler)

    def route(
        self, rule: str, methods: Iterable[str] = ("GET",), *, endpoint: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.add_route(rule, handler, methods, endpoint=endpoint)
            return handler

        return decorate

    def may(self, user: UserConfig | None, permission: str | None) -> bool:
        """May this user pass a route that declares ``permission``?"""
        if permission in (PUBLIC, OWN):
            return True
        if user is None:
            return False
        return permission is None or permission in self.config.permissions_of(user)

    def url(self, path: str = "/") -> str:
        """An absolute URL for people (``[web] public_url``, else the listening address)."""
        base = self.public_url or self.shell.url
        return base.rstrip("/") + "/" + path.lstrip("/")

    def menu(self, req: WebRequest) -> list[dict[str, Any]]:
        """The pages this user may open that have a menu entry, in order."""
        entries = []
        for info in sorted(self.routes.values(), key=lambda i: (i.order, i.rule)):
            if info.kind != "page" or not info.menu or "<" in info.rule:
                continue
            if not self.may(req.user, info.permission):
                continue
            label = info.menu.get(req.language) or info.menu.get("en") or info.rule
            entries.append(
                {"url": info.rule, "label": label, "active": request.path == info.rule}
            )
        return entries

    def error_text(self, req: WebRequest, exc: ServiceError) -> str:
        params = dict(exc.params)
        if isinstance(exc, PermissionDenied):
            params.setdefault("action", params.get("permission", ""))
        return req.t(exc.key, **params)

    def json_error(self, req: WebRequest, exc: ServiceError) -> Response:
        resp = jsonify({"error": exc.key, "message": self.error_text(req, exc)})
        resp.status_code = _status(exc)
        return resp

    async def render(self, template: str, req: WebRequest, *, status: int = 200, **ctx: Any) -> Any:
        flashes = []
        if req.session is not None:
            flashes, req.session.flashes = req.session.flashes, []
        bar = []
        if req.user is not None:
            for item in self._topbar:
                if not self.may(req.user, item.permission):
                    continue
                extra: Any = {}
                if item.context is not None:
                    try:
                        extra = await _call(item.context, req)
                    except Exception:
                        log.exception("top bar %s: its context failed", item.template)
                        continue
                bar.append({"template": item.template, "context": extra or {}})
        body = await render_template(
            template,
            topbar_items=bar,
            req=req,
            user=req.user,
            language=req.language,
            languages=LANGUAGES,
            t=req.t,
            menu=self.menu(req) if req.user is not None else [],
            flashes=flashes,
            csrf_token=req.session.csrf if req.session is not None else "",
            csrf_field=lambda: self._csrf_field(req),
            static=self.static_url,
            may=req.may,
            path=request.full_path.rstrip("?"),
            **ctx,
        )
        return body, status

    def static_url(self, plugin: str, filename: str) -> str:
        return f"/static/{quote(plugin)}/{quote(filename)}"

    def _csrf_field(self, req: WebRequest) -> Markup:
        token = req.session.csrf if req.session is not None else ""
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))

    # -- registration ----------------------------------------------------------------------

    def _plugin_of(self, handler: Any) -> str:
        module = getattr(handler, "__module__", "") or ""
        best, best_len = "core", 0
        for name, package in self.plugin_packages.items():
            if (module == package or module.startswith(package + ".")) and len(package) > best_len:
                best, best_len = name, len(package)
        return best

    def _register(
        self,
        rule: str,
        handler: Callable[..., Any],
        methods: tuple[str, ...],
        kind: str,
        permission: str | None,
        endpoint: str | None,
    ) -> RouteInfo:
        plugin = self._plugin_of(handler)
        name = endpoint or f"{plugin}.{handler.__name__}"
        if name in self.routes:
            raise ValueError(f"route endpoint {name!r} is taken")
        info = RouteInfo(rule, name, tuple(m.upper() for m in methods), kind, permission, plugin)
        self.routes[name] = info
        package = self.plugin_packages.get(plugin)
        if package:
            self._add_templates(package)
        return info

    def _add_templates(self, package: str) -> None:
        if package in self._templated:
            return
        self._templated.add(package)
        folder = self._folder(package, "templates")
        if folder is not None and folder.is_dir():
            self._template_loaders.append(FileSystemLoader(str(folder)))

    def _add(self, info: RouteInfo, view: Callable[..., Any]) -> None:
        self.app.add_url_rule(info.rule, info.endpoint, view, methods=list(info.methods))

    @staticmethod
    def _folder(package: str, name: str) -> Path | None:
        try:
            root = resources.files(package)
        except (ModuleNotFoundError, TypeError):
            return None
        return Path(str(root / name))

    # -- sessions --------------------------------------------------------------------------

    def _sign(self, sid: str) -> str:
        mac = hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{sid}.{mac}"

    def _unsign(self, value: str | None) -> str | None:
        if not value or "." not in value or len(value) > 200:
            return None
        sid, _, _mac = value.rpartition(".")
        return sid if hmac.compare_digest(self._sign(sid), value) else None

    async def session_of(self, cookies: Mapping[str, str]) -> Session | None:
        """The session of a signed cookie: from memory, else from the store (then cached).

        A cached session costs no database read; its last-seen time is written back at most
        every ``SEEN_WRITE`` seconds, which also tells a session ended from outside (``ctibot
        user passwd``) from a live one. Idle ones, and stored ones of users no longer in the
        configuration (read at start), end.
        """
        sid = self._unsign(cookies.get(COOKIE))
        if sid is None:
            return None
        now = self.clock()
        if now - self._purged > SESSION_PURGE:
            await self.purge_sessions(now)
        key = session_key(sid)
        session = self.sessions.get(key)
        if session is None:
            session = await self._load_session(sid, key)
            if session is None:
                return None
        if now - session.seen > SESSION_IDLE:
            await self.end_session(session)
            return None
        session.seen = now
        if session.stored is not None and now - session.stored >= SEEN_WRITE:
            if not await self.store.touch_web_session(key, now):
                self.sessions.pop(key, None)  # ended elsewhere
                return None
            session.stored = now
        return session

    async def _load_session(self, sid: str, key: str) -> Session | None:
        if self.store is None:
            return None
        row = await self.store.web_session(key)
        if row is None:
            return None
        user, csrf, created, seen = row
        session = Session(sid, user, csrf, seen, key, created, seen)
        if self.config.user_by_name(user) is None:  # no longer in the configuration
            await self.end_session(session)
            return None
        self._cache(session)
        return session

    def _cache(self, session: Session) -> None:
        while len(self.sessions) >= self.max_sessions:  # a logged-in one can be read again
            self.sessions.pop(next(iter(self.sessions)))
        self.sessions[session.key] = session

    async def new_session(self, user: str | None) -> Session:
        """A new session (a logged-in one goes to the store too)."""
        now = self.clock()
        sid = secrets.token_urlsafe(24)
        session = Session(sid, user, secrets.token_urlsafe(24), now, session_key(sid), now)
        if user is not None and self.store is not None:
            gone = await self.store.add_web_session(
                session.key, user, session.csrf, now, keep=self.max_sessions
            )
            for key in gone:
                self.sessions.pop(key, None)
            session.stored = now
        self._cache(session)
        return session

    async def end_session(self, session: Session) -> None:
        """Forget a session, in memory and in the store."""
        self.sessions.pop(session.key, None)
        if session.stored is not None and self.store is not None:
            await self.store.delete_web_session(session.key)
            session.stored = None

    async def purge_sessions(self, now: float | None = None) -> None:
        """Sweep idle sessions from memory and the store."""
        now = self.clock() if now is None else now
        self._purged = now
        for key, session in list(self.sessions.items()):
            if now - session.seen > SESSION_IDLE:
                self.sessions.pop(key, None)
        if self.store is not None:
            # The store's seen may lag by SEEN_WRITE: such a row is left to session_of.
            await self.store.delete_web_sessions(seen_before=now - SESSION_IDLE - SEEN_WRITE)

    async def _sessions_start(self) -> None:
        if self.store is None:
            return
        if self._random_key:  # no cookie signed with an earlier key can come back
            await self.store.delete_web_sessions()
        await self.purge_sessions()

    async def _sessions_flush(self) -> None:
        """At stop: the last-seen times not yet written (best effort)."""
        if self.store is None:
            return
        dirty = [s for s in self.sessions.values() if s.stored is not None and s.seen > s.stored]
        try:
            await self.store.touch_web_sessions([(s.key, s.seen) for s in dirty])
            for session in dirty:
                session.stored = session.seen
        except Exception:
            log.exception("web sessions: could not write their last-seen times")

    def set_cookie(self, response: Response, session: Session) -> None:
        # SameSite=Lax, not Strict: a link to the panel from elsewhere (the chat notice of a
        # new voicemail, an XMPP web client, a mail) must open it logged in. Cross-site
        # POSTs carry no cookie under Lax, and every form and fetch POST needs its CSRF
        # token anyway.
        response.set_cookie(
            COOKIE,
            self._sign(session.sid),
            httponly=True,
            samesite="Lax",
            secure=self.secure_cookies,
            path="/",
        )

    # -- the per-request guard -------------------------------------------------------------

    async def language_of(self, user: UserConfig | None) -> str:
        """The user's stored choice, else this browser's choice (cookie), else its language."""
        if user is not None:
            if user.name not in self._languages and self.store is not None:
                self._languages[user.name] = await self.store.get_setting(user.name, LANGUAGE_KEY)
            chosen = self._languages.get(user.name)
            if chosen in LANGUAGES:
                return chosen  # type: ignore[return-value]
        chosen = request.cookies.get(LANG_COOKIE)
        if chosen in LANGUAGES:
            return chosen  # type: ignore[return-value]
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
        return user.language if user is not None and user.language in LANGUAGES else "en"

    async def set_language(self, user: UserConfig, language: str) -> None:
        self._languages[user.name] = language
        if self.store is not None:
            await self.store.set_setting(user.name, LANGUAGE_KEY, language)

    async def user_by_token(self, header: str) -> UserConfig | None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or "." not in token or len(token) > 200:
            return None
        name = token.partition(".")[0]
        user = self.config.user_by_name(name)
        if user is None or self.store is None:
            return None
        hashes = await self.store.get_setting(name, TOKENS_KEY, []) or []
        digest = token_hash(token)
        if any(hmac.compare_digest(digest, h) for h in hashes if isinstance(h, str)):
            return user
        return None

    async def _guard(self, info: RouteInfo) -> tuple[WebRequest, Any]:
        """The request's user and language; a refusal (redirect / 401 / 403) or None.

        Every refusal by the shell carries ``X-Ctibot-Refused`` (login, permission, csrf,
        token): the authorization matrix test tells them from a handler's own answers.
        """
        req, refused, why = await self._check(info)
        if why == "csrf" and info.endpoint == "shell.login_post":
            # A login form older than its session (ctibot restarted, the session ended):
            # a fresh form with a word, not an error page.
            fresh = await self.new_session(None)
            fresh.flashes.append(("error", req.t("web.login.expired")))
            refused = redirect("/login")
            self.set_cookie(refused, fresh)
        if refused is not None:
            if isinstance(refused, tuple):
                refused = Response(refused[0], status=refused[1], mimetype="text/html")
            refused.headers["X-Ctibot-Refused"] = why
        return req, refused

    async def _check(self, info: RouteInfo) -> tuple[WebRequest, Any, str]:
        session = await self.session_of(request.cookies)
        user = None
        by_token = False
        auth_header = request.headers.get("Authorization")
        if info.kind == "api" and auth_header:
            user = await self.user_by_token(auth_header)
            by_token = user is not None
            session = None
            if user is None:
                return self._bare_request(), _json(401, "unauthorized", "a valid token"), "token"
        elif session is not None and session.user is not None:
            user = self.config.user_by_name(session.user)
        language = await self.language_of(user)
        form: Mapping[str, Any] = {}
        json_body: Any = None
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            if request.mimetype == "application/json":
                if info.kind != "api":
                    json_body = await request.get_json(silent=True)
            else:
                form = await request.form
        req = WebRequest(self, user, language, session, form, json_body, by_token)
        if user is None and info.permission not in (PUBLIC, OWN):
            if info.kind in ("api", "websocket") or _wants_json():
                return req, _json(401, "unauthorized", req.t("web.login.title")), "login"
            target = "/login?next=" + quote(_local(request.full_path), safe="/")
            return req, redirect(target), "login"
        if not self.may(user, info.permission):
            if info.kind == "api" or _wants_json():
                return req, _json(403, "forbidden", req.t("web.forbidden")), "permission"
            page = await self.render("error.html", req, status=403, message=req.t("web.forbidden"))
            return req, page, "permission"
        if request.method not in ("GET", "HEAD", "OPTIONS") and not by_token:
            given = request.headers.get("X-CSRF-Token") or form.get("csrf_token") or ""
            if session is None or not hmac.compare_digest(str(given), session.csrf):
                if info.kind == "api" or _wants_json():
                    return req, _json(403, "csrf", req.t("web.csrf")), "csrf"
                page = await self.render("error.html", req, status=403, message=req.t("web.csrf"))
                return req, page, "csrf"
        return req, None, ""

    def undeclared(self) -> list[str]:
        """Rules of the app whose endpoint no WebApi call declared (so no permission): bugs."""
        return sorted(
            f"{rule.rule} ({rule.endpoint})"
            for rule in self.app.url_map.iter_rules()
            if rule.endpoint not in self.routes
        )

    def _bare_request(self) -> WebRequest:
        return WebRequest(self, None, "en", None, {}, None)

    # -- the shell's own routes ----------------------------------------------------------------

    def _install(self) -> None:
        from ctibot.http import api

        app = self.app
        self.add_route(
            "/static/<plugin>/<path:filename>",
            self._static,
            endpoint="shell.static",
            permission=PUBLIC,
        )

        @self.page("/", permission=None, template="home.html", endpoint="shell.home")
        async def home(req: WebRequest) -> dict[str, Any]:
            return {}

        @self.page("/login", permission=PUBLIC, template="login.html", endpoint="shell.login")
        async def login_page(req: WebRequest) -> Any:
            if req.user is not None:
                return redirect(_local(req.args.get("next", "/")))
            return await self._login_form(req)

        @self.action("/login", permission=PUBLIC, endpoint="shell.login_post")
        async def login_post(req: WebRequest) -> Any:
            return await self._login(req)

        @self.action("/logout", permission=None, endpoint="shell.logout")
        async def logout(req: WebRequest) -> Any:
            if req.session is not None:
                await self.end_session(req.session)
                self.hub.close_all(req.session.sid)  # its live sockets end with it
            fresh = await self.new_session(None)
            fresh.flashes.append(("info", req.t("web.logged_out")))
            resp = redirect("/login")
            self.set_cookie(resp, fresh)
            return resp

        @self.action("/language", permission=PUBLIC, endpoint="shell.language")
        async def language(req: WebRequest) -> Any:
            chosen = str(req.form.get("language", ""))
            if chosen not in LANGUAGES:
                return req.back()
            if req.user is not None:
                await self.set_language(req.user, chosen)
            resp = req.back()
            resp.set_cookie(LANG_COOKIE, chosen, httponly=True, samesite="Lax",
                            secure=self.secure_cookies, max_age=365 * 86400)
            return resp

        async def ws() -> Any:
            session = await self.session_of(websocket.cookies)
            user = self.config.user_by_name(session.user) if session and session.user else None
            origin = websocket.headers.get("Origin")
            if origin and urlsplit(origin).netloc != websocket.host:
                return "", 403
            if user is None:
                return "", 401
            await self.hub.serve(websocket, user, session.sid if session else None)
            return None

        self.routes["shell.ws"] = RouteInfo("/ws", "shell.ws", ("GET",), "websocket", None, "core")
        app.add_websocket("/ws", "shell.ws", ws)
        api.install(self)
        self.shell.on_stop(lambda: self.hub.close_all())

        @app.errorhandler(404)
        async def not_found(_exc: Any) -> Any:
            if request.path.startswith("/api/") or _wants_json():
                return _json(404, "not_found", "no such page")
            req = self._bare_request()
            session = await self.session_of(request.cookies)
            if session is not None and session.user:
                req.user = self.config.user_by_name(session.user)  # type: ignore[assignment]
            req.language = await self.language_of(req.user)
            return await self.render("error.html", req, status=404,
                                     message=req.t("web.not_found"))

    async def _static(self, plugin: str, filename: str) -> Any:
        from quart import send_from_directory

        package = self.plugin_packages.get(plugin)
        folder = self._folder(package, "static") if package else None
        if folder is None or not folder.is_dir():
            return _json(404, "not_found", "no such file")
        resp = await send_from_directory(folder, filename)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    async def _login_form(self, req: WebRequest, *, error: str | None = None,
                          status: int = 200, name: str = "") -> Any:
        session = req.session
        fresh = session is None
        if session is None:
            session = await self.new_session(None)
            req.session = session
        body, code = await self.render(
            "login.html", req, status=status, error=error, name=name,
            next=_local(req.args.get("next") or str(req.form.get("next", "/"))),
        )
        resp = Response(body, status=code, mimetype="text/html")
        if fresh:
            self.set_cookie(resp, session)
        return resp

    async def _login(self, req: WebRequest) -> Any:
        name = str(req.form.get("name", "")).strip().lower()
        password = str(req.form.get("password", ""))
        ip = request.remote_addr or "?"
        wait = self.limits.blocked(f"ip:{ip}", f"name:{name[:64]}")
        if wait > 0:
            minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
            return await self._login_form(
                req, error=req.t("web.login.slow_down", minutes=minutes), status=429, name=name
            )
        ok = False
        if LOGIN.match(name) and 0 < len(password) <= MAX_PASSWORD:
            ok = await self.check_password(name, password)
        if not ok:
            self.limits.fail(f"ip:{ip}", f"name:{name[:64]}")
            log.info("web login refused for %r from %s", name[:64], ip)
            return await self._login_form(req, error=req.t("web.login.failed"), status=401,
                                          name=name)
        user = self.config.user_by_name(name)
        if user is None:
            return await self._login_form(req, error=req.t("web.login.unknown_user"),
                                          status=403, name=name)
        self.limits.clear(f"name:{name}")
        if req.session is not None:  # a new id at login: no session fixation
            await self.end_session(req.session)
        session = await self.new_session(user.name)
        log.info("web login: %s from %s", user.name, ip)
        resp = redirect(_local(str(req.form.get("next", "/")) or "/"))
        self.set_cookie(resp, session)
        return resp

    async def check_password(self, name: str, password: str) -> bool:
        """The local users file first (when it knows the name), else LDAP."""
        import asyncio

        if self.users_file is not None:
            found = await asyncio.to_thread(self.users_file.check, name, password)
            if found is not None:
                return found
        if self.ldap is not None:
            return await self.ldap.check(name, password)
        return False


def _json(status: int, error: str, message: str) -> Response:
    resp = jsonify({"error": error, "message": message})
    resp.status_code = status
    return resp


def _status(exc: ServiceError) -> int:
    # A plugin's own error may name its status (a read-only spool: 503, a conflict: 409).
    code = getattr(exc, "http_status", None)
    if isinstance(code, int) and 400 <= code < 600:
        return code
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PbxUnavailable):
        return 503
    return 400


async def _call(handler: Callable[..., Any], req: WebRequest, **kwargs: Any) -> Any:
    result = handler(req, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
