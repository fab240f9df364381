"""My settings (F23–F28): forwards, default extension, lookup field, URL, click-to-call, notices."""

from ctibot.plugin import ALL_PROFILES, Permission, Plugin

from . import http, messages, services

plugin = Plugin(
    name="settings",
    description="my settings: forwards, default extension, card lookup, URL, notifications",
    requires=("phone",),
    permissions=(Permission("my_settings", "change one's own panel settings", ALL_PROFILES),),
    service=services.SettingsService,
    messages=messages.MESSAGES,
    routes=http.routes,
)
