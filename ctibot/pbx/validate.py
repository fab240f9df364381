"""Allow-lists for every value bound for the AMI socket, and the last guard before it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "ASYNC_REQUIRED",
    "CHANNEL_TECHS",
    "DEVICE_STATES",
    "PRESENCE_STATES",
    "AmiValueError",
    "action_id",
    "application",
    "application_data",
    "astdb_family",
    "astdb_key",
    "astdb_value",
    "bridge_id",
    "caller_id",
    "caller_id_name",
    "cause",
    "challenge",
    "channel",
    "context",
    "custom_device",
    "device_state",
    "dial_number",
    "event_name",
    "extension",
    "filename",
    "frame_check",
    "interface",
    "mailbox",
    "mailbox_box",
    "member_name",
    "message_id",
    "mixmonitor_options",
    "number",
    "parking_lot",
    "parking_slot",
    "positive_int",
    "presence_state",
    "priority",
    "queue_name",
    "record_data",
    "secret",
    "show",
    "state_interface",
    "text",
    "timeout_ms",
    "uniqueid",
    "username",
    "variable_name",
    "variable_value",
    "voicemail_folder",
]

_SHOWN_MAX = 40  # characters of a bad value echoed back in an error message
_NAMED_ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def show(value: object) -> str:
    """A bad value as it may appear in a message: escaped, quoted, truncated."""
    if isinstance(value, bool | int | float):
        return repr(value)[:_SHOWN_MAX]
    if not isinstance(value, str):
        return f"a value of type {type(value).__name__}"
    out: list[str] = []
    size = 0
    for n, ch in enumerate(value):
        if ch in "\\'":
            piece = "\\" + ch
        elif ch in _NAMED_ESCAPES:
            piece = _NAMED_ESCAPES[ch]
        elif ch == " " or ch.isprintable():
            piece = ch
        else:
            # unicode_escape gives \x85, \u2028, \U0001f600 … never the raw character.
            piece = ch.encode("unicode_escape").decode("ascii")
        if size + len(piece) > _SHOWN_MAX:
            return f"'{''.join(out)}'… ({len(value)} characters)" if n else "a long value"
        out.append(piece)
        size += len(piece)
    return f"'{''.join(out)}'"


class AmiValueError(ValueError):
    """A value refused before it could reach the AMI; the message is meant for a user.

    ``field`` names the argument, ``expected`` says what is allowed; the bad
    value is shown escaped and truncated (never for secrets).
    """

    def __init__(self, field: str, expected: str, value: object = None, *, hide: bool = False):
        self.field = field
        self.expected = expected
        if hide:
            got = ""
        elif value is None:
            got = "; got nothing"
        else:
            got = f"; got {show(value)}"
        super().__init__(f"{field}: {expected}{got}")


def _str(value: object, field: str, *, hide: bool = False) -> str:
    if not isinstance(value, str):
        raise AmiValueError(field, "must be text", value, hide=hide)
    return value


def _match(
    value: object,
    field: str,
    pattern: re.Pattern[str],
    expected: str,
    max_len: int,
    shown: object = None,
) -> str:
    s = _str(value, field)
    shown = s if shown is None else shown
    if not s:
        raise AmiValueError(field, f"must not be empty ({expected})")
    if len(s) > max_len:
        raise AmiValueError(field, f"at most {max_len} characters", shown)
    if pattern.fullmatch(s) is None:
        raise AmiValueError(field, expected, shown)
    return s


# Characters that end or split a line for some reader on the way (Asterisk, panoramisk,
# Python's splitlines) or that hide what a text really says.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _bad_char(s: str) -> str | None:
    if s.isascii():
        # Fast path: in ASCII only C0 controls and DEL are bad.
        return next((ch for ch in s if ch < " " or ch == "\x7f"), None)
    return next((ch for ch in s if unicodedata.category(ch) in _BAD_CATEGORIES), None)


def text(
    value: object,
    field: str = "text",
    *,
    max_len: int = 128,
    forbid: str = "",
    allow_empty: bool = False,
) -> str:
    """Free text (a pause reason, a caller-ID name, a note): printable Unicode only.

    Surrounding spaces are stripped because Asterisk drops leading blanks of a
    header value anyway; ``forbid`` lists characters with a meaning in the target
    field (``|`` in the queue log, ``,`` in application arguments…).
    """
    s = _str(value, field)
    bad = _bad_char(s)
    if bad is not None:
        raise AmiValueError(field, "control or invisible characters are not allowed", s)
    s = s.strip(" ")
    if not s and not allow_empty:
        raise AmiValueError(field, "must not be empty")
    if len(s) > max_len:
        raise AmiValueError(field, f"at most {max_len} characters", s)
    for ch in forbid:
        if ch in s:
            raise AmiValueError(field, f"{show(ch)} is not allowed here", s)
    return s


# --- numbers and dialplan names ----------------------------------------------------------

_NUMBER_RE = re.compile(r"\+?[0-9*#]+")
_NUMBER_SEPARATORS = str.maketrans("", "", " -./()")
_NUMBER_MAX = 32


def number(value: object, field: str = "number") -> str:
    """A dialable number: digits, ``*``, ``#``, an optional leading ``+``.

    Visual separators people type (spaces, ``-``, ``.``, ``/``, brackets) are
    removed, so ``+39 06 1234-5678`` gives ``+390612345678``.
    """
    raw = _str(value, field)
    return _match(
        raw.translate(_NUMBER_SEPARATORS),
        field,
        _NUMBER_RE,
        "digits, * and # (a leading + is allowed)",
        _NUMBER_MAX,
        raw,
    )


def dial_number(value: object, field: str = "number", *, plus_prefix: str = "00") -> str:
    """A number ready to dial: validated, a leading ``+`` replaced by ``plus_prefix``."""
    s = number(value, field)
    if s.startswith("+"):
        prefix = number(plus_prefix, "plus_prefix") if plus_prefix else ""
        s = prefix + s[1:]
    return s


# No leading "_": in a dialplan that starts a pattern; "." and "!" are wildcards there.
_EXTEN_RE = re.compile(r"\+?[0-9A-Za-z*#][0-9A-Za-z*#-]*")


def extension(value: object, field: str = "extension") -> str:
    """A dialplan extension: ``201``, ``*78``, ``701``, ``s``, ``0612345678``."""
    return _match(
        value, field, _EXTEN_RE, "letters, digits, *, # and - (a leading + is allowed)", 40
    )


_CONTEXT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def context(value: object, field: str = "context") -> str:
    """A dialplan context: ``from-internal``, ``ext-local``."""
    return _match(value, field, _CONTEXT_RE, "letters, digits, _, . and -", 79)


def parking_lot(value: object, field: str = "parkinglot") -> str:
    """A parking lot name (``default``)."""
    return _match(value, field, _CONTEXT_RE, "letters, digits, _, . and -", 79)


_SLOT_RE = re.compile(r"[0-9]+")


def parking_slot(value: object, field: str = "slot") -> str:
    """A parking space (``701``): digits only."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    return _match(value, field, _SLOT_RE, "digits only", 10)


