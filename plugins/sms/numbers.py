"""Phone numbers and SMS text: validation to E.164, and GSM-7 / UCS-2 multi-part counting."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: What a typed number may contain besides digits: removed before validating.
_SEPARATORS = re.compile(r"[ \-.()\u00a0]")
_STRICT = re.compile(r"^\+?[0-9]+$")
_NOT_SHOWN = re.compile(r"[^0-9A-Za-z+ \-.()]")

#: The GSM 03.38 default alphabet (one septet each) and its extension table (two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


class NumberError(ValueError):
    """Not a phone number: ``shown`` is the offending input, safe to print."""

    def __init__(self, shown: str) -> None:
        super().__init__(shown)
        self.shown = shown


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How numbers are read: the country of national numbers and the digits allowed."""

    country_code: str = "39"  # national numbers (no + nor 00) are in this country
    national_prefix: str = ""  # dropped from a national number ("0" in France, "" in Italy)
    min_digits: int = 6
    max_digits: int = 15  # E.164's maximum

    def normalize(self, raw: str, *, lenient: bool = False) -> str:
        """The E.164 form (``+393331234567``) of a number, or NumberError.

        Strict (a JID's local part): ``+`` and digits only. Lenient (what a person
        types): spaces, dashes, dots and parentheses are removed first. Letters,
        line breaks, ``&``, ``/``, ``@`` and everything else are refused either way.
        """
        text = _SEPARATORS.sub("", raw) if lenient else raw
        if not _STRICT.match(text) or len(text) > 40:
            raise NumberError(shown(raw))
        if text.startswith("+"):
            digits = text[1:]
        elif text.startswith("00"):
            digits = text[2:]
        else:
            national = text
            if self.national_prefix and national.startswith(self.national_prefix):
                national = national[len(self.national_prefix) :]
            digits = self.country_code + national
            if len(text) < self.min_digits:
                raise NumberError(shown(raw))
        if not (self.min_digits <= len(digits) <= self.max_digits) or digits.startswith("0"):
            raise NumberError(shown(raw))
        return "+" + digits

    def looks_like_number(self, local: str) -> bool:
        """A JID local part meant as a number (even a wrong one): it starts with + or a digit."""
        return local[:1] == "+" or (local[:1].isascii() and local[:1].isdigit())


def shown(raw: str, limit: int = 24) -> str:
    """Hostile input made printable: odd characters become ``?``, long input is cut."""
    text = _NOT_SHOWN.sub("?", raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Segments:
    """How a text travels: its encoding, its length in that encoding's units, its parts."""

    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int

    @property
    def per_part(self) -> int:
        if self.encoding == "gsm7":
            return 160 if self.parts <= 1 else 153
        return 70 if self.parts <= 1 else 67


def segments(text: str) -> Segments:
    """GSM-7 when every character fits it (160, or 153 per part), else UCS-2 (70, or 67)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        parts = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("gsm7", units, parts)
    units = len(text.encode("utf-16-le")) // 2
    parts = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("ucs2", units, parts)
