"""Two-way DND (X4): the chat client's "Do not disturb" sets the PBX's, and back."""

from __future__ import annotations

from ctibot.plugin import PluginContext, UserConfig


class DndSync:
    """PBX DND follows a *change* of the user's XMPP DND, never anything else.

    The other way round needs nothing here: the presence plugin shows the PBX's
    DND on the user's virtual JIDs.
    """

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.phone = ctx.services["phone"]
        self.xmpp_dnd: dict[str, bool] = {}  # what the user's XMPP presence last said about DND

    async def on_show(self, user: UserConfig, show: str) -> None:
        dnd = show == "dnd"
        before = self.xmpp_dnd.get(user.name)
        self.xmpp_dnd[user.name] = dnd
        if before is None and not dnd:
            return  # logging in available says nothing about a DND set on the phone
        if before == dnd:
            return
        try:
            # The service compares with the PBX before writing: no ping-pong.
            result = await self.phone.set_dnd(user, dnd)
        except Exception as exc:  # a PBX error must not break presence handling
            self.ctx.log.warning("DND for %s not changed: %s", user.name, exc)
            return
        if result.changed:
            self.ctx.log.info(
                "%s set DND %s from their chat client", user.name, "on" if dnd else "off"
            )
