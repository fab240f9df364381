"""The off-hour page: rules per inbound route, announcements (upload, record, listen, edit)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import request, send_file

from ctibot.plugin import BadArgument, NotFound, PbxUnavailable

from .live import TOPIC, OffhourLive, announcement_json, rule_json
from .services import ACTIONS, MODES, OffhourService

PERMISSION = "offhour"
_TIMEZONES = ("UTC", "Europe/Rome", "Europe/London", "Europe/Berlin", "America/New_York")


class RuleIn(BaseModel):
    """An off-hour rule (``start``/``end`` as local date-times in ``timezone``)."""

    mode: str = Field(description="never | always | between")
    action: str = Field("hangup", description="hangup | voicemail | redirect")
    target: str = Field("", max_length=40, description="voicemail box or destination")
    start: str = Field("", max_length=25, description="between: e.g. 2026-08-01T18:00")
    end: str = Field("", max_length=25, description="between: e.g. 2026-08-31T08:00")
    timezone: str | None = Field(None, max_length=64, description="e.g. Europe/Rome")
    announcement: int | None = Field(None, description="an announcement id")


class AnnouncementIn(BaseModel):
    """An announcement's description and visibility."""

    description: str = Field(max_length=200)
    public: bool = False


def _public(form: Any) -> bool:
    return str(form.get("public", "")).lower() in ("1", "on", "true", "yes")


