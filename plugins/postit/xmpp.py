"""XMPP wiring: a message to a person's virtual JID is a post-it; markers mark them read."""

from __future__ import annotations

from ctibot.plugin import PluginContext, ServiceError, VirtualMessage, translate

from .services import PostitService


class PostitChat:
    """Turns chat messages between users' virtual JIDs into post-its, and back."""

    def __init__(self, ctx: PluginContext, service: PostitService) -> None:
        self.ctx = ctx
        self.service = service

    def wire(self) -> None:
        xmpp = self.ctx.xmpp
        if xmpp is None:
            return
        xmpp.on_message(self.on_message)
        xmpp.on_online(self.service.deliver_waiting)

    async def on_message(self, msg: VirtualMessage) -> bool:
        """A message or marker to ``<user>@cti…``: True when it was about a post-it."""
        recipient = next((u for u in self.ctx.config.users if u.name == msg.local), None)
        if recipient is None or recipient.name == msg.user.name:
            return False  # a phone, a number, or one's own JID (commands): not ours
        if msg.displayed:
            await self.service.displayed(msg.user, recipient.name, msg.displayed)
        if not msg.body.strip():
            return True  # a marker, a chat state, a receipt in a colleague's conversation
        try:
            await self.service.leave(msg.user, recipient.name, msg.body, origin_id=msg.id)
        except ServiceError as exc:
            self._answer(msg, exc)
            return True
        assert self.ctx.xmpp is not None
        self.ctx.xmpp.send_receipt(msg)  # kept (and sent on, or waiting): "delivered"
        return True

    def _answer(self, msg: VirtualMessage, exc: ServiceError) -> None:
        """Why a message did not become a post-it, in the conversation it was written in."""
        xmpp = self.ctx.xmpp
        assert xmpp is not None
        key = exc.key if exc.key.startswith("postit.") else "postit.error.not_allowed"
        body = "⚠ " + translate(key, msg.user.language, **exc.params)
        xmpp.send_chat(msg.user, body, frm=xmpp.jid_of(msg.local), receipt=False)


async def setup(ctx: PluginContext, service: PostitService) -> None:
    """Hang the post-it handlers on the XMPP hooks (nothing to do without XMPP)."""
    PostitChat(ctx, service).wire()
