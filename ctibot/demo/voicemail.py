"""The demo PBX's voicemail spool: boxes, messages, MWI counts."""

from __future__ import annotations

import math
import wave
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(slots=True)
class VoicemailMessage:
    """One message of a box: its folder, caller, date, length and spool id."""

    id: str
    folder: str  # INBOX or Old
    callerid: str
    date: str
    duration: int


@dataclass(slots=True)
class Mailbox:
    """A voicemail box ``box@context``."""

    box: str
    context: str
    fullname: str
    messages: list[VoicemailMessage] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(1 for m in self.messages if m.folder == "INBOX")

    @property
    def old(self) -> int:
        return sum(1 for m in self.messages if m.folder == "Old")

    def remove(self, folder: str, msg_id: str) -> bool:
        for m in self.messages:
            if m.folder == folder and m.id == msg_id:
                self.messages.remove(m)
                return True
        return False


#: Field values of VoicemailUserEntry / VoicemailUserDetail after the box identity,
#: as the lab's voicemail.conf produced them (order from the capture).
def user_fields(mb: Mailbox) -> list[tuple[str, object]]:
    return [
        ("VMContext", mb.context),
        ("VoiceMailbox", mb.box),
        ("Fullname", mb.fullname),
        ("Email", ""),
        ("Pager", ""),
        ("ServerEmail", "asterisk@localhost"),
        ("FromString", ""),
        ("MailCommand", "/bin/true"),
        ("Language", ""),
        ("TimeZone", ""),
        ("Callback", ""),
        ("Dialout", ""),
        ("UniqueID", ""),
        ("ExitContext", ""),
        ("SayDurationMinimum", 2),
        ("SayEnvelope", "Yes"),
        ("SayCID", "No"),
        ("AttachMessage", "No"),
        ("AttachmentFormat", ""),
        ("DeleteMessage", "No"),
        ("VolumeGain", "0.00"),
        ("CanReview", "No"),
        ("CanMarkUrgent", "Yes"),
        ("CallOperator", "No"),
        ("MaxMessageCount", 100),
        ("MaxMessageLength", 120),
        ("NewMessageCount", mb.new),
        ("OldMessageCount", mb.old),
    ]


# -- the spool on disk: Asterisk's layout, real WAV files ------------------------------------

#: Sample rate of the messages the demo records (Asterisk's ``wav`` format: 8 kHz mono 16 bit).
RATE = 8000
#: The longest audio the demo writes for one message (seconds); the .txt keeps the real length.
MAX_AUDIO = 30


def box_dir(root: Path, context: str, box: str) -> Path:
    """``<spool>/<context>/<box>``."""
    return root / context / box


def voice_like(seconds: float, seed: int = 0) -> bytes:
    """16-bit PCM samples that sound like someone talking: voiced syllables and pauses."""
    n = max(1, int(seconds * RATE))
    out = array("h", bytes(2 * n))
    base = 110.0 + 25.0 * (seed % 5)  # the "voice"'s pitch
    for i in range(n):
        t = i / RATE
        syllable = (t * 3.2) % 1.0  # about three syllables a second
        envelope = math.sin(math.pi * syllable / 0.7) if syllable < 0.7 else 0.0
        pitch = base * (1.0 + 0.08 * math.sin(2 * math.pi * 0.5 * t))
        phase = 2 * math.pi * pitch * t
        value = (
            0.6 * math.sin(phase)
            + 0.3 * math.sin(2 * phase)
            + 0.15 * math.sin(3 * phase)
            + 0.08 * math.sin(7 * phase)
        )
        out[i] = int(9000 * envelope * value)
    return out.tobytes()