# --- channels, devices, queue interfaces ---------------------------------------------------

#: Channel technologies ctibot may address; anything else is refused.
CHANNEL_TECHS = ("PJSIP", "SIP", "IAX2", "DAHDI", "Local", "Console", "Skinny", "MGCP")
_TECHS = "|".join(CHANNEL_TECHS)
# No "," (ChanSpy and Dial split on it), "&" (Dial's list), "$" "{" (substitution),
# spaces or quotes; ";1"/";2" only as a Local channel's half.
_RES = r"[A-Za-z0-9_.+*#@:-]+"
_CHANNEL_RE = re.compile(rf"(?:{_TECHS})/{_RES}(?:/{_RES})*(?:;[12])?")
_INTERFACE_RE = re.compile(rf"(?:{_TECHS})/{_RES}(?:/{_RES})*")
_CHANNEL_HELP = "a channel such as PJSIP/201 or PJSIP/201-00000001"


def channel(value: object, field: str = "channel") -> str:
    """An exact channel name or a device (never a regex, never a list)."""
    return _match(value, field, _CHANNEL_RE, _CHANNEL_HELP, 80)


def interface(value: object, field: str = "interface") -> str:
    """A queue member interface: ``Local/203@from-queue/n``, ``PJSIP/203``."""
    return _match(
        value,
        field,
        _INTERFACE_RE,
        "an interface such as PJSIP/203 or Local/203@from-queue/n",
        80,
    )


