"""The chat and ad-hoc entry points: parse a body, dispatch it, describe and run forms."""

from __future__ import annotations

import difflib
import logging
from typing import Any

from ctibot.commands.base import (
    ArgError,
    Command,
    Context,
    Field,
    Form,
    Registry,
    Result,
    Values,
    render,
)
from ctibot.commands.ratelimit import RateLimiter, Verdict
from ctibot.config import Config, UserConfig
from ctibot.i18n import LANGUAGES, translate
from ctibot.services.context import clip
from ctibot.services.errors import PermissionDenied, ServiceError
from ctibot.services.registry import ServiceRegistry

log = logging.getLogger("ctibot.commands")

MAX_BODY = 2000
MAX_REPLY = 3000


class ParseError(Exception):
    """A body that is not a valid command: message key, params, and the command if known."""

    def __init__(self, key: str, command: Command | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.command = command
        self.params = params


def parse(
    body: str, language: str = "en", registry: Registry | None = None
) -> tuple[Command, dict[str, Any]] | ParseError:
    """The command and its keyword arguments, or a ParseError (never raises)."""
    if registry is None:
        from ctibot.commands.help import core_registry

        registry = core_registry()
    words = body.split()
    if not words:
        return ParseError("parse.empty")
    found = registry.lookup(words[0])
    if found is None:
        return ParseError("unknown", word=words[0])
    kwargs: dict[str, Any] = {}
    rest = words[1:]
    try:
        for arg in found.args:
            if not rest:
                if arg.required:
                    raise ArgError("parse.missing", name=arg.shown(language))
                continue
            if arg.rest:
                kwargs[arg.name] = arg.convert(" ".join(rest))
                rest = []
            elif arg.kind == "choice" and not arg.required and not arg.accepts(rest[0]):
                # An optional choice that does not fit may be the next argument.
                if arg is found.args[-1]:
                    kwargs[arg.name] = arg.convert(rest[0])  # raises with the choices
                continue
            else:
                kwargs[arg.name] = arg.convert(rest[0])
                rest = rest[1:]
        if rest:
            raise ArgError("parse.extra", value=" ".join(rest))
    except ArgError as exc:
        return ParseError(exc.key, found, **exc.params)
    return found, kwargs


def _core() -> Registry:
    from ctibot.commands.help import core_registry

    return core_registry()


def language_of(user: UserConfig) -> str:
    return user.language if user.language in LANGUAGES else "en"


def commands_for(
    config: Config, user: UserConfig, registry: Registry | None = None
) -> list[Command]:
    """The commands this user may run (help, the ad-hoc list) among ``registry``'s."""
    allowed = config.permissions_of(user)
    if registry is None:
        from ctibot.commands.help import core_registry

        registry = core_registry()
    return [c for c in registry if c.permission is None or c.permission in allowed]


def adhoc_commands_for(
    config: Config, user: UserConfig, registry: Registry | None = None
) -> list[Command]:
    """The ad-hoc commands (XEP-0050) to advertise to this user."""
    return [c for c in commands_for(config, user, registry) if c.adhoc]


def _suggestions(word: str, ctx: Context) -> list[str]:
    words = [w for c in ctx.registry if ctx.may(c.permission) for w in c.words() if len(w) > 1]
    return difflib.get_close_matches(word.casefold()[:40], words, n=3, cutoff=0.6)


def _error_text(exc: ServiceError, lang: str) -> str:
    params = dict(exc.params)
    if isinstance(exc, PermissionDenied):
        permission = str(params.get("permission", ""))
        phrase = translate(f"perm.{permission}", lang)
        if phrase == f"perm.{permission}":  # a plugin without the phrase: its description
            from ctibot.permissions import permission_table

            phrase = permission_table().get(permission, permission)
        params["action"] = phrase
    return translate(exc.key, lang, **params)


async def _execute(command: Command, ctx: Context, kwargs: dict[str, Any]) -> str:
    lang = ctx.language
    if not ctx.may(command.permission):
        return _error_text(PermissionDenied(permission=command.permission or ""), lang)
    ctx.for_command(command)
    try:
        result: Result = await command.run(ctx, **kwargs)
        text = render(result, lang)
    except ArgError as exc:
        text = _usage_text(exc.key, exc.params, command, lang)
    except ServiceError as exc:
        text = _error_text(exc, lang)
    except Exception:
        log.exception("command %s failed for %s", command.name, ctx.user.name)
        text = translate("internal_error", lang)
    if len(text) > MAX_REPLY:
        text = text[: MAX_REPLY - 1] + "…"
    return text


def _usage_text(key: str, params: dict[str, Any], command: Command | None, lang: str) -> str:
    shown = {k: clip(str(v)) if isinstance(v, str) else v for k, v in params.items()}
    text = translate(key, lang, **shown)
    if command is not None:
        text += " " + translate("usage", lang, usage=command.usage(lang))
    return text


async def dispatch(
    services: ServiceRegistry,
    user: UserConfig,
    body: str | None,
    *,
    registry: Registry | None = None,
    limiter: RateLimiter | None = None,
    sender: str | None = None,
) -> str | None:
    """Run one chat message as a command; the reply in the user's language, or None.

    None for an empty body, and for a flooding sender already told to slow down.
    Never raises.
    """
    try:
        if body is None or not body.strip():
            return None
        lang = language_of(user)
        if limiter is not None:
            verdict = limiter.check(sender or user.jid or user.name)
            if verdict is Verdict.WARN:
                return translate("slow_down", lang)
            if verdict is Verdict.DROP:
                return None
        if len(body) > MAX_BODY:
            return translate("too_long", lang, maximum=MAX_BODY)
        registry = registry if registry is not None else services.commands
        ctx = Context(services, user, lang, registry, "chat")
        parsed = parse(body, lang, registry)
        if isinstance(parsed, ParseError):
            if parsed.key == "unknown":
                word = str(parsed.params.get("word", ""))
                close = _suggestions(word, ctx)
                if close:
                    return translate("unknown", lang, word=clip(word, 30), close=", ".join(close))
                return translate("unknown_plain", lang, word=clip(word, 30))
            return _usage_text(parsed.key, parsed.params, parsed.command, lang)
        command, kwargs = parsed
        return await _execute(command, ctx, kwargs)
    except Exception:  # the last guard: a chat user never sees a traceback
        log.exception("dispatch failed")
        return translate("internal_error", language_of(user))


def form_for(
    command: Command | str,
    user: UserConfig,
    language: str | None = None,
    services: ServiceRegistry | None = None,
    registry: Registry | None = None,
) -> Form:
    """The XEP-0004 form of an ad-hoc command for this user (options need ``services``)."""
    if registry is None:
        registry = services.commands if services is not None else _core()
    if isinstance(command, str):
        found = registry.get(command)
        if found is None:
            raise KeyError(command)
        command = found
    lang = language or language_of(user)
    ctx = Context(services, user, lang, registry, "adhoc")  # type: ignore[arg-type]
    ctx.for_command(command)
    fields = []
    for spec in command.form_fields(ctx):
        options = _evaluate(spec.options, ctx, ())
        default = _evaluate(spec.default, ctx, None)
        fields.append(
            Field(
                var=spec.var,
                type=spec.type,
                label=_pick(spec.label, lang),
                options=tuple((value, _pick(label, lang)) for value, label in options),
                default=default,
                required=spec.required,
            )
        )
    return Form(command.name, command.label(lang), command.describe(lang), tuple(fields))


def _evaluate(value: Any, ctx: Context, fallback: Any) -> Any:
    """A field's options or default; computed ones need the services (and may fail)."""
    if not callable(value):
        return value
    try:
        return value(ctx)
    except Exception:
        if ctx.services is not None:
            log.exception("form field of %s: cannot compute", ctx.user.name)
        return fallback


def _pick(text: Any, lang: str) -> str:
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("en") or next(iter(text.values()), "")


async def run_form(
    services: ServiceRegistry,
    user: UserConfig,
    command_name: str,
    values: Values,
    *,
    registry: Registry | None = None,
) -> str:
    """Run a submitted ad-hoc form: same checks, same service call, same reply as chat."""
    lang = language_of(user)
    try:
        registry = registry if registry is not None else services.commands
        command = registry.get(command_name)
        if command is None:
            return translate("unknown_plain", lang, word=clip(str(command_name), 30))
        ctx = Context(services, user, lang, registry, "adhoc").for_command(command)
        if not ctx.may(command.permission):
            return _error_text(PermissionDenied(permission=command.permission or ""), lang)
        if not isinstance(values, dict) or any(
            not isinstance(v, str | list) or (isinstance(v, str) and len(v) > MAX_BODY)
            for v in values.values()
        ):
            return translate("parse.bad_form", lang)
        try:
            kwargs = command.from_form(ctx, values)
        except ArgError as exc:
            return _usage_text(exc.key, exc.params, None, lang)
        except ServiceError as exc:
            return _error_text(exc, lang)
        return await _execute(command, ctx, kwargs)
    except Exception:
        log.exception("ad-hoc %s failed", command_name)
        return translate("internal_error", lang)
