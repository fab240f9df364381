"""ctibot's one message mechanism: the core's generic strings plus each plugin's ``messages.py``."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

#: The languages ctibot speaks (users' ``language``); English is the fallback.
LANGUAGES = ("en", "it")

#: The core's strings: dispatching, help, the generic service errors, shared words.
CORE_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "unknown": "I don't know “{word}”; did you mean {close}? Try help.",
        "unknown_plain": "I don't know “{word}”; try help.",
        "usage": "Usage: {usage}",
        "too_long": "That message is too long for a command (at most {maximum} characters).",
        "slow_down": "Slow down, please: too many commands in a short time.",
        "internal_error": "Sorry, something went wrong; please try again.",
        "stranger": "Sorry, you are not a user of this phone system; ask your administrator.",
        "parse.empty": "Send a command; try help.",
        "parse.bad_choice": "“{value}” is not one of {choices}.",
        "parse.bad_number": "“{value}” is not a number from {minimum} to {maximum}.",
        "parse.too_long_arg": "The {name} is too long (at most {maximum} characters).",
        "parse.missing": "Missing {name}.",
        "parse.extra": "I don't understand “{value}”.",
        "parse.bad_form": "The form came back malformed.",
        "help.title": "What you can do:",
        "help.more": "Send “{help} <command>” for more.",
        "help.unknown": "There is no command “{name}” for you; try help.",
        "help.aliases": "Also: {words}",
        "error.generic": "That did not work.",
        "error.too_many": "Too many at once: try again in a while.",
        "error.not_allowed": "You are not allowed to {action}.",
        "error.bad_argument": "That value is not valid.",
        "error.not_found": "Not found.",
        "error.pbx_unavailable": "The PBX is not reachable right now.",
        "error.pbx_refused": "The PBX refused: {reason}",
        "error.nothing_to_do": "Nothing to do.",
        "error.bad_value": "Invalid {field}: {expected}.",
        "error.ambiguous": "“{text}” could be {names}: be more precise.",
        "error.no_such_extension": "There is no extension or user “{extension}”.",
        "error.bad_destination": "“{destination}” is not a number I can dial.",
        "error.number_too_long": "“{destination}” is too long for a phone number (at most "
        "{maximum} digits).",
        "error.bad_choice": "“{value}” is not one of {choices}.",
        "kind.unconditional": "always",
        "kind.busy": "when busy",
        "kind.noanswer": "when not answered",
        "word.voicemail": "your voicemail",
        "word.mobile": "your mobile ({number})",
        "word.number": "number",
        "word.dnd": "do not disturb",
        "word.dynamic": "agent",
        "word.static": "fixed member",
        "phone.idle": "free",
        "phone.ringing": "ringing",
        "phone.busy": "on the phone",
        "phone.onhold": "on hold",
        "phone.unavailable": "offline",
        "phone.offline": "offline",
        "phone.unknown": "unknown",
        "presence.dnd": "do not disturb",
        "presence.cellphone": "on the mobile",
        "presence.voicemail": "to voicemail",
        "presence.callforward": "forwarded",
        "presence.online": "available",
        "perm.admin": "administer ctibot",
        "perm.": "?",
    },
    "it": {
        "unknown": "Non conosco “{word}”; forse {close}? Prova aiuto.",
        "unknown_plain": "Non conosco “{word}”; prova aiuto.",
        "usage": "Uso: {usage}",
        "too_long": "Messaggio troppo lungo per un comando (al massimo {maximum} caratteri).",
        "slow_down": "Più piano, per favore: troppi comandi in poco tempo.",
        "internal_error": "Spiacente, qualcosa è andato storto; riprova.",
        "stranger": "Spiacente, non sei un utente di questo centralino; chiedi all'amministratore.",
        "parse.empty": "Manda un comando; prova aiuto.",
        "parse.bad_choice": "“{value}” non è tra {choices}.",
        "parse.bad_number": "“{value}” non è un numero da {minimum} a {maximum}.",
        "parse.too_long_arg": "{name}: troppo lungo (al massimo {maximum} caratteri).",
        "parse.missing": "Manca {name}.",
        "parse.extra": "Non capisco “{value}”.",
        "parse.bad_form": "Il modulo è tornato malformato.",
        "help.title": "Cosa puoi fare:",
        "help.more": "Scrivi “{help} <comando>” per saperne di più.",
        "help.unknown": "Non hai un comando “{name}”; prova aiuto.",
        "help.aliases": "Anche: {words}",
        "error.generic": "Non è riuscito.",
        "error.too_many": "Troppe richieste: riprova tra poco.",
        "error.not_allowed": "Non hai il permesso di {action}.",
        "error.bad_argument": "Valore non valido.",
        "error.not_found": "Non trovato.",
        "error.pbx_unavailable": "Il centralino non è raggiungibile in questo momento.",
        "error.pbx_refused": "Il centralino ha rifiutato: {reason}",
        "error.nothing_to_do": "Niente da fare.",
        "error.bad_value": "{field} non valido: {expected}.",
        "error.ambiguous": "“{text}” può essere {names}: sii più preciso.",
        "error.no_such_extension": "Non esiste un interno o utente “{extension}”.",
        "error.bad_destination": "“{destination}” non è un numero che posso chiamare.",
        "error.number_too_long": "“{destination}” è troppo lungo per un numero di telefono (al "
        "massimo {maximum} cifre).",
        "error.bad_choice": "“{value}” non è tra {choices}.",
        "kind.unconditional": "sempre",
        "kind.busy": "se occupato",
        "kind.noanswer": "se non rispondi",
        "word.voicemail": "la tua segreteria",
        "word.mobile": "il tuo cellulare ({number})",
        "word.number": "numero",
        "word.dnd": "non disturbare",
        "word.dynamic": "agente",
        "word.static": "membro fisso",
        "phone.idle": "libero",
        "phone.ringing": "squilla",
        "phone.busy": "al telefono",
        "phone.onhold": "in attesa",
        "phone.unavailable": "non connesso",
        "phone.offline": "non connesso",
        "phone.unknown": "sconosciuto",
        "presence.dnd": "non disturbare",
        "presence.cellphone": "sul cellulare",
        "presence.voicemail": "in segreteria",
        "presence.callforward": "inoltrato",
        "presence.online": "disponibile",
        "perm.admin": "amministrare ctibot",
        "perm.": "?",
    },
}


class MessageConflict(ValueError):
    """A plugin's key that another part already defines, or a language ctibot does not speak."""