_HINT_RE = re.compile(r"hint:[0-9A-Za-z*#+-]+@[A-Za-z0-9][A-Za-z0-9_.-]*")
_CUSTOM_RE = re.compile(r"Custom:[A-Za-z0-9_.-]+")


def state_interface(value: object, field: str = "state_interface") -> str:
    """What a queue member's state follows: ``hint:203@ext-local``, ``Custom:203`` or a device."""
    s = _str(value, field)
    if len(s) <= 80 and (_HINT_RE.fullmatch(s) or _CUSTOM_RE.fullmatch(s)):
        return s
    try:
        return interface(s, field)
    except AmiValueError:
        raise AmiValueError(
            field, "hint:<extension>@<context>, Custom:<name> or a device such as PJSIP/203", s
        ) from None


def custom_device(value: object, field: str = "device") -> str:
    """A custom device state name, the part after ``Custom:`` (``DND201``)."""
    return _match(value, field, re.compile(r"[A-Za-z0-9_.-]+"), "letters, digits, _, . and -", 64)


_QUEUE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def queue_name(value: object, field: str = "queue") -> str:
    """A queue's Asterisk name: ``sales``, ``401``."""
    return _match(value, field, _QUEUE_RE, "letters, digits, _, . and -", 64)


def member_name(value: object, field: str = "member_name") -> str:
    """A queue member's display name (``|`` is the queue log's separator)."""
    return text(value, field, max_len=80, forbid="|")


# --- AstDB ---------------------------------------------------------------------------------

_DB_RE = re.compile(r"[A-Za-z0-9_.@:+*#-]+(?:/[A-Za-z0-9_.@:+*#-]+)*")


def astdb_family(value: object, field: str = "family") -> str:
    """An AstDB family: ``DND``, ``CF``, ``QPENALTY/sales/agents``."""
    return _match(value, field, _DB_RE, "letters, digits, _ . @ : + * # - separated by /", 128)


def astdb_key(value: object, field: str = "key") -> str:
    """An AstDB key: ``203``."""
    return _match(value, field, _DB_RE, "letters, digits, _ . @ : + * # - separated by /", 128)


#: FreePBX dialplan pastes AstDB values into application arguments (a CF value goes
#: into ``Dial(Local/${DB(CF/201)}@from-internal/n,…)``): substitution happens before
#: the arguments are split, so these characters would add destinations or options.
_DIALPLAN_META = ',&|$(){}[]"\\;`^<>'


def astdb_value(value: object, field: str = "value") -> str:
    """An AstDB value: ``YES``, ``205``, ``vmu203``, a name; may be empty.

    Refuses ``_DIALPLAN_META``: the dialplan may use the value inside an argument list.
    """
    return text(value, field, max_len=255, forbid=_DIALPLAN_META, allow_empty=True)


# --- caller ID -----------------------------------------------------------------------------


def caller_id_name(value: object, field: str = "caller_id_name") -> str:
    """A caller-ID name; quotes and angle brackets would break ``"name" <number>``.

    ``$ { }`` and the backtick are refused too: dialplans print the name into
    other applications' arguments and it has no business looking like an expansion.
    """
    return text(value, field, max_len=80, forbid='"<>\\${}`')


_CALLERID_RE = re.compile(r'\s*(?:"(?P<q>[^"]*)"|(?P<bare>[^"<]*?))\s*(?:<(?P<num>[^>]*)>)?\s*')


def caller_id(value: object, field: str = "caller_id") -> str:
    """A caller ID as Asterisk writes it: ``"Alice Anders" <201>``.

    Takes that string form, a bare number, or a ``(name, number)`` pair
    (either part may be ``None``) and rebuilds it from validated parts.
    """
    if isinstance(value, tuple) and len(value) == 2:
        name, num = value
    else:
        s = _str(value, field)
        if _bad_char(s) is not None:
            raise AmiValueError(field, "control or invisible characters are not allowed", s)
        m = _CALLERID_RE.fullmatch(s)
        if m is None:
            raise AmiValueError(field, 'a caller ID such as "Alice Anders" <201>', s)
        name, num = m["q"] if m["q"] is not None else m["bare"], m["num"]
        if num is None and name and _EXTEN_RE.fullmatch(name):
            name, num = None, name
    name = caller_id_name(name, f"{field} name") if name else None
    num = extension(num, f"{field} number") if num else None
    if name and num:
        return f'"{name}" <{num}>'
    if num:
        return f"<{num}>"
    if name:
        return f'"{name}"'
    raise AmiValueError(field, "a name, a number or both", value)


