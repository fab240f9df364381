"""Bus consumers: the rules to the AstDB after each resync; a call end may finish a recording."""

from __future__ import annotations

from ctibot.plugin import CallEnded, PbxResynced

from .services import OffhourService


async def resynced(service: OffhourService, event: PbxResynced) -> None:
    """The PBX may have restarted (or its AstDB been edited): write every rule again."""
    await service.publish_all()


async def call_ended(service: OffhourService, event: CallEnded) -> None:
    """A recording by phone ends with its call: the live page sees it ready."""
    if service.recording:
        await service.call_ended()


HANDLERS = {PbxResynced: resynced, CallEnded: call_ended}
