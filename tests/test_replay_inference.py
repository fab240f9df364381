"""`ctibot replay FILE` without a configuration: the layout comes from what the capture shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctibot.cli import main
from ctibot.pbx.replay import infer_from_bytes, replay_capture

CAPTURES = Path(__file__).parent / "fixtures" / "ami"


def replay(capsys: pytest.CaptureFixture[str], name: str, *options: str) -> tuple[dict, str]:
    assert main(["replay", str(CAPTURES / f"{name}.txt"), *options]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_an_inbound_call_is_inbound_without_a_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, err = replay(capsys, "inbound_call_did")
    (call,) = state["recent_calls"]
    assert call["direction"] == "inbound"
    assert (call["from"], call["to"], call["answered_by"]) == ("0612345678", "202", "202")
    assert sorted(state["extensions"]) == ["202"]
    assert err.count("\n") == 1 and "inferred from the capture" in err
    assert "phones Local/{extension}@phones" in err and "trunks from-pstn" in err


def test_outbound_numbers_of_the_load_test_are_not_extensions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, _ = replay(capsys, "loadtest_50_calls")
    assert state["extensions"] == {}
    calls = state["recent_calls"]
    assert calls and all(c["direction"] == "outbound" for c in calls)
    assert all(c["to"].startswith("06") for c in calls)
    assert all(c["from"] != c["to"] for c in calls)


@pytest.mark.parametrize(
    "name",
    [
        "inbound_call_did",
        "queue_call",
        "core_show_channels",
        "originate_answer_hangup",
        "blind_transfer",
        "conference",
        "park_and_pickup",
        "loadtest_50_calls",
    ],
)
def test_the_inferred_layout_gives_the_lab_layouts_calls(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inferred, _ = replay(capsys, name)
    lab, _ = replay(capsys, name, "--lab")

    def calls(state: dict) -> list[tuple]:
        return [(c["from"], c["to"], c["direction"]) for c in state["recent_calls"]]

    assert calls(inferred) == calls(lab)


def test_a_capture_that_shows_no_phones_says_a_configuration_is_needed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, err = replay(capsys, "login_and_fullybooted")
    assert err.strip() == (
        "ctibot replay: no configuration, and the capture shows no phones' hints or trunks: "
        "call directions need --config (or --lab for the test captures)"
    )
    assert not infer_from_bytes((CAPTURES / "queue_members.txt").read_bytes()).directions


def test_field_phones_and_trunks_are_told_apart() -> None:
    # A FreePBX-like capture: PJSIP phones with hints, a PJSIP trunk with a name.
    def event(**fields: str) -> bytes:
        return b"".join(f"{k}: {v}\r\n".encode() for k, v in fields.items()) + b"\r\n"

    data = b"Asterisk Call Manager/9.0.0\r\n" + b"".join(
        [
            event(Event="ExtensionStatus", Exten="201", Context="ext-local", Status="0"),
            event(Event="ExtensionStatus", Exten="202", Context="ext-local", Status="0"),
            event(
                Event="Newchannel",
                Channel="PJSIP/201-00000001",
                ChannelState="0",
                CallerIDNum="201",
                Context="from-internal",
                Exten="0612345678",
                Uniqueid="1700000000.1",
                Linkedid="1700000000.1",
            ),
            event(
                Event="Newchannel",
                Channel="PJSIP/voip-a-00000002",
                ChannelState="0",
                CallerIDNum="0612345678",
                Context="from-trunk",
                Exten="0612345678",
                Uniqueid="1700000000.2",
                Linkedid="1700000000.1",
            ),
        ]
    )
    inferred = infer_from_bytes(data)
    assert inferred.layout.extensions == ("201", "202")
    assert inferred.layout.device_template == "PJSIP/{extension}"
    assert [(t.name, t.channels) for t in inferred.layout.trunks] == [
        ("voip-a", ("PJSIP/voip-a-*",))
    ]
    (call,) = replay_capture(data)["calls"]
    assert (call["from"], call["direction"]) == ("201", "outbound")