# --- applications, variables, files ---------------------------------------------------------

#: Applications an Originate may run: nothing that reaches a shell, a script or the dialplan
#: engine with our text (System, AGI, Exec… are absent on purpose).
_APPLICATIONS = frozenset(
    {
        "Answer",
        "ChanSpy",
        "Echo",
        "ExtenSpy",
        "Hangup",
        "Milliwatt",
        "MusicOnHold",
        "Playback",
        "Record",
        "SayDigits",
        "VoiceMail",
        "VoiceMailMain",
        "Wait",
    }
)


def application(value: object, field: str = "application") -> str:
    """A dialplan application from a short allow-list."""
    s = _str(value, field)
    if s not in _APPLICATIONS:
        raise AmiValueError(field, "an allowed application such as Playback, Wait or ChanSpy", s)
    return s


# ";" is there for Local channels' halves (ChanSpy on ``Local/201@phones-0000001f;1``).
_APPDATA_RE = re.compile(r"[A-Za-z0-9 _.,;:@/+*#=-]*")


def application_data(value: object, field: str = "data") -> str:
    """Application arguments: a safe charset, ``,`` separates them; no ``..``."""
    # Asterisk drops a header value's leading blanks: strip them here so we send what we mean.
    s = _str(value, field).strip(" ")
    s = _match(s, field, _APPDATA_RE, "letters, digits, spaces and _ . , ; : @ / + * # = -", 255)
    if ".." in s:
        raise AmiValueError(field, '".." is not allowed', s)
    return s


#: Where ``Record`` may write (announcements recorded by phone), besides relative names.
_SOUND_DIRS = ("/var/lib/asterisk/sounds/custom/", "/var/spool/asterisk/monitor/")


def record_data(value: object, field: str = "data") -> str:
    """Arguments of ``Record``: the file must be a safe recording name (see ``filename``)."""
    s = application_data(value, field)
    file = s.partition(",")[0]
    filename(file, field, base_dirs=_SOUND_DIRS)
    return s


_VARNAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def variable_name(value: object, field: str = "variable") -> str:
    """A channel variable name (no functions: ``SHELL()`` must never be reachable)."""
    return _match(value, field, _VARNAME_RE, "letters, digits and _, not starting with a digit", 80)


def variable_value(value: object, field: str = "variable value") -> str:
    """A channel variable value for Originate (Asterisk splits the list on ``,``)."""
    return text(value, field, max_len=255, forbid=",\"'\\()[]{}$|", allow_empty=True)


_RECORDING_DIRS = ("/var/spool/asterisk/monitor/",)
_SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
_AUDIO_EXTS = frozenset({"wav", "WAV", "gsm", "wav49", "sln", "ulaw", "alaw", "g722", "ogg"})


def filename(
    value: object, field: str = "file", *, base_dirs: Iterable[str] = _RECORDING_DIRS
) -> str:
    """A recording file: relative (``2026/11/25/call-201.wav``) or under a recordings dir.

    Sub-directories are allowed (FreePBX files recordings by date) but never
    ``..``, hidden names or ``$``-expansions; the extension picks a known format.
    """
    s = _str(value, field)
    if not s:
        raise AmiValueError(field, "must not be empty")
    if len(s) > 255:
        raise AmiValueError(field, "at most 255 characters", s)
    rest = s
    if s.startswith("/"):
        for base in base_dirs:
            prefix = base if base.endswith("/") else base + "/"
            if s.startswith(prefix):
                rest = s[len(prefix) :]
                break
        else:
            dirs = ", ".join(base_dirs)
            raise AmiValueError(field, f"a relative name or a file under {dirs}", s)
    segments = rest.split("/")
    for seg in segments:
        if seg in (".", "..") or _SEGMENT_RE.fullmatch(seg) is None:
            raise AmiValueError(
                field, "path parts of letters, digits, _ . + - (no .., no hidden names)", s
            )
    stem, dot, ext = segments[-1].rpartition(".")
    if not dot or not stem or ext not in _AUDIO_EXTS:
        raise AmiValueError(field, f"a name ending in .{', .'.join(sorted(_AUDIO_EXTS))}", s)
    return s


