"""Extensions come from the PBX: phones no user owns get tracked, with their DND and forwards."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ctibot.cli import main
from ctibot.config import ConfigError, PbxConfig, parse_config
from ctibot.demo.office import Office, User
from ctibot.demo.server import DemoPbx
from ctibot.pbx import events as ev
from ctibot.pbx import sync
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.errors import AmiError
from ctibot.pbx.layout import PbxLayout, TrunkSpec
from ctibot.pbx.naming import extension_filter
from ctibot.pbx.state import PbxState, ResyncData

from harness import SCALE, Harness

LAYOUT = PbxLayout(extensions=("201", "202"))


def hint(exten: str, status: str = "0", context: str = "ext-local") -> dict[str, str]:
    return {
        "Event": "ExtensionStatus",
        "Exten": exten,
        "Context": context,
        "Hint": f"PJSIP/{exten}&Custom:DND{exten}",
        "Status": status,
    }


def test_a_phone_no_user_owns_is_tracked_with_its_dnd_and_forwards() -> None:
    state = PbxState(LAYOUT)
    state.resync(
        ResyncData(
            extension_states=[
                hint("201"),
                hint("202"),
                hint("210"),
                hint("*76210", context="app-dnd-hints"),
                hint("5550100", context="from-pstn"),  # not a phone's hint
            ],
            device_states=[{"Event": "DeviceStateChange", "Device": "PJSIP/211", "State": "INUSE"}],
            astdb={"DND/210": "YES", "CF/211": "0612345678", "CF/299": "0611111111"},
        )
    )
    extensions = state.snapshot()["extensions"]
    assert sorted(extensions) == ["201", "202", "210", "211"]
    assert extensions["210"]["dnd"] is True
    assert extensions["210"]["status"] == "idle"
    assert extensions["211"]["forward"]["unconditional"] == "0612345678"
    assert extensions["211"]["status"] == "busy"
    assert state.naming.tracked() == ["201", "202", "210", "211"]
    assert not state.naming.accepts("299")  # in AstDB, but not a phone of the PBX
    assert not state.naming.accepts("5550100")


def test_a_trunk_endpoint_named_by_a_number_is_no_phone() -> None:
    layout = replace(LAYOUT, trunks=(TrunkSpec("carrier", ("PJSIP/5550100-*",)),))
    state = PbxState(layout)
    devices = [
        {"Event": "DeviceStateChange", "Device": d, "State": "NOT_INUSE"}
        for d in ("PJSIP/5550100", "PJSIP/213")
    ]
    state.resync(ResyncData(extension_states=[hint("201")], device_states=devices))
    assert state.naming.tracked() == ["201", "202", "213"]


def test_a_phone_removed_from_the_pbx_goes_at_the_next_resync() -> None:
    state = PbxState(LAYOUT)
    state.resync(ResyncData(extension_states=[hint("201"), hint("210")]))
    assert "210" in state.extensions
    state.resync(ResyncData(extension_states=[hint("201")]))
    assert "210" not in state.extensions and "202" in state.extensions
    assert not state.naming.is_tracked("210")


def test_a_hint_that_appears_while_connected_is_taken_at_once() -> None:
    state = PbxState(LAYOUT)
    state.resync(ResyncData(extension_states=[hint("201")]))
    events = state.apply(hint("212", status="8"))
    assert [
        (e.extension, e.status) for e in events if isinstance(e, ev.ExtensionStatusChanged)
    ] == [("212", "ringing")]


def test_the_configuration_restricts_and_names_discovered_extensions() -> None:
    layout = replace(LAYOUT, discover=("21?", "300-310"), names={"299": "Fax"})
    state = PbxState(layout)
    state.resync(
        ResyncData(extension_states=[hint(n) for n in ("201", "210", "220", "305", "3050", "311")])
    )
    assert sorted(state.extensions) == ["201", "202", "210", "299", "305"]
    nothing = PbxState(replace(LAYOUT, discover=()))
    nothing.resync(ResyncData(extension_states=[hint("201"), hint("210")]))
    assert sorted(nothing.extensions) == ["201", "202"]


def test_extension_filters() -> None:
    allowed = extension_filter(["2??", "1000-1099", "5*"])
    assert [
        n for n in ("201", "2010", "1050", "999", "1100", "5", "59", "x5", "") if allowed(n)
    ] == [
        "201",
        "1050",
        "5",
        "59",
    ]
    assert not extension_filter([])("201")
    assert extension_filter(["*"])("123456789012345")
    assert not extension_filter(["*"])("1234567890123456")  # longer than E.164


CONFIG = """
[pbx]
secret = "s"
{pbx}

