"""Hostile chat input: fuzzed bodies always get a short answer or none, no bad AMI value leaves;
flooding senders are rate-limited with one notice per window."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctibot.commands import RateLimiter, Verdict, dispatch, parse
from ctibot.demo.server import DemoPbx
from ctibot.i18n import translate
from ctibot.loader import Plugins
from ctibot.pbx.state import PbxState
from ctibot.pbx.validate import frame_check
from ctibot.services import load_services

from harness import Harness
from services_fixtures import USERS, office_config

USER = {u.name: u for u in USERS}


class FakeAmi:
    """Says yes to everything and checks every action as the AMI client would."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, action: dict[str, str]) -> Any:
        frame_check(action)  # raises on a value that would break the AMI framing
        for key, value in action.items():
            assert "\r" not in value and "\n" not in value, (key, value)
        self.sent.append(dict(action))
        return [] if action.get("Action") == "DBGetTree" else {"Response": "Success"}


async def _busy_office_state() -> PbxState:
    """The state of a demo office where alice (201) talks with bob (202)."""
    async with DemoPbx(time_scale=0.05) as pbx:
        harness = Harness(pbx)
        harness.client.start()
        await harness.client.wait_ready(5)
        pbx.call("201", "202")
        state = harness.state
        await harness.until(lambda: any(c.answered_at for c in state.calls.values()))
        await harness.client.stop()
        return state


@pytest.fixture(scope="module")
def busy_state() -> PbxState:
    return asyncio.run(_busy_office_state())


#: The commands of the bundled plugins, as the default configuration enables them.
registry = Plugins(office_config(), pbx=None, ami=None).commands

AMI_INJECTIONS = [
    "call 202\r\nAction: Command\r\nCommand: core restart now",
    "dnd on\r\n\r\nAction: Originate\r\nChannel: PJSIP/999",
    "transfer 203\nAction: Hangup\nChannel: /.*/",
    "forward 333\r\nAction: DBPut\r\nFamily: CF",
    "queue pause lunch|break\r\nEvent: PAUSE sales",
    "queue pause Action: Command sales",
    "call Action: Originate",
    "spy 202,qS\r\nApplication: System",
    "forward ${SHELL(rm -rf /)} busy",
    "call 202\x00Action: Logoff",
    "whisper PJSIP/202-0000\u2028Action: Command",
    "record start\x85Action: Command",
]
bodies = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda word, rest: f"{word} {rest}",
        st.sampled_from(sorted(registry.words())),
        st.text(max_size=120),
    ),
    st.builds(
        lambda word, rest: f"{word} {rest}",
        st.sampled_from(sorted(registry.words())),
        st.text(alphabet="0123456789+*#,;&|$(){}<>\"'\\/ \r\n\t:-_.@", max_size=60),
    ),
    st.sampled_from(AMI_INJECTIONS),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["9", "a", "é", "\n", " ", "call 1"]),
        st.integers(2_000, 100_000),
    ),
)
TRACE_MARKS = ("Traceback", 'File "', "Error:", "Exception", "ctibot.")


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, who=st.sampled_from(["alice", "bob", "carol", "dave"]))
def test_any_body_gets_a_short_answer_or_none(busy_state: PbxState, body: str, who: str) -> None:
    ami = FakeAmi()
    services = load_services(office_config(), busy_state, ami)
    services.calls.park_confirm = 0.0
    user = USER[who]
    loop = asyncio.new_event_loop()
    try:
        reply = loop.run_until_complete(dispatch(services, user, body))
    finally:
        loop.close()
    if reply is None:
        assert not body.strip()
        return
    parsed = parse(body, user.language, registry)
    limit = 2000 if isinstance(parsed, tuple) and parsed[0].name == "help" else 500
    assert 0 < len(reply) < limit, (body[:80], reply)
    # A reply may echo the user's words, never a traceback's.
    assert not any(mark in reply and mark not in body for mark in TRACE_MARKS), reply
    assert reply != translate("internal_error", user.language), body[:200]
    for action in ami.sent:
        frame_check(action)


async def test_injections_never_reach_the_pbx_as_extra_headers(busy_state: PbxState) -> None:
    ami = FakeAmi()
    services = load_services(office_config(), busy_state, ami)
    for body in AMI_INJECTIONS:
        reply = await dispatch(services, USER["carol"], body)
        assert reply is not None and len(reply) < 500
    for action in ami.sent:
        assert not any("Action" in value or "Command:" in value for value in action.values())


# -- rate limiting -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_warns_once_per_window_then_recovers() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window=10.0, clock=clock)
    assert [limiter.allow("a@x") for _ in range(3)] == [True, True, True]
    assert limiter.check("a@x") is Verdict.WARN
    assert limiter.check("a@x") is Verdict.DROP
    assert limiter.allow("b@x")  # others are not affected
    clock.now = 5.0
    assert limiter.check("a@x") is Verdict.DROP
    clock.now = 10.5
    assert limiter.allow("a@x")
    assert [limiter.check("a@x") for _ in range(3)][-1] is Verdict.WARN
    with pytest.raises(ValueError):
        RateLimiter(limit=0, window=1)


def test_rate_limiter_memory_stays_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window=1.0, clock=clock)
    for i in range(25_000):
        limiter.allow(f"user{i}@x")
    assert len(limiter._hits) <= 10_000


async def test_a_flooding_user_is_told_to_slow_down_once(busy_state: PbxState) -> None:
    ami = FakeAmi()
    services = load_services(office_config(), busy_state, ami)
    limiter = RateLimiter(limit=5, window=60.0)
    replies = [
        await dispatch(services, USER["bob"], "chisono", limiter=limiter, sender="bob@example.com")
        for _ in range(20)
    ]
    assert all(r and r.startswith("Sei Bob Brown") for r in replies[:5])
    assert replies[5] == "Più piano, per favore: troppi comandi in poco tempo."
    assert replies[6:] == [None] * 14
    other = await dispatch(services, USER["alice"], "whoami", limiter=limiter)
    assert other is not None and other.startswith("You are Alice")
