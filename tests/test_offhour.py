"""Off-hour (F35, F36): rules per route, AstDB publishing, the demo PBX honouring them, uploads."""

from __future__ import annotations

import asyncio
import subprocess
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctibot.app import CtiApp
from ctibot.config import Config, PluginsConfig, UserConfig
from ctibot.demo.config import office_config
from ctibot.demo.server import DemoPbx
from ctibot.permissions import default_profiles
from ctibot.plugin import BadArgument, NotFound, PermissionDenied
from ctibot.plugins.offhour.services import OffhourService

from demo_fixtures import RawAmiClient
from harness import until

SCALE = 0.05
FAMILY = "CTIBOT_OFFHOUR"
ALICE = UserConfig("alice", "Alice Anders", ("201",))
BOB = UserConfig("bob", "Bob Brown", ("202",))
CAROL = UserConfig("carol", "Carol Clark", ("203",), profile="admin")
GUEST = UserConfig("guest", "Guest", ("208",), profile="guest")
#: Bob's DID, Alice's (by extension), a generic one, and one of the sales queue's agents.
ROUTES = {"5550102": "bob", "5550101": "201", "5550100": "", "5550200": "queue:sales"}


@dataclass
class World:
    pbx: DemoPbx
    app: CtiApp
    service: OffhourService
    sounds: Path
    ami: RawAmiClient

    def db(self, did: str, key: str) -> str | None:
        return self.pbx.office.astdb.get(f"{FAMILY}/{did}", key)


def offhour_config(pbx: DemoPbx, tmp: Path, sounds: Path) -> Config:
    profiles = default_profiles()
    profiles["guest"] = frozenset()
    return office_config(
        pbx.office,
        port=pbx.port,
        path=tmp / "ctibot.toml",
        users=(ALICE, BOB, CAROL, GUEST),
        pbx=dict(reconnect_min=0.05, reconnect_max=0.3, ping_interval=0.3, ping_timeout=0.5),
        profiles=profiles,
        plugins=PluginsConfig(
            settings={
                "offhour": {
                    "routes": dict(ROUTES),
                    "sounds_dir": str(sounds),
                    "timezone": "Europe/Rome",
                    "max_upload": 400_000,
                }
            }
        ),
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    sounds = tmp_path / "sounds"
    async with DemoPbx(time_scale=SCALE) as pbx:
        pbx.engine.dialplan.sounds_dir = sounds  # the demo's Playback / Record directory
        app = CtiApp(offhour_config(pbx, tmp_path, sounds))
        await app.start()
        ami = RawAmiClient()
        try:
            await app.ami.wait_ready(5)
            await ami.login(pbx.port)
            service = app.services.get("offhour")
            assert isinstance(service, OffhourService)
            yield World(pbx, app, service, sounds, ami)
        finally:
            await ami.close()
            await app.stop()


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True, timeout=30)


def events(w: World, name: str, start: int = 0) -> list[dict]:
    return [m for m in w.ami.messages[start:] if m.get("Event") == name]


async def inbound(w: World, did: str, caller: str = "0612345678") -> str:
    """An outside call on ``did``; returns its trunk channel's name."""
    start = len(w.ami.messages)
    w.pbx.inbound_call(caller, "Customer", did, talk=60)
    new = await w.ami.wait_for(
        lambda m: m.get("Event") == "Newchannel" and m.get("Exten") == did, 5, start
    )
    return new["Channel"]


async def ends(w: World, channel: str) -> dict:
    return await w.ami.wait_for(
        lambda m: m.get("Event") == "Hangup" and m.get("Channel") == channel, 10
    )


# -- rules and their publication ---------------------------------------------------------


async def test_every_route_is_published_when_ctibot_connects(world: World) -> None:
    await until(lambda: all(world.db(did, "mode") == "never" for did in ROUTES), 5)
    assert world.db("5550102", "announcement") == "" and world.db("5550102", "action") == "hangup"


