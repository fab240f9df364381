"""Allow-lists for AMI values: what passes, what is refused, and how the refusal reads."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctibot.pbx import validate as v
from ctibot.pbx.validate import AmiValueError

Validator = Callable[[Any], Any]

ACCEPTED: list[tuple[Validator, object, object]] = [
    # (validator, input, clean value)
    (v.number, "0612345678", "0612345678"),
    (v.number, "+39 06 1234-5678", "+390612345678"),
    (v.number, "(06) 12.34/56", "06123456"),
    (v.number, "*78", "*78"),
    (v.number, "#31#", "#31#"),
    (v.extension, "201", "201"),
    (v.extension, "*78", "*78"),
    (v.extension, "s", "s"),
    (v.extension, "204#", "204#"),
    (v.extension, "+390612345678", "+390612345678"),
    (v.context, "from-internal", "from-internal"),
    (v.context, "ext-local", "ext-local"),
    (v.context, "macro-dial_one.2", "macro-dial_one.2"),
    (v.channel, "PJSIP/201-00000001", "PJSIP/201-00000001"),
    (v.channel, "SIP/201-0000a", "SIP/201-0000a"),
    (v.channel, "Local/201@phones-0000001f;1", "Local/201@phones-0000001f;1"),
    (v.channel, "Local/*203@from-internal", "Local/*203@from-internal"),
    (v.channel, "IAX2/trunk-1234", "IAX2/trunk-1234"),
    (v.channel, "DAHDI/i1/0612345678-5", "DAHDI/i1/0612345678-5"),
    (v.channel, "DAHDI/1-1", "DAHDI/1-1"),
    (v.channel, "PJSIP/201", "PJSIP/201"),
    (v.channel, "SIP/192.168.1.10:5060-0000002a", "SIP/192.168.1.10:5060-0000002a"),
    (v.interface, "Local/203@from-queue/n", "Local/203@from-queue/n"),
    (v.interface, "PJSIP/203", "PJSIP/203"),
    (v.state_interface, "hint:203@ext-local", "hint:203@ext-local"),
    (v.state_interface, "Custom:DND203", "Custom:DND203"),
    (v.state_interface, "PJSIP/203", "PJSIP/203"),
    (v.queue_name, "sales", "sales"),
    (v.queue_name, "401", "401"),
    (v.astdb_family, "DND", "DND"),
    (v.astdb_family, "QPENALTY/sales/agents", "QPENALTY/sales/agents"),
    (v.astdb_key, "203", "203"),
    (v.astdb_value, "vmu203", "vmu203"),
    (v.astdb_value, "", ""),
    (v.astdb_value, "Alice Anders", "Alice Anders"),
    (v.record_data, "custom/welcome.wav,3,60", None),
    (v.record_data, "/var/lib/asterisk/sounds/custom/welcome.wav", None),
    (v.application_data, "Local/201@phones-0000001f;1,qS", None),
    (v.text, "  Pausa pranzo  ", "Pausa pranzo"),
    (v.text, "Niccolò 😀", "Niccolò 😀"),
    (v.filename, "/var/spool/asterisk/monitor/capture-mixmonitor.wav", None),
    (v.filename, "2026/11/25/in-201-0612345678.wav", None),
    (v.filename, "call.WAV", None),
    (v.variable_name, "MIXMONITOR_FILENAME", None),
    (v.variable_name, "_CTI_USER", None),
    (v.timeout_ms, 15000, 15000),
    (v.parking_slot, "701", "701"),
    (v.parking_slot, 701, "701"),
    (v.action_id, "queue_members-4", None),
    (v.action_id, "action/8f1c/1/2", None),
    (v.uniqueid, "1795638298.12", None),
    (v.uniqueid, "NONE", None),
    (v.uniqueid, "pbx1-1795638298.12", None),
    (v.mailbox, "203@default", None),
    (v.mailbox, "203", None),
    (v.caller_id, '"Alice Anders" <201>', '"Alice Anders" <201>'),
    (v.caller_id, "Alice Anders <201>", '"Alice Anders" <201>'),
    (v.caller_id, ("ACME Corp", "0612345678"), '"ACME Corp" <0612345678>'),
    (v.caller_id, "0612345678", "<0612345678>"),
    (v.caller_id, ("Reception", None), '"Reception"'),
    (v.mixmonitor_options, "", None),
    (v.mixmonitor_options, "ab", None),
    (v.mixmonitor_options, "bv(2)W(-1)", None),
    (v.device_state, "NOT_INUSE", None),
    (v.presence_state, "away", "AWAY"),
    (v.event_name, "ADDMEMBER", None),
    (v.username, "cti-ro", None),
    (v.secret, "cti secret!", None),
]


@pytest.mark.parametrize(("validator", "value", "clean"), ACCEPTED)
def test_accepted(validator: Validator, value: object, clean: object) -> None:
    assert validator(value) == (value if clean is None else clean)


REFUSED: list[tuple[Validator, object]] = [
    (v.number, ""),
    (v.number, "12a"),
    (v.number, "0612+34"),
    (v.number, "1" * 33),
    (v.number, "201\r\nAction: Hangup"),
    (v.number, 201),
    (v.extension, "_2XX"),
    (v.extension, "201,1"),
    (v.extension, "201 "),
    (v.extension, "${EXTEN}"),
    (v.context, "from internal"),
    (v.context, "from-internal,s,1"),
    (v.context, ""),
    (v.channel, "/^Local\\/20[14]@phones-.*;2$/"),
    (v.channel, "PJSIP/201&PJSIP/202"),
    (v.channel, "PJSIP/201,qS"),
    (v.channel, "Local/201@phones-0000001f;3"),
    (v.channel, "Local/201@phones;1;1"),
    (v.channel, "Foo/201"),
    (v.channel, "pjsip/201"),
    (v.channel, "PJSIP/"),
    (v.channel, "PJSIP//201"),
    (v.channel, "PJSIP/${SHELL(id)}"),
    (v.channel, "PJSIP/201\x00"),
    (v.channel, "PJSIP/" + "2" * 80),
    (v.interface, "Local/203@from-queue/n;1"),
    (v.state_interface, "hint:203@ext local"),
    (v.state_interface, "hint:203"),
    (v.queue_name, "sales,1"),
    (v.queue_name, "sales queue"),
    (v.astdb_family, "/DND"),
    (v.astdb_family, "DND//x"),
    (v.astdb_key, "203 "),
    (v.astdb_value, "YES\n"),
    (v.astdb_value, "205&PJSIP/999"),
    (v.astdb_value, "205,tT"),
    (v.astdb_value, "${SHELL(id)}"),
    (v.caller_id, '"Alice ${SHELL(id)}" <201>'),
    (v.record_data, "/etc/asterisk/x.wav,3"),
    (v.record_data, "../x.wav"),
    (v.record_data, "x.sh,3"),
    (v.text, "a\rb"),
    (v.text, "a\x85b"),
    (v.text, "a\u2028b"),
    (v.text, "a\u2029b"),
    (v.text, "a\u200bb"),
    (v.text, "\u202eevil"),
    (v.text, "x" * 129),
    (v.text, "   "),
    (v.filename, "../../etc/passwd.wav"),
    (v.filename, "/etc/asterisk/manager.conf"),
    (v.filename, "/var/spool/asterisk/monitor/../../../etc/x.wav"),
    (v.filename, "/var/spool/asterisk/monitor/.hidden.wav"),
    (v.filename, "rec/${CHANNEL}.wav"),
    (v.filename, "rec.sh"),
    (v.filename, "rec"),
    (v.filename, "a//b.wav"),
    (v.filename, "/var/spool/asterisk/monitorX/a.wav"),
    (v.variable_name, "SHELL(id)"),
    (v.variable_name, "1ABC"),
    (v.variable_name, "A B"),
    (v.timeout_ms, True),
    (v.timeout_ms, 0),
    (v.timeout_ms, 999),
    (v.timeout_ms, "15000"),
    (v.timeout_ms, 15000.0),
    (v.parking_slot, "70a"),
    (v.parking_slot, True),
    (v.action_id, "x\r\ny"),
    (v.action_id, "a b"),
    (v.uniqueid, "abc"),
    (v.mailbox, "203@"),
    (v.mailbox, "203@default@x"),
    (v.caller_id, '"Al"ice" <201>'),
    (v.caller_id, '"Alice" <201> <202>'),
    (v.caller_id, '"Alice" <20 1>'),
    (v.caller_id, ("A\nB", "201")),
    (v.caller_id, ""),
    (v.mixmonitor_options, "r(/tmp/x)"),
    (v.mixmonitor_options, "v(9)"),
    (v.mixmonitor_options, "m(201)"),
    (v.device_state, "inuse"),
    (v.presence_state, "bored"),
    (v.event_name, "addmember"),
    (v.username, "cti user"),
    (v.application, "System"),
    (v.application, "AGI"),
    (v.application_data, "x,${SHELL(id)}"),
    (v.application_data, "../../x"),
    (v.cause, 0),
    (v.cause, 128),
    (v.priority, -1),
]


@pytest.mark.parametrize(("validator", "value"), REFUSED)
def test_refused(validator: Validator, value: object) -> None:
    with pytest.raises(AmiValueError):
        validator(value)


def test_dial_number_turns_plus_into_00() -> None:
    assert v.dial_number("+39 06 1234 5678") == "00390612345678"
    assert v.dial_number("0612345678") == "0612345678"
    assert v.dial_number("+1 555 0100", plus_prefix="011") == "01115550100"


def test_text_forbids_what_the_field_gives_a_meaning() -> None:
    assert v.text("Lunch", "reason", forbid="|") == "Lunch"
    message = _message(lambda: v.text("Lunch|EXTRA", "reason", forbid="|"))
    assert message == "reason: '|' is not allowed here; got 'Lunch|EXTRA'"
    message = _message(lambda: v.astdb_value("205&PJSIP/999", "forward"))
    assert message == "forward: '&' is not allowed here; got '205&PJSIP/999'"


def test_filename_other_recordings_dir() -> None:
    assert v.filename("/srv/rec/a.wav", base_dirs=["/srv/rec"]) == "/srv/rec/a.wav"
    with pytest.raises(AmiValueError):
        v.filename("/var/spool/asterisk/monitor/a.wav", base_dirs=["/srv/rec"])


# --- error messages ------------------------------------------------------------------------


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(AmiValueError) as info:
        call()
    return str(info.value)


def test_message_names_the_field_and_what_is_allowed() -> None:
    message = _message(lambda: v.number("12a", "destination"))
    assert message == "destination: digits, * and # (a leading + is allowed); got '12a'"


def test_message_escapes_line_breaks() -> None:
    message = _message(lambda: v.number("201\r\nAction: Hangup"))
    assert message == (
        "number: digits, * and # (a leading + is allowed); got '201\\r\\nAction: Hangup'"
    )
    assert "\r" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("a\x85b", "a\\x85b"),
        ("a\u2028b", "a\\u2028b"),
        ("a\u202eb", "a\\u202eb"),
        ("a\tb", "a\\tb"),
    ],
)
def test_message_shows_invisible_characters_escaped(bad: str, shown: str) -> None:
    message = _message(lambda: v.text(bad, "reason"))
    assert message == f"reason: control or invisible characters are not allowed; got '{shown}'"


def test_show_escapes_backslashes_and_quotes() -> None:
    assert v.show("a\\b'c") == "'a\\\\b\\'c'"


def test_message_truncates_long_values() -> None:
    message = _message(lambda: v.text("x" * 5000, "note"))
    assert message == "note: at most 128 characters; got '" + "x" * 40 + "'… (5000 characters)"


def test_message_never_shows_a_secret() -> None:
    message = _message(lambda: v.secret("hunter2\r\n"))
    assert "hunter2" not in message
    assert message.startswith("secret: ")
    assert "hunter2" not in _message(lambda: v.secret(12345678))


def test_message_for_a_wrong_type() -> None:
    assert _message(lambda: v.channel(None)) == "channel: must be text; got nothing"
    assert _message(lambda: v.channel(201)) == "channel: must be text; got 201"
    assert _message(lambda: v.channel(["PJSIP/201"])) == (
        "channel: must be text; got a value of type list"
    )
    assert _message(lambda: v.timeout_ms(True)) == (
        "timeout_ms: a whole number from 1000 to 3600000; got True"
    )


def test_error_is_a_value_error_with_field() -> None:
    with pytest.raises(ValueError) as info:
        v.queue_name("sales\n")
    assert isinstance(info.value, AmiValueError)
    assert info.value.field == "queue"
    assert "letters" in info.value.expected


VALIDATORS: list[Validator] = [
    v.number,
    v.dial_number,
    v.extension,
    v.context,
    v.parking_lot,
    v.parking_slot,
    v.channel,
    v.interface,
    v.state_interface,
    v.custom_device,
    v.queue_name,
    v.member_name,
    v.astdb_family,
    v.astdb_key,
    v.astdb_value,
    v.caller_id_name,
    v.caller_id,
    v.application,
    v.application_data,
    v.record_data,
    v.variable_name,
    v.variable_value,
    v.filename,
    v.mixmonitor_options,
    v.action_id,
    v.uniqueid,
    v.bridge_id,
    v.event_name,
    v.username,
    v.secret,
    v.challenge,
    v.mailbox_box,
    v.mailbox,
    v.voicemail_folder,
    v.message_id,
    v.device_state,
    v.presence_state,
    v.text,
]

_BAD_IN_MESSAGE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda f: f.__name__)
@settings(max_examples=80, deadline=None)
@given(value=st.one_of(st.text(), st.text(min_size=100, max_size=2000)))
def test_any_text_gives_a_clean_value_or_a_readable_error(validator: Validator, value: str) -> None:
    try:
        clean = validator(value)
    except AmiValueError as err:
        message = str(err)
        assert message.startswith(f"{err.field}: ")
        assert len(message) <= 200
        assert not any(unicodedata.category(ch) in _BAD_IN_MESSAGE for ch in message), message
        return
    assert isinstance(clean, str)
    assert not any(unicodedata.category(ch) in _BAD_IN_MESSAGE for ch in clean)
    assert not clean.startswith(" ")
    assert len(clean) <= 255


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_show_is_printable_and_short(value: str) -> None:
    shown = v.show(value)
    assert len(shown) <= 80
    assert all(ch == " " or ch.isprintable() for ch in shown)


def test_frame_check_refusals() -> None:
    ok = {"Action": "Ping"}
    assert v.frame_check(ok) is ok
    for bad in (
        {"Action": "Ping", "X": "a\r\nb"},
        {"Action": "Ping", "X": "a\nb"},
        {"Action": "Ping", "X": "a\x00"},
        {"Action": "Ping", "X": "\u2028"},
        {"Action": "Ping", "X": " lead"},
        {"Action": "Ping", "X": 1},
        {"Action": "Ping", "Bad Key": "x"},
        {"Action": "Ping", "Key:": "x"},
        {"Action": "Ping", "1Key": "x"},
        {"Action": "Ping", "action": "Hangup"},
        {"Action": "Ping\r\nAction: Hangup"},
        {"Channel": "PJSIP/201"},
        {"Action": ""},
        {"Action": "Originate", "Channel": "PJSIP/201"},
    ):
        with pytest.raises(AmiValueError):
            v.frame_check(bad)
    with pytest.raises(AmiValueError):
        v.frame_check([("Action", "Ping")])  # type: ignore[arg-type]
