"""The demo PBX's dialplan steps against the captures: Newexten, VarSet, hangup handlers, music.

Real Asterisk sends about half of its events for dialplan steps. For every
call scenario, each channel's sequence of step events must be the capture's,
value by value: context, extension, priority, application and data of each
Newexten; name and value of each VarSet; each hangup handler and music on
hold start / stop. Only values that measure time (ring, answer, dial and
queue times) are not compared, and the order *between* channels is timing.
"""

from __future__ import annotations

import pytest

from ctibot.demo import DemoPbx, Office
from tests.demo_fixtures import (
    RawAmiClient,
    as_dict,
    first_channel_seq,
    load_capture,
    replay,
    split_raw,
)
from tests.test_demo_captures import CALLS, SCALE, _setup, scale_of

STEP_EVENTS = {
    "Newexten",
    "VarSet",
    "HangupHandlerPush",
    "HangupHandlerRun",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
}
#: Variables whose value is a duration.
TIMING = (
    "RINGTIME",
    "ANSWEREDTIME",
    "DIALEDTIME",
    "PROGRESSTIME",
    "QEHOLDTIME",
    "QUEUEWAIT",
    "QUEUEHOLDTIME",
    "QUEUETALKTIME",
)


def dialplan_steps(msgs) -> dict[str, list[tuple[str, ...]]]:
    """For each channel, its step events with their values (durations masked)."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for msg in msgs:
        d = msg if isinstance(msg, dict) else as_dict(msg)
        if d.get("Event") not in STEP_EVENTS or "ActionID" in d:
            continue
        variable, value = d.get("Variable", ""), d.get("Value", "")
        if variable.startswith(TIMING):
            value = "<duration>" if value else ""
        step = (
            d["Event"],
            d["Context"],
            d["Exten"],
            d["Priority"],
            d.get("Application", ""),
            d.get("AppData", ""),
            variable,
            value,
            d.get("Handler", ""),
            d.get("Class", ""),
        )
        out.setdefault(d["Channel"], []).append(step)
    return out


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_dialplan_steps_match_the_capture(name: str) -> None:
    capture = load_capture(name)
    async with DemoPbx(Office.lab(), time_scale=scale_of(name)) as pbx:
        seq = first_channel_seq(capture)
        if seq is not None:
            pbx.engine.channel_seq = seq
        raw = await replay(pbx.port, name, _setup(pbx, name))
    expected, got = dialplan_steps(capture), dialplan_steps(split_raw(raw))
    assert expected  # every call scenario runs dialplan
    assert got.keys() == expected.keys()
    for channel, steps in expected.items():
        assert got[channel] == steps, channel


async def test_a_field_phone_runs_no_lab_dialplan() -> None:
    """With PJSIP phones (the default office) the phone side has no steps: only
    the caller's FreePBX-like routing (sub-dial-ext, Dial) and the bridge."""
    async with DemoPbx(time_scale=SCALE) as pbx:
        client = RawAmiClient()
        await client.login(pbx.port)
        try:
            pbx.inbound_call("0612345678", "ACME Corp", "5550102", talk=2)
            await client.wait_for(lambda m: m.get("Event") == "Hangup", timeout=5)
            await client.wait_for(
                lambda m: m.get("Event") == "Hangup" and m["Channel"].startswith("PJSIP/202-"),
                timeout=5,
            )
        finally:
            await client.close()
    steps = dialplan_steps(client.messages)
    (phone,) = [c for c in steps if c.startswith("PJSIP/202-")]
    assert [s[6] for s in steps[phone]] == ["BRIDGEPEER", "BRIDGEPEER"]
    (trunk,) = [c for c in steps if c.startswith("PJSIP/voip-a-")]
    apps = [s[4] for s in steps[trunk] if s[0] == "Newexten"]
    assert apps == [
        "NoOp",
        "Goto",
        "Gosub",
        "Set",
        "Set",
        "GotoIf",
        "Set",
        "GotoIf",
        "Set",
        "Set",
        "Dial",
    ]
    dial = next(s for s in steps[trunk] if s[4] == "Dial")
    assert (dial[1], dial[5]) == ("sub-dial-ext", "PJSIP/202,15,tTkK")
