"""The top bar's and call box's actions over HTTP: each refused without its permission or
without the CSRF token (and nothing reaches the PBX), allowed with both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ctibot.permissions import default_profiles

from web_fixtures import Slapd, WebOffice, csrf_of, running_office, wait_for

#: Every action of the top bar / call box / settings / users: (path, form, permission).
ACTIONS: list[tuple[str, dict[str, str], str]] = [
    ("/calls/dial", {"destination": "204"}, "call"),
    ("/calls/hangup", {}, "hangup"),
    ("/calls/transfer", {"destination": "203"}, "transfer"),
    ("/calls/park", {}, "park"),
    ("/calls/record", {"action": "start"}, "recording"),
    ("/phone/dnd", {"on": "1"}, "dnd"),
    ("/phone/forward", {"forward": "voicemail"}, "call_forward"),
    ("/settings", {"url": "https://x.example/", "noanswer_timeout": "20"}, "my_settings"),
]
APIS: list[tuple[str, str]] = [
    ("/api/calls/search?q=dav", "call"),
    ("/api/settings", "my_settings"),
    ("/api/users", "presence_panel"),
    ("/api/calls/recent", "cdr"),
]
PAGES: list[tuple[str, str]] = [("/settings", "my_settings"), ("/users", "presence_panel")]


@pytest.fixture
async def bare_office(tmp_path: Path, slapd: Slapd) -> Any:
    """The office where the "user" profile has none of these permissions (Bob is a user)."""
    taken = {p for _, _, p in ACTIONS} | {p for _, p in APIS} | {p for _, p in PAGES}
    profiles = dict(default_profiles())
    profiles["user"] = frozenset(profiles["user"] - taken)
    async with running_office(tmp_path, slapd, profiles=profiles) as office:
        yield office


async def test_every_action_is_refused_without_its_permission(bare_office: WebOffice) -> None:
    office = bare_office
    astdb = office.pbx.office.astdb
    bob = await office.logged_in("user")
    home = await bob.get("/")
    token = csrf_of(home.text)
    assert 'id="dial-input"' not in home.text and 'id="dnd-toggle"' not in home.text
    for path, form, permission in ACTIONS:
        form_post = await bob.post(path, data={**form, "csrf_token": token})
        assert form_post.status_code == 403, (path, permission)
        assert form_post.headers["X-Ctibot-Refused"] == "permission"
        fetch = await bob.post(path, json=form, headers={"X-CSRF-Token": token})
        assert fetch.status_code == 403 and fetch.json()["error"] == "forbidden", path
    for path, _permission in APIS + PAGES:
        assert (await bob.get(path)).status_code == 403, path
    assert not office.pbx.channels_of("202")
    assert astdb.get("DND", "202") is None and astdb.get("CF", "202") is None
    assert await office.app.store.get_setting("bob", "settings.url") is None


async def test_every_action_is_refused_without_the_csrf_token(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    astdb = web_office.pbx.office.astdb
    bob = web_clients["user"]
    for path, form, _ in ACTIONS:
        no_token = await bob.post(path, data=form)
        assert no_token.status_code == 403, path
        assert no_token.headers["X-Ctibot-Refused"] == "csrf"
        wrong = await bob.post(path, json=form, headers={"X-CSRF-Token": "forged"})
        assert wrong.status_code == 403 and wrong.json()["error"] == "csrf", path
    assert not web_office.pbx.channels_of("202")
    assert astdb.get("DND", "202") is None and astdb.get("CFU", "202") is None
    assert await web_office.app.store.get_setting("bob", "settings.url") is None
    anonymous = web_clients["anonymous"]
    for path, form, _ in ACTIONS:
        assert (await anonymous.post(path, data=form)).status_code in (302, 401, 403), path
    for path, _ in APIS:
        assert (await anonymous.get(path)).status_code == 401, path


async def test_the_actions_work_with_token_and_permission(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    pbx = web_office.pbx
    astdb = pbx.office.astdb
    bob = web_clients["user"]
    token = csrf_of((await bob.get("/")).text)
    headers = {"X-CSRF-Token": token}
    dnd = await bob.post("/phone/dnd", json={"on": "1"}, headers=headers)
    assert dnd.status_code == 200 and dnd.json()["ok"] is True
    assert astdb.get("DND", "202") == "YES"
    bad = await bob.post("/phone/dnd", json={"on": "maybe"}, headers=headers)
    assert bad.status_code == 400
    await bob.post("/phone/dnd", json={"on": "0"}, headers=headers)
    assert astdb.get("DND", "202") is None
    fw = await bob.post("/phone/forward", json={"forward": "number", "number": "0612;Hangup"},
                        headers=headers)
    assert fw.status_code == 400 and astdb.get("CF", "202") is None  # nothing unvalidated
    none = await bob.post("/calls/hangup", json={}, headers=headers)
    assert none.status_code == 400 and none.json()["error"] == "error.no_call"
    dial = await bob.post("/calls/dial", json={"destination": "204"}, headers=headers)
    assert dial.status_code == 200 and "Dave Davis" in dial.json()["message"]
    app = web_office.app
    await wait_for(lambda: any(c["state"] == "up" and c["answered"]
                               for c in app.services.calls.my_calls(app.config.users[0])))
    mine = (await bob.get("/api/calls/mine")).json()["calls"]
    assert [c["label"] for c in mine] == ["Dave Davis (204)"]
    rec = await bob.post("/calls/record", json={"action": "start"}, headers=headers)
    assert rec.status_code == 200, rec.text
    bad = await bob.post("/calls/record", json={"action": "explode"}, headers=headers)
    assert bad.status_code == 400
    done = await bob.post("/calls/hangup", json={}, headers=headers)
    assert done.status_code == 200 and "Dave Davis" in done.json()["message"]
    await wait_for(lambda: not pbx.channels_of("202"))


async def test_the_default_extension_setting_picks_the_phone_that_rings_first(
    web_office: WebOffice, web_clients: dict[str, httpx.AsyncClient]
) -> None:
    from ctibot.plugins.calls.http import with_default

    carol = next(u for u in web_office.config.users if u.name == "carol")
    two = type(carol)(carol.name, carol.fullname, ("203", "205"))
    assert with_default(two, "205").default_extension == "205"
    assert with_default(two, "209").default_extension == "203"  # not hers: ignored
    assert with_default(two, None) is two