def write_wav(path: Path, seconds: float, seed: int = 0) -> None:
    """A mono 8 kHz 16-bit WAV file of ``seconds`` of voice-like sound."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(voice_like(seconds, seed))


def _numbers(folder: Path) -> list[int]:
    found = []
    for each in folder.glob("msg[0-9][0-9][0-9][0-9].txt"):
        found.append(int(each.stem[3:]))
    return sorted(found)


def store_message(root: Path, mb: Mailbox, msg: VoicemailMessage, wall: float) -> Path:
    """Write ``msg`` into ``mb``'s INBOX as Asterisk does: ``msgNNNN.wav`` + ``msgNNNN.txt``.

    Returns the message's path without extension. The number is the next free one.
    """
    folder = box_dir(root, mb.context, mb.box) / "INBOX"
    folder.mkdir(parents=True, exist_ok=True)
    for other in ("Old", "tmp"):
        (folder.parent / other).mkdir(exist_ok=True)
    used = _numbers(folder)
    number = used[-1] + 1 if used else 0
    stem = folder / f"msg{number:04d}"
    write_wav(stem.with_suffix(".wav"), min(msg.duration, MAX_AUDIO), seed=number)
    cid = msg.callerid.replace("\n", " ").replace("\r", " ")
    stem.with_suffix(".txt").write_text(
        ";\n; Message Information file\n;\n[message]\n"
        f"origmailbox={mb.box}\ncontext=macro-vm\nmacrocontext=ext-local\n"
        f"exten=s-NOANSWER\nrdnis={mb.box}\npriority=2\ncallerchan=\n"
        f"callerid={cid}\norigdate={msg.date}\norigtime={int(wall)}\n"
        f"category=\nmsg_id={msg.id}\nflag=\nduration={msg.duration}\n",
        encoding="utf-8",
    )
    return stem


def _read_info(path: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return info
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith((";", "[")):
            info[key.strip()] = value.strip()
    return info


def rescan(root: Path, mb: Mailbox) -> bool:
    """Make ``mb`` what its folder holds (VoicemailRefresh): returns whether it changed."""
    home = box_dir(root, mb.context, mb.box)
    found: list[VoicemailMessage] = []
    for folder in ("INBOX", "Old"):
        where = home / folder
        for number in _numbers(where) if where.is_dir() else []:
            info = _read_info(where / f"msg{number:04d}.txt")
            try:
                duration = int(info.get("duration", "0") or 0)
            except ValueError:
                duration = 0
            found.append(
                VoicemailMessage(
                    info.get("msg_id") or f"{folder}-{number}",
                    folder,
                    info.get("callerid", ""),
                    info.get("origdate", ""),
                    duration,
                )
            )
    before = [(m.id, m.folder) for m in mb.messages]
    mb.messages[:] = found
    return before != [(m.id, m.folder) for m in found]


#: Who leaves the messages left on demand (``ctibot demo``'s console: ``v WHO``).
CALLERS = (
    ('"ACME Corp" <0612345678>', 6),
    ('"Initech" <0698765432>', 4),
    ('"Globex" <0655501234>', 9),
    ('"Umbrella Srl" <0233344455>', 5),
)
_next_caller = [0]


def customer_message(pbx: Any, box: str) -> str | None:
    """A customer leaves ``box`` a message (as if they had called and nobody answered).

    Returns who left it, None when there is no such box."""
    if box not in pbx.office.mailboxes:
        return None
    callerid, seconds = CALLERS[_next_caller[0] % len(CALLERS)]
    _next_caller[0] += 1
    pbx.leave_voicemail(box, callerid, seconds)
    return callerid


def remove_files(root: Path, mb: Mailbox, folder: str, msg_id: str) -> int:
    """VoicemailRemove on disk: the files of the message whose ``msg_id`` this is."""
    if folder not in ("INBOX", "Old"):
        return 0
    where = box_dir(root, mb.context, mb.box) / folder
    removed = 0
    for number in _numbers(where) if where.is_dir() else []:
        stem = where / f"msg{number:04d}"
        if _read_info(stem.with_suffix(".txt")).get("msg_id") != msg_id:
            continue
        for path in where.glob(stem.name + ".*"):
            if path.stem == stem.name:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