[[users]]
name = "alice"
extensions = ["201"]
"""


def test_config_extensions_and_names() -> None:
    config = parse_config(
        CONFIG.format(pbx='extensions = ["2??", "300-399"]\n[pbx.names]\n"210" = "Meeting room"')
    )
    assert config.pbx.extensions == ("2??", "300-399")
    layout = config.layout()
    assert layout.discover == ("2??", "300-399")
    assert layout.names == {"210": "Meeting room"}
    assert parse_config(CONFIG.format(pbx="")).layout().discover == ("*",)
    assert config.extension_name("210") == "Meeting room"
    assert config.extension_name("201") == "alice"  # the user's full name (here their login)
    assert config.extension_name("299") is None
    assert PbxConfig().astdb_poll <= 10


@pytest.mark.parametrize(
    ("pbx", "message"),
    [
        ('extensions = "2??"', "[pbx].extensions: expected extension numbers"),
        ('extensions = ["2x?"]', "[pbx].extensions: expected extension numbers"),
        ('extensions = ["299-200"]', "[pbx].extensions: expected ranges from low to high"),
        ('names = "x"', "[pbx].names: expected a table of names"),
        ('[pbx.names]\n"21a" = "Fax"', "[pbx.names].21a: expected an extension number"),
        ('[pbx.names]\n"210" = ""', "[pbx.names].210: expected the extension's name"),
        ('[pbx.names]\n"210" = 3', "[pbx.names].210: expected the extension's name"),
        ('[pbx.names]\n"201" = "Desk"', "[pbx.names].201: 201 belongs to [[users]] 'alice'"),
    ],
)
def test_config_errors_name_the_file_key_and_expectation(pbx: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG.format(pbx=pbx), "office.toml")
    assert str(info.value).startswith("office.toml: "), info.value
    assert message in str(info.value), info.value


# -- against the demo PBX over TCP ------------------------------------------------------


def meeting_room_office() -> Office:
    office = Office()
    office.users["210"] = User("210", "Meeting room")
    return office


def client_for(pbx: DemoPbx, extensions: tuple[str, ...], **overrides: Any) -> Harness:
    """A ctibot AMI client configured with only ``extensions`` (the PBX has more)."""
    h = Harness(pbx, **overrides)
    h.state = PbxState(replace(pbx.office.layout(), extensions=extensions))
    h.client = AmiClient(h.config, h.state, h.bus, jitter=lambda: 0.5)
    return h


async def test_the_demo_pbx_phones_nobody_configured_are_tracked() -> None:
    async with DemoPbx(meeting_room_office(), time_scale=SCALE) as pbx:
        pbx.set_dnd("210", True)
        pbx.set_forward("205", "CFB", "0612345678")
        h = client_for(pbx, ("201",))
        h.client.start()
        try:
            await h.client.wait_ready(5)
            extensions = h.state.snapshot()["extensions"]
            assert sorted(extensions) == [str(n) for n in range(201, 209)] + ["210"]
            assert extensions["210"]["dnd"] is True
            assert extensions["205"]["forward"]["busy"] == "0612345678"
            pbx.set_dnd("210", False)  # *79 on the phone: AstDB and Custom:DND210
            await h.until(lambda: not h.state.extensions["210"].dnd)
            pbx.call("202", "210")
            await h.until(lambda: h.state.extensions["210"].status == "ringing")
        finally:
            await h.client.stop()


def test_named_phones_join_the_prosody_roster_groups(tmp_path: Path) -> None:
    out = tmp_path / "groups.txt"
    example = Path(__file__).parent.parent / "examples" / "ctibot.toml"
    assert main(["xmpp-groups", "--config", str(example), "--output", str(out)]) == 0
    text = out.read_text()
    assert "210@cti.example.com=210 Meeting room" in text
    assert "201@cti.example.com=201 Alice Anders" in text


async def test_without_dbgettree_the_pbxs_phones_are_read_key_by_key() -> None:
    # Asterisk before 20 has no DBGetTree: the keys of every hinted phone are read one by one.
    async with DemoPbx(meeting_room_office(), time_scale=SCALE) as pbx:
        pbx.set_dnd("210", True)
        pbx.set_forward("203", "CFU", "0612345678")
        h = client_for(pbx, ("201",))
        h.client.start()
        try:
            await h.client.wait_ready(5)
            asked: list[str] = []

            async def old_asterisk(action: dict[str, str]) -> Any:
                asked.append(action["Action"])
                if action["Action"] == "DBGetTree":
                    raise AmiError("Invalid/unknown command: DBGetTree")
                return await h.client.send(action)

            data = await sync.fetch_resync(old_asterisk, h.state.layout)
            assert data.astdb == {"DND/210": "YES", "CFU/203": "0612345678"}
            assert asked.count("DBGet") == 4 * 9  # 201-208 and 210, four keys each
            values = await sync.fetch_astdb(old_asterisk, h.state.naming.tracked())
            assert values == data.astdb
        finally:
            await h.client.stop()
