"""The authorization matrix: every route of the app, every profile, against its declared permission.

Expectations come from what each route declared to the WebApi (``web.routes``), never
from a list kept here: a plugin's new page is in the matrix the day it is added, and a
route added to the app without a declaration fails the matrix.
"""

from __future__ import annotations

import re

import httpx
import pytest

from ctibot.http.web import OWN, PUBLIC

from web_fixtures import PROFILES, WebOffice, WsClient, WsRefused, csrf_of

PROFILE_NAMES = (*PROFILES, "anonymous")
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_][a-z0-9_]*)>")
UUID = "00000000-0000-0000-0000-000000000000"
SAMPLES = {"int": "1", "float": "1.0", "path": "x/y", "uuid": UUID}


def sample_url(rule: str) -> str:
    """The rule with a harmless value in each variable part."""
    return _CONVERTER.sub(lambda m: SAMPLES.get(m["conv"] or "", "x"), rule)


async def tokens(clients: dict[str, httpx.AsyncClient]) -> dict[str, str]:
    """Each logged-in client's CSRF token (the page's meta tag)."""
    out = {}
    for profile, client in clients.items():
        page = "/login" if profile == "anonymous" else "/"  # the login page opens a session
        out[profile] = csrf_of((await client.get(page)).text)
    return out


def expected(web, info, profile: str) -> str:
    """``pass`` / ``login`` / ``permission`` for this profile on this route."""
    if info.permission in (PUBLIC, OWN):
        return "pass"
    if profile == "anonymous":
        return "login"
    user = web.config.user_by_name(PROFILES[profile].name)
    return "pass" if web.may(user, info.permission) else "permission"


def test_every_route_of_the_app_declares_a_permission(web_office: WebOffice) -> None:
    assert web_office.web.undeclared() == []
    failed = {s.name: s.reason for s in web_office.app.plugins.states if s.state == "failed"}
    assert failed == {}, "a plugin failed to load (its routes would be missing from the matrix)"


def test_a_route_added_behind_the_webapis_back_is_caught(web_office: WebOffice) -> None:
    async def sneaky() -> str:
        return "secret"

    web_office.web.app.add_url_rule("/sneaky", "sneaky", sneaky)
    assert web_office.web.undeclared() == ["/sneaky (sneaky)"]


async def test_matrix_every_route_every_profile(web_office: WebOffice, web_clients) -> None:
    web = web_office.web
    csrf = await tokens(web_clients)
    checked = 0
    problems: list[str] = []
    rules = sorted(
        web.app.url_map.iter_rules(),
        key=lambda r: (r.endpoint in ("shell.logout", "shell.login_post"), r.rule),
    )
    for rule in rules:
        info = web.routes[rule.endpoint]
        url = sample_url(rule.rule)
        if info.kind == "websocket":
            for profile in PROFILE_NAMES:
                want = expected(web, info, profile)
                try:
                    ws = await WsClient.connect(web_office.url, web_clients[profile].cookies,
                                                path=url)
                except WsRefused as exc:
                    got = "login" if exc.status == 401 else f"http {exc.status}"
                else:
                    await ws.close()
                    got = "pass"
                checked += 1
                if got != want:
                    problems.append(f"WS {url} as {profile}: {got}, expected {want}")
            continue
        for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
            for profile in PROFILE_NAMES:
                client = web_clients[profile]
                headers = {}
                if method != "GET":
                    headers["X-CSRF-Token"] = csrf[profile]
                if info.kind == "api":
                    headers["Accept"] = "application/json"
                resp = await client.request(method, url, headers=headers)
                checked += 1
                refused = resp.headers.get("X-Ctibot-Refused", "")
                want = expected(web, info, profile)
                if want == "pass":
                    if refused:
                        problems.append(f"{method} {url} as {profile}: refused ({refused})")
                    if info.permission == OWN and resp.status_code < 300:
                        problems.append(f"{method} {url} ({OWN}) let {profile} in without "
                                        f"credentials: {resp.status_code}")
                elif want == "login":
                    # A page redirects to the login; an API route or a fetch() (JSON) gets 401.
                    ok = refused == "login" and (
                        resp.status_code == 401
                        if info.kind == "api" or "X-CSRF-Token" in headers
                        else resp.status_code == 302
                        and resp.headers["location"].startswith("/login?next=")
                    )
                    if not ok:
                        problems.append(f"{method} {url} as anonymous: {resp.status_code} "
                                        f"{refused!r}, expected the login")
                elif refused != "permission" or resp.status_code != 403:
                    problems.append(f"{method} {url} as {profile}: {resp.status_code} "
                                    f"{refused!r}, expected 403 (needs {info.permission})")
    assert problems == []
    assert checked >= 4 * len(web.routes) - 10


async def test_routes_survive_sample_input(web_office: WebOffice, web_clients) -> None:
    """Every route, as admin (who may do most), with placeholder values: never a 500."""
    web = web_office.web
    csrf = await tokens(web_clients)
    errors = []
    for rule in web.app.url_map.iter_rules():
        info = web.routes[rule.endpoint]
        if info.kind == "websocket" or rule.endpoint in ("shell.logout", "shell.login_post"):
            continue
        for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
            resp = await web_clients["admin"].request(
                method, sample_url(rule.rule), headers={"X-CSRF-Token": csrf["admin"]}
            )
            if resp.status_code >= 500:
                errors.append(f"{method} {rule.rule}: {resp.status_code}")
    assert errors == []


@pytest.mark.parametrize("profile", list(PROFILES))
async def test_menu_lists_only_pages_the_profile_may_open(
    web_office: WebOffice, web_clients, profile: str
) -> None:
    web = web_office.web
    html = (await web_clients[profile].get("/")).text
    user = web.config.user_by_name(PROFILES[profile].name)
    for info in web.routes.values():
        if info.kind != "page" or not info.menu or "<" in info.rule:
            continue
        link = f'href="{info.rule}"'
        assert (link in html) == web.may(user, info.permission), (info.rule, profile)


async def test_a_disabled_plugins_pages_and_menu_entries_are_gone(
    web_office: WebOffice, tmp_path, slapd
) -> None:
    from ctibot.config import PluginsConfig

    from web_fixtures import running_office

    pages = [i for i in web_office.web.routes.values()
             if i.kind == "page" and i.menu and i.plugin not in ("core", "ctibot")]
    assert pages, "the bundled plugins bring pages: the panel has none"
    gone = pages[0]
    async with running_office(tmp_path / "other", slapd,
                              plugins=PluginsConfig(disabled=(gone.plugin,))) as office:
        assert all(i.plugin != gone.plugin for i in office.web.routes.values())
        admin = await office.logged_in("admin")
        assert (await admin.get(gone.rule)).status_code == 404
        assert f'href="{gone.rule}"' not in (await admin.get("/")).text
