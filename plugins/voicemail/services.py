"""The voicemail service (F29): my boxes' messages from Asterisk's spool; listen, delete."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ctibot.plugin import (
    BadArgument,
    NotFound,
    PbxRefused,
    PbxUnavailable,
    ServiceBase,
    ServiceError,
    UserConfig,
    clean_name,
    clip,
    label,
)
from ctibot.plugin import actions as act

#: The folders a user sees (Asterisk's INBOX = new, Old = heard).
FOLDERS = ("INBOX", "Old")
#: A message's id is its file name without extension, exactly: msg0000 … msg9999.
MESSAGE_ID = re.compile(r"msg[0-9]{4}")
#: A box is one of the user's extensions (checked against them too).
BOX = re.compile(r"[0-9A-Za-z_+*#-]{1,20}")
#: What the browser is given for each audio format Asterisk may have written.
AUDIO = (("wav", "audio/wav"),)
#: Formats browsers cannot play, converted by sox to 16-bit PCM WAV: wav49 (GSM in WAV), gsm.
CONVERTED = ("WAV", "gsm")
#: Longest a conversion may take (seconds).
SOX_TIMEOUT = 30.0
#: Where a deleted message's files go first (Asterisk's own scratch folder of the box).
SCRATCH = "tmp"
_CALLERID = re.compile(r'^\s*(?:"(?P<quoted>.*)"|(?P<name>[^"<]*?))\s*<(?P<number>[^<>]*)>\s*$')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SpoolUnwritable(ServiceError):
    """The spool could not be changed (read-only, a file where a folder should be…):
    nothing was changed. The web answers 503."""

    key = "voicemail.error.spool_unwritable"
    http_status = 503


class SpoolUnreadable(ServiceError):
    """A message's file is there but cannot be read (permissions). The web answers 503."""

    key = "voicemail.error.spool_unreadable"
    http_status = 503


def move_all(moves: list[tuple[Path, Path]]) -> None:
    """Rename each (source, target); when one fails, the ones done go back and it raises
    SpoolUnwritable (a vanished source: NotFound) — all or nothing."""
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in moves:
            source.rename(target)
            done.append((source, target))
    except OSError as exc:
        for source, target in reversed(done):
            with contextlib.suppress(OSError):
                target.rename(source)
        if isinstance(exc, FileNotFoundError) and not moves[len(done)][0].exists():
            raise NotFound("voicemail.error.no_message") from None
        raise SpoolUnwritable() from None


@dataclass(frozen=True, slots=True)
class VoicemailEntry:
    """One message: where it is, who left it, when, how long."""

    box: str
    folder: str
    id: str
    caller_name: str | None
    caller_number: str | None
    origtime: int | None
    date: str  # what the spool file says (Asterisk's text), shown when origtime is missing
    duration: int

    @property
    def caller(self) -> str:
        return label(self.caller_name, self.caller_number)

    @property
    def new(self) -> bool:
        return self.folder == "INBOX"

    @property
    def key(self) -> str:
        """``<box>/<folder>/<id>``: what the page's URLs carry."""
        return f"{self.box}/{self.folder}/{self.id}"

    def when(self) -> str:
        if self.origtime is None:
            return self.date
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.origtime))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(caller=self.caller, new=self.new, key=self.key, when=self.when())
        return data


def parse_callerid(text: str) -> tuple[str | None, str | None]:
    """``"Name" <number>`` (Asterisk's callerid line) as (name, number), cleaned."""
    text = _CONTROL.sub(" ", text).strip()
    found = _CALLERID.match(text)
    if found:
        name = (found["quoted"] if found["quoted"] is not None else found["name"]).strip()
        number = found["number"].strip()
    else:
        name, number = "", text
    return clean_name(clip(name, 60)) if name else None, clip(number, 40) or None


def read_info(path: Path) -> dict[str, str]:
    """The ``[message]`` section of a ``msgNNNN.txt`` (a broken file gives what it can)."""
    info: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            text = f.read(16384)
    except OSError:
        return info
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith((";", "[")):
            info[key.strip()] = value.strip()
    return info


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


