"""What the virtual JIDs show: XMPP presence (show + status) derived from the PBX state (X1)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ctibot.plugin import (
    Config,
    CurrentCall,
    UserConfig,
    UserPresence,
    VirtualPresence,
    clean_name,
    label,
    translate,
)

#: The presence plugin's name for ``VirtualPresence`` (what tests and benchmarks compare).
Presence = VirtualPresence


def _text(language: str, key: str, **params: str) -> str:
    return translate(f"presence.status.{key}", language, **params)


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def _who(call: CurrentCall) -> str | None:
    if not (clean_name(call.party_name) or call.party):
        return None
    return label(call.party_name, call.party)


def _call_kind(call: CurrentCall, language: str, who: str | None) -> str | None:
    """The text of a call that is not a plain conversation: voicemail, conference, spy."""
    if call.conference is not None:
        return _text(language, "conference", room=call.conference)
    if call.spied is not None:
        return _text(language, "spying", who=who or call.spied)
    if call.state == "voicemail":
        return _text(language, "voicemail_leaving", who=who or call.voicemail or "?")
    return None


class PresenceView:
    """Renders the info plugin's presence (``services["info"].presence_of``) as XMPP presence.

    What a person or a phone is doing is derived once, in the service layer, for
    every surface; this only chooses ``show`` and writes the status text.
    """

    def __init__(self, services: Mapping[str, Any], config: Config | None = None) -> None:
        #: The info plugin's service: presence_of(user), presence_of_extension(extension).
        self.info = services["info"]
        self.config: Config = config if config is not None else self.info.config

    def of_extensions(
        self, extensions: Iterable[str], language: str, pbx_up: bool = True
    ) -> VirtualPresence:
        """The presence of a phone (one extension) or of a person (all of theirs)."""
        if not pbx_up:
            return VirtualPresence(True, "xa", _text(language, "unknown"))
        numbers = tuple(extensions)
        if len(numbers) == 1:
            data = self.info.presence_of_extension(numbers[0])
        else:
            owner = self.config.user_by_extension(numbers[0]) if numbers else None
            data = self.info.presence_of(owner or UserConfig("?", "?", numbers))
        return render(data, language)

    def of_user(self, user: UserConfig, language: str, pbx_up: bool = True) -> VirtualPresence:
        if not pbx_up:
            return VirtualPresence(True, "xa", _text(language, "unknown"))
        return render(self.info.presence_of(user), language)


def render(data: UserPresence, language: str) -> VirtualPresence:
    """show + status text for one presence, in one language."""
    phone = data.phone
    if phone in ("ringing", "busy", "onhold"):
        wanted = "ringing" if phone == "ringing" else None
        call = next(
            (c for c in data.calls if (c.state == "ringing") == (wanted is not None)),
            data.calls[0] if data.calls else None,
        )
        who = _who(call) if call is not None else None
        special = _call_kind(call, language, who) if call is not None else None
        if special is not None:
            return VirtualPresence(True, "xa", special)
        if phone == "ringing":
            key = "ringing_out" if call is not None and call.outgoing else "ringing"
            text = _text(language, key, who=who) if who else _text(language, "ringing_anon")
            return VirtualPresence(True, "away", text)
        if phone == "onhold":
            return VirtualPresence(True, "xa", _text(language, "onhold", who=who or "?"))
        since = _clock(call.since) if call is not None else "?"
        text = (
            _text(language, "busy", who=who, since=since)
            if who
            else _text(language, "busy_anon", since=since)
        )
        if call is not None and call.forwarded_from:
            by = label(call.forwarded_from_name, call.forwarded_from)
            text = _text(language, "forwarded_from", call=text, by=by)
        return VirtualPresence(True, "xa", text)
    if phone == "offline":
        return VirtualPresence(False, None, _text(language, "unregistered"))
    if data.presence == "dnd":
        return VirtualPresence(True, "dnd", _text(language, "dnd"))
    if data.forward:
        if data.presence == "voicemail":
            where = _text(language, "voicemail")
        elif data.presence == "cellphone":
            where = _text(language, "mobile")
        else:
            where = label(data.forward_name, data.forward)
        return VirtualPresence(True, "away", _text(language, "forward", where=where))
    return VirtualPresence(True, None, _text(language, "available"))