async def test_a_rule_goes_to_the_astdb_through_dbput(world: World) -> None:
    rule = await world.service.set_rule(
        BOB,
        "5550102",
        mode="between",
        start="2026-08-01T18:00",
        end="2026-08-31T08:30",
        timezone="Europe/Rome",
        action="voicemail",
        target="202",
    )
    # Rome is UTC+2 in August: the instants are explicit, in UTC epoch seconds.
    assert rule.start == datetime(2026, 8, 1, 16, 0, tzinfo=UTC).timestamp()
    assert rule.end == datetime(2026, 8, 31, 6, 30, tzinfo=UTC).timestamp()
    assert rule.local("start") == "2026-08-01T18:00"
    assert world.db("5550102", "mode") == "between"
    assert world.db("5550102", "start") == str(int(rule.start))
    assert world.db("5550102", "end") == str(int(rule.end))
    assert (world.db("5550102", "action"), world.db("5550102", "target")) == ("voicemail", "202")
    # Winter time is UTC+1: the same wall-clock hour is another UTC instant.
    winter = await world.service.set_rule(
        BOB, "5550102", mode="between", start="2026-12-24T18:00", end="2026-12-27T08:00"
    )
    assert winter.start == datetime(2026, 12, 24, 17, 0, tzinfo=UTC).timestamp()
    assert winter.timezone == "Europe/Rome"  # the plugin's default


async def test_rules_are_published_again_after_a_pbx_restart(world: World) -> None:
    await world.service.set_rule(BOB, "5550102", mode="always", action="redirect", target="203")
    before = world.service.published
    for key in ("mode", "target"):
        world.pbx.office.astdb.delete(f"{FAMILY}/5550102", key)  # the PBX lost its AstDB
    await world.pbx.drop_connections()
    await until(lambda: world.service.published > before, 10)
    assert (world.db("5550102", "mode"), world.db("5550102", "target")) == ("always", "203")


async def test_a_route_no_longer_configured_leaves_the_astdb(world: World) -> None:
    await until(lambda: world.service.published >= 1, 5)
    world.pbx.office.astdb.put(f"{FAMILY}/5550999", "mode", "always")  # an old route
    world.pbx.office.astdb.put(f"{FAMILY}/5550999", "target", "201")
    world.pbx.office.astdb.put("DND", "201", "YES")  # not ours: stays
    await world.service.publish_all()
    assert world.pbx.office.astdb.tree(FAMILY, "5550999") == []
    assert world.pbx.office.astdb.get("DND", "201") == "YES"
    assert world.db("5550102", "mode") == "never"


async def test_who_manages_which_route(world: World) -> None:
    s = world.service
    await until(lambda: "sales" in world.app.state.queues, 5)
    assert [v.route.did for v in await s.overview(BOB)] == ["5550102", "5550200"]
    assert [v.route.did for v in await s.overview(ALICE)] == ["5550101", "5550200"]
    assert [v.route.label for v in await s.overview(ALICE)] == [
        "5550101 → Alice Anders",
        "5550200 → sales",
    ]
    await s.set_rule(ALICE, "5550200", mode="always")  # an agent of the queue
    assert sorted(v.route.did for v in await s.overview(CAROL)) == sorted(ROUTES)
    with pytest.raises(PermissionDenied):
        await s.set_rule(BOB, "5550100", mode="always")  # generic: admin_offhour
    with pytest.raises(PermissionDenied):
        await s.set_rule(BOB, "5550101", mode="always")  # Alice's
    with pytest.raises(PermissionDenied):
        await s.overview(GUEST)
    with pytest.raises(NotFound):
        await s.set_rule(CAROL, "5559999", mode="always")
    await s.set_rule(CAROL, "5550100", mode="always")
    assert world.db("5550100", "mode") == "always"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"mode": "sometimes"}, "offhour.error.bad_mode"),
        ({"mode": "always", "action": "explode"}, "offhour.error.bad_action"),
        ({"mode": "always", "action": "redirect", "target": ""}, "offhour.error.no_target"),
        (
            {"mode": "always", "action": "redirect", "target": "203&PJSIP/evil"},
            "error.bad_value",
        ),
        ({"mode": "always", "action": "voicemail", "target": "20,3"}, "error.bad_value"),
        ({"mode": "between", "start": "tomorrow", "end": "2026-01-01T00:00"}, "offhour.error"),
        (
            {"mode": "between", "start": "2026-08-02T00:00", "end": "2026-08-01T00:00"},
            "offhour.error.end_before_start",
        ),
        (
            {
                "mode": "between",
                "start": "2026-08-01T00:00",
                "end": "2026-08-02T00:00",
                "timezone": "Mars/Olympus",
            },
            "offhour.error.bad_timezone",
        ),
        ({"mode": "always", "announcement": "../../etc/passwd"}, "offhour.error"),
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_sent(
    world: World, fields: dict, key: str
) -> None:
    await until(lambda: world.db("5550102", "mode") == "never", 5)
    with pytest.raises((BadArgument, NotFound)) as refused:
        await world.service.set_rule(BOB, "5550102", **fields)
    assert refused.value.key.startswith(key)
    assert world.db("5550102", "mode") == "never"


