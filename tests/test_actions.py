"""The action builders send what the captured client sent, and nothing unvalidated."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctibot.pbx import actions as a
from ctibot.pbx.framing import AmiFramer, parse_message
from ctibot.pbx.validate import AmiValueError, frame_check

FIXTURES = Path(__file__).parent / "fixtures" / "ami"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"


def sent_actions(name: str) -> list[dict[str, str]]:
    """The actions a capture's client sent, in order, keys in their order."""
    raw = (FIXTURES / f"{name}.sent.txt").read_bytes().decode()
    return [parse_message(block) for block in raw.split("\r\n\r\n") if block.strip()]  # type: ignore[misc]


def all_sent() -> dict[str, dict[str, str]]:
    """Every captured action by its ActionID."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(FIXTURES.glob("*.sent.txt")):
        for action in sent_actions(path.name.removesuffix(".sent.txt")):
            out[action["ActionID"]] = action
    return out


def received(name: str) -> list[dict[str, Any]]:
    return AmiFramer().feed((FIXTURES / f"{name}.txt").read_bytes())


SENT = all_sent()


def without_id(action: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, val) for k, val in action.items() if k != "ActionID"]


# --- the builders against the captures -----------------------------------------------------

L201_1 = "Local/201@phones-0000001a;1"
ALICE = '"Alice Anders" <201>'
C2C = {"context": "from-internal", "timeout_ms": 30000}


def _md5_login() -> dict[str, str]:
    reply = received("login_md5_challenge")[0]
    key = a.md5_key(reply["Challenge"], "cti-secret")
    return a.login_md5("cti", key, events=False)


CAPTURED: dict[str, Callable[[], dict[str, str]]] = {
    "login_and_fullybooted-1": lambda: a.login("cti", "cti-secret"),
    "login_and_fullybooted-2": a.ping,
    "login_and_fullybooted-3": a.core_settings,
    "login_and_fullybooted-4": a.core_status,
    "login_and_fullybooted-5": a.logoff,
    "bad_login-1": lambda: a.login("cti", "wrong-secret"),
    "permission_denied-1": lambda: a.login("cti-ro", "cti-ro-secret", events=True),
    "login_md5_challenge-1": a.challenge,
    "login_md5_challenge-2": _md5_login,
    "originate_answer_hangup-2": lambda: a.originate_call(
        "Local/201@phones", "202", caller_id=ALICE, **C2C
    ),
    "originate_answer_hangup-3": lambda: a.hangup("Local/202@phones-00000001;2"),
    "originate_failure-2": lambda: a.originate_call(
        "Local/201@phones", "202", context="from-internal", caller_id=ALICE, timeout_ms=10000
    ),
    "originate_no_answer_timeout-2": lambda: a.originate_call(
        "Local/201@phones", "202", context="from-internal", caller_id=ALICE, timeout_ms=5000
    ),
    "permission_denied-2": lambda: a.originate_call(
        "Local/201@phones", "202", context="from-internal", timeout_ms=None
    ),
    "permission_denied-3": lambda: a.db_put("DND", "201", "YES"),
    "permission_denied-4": a.core_show_channels,
    "inbound_call_did-2": lambda: a.originate_application(
        "Local/5550102@from-pstn",
        "Wait",
        "20",
        caller_id=("ACME Corp", "0612345678"),
        timeout_ms=30000,
    ),
    "inbound_call_did-3": lambda: a.hangup("Local/5550102@from-pstn-00000006;1", cause=16),
    "queue_call-2": lambda: a.originate_application(
        "Local/5550100@from-pstn",
        "Wait",
        "30",
        caller_id='"Customer" <0699887766>',
        timeout_ms=30000,
    ),
    "queue_call-3": lambda: a.queue_status("sales"),
    "voicemail_mwi-3": lambda: a.originate_application(
        "Local/*203@from-internal",
        "Playback",
        "tt-monkeys",
        caller_id=("Customer", "0699887766"),
        timeout_ms=30000,
    ),
    "dnd_and_cf_astdb-2": lambda: a.db_put("DND", "203", "YES"),
    "dnd_and_cf_astdb-3": lambda: a.db_get("DND", "203"),
    "dnd_and_cf_astdb-4": lambda: a.db_get("CF", "203"),
    "dnd_and_cf_astdb-5": lambda: a.db_get_tree("DND"),
    "dnd_and_cf_astdb-6": lambda: a.originate_call(
        "Local/204@phones", "203", caller_id=("Dave Davis", "204"), **C2C
    ),
    "dnd_and_cf_astdb-7": lambda: a.hangup("Local/204@phones-00000014;2"),
    "dnd_and_cf_astdb-8": lambda: a.db_del("DND", "203"),
    "dnd_and_cf_astdb-9": lambda: a.db_put("CF", "203", "205"),
    "dnd_and_cf_astdb-12": lambda: a.db_del("CF", "203"),
    "dnd_and_cf_astdb-13": lambda: a.originate_call(
        "Local/206@phones", "*78", caller_id='"Frank Fisher" <206>', **C2C
    ),
    "dnd_and_cf_astdb-15": lambda: a.originate_call(
        "Local/206@phones", "*79", caller_id='"Frank Fisher" <206>', **C2C
    ),
    "dnd_and_cf_astdb-16": lambda: a.db_get("DND", "206"),
    "queue_members-2": lambda: a.queue_summary("sales"),
    "queue_members-3": lambda: a.queue_status("sales"),
    "queue_members-4": lambda: a.queue_add(
        "sales",
        "Local/203@from-queue/n",
        state_interface="hint:203@ext-local",
        member_name="Carol Clark",
    ),
    "queue_members-5": lambda: a.queue_add(
        "sales",
        "Local/203@from-queue/n",
        state_interface=None,
        member_name="Carol Clark",
        penalty=None,
        paused=None,
    ),
    "queue_members-6": lambda: a.queue_pause(
        "Local/203@from-queue/n", True, queue="sales", reason="Lunch"
    ),
    "queue_members-7": lambda: a.queue_status("sales", member="Local/203@from-queue/n"),
    "queue_members-8": lambda: a.queue_pause("Local/203@from-queue/n", False, queue="sales"),
    "queue_members-9": lambda: a.queue_penalty("Local/203@from-queue/n", 2, queue="sales"),
    "queue_members-10": lambda: a.queue_remove("sales", "Local/203@from-queue/n"),
    "queue_members-13": lambda: a.queue_status("nosuchqueue"),
    "park_and_pickup-3": lambda: a.park(
        "Local/201@phones-0000000f;1", "Local/202@phones-00000010;1", "default"
    ),
    "park_and_pickup-4": a.parked_calls,
    "park_and_pickup-5": a.parkinglots,
    "park_and_pickup-6": lambda: a.pickup_parked(
        "Local/203@phones",
        "701",
        "from-internal",
        caller_id=("Carol Clark", "203"),
        timeout_ms=30000,
    ),
    "mixmonitor-3": lambda: a.mixmonitor(
        L201_1, "/var/spool/asterisk/monitor/capture-mixmonitor.wav", options="b"
    ),
    "mixmonitor-4": lambda: a.mixmonitor_mute(L201_1, True),
    "mixmonitor-5": lambda: a.mixmonitor_mute(L201_1, False, direction="both"),
    "mixmonitor-7": lambda: a.getvar(L201_1, "MIXMONITOR_FILENAME"),
    "mixmonitor-8": lambda: a.stop_mixmonitor(L201_1),
    "mixmonitor-9": lambda: a.hangup("Local/201@phones-0000001a;2"),
    "blind_transfer-3": lambda: a.blind_transfer(
        "Local/202@phones-00000025;1", "204", "from-internal"
    ),
    "core_show_channels-4": a.core_show_channels,
    "core_show_channels-5": a.status,
    "core_show_channels-6": lambda: a.status(
        "Local/201@phones-0000001f;1", ["DIALEDEXT", "DIALSTATUS"]
    ),
    "core_show_channels-7": a.bridge_list,
    "core_show_channels-8": lambda: a.bridge_info("2dedb84f-64d0-4549-9032-6198f0b213f8"),
    "core_show_channels-9": lambda: a.command("core show channels concise"),
    "extension_state_list-2": a.extension_state_list,
    "extension_state_list-3": lambda: a.extension_state("201", "ext-local"),
    "extension_state_list-5": a.device_state_list,
    "extension_state_list-6": lambda: a.set_device_state("204", "INUSE"),
    "extension_state_list-7": lambda: a.set_device_state("204", "UNAVAILABLE"),
    "dnd_and_cf_astdb-11": lambda: a.hangup("Local/204@phones-00000015;2"),
    "extension_state_list-4": lambda: a.extension_state("999", "ext-local"),
    "extension_state_list-8": lambda: a.set_device_state("204", "RINGING"),
    "extension_state_list-9": lambda: a.set_device_state("204", "ONHOLD"),
    "extension_state_list-10": lambda: a.set_device_state("204", "NOT_INUSE"),
    "extension_state_list-11": lambda: a.extension_state("204", "ext-local"),
    "park_and_pickup-7": lambda: a.hangup("Local/203@phones-00000011;2"),
    "core_show_channels-3": lambda: a.originate_call(
        "Local/203@phones", "0612345678", caller_id=("Carol Clark", "203"), **C2C
    ),
    "queue_call-4": lambda: a.hangup("Local/5550100@from-pstn-0000000a;1"),
    "voicemail_mwi-2": lambda: a.mailbox_count("203@default"),
    "voicemail_mwi-5": lambda: a.mailbox_status("203@default"),
    "voicemail_mwi-6": a.voicemail_users_list,
    "voicemail_mwi-7": lambda: a.voicemail_user_status("default", "203"),
    "voicemail_mwi-8": lambda: a.voicemail_box_summary("default", "203"),
    "voicemail_mwi-9": lambda: a.voicemail_remove("default", "203", "INBOX", "1795638298-00000000"),
    "voicemail_mwi-10": lambda: a.voicemail_refresh("default", "203"),
    "redirect_transfer-2": lambda: a.originate_call(
        "Local/201@phones", "202", caller_id=ALICE, **C2C
    ),
    "redirect_transfer-3": lambda: a.redirect(
        "Local/201@phones-00000004;1", "205", "from-internal"
    ),
    "redirect_transfer-4": lambda: a.hangup("Local/205@phones-00000006;2"),
    "attended_transfer-3": lambda: a.atxfer("Local/202@phones-00000008;1", "204", "from-internal"),
    "attended_transfer-4": lambda: a.hangup("Local/202@phones-00000008;2"),
    "attended_transfer-5": lambda: a.hangup("Local/204@phones-0000000a;2"),
    "conference-2": lambda: a.originate_call("Local/201@phones", "800", caller_id=ALICE, **C2C),
    "conference-3": lambda: a.originate_call(
        "Local/202@phones", "800", caller_id='"Bob Brown" <202>', **C2C
    ),
    "conference-4": lambda: a.originate_call(
        "Local/203@phones", "800", caller_id=("Carol Clark", "203"), **C2C
    ),
    "conference-5": lambda: a.hangup("Local/201@phones-0000000e;2"),
    "conference-6": lambda: a.hangup("Local/202@phones-0000000f;2"),
    "conference-7": lambda: a.hangup("Local/203@phones-00000010;2"),
    # The capture's lab spied on a device prefix without S; ctibot's spy() names the
    # exact channel (a prefix would also match 2010) and stops with the spied call.
    "chanspy-3": lambda: a.originate_application(
        "Local/203@phones",
        "ChanSpy",
        "Local/201@phones,q",
        caller_id=("Carol Clark", "203"),
        timeout_ms=30000,
    ),
    "chanspy-4": lambda: a.hangup("Local/203@phones-00000014;2"),
    "chanspy-5": lambda: a.hangup("Local/202@phones-00000013;2"),
}

#: Captured actions ctibot deliberately never builds, and why.
NOT_BUILT = {
    "originate_failure-4": "a synchronous Originate: panoramisk would hang on it",
    "mixmonitor-6": "PauseMonitor does not exist on Asterisk 20; MixMonitorMute pauses",
    "blind_transfer-4": "Hangup by regex: ctibot hangs up exact channels only",
    "core_show_channels-10": "Hangup by regex: ctibot hangs up exact channels only",
}


@pytest.mark.parametrize("action_id", sorted(CAPTURED))
def test_builder_sends_what_the_capture_sent(action_id: str) -> None:
    built = CAPTURED[action_id]()
    assert list(built.items()) == without_id(SENT[action_id])
    # ... and on the wire too, with the ActionID where the capture has it.
    prefix = action_id.rsplit("-", 1)[0]
    wire = a.to_bytes(built, action_id)
    assert wire in (FIXTURES / f"{prefix}.sent.txt").read_bytes()


def _same_as_one_built(action: dict[str, str]) -> bool:
    return any(without_id(action) == list(make().items()) for make in CAPTURED.values())


def test_every_captured_action_is_built_or_refused_on_purpose() -> None:
    """Each captured action has a builder producing it, or a reason it is never sent."""
    missing = [
        aid
        for aid, action in SENT.items()
        if not aid.startswith("loadtest_50_calls")
        and aid not in CAPTURED
        and aid not in NOT_BUILT
        and not _same_as_one_built(action)
    ]
    assert missing == []


def test_loadtest_originates() -> None:
    originates = [x for x in sent_actions("loadtest_50_calls") if x["Action"] == "Originate"]
    assert len(originates) == 50
    for n, captured in enumerate(originates):
        built = a.originate_application(
            f"Local/06123450{n:02d}@from-internal",
            "Wait",
            "1",
            caller_id=(f"Load {n}", f"07000000{n:02d}"),
            timeout_ms=30000,
        )
        assert list(built.items()) == without_id(captured)


def test_the_captured_sync_originate_is_never_built() -> None:
    built = a.originate_call("Local/201@phones", "202", context="from-internal", timeout_ms=5000)
    assert [*without_id(SENT["originate_failure-4"]), ("Async", "true")] == list(built.items())


@pytest.mark.parametrize("action_id", ["blind_transfer-4", "core_show_channels-10"])
def test_regex_hangup_is_refused(action_id: str) -> None:
    with pytest.raises(AmiValueError, match="channel"):
        a.hangup(SENT[action_id]["Channel"])
    # ... while the captured one is recognised as answering with a list.
    assert a.list_complete_event(SENT[action_id]) == "ChannelsHungupListComplete"


def test_md5_key_matches_the_capture() -> None:
    reply = received("login_md5_challenge")[0]
    assert a.md5_key(reply["Challenge"], "cti-secret") == SENT["login_md5_challenge-2"]["Key"]


# --- lists ---------------------------------------------------------------------------------


def _captured_lists() -> dict[str, str | None]:
    """ActionID -> the event that completed its answer (None: a single response)."""
    out: dict[str, str | None] = {}
    for path in sorted(FIXTURES.glob("*.txt")):
        if path.name.endswith(".sent.txt") or path.name == "README.md":
            continue
        for msg in AmiFramer().feed(path.read_bytes()):
            aid = msg.get("ActionID")
            if aid not in SENT or (aid in out and out[aid] is not None):
                continue
            if "Response" in msg and "Event" not in msg:
                out.setdefault(aid, None)
            if msg.get("EventList") == "Complete":
                out[aid] = msg["Event"]
    return out


CAPTURED_LISTS = _captured_lists()


def test_list_complete_is_what_asterisk_20_sent() -> None:
    derived = {
        SENT[aid]["Action"]: event
        for aid, event in CAPTURED_LISTS.items()
        if event is not None and SENT[aid]["Action"] != "Hangup"
    }
    assert derived == a.LIST_COMPLETE


@pytest.mark.parametrize("action_id", sorted(CAPTURED_LISTS))
def test_is_list_action_agrees_with_each_capture(action_id: str) -> None:
    event = CAPTURED_LISTS[action_id]
    action = SENT[action_id]
    if event is None:
        # A list action may still answer with a plain error (DBGet of a missing key,
        # Permission denied): that does not make it a single-response action.
        if a.is_list_action(action):
            replies = [
                m
                for p in FIXTURES.glob("*.txt")
                if not p.name.endswith(".sent.txt") and p.name != "README.md"
                for m in AmiFramer().feed(p.read_bytes())
                if m.get("ActionID") == action_id and "Event" not in m
            ]
            assert replies and replies[0]["Response"] == "Error"
        else:
            assert a.list_complete_event(action) is None
    else:
        assert a.list_complete_event(action) == event
        assert a.is_list_action(action)


def test_queue_add_is_not_a_list() -> None:
    """panoramisk 1.4 takes "Added interface to queue" for a list start: it is not one."""
    add = CAPTURED["queue_members-4"]()
    assert not a.is_list_action(add)
    assert "QueueAdd" in a.NOT_A_LIST
    assert CAPTURED_LISTS["queue_members-4"] is None


def test_mailbox_count_is_not_a_list() -> None:
    assert CAPTURED_LISTS["voicemail_mwi-2"] is None
    assert not a.is_list_action(a.mailbox_count("203@default"))


def test_every_originate_is_async() -> None:
    for make in (
        lambda: a.originate_call("PJSIP/201", "202", context="from-internal"),
        lambda: a.originate_application("PJSIP/201", "Playback", "tt-monkeys"),
        lambda: a.spy("PJSIP/200", "PJSIP/201-00000001", "barge"),
        lambda: a.pickup_parked("PJSIP/203", 701, "from-internal"),
    ):
        action = make()
        assert action["Async"] == "true"
        a.check_async(action)
    with pytest.raises(AmiValueError, match="Async"):
        a.check_async({"Action": "Originate", "Channel": "PJSIP/201"})
    with pytest.raises(AmiValueError, match="Async"):
        frame_check({"Action": "Originate", "Channel": "PJSIP/201", "Async": "false"})


# --- behaviour worth spelling out ----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "options"), [("listen", "qS"), ("whisper", "wqS"), ("barge", "BqS")]
)
def test_spy_modes(mode: str, options: str) -> None:
    action = a.spy("PJSIP/200", "PJSIP/201-00000001", mode)  # type: ignore[arg-type]
    assert action["Application"] == "ChanSpy"
    assert action["Data"] == f"PJSIP/201-00000001,{options}"
    assert action["Channel"] == "PJSIP/200"


def test_spy_on_a_local_channel() -> None:
    action = a.spy("Local/200@phones", "Local/201@phones-0000001f;1", "listen")
    assert action["Data"] == "Local/201@phones-0000001f;1,qS"


def test_spy_refuses_unknown_mode_and_smuggled_options() -> None:
    with pytest.raises(AmiValueError, match="mode"):
        a.spy("PJSIP/200", "PJSIP/201-00000001", "record")  # type: ignore[arg-type]
    with pytest.raises(AmiValueError, match="target_channel"):
        a.spy("PJSIP/200", "PJSIP/201-00000001,qSw", "listen")


def test_click_to_call_of_an_international_number() -> None:
    from ctibot.pbx.validate import dial_number

    action = a.originate_call("PJSIP/201", dial_number("+39 06 1234-5678"), context="from-internal")
    assert action["Exten"] == "00390612345678"
    assert action["Timeout"] == "15000"


def test_originate_variables_are_one_header() -> None:
    action = a.originate_call(
        "PJSIP/201", "202", context="from-internal", variables={"CTI_USER": "alice", "X": "1"}
    )
    assert action["Variable"] == "CTI_USER=alice,X=1"
    with pytest.raises(AmiValueError):
        a.originate_call("PJSIP/201", "202", context="from-internal", variables={"A": "1,SHELL=x"})


def test_redirect_with_both_legs() -> None:
    action = a.redirect(
        "PJSIP/201-00000001",
        "701",
        "from-internal",
        extra_channel="PJSIP/202-00000002",
        extra_exten="702",
        extra_context="from-internal",
        extra_priority=1,
    )
    assert list(action) == [
        "Action",
        "Channel",
        "ExtraChannel",
        "Context",
        "ExtraContext",
        "Exten",
        "ExtraExten",
        "Priority",
        "ExtraPriority",
    ]


def test_atxfer_and_park_defaults() -> None:
    assert a.atxfer("PJSIP/201-00000001", "204#", "from-internal") == {
        "Action": "Atxfer",
        "Channel": "PJSIP/201-00000001",
        "Exten": "204#",
        "Context": "from-internal",
    }
    assert a.park("PJSIP/202-00000002") == {"Action": "Park", "Channel": "PJSIP/202-00000002"}


def test_queue_log_fields() -> None:
    action = a.queue_log(
        "sales", "ADDMEMBER", interface="Local/203@from-queue/n", message=["", "Carol"]
    )
    assert action == {
        "Action": "QueueLog",
        "Queue": "sales",
        "Event": "ADDMEMBER",
        "Uniqueid": "NONE",
        "Interface": "Local/203@from-queue/n",
        "Message": "|Carol",
    }
    with pytest.raises(AmiValueError, match="message"):
        a.queue_log("sales", "PAUSE", interface="PJSIP/203", message="Lunch|EXTRA")


@pytest.mark.parametrize(
    "cmd",
    [
        "core show channels concise",
        "core show channels",
        "database show DND",
        "database show",
        "devstate change Custom:DND201 BUSY",
        "presencestate change CustomPresence:201 DND",
        'presencestate change CustomPresence:201 "AWAY,upstairs,eating lunch"',
        "queue show sales",
    ],
)
def test_allowed_commands(cmd: str) -> None:
    assert a.command(cmd) == {"Action": "Command", "Command": cmd}


@pytest.mark.parametrize(
    "cmd",
    [
        "core restart now",
        "module unload res_pjsip.so",
        "database put DND 201 YES",
        "database deltree DND",
        "dialplan reload",
        "devstate change Custom:DND201 BUSY; core stop now",
        "core show channels concise\r\nAction: Hangup",
        "presencestate change CustomPresence:201 AWAY,a b",
        'presencestate change CustomPresence:201 "AWAY,x" extra',
        "!rm -rf /",
        "originate Local/201@from-internal extension 202@from-internal",
    ],
)
def test_other_commands_are_refused(cmd: str) -> None:
    with pytest.raises(AmiValueError, match=r"^command: "):
        a.command(cmd)


def test_presence_and_device_state_helpers() -> None:
    assert a.presencestate_change("201", "away", "upstairs", "eating lunch")["Command"] == (
        'presencestate change CustomPresence:201 "AWAY,upstairs,eating lunch"'
    )
    assert a.presencestate_change("201", "DND")["Command"] == (
        "presencestate change CustomPresence:201 DND"
    )
    assert a.presencestate_change("201", "xa", message="VOICEMAIL")["Command"] == (
        "presencestate change CustomPresence:201 XA,,VOICEMAIL"
    )
    assert a.devstate_change("DND201", "NOT_INUSE")["Command"] == (
        "devstate change Custom:DND201 NOT_INUSE"
    )
    for bad in ('back "soon"', "a,b", "x\\y", "a\nb"):
        with pytest.raises(AmiValueError, match="message"):
            a.presencestate_change("201", "AWAY", "out", bad)


def test_with_action_id_puts_it_second() -> None:
    action = a.with_action_id(a.hangup("PJSIP/201-00000001"), "x-1")
    assert list(action) == ["Action", "ActionID", "Channel", "Cause"]
    with pytest.raises(AmiValueError, match="action_id"):
        a.with_action_id(a.ping(), "x\r\nAction: Hangup")


# --- property tests: no input can break the framing ----------------------------------------

# Each builder with valid arguments; the property tests swap one argument at a time.
BUILDERS: dict[str, tuple[Callable[..., dict[str, str]], dict[str, Any]]] = {
    "login": (a.login, {"username": "cti", "secret": "cti-secret", "events": True}),
    "challenge": (a.challenge, {}),
    "login_md5": (
        a.login_md5,
        {"username": "cti", "key": "29aabf844bab5b225614d8479ab34a8f", "events": False},
    ),
    "md5_key": (a.md5_key, {"challenge": "135734972", "secret": "cti-secret"}),
    "logoff": (a.logoff, {}),
    "ping": (a.ping, {}),
    "core_settings": (a.core_settings, {}),
    "core_status": (a.core_status, {}),
    "originate_call": (
        a.originate_call,
        {
            "device": "PJSIP/201",
            "exten": "202",
            "context": "from-internal",
            "caller_id": ALICE,
            "timeout_ms": 15000,
            "variables": {"CTI": "1"},
            "priority": 1,
        },
    ),
    "originate_application": (
        a.originate_application,
        {
            "device": "PJSIP/201",
            "application": "Playback",
            "data": "tt-monkeys",
            "caller_id": ALICE,
            "timeout_ms": 15000,
            "variables": {"CTI": "1"},
        },
    ),
    "originate_application[Record]": (
        a.originate_application,
        {"device": "PJSIP/201", "application": "Record", "data": "custom/welcome.wav,3,60"},
    ),
    "spy": (
        a.spy,
        {
            "device": "PJSIP/200",
            "target_channel": "PJSIP/201-00000001",
            "mode": "listen",
            "caller_id": ("Supervisor", "200"),
        },
    ),
    "hangup": (a.hangup, {"channel": "PJSIP/201-00000001", "cause": 16}),
    "redirect": (
        a.redirect,
        {
            "channel": "PJSIP/201-00000001",
            "exten": "204",
            "context": "from-internal",
            "priority": 1,
            "extra_channel": "PJSIP/202-00000002",
            "extra_exten": "205",
            "extra_context": "from-internal",
            "extra_priority": 1,
        },
    ),
    "blind_transfer": (
        a.blind_transfer,
        {"channel": "PJSIP/201-00000001", "exten": "204", "context": "from-internal"},
    ),
    "atxfer": (
        a.atxfer,
        {"channel": "PJSIP/201-00000001", "exten": "204", "context": "from-internal"},
    ),
    "park": (
        a.park,
        {
            "channel": "PJSIP/201-00000001",
            "timeout_channel": "PJSIP/202-00000002",
            "parkinglot": "default",
        },
    ),
    "pickup_parked": (
        a.pickup_parked,
        {"device": "PJSIP/203", "slot": "701", "context": "from-internal", "caller_id": ALICE},
    ),
    "mixmonitor": (
        a.mixmonitor,
        {"channel": "PJSIP/201-00000001", "file": "2026/11/25/call.wav", "options": "a"},
    ),
    "mixmonitor_mute": (
        a.mixmonitor_mute,
        {"channel": "PJSIP/201-00000001", "mute": True, "direction": "both"},
    ),
    "stop_mixmonitor": (a.stop_mixmonitor, {"channel": "PJSIP/201-00000001"}),
    "queue_add": (
        a.queue_add,
        {
            "queue": "sales",
            "interface": "Local/203@from-queue/n",
            "state_interface": "hint:203@ext-local",
            "member_name": "Carol Clark",
            "penalty": 0,
            "paused": False,
        },
    ),
    "queue_remove": (a.queue_remove, {"queue": "sales", "interface": "PJSIP/203"}),
    "queue_pause": (
        a.queue_pause,
        {"interface": "PJSIP/203", "paused": True, "queue": "sales", "reason": "Lunch"},
    ),
    "queue_penalty": (
        a.queue_penalty,
        {"interface": "PJSIP/203", "penalty": 2, "queue": "sales"},
    ),
    "queue_log": (
        a.queue_log,
        {
            "queue": "sales",
            "event": "PAUSE",
            "interface": "PJSIP/203",
            "message": "Lunch",
            "uniqueid": "1795638298.12",
        },
    ),
    "queue_status": (a.queue_status, {"queue": "sales", "member": "PJSIP/203"}),
    "queue_summary": (a.queue_summary, {"queue": "sales"}),
    "db_put": (a.db_put, {"family": "DND", "key": "203", "value": "YES"}),
    "db_del": (a.db_del, {"family": "DND", "key": "203"}),
    "db_get": (a.db_get, {"family": "CF", "key": "203"}),
    "db_get_tree": (a.db_get_tree, {"family": "QPENALTY/sales", "key": "agents"}),
    "command": (a.command, {"cmd": "database show DND"}),
    "devstate_change": (a.devstate_change, {"name": "DND201", "state": "BUSY"}),
    "presencestate_change": (
        a.presencestate_change,
        {"extension": "201", "state": "AWAY", "subtype": "out", "message": "back at 2"},
    ),
    "set_device_state": (a.set_device_state, {"name": "DND201", "state": "BUSY"}),
    "core_show_channels": (a.core_show_channels, {}),
    "extension_state_list": (a.extension_state_list, {}),
    "extension_state": (a.extension_state, {"exten": "201", "context": "ext-local"}),
    "device_state_list": (a.device_state_list, {}),
    "parked_calls": (a.parked_calls, {"parkinglot": "default"}),
    "parkinglots": (a.parkinglots, {}),
    "pjsip_show_contacts": (a.pjsip_show_contacts, {}),
    "bridge_list": (a.bridge_list, {}),
    "bridge_info": (a.bridge_info, {"bridge": "2dedb84f-64d0-4549-9032-6198f0b213f8"}),
    "status": (a.status, {"channel": "PJSIP/201-00000001", "variables": ["DIALSTATUS"]}),
    "getvar": (a.getvar, {"channel": "PJSIP/201-00000001", "variable": "MIXMONITOR_FILENAME"}),
    "mailbox_count": (a.mailbox_count, {"mailbox": "203@default"}),
    "mailbox_status": (a.mailbox_status, {"mailbox": "203@default"}),
    "voicemail_users_list": (a.voicemail_users_list, {}),
    "voicemail_user_status": (a.voicemail_user_status, {"context": "default", "mailbox": "203"}),
    "voicemail_box_summary": (a.voicemail_box_summary, {"context": "default", "mailbox": "203"}),
    "voicemail_remove": (
        a.voicemail_remove,
        {"context": "default", "mailbox": "203", "folder": "INBOX", "message_id": "1795-0000"},
    ),
    "voicemail_refresh": (a.voicemail_refresh, {"context": "default", "mailbox": "203"}),
}

#: Builders and helpers not called through BUILDERS above (pure functions of actions).
NOT_BUILDERS = {
    "check_async",
    "is_list_action",
    "list_complete_event",
    "to_bytes",
    "with_action_id",
}


def test_every_public_builder_is_fuzzed() -> None:
    public = {
        name
        for name, obj in vars(a).items()
        if callable(obj)
        and not name.startswith("_")
        and getattr(obj, "__module__", "") == a.__name__
    }
    assert public - NOT_BUILDERS == {builder.__name__ for builder, _ in BUILDERS.values()}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name, (_, kwargs) in BUILDERS.items():
        for arg, value in kwargs.items():
            if isinstance(value, str | tuple | dict | list):
                cases.append((name, arg))
    return cases


STRING_CASES = _cases()
INT_CASES = [
    (name, arg)
    for name, (_, kwargs) in BUILDERS.items()
    for arg, value in kwargs.items()
    if isinstance(value, int)  # bools included: they must refuse ints and text too
]

# Characters and fragments that break AMI framing or mean something downstream.
NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\r\n\r\n",
    "\x00",
    "\x85",
    "\u2028",
    "\u2029",
    "\t",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\udcff",
    ": ",
    "\r\nAction: Hangup\r\nChannel: PJSIP/201-00000001\r\n\r\n",
    "\nAction: Command\nCommand: core stop now\n\n",
    "|",
    ",",
    ";",
    '"',
    "'",
    "\\",
    "..",
    "/",
    "$",
    "${SHELL(id)}",
    "(",
    ")",
    "&",
    " ",
    "\u00a0",
    "é",
    "😀",
    "/^.*$/",
]


def _spliced(valid: str) -> st.SearchStrategy[str]:
    """A valid value with nasty text put somewhere into it."""
    return st.builds(
        lambda pos, bad, tail: valid[:pos] + bad + valid[pos:] + tail,
        st.integers(0, len(valid)),
        st.sampled_from(NASTY),
        st.text(max_size=4),
    )


def _texts(valid: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(),
        st.text(alphabet=st.sampled_from(sorted(set("".join(NASTY) + valid + "AZaz09")))).filter(
            bool
        ),
        _spliced(valid),
        st.text(min_size=200, max_size=3000),
        st.integers(1, 400).map(lambda n: (valid or "x") * n),
    )


def _fuzz(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, str):
        return _texts(value)
    if isinstance(value, tuple):
        return st.one_of(
            st.tuples(_texts(value[0]), st.just(value[1])),
            st.tuples(st.just(value[0]), _texts(value[1])),
            st.tuples(st.none() | st.text(), st.none() | st.text()),
        )
    if isinstance(value, dict):
        return st.one_of(
            st.dictionaries(st.text(), st.text(), max_size=4),
            st.dictionaries(st.just("CTI"), _texts("1"), min_size=1, max_size=1),
        )
    if isinstance(value, list):
        return st.one_of(st.lists(st.text(), max_size=4), st.lists(_texts(value[0]), max_size=3))
    raise AssertionError(value)


def assert_one_clean_action(action: object) -> None:
    """The action passes frame_check and goes on the wire as exactly one message."""
    assert isinstance(action, dict)
    assert next(iter(action)) == "Action"
    assert all(isinstance(k, str) and isinstance(val, str) for k, val in action.items())
    frame_check(action)
    wire = a.to_bytes(action)
    # The framer only yields responses and events: a marker header makes this one.
    framer = AmiFramer()
    got = framer.feed(BANNER + b"Response: Follows\r\n" + wire + b"Event: Sentinel\r\n\r\n")
    assert got == [{"Response": "Follows", **action}, {"Event": "Sentinel"}]
    assert framer.skipped == 0
    # Asterisk ends a line at LF (with or without CR) and drops a value's leading blanks:
    # it must read the same headers back.
    lines = wire.split(b"\n")
    assert lines[-2:] == [b"\r", b""]
    headers = [line.removesuffix(b"\r").decode() for line in lines[:-2]]
    assert [h.partition(":")[0] for h in headers] == list(action)
    assert [h.partition(":")[2].lstrip(" \t") for h in headers] == list(action.values())


def _check(name: str, arg: str, value: Any) -> None:
    builder, kwargs = BUILDERS[name]
    try:
        result = builder(**{**kwargs, arg: value})
    except AmiValueError as err:
        assert_readable(err, arg)
        return
    if isinstance(result, str):  # md5_key: a hex digest
        assert len(result) == 32 and result.isalnum()
        return
    assert_one_clean_action(result)


def assert_readable(err: AmiValueError, arg: str) -> None:
    message = str(err)
    assert message.startswith(f"{err.field}: ")
    assert len(message) <= 200, message
    assert all(unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in message), (
        message
    )


@pytest.mark.parametrize(("name", "arg"), STRING_CASES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_is_refused_or_framed_as_one_action(name: str, arg: str, data: Any) -> None:
    _check(name, arg, data.draw(_fuzz(BUILDERS[name][1][arg]), label=arg))


@pytest.mark.parametrize(("name", "arg"), INT_CASES)
@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.integers(), st.booleans(), st.text(max_size=5), st.none(), st.floats()))
def test_any_number_or_flag_is_refused_or_framed(name: str, arg: str, value: Any) -> None:
    builder, kwargs = BUILDERS[name]
    try:
        result = builder(**{**kwargs, arg: value})
    except AmiValueError as err:
        assert_readable(err, arg)
        return
    assert_one_clean_action(result)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_valid_arguments_build_a_clean_action(name: str) -> None:
    builder, kwargs = BUILDERS[name]
    result = builder(**kwargs)
    if name != "md5_key":
        assert_one_clean_action(result)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(
            st.text(max_size=12).filter(lambda k: k.lower() not in ("response", "event")),
            st.sampled_from(["Action", "Channel", "action"]),
        ),
        st.one_of(st.text(max_size=40), st.sampled_from(NASTY)),
        max_size=5,
    )
)
def test_frame_check_lets_through_only_single_clean_actions(action: dict[str, str]) -> None:
    action = {"Action": "Ping", **action}
    try:
        frame_check(action)
    except AmiValueError as err:
        assert_readable(err, "")
        return
    assert_one_clean_action(action)
