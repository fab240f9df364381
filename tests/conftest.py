"""Shared fixtures: the real AMI captures replayed through PbxState; the fixture modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ctibot.pbx.events import DomainEvent
from ctibot.pbx.framing import AmiFramer, parse_message
from ctibot.pbx.layout import LAB_LAYOUT
from ctibot.pbx.state import PbxState

#: The shared fixtures, each beside the helpers it builds on (tests import those as usual):
#: ``pbx``, ``ctibot`` (harness); ``prosody``, ``ejabberd`` (xmpp_fixtures); ``office``, the
#: services' office (services_fixtures); ``chat_office``, the XMPP stories' office (office);
#: ``slapd``, ``slapd_tls``, ``web_office``, ``web_clients``, ``browser`` (web_fixtures);
#: ``postits``, the post-it service with recording XMPP hooks (postit_fixtures).
pytest_plugins = [
    "harness",
    "xmpp_fixtures",
    "services_fixtures",
    "office",
    "web_fixtures",
    "postit_fixtures",
]

CAPTURES = Path(__file__).parent / "fixtures" / "ami"
CAPTURE_NAMES = sorted(p.stem for p in CAPTURES.glob("*.txt") if not p.name.endswith(".sent.txt"))


@dataclass
class Replay:
    """A capture replayed: the final state and every domain event, in order."""

    state: PbxState
    events: list[DomainEvent] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def capture_bytes(name: str) -> bytes:
    return (CAPTURES / f"{name}.txt").read_bytes()


def sent_actions(name: str) -> dict[str, dict]:
    """The actions the capturing client sent, by ActionID."""
    path = CAPTURES / f"{name}.sent.txt"
    if not path.exists():
        return {}
    actions = {}
    for block in path.read_bytes().decode("utf-8", "replace").split("\r\n\r\n"):
        action = parse_message(block.strip("\r\n"))
        if "ActionID" in action:
            actions[str(action["ActionID"])] = action
    return actions


def replay_capture(
    name: str,
    chunk: int | None = None,
    state: PbxState | None = None,
    client: bool = True,
) -> Replay:
    """Replay ``name`` through AmiFramer and PbxState (replay clock).

    With ``client`` the replay also does what the AMI client does besides
    feeding events: after its own DBPut / DBDel succeed it tells the state
    (AMI sends no event for them).
    """
    state = state or PbxState.for_replay(LAB_LAYOUT)
    replay = Replay(state)
    actions = sent_actions(name) if client else {}
    data = capture_bytes(name)
    framer = AmiFramer()
    step = chunk or len(data)
    for start in range(0, len(data), step):
        for msg in framer.feed(data[start : start + step]):
            replay.messages.append(msg)
            replay.events.extend(state.apply(msg))
            action = actions.get(str(msg.get("ActionID", "")))
            if action and msg.get("Response") == "Success":
                key = f"{action.get('Family')}/{action.get('Key')}"
                if action.get("Action") == "DBPut":
                    replay.events.extend(state.set_astdb(key, str(action.get("Val", ""))))
                elif action.get("Action") == "DBDel":
                    replay.events.extend(state.set_astdb(key, None))
    return replay


@pytest.fixture
def replay() -> Callable[..., Replay]:
    """``replay("inbound_call_did")`` -> Replay with the final state and its events."""
    return replay_capture

