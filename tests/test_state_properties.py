"""Property tests: mangled real AMI traffic never breaks the state or its snapshot."""

from __future__ import annotations

import json
import logging
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctibot.pbx.framing import AmiFramer
from ctibot.pbx.layout import LAB_LAYOUT
from ctibot.pbx.state import PbxState, ResyncData
from tests.conftest import capture_bytes

SOURCES = (
    "inbound_call_did",
    "queue_call",
    "park_and_pickup",
    "blind_transfer",
    "mixmonitor",
    "core_show_channels",
    "queue_members",
    "extension_state_list",
    "voicemail_mwi",
    "dnd_and_cf_astdb",
)
# Real messages, less the VarSet / Newexten chatter the state ignores anyway.
POOL = [
    msg
    for name in SOURCES
    for msg in AmiFramer().feed(capture_bytes(name))
    if msg.get("Event") not in ("VarSet", "Newexten")
]
EVENT_NAMES = sorted({str(m.get("Event")) for m in POOL if "Event" in m})

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
    st.sampled_from(
        [
            "",
            "-1",
            "99999999999999999999",
            "1e309",
            "nan",
            "<unknown>",
            "\r\nAction: Hangup\r\n",
            "9" * 100_000,
            "Ω" * 5000,
            "Local/201@phones-00000000;1",
            "1795638118.0",
            "PJSIP/201",
            "Custom:DND201",
        ]
    ),
)


@st.composite
def mangled_streams(draw) -> list[dict]:
    start = draw(st.integers(0, len(POOL) - 1))
    length = draw(st.integers(1, 150))
    stream = [dict(m) for m in POOL[start : start + length]]
    extra = draw(st.lists(st.sampled_from(range(len(POOL))), max_size=20))
    for index in extra:  # real messages out of their place
        stream.insert(draw(st.integers(0, len(stream))), dict(POOL[index]))
    for _ in range(draw(st.integers(0, 12))):
        msg = stream[draw(st.integers(0, len(stream) - 1))]
        key = draw(st.sampled_from(sorted(msg) or ["Event"]))
        op = draw(st.sampled_from(["drop", "hostile", "list", "event", "duplicate"]))
        if op == "drop":
            msg.pop(key, None)
        elif op == "hostile":
            msg[key] = draw(hostile_text)
        elif op == "list":
            msg[key] = [draw(hostile_text), draw(hostile_text)]
        elif op == "event":
            msg["Event"] = draw(st.sampled_from(EVENT_NAMES))
        else:
            stream.append(dict(msg))
    return stream


class ErrorLog(logging.Handler):
    """Collects the errors the state logs (hypothesis cannot reuse pytest's caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> ErrorLog:
        logging.getLogger("ctibot.pbx.state").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("ctibot.pbx.state").removeHandler(self)
        # apply() survives anything, but no handler should have needed that safety net.
        assert [r.getMessage() for r in self.records] == []


def assert_sound(state: PbxState, events: list) -> None:
    assert state.consistency_errors() == []
    json.dumps(state.snapshot())
    json.dumps([e.as_dict() for e in events])


@settings(
    max_examples=int(os.environ.get("CTIBOT_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(stream=mangled_streams())
def test_mangled_traffic_never_raises_nor_corrupts(stream):
    state = PbxState.for_replay(LAB_LAYOUT)
    events = []
    with ErrorLog():
        for msg in stream:
            events.extend(state.apply(msg))
    assert_sound(state, events)


@settings(
    max_examples=int(os.environ.get("CTIBOT_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(stream=mangled_streams(), cut=st.integers(0, 150))
def test_resync_with_mangled_lists_keeps_the_state_sound(stream, cut):
    state = PbxState.for_replay(LAB_LAYOUT)
    events = []
    for msg in stream[:cut]:
        events.extend(state.apply(msg))
    by_event: dict[str, list[dict]] = {}
    for msg in stream[cut:]:
        by_event.setdefault(str(msg.get("Event")), []).append(msg)
    data = ResyncData(
        channels=by_event.get("CoreShowChannel", []) + by_event.get("Newchannel", []),
        extension_states=by_event.get("ExtensionStatus", []),
        device_states=by_event.get("DeviceStateChange", []),
        queue_status=by_event.get("QueueMember", []) + by_event.get("QueueParams", []),
        parked=by_event.get("ParkedCall", []),
        mailboxes={"201": (1, 0), "\x00evil": (-5, 10**20)},
        astdb={"DND/201": "YES", "CF/202": "\r\n205", "CF/": "x", "DND/999/1": "YES"},
    )
    with ErrorLog():
        events.extend(state.resync(data))
        assert_sound(state, events)
        # Resyncing again with the same lists changes nothing.
        assert [type(e).__name__ for e in state.resync(data)] == ["PbxResynced"]


@given(msg=st.dictionaries(st.text(max_size=12), st.one_of(hostile_text, st.lists(hostile_text))))
def test_any_dict_is_survived(msg):
    state = PbxState(LAB_LAYOUT)
    with ErrorLog():
        for event in ("Newchannel", "Hangup", "DialBegin", "QueueMember", "ParkedCall", "Cdr"):
            state.apply({**msg, "Event": event})
        state.apply(msg)
    assert_sound(state, [])