async def test_a_redirect_target_is_cleaned_like_any_number(world: World) -> None:
    rule = await world.service.set_rule(
        BOB, "5550102", mode="always", action="redirect", target="+39 02 1234-567"
    )
    assert rule.target == "0039021234567" == world.db("5550102", "target")


# -- the demo PBX honours the rules --------------------------------------------------------


async def test_always_then_hang_up_plays_the_announcement_and_never_rings_bob(
    world: World, tmp_path: Path
) -> None:
    sox("-n", "-r", "16000", "-b", "16", str(tmp_path / "closed.wav"), "synth", "2", "sine", "440")
    found = await world.service.upload(BOB, (tmp_path / "closed.wav").read_bytes(), "Closed")
    await world.service.set_rule(BOB, "5550102", mode="always", announcement=found.id)
    start = len(world.ami.messages)
    channel = await inbound(world, "5550102")
    await ends(world, channel)
    steps = [
        (m["Application"], m["AppData"])
        for m in events(world, "Newexten", start)
        if m["Channel"] == channel
    ]
    assert ("Answer", "") in steps
    assert ("Playback", f"custom/ctibot/offhour-{found.id}") in steps
    assert steps[-1] == ("Hangup", "")
    assert steps.index(("Playback", f"custom/ctibot/offhour-{found.id}")) < len(steps) - 1
    assert not [m for m in events(world, "Newchannel", start) if "202" in m["Channel"]]


async def test_between_now_goes_to_the_voicemail_box(world: World) -> None:
    now = datetime.now(UTC)
    await world.service.set_rule(
        BOB,
        "5550102",
        mode="between",
        start=now.replace(year=now.year - 1).strftime("%Y-%m-%dT%H:%M"),
        end=now.replace(year=now.year + 1).strftime("%Y-%m-%dT%H:%M"),
        timezone="UTC",
        action="voicemail",
        target="204",
    )
    start = len(world.ami.messages)
    channel = await inbound(world, "5550102")
    got = await world.ami.wait_for(
        lambda m: (
            m.get("Event") == "Newexten"
            and m.get("Channel") == channel
            and m.get("Application") == "VoiceMail"
        ),
        10,
        start,
    )
    assert got["AppData"].startswith("204@default")
    assert world.pbx.engine.channels[channel].app == "VoiceMail"
    assert not [m for m in events(world, "Newchannel", start) if "202" in m["Channel"]]


async def test_between_in_the_future_leaves_the_route_alone(world: World) -> None:
    await world.service.set_rule(
        BOB,
        "5550102",
        mode="between",
        start="2099-08-01T00:00",
        end="2099-08-31T00:00",
        action="hangup",
    )
    start = len(world.ami.messages)
    await inbound(world, "5550102")
    await world.ami.wait_for(
        lambda m: m.get("Event") == "Newchannel" and m.get("Channel", "").startswith("PJSIP/202-"),
        10,
        start,
    )


async def test_a_redirect_dials_the_target(world: World) -> None:
    await world.service.set_rule(BOB, "5550102", mode="always", action="redirect", target="203")
    start = len(world.ami.messages)
    channel = await inbound(world, "5550102")
    await world.ami.wait_for(
        lambda m: m.get("Event") == "Newchannel" and m.get("Channel", "").startswith("PJSIP/203-"),
        10,
        start,
    )
    goto = [
        m["AppData"]
        for m in events(world, "Newexten", start)
        if m["Channel"] == channel and m["Application"] == "Goto"
    ]
    assert "from-internal,203,1" in goto
    assert not [m for m in events(world, "Newchannel", start) if "202" in m["Channel"]]


