"""A spool (or announcements folder) that cannot be changed: a clear answer, nothing changed.

The folders are made read-only with chmod; root writes through chmod, so when the tests run
as root the failure is made real another way: a file where the folder the change needs
should be (or a folder where a file should be). Never a skip, never a 500.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from test_voicemail_web import box, messages_in, office_with_spool

from ctibot.config import PluginsConfig

from web_fixtures import WebOffice, csrf_of, running_office

ROOT = os.geteuid() == 0
IT = {"Accept-Language": "it-IT,it;q=0.9"}


@contextmanager
def unwritable(folder: Path, in_the_way: Path | None = None) -> Iterator[None]:
    """``folder`` read-only (chmod 0555). As root, ``in_the_way`` — a folder the change needs —
    becomes a plain file instead (its contents put back afterwards)."""
    saved: Path | None = None
    folder.chmod(0o555)
    if ROOT and in_the_way is not None:
        if in_the_way.is_dir():
            saved = in_the_way.with_name(in_the_way.name + ".saved")
            in_the_way.rename(saved)
        in_the_way.write_text("in the way\n")
    try:
        yield
    finally:
        if ROOT and in_the_way is not None:
            in_the_way.unlink()
            if saved is not None:
                saved.rename(in_the_way)
        folder.chmod(0o755)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
async def vm_office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    async with office_with_spool(tmp_path) as office:
        yield office


async def session_headers(client: httpx.AsyncClient, page: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_of((await client.get(page)).text)}


async def test_a_read_only_spool_refuses_delete_and_heard_and_changes_nothing(
    vm_office: WebOffice,
) -> None:
    vm_office.pbx.leave_voicemail("202", '"One" <0611111111>', 1)
    await messages_in(vm_office, "202", 1)
    home = box(vm_office, "202")
    inbox = home / "INBOX"
    before = snapshot(home)
    bob = await vm_office.logged_in("user")
    headers = await session_headers(bob, "/voicemail")
    # Asterisk's scratch folder (where a deleted message goes first) and Old (where a heard
    # one goes) are the folders a change needs.
    with unwritable(inbox, in_the_way=home / "tmp"):
        # The page's form (no script): back to the page with the reason as a flash.
        form = await bob.post(
            "/voicemail/202/INBOX/msg0000/delete",
            data={"csrf_token": headers["X-CSRF-Token"]},
            headers={"Referer": f"{vm_office.url}/voicemail"},
        )
        assert form.status_code == 302
        page = await bob.get("/voicemail")
        assert page.status_code == 200
        assert "The voicemail folder cannot be changed right now" in page.text
        assert 'data-key="202/INBOX/msg0000"' in page.text  # still listed
        # The page's script and the API: a JSON error with 503, in the user's language.
        api = await bob.delete("/api/voicemail/202/INBOX/msg0000", headers=headers)
        assert api.status_code == 503, api.text
        assert api.json() == {
            "error": "voicemail.error.spool_unwritable",
            "message": "The voicemail folder cannot be changed right now (read-only?). "
            "Nothing was changed.",
        }
        scripted = await bob.post(
            "/voicemail/202/INBOX/msg0000/delete",
            headers={**headers, "Accept": "application/json", **IT},
        )
        assert scripted.status_code == 503
        assert scripted.json()["message"].startswith("Non posso modificare la cartella")
    assert snapshot(home) == before
    with unwritable(inbox, in_the_way=home / "Old"):
        heard = await bob.post("/api/voicemail/202/INBOX/msg0000/heard", headers=headers)
        assert (
            heard.status_code == 503 and heard.json()["error"] == "voicemail.error.spool_unwritable"
        )
    assert snapshot(home) == before
    # Writable again: the same actions work (nothing was left half done).
    heard = await bob.post("/api/voicemail/202/INBOX/msg0000/heard", headers=headers)
    assert heard.json() == {"moved": "202/Old/msg0000"}
    gone = await bob.delete("/api/voicemail/202/Old/msg0000", headers=headers)
    assert gone.status_code == 200
    assert not list((home / "Old").glob("msg0000.*")) and not list((home / "tmp").iterdir())


async def test_a_message_that_vanished_or_cannot_be_read_is_not_a_500(
    vm_office: WebOffice,
) -> None:
    vm_office.pbx.leave_voicemail("202", '"One" <0611111111>', 1)
    vm_office.pbx.leave_voicemail("202", '"Two" <0622222222>', 1)
    await messages_in(vm_office, "202", 2)
    inbox = box(vm_office, "202") / "INBOX"
    bob = await vm_office.logged_in("user")
    headers = await session_headers(bob, "/voicemail")
    # The audio went (the PBX, another browser): a 404 that says so.
    (inbox / "msg0000.wav").unlink()
    for url in ("/voicemail/202/INBOX/msg0000/audio", "/api/voicemail/202/INBOX/msg0000/audio"):
        got = await bob.get(url)
        assert got.status_code == 404, url
        assert "That message is not there (any more)." in got.text
    # Everything went after the page was shown: delete and heard say so.
    (inbox / "msg0000.txt").unlink()
    gone = await bob.delete("/api/voicemail/202/INBOX/msg0000", headers=headers)
    assert gone.status_code == 404 and gone.json()["error"] == "voicemail.error.no_message"
    # An audio file that cannot be read: 503 with the reason (as root, whom permissions do
    # not stop, a folder where the file should be: not a message, 404).
    audio = inbox / "msg0001.wav"
    if ROOT:
        audio.unlink()
        audio.mkdir()
    else:
        audio.chmod(0o000)
    try:
        got = await bob.get("/api/voicemail/202/INBOX/msg0001/audio")
        if ROOT:
            assert got.status_code == 404 and got.json()["error"] == "voicemail.error.no_message"
        else:
            assert (
                got.status_code == 503 and got.json()["error"] == "voicemail.error.spool_unreadable"
            )
        page = await bob.get("/voicemail/202/INBOX/msg0001/audio", headers=IT)
        assert page.status_code in (404, 503) and "messaggio" in page.text
    finally:
        if ROOT:
            audio.rmdir()
        else:
            audio.chmod(0o644)


# -- off-hour announcements -------------------------------------------------------------


@pytest.fixture
async def oh_office(tmp_path: Path) -> AsyncIterator[WebOffice]:
    sounds = tmp_path / "sounds"
    settings = {"offhour": {"routes": {"5550102": "bob"}, "sounds_dir": str(sounds)}}
    async with running_office(tmp_path, None, plugins=PluginsConfig(settings=settings)) as office:
        office.pbx.engine.dialplan.sounds_dir = sounds
        yield office


def a_wav(folder: Path) -> bytes:
    path = folder / "a.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-b", "16", str(path), "synth", "0.5", "sine", "440"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path.read_bytes()


async def test_announcements_in_a_read_only_folder_a_clear_error_nothing_kept(
    oh_office: WebOffice, tmp_path: Path
) -> None:
    service = oh_office.app.services.get("offhour")
    folder = Path(service.sounds_dir) / "custom" / "ctibot"
    folder.mkdir(parents=True)
    bob = await oh_office.logged_in("user")
    user = oh_office.config.user_by_name("bob")
    headers = await session_headers(bob, "/offhour")
    sound = a_wav(tmp_path)
    # As root: a file where the announcements' folder should be.
    with unwritable(folder, in_the_way=folder):
        api = await bob.post(
            "/api/offhour/announcements",
            data={"description": "Closed"},
            files={"file": ("a.wav", sound, "audio/wav")},
            headers=headers,
        )
        assert api.status_code == 503, api.text
        assert api.json() == {
            "error": "offhour.error.sounds_unwritable",
            "message": "The announcements' folder cannot be written right now (read-only?). "
            "Nothing was changed.",
        }
        form = await bob.post(
            "/offhour/announcements/upload",
            data={"description": "Closed", "csrf_token": headers["X-CSRF-Token"]},
            files={"file": ("a.wav", sound, "audio/wav")},
            headers={"Referer": "/offhour", **IT},
        )
        assert form.status_code == 302
        page = await bob.get("/offhour", headers=IT)
        assert "Non posso scrivere nella cartella degli annunci" in page.text
        assert await service.announcements(user) == []
    assert folder.is_dir() and list(folder.iterdir()) == []
    # Stored while writable; then the folder turns read-only: the delete is refused whole.
    up = await bob.post(
        "/api/offhour/announcements",
        data={"description": "Closed"},
        files={"file": ("a.wav", sound, "audio/wav")},
        headers=headers,
    )
    assert up.status_code == 200, up.text
    number = up.json()["id"]
    wav = service.file_of(number)
    kept = wav.read_bytes()
    # As root: a folder where the announcement's file should be.
    if ROOT:
        wav.unlink()
        wav.mkdir()
        (wav / "x").write_text("x")
    with unwritable(folder):
        gone = await bob.delete(f"/api/offhour/announcements/{number}", headers=headers)
        assert gone.status_code == 503 and gone.json()["error"] == "offhour.error.sounds_unwritable"
        form = await bob.post(
            f"/offhour/announcements/{number}/delete",
            data={"csrf_token": headers["X-CSRF-Token"]},
            headers={"Referer": "/offhour"},
        )
        assert form.status_code == 302
        assert "cannot be written right now" in (await bob.get("/offhour")).text
        assert [a.id for a in await service.announcements(user)] == [number]
    if ROOT:
        shutil.rmtree(wav)
        wav.write_bytes(kept)
    assert wav.read_bytes() == kept
    gone = await bob.delete(f"/api/offhour/announcements/{number}", headers=headers)
    assert gone.status_code == 200 and not wav.exists()
    assert await service.announcements(user) == []