_MIXMON_OPT_RE = re.compile(r"(?:[abpPS]|[vVW]\(-?[0-4]\))*")


def mixmonitor_options(value: object, field: str = "options") -> str:
    """MixMonitor options: flags ``a b p P S`` and volumes ``v(x) V(x) W(x)``, x in -4..4.

    Options that run commands or name other files (``r()``, ``t()``, ``m()``…) are refused.
    """
    s = _str(value, field)
    if len(s) > 32 or _MIXMON_OPT_RE.fullmatch(s) is None:
        raise AmiValueError(field, "flags a, b, p, P, S and v(x), V(x), W(x) with x in -4..4", s)
    return s


# --- integers ------------------------------------------------------------------------------


def positive_int(value: object, field: str, *, minimum: int = 1, maximum: int = 2**31 - 1) -> int:
    """An integer within bounds (a bool is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmiValueError(field, f"a whole number from {minimum} to {maximum}", value)
    if not minimum <= value <= maximum:
        raise AmiValueError(field, f"a whole number from {minimum} to {maximum}", value)
    return value


def timeout_ms(value: object, field: str = "timeout_ms") -> int:
    """A ring timeout in milliseconds: 1 s to 1 h."""
    return positive_int(value, field, minimum=1000, maximum=3_600_000)


def priority(value: object, field: str = "priority") -> int:
    """A dialplan priority number."""
    return positive_int(value, field, minimum=1, maximum=99_999)


def cause(value: object, field: str = "cause") -> int:
    """A Q.850 hangup cause (16 = normal clearing)."""
    return positive_int(value, field, minimum=1, maximum=127)


# --- identifiers ---------------------------------------------------------------------------

_ACTION_ID_RE = re.compile(r"[A-Za-z0-9_.:/-]+")


def action_id(value: object, field: str = "action_id") -> str:
    """An ActionID such as ``queue_members-4`` or panoramisk's ``action/uuid/1/2``."""
    return _match(value, field, _ACTION_ID_RE, "letters, digits and _ . : / -", 128)


_UNIQUEID_RE = re.compile(r"NONE|[A-Za-z0-9_-]*[0-9]+\.[0-9]+")


def uniqueid(value: object, field: str = "uniqueid") -> str:
    """A channel Uniqueid (``1795638298.12``, maybe with a system-name prefix) or ``NONE``."""
    return _match(value, field, _UNIQUEID_RE, "a Uniqueid such as 1795638298.12, or NONE", 150)


_BRIDGE_RE = re.compile(r"[0-9A-Za-z-]+")


def bridge_id(value: object, field: str = "bridge") -> str:
    """A bridge's unique id (a UUID)."""
    return _match(value, field, _BRIDGE_RE, "letters, digits and -", 64)


_EVENT_RE = re.compile(r"[A-Z][A-Z0-9_]*")


def event_name(value: object, field: str = "event") -> str:
    """A queue-log event name: ``ADDMEMBER``, ``PAUSE``, ``CUSTOM_NOTE``."""
    return _match(value, field, _EVENT_RE, "capital letters, digits and _", 40)


_USER_RE = re.compile(r"[A-Za-z0-9_.@-]+")


def username(value: object, field: str = "username") -> str:
    """An AMI user (a ``manager.conf`` section name)."""
    return _match(value, field, _USER_RE, "letters, digits and _ . @ -", 80)


def secret(value: object, field: str = "secret") -> str:
    """An AMI secret: printable, no surrounding spaces; never echoed in errors."""
    s = _str(value, field, hide=True)
    if not s or len(s) > 255 or _bad_char(s) is not None or s != s.strip(" "):
        raise AmiValueError(
            field, "1 to 255 printable characters without surrounding spaces", hide=True
        )
    return s


_CHALLENGE_RE = re.compile(r"[A-Za-z0-9]+")


def challenge(value: object, field: str = "challenge") -> str:
    """The challenge string Asterisk sent for an MD5 login."""
    return _match(value, field, _CHALLENGE_RE, "letters and digits", 64)


