"""Announcement audio: tell WAV from MP3 by content, convert to 8 kHz mono WAV with sox."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import wave
from pathlib import Path


class AudioError(Exception):
    """A file that cannot become an announcement; ``key`` names the reason (a message key)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def sniff(data: bytes) -> str | None:
    """``"wav"``, ``"mp3"`` or None, from the first bytes (never from a file name)."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" and len(data) > 10:
        return "mp3"
    # An MPEG audio frame header: 11 sync bits, layer III (bits 01), a real bitrate index.
    if len(data) >= 4 and data[0] == 0xFF and (data[1] & 0xE6) == 0xE2:
        bitrate = data[2] >> 4
        if bitrate not in (0, 15) and (data[2] >> 2) & 3 != 3:
            return "mp3"
    return None


def duration(path: Path) -> float | None:
    """A WAV file's length in seconds (None when it is not a readable WAV)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else None
    except (OSError, EOFError, wave.Error):
        return None


def _write(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


async def convert(
    data: bytes, out: Path, *, sox: str = "sox", timeout: float = 30.0, max_seconds: float = 600
) -> float:
    """Write ``data`` (WAV or MP3) to ``out`` as 8 kHz mono 16-bit WAV; returns its length.

    sox runs in a subprocess awaited by the loop (it never blocks it). Nothing is left
    at ``out`` when anything fails.
    """
    kind = sniff(data)
    if kind is None:
        raise AudioError("offhour.error.not_audio")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, src = tempfile.mkstemp(suffix="." + kind, dir=out.parent, prefix=".upload-")
    tmp_out = out.with_name(f".{out.name}.part.wav")
    try:
        await asyncio.to_thread(_write, fd, data)  # up to the upload cap: off the loop
        try:
            proc = await asyncio.create_subprocess_exec(
                *(sox, "-q", "-t", kind, src, "-r", "8000", "-c", "1", "-b", "16"),
                *("-e", "signed-integer", "-t", "wav", str(tmp_out)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError:
            raise AudioError("offhour.error.no_converter") from None
        try:
            await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise AudioError("offhour.error.bad_audio") from None
        if proc.returncode != 0:
            raise AudioError("offhour.error.bad_audio")
        length = duration(tmp_out)
        if length is None or length <= 0:
            raise AudioError("offhour.error.bad_audio")
        if length > max_seconds:
            raise AudioError("offhour.error.too_long", maximum=int(max_seconds))
        os.replace(tmp_out, out)
        return length
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(src)
        with contextlib.suppress(FileNotFoundError):
            tmp_out.unlink()
