"""The JSON API's frame: quart-schema, ``/openapi.json``, the offline docs page, ``/api/me``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from quart import current_app, request
from quart_schema import QuartSchema, RequestSchemaValidationError
from quart_schema.openapi import Info
from werkzeug.exceptions import HTTPException

from ctibot.i18n import LANGUAGES

if TYPE_CHECKING:
    from ctibot.http.web import WebApi, WebRequest


class MeOut(BaseModel):
    """Who I am, what I may do, in which language the panel talks to me."""

    name: str
    fullname: str
    profile: str
    extensions: list[str]
    permissions: list[str]
    language: str


class LanguageIn(BaseModel):
    """The language to talk to me in."""

    language: str


def install(web: WebApi) -> None:
    """quart-schema on the app, its errors as JSON, the OpenAPI document and the docs page."""
    app = web.app
    schema = QuartSchema(
        app,
        info=Info(title="ctibot", version="1"),
        openapi_path=None,  # served below, behind the login, with only the /api routes
        security_schemes={
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in_": "cookie", "name": "ctibot_session"},
        },
        security=[{"bearer": []}, {"session": []}],
    )

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid(exc: RequestSchemaValidationError) -> Any:
        error = exc.validation_error
        details: Any
        if hasattr(error, "errors"):
            details = error.errors(include_url=False, include_input=False)
        else:
            details = str(error)
        body = {"error": "validation", "message": "the request does not fit", "details": details}
        return current_app.json.response(body), 400

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/") or request.path == "/openapi.json":
            body = {"error": (exc.name or "error").lower().replace(" ", "_"),
                    "message": exc.description or exc.name}
            return current_app.json.response(body), exc.code or 500
        return exc

    @web.api("/openapi.json", permission=None, endpoint="shell.openapi")
    async def openapi(req: WebRequest) -> Any:
        """The OpenAPI document of the /api routes (session or token, like them)."""
        document = schema.openapi_provider.schema()
        document["paths"] = {
            path: ops for path, ops in document.get("paths", {}).items() if path.startswith("/api/")
        }
        return current_app.json.response(document)

    @web.page("/api/docs", permission=None, template="apidocs.html", endpoint="shell.api_docs")
    async def docs(req: WebRequest) -> dict[str, Any]:
        return {}

    @web.api("/api/me", permission=None, response=MeOut, endpoint="shell.api_me")
    async def me(req: WebRequest) -> MeOut:
        """The logged-in user (session or token)."""
        user = req.user
        return MeOut(
            name=user.name,
            fullname=user.fullname,
            profile=user.profile,
            extensions=list(user.extensions),
            permissions=sorted(web.config.permissions_of(user)),
            language=req.language,
        )

    @web.api(
        "/api/me/language", methods=("POST",), permission=None, request=LanguageIn,
        response=MeOut, endpoint="shell.api_language",
    )
    async def set_language(req: WebRequest) -> Any:
        """Choose the panel's language for me (en, it)."""
        chosen = req.json.language
        if chosen not in LANGUAGES:
            from ctibot.services.errors import BadArgument

            raise BadArgument("error.bad_choice", value=chosen, choices=", ".join(LANGUAGES))
        await web.set_language(req.user, chosen)
        req.language = chosen
        return await me(req)

