"""XMPP wiring: the missed-call summary when a user comes back online."""

from __future__ import annotations

from ctibot.plugin import PluginContext

from .services import PopupService


def setup(ctx: PluginContext, service: PopupService) -> None:
    if ctx.xmpp is not None:
        ctx.xmpp.on_online(service.summary)
