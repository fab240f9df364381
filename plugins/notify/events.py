"""Bus handlers: a voicemail box's counts changed (MessageWaiting) -> notices for its owners."""

from __future__ import annotations

from ctibot.plugin import VoicemailCountChanged

from .services import NotifyService


async def on_count(service: NotifyService, event: VoicemailCountChanged) -> None:
    """New messages in the box reach its owners who are away (by mail and / or SMS)."""
    if event.new:
        await service.voicemail_changed(event.mailbox)


HANDLERS = {VoicemailCountChanged: on_count}
