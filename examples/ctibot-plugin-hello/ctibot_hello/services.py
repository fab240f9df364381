"""What the plugin does: greet a user, and count the calls that ended since start."""

from __future__ import annotations

from ctibot.plugin import PluginContext, translate


class HelloService:
    """Built by ctibot with the plugin's context; its commands reach it as ``ctx.service``."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.greeting: str = ctx.settings["greeting"]
        self.calls_ended = 0

    def call_ended(self) -> None:
        self.calls_ended += 1

    def greet(self, language: str) -> str:
        """The greeting: the configured one, or the plugin's own in the user's language."""
        return self.greeting or translate("hello.greeting", language)
