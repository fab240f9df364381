"""The My settings page (F23–F28) and its JSON API."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import LANGUAGES

from .services import CLICK_MODES, FORWARD_CHOICES, LOOKUP_FIELDS, NOTICES, SettingsService

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
        """My settings."""
        return await service.get(req.user)
