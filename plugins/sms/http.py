"""The inbound SMS webhook: ``POST /sms/inbound`` with the shared secret.

The gateway posts the sender, our receiving number and the text, as JSON
(``{"from": …, "to": …, "text": …}``) or as a form (the same names, or Twilio's
``From``/``To``/``Body``). The secret comes in the ``X-Ctibot-Secret`` header or
as ``?secret=`` in the URL (for gateways that cannot set headers).
403: no or a wrong secret; 400: a malformed body; 202: no user owns that number.
"""

from __future__ import annotations

from typing import Any

from quart import request

from ctibot.plugin import ServiceError

from .services import SmsService

PATH = "/sms/inbound"
_FIELDS = {"from": ("from", "From", "sender"), "to": ("to", "To"), "text": ("text", "Body", "body")}


def _pick(data: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def routes(http: Any, service: SmsService) -> None:
    """Add the webhook to the HTTP shell."""

    async def inbound() -> tuple[dict[str, str], int]:
        given = request.headers.get("X-Ctibot-Secret") or request.args.get("secret")
        if not service.webhook_allowed(given):
            service.ctx.log.warning("SMS webhook: refused a request from %s", request.remote_addr)
            return {"error": "forbidden"}, 403
        if request.mimetype == "application/json":
            data = await request.get_json(silent=True)
        else:
            data = await request.form
        if not hasattr(data, "__contains__") or isinstance(data, str | list):
            return {"error": "expected a JSON object or a form with from, to, text"}, 400
        fields = {key: _pick(data, names) for key, names in _FIELDS.items()}
        if not all(isinstance(v, str) for v in fields.values()):
            return {"error": "expected from, to and text"}, 400
        try:
            done = await service.receive(fields["from"], fields["to"], fields["text"])
        except ServiceError as exc:
            return {"error": exc.key}, 400
        if done.status == "unknown_number":
            return {"status": "unknown_number"}, 202
        return {"status": done.status}, 200

    http.add_route(PATH, inbound, methods=("POST",), endpoint="sms.inbound")
