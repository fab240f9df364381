"""The one builder of a demo office's ctibot configuration (ctibot.demo.config)."""

from __future__ import annotations

from pathlib import Path

from ctibot.config import PluginsConfig, UserConfig, WebConfig
from ctibot.demo.config import PBX_SECRET, office_config, office_pbx
from ctibot.demo_command import DEMO_SECRET, demo_office


def test_the_demo_office_as_ctibot_sees_it_matches_the_pbx_layout(tmp_path: Path) -> None:
    office = demo_office(8)
    office.voicemail_spool = str(tmp_path / "spool")
    config = office_config(
        office, port=5039, path=tmp_path / "ctibot.toml", secret=DEMO_SECRET, sounds=tmp_path
    )
    pbx, layout = config.pbx, office.layout()
    assert (pbx.host, pbx.port, pbx.username, pbx.secret) == ("127.0.0.1", 5039, "cti", DEMO_SECRET)
    assert (pbx.device, pbx.trunks) == (layout.device_template, layout.trunks)
    assert (pbx.voicemail_context, pbx.parking_lot, pbx.parking_exten) == (
        layout.voicemail_context,
        layout.parking_lot,
        layout.parking_exten,
    )
    ours = config.layout()
    assert set(ours.extensions) == set(office.people)
    assert ours.mobiles == {e: u.mobile for e, u in office.people.items() if u.mobile}
    assert ours.devices == {d: e for e, u in office.people.items() for d in u.other_phones}
    assert [u.name for u in config.users][:2] == ["alice", "bob"]
    assert config.database.path == str(tmp_path / "ctibot.sqlite")
    assert config.plugins.table("voicemail") == {"spool": str(tmp_path / "spool")}
    assert config.plugins.table("offhour")["sounds_dir"] == str(tmp_path)
    assert config.xmpp is None and config.web is None


def test_a_test_office_chooses_its_users_timings_and_sections(tmp_path: Path) -> None:
    office = demo_office(8)
    alice = UserConfig("alice", "Alice Anders", ("201",), profile="admin")
    web = WebConfig("127.0.0.1:0", "k" * 32, "")
    config = office_config(
        office,
        port=1,
        path=tmp_path / "x.toml",
        users=[alice],
        database=tmp_path / "db.sqlite",
        pbx=dict(astdb_poll=0.5, reconnect_min=0.05),
        plugins=PluginsConfig(disabled=("sms",)),
        web=web,
        profiles={"admin": frozenset({"call"})},
    )
    assert config.users == (alice,) and config.web == web
    assert config.pbx.secret == PBX_SECRET
    assert (config.pbx.astdb_poll, config.pbx.reconnect_min) == (0.5, 0.05)
    assert config.database.path == str(tmp_path / "db.sqlite")
    assert config.plugins.disabled == ("sms",) and config.profiles == {"admin": frozenset({"call"})}
    assert office_pbx(office, port=1, astdb_poll=0.5, reconnect_min=0.05) == config.pbx
