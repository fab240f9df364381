"""What the virtual JIDs show: XMPP presence (show + status) derived from the PBX state (X1)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from ctibot.config import UserConfig
from ctibot.services import Services
from ctibot.services.results import CurrentCall, UserPresence, clean_name, label

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "available": "Available",
        "ringing": "Ringing: call from {who}",
        "ringing_out": "Ringing: calling {who}",
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
        "ringing_out": "Squilla: chiamata verso {who}",
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


def _who(call: CurrentCall) -> str | None:
    if not (clean_name(call.party_name) or call.party):
        return None
    return label(call.party_name, call.party)


class PresenceView:
    """Renders the service layer's presence (``Services.presence_of``) as XMPP presence.

    What a person or a phone is doing is derived once, in the service layer, for
    every surface; this only chooses ``show`` and writes the status text.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    def of_extensions(
        self, extensions: Iterable[str], language: str, pbx_up: bool = True
    ) -> Presence:
        """The presence of a phone (one extension) or of a person (all of theirs)."""
        if not pbx_up:
            return Presence(True, "xa", _text(language, "unknown"))
        numbers = tuple(extensions)
        if len(numbers) == 1:
            data = self.services.presence_of_extension(numbers[0])
        else:
            owner = self.services.config.user_by_extension(numbers[0]) if numbers else None
            data = self.services.presence_of(owner or UserConfig("?", "?", numbers))
        return render(data, language)

    def of_user(self, user: UserConfig, language: str, pbx_up: bool = True) -> Presence:
        if not pbx_up:
            return Presence(True, "xa", _text(language, "unknown"))
        return render(self.services.presence_of(user), language)


def render(data: UserPresence, language: str) -> Presence:
    """show + status text for one presence, in one language."""
    phone = data.phone
    if phone in ("ringing", "busy", "onhold"):
        wanted = "ringing" if phone == "ringing" else None
        call = next(
            (c for c in data.calls if (c.state == "ringing") == (wanted is not None)),
            data.calls[0] if data.calls else None,
        )
        who = _who(call) if call is not None else None
        if phone == "ringing":
            key = "ringing_out" if call is not None and call.outgoing else "ringing"
            text = _text(language, key, who=who) if who else _text(language, "ringing_anon")
            return Presence(True, "away", text)
        if phone == "onhold":
            return Presence(True, "xa", _text(language, "onhold", who=who or "?"))
        since = _clock(call.since) if call is not None else "?"
        text = (
            _text(language, "busy", who=who, since=since)
            if who
            else _text(language, "busy_anon", since=since)
        )
        return Presence(True, "xa", text)
    if phone == "offline":
        return Presence(False, None, _text(language, "unregistered"))
    if data.presence == "dnd":
        return Presence(True, "dnd", _text(language, "dnd"))
    if data.forward:
        if data.presence == "voicemail":
            where = _text(language, "voicemail")
        elif data.presence == "cellphone":
            where = _text(language, "mobile")
        else:
            where = label(data.forward_name, data.forward)
        return Presence(True, "away", _text(language, "forward", where=where))
    return Presence(True, None, _text(language, "available"))
