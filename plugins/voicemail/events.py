"""Bus handlers: a box's counts changed (MessageWaiting) -> the live badge and a chat notice."""

from __future__ import annotations

from urllib.parse import quote

from ctibot.plugin import VoicemailCountChanged, translate

from .services import VoicemailService

#: Notices sent for one change at most (a box that fills at once gets a few, not a flood).
MAX_NOTICES = 3


def listen_url(service: VoicemailService, key: str) -> str:
    """The link that opens the voicemail page on this message, playing it."""
    web = getattr(service.config, "web", None)
    base = str(getattr(web, "public_url", "") or "").rstrip("/")
    return f"{base}/voicemail?play={quote(key, safe='/')}"


async def on_count(service: VoicemailService, event: VoicemailCountChanged) -> None:
    """Update the owners' badges; tell them in chat about each message that arrived."""
    box = event.mailbox
    owners = service.owners(box)
    if not owners:
        service.new_messages(box)
        return
    fresh = service.new_messages(box)
    for user in owners:
        service.publish_user(user)
    xmpp = service.ctx.xmpp
    if xmpp is None or not fresh:
        return
    for user in owners:
        if not user.jid:
            continue
        for entry in fresh[-MAX_NOTICES:]:
            body = translate(
                "voicemail.chat.new",
                user.language,
                caller=entry.caller,
                box=box,
                duration=entry.duration,
                url=listen_url(service, entry.key),
            )
            xmpp.send_chat(user, body)


HANDLERS = {VoicemailCountChanged: on_count}
