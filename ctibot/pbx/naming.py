"""Extension numbers and trunks derived from channel, interface and device names.

Asterisk names the same phone in several ways: a channel ``PJSIP/201-00000001``
(or ``Local/201@phones-0000001f;1`` in the lab), a device ``PJSIP/201``, a queue
interface ``Local/201@from-queue/n``, a hint ``hint:201@ext-local``, a custom
device ``Custom:201``. Everything here is pure string work on untrusted text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import translate

from ctibot.pbx.layout import PbxLayout

#: Channel techs whose resource is the endpoint name (FreePBX: the extension number).
PHONE_TECHS = ("PJSIP/", "SIP/", "IAX2/")
#: Caller IDs Asterisk uses for "nobody", and the ``s`` of dialplan start extensions.
UNKNOWN_NUMBERS = frozenset({"", "<unknown>", "s", "unknown", "<Unknown>"})
MAX_NUMBER = 40
MAX_NAME = 80

_UNIQUE_SUFFIX = re.compile(r"-[0-9a-fA-F]{1,16}(;[12])?$")
_DIAL_NUMBER = re.compile(r"(?:^|[/:])\+?([0-9*#]{2,32})(?:@|$)")


def is_extension_like(text: str) -> bool:
    """Digits only (ASCII: ``"²".isdigit()`` is true), 1 to 15 of them."""
    return 0 < len(text) <= 15 and text.isascii() and text.isdigit()


def clean_text(text: str, limit: int = MAX_NAME) -> str:
    """Printable text only, cut to ``limit``: caller names come from strangers."""
    if len(text) <= limit and text.isprintable():
        return text
    return "".join(ch for ch in text[: limit * 4] if ch.isprintable())[:limit]


def clean_number(text: str) -> str | None:
    """A caller/callee number fit to show and compare, or None for "nobody"."""
    if text in UNKNOWN_NUMBERS:
        return None
    cleaned = clean_text(text.strip(), MAX_NUMBER)
    return cleaned or None


#: The dialplan's mark on a forwarded call's CALLERID(name): ``CF:Bob Brown``.
_FORWARD_TAG = re.compile(r"\s*(CF[BU]?)\s*:\s*", re.IGNORECASE)


def split_forward_tag(name: str) -> tuple[str | None, str]:
    """``"CF:Bob Brown"`` -> ``("CF", "Bob Brown")``; an untagged name -> ``(None, name)``."""
    if ":" not in name[:8]:
        return None, name
    match = _FORWARD_TAG.match(name)
    if match is None:
        return None, name
    return match.group(1).upper(), name[match.end() :]


def device_of_channel(channel: str) -> str:
    """``PJSIP/201-00000001`` -> ``PJSIP/201``; ``Local/201@x-0000001f;1`` -> ``Local/201@x``."""
    match = _UNIQUE_SUFFIX.search(channel)
    return channel[: match.start()] if match else channel


def local_sibling(channel: str) -> str | None:
    """The other half of a Local channel pair (``…;1`` <-> ``…;2``), or None."""
    if channel.startswith("Local/") and len(channel) > 2 and channel[-2] == ";":
        if channel[-1] == "1":
            return channel[:-1] + "2"
        if channel[-1] == "2":
            return channel[:-1] + "1"
    return None


def dialed_number(dial_string: str) -> str | None:
    """The number in a Dial string: ``0612``, ``0612@trunk``, ``trunk/0612``, ``PJSIP/0612@t``."""
    if is_extension_like(dial_string):
        return dial_string
    match = _DIAL_NUMBER.search(dial_string[:200])
    return match.group(1) if match else None


def extension_filter(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A test for extension numbers from digit globs (``2??``, ``3*``) and ranges (``200-299``)."""
    globs: list[str] = []
    ranges: list[tuple[int, int, int, int]] = []
    for pattern in patterns:
        low, dash, high = pattern.partition("-")
        if dash and low.isdigit() and high.isdigit():
            ranges.append((int(low), int(high), len(low), len(high)))
        else:
            globs.append(translate(pattern))
    glob_re = re.compile("|".join(globs)) if globs else None

    def allowed(number: str) -> bool:
        if not is_extension_like(number):
            return False
        if glob_re is not None and glob_re.match(number):
            return True
        value, size = int(number), len(number)
        return any(lo <= value <= hi and a <= size <= b for lo, hi, a, b in ranges)

    return allowed


