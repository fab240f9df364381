"""The board's bus consumer: any PBX change makes the board publish its difference soon."""

from ctibot.plugin import DomainEvent

from .services import BoardService


def pbx_changed(service: BoardService, event: DomainEvent) -> None:
    service.changed()


HANDLERS = {DomainEvent: pbx_changed}
