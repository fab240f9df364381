"""The settings service: each user's own settings, kept in the core store; forwards via phone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ctibot.plugin import (
    BadArgument,
    PbxRefused,
    PbxUnavailable,
    PluginContext,
    ServiceBase,
    UserConfig,
    clip,
)
from ctibot.plugin import actions as act

#: The store keys (other plugins read these: the calls plugin's call box and dial box).
PREFIX = "settings."
LOOKUP_FIELDS = ("workphone", "cellphone", "homephone")
CLICK_MODES = ("manual", "automatic")
NOTICES = ("postit_email", "postit_sms", "voicemail_email", "voicemail_sms")
FORWARD_CHOICES = ("off", "voicemail", "mobile", "number")
MAX_URL = 500
MAX_RING_SECONDS = 300
#: "Yealink SIP-T54W 96.86.0.100": brand, model, firmware (the last word with digits and dots).
_AGENT = re.compile(r"^\s*(?P<brand>\S+)\s+(?P<model>.*?)\s+v?(?P<firmware>\d+(?:\.\w+)+)\s*$")
DEFAULTS: dict[str, Any] = {
    "default_extension": None,
    "lookup_field": "workphone",
    "url": "",
    "click_to_call": "manual",
    "notices": [],
    "noanswer_timeout": 20,
    "phone_user": "",
}
#: The phone's web password: stored for the calls plugin, never shown, returned nor logged.
PASSWORD_KEY = PREFIX + "phone_password"
MAX_PHONE_LOGIN = 64
MAX_PHONE_PASSWORD = 128


def notice_endpoints(user: UserConfig) -> dict[str, bool]:
    """Which notice channels (F13) can reach the user: an e-mail address, a mobile number."""
    return {"email": bool(user.email), "sms": bool(user.mobile)}


class SettingsService(ServiceBase):
    """Read and save a user's settings (F23–F28); forwards are the phone plugin's to write."""

    def __init__(self, ctx: PluginContext) -> None:
        super().__init__(ctx)
        self.phone = ctx.services.get("phone")

    @property
    def calls(self) -> Any:
        """The calls plugin's service when it runs (automatic click-to-call, test echo)."""
        plugins = getattr(self.ctx.services, "plugins", None)
        everyone = getattr(plugins, "services", None) or self.ctx.services
        return everyone.get("calls")

    async def get(self, user: UserConfig) -> dict[str, Any]:
        """The user's settings, defaults filled in, and what the PBX says of forwards/phones."""
        self.require(user, "my_settings")
        out: dict[str, Any] = {}
        for key, default in DEFAULTS.items():
            value = await self.ctx.store.get_setting(user.name, PREFIX + key)
            out[key] = default if value is None else value
        if out["default_extension"] not in user.extensions:
            out["default_extension"] = user.default_extension
        out["notice_endpoints"] = notice_endpoints(user)
        out["forwards"] = {kind: self.forward_choice(user, kind) for kind in ("busy", "noanswer")}
        agents = await self.user_agents()
        out["phones"] = [self.phone_info(ext, agents) for ext in user.extensions]
        out["phone_password_set"] = isinstance(
            await self.ctx.store.get_setting(user.name, PASSWORD_KEY), str
        )
        automatic = await self.calls.automatic_phones(user) if self.calls is not None else {}
        for phone in out["phones"]:
            phone["automatic"] = phone["extension"] in automatic
        return out

    async def user_agents(self) -> dict[str, str]:
        """Endpoint -> the SIP User-Agent its phone registered with (PJSIPShowContacts);
        empty when the PBX cannot tell (chan_sip, Local devices, no connection)."""
        if not getattr(self.ami, "connected", False):
            return {}
        try:
            items = await self.send(act.pjsip_show_contacts())
        except (PbxUnavailable, PbxRefused):
            return {}
        found: dict[str, str] = {}
        for item in items if isinstance(items, list) else []:
            if item.get("Event") != "ContactList":
                continue
            endpoint = str(item.get("Endpoint") or item.get("Aor") or "")
            agent = str(item.get("UserAgent") or "").strip()
            if endpoint and agent:
                found.setdefault(endpoint, agent)
        return found

    def forward_choice(self, user: UserConfig, kind: str) -> dict[str, Any]:
        """A forward kind as the form shows it: choice (off/voicemail/mobile/number), number."""
        values = [v for k, v in (self.phone.forwards(user) if self.phone else []) if k == kind]
        if not values:
            return {"choice": "off", "number": ""}
        target, _ = self.forward_target(user, values[0])
        return {"choice": target, "number": values[0] if target == "number" else ""}

    def phone_info(self, extension: str, agents: Mapping[str, str]) -> dict[str, Any]:
        """One of the user's phones: its state and, when the PBX tells, brand/model/firmware."""
        known = self.state.extensions.get(extension)
        device = self.layout.device_of(extension)
        endpoint = device.split("/", 1)[1] if device.startswith("PJSIP/") else extension
        agent = agents.get(endpoint)
        parts = _AGENT.match(agent) if agent else None
        return {
            "extension": extension,
            "status": known.status if known is not None else "unknown",
            "user_agent": clip(agent, 120) if agent else None,
            "brand": clip(parts["brand"], 40) if parts else None,
            "model": clip(parts["model"], 60) if parts else None,
            "firmware": clip(parts["firmware"], 40) if parts else None,
        }

    async def save(self, user: UserConfig, data: Mapping[str, Any]) -> dict[str, Any]:
        """Check everything first, then store it and set the forwards: all or nothing."""
        self.require(user, "my_settings")
        chosen: dict[str, Any] = {}
        ext = str(data.get("default_extension", user.default_extension))
        if ext not in user.extensions:
            raise BadArgument("settings.error.extension", extension=clip(ext, 20))
        chosen["default_extension"] = ext
        field = str(data.get("lookup_field", "workphone"))
        if field not in LOOKUP_FIELDS:
            raise BadArgument("error.bad_choice", value=clip(field, 20),
                              choices="|".join(LOOKUP_FIELDS))
        chosen["lookup_field"] = field
        url = str(data.get("url", "")).strip()
        if url and (len(url) > MAX_URL or not url.lower().startswith(("http://", "https://"))
                    or any(c in url for c in "\r\n\t <>\"")):
            raise BadArgument("settings.error.url", maximum=MAX_URL)
        chosen["url"] = url
        mode = str(data.get("click_to_call", "manual"))
        if mode not in CLICK_MODES:
            raise BadArgument(
                "error.bad_choice", value=clip(mode, 20), choices="|".join(CLICK_MODES)
            )
        if mode == "automatic":
            await self.check_automatic(user, ext)
        chosen["click_to_call"] = mode
        password: str | None = None
        if "phone_user" in data:
            login, password = self.phone_login(data)
            chosen["phone_user"] = login
        notices = data.get("notices", [])
        notices = [notices] if isinstance(notices, str) else list(notices or [])
        if any(n not in NOTICES for n in notices):
            raise BadArgument("error.bad_choice", value=clip(str(notices), 40),
                              choices="|".join(NOTICES))
        reach = notice_endpoints(user)
        for notice in notices:
            channel = notice.rpartition("_")[2]
            if not reach[channel]:
                missing = "no_email" if channel == "email" else "no_mobile"
                raise BadArgument(f"settings.error.{missing}")
        chosen["notices"] = sorted(set(notices))
        timeout_text = str(data.get("noanswer_timeout", DEFAULTS["noanswer_timeout"])).strip()
        if not timeout_text.isdigit() or not 1 <= int(timeout_text) <= MAX_RING_SECONDS:
            raise BadArgument("settings.error.timeout", maximum=MAX_RING_SECONDS)
        chosen["noanswer_timeout"] = int(timeout_text)
        forwards: dict[str, str | None] = {}
        may_forward = self.phone is not None and self.may(user, "call_forward")
        for kind in ("busy", "noanswer"):
            choice = data.get(f"forward_{kind}")
            if choice is None or not may_forward:
                continue
            choice = str(choice)
            if choice not in FORWARD_CHOICES:
                raise BadArgument("error.bad_choice", value=clip(choice, 20),
                                  choices="|".join(FORWARD_CHOICES))
            destination = str(data.get(f"forward_{kind}_number", "")).strip()
            if choice == "number" and not destination:
                raise BadArgument("settings.error.number")
            value = destination if choice == "number" else choice
            self.phone.forward_value(user, value)  # refuses a bad number before anything is set
            forwards[kind] = value
        for key, value in chosen.items():
            await self.ctx.store.set_setting(user.name, PREFIX + key, value)
        if chosen.get("phone_user") == "":
            await self.ctx.store.set_setting(user.name, PASSWORD_KEY, None)  # forgotten
        elif password:
            await self.ctx.store.set_setting(user.name, PASSWORD_KEY, password)
        for kind, value in forwards.items():
            timeout = chosen["noanswer_timeout"] if kind == "noanswer" and value != "off" else None
            await self.phone.set_forward(user, kind, value, timeout)
        return chosen

    # -- automatic click-to-call (F27) ----------------------------------------------------

    @staticmethod
    def phone_login(data: Mapping[str, Any]) -> tuple[str, str | None]:
        """The phone's web user and the new password (None: keep the stored one)."""
        login = str(data.get("phone_user") or "").strip()
        password = data.get("phone_password")
        password = password if isinstance(password, str) and password else None
        if len(login) > MAX_PHONE_LOGIN or any(not c.isprintable() or c == ":" for c in login):
            raise BadArgument("settings.error.phone_user", maximum=MAX_PHONE_LOGIN)
        if password is not None and (
            len(password) > MAX_PHONE_PASSWORD or any(not c.isprintable() for c in password)
        ):
            raise BadArgument("settings.error.phone_password", maximum=MAX_PHONE_PASSWORD)
        return login, password

    async def check_automatic(self, user: UserConfig, extension: str) -> None:
        """Automatic mode only for a phone that dials on request (already chosen: kept)."""
        store = self.ctx.store
        if await store.get_setting(user.name, PREFIX + "click_to_call") == "automatic":
            stored = await store.get_setting(user.name, PREFIX + "default_extension")
            if (stored if stored in user.extensions else user.default_extension) == extension:
                return
        if self.calls is None:
            raise BadArgument("settings.error.automatic_off")
        if extension not in await self.calls.automatic_phones(user):
            raise BadArgument("settings.error.automatic", extension=extension)

    async def test_echo(self, user: UserConfig, data: Mapping[str, Any]) -> dict[str, str]:
        """The user's default phone dials the echo test with the credentials given (an empty
        password: the stored one; no user given: the stored user and password)."""
        self.require(user, "my_settings")
        if self.calls is None:
            raise BadArgument("settings.error.automatic_off")
        username: str | None = None
        password: str | None = None
        if str(data.get("phone_user") or "").strip():
            username, password = self.phone_login(data)
        return await self.calls.test_echo(user, username, password)