class ChannelNaming:
    """Maps names to extensions and trunks for one PBX layout (compiled once)."""

    __slots__ = (
        "_allowed",
        "_device_re",
        "_devices",
        "_discovered",
        "_extensions",
        "_hint_suffix",
        "_internal_suffix",
        "_open",
        "_queue_suffix",
        "_trunk_res",
        "hint_context",
        "voicemail_context",
    )

    def __init__(self, layout: PbxLayout) -> None:
        prefix, _, suffix = layout.device_template.partition("{extension}")
        self._device_re = re.compile(re.escape(prefix) + r"([0-9]{1,15})" + re.escape(suffix) + "$")
        # Configured: the users' extensions and the named ones; discovered: what the PBX lists.
        self._extensions = frozenset(layout.extensions) | frozenset(layout.names)
        self._discovered: set[str] = set()
        self._allowed = extension_filter(layout.discover)
        self._open = not layout.strict
        self._devices = dict(layout.devices)
        self.hint_context = layout.hint_context
        self._hint_suffix = "@" + layout.hint_context
        self._queue_suffix = "@" + layout.queue_context
        self._internal_suffix = "@" + layout.internal_context
        self._trunk_res = tuple(
            (trunk.name, re.compile(translate(glob)))
            for trunk in layout.trunks
            for glob in trunk.channels
        )
        self.voicemail_context = layout.voicemail_context

    def accepts(self, number: str) -> bool:
        """Whether ``number`` is an extension ctibot tracks: configured or found on the PBX.

        Before anything is configured or discovered (a bare state), any extension-like
        number is taken, unless the layout is ``strict``.
        """
        if number in self._extensions or number in self._discovered:
            return True
        if self._extensions or self._discovered or not self._open:
            return False
        return is_extension_like(number)

    def is_tracked(self, number: str) -> bool:
        """Configured or discovered (never the anything-goes fallback of :meth:`accepts`)."""
        return number in self._extensions or number in self._discovered

    def tracked(self) -> list[str]:
        """Every configured and discovered extension, sorted."""
        return sorted(self._extensions | self._discovered)

    def discoverable(self, number: str) -> bool:
        """Whether the configuration lets ctibot take ``number`` from the PBX."""
        return self._allowed(number)

    def discover(self, number: str) -> bool:
        """Take ``number`` as an extension the PBX has (if allowed); True if it is new."""
        if number in self._extensions or number in self._discovered:
            return False
        if not self._allowed(number):
            return False
        self._discovered.add(number)
        return True

    def rediscover(self, numbers: Iterable[str]) -> None:
        """The PBX's whole list of extensions (at a resync): what it no longer lists goes."""
        self._discovered = {n for n in numbers if n not in self._extensions and self._allowed(n)}

    def extension_of_hint(self, exten: str, context: str) -> str | None:
        """An ``ExtensionStatus`` of a phone's hint (``201`` in ``ext-local``) -> ``201``."""
        if context == self.hint_context and is_extension_like(exten):
            return exten
        return None

    def extension_of_phone(self, device: str) -> str | None:
        """A device named by the layout's template (``PJSIP/210``) -> ``210``, configured or not."""
        match = self._device_re.match(device)
        if match is None or self.trunk_of_channel(device + "-00000000") is not None:
            return None  # a trunk's endpoint may be named by a number too
        return match.group(1)

    def trunk_of_channel(self, channel: str) -> str | None:
        for name, pattern in self._trunk_res:
            if pattern.match(channel):
                return name
        return None

    def extension_of_device(self, device: str) -> str | None:
        """The extension whose phone ``device`` is (``PJSIP/201``, ``Custom:201``, template)."""
        extra = self._devices.get(device)
        if extra is not None:
            return extra
        match = self._device_re.match(device)
        if match:
            number = match.group(1)
        elif device.startswith(PHONE_TECHS):
            number = device.partition("/")[2]
        elif device.startswith("Custom:"):
            number = device[7:]
        else:
            return None
        return number if self.accepts(number) else None

    def extension_of_local(self, device: str) -> str | None:
        """``Local/203@from-queue`` / ``Local/205@from-internal``: a leg towards an extension."""
        if not device.startswith("Local/"):
            return None
        number, _, rest = device[6:].partition("@")
        if rest.endswith("/n"):
            rest = rest[:-2]
        context = "@" + rest
        if context in (self._queue_suffix, self._internal_suffix) and self.accepts(number):
            return number
        return None

    def extension_of_interface(self, interface: str) -> str | None:
        """A queue member's extension from its Interface or StateInterface."""
        if interface.startswith("hint:"):
            number, _, context = interface[5:].partition("@")
            if ("@" + context) == self._hint_suffix or not context:
                return number if self.accepts(number) else None
            return None
        if interface.endswith("/n"):
            interface = interface[:-2]
        return self.extension_of_local(interface) or self.extension_of_device(interface)

    def extension_of_channel(self, channel: str) -> str | None:
        """The extension whose phone a channel belongs to (not queue or forward legs)."""
        return self.extension_of_device(device_of_channel(channel))

    def dnd_hint_extension(self, device: str) -> str | None:
        """``Custom:DND201`` -> ``201`` (FreePBX's BLF device for DND)."""
        if device.startswith("Custom:DND"):
            number = device[10:]
            return number if self.accepts(number) else None
        return None

    def mailbox_key(self, mailbox: str) -> str:
        """``203@default`` -> ``203`` in the voicemail context, else kept whole."""
        box, _, context = mailbox.partition("@")
        if not context or context == self.voicemail_context:
            return clean_text(box, MAX_NUMBER)
        return clean_text(mailbox, MAX_NUMBER)
