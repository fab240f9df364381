"""The demo PBX's night service: inbound routes read ctibot's off-hour rules from the AstDB.

What the README's sample dialplan does, step by step (Newexten events): the route
reads ``CTIBOT_OFFHOUR/<did>/mode`` (and ``start``/``end`` against ``${EPOCH}``);
when the rule applies it answers, plays the announcement, then hangs up, goes to
VoiceMail or dials the redirect target in ``from-internal``. ``Record`` (an
announcement recorded by phone) writes a real 8 kHz WAV into the sounds directory.
"""

from __future__ import annotations

import math
import re
import struct
import wave
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctibot.demo.channels import Channel
    from ctibot.demo.dialplan import Dialplan

FAMILY = "CTIBOT_OFFHOUR"
#: The PBX's sounds directory (where Playback finds announcements, Record writes them).
SoundsDir = Path | None
#: How long an announcement plays when its file is not there to measure.
DEFAULT_ANNOUNCEMENT = 3.0
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def _inside(base: Path, name: str) -> Path | None:
    """``base/name`` when ``name`` is a plain relative path (no ``..``, no hidden parts)."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(_SAFE.fullmatch(p) is None for p in parts):
        return None
    return base.joinpath(*parts)


def sound_length(base: Path | None, name: str) -> float:
    """The length of ``name`` (a Playback name, no extension) in the sounds directory."""
    path = _inside(base, name + ".wav") if base is not None else None
    if path is None or not path.is_file():
        return DEFAULT_ANNOUNCEMENT
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / (w.getframerate() or 8000)
    except (OSError, EOFError, wave.Error):
        return DEFAULT_ANNOUNCEMENT


def applies(mode: str | None, start: str | None, end: str | None, now: float) -> bool:
    """The dialplan's test: ``always``, or ``between`` with ``start <= ${EPOCH} < end``."""
    if mode == "always":
        return True
    if mode != "between":
        return False
    try:
        return int(start or "") <= now < int(end or "")
    except ValueError:
        return False


async def night_service(dp: Dialplan, ch: Channel, did: str) -> bool:
    """Apply the route's off-hour rule; False when it does not apply (normal routing)."""
    e, db = dp.e, dp.office.astdb
    steps = e.steps
    family = f"{FAMILY}/{did}"
    mode = db.get(family, "mode")
    if mode is None:
        return False  # no rule published for this route: the route as configured
    steps.at(ch, 1, "Set", f"OFFHOUR=${{DB({family}/mode)}}")
    steps.var(ch, "OFFHOUR", mode or "")
    now = e.clock.wall()
    on = applies(mode, db.get(family, "start"), db.get(family, "end"), now)
    steps.at(ch, 2, "GotoIf", f"$[{int(on)}]?offhour,{did},1")
    if not on:
        return False
    steps.at(ch, 1, "Answer", context="offhour", exten=did)
    dp.answer_caller(ch)
    announcement = db.get(family, "announcement") or ""
    if announcement and _inside(Path("."), announcement) is not None:
        ch.app, ch.appdata = "Playback", announcement
        steps.at(ch, 2, "Playback", announcement)
        await e.clock.sleep(sound_length(dp.sounds_dir, announcement))
        if ch.dead:
            return True
        steps.playback_done(ch)
    action, target = db.get(family, "action") or "hangup", db.get(family, "target") or ""
    if action == "voicemail" and target in dp.office.mailboxes:
        ch.priority = 3
        await dp.voicemail(ch, target, "u")
    elif action == "redirect" and target and _SAFE.fullmatch(target):
        steps.at(ch, 3, "Goto", f"from-internal,{target},1")
        ch.context, ch.exten = "from-internal", target
        await dp.internal(ch, target)
    else:
        steps.at(ch, 3, "Hangup")
        e.hangup(ch, 16)
    return True


def write_recording(path: Path, seconds: float) -> None:
    """What the caller said, as 8 kHz mono 16-bit WAV (a quiet 440 Hz tone)."""
    frames = max(1, int(min(seconds, 600) * 8000))
    tone = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(800)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        full, rest = divmod(frames, 800)
        w.writeframes(tone * full + tone[: rest * 2])


async def record(dp: Dialplan, ch: Channel, data: str) -> None:
    """``Record(file.wav,silence,maxduration,options)``: until hangup or the maximum."""
    e = dp.e
    args = data.split(",")
    name = args[0]
    try:
        maximum = float(args[2]) if len(args) > 2 and args[2] else 600.0
    except ValueError:
        maximum = 600.0
    base = dp.sounds_dir
    path = _inside(base, name) if base is not None else None
    started = e.clock.now()
    written = False

    def keep(_ch: Channel) -> None:
        nonlocal written
        if path is not None and not written:
            written = True
            write_recording(path, e.clock.now() - started)

    ch.hooks.append(keep)
    await e.clock.sleep(maximum if maximum > 0 else 600.0)
    if not ch.dead:
        keep(ch)
        e.steps.var(ch, "RECORD_STATUS", "TIMEOUT")