# -- announcements ---------------------------------------------------------------------------


def wav_format(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth()


def stored(w: World) -> list[Path]:
    folder = w.sounds / "custom" / "ctibot"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_upload_of_a_wav_and_an_mp3_gives_8khz_mono_wav(world: World, tmp_path: Path) -> None:
    sox(
        "-n",
        "-r",
        "44100",
        "-c",
        "2",
        "-b",
        "16",
        str(tmp_path / "a.wav"),
        "synth",
        "1.5",
        "sine",
        "440",
    )
    sox("-n", "-r", "48000", "-c", "1", str(tmp_path / "b.mp3"), "synth", "1", "sine", "660")
    wav = await world.service.upload(BOB, (tmp_path / "a.wav").read_bytes(), "Summer", True)
    mp3 = await world.service.upload(BOB, (tmp_path / "b.mp3").read_bytes(), "Night")
    for found in (wav, mp3):
        path = world.service.file_of(found)
        assert wav_format(path) == (8000, 1, 2)
    with wave.open(str(world.service.file_of(wav)), "rb") as w:
        assert abs(w.getnframes() / 8000 - 1.5) < 0.05
    assert [a.description for a in await world.service.announcements(BOB)] == ["Night", "Summer"]
    # Alice sees Bob's public announcement only, and may not change it.
    assert [a.id for a in await world.service.announcements(ALICE)] == [wav.id]
    with pytest.raises(PermissionDenied):
        await world.service.update_announcement(ALICE, wav.id, "mine now", True)
    with pytest.raises(PermissionDenied):
        await world.service.delete_announcement(ALICE, wav.id)
    with pytest.raises(NotFound):
        await world.service.announcement(ALICE, mp3.id)  # private
    await world.service.update_announcement(BOB, mp3.id, "Night, new", True)
    assert {a.description for a in await world.service.announcements(ALICE)} == {
        "Summer",
        "Night, new",
    }


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"<html><script>alert(1)</script></html>" * 10, "offhour.error.not_audio"),
        (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" + b"\x00" * 100, "offhour.error.bad_audio"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 500, "offhour.error.bad_audio"),
        (b"RIFF\x10\x00\x00\x00WAVE" + b"\x00" * 500_000, "offhour.error.too_big"),
    ],
)
async def test_a_bad_upload_gets_a_clear_error_and_nothing_is_kept(
    world: World, content: bytes, key: str
) -> None:
    with pytest.raises(BadArgument) as refused:
        await world.service.upload(BOB, content, "bad.wav")
    assert refused.value.key == key
    assert await world.service.announcements(BOB) == []
    assert stored(world) == []


async def test_the_type_is_checked_by_content_not_by_name(world: World, tmp_path: Path) -> None:
    sox("-n", "-r", "8000", "-c", "1", str(tmp_path / "x.mp3"), "synth", "1", "sine", "440")
    # An MP3 whose (client-side) name says .wav is still an MP3: converted all the same.
    found = await world.service.upload(BOB, (tmp_path / "x.mp3").read_bytes(), "named .wav")
    assert wav_format(world.service.file_of(found)) == (8000, 1, 2)


async def test_the_conversion_never_blocks_the_loop(world: World, tmp_path: Path) -> None:
    # 280 s of MP3 at 8 kbit/s: sox takes a good fraction of a second to decode it.
    long = tmp_path / "long.mp3"
    sox("-n", "-r", "22050", "-c", "1", "-C", "8", str(long), "synth", "280", "sine", "440")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        found = await world.service.upload(BOB, long.read_bytes(), "Long")
    finally:
        ticker.cancel()
    assert wav_format(world.service.file_of(found)) == (8000, 1, 2)
    assert ticks >= 10  # the loop kept running while sox worked


