"""A user with several phones: the softphone PJSIP/91201 counts for extension 201."""

from __future__ import annotations

import pytest

from ctibot.config import ConfigError, parse_config
from ctibot.pbx import events as ev
from ctibot.pbx.layout import PbxLayout
from ctibot.pbx.state import PbxState

LAYOUT = PbxLayout(extensions=("201", "202"), devices={"PJSIP/91201": "201"})


def device_state(device: str, state: str) -> dict[str, str]:
    return {"Event": "DeviceStateChange", "Privilege": "call,all", "Device": device, "State": state}


def test_the_softphone_makes_201_busy_and_idle_again() -> None:
    state = PbxState(LAYOUT, clock=lambda: 1000.0)
    state.apply(device_state("PJSIP/201", "NOT_INUSE"))
    state.apply(device_state("PJSIP/91201", "NOT_INUSE"))
    assert state.extensions["201"].status == "idle"
    events = state.apply(device_state("PJSIP/91201", "INUSE"))
    assert [
        (e.extension, e.status) for e in events if isinstance(e, ev.ExtensionStatusChanged)
    ] == [("201", "busy")]
    assert "91201" not in state.extensions
    state.apply(device_state("PJSIP/91201", "NOT_INUSE"))
    assert state.extensions["201"].status == "idle"
    assert state.naming.extension_of_channel("PJSIP/91201-0000000a") == "201"


def test_devices_come_from_the_users_in_the_config() -> None:
    text = """
[pbx]
secret = "s"
[[users]]
name = "alice"
extensions = ["201", "211"]
devices = ["PJSIP/91201", "PJSIP/92201"]
"""
    layout = parse_config(text, "office.toml").layout()
    assert layout.devices == {"PJSIP/91201": "201", "PJSIP/92201": "201"}
    with pytest.raises(ConfigError, match=r"devices: expected a list of devices"):
        parse_config(text.replace('"PJSIP/92201"', '"PJSIP/92201\\nAction: X"'), "office.toml")
    twice = text + '[[users]]\nname = "bob"\nextensions = ["202"]\ndevices = ["PJSIP/91201"]\n'
    with pytest.raises(ConfigError, match="PJSIP/91201 already belongs to 'alice'"):
        parse_config(twice, "office.toml")
