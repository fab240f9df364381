"""What the virtual JIDs show: XMPP presence (show + status) derived from the PBX state (X1)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ctibot.config import UserConfig
from ctibot.pbx.model import Call
from ctibot.pbx.state import PbxState

#: Telephony states, most significant first (PBX-CONVENTIONS: busy > ringing > hold > online).
PRECEDENCE = ("busy", "ringing", "onhold", "idle", "unknown", "unavailable")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "available": "Available",
        "ringing": "Ringing: call from {who}",
        "ringing_anon": "Ringing",
        "busy": "On a call with {who} since {since}",
        "busy_anon": "On a call since {since}",
        "onhold": "On hold with {who}",
        "dnd": "Do not disturb",
        "forward": "Forwarded to {where}",
        "voicemail": "voicemail",
        "mobile": "mobile",
        "unregistered": "Phone not registered",
        "unknown": "State unknown: the PBX is not reachable",
    },
    "it": {
        "available": "Disponibile",
        "ringing": "Squilla: chiamata da {who}",
        "ringing_anon": "Squilla",
        "busy": "Al telefono con {who} dalle {since}",
        "busy_anon": "Al telefono dalle {since}",
        "onhold": "In attesa con {who}",
        "dnd": "Non disturbare",
        "forward": "Inoltrato a {where}",
        "voicemail": "segreteria",
        "mobile": "cellulare",
        "unregistered": "Telefono non registrato",
        "unknown": "Stato sconosciuto: il centralino non è raggiungibile",
    },
}


@dataclass(frozen=True, slots=True)
class Presence:
    """One presence to send: ``available`` False means ``type="unavailable"``."""

    available: bool
    show: str | None  # None (online), "away", "xa", "dnd"
    status: str


def _text(language: str, key: str, **params: str) -> str:
    table = TEXTS.get(language, TEXTS["en"])
    return table[key].format(**params)


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


class PresenceView:
    """Computes presences from a PbxState; ``name_of(number)`` names a colleague's extension."""

    def __init__(
        self,
        state: PbxState,
        name_of: Callable[[str], str | None],
        mobile_of: Callable[[str], str | None],
    ) -> None:
        self.state = state
        self.name_of = name_of
        self.mobile_of = mobile_of

    def _who(self, number: str | None, name: str | None) -> str | None:
        if not number and not name:
            return None
        name = name or (self.name_of(number) if number else None)
        if name and number and name != number:
            return f"{name} ({number})"
        return name or number

    def _call_of(self, extension: str) -> Call | None:
        """The extension's current call (the most recent one if several)."""
        found: Call | None = None
        for call in self.state.calls.values():
            for channel in call.channels.values():
                if channel.extension == extension or channel.leg_of == extension:
                    if found is None or call.started_at > found.started_at:
                        found = call
                    break
        return found

    def _other_party(self, call: Call, extension: str) -> str | None:
        if call.caller_number == extension:
            other = call.ended_with or call.answered_by or call.callee
            return self._who(other, None)
        return self._who(call.caller_number, call.caller_name)

    def _forward_text(self, extension: str, destination: str, language: str) -> str:
        if destination.startswith("vmu"):
            where = _text(language, "voicemail")
        elif destination == self.mobile_of(extension):
            where = _text(language, "mobile")
        else:
            where = self._who(destination, None) or destination
        return _text(language, "forward", where=where)

    def of_extensions(
        self, extensions: Iterable[str], language: str, pbx_up: bool = True
    ) -> Presence:
        """The presence of a phone, or of a person over all their phones."""
        numbers = list(extensions)
        if not pbx_up:
            return Presence(True, "xa", _text(language, "unknown"))
        lines = [self.state.extensions.get(n) for n in numbers]
        statuses = [line.status if line is not None else "unknown" for line in lines]
        status = min(statuses, key=lambda s: PRECEDENCE.index(s) if s in PRECEDENCE else 4)
        if status in ("busy", "ringing", "onhold"):
            extension = numbers[statuses.index(status)]
            call = self._call_of(extension)
            who = self._other_party(call, extension) if call is not None else None
            if status == "ringing":
                text = (
                    _text(language, "ringing", who=who) if who else _text(language, "ringing_anon")
                )
                return Presence(True, "away", text)
            if status == "onhold":
                return Presence(True, "xa", _text(language, "onhold", who=who or "?"))
            since = _clock(call.answered_at or call.started_at) if call is not None else "?"
            text = (
                _text(language, "busy", who=who, since=since)
                if who
                else _text(language, "busy_anon", since=since)
            )
            return Presence(True, "xa", text)
        if status == "unavailable":
            return Presence(False, None, _text(language, "unregistered"))
        if any(line is not None and line.dnd for line in lines):
            return Presence(True, "dnd", _text(language, "dnd"))
        main = lines[0] if lines else None
        if main is not None and main.forward.get("unconditional"):
            text = self._forward_text(numbers[0], main.forward["unconditional"] or "", language)
            return Presence(True, "away", text)
        return Presence(True, None, _text(language, "available"))

    def of_user(self, user: UserConfig, language: str, pbx_up: bool = True) -> Presence:
        return self.of_extensions(user.extensions, language, pbx_up)