class VoicemailService(ServiceBase):
    """Reads ``<spool>/<context>/<box>/{INBOX,Old}/msgNNNN.{txt,wav}``; a user sees their own
    boxes only (one per extension). After changing files it sends VoicemailRefresh."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.root = Path(ctx.settings.get("spool") or "/var/spool/asterisk/voicemail")
        self.web: Any = None  # the WebApi, once the routes are added (for live updates)
        self._seen: dict[str, set[str]] = {}  # INBOX messages already announced, per box

    @property
    def context(self) -> str:
        return str(self.ctx.settings.get("context") or self.layout.voicemail_context)

    # -- whose boxes ------------------------------------------------------------

    def boxes(self, user: UserConfig) -> tuple[str, ...]:
        """The user's boxes: one per extension (FreePBX's way)."""
        return tuple(e for e in user.extensions if BOX.fullmatch(e))

    def owners(self, box: str) -> list[UserConfig]:
        """The users whose box this is (and who may use voicemail)."""
        return [u for u in self.config.users if box in u.extensions and self.may(u, "voicemail")]

    def _box_dir(self, user: UserConfig, box: str) -> Path:
        self.require(user, "voicemail")
        if not isinstance(box, str) or not BOX.fullmatch(box) or box not in self.boxes(user):
            raise NotFound("voicemail.error.no_box", box=clip(str(box), 20))
        return self.root / self.context / box

    def _folder_dir(self, user: UserConfig, box: str, folder: str) -> Path:
        home = self._box_dir(user, box)
        if folder not in FOLDERS:
            raise BadArgument("voicemail.error.bad_message")
        return home / folder

    def _message_stem(self, user: UserConfig, box: str, folder: str, msg: str) -> Path:
        """The message's path without extension, refused unless it is exactly a message id
        and stays inside the box's folder (no ``..``, no absolute path, no link out)."""
        where = self._folder_dir(user, box, folder)
        if not isinstance(msg, str) or not MESSAGE_ID.fullmatch(msg):
            raise BadArgument("voicemail.error.bad_message")
        stem = where / msg
        inside = where.resolve()
        for candidate in (stem.with_suffix(".txt"), stem.with_suffix(".wav")):
            if candidate.exists() and candidate.resolve().parent != inside:
                raise BadArgument("voicemail.error.bad_message")
        return stem

    # -- reading ------------------------------------------------------------------

    def _entry(self, box: str, folder: str, txt: Path) -> VoicemailEntry:
        info = read_info(txt)
        name, number = parse_callerid(info.get("callerid", ""))
        return VoicemailEntry(
            box=box,
            folder=folder,
            id=txt.stem,
            caller_name=name,
            caller_number=number,
            origtime=_int(info.get("origtime")),
            date=clip(_CONTROL.sub(" ", info.get("origdate", "")), 40),
            duration=max(0, _int(info.get("duration")) or 0),
        )

    def _scan(self, box: str, folder: str) -> list[VoicemailEntry]:
        where = self.root / self.context / box / folder
        if not where.is_dir():
            return []
        found = [
            self._entry(box, folder, txt)
            for txt in where.glob("msg[0-9][0-9][0-9][0-9].txt")
            if MESSAGE_ID.fullmatch(txt.stem) and txt.is_file()
        ]
        return sorted(found, key=lambda e: e.id)

    def messages(self, user: UserConfig, box: str | None = None) -> list[VoicemailEntry]:
        """The messages of the user's boxes (or of one), new first, newest first."""
        self.require(user, "voicemail")
        boxes = self.boxes(user) if box is None else (box,)
        found: list[VoicemailEntry] = []
        for each in boxes:
            self._box_dir(user, each)
            for folder in FOLDERS:
                found += self._scan(each, folder)
        found.sort(key=lambda e: e.id, reverse=True)  # same second: the later number first
        found.sort(key=lambda e: (not e.new, -(e.origtime or 0)))
        return found

    def message(self, user: UserConfig, box: str, folder: str, msg: str) -> VoicemailEntry:
        stem = self._message_stem(user, box, folder, msg)
        txt = stem.with_suffix(".txt")
        if not txt.is_file():
            raise NotFound("voicemail.error.no_message")
        return self._entry(box, folder, txt)

    def audio(self, user: UserConfig, box: str, folder: str, msg: str) -> tuple[Path, str]:
        """The message's audio file and its content type."""
        stem = self._message_stem(user, box, folder, msg)
        for ext, mimetype in AUDIO:
            path = stem.with_suffix("." + ext)
            if path.is_file():
                return path, mimetype
        raise NotFound("voicemail.error.no_message")

    async def playable(self, user: UserConfig, box: str, folder: str, msg: str) -> tuple[Path, str]:
        """The message as a browser plays it: the PCM ``.wav`` as it is, else the wav49
        (``.WAV``) or ``.gsm`` file converted by sox (cached until the file changes)."""
        try:
            return self.audio(user, box, folder, msg)
        except NotFound:
            stem = self._message_stem(user, box, folder, msg)
        source = next(
            (p for ext in CONVERTED if (p := stem.with_suffix("." + ext)).is_file()), None
        )
        if source is None or source.resolve().parent != stem.parent.resolve():
            raise NotFound("voicemail.error.no_message")
        stat = source.stat()
        target = self._cache() / f"{self.context}-{box}-{folder}-{msg}-{stat.st_mtime_ns}.wav"
        if not target.is_file():
            await self._convert(source, target)
        return target, "audio/wav"

    def _cache(self) -> Path:
        folder = self.__dict__.get("_cache_dir")
        if folder is None:
            folder = self.__dict__["_cache_dir"] = Path(tempfile.mkdtemp(prefix="ctibot-vm-"))
        return folder

    async def _convert(self, source: Path, target: Path) -> None:
        sox = shutil.which("sox")
        if sox is None:
            self.ctx.log.warning("voicemail: sox is missing, %s cannot be played", source.name)
            raise NotFound("voicemail.error.no_message")
        partial = target.with_suffix(".part")
        kind = ["-t", "gsm"] if source.suffix == ".gsm" else []
        process = await asyncio.create_subprocess_exec(
            sox,
            *kind,
            str(source),
            "-t",
            "wav",
            "-e",
            "signed-integer",
            "-b",
            "16",
            "-c",
            "1",
            "-r",
            "8000",
            str(partial),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), SOX_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            err = b"timed out"
        if process.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            self.ctx.log.warning(
                "voicemail: sox could not convert %s: %s",
                source.name,
                err.decode(errors="replace").strip()[:200],
            )
            raise NotFound("voicemail.error.no_message")
        partial.replace(target)

    def counts(self, user: UserConfig) -> dict[str, dict[str, int]]:
        """New and old messages per box, from the spool."""
        return {
            box: {"new": len(self._scan(box, "INBOX")), "old": len(self._scan(box, "Old"))}
            for box in self.boxes(user)
        }

    def summary(self, user: UserConfig) -> dict[str, Any]:
        """What the live ``voicemail`` topic carries for a user: counts and the messages."""
        if not self.may(user, "voicemail"):
            return {"new": 0, "boxes": {}, "messages": []}
        counts = self.counts(user)
        return {
            "new": sum(c["new"] for c in counts.values()),
            "boxes": counts,
            "messages": [e.as_dict() for e in self.messages(user)],
        }

    # -- changing -----------------------------------------------------------------

    async def delete(self, user: UserConfig, box: str, folder: str, msg: str) -> VoicemailEntry:
        """Remove a message's files, then ask the PBX to re-read the box (MWI).

        The files first move to the box's scratch folder together (all or nothing: a
        read-only spool changes nothing and says so), then go."""
        entry = self.message(user, box, folder, msg)
        stem = self._message_stem(user, box, folder, msg)
        files = [
            p
            for p in stem.parent.glob(stem.name + ".*")
            if p.parent == stem.parent and p.stem == stem.name and p.is_file()
        ]
        scratch = stem.parent.parent / SCRATCH
        try:
            scratch.mkdir(exist_ok=True)
        except OSError:
            raise SpoolUnwritable() from None
        tag = f"ctibot-deleted-{folder}-{msg}-{time.time_ns()}"
        # The .txt first: once it is gone the PBX no longer counts the message.
        files.sort(key=lambda p: p.suffix != ".txt")
        moves = [(p, scratch / f"{tag}{p.suffix}") for p in files]
        if not moves:
            raise NotFound("voicemail.error.no_message")
        move_all(moves)
        for _, target in moves:
            try:
                target.unlink(missing_ok=True)
            except OSError as exc:  # out of the box already: the PBX no longer sees it
                self.ctx.log.warning("voicemail: %s not removed: %s", target.name, exc)
        await self.refresh(box)
        self.publish_user(user)
        return entry

    async def mark_heard(self, user: UserConfig, box: str, msg: str) -> VoicemailEntry | None:
        """Move a new message to Old, as listening on the phone does; None if not in INBOX."""
        stem = self._message_stem(user, box, "INBOX", msg)
        if not stem.with_suffix(".txt").is_file():
            return None
        old = stem.parent.parent / "Old"
        try:
            old.mkdir(exist_ok=True)
        except OSError:
            raise SpoolUnwritable() from None
        if not old.is_dir():
            raise SpoolUnwritable()
        used = [int(p.stem[3:]) for p in old.glob("msg[0-9][0-9][0-9][0-9].txt")]
        target = old / f"msg{(max(used) + 1) if used else 0:04d}"
        files = [p for p in stem.parent.glob(stem.name + ".*") if p.stem == stem.name]
        files.sort(key=lambda p: p.suffix == ".txt")  # the .txt last: then it counts as Old
        move_all([(p, target.with_suffix(p.suffix)) for p in files])
        await self.refresh(box)
        self.publish_user(user)
        return self._entry(box, "Old", target.with_suffix(".txt"))

    async def refresh(self, box: str) -> None:
        """VoicemailRefresh for the box: the PBX re-reads it and updates the lamps (MWI)."""
        try:
            await self.send(self.build(act.voicemail_refresh, self.context, box))
        except (PbxUnavailable, PbxRefused) as exc:  # the files changed anyway
            self.ctx.log.warning("voicemail: VoicemailRefresh for %s failed: %s", box, exc)

    # -- live ---------------------------------------------------------------------

    def publish_user(self, user: UserConfig) -> None:
        if self.web is not None:
            self.web.publish("voicemail", self.summary(user), users=[user])

    def new_messages(self, box: str) -> list[VoicemailEntry]:
        """INBOX messages of ``box`` not announced before (the first look only learns them)."""
        current = self._scan(box, "INBOX") if BOX.fullmatch(box) else []
        ids = {e.id + "|" + str(e.origtime) for e in current}
        seen = self._seen.get(box)
        self._seen[box] = ids
        if seen is None:
            return []
        return [e for e in current if e.id + "|" + str(e.origtime) not in seen]

    def learn(self) -> None:
        """Remember what every user's boxes hold now (no notice for those at start-up)."""
        for user in self.config.users:
            for box in self.boxes(user):
                self.new_messages(box)
