"""The voicemail page: my boxes' messages, listen (audio/wav, ranges), download, delete."""

from __future__ import annotations

from typing import Any

from quart import send_file

from ctibot.plugin import NotFound

from .services import SpoolUnreadable, VoicemailService

MENU = {"en": "Voicemail", "it": "Segreteria"}
PAGE = "voicemail/index.html"


async def _audio(
    service: VoicemailService, req: Any, box: str, folder: str, msg: str, attachment: bool
) -> Any:
    try:
        path, mimetype = await service.playable(req.user, box, folder, msg)
        with path.open("rb"):  # readable now (send_file opens it only once answering)
            pass
        response = await send_file(
            path,
            mimetype=mimetype,
            as_attachment=attachment,
            attachment_filename=f"voicemail-{box}-{folder}-{msg}.wav" if attachment else None,
            conditional=True,  # Range requests: the audio element seeks
        )
    except FileNotFoundError:  # gone between the look and the answer (deleted, heard)
        raise NotFound("voicemail.error.no_message") from None
    except (PermissionError, IsADirectoryError):
        raise SpoolUnreadable() from None
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def routes(web: Any, service: VoicemailService) -> None:
    """Add the voicemail page, its audio and its actions to the web panel."""
    service.web = web

    @web.page(
        "/voicemail",
        permission="voicemail",
        menu=MENU,
        order=50,
        template=PAGE,
    )
    async def voicemail_page(req: Any) -> dict[str, Any]:
        play = req.args.get("play") or ""
        return {
            "messages": service.messages(req.user),
            "counts": service.counts(req.user),
            "play": play if isinstance(play, str) else "",
        }

    # The audio and the download are pages whose handler answers with the file itself.
    @web.page("/voicemail/<box>/<folder>/<msg>/audio", permission="voicemail", template=PAGE)
    async def voicemail_audio(req: Any, box: str, folder: str, msg: str) -> Any:
        return await _audio(service, req, box, folder, msg, attachment=False)

    @web.page("/voicemail/<box>/<folder>/<msg>/download", permission="voicemail", template=PAGE)
    async def voicemail_download(req: Any, box: str, folder: str, msg: str) -> Any:
        return await _audio(service, req, box, folder, msg, attachment=True)

    @web.action("/voicemail/<box>/<folder>/<msg>/delete", permission="voicemail")
    async def voicemail_delete(req: Any, box: str, folder: str, msg: str) -> Any:
        await service.delete(req.user, box, folder, msg)
        return req.back(req.t("voicemail.web.deleted"))

    @web.action("/voicemail/<box>/INBOX/<msg>/heard", permission="voicemail")
    async def voicemail_heard(req: Any, box: str, msg: str) -> Any:
        await service.mark_heard(req.user, box, msg)
        return req.back()

    @web.api("/api/voicemail", methods=("GET",), permission="voicemail")
    async def api_voicemail(req: Any) -> dict[str, Any]:
        """My boxes' new/old counts and messages (``key`` = box/folder/id names one)."""
        return service.summary(req.user)

    @web.api("/api/voicemail/<box>/<folder>/<msg>/audio", methods=("GET",), permission="voicemail")
    async def api_audio(req: Any, box: str, folder: str, msg: str) -> Any:
        """A message's audio (audio/wav; Range requests)."""
        return await _audio(service, req, box, folder, msg, attachment=False)

    @web.api("/api/voicemail/<box>/<folder>/<msg>", methods=("DELETE",), permission="voicemail")
    async def api_delete(req: Any, box: str, folder: str, msg: str) -> dict[str, Any]:
        """Delete a message (the PBX is told to re-read the box: MWI)."""
        gone = await service.delete(req.user, box, folder, msg)
        return {"deleted": gone.key, "message": req.t("voicemail.web.deleted")}

    @web.api("/api/voicemail/<box>/INBOX/<msg>/heard", methods=("POST",), permission="voicemail")
    async def api_heard(req: Any, box: str, msg: str) -> dict[str, Any]:
        """Move a new message to Old (as listening on the phone does)."""
        moved = await service.mark_heard(req.user, box, msg)
        return {"moved": moved.key if moved is not None else None}

    web.live("voicemail", snapshot=service.summary, permission="voicemail")
    # The new-message badge, on every page (live over the same topic).
    web.topbar(
        "voicemail/topbar.html",
        permission="voicemail",
        order=60,
        context=lambda req: {"new": sum(c["new"] for c in service.counts(req.user).values())},
    )
