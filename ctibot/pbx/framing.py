"""Frames the raw AMI byte stream into messages (dicts), bytes first, then text.

Asterisk sends a banner line, then messages of ``Key: value`` lines ending with
a blank line (CRLF CRLF). TCP may split one message across reads or join
several, so framing works on bytes and each complete message is decoded on its
own: a UTF-8 character split across two reads survives (panoramisk decodes per
read and drops it). Garbage, oversized and undecodable messages are skipped or
repaired with a log line; the stream goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

AmiMessage = dict[str, "str | list[str]"]

BANNER_PREFIX = b"Asterisk Call Manager/"
MESSAGE_END = b"\r\n\r\n"
#: A message larger than this is dropped: no real AMI message comes near it,
#: and a peer streaming megabytes without a blank line must not eat memory.
MAX_MESSAGE_BYTES = 256 * 1024


def parse_message(text: str) -> AmiMessage:
    """Parse one framed AMI message (without its blank line) into a dict.

    Keys keep Asterisk's spelling; a key that repeats (``Output``,
    ``ChanVariable``) becomes a list of its values in order.
    """
    message: AmiMessage = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":") and line[:-1].strip():
                key, value = line[:-1], ""
            else:
                continue
        old = message.get(key)
        if old is None:
            message[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            message[key] = [old, value]
    return message


class AmiFramer:
    """Incremental AMI framer: feed bytes, get complete messages.

    ``on_skip(reason, size)`` is called (besides a log line) for every message
    that was dropped, so that tests and counters can see it.
    """

    __slots__ = ("_buffer", "_discarding", "banner", "max_bytes", "on_skip", "skipped")

    def __init__(
        self,
        max_bytes: int = MAX_MESSAGE_BYTES,
        on_skip: Callable[[str, int], None] | None = None,
    ) -> None:
        self._buffer = b""
        self._discarding = False
        self.banner: str | None = None
        self.max_bytes = max_bytes
        self.on_skip = on_skip
        self.skipped = 0

    def reset(self) -> None:
        """Forget everything (a new connection starts a new stream)."""
        self._buffer = b""
        self._discarding = False
        self.banner = None

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Add bytes from the socket; return the messages they complete."""
        buffer = self._buffer + data if self._buffer else data
        if self.banner is None:
            if len(buffer) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(buffer):
                self._buffer = buffer
                return []
            if buffer.startswith(BANNER_PREFIX):
                end = buffer.find(b"\r\n")
                if end < 0:
                    self._buffer = buffer
                    return []
                self.banner = buffer[:end].decode("ascii", "replace")
                buffer = buffer[end + 2 :]
            else:
                self.banner = ""
        messages: list[AmiMessage] = []
        start = 0
        while True:
            end = buffer.find(MESSAGE_END, start)
            if end < 0:
                break
            if self._discarding:
                self._discarding = False
            else:
                block = buffer[start:end]
                if len(block) > self.max_bytes:
                    self._skip("oversized message", len(block))
                else:
                    message = self._decode(block)
                    if message is not None:
                        messages.append(message)
            start = end + 4
        rest = buffer[start:] if start else buffer
        if len(rest) > self.max_bytes:
            # No end in sight: drop what we have and skip up to the next blank line.
            if not self._discarding:
                self._skip("oversized message", len(rest))
            self._discarding = True
            rest = rest[-3:]
        self._buffer = rest
        return messages

    def _decode(self, block: bytes) -> AmiMessage | None:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            # Keep the message (a Hangup lost to a latin-1 caller name would leave
            # a call ringing forever) but mark the bad bytes and say so.
            text = block.decode("utf-8", "replace")
            log.warning("AMI message with invalid UTF-8 (%d bytes): bad bytes replaced", len(block))
        text = text.strip("\r\n")
        if not text:
            return None
        message = parse_message(text)
        if "Event" not in message and "Response" not in message:
            self._skip("not an AMI message", len(block))
            return None
        return message

    def _skip(self, reason: str, size: int) -> None:
        self.skipped += 1
        log.warning("AMI stream: skipped %s (%d bytes)", reason, size)
        if self.on_skip is not None:
            self.on_skip(reason, size)
