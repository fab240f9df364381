"""Automatic queue login (F9): users with ``auto_queue_login`` follow their chat presence."""

from __future__ import annotations

from ctibot.plugin import PluginContext, UserConfig


class AutoQueue:
    """Online: into the user's queues; offline: out of them (``queue_presence``)."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.queues = ctx.services["queues"]

    async def online(self, user: UserConfig) -> None:
        await self._follow(user, True)

    async def away(self, user: UserConfig) -> None:
        await self._follow(user, False)

    async def _follow(self, user: UserConfig, online: bool) -> None:
        try:
            result = await self.queues.queue_presence(user, online)
        except Exception as exc:  # never let a PBX refusal break presence handling
            self.ctx.log.info(
                "automatic queue %s for %s: %s", "login" if online else "logout", user.name, exc
            )
            return
        if result is not None:
            self.ctx.log.info(
                "%s automatically %s",
                user.name,
                "logged into queues" if online else "logged out of queues",
            )