_BOX_RE = re.compile(r"[A-Za-z0-9_.-]+")


def mailbox_box(value: object, field: str = "mailbox") -> str:
    """A voicemail box number alone: ``203``."""
    return _match(value, field, _BOX_RE, "letters, digits and _ . -", 40)


def mailbox(value: object, field: str = "mailbox") -> str:
    """A mailbox with its context: ``203@default`` (or ``203`` for the default context)."""
    s = _str(value, field)
    box, at, ctx = s.partition("@")
    try:
        box = mailbox_box(box, field)
        if at:
            ctx = context(ctx, field)
    except AmiValueError:
        raise AmiValueError(field, "a mailbox such as 203@default", s) from None
    return s


_FOLDER_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def voicemail_folder(value: object, field: str = "folder") -> str:
    """A voicemail folder: ``INBOX``, ``Old``, ``Work``…"""
    return _match(value, field, _FOLDER_RE, "letters, digits and _", 32)


_MSGID_RE = re.compile(r"[A-Za-z0-9_.-]+")


def message_id(value: object, field: str = "message_id") -> str:
    """A voicemail message id: ``1795638298-00000000``."""
    return _match(value, field, _MSGID_RE, "letters, digits and _ . -", 64)


#: Device states ``devstate change`` and ``DEVICE_STATE()`` accept.
DEVICE_STATES = (
    "NOT_INUSE",
    "INUSE",
    "BUSY",
    "INVALID",
    "UNAVAILABLE",
    "RINGING",
    "RINGINUSE",
    "ONHOLD",
    "UNKNOWN",
)


def device_state(value: object, field: str = "state") -> str:
    """A device state name, upper case."""
    s = _str(value, field)
    if s not in DEVICE_STATES:
        raise AmiValueError(field, f"one of {', '.join(DEVICE_STATES)}", s)
    return s


#: Presence states of ``CustomPresence:`` (Asterisk's own spelling).
PRESENCE_STATES = ("NOT_SET", "UNAVAILABLE", "AVAILABLE", "AWAY", "XA", "CHAT", "DND")


def presence_state(value: object, field: str = "state") -> str:
    """A presence state name; any case in, upper case out."""
    s = _str(value, field)
    if s.upper() not in PRESENCE_STATES:
        raise AmiValueError(field, f"one of {', '.join(PRESENCE_STATES)}", s)
    return s.upper()


# --- the last guard ------------------------------------------------------------------------

_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

#: Actions panoramisk 1.4 only answers when they carry ``Async: true``: without it,
#: "…successfully queued" raises inside ``data_received`` and the future never resolves.
ASYNC_REQUIRED = frozenset({"Originate"})


def frame_check(action: Mapping[str, object]) -> Mapping[str, object]:
    """Refuse an action that could break the AMI framing; return it unchanged.

    The AMI client calls this right before writing: keys are header names,
    values are text without any line break or control character, ``Action``
    is there, no header appears twice under different case (Asterisk reads
    headers case-insensitively and would take the first), and an Originate
    carries ``Async: true``.
    """
    if not isinstance(action, Mapping):
        raise AmiValueError("action", "must be a mapping of header to value", action)
    seen: set[str] = set()
    for key, value in action.items():
        if not isinstance(key, str) or _KEY_RE.fullmatch(key) is None or len(key) > 64:
            raise AmiValueError("header name", "letters, digits, _ and -", key)
        if key.lower() in seen:
            raise AmiValueError("header name", "each header only once", key)
        seen.add(key.lower())
        if not isinstance(value, str):
            raise AmiValueError(key, "must be text", value)
        if _bad_char(value) is not None:
            raise AmiValueError(key, "control or invisible characters are not allowed", value)
        if value.startswith(" "):
            # Asterisk would drop it: what it reads must be what we meant.
            raise AmiValueError(key, "must not start with a space", value)
        if len(value) > 4096:
            raise AmiValueError(key, "at most 4096 characters", value)
    name = action.get("Action")
    if not isinstance(name, str) or _KEY_RE.fullmatch(name) is None:
        raise AmiValueError("Action", "an action name such as Originate", name)
    if name in ASYNC_REQUIRED and action.get("Async") != "true":
        raise AmiValueError("Async", f"{name} must carry Async: true", action.get("Async"))
    return action