class Catalog:
    """Every message by language: the core's, then each loaded plugin's (each key has one owner)."""

    def __init__(self, core: Mapping[str, Mapping[str, str]] = CORE_MESSAGES) -> None:
        self.messages: dict[str, dict[str, str]] = {
            lang: dict(core.get(lang, {})) for lang in LANGUAGES
        }
        self.owners: dict[str, str] = {key: "core" for key in core.get("en", {})}
        self.added: set[str] = set()

    def add(self, owner: str, messages: Mapping[str, Mapping[str, str]]) -> None:
        """Add a plugin's strings; MessageConflict when a key is someone else's (nothing added)."""
        if owner in self.added:
            return
        for lang, table in messages.items():
            if lang not in LANGUAGES:
                raise MessageConflict(f"messages in {lang!r}: ctibot speaks {', '.join(LANGUAGES)}")
            for key, text in table.items():
                if not isinstance(key, str) or not isinstance(text, str):
                    raise MessageConflict(f"message {key!r}: expected text")
                taken = self.owners.get(key)
                if taken is not None and taken != owner:
                    raise MessageConflict(f"message key {key!r} already belongs to {taken}")
        for lang, table in messages.items():
            self.messages[lang].update(table)
            for key in table:
                self.owners[key] = owner
        self.added.add(owner)

    def template(self, key: str, language: str) -> str | None:
        found = self.messages.get(language, {}).get(key)
        return found if found else self.messages["en"].get(key)

    def translate(self, key: str, language: str = "en", **params: Any) -> str:
        """The message ``key`` in ``language`` (English when missing there), filled in."""
        template = self.template(key, language)
        if template is None:
            template = _late(key, language) or key
        try:
            return string.Formatter().vformat(template, (), _Params(params))
        except (ValueError, IndexError, KeyError, AttributeError):
            return template


class _Params(dict):
    """Format parameters where a missing one shows as nothing, never as an error."""

    def __missing__(self, key: str) -> str:
        return ""


#: The process's catalogue: the loader adds every plugin it finds (enabled or not: strings
#: of a disabled plugin are never asked for, and a key keeps one meaning everywhere).
CATALOG = Catalog()
#: The messages by language (the catalogue's own tables).
MESSAGES = CATALOG.messages


def _late(key: str, language: str) -> str | None:
    """A key asked for before any plugin was discovered: discover them, then look again."""
    from ctibot import loader  # the loader imports plugins by name, never the reverse

    if loader.discovered():
        return None
    loader.discover()
    return CATALOG.template(key, language)


def translate(key: str, language: str = "en", **params: Any) -> str:
    """The message ``key`` in ``language`` (English when missing there), filled in."""
    return CATALOG.translate(key, language, **params)


def add_messages(owner: str, messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a part's strings (``{"en": {...}, "it": {...}}``) to the process's catalogue."""
    CATALOG.add(owner, messages)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
