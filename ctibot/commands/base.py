"""Declaring a command once for chat and XEP-0050 ad-hoc: arguments, form fields, results."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ctibot.i18n import translate

if TYPE_CHECKING:
    from ctibot.config import UserConfig
    from ctibot.services.registry import ServiceRegistry

Values = Mapping[str, str | list[str]]


# -- results: data that each surface renders ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the catalogue: ``Reply("dnd.on", extensions="201")``."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, **params: Any) -> Reply:
        return cls(key, params)


@dataclass(frozen=True, slots=True)
class Lines:
    """Several lines: a title and items, each a Reply or plain (already localised) text."""

    lines: tuple[Reply | str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """Rows under column titles (message keys); chat shows one line per row."""

    title: Reply | None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Result = Reply | Lines | Table | str


def render(result: Result, language: str) -> str:
    """A result as chat text in ``language``."""
    if isinstance(result, str):
        return result
    if isinstance(result, Reply):
        return translate(result.key, language, **result.params)
    if isinstance(result, Lines):
        return "\n".join(render(line, language) for line in result.lines)
    lines = [render(result.title, language)] if result.title is not None else []
    header = [translate(c, language) for c in result.columns]
    for row in result.rows:
        lines.append(
            " · ".join(
                f"{h}: {cell}" if h else cell for h, cell in zip(header, row, strict=False) if cell
            )
        )
    return "\n".join(lines)


# -- arguments -----------------------------------------------------------------------------


class ArgError(ValueError):
    """A word that does not fit an argument: key + params for the catalogue."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class Arg:
    """A typed argument of a command.

    ``kind`` is ``text``, ``int`` or ``choice``; ``aliases`` maps other words
    (Italian, synonyms) to a choice; ``rest`` takes the rest of the line;
    ``metavar`` names it in the usage line, per language.
    """

    name: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    rest: bool = False
    metavar: Mapping[str, str] = field(default_factory=dict)
    minimum: int = 0
    maximum: int = 100_000
    max_len: int = 200

    def convert(self, word: str) -> Any:
        """The value of one word (or of the rest of the line), or ArgError."""
        if self.kind == "choice":
            lowered = word.casefold()
            value = lowered if lowered in self.choices else self.aliases.get(lowered)
            if value is None:
                raise ArgError("parse.bad_choice", value=word, choices="|".join(self.choices))
            return value
        if self.kind == "int":
            if not (word.isascii() and word.isdigit()) or not (
                self.minimum <= int(word) <= self.maximum
            ):
                raise ArgError(
                    "parse.bad_number", value=word, minimum=self.minimum, maximum=self.maximum
                )
            return int(word)
        if len(word) > self.max_len:
            raise ArgError("parse.too_long_arg", name=self.name, maximum=self.max_len)
        return word

    def accepts(self, word: str) -> bool:
        try:
            self.convert(word)
        except ArgError:
            return False
        return True

    def shown(self, language: str) -> str:
        if self.kind == "choice":
            return self.metavar.get(language) or "|".join(self.choices)
        return f"<{self.metavar.get(language) or self.metavar.get('en') or self.name}>"


# -- ad-hoc form fields ---------------------------------------------------------------------

Option = tuple[str, Mapping[str, str] | str]


@dataclass(frozen=True, slots=True)
class FormField:
    """A XEP-0004 field as declared: labels per language, options fixed or from context."""

    var: str
    type: str  # text-single | list-single | list-multi | boolean | fixed
    label: Mapping[str, str]
    options: tuple[Option, ...] | Callable[[Context], list[Option]] = ()
    default: str | list[str] | Callable[[Context], str | list[str] | None] | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """A XEP-0004 field ready to send: plain strings in the user's language."""

    var: str
    type: str
    label: str
    options: tuple[tuple[str, str], ...] = ()
    default: str | list[str] | None = None
    required: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "var": self.var,
            "type": self.type,
            "label": self.label,
            "options": [{"value": v, "label": label} for v, label in self.options],
            "default": self.default,
            "required": self.required,
        }


@dataclass(frozen=True, slots=True)
class Form:
    """A XEP-0004 ``form`` for an ad-hoc command (node = the command's name)."""

    node: str
    title: str
    instructions: str
    fields: tuple[Field, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "title": self.title,
            "instructions": self.instructions,
            "fields": [f.as_dict() for f in self.fields],
        }


# -- the declaration -------------------------------------------------------------------------


@dataclass(slots=True)
class Context:
    """Who runs a command, where, with which services.

    ``services`` is the registry of every loaded plugin's service (``ctx.services.calls``);
    ``service`` is the service of the plugin the command belongs to (None for the core's).
    """

    services: ServiceRegistry
    user: UserConfig
    language: str
    registry: Registry
    surface: str = "chat"  # chat | adhoc
    service: Any = None

    def may(self, permission: str | None) -> bool:
        return permission is None or self.services.may(self.user, permission)

    def for_command(self, command: Command) -> Context:
        """This context with ``service`` set to the command's own plugin's service."""
        owner = self.registry.owner(command.name)
        services = self.services
        self.service = services.get(owner) if owner and services is not None else None
        return self


