"""Bus consumers: after every (re)connection and resync, the rules go to the AstDB again."""

from __future__ import annotations

from ctibot.plugin import PbxResynced

from .services import OffhourService


async def resynced(service: OffhourService, event: PbxResynced) -> None:
    """The PBX may have restarted (or its AstDB been edited): write every rule again."""
    await service.publish_all()


HANDLERS = {PbxResynced: resynced}