def routes(web: Any, service: OffhourService) -> None:
    """Add the off-hour page, its actions, its JSON API and its live topic to the web panel."""
    live = OffhourLive(web, service)
    # Only users with the page's permission subscribe; each gets their own view.
    web.live(TOPIC, snapshot=live.view, permission=PERMISSION)

    @web.page(
        "/offhour",
        permission=PERMISSION,
        menu={"en": "Off-hour", "it": "Fuori orario"},
        order=70,
        template="offhour/index.html",
    )
    async def offhour_page(req: Any) -> dict[str, Any]:
        timezones = list(_TIMEZONES)
        if service.timezone not in timezones:
            timezones.insert(0, service.timezone)
        return {
            "routes": await service.overview(req.user),
            "announcements": await service.announcements(req.user),
            "modes": MODES,
            "actions": ACTIONS,
            "timezones": timezones,
            "default_timezone": service.timezone,
            "me": req.user.name,
            "names": {u.name: u.fullname for u in service.config.users},
            "max_upload_kb": service.max_upload // 1000,
        }

    @web.action("/offhour/routes/<did>/rule", permission=PERMISSION)
    async def set_rule(req: Any, did: str) -> Any:
        form = req.form
        try:
            await service.set_rule(
                req.user,
                did,
                mode=form.get("mode", ""),
                action=form.get("action", "hangup"),
                target=form.get("target", ""),
                start=form.get("start", ""),
                end=form.get("end", ""),
                timezone=form.get("timezone") or None,
                announcement=form.get("announcement") or None,
            )
        except PbxUnavailable:
            return req.back(req.t("offhour.web.saved_offline", did=did))
        return req.back(req.t("offhour.web.saved", did=did))

    @web.action("/offhour/announcements/upload", permission=PERMISSION)
    async def upload(req: Any) -> Any:
        files = await request.files
        sent = files.get("file")
        if sent is None or not sent.filename:
            raise BadArgument("offhour.error.no_file")
        # Read one byte past the cap: a bigger file is refused without reading it all.
        data = sent.read(service.max_upload + 1)
        found = await service.upload(
            req.user, data, req.form.get("description", ""), _public(req.form)
        )
        return req.back(req.t("offhour.web.uploaded", id=found.id))

    @web.action("/offhour/announcements/record", permission=PERMISSION)
    async def record(req: Any) -> Any:
        await service.record_by_phone(req.user, req.form.get("description", ""), _public(req.form))
        return req.back(req.t("offhour.web.recording_started"))

    @web.action("/offhour/announcements/<number>/edit", permission=PERMISSION)
    async def edit(req: Any, number: str) -> Any:
        found = await service.update_announcement(
            req.user, number, req.form.get("description", ""), _public(req.form)
        )
        return req.back(req.t("offhour.web.updated", id=found.id))

    @web.action("/offhour/announcements/<number>/delete", permission=PERMISSION)
    async def delete(req: Any, number: str) -> Any:
        found = await service.delete_announcement(req.user, number)
        return req.back(req.t("offhour.web.deleted", id=found.id))

    @web.api("/api/offhour/announcements/<number>/audio", methods=("GET",), permission=PERMISSION)
    async def audio(req: Any, number: str) -> Any:
        """The announcement's WAV (its id names it; never a path from the request)."""
        found = await service.announcement(req.user, number)
        path = service.audio_file(found)
        if path is None:
            raise NotFound("offhour.error.no_such_announcement", id=found.id)
        try:
            return await send_file(path, mimetype="audio/wav", conditional=True)
        except FileNotFoundError:  # deleted between the look and the answer
            raise NotFound("offhour.error.no_such_announcement", id=found.id) from None

    @web.api("/api/offhour/announcements", methods=("POST",), permission=PERMISSION)
    async def api_upload(req: Any) -> dict[str, Any]:
        """Upload an announcement: multipart ``file`` (WAV or MP3), ``description``, ``public``."""
        files = await request.files
        sent = files.get("file")
        if sent is None:
            raise BadArgument("offhour.error.no_file")
        found = await service.upload(
            req.user,
            sent.read(service.max_upload + 1),
            req.form.get("description", ""),
            _public(req.form),
        )
        return announcement_json(found, req.user)

    @web.api(
        "/api/offhour/announcements/record",
        methods=("POST",),
        permission=PERMISSION,
        request=AnnouncementIn,
    )
    async def api_record(req: Any) -> dict[str, Any]:
        """Record an announcement by phone: the user's phone rings into ``Record``."""
        data: AnnouncementIn = req.json
        found = await service.record_by_phone(req.user, data.description, data.public)
        return announcement_json(found, req.user)

    @web.api(
        "/api/offhour/announcements/<number>",
        methods=("POST",),
        permission=PERMISSION,
        request=AnnouncementIn,
    )
    async def api_edit(req: Any, number: str) -> dict[str, Any]:
        """Change an announcement's description or visibility (its author only)."""
        data: AnnouncementIn = req.json
        found = await service.update_announcement(req.user, number, data.description, data.public)
        return announcement_json(found, req.user)

    @web.api("/api/offhour/announcements/<number>", methods=("DELETE",), permission=PERMISSION)
    async def api_delete(req: Any, number: str) -> dict[str, Any]:
        """Delete an announcement (its author only; not while a rule uses it)."""
        found = await service.delete_announcement(req.user, number)
        return {"deleted": found.id}

    @web.api("/api/offhour", methods=("GET",), permission=PERMISSION)
    async def api_overview(req: Any) -> dict[str, Any]:
        return {
            "routes": [rule_json(v) for v in await service.overview(req.user)],
            "announcements": [
                announcement_json(a, req.user) for a in await service.announcements(req.user)
            ],
        }

    @web.api("/api/offhour/routes/<did>", methods=("POST",), permission=PERMISSION, request=RuleIn)
    async def api_set_rule(req: Any, did: str) -> dict[str, Any]:
        """Set a route's off-hour rule; it goes to the PBX's AstDB at once."""
        data: RuleIn = req.json
        await service.set_rule(
            req.user,
            did,
            mode=data.mode,
            action=data.action,
            target=data.target,
            start=data.start,
            end=data.end,
            timezone=data.timezone,
            announcement=data.announcement,
        )
        view = next(v for v in await service.overview(req.user) if v.route.did == did)
        return rule_json(view)
