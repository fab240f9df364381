"""The AMI framer: real captures, any TCP split, garbage, huge and non-UTF-8 messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctibot.pbx.framing import AmiFramer, parse_message

CAPTURES = sorted(
    p
    for p in (Path(__file__).parent / "fixtures" / "ami").glob("*.txt")
    if not p.name.endswith(".sent.txt")
)
BANNER = b"Asterisk Call Manager/9.0.0\r\n"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_every_event_of_every_capture_is_framed(capture: Path) -> None:
    data = capture.read_bytes()
    framer = AmiFramer()
    messages = framer.feed(data)
    assert framer.banner == "Asterisk Call Manager/9.0.0"
    assert sum("Event" in m for m in messages) == data.count(b"\r\nEvent: ")
    assert framer.skipped == 0


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_one_byte_at_a_time_gives_the_same_messages(capture: Path) -> None:
    data = capture.read_bytes()
    whole = AmiFramer().feed(data)
    framer = AmiFramer()
    pieces = [m for i in range(len(data)) for m in framer.feed(data[i : i + 1])]
    assert pieces == whole


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=40))
def test_any_split_gives_the_same_messages(cuts: list[int]) -> None:
    data = (CAPTURES[0].parent / "queue_call.txt").read_bytes()
    whole = AmiFramer().feed(data)
    framer, out, pos = AmiFramer(), [], 0
    for cut in cuts:
        out += framer.feed(data[pos : pos + cut])
        pos += cut
    out += framer.feed(data[pos:])
    assert out == whole


def test_a_utf8_character_split_across_reads_survives() -> None:
    message = "Event: Newchannel\r\nCallerIDName: Niccolò Rossi\r\n\r\n".encode()
    cut = message.index("ò".encode()) + 1  # between the two bytes of ò
    framer = AmiFramer()
    assert framer.feed(BANNER + message[:cut]) == []
    assert framer.feed(message[cut:]) == [{"Event": "Newchannel", "CallerIDName": "Niccolò Rossi"}]


def test_garbage_is_skipped_and_the_stream_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    framer = AmiFramer()
    with caplog.at_level(logging.WARNING):
        out = framer.feed(BANNER + b"\x00\xff garbage here\r\n\r\nEvent: Ping\r\n\r\n")
    assert out == [{"Event": "Ping"}]
    assert framer.skipped == 1
    assert "skipped not an AMI message" in caplog.text


def test_a_huge_message_is_skipped_without_eating_memory(caplog: pytest.LogCaptureFixture) -> None:
    framer = AmiFramer()
    framer.feed(BANNER)
    with caplog.at_level(logging.WARNING):
        for _ in range(16):  # 1 MiB without a blank line, in 64 KiB reads
            assert framer.feed(b"X" * 65536) == []
            assert len(framer._buffer) <= framer.max_bytes
        out = framer.feed(b"\r\n\r\nEvent: Hangup\r\nChannel: PJSIP/201-1\r\n\r\n")
    assert out == [{"Event": "Hangup", "Channel": "PJSIP/201-1"}]
    assert framer.skipped == 1
    assert "oversized" in caplog.text


def test_non_utf8_bytes_are_replaced_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    framer = AmiFramer()
    with caplog.at_level(logging.WARNING):
        out = framer.feed(BANNER + b"Event: Newchannel\r\nCallerIDName: Jos\xe9\r\n\r\n")
    assert out == [{"Event": "Newchannel", "CallerIDName": "Jos\ufffd"}]
    assert "invalid UTF-8" in caplog.text


def test_a_truncated_message_waits_for_its_end() -> None:
    framer = AmiFramer()
    assert framer.feed(BANNER + b"Event: Hangup\r\nChannel: PJ") == []
    assert framer.feed(b"SIP/201-1\r\n\r\n") == [{"Event": "Hangup", "Channel": "PJSIP/201-1"}]


def test_repeated_keys_become_lists_and_empty_values_stay() -> None:
    msg = parse_message("Response: Success\r\nOutput: a\r\nOutput: b\r\nSystemName: \r\nX:")
    assert msg == {"Response": "Success", "Output": ["a", "b"], "SystemName": "", "X": ""}
