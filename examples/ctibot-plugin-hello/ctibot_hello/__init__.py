"""ctibot's "hello" example plugin: the declaration, and nothing else."""

from __future__ import annotations

from ctibot.plugin import ALL_PROFILES, Permission, Plugin, Setting

from . import commands, events, messages, services

plugin = Plugin(
    name="hello",
    description="An example: says hello and counts the calls that ended",
    version="0.1.0",
    permissions=(Permission("hello", "ask ctibot to say hello", profiles=ALL_PROFILES),),
    settings=(
        Setting(
            "greeting",
            str,
            "",
            "what hello says first (empty: Hello, or Ciao in Italian)",
            check=lambda text: len(text) <= 40 and text.isprintable(),
            expected="a line of at most 40 characters",
        ),
    ),
    service=services.HelloService,
    commands=commands.COMMANDS,
    events=events.HANDLERS,
    messages=messages.MESSAGES,
)
