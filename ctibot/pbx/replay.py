"""Replays a raw AMI capture through the framer and the state model (field debugging).

Without a configuration the layout is inferred from what the capture itself shows:
the phones' hints (``ExtensionStatus`` in ``ext-local``), the devices their calls
use (``PJSIP/201``, the lab's ``Local/201@phones``) and the trunks (endpoints that
are not extensions, Local channels into ``from-pstn`` / ``pstn-sim`` /
``from-trunk…``). Only those numbers are extensions: an outside number is never
taken for a phone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ctibot.pbx.events import DomainEvent
from ctibot.pbx.framing import AmiFramer, AmiMessage
from ctibot.pbx.layout import PbxLayout, TrunkSpec
from ctibot.pbx.naming import PHONE_TECHS, device_of_channel, is_extension_like
from ctibot.pbx.state import PbxState

#: Dialplan contexts a call from or to the outside runs in (FreePBX, the capture lab).
TRUNK_CONTEXTS = ("from-pstn", "from-trunk", "pstn-sim", "from-did")
#: Contexts of Local legs that reach an extension without being its phone.
LEG_CONTEXTS = ("from-queue", "from-internal", "ext-local", "sub-dial-ext", "ext-queues")
_CHANNEL_EVENTS = frozenset({"Newchannel", "CoreShowChannel", "Status", "DialBegin"})


@dataclass(frozen=True, slots=True)
class InferredLayout:
    """A layout guessed from a capture, and a one-line account of it for the user."""

    layout: PbxLayout
    summary: str
    directions: bool  # whether the capture showed enough to tell inbound / outbound / internal


def _is_trunk_context(context: str) -> bool:
    return context.startswith(TRUNK_CONTEXTS) or "pstn" in context or "trunk" in context


def _channel_names(msg: AmiMessage) -> list[str]:
    names = []
    for key in ("Channel", "DestChannel"):
        value = msg.get(key)
        if isinstance(value, str) and value:
            names.append(value)
    return names


def infer_layout(messages: list[AmiMessage]) -> InferredLayout:
    """What the capture shows of the PBX: its extensions, their phones' devices, its trunks."""
    hints: set[str] = set()
    devices: set[str] = set()
    for msg in messages:
        event = msg.get("Event")
        if event == "ExtensionStatus":
            exten, context = msg.get("Exten"), msg.get("Context")
            if context == "ext-local" and isinstance(exten, str) and is_extension_like(exten):
                hints.add(exten)
        elif event in _CHANNEL_EVENTS:
            for name in _channel_names(msg):
                devices.add(device_of_channel(name))
    templates: Counter[str] = Counter()
    numbers_of: dict[str, set[str]] = {}
    trunk_globs: dict[str, set[str]] = {}
    for device in sorted(devices):
        tech, _, resource = device.partition("/")
        if device.startswith(PHONE_TECHS):
            if is_extension_like(resource):
                template = f"{tech}/{{extension}}"
                numbers_of.setdefault(template, set()).add(resource)
            elif resource and "@" not in resource:
                trunk_globs.setdefault(resource, set()).add(f"{device}-*")
        elif tech == "Local":
            number, _, context = resource.partition("@")
            if _is_trunk_context(context):
                trunk_globs.setdefault(context, set()).add(f"Local/*@{context}-*")
            elif context and context not in LEG_CONTEXTS and is_extension_like(number):
                numbers_of.setdefault(f"Local/{{extension}}@{context}", set()).add(number)
    for template, numbers in numbers_of.items():
        # With hints, a template counts the hinted phones it names; without, only real
        # endpoints (PJSIP/201) are phones: a Local context could be anything.
        if hints:
            templates[template] = len(numbers & hints)
        elif not template.startswith("Local/"):
            templates[template] = len(numbers)
    template, score = templates.most_common(1)[0] if templates else ("PJSIP/{extension}", 0)
    extensions = set(hints)
    if score:
        phones = numbers_of[template]
        extensions |= phones & hints if hints else phones
    trunks = tuple(TrunkSpec(name, tuple(sorted(globs))) for name, globs in trunk_globs.items())
    layout = PbxLayout(
        extensions=tuple(sorted(extensions, key=lambda n: (len(n), n))),
        device_template=template,
        trunks=trunks,
        strict=True,
    )
    directions = bool(extensions or trunks)
    if not directions:
        summary = (
            "no configuration, and the capture shows no phones' hints or trunks: "
            "call directions need --config (or --lab for the test captures)"
        )
    else:
        shown = ", ".join(layout.extensions[:8]) + (" …" if len(extensions) > 8 else "")
        parts = [
            f"{len(extensions)} extension{'s' if len(extensions) > 1 else ''} ({shown})"
            if extensions
            else "no extensions",
            f"phones {template}" if score else "no phones' devices",
            "trunks " + ", ".join(t.name for t in trunks) if trunks else "no trunks",
        ]
        summary = "no configuration: inferred from the capture: " + "; ".join(parts)
    return InferredLayout(layout, summary, directions)


def _messages(data: bytes) -> list[AmiMessage]:
    return AmiFramer().feed(data)


def replay_messages(
    messages: list[AmiMessage], layout: PbxLayout
) -> tuple[PbxState, list[DomainEvent]]:
    """Feed framed AMI messages to a replay-clocked state."""
    state = PbxState.for_replay(layout)
    events: list[DomainEvent] = []
    for message in messages:
        if "Event" in message:
            events.extend(state.apply(message))
    return state, events


def replay_events(data: bytes, layout: PbxLayout) -> tuple[PbxState, list[DomainEvent]]:
    """Feed raw AMI bytes (as received, banner first) to a replay-clocked state."""
    return replay_messages(_messages(data), layout)


def replay_capture(data: bytes, layout: PbxLayout | None = None) -> dict[str, Any]:
    """The final state, as JSON-ready data, after replaying raw AMI bytes.

    Without a layout, the one :func:`infer_layout` reads from the capture.
    """
    messages = _messages(data)
    if layout is None:
        layout = infer_layout(messages).layout
    state, _ = replay_messages(messages, layout)
    return state.snapshot()


def infer_from_bytes(data: bytes) -> InferredLayout:
    """:func:`infer_layout` of raw AMI bytes."""
    return infer_layout(_messages(data))
