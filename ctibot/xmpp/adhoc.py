"""Ad-hoc commands (X3: XEP-0050 + XEP-0004): the same declarations as the chat commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slixmpp import JID, Iq
from slixmpp.plugins.xep_0030.stanza import DiscoItems

from ctibot.commands import adhoc_commands_for, form_for, run_form, translate
from ctibot.commands.base import Form

if TYPE_CHECKING:
    from ctibot.xmpp.gateway import XmppGateway

log = logging.getLogger("ctibot.xmpp")
COMMANDS_NODE = "http://jabber.org/protocol/commands"


class AdhocCommands:
    """Advertises every ad-hoc command on the component JID; checks the user at each run."""

    def __init__(self, gateway: XmppGateway) -> None:
        self.gw = gateway
        self._added = False

    def wire(self) -> None:
        self.gw.xmpp.add_event_handler("session_start", self.on_session_start)

    def on_session_start(self, _: Any) -> None:
        if self._added:  # slixmpp keeps them across reconnects
            return
        self._added = True
        adhoc = self.gw.xmpp.plugin["xep_0050"]
        disco = self.gw.xmpp.plugin["xep_0030"]
        disco.api.register(self._visible_items, "get_items", self.gw.jids.domain, COMMANDS_NODE)
        for cmd in self.gw.services.commands:
            if cmd.adhoc:
                adhoc.add_command(
                    jid=self.gw.jids.domain,
                    node=cmd.name,
                    name=cmd.label("en"),
                    handler=self._starter(cmd.name),
                )

    def _visible_items(self, jid: Any, node: Any, ifrom: Any, data: Any) -> Any:
        """The command list each user sees holds only the commands they may run."""
        disco = self.gw.xmpp.plugin["xep_0030"]
        items = disco.static.get_items(jid, node, ifrom, data)
        user = self.gw.jids.sender(JID(ifrom)) if ifrom else None
        allowed = (
            {c.name for c in adhoc_commands_for(self.gw.config, user, self.gw.services.commands)}
            if user is not None
            else set()
        )
        visible = DiscoItems()
        visible["node"] = node
        for item_jid, item_node, name in items["items"]:
            if item_node in allowed:
                visible.add_item(item_jid, item_node, name)
        return visible

    def _starter(self, name: str) -> Any:
        async def start(iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
            return await self.start(name, iq, session)

        return start

    async def start(self, name: str, iq: Iq, session: dict[str, Any]) -> dict[str, Any]:
        gw = self.gw
        user = gw.jids.sender(iq["from"])
        session["has_next"] = False
        session["next"] = None
        session["payload"] = None
        if user is None:
            session["notes"] = [("error", translate("stranger", "en"))]
            return session
        form = form_for(name, user, services=gw.services)
        if not form.fields:
            text = await run_form(gw.services, user, name, {})
            session["notes"] = [("info", text)]
            return session

        async def complete(payload: Any, session: dict[str, Any]) -> dict[str, Any]:
            values = _values(payload)
            text = await run_form(gw.services, user, name, values)
            session["payload"] = None
            session["next"] = None
            session["notes"] = [("info", text)]
            return session

        session["payload"] = self._xep_form(form)
        session["next"] = complete
        session["allow_complete"] = True
        return session

    def _xep_form(self, form: Form) -> Any:
        xform = self.gw.xmpp.plugin["xep_0004"].make_form(ftype="form", title=form.title)
        if form.instructions:
            xform["instructions"] = form.instructions
        for field in form.fields:
            options = [{"value": v, "label": label} for v, label in field.options]
            kwargs: dict[str, Any] = {
                "var": field.var,
                "ftype": field.type,
                "label": field.label,
                "required": field.required,
            }
            if options:
                kwargs["options"] = options
            if field.default is not None:
                kwargs["value"] = (
                    field.default in ("true", "1", "on")
                    if field.type == "boolean" and isinstance(field.default, str)
                    else field.default
                )
            xform.add_field(**kwargs)
        return xform


def _values(payload: Any) -> dict[str, str | list[str]]:
    """A submitted XEP-0004 form as plain strings (booleans as "true"/"false")."""
    if isinstance(payload, list):
        payload = payload[0] if payload else None
    if payload is None:
        return {}
    values: dict[str, str | list[str]] = {}
    for var, value in payload.get_values().items():
        if isinstance(value, bool):
            values[var] = "true" if value else "false"
        elif isinstance(value, list):
            values[var] = [str(v) for v in value]
        elif value is None:
            values[var] = ""
        else:
            values[var] = str(value)
    return values
