"""The operator board (F30–F32): every extension, trunk and parking slot, live, with actions."""

from ctibot.plugin import Plugin, Setting

from . import events, http, messages, services

plugin = Plugin(
    name="board",
    description="the operator board: extensions, trunks and parking live in the browser",
    requires=("calls",),
    uses=("postit", "sms"),  # the per-user post-it and SMS actions, when they run
    settings=(
        Setting(
            "slots",
            str,
            "701-708",
            "the parking slots the board always shows (first-last)",
            check=lambda v: all(p.isdigit() for p in v.split("-", 1)),
            expected='a slot or a range such as "701-708"',
        ),
        Setting(
            "coalesce",
            float,
            0.01,
            "seconds the board gathers PBX changes into one update",
            minimum=0,
            maximum=2,
        ),
    ),
    service=services.BoardService,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
    routes=http.routes,
    teardown=http.teardown,
)
