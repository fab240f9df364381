"""The My settings page (F23–F28) and its JSON API."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import LANGUAGES, BaseModel, Field

from .services import CLICK_MODES, FORWARD_CHOICES, LOOKUP_FIELDS, NOTICES, SettingsService


class EchoIn(BaseModel):
    """The phone's web login to try (empty: the saved one; an empty password: the saved one)."""

    phone_user: str = Field("", description="the user of the phone's own web page")
    phone_password: str = Field(
        "", description="its password (never stored by this call, never returned)"
    )


class EchoOut(BaseModel):
    """The phone took the order: it is calling the echo test."""

    ok: bool
    extension: str
    brand: str
    echo_test: str
    message: str


PAGE = "settings/index.html"
MENU = {"en": "My settings", "it": "Impostazioni"}


def routes(web: Any, service: SettingsService) -> None:
    """Add the settings page, its save action and its API."""

    def context(settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "settings": settings,
            "lookup_fields": LOOKUP_FIELDS,
            "click_modes": CLICK_MODES,
            "notice_kinds": NOTICES,
            "forward_choices": FORWARD_CHOICES,
        }

    @web.page("/settings", permission="my_settings", menu=MENU, order=90, template=PAGE)
    async def settings_page(req: Any) -> dict[str, Any]:
        return context(await service.get(req.user))

    async def save(req: Any, data: Any) -> None:
        await service.save(req.user, data)
        language = data.get("language")
        if language in LANGUAGES:
            await web.set_language(req.user, language)
            req.language = language

    @web.action("/settings", permission="my_settings")
    async def settings_save(req: Any) -> Any:
        if isinstance(req.json, dict):
            data: Any = req.json
        else:
            data = {key: req.form.get(key) for key in req.form}
            data["notices"] = req.form.getlist("notices")
        await save(req, data)
        return req.back(req.t("settings.saved"))

    @web.api("/api/settings", methods=("GET",), permission="my_settings")
    async def api_settings(req: Any) -> dict[str, Any]:
        """My settings (the phone's web password is never returned: only whether it is set)."""
        return await service.get(req.user)

    def echo_text(req: Any, done: dict[str, str]) -> str:
        return req.t("settings.echo_ok", extension=done["extension"], echo_test=done["echo_test"])

    @web.action("/settings/test-echo", permission="my_settings")
    async def settings_test_echo(req: Any) -> Any:
        data = req.json if isinstance(req.json, dict) else req.form
        done = await service.test_echo(req.user, data)
        return req.back(echo_text(req, done))

    @web.api(
        "/api/settings/test-echo",
        methods=("POST",),
        permission="my_settings",
        request=EchoIn,
        response=EchoOut,
    )
    async def api_test_echo(req: Any) -> EchoOut:
        """My default phone dials the echo test with these web credentials (none given: the
        saved ones): proves automatic click-to-call works."""
        data: EchoIn = req.json
        done = await service.test_echo(req.user, data.model_dump())
        return EchoOut(ok=True, message=echo_text(req, done), **done)