class Command:
    """One command for chat and ad-hoc. Subclass, set the class attributes, write ``run``.

    ``usage`` and the default form come from ``args``; ``help`` and
    ``aliases`` are per language; ``permission`` (None = everyone) hides the
    command from help and from the ad-hoc list of users who lack it.
    """

    name: ClassVar[str]
    aliases: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    permission: ClassVar[str | None] = None
    args: ClassVar[tuple[Arg, ...]] = ()
    help: ClassVar[Mapping[str, str]] = {}
    usage_override: ClassVar[Mapping[str, str]] = {}
    adhoc: ClassVar[bool] = False
    form: ClassVar[tuple[FormField, ...]] = ()
    title: ClassVar[Mapping[str, str]] = {}
    order: ClassVar[int] = 100  # place in help and in the ad-hoc list

    async def run(self, ctx: Context, **kwargs: Any) -> Result:
        raise NotImplementedError

    # -- derived ---------------------------------------------------------------------

    def words(self) -> Iterator[str]:
        yield self.name
        for names in self.aliases.values():
            yield from names

    def word(self, language: str) -> str:
        """The command's name in ``language`` (its first alias there, else its name)."""
        names = self.aliases.get(language)
        return names[0] if names else self.name

    def usage(self, language: str) -> str:
        if language in self.usage_override:
            return self.usage_override[language]
        parts = [self.word(language)]
        for arg in self.args:
            shown = arg.shown(language) + ("…" if arg.rest and arg.kind == "text" else "")
            parts.append(shown if arg.required else f"[{shown}]")
        return " ".join(parts)

    def label(self, language: str) -> str:
        """The name to show in an ad-hoc command list (disco#items)."""
        return self.title.get(language) or self.title.get("en") or self.word(language)

    def describe(self, language: str) -> str:
        return self.help.get(language) or self.help.get("en", "")

    def form_fields(self, ctx: Context) -> tuple[FormField, ...]:
        """The declared form, or one derived from ``args``."""
        if self.form:
            return self.form
        fields = []
        for arg in self.args:
            label = dict(arg.metavar) or {"en": arg.name}
            if arg.kind == "choice":
                opts = tuple((c, c) for c in arg.choices)
                fields.append(FormField(arg.name, "list-single", label, opts, None, arg.required))
            else:
                fields.append(FormField(arg.name, "text-single", label, (), None, arg.required))
        return tuple(fields)

    def from_form(self, ctx: Context, values: Values) -> dict[str, Any]:
        """Submitted values -> ``run`` keyword arguments (the default: one field per arg)."""
        out: dict[str, Any] = {}
        for arg in self.args:
            raw = values.get(arg.name)
            text = (raw[0] if raw else "") if isinstance(raw, list) else (raw or "")
            text = text.strip()
            if not text:
                if arg.required:
                    raise ArgError("parse.missing", name=arg.shown(ctx.language))
                continue
            if not arg.rest and arg.kind != "text" and len(text.split()) > 1:
                raise ArgError("parse.extra", value=text)
            out[arg.name] = arg.convert(text)
        return out


class Registry:
    """The commands of one ctibot by name and alias (any language): the core's and its plugins'.

    Built per running ctibot from its enabled plugins: a disabled plugin's commands are
    in no registry, so neither ``help`` nor the ad-hoc list show them.
    """

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._words: dict[str, Command] = {}
        self._owners: dict[str, str | None] = {}

    def register(self, command: type[Command] | Command, plugin: str | None = None) -> Any:
        """Add a command (class or instance) of ``plugin`` (None: the core); ValueError when a
        word of it is another command's. Usable as a class decorator."""
        instance = command() if isinstance(command, type) else command
        for word in instance.words():
            key = word.casefold()
            owner = self._words.get(key)
            if owner is not None and owner.name != instance.name:
                raise ValueError(f"command word {word!r} already belongs to {owner.name!r}")
        old = self._commands.get(instance.name)
        if old is not None:
            if self._owners.get(instance.name) != plugin:
                raise ValueError(
                    f"command {instance.name!r} already belongs to "
                    f"{self._owners.get(instance.name) or 'the core'}"
                )
            for word in old.words():
                self._words.pop(word.casefold(), None)
        self._commands[instance.name] = instance
        self._owners[instance.name] = plugin
        for word in instance.words():
            self._words[word.casefold()] = instance
        return command

    def check(self, commands: Iterable[type[Command] | Command], plugin: str | None) -> None:
        """ValueError, before anything is added, when one of these would clash."""
        trial = Registry()
        trial._commands, trial._words = dict(self._commands), dict(self._words)
        trial._owners = dict(self._owners)
        for command in commands:
            trial.register(command, plugin)

    def unregister(self, name: str) -> None:
        """Remove a command and its words (a plugin that failed after its commands were in)."""
        old = self._commands.pop(name, None)
        self._owners.pop(name, None)
        if old is not None:
            for word in old.words():
                if self._words.get(word.casefold()) is old:
                    del self._words[word.casefold()]

    def owner(self, name: str) -> str | None:
        """The plugin a command belongs to (None: the core)."""
        return self._owners.get(name)

    def of(self, plugin: str | None) -> list[Command]:
        """The commands of one plugin."""
        return [c for c in self if self._owners.get(c.name) == plugin]

    def lookup(self, word: str) -> Command | None:
        return self._words.get(word.casefold())

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def words(self) -> list[str]:
        return list(self._words)

    def __iter__(self) -> Iterator[Command]:
        return iter(sorted(self._commands.values(), key=lambda c: c.order))

    def __len__(self) -> int:
        return len(self._commands)