async def test_an_announcement_in_use_stays(world: World, tmp_path: Path) -> None:
    sox("-n", "-r", "8000", str(tmp_path / "a.wav"), "synth", "1", "sine", "440")
    found = await world.service.upload(BOB, (tmp_path / "a.wav").read_bytes(), "Closed")
    await world.service.set_rule(BOB, "5550102", mode="always", announcement=found.id)
    with pytest.raises(BadArgument):
        await world.service.delete_announcement(BOB, found.id)
    await world.service.set_rule(BOB, "5550102", mode="never")
    await world.service.delete_announcement(BOB, found.id)
    assert stored(world) == []


@pytest.mark.parametrize(
    "number", ["../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc", "1/../2", "1.wav", "-1", ""]
)
async def test_traversal_in_an_announcement_id_is_refused(world: World, number: str) -> None:
    with pytest.raises(NotFound):
        await world.service.announcement(BOB, number)
    with pytest.raises(NotFound):
        await world.service.delete_announcement(BOB, number)


async def test_record_by_phone_keeps_what_the_phone_recorded(world: World) -> None:
    world.pbx.phone("202").answer_after = 1.0
    found = await world.service.record_by_phone(BOB, "Recorded <script>x</script>", False)
    assert found.state == "recording"
    # Bob's phone rings, answers, and runs Record into the announcement's file.
    await until(lambda: any(ch.app == "Record" for ch in world.pbx.channels_of("202")), 10)
    channel = next(ch for ch in world.pbx.channels_of("202") if ch.app == "Record")
    assert channel.appdata.startswith(f"custom/ctibot/offhour-{found.id}.wav,")
    await asyncio.sleep(3 * SCALE)  # Bob speaks for a few (simulated) seconds
    world.pbx.hangup("202")
    path = world.service.file_of(found)
    await until(path.exists, 5)
    listed = await world.service.announcements(BOB)
    assert [(a.id, a.state, a.description) for a in listed] == [
        (found.id, "ready", "Recorded <script>x</script>")
    ]
    assert wav_format(path) == (8000, 1, 2)
    # Ready: a rule may use it now.
    await world.service.set_rule(BOB, "5550102", mode="always", announcement=found.id)
    assert world.db("5550102", "announcement") == f"custom/ctibot/offhour-{found.id}"


@pytest.mark.parametrize(
    "table",
    [
        {"routes": {"55501x": "bob"}},
        {"routes": {"5550102": 202}},
        {"timezone": "Mars/Olympus"},
        {"family": "CTIBOT/../x"},
        {"max_upload": 10},
        {"colour": "red"},
    ],
)
def test_settings_that_do_not_fit_are_refused(table: dict) -> None:
    from ctibot.plugin import SettingError
    from ctibot.plugins.offhour import plugin

    with pytest.raises(SettingError):
        plugin.parse_settings(table)
    assert plugin.parse_settings({"routes": ROUTES, "timezone": "Europe/Rome"})["routes"] == ROUTES


async def test_a_recording_never_made_goes_away(world: World) -> None:
    world.pbx.phone("202").answer_after = None  # Bob does not answer
    found = await world.service.record_by_phone(BOB, "Never said", False)
    assert [a.id for a in await world.service.announcements(BOB)] == [found.id]
    stale = world.service.now() - world.service.max_seconds - 121
    await world.app.store.db.execute(
        "UPDATE offhour_announcements SET created = ? WHERE id = ?", (stale, found.id)
    )
    await world.app.store.db.commit()
    assert await world.service.announcements(BOB) == []


def test_the_demo_configures_its_dids_for_the_off_hour_page(tmp_path: Path) -> None:
    from ctibot.config import load_config
    from ctibot.demo_command import config_toml, demo_office
    from ctibot.plugins.offhour import plugin

    office = demo_office(8)
    config = office_config(
        office, port=5038, path=tmp_path / "ctibot.toml", sounds=tmp_path / "sounds"
    )
    path = tmp_path / "ctibot.toml"
    path.write_text(config_toml(config), encoding="utf-8")
    table = load_config(path).plugins.table("offhour")
    settings = plugin.parse_settings(table)
    assert settings["sounds_dir"] == str(tmp_path / "sounds")
    routes = settings["routes"]
    assert routes["5550100"] == "queue:sales" and routes["5550102"] == "202"
    assert set(routes) == set(office.dids)
