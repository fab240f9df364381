"""The WebApi as a plugin uses it: pages, actions, API models, service errors, menus, templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from ctibot.config import parse_config
from ctibot.http.auth import UsersFile
from ctibot.http.shell import HttpShell
from ctibot.http.web import WebApi, WebRequest
from ctibot.plugin import NotFound, PbxUnavailable, PermissionDenied, ServiceError

from web_fixtures import csrf_of


class EchoIn(BaseModel):
    text: str
    times: int = 1


class EchoOut(BaseModel):
    text: str


@dataclass
class Query:
    q: str = ""


@dataclass
class Item:
    name: str
    size: int


def plugin_routes(web: WebApi) -> None:
    """What a plugin's ``routes(web, service)`` does."""

    @web.page("/things", permission="call", menu={"en": "Things", "it": "Cose"}, order=5,
              template="home.html", endpoint="things.page")
    async def things(req: WebRequest) -> dict:
        return {}

    @web.page("/staff", permission="operator_panel", menu={"en": "Staff", "it": "Staff"},
              template="home.html", endpoint="things.staff")
    async def staff(req: WebRequest) -> dict:
        return {}

    @web.page("/broken/<what>", permission=None, template="home.html", endpoint="things.broken")
    async def broken(req: WebRequest, what: str) -> dict:
        raise {"nf": NotFound(), "pbx": PbxUnavailable()}.get(what, ServiceError())

    @web.action("/things/do", permission="call", endpoint="things.do")
    async def do(req: WebRequest):
        if req.form.get("fail"):
            raise PermissionDenied(permission="call")
        return req.back(req.t("web.saved"))

    @web.api("/api/echo", methods=("POST",), permission="call", request=EchoIn,
             response=EchoOut, endpoint="things.echo")
    async def echo(req: WebRequest) -> EchoOut:
        return EchoOut(text=req.json.text * req.json.times)

    @web.api("/api/items", permission=None, query=Query, endpoint="things.items")
    async def items(req: WebRequest) -> list:
        return [Item(req.query.q or "all", 3)]

    @web.api("/api/fail/<what>", permission=None, endpoint="things.fail")
    async def fail(req: WebRequest, what: str) -> dict:
        raise {"403": PermissionDenied(permission="x"), "404": NotFound(),
               "503": PbxUnavailable()}.get(what, ServiceError("error.bad_argument"))


CONFIG = """
[pbx]
secret = "x"
[web]
listen = "127.0.0.1:0"
secret_key = "0123456789abcdef0123"
[auth]
users_file = "{users}"
[[users]]
name = "bob"
fullname = "Bob <b>Brown</b>"
extensions = ["202"]
[[users]]
name = "alice"
fullname = "Alice"
extensions = ["201"]
profile = "supervisor"
"""


@pytest.fixture
async def shell(tmp_path: Path) -> AsyncIterator[tuple[WebApi, str]]:
    users = tmp_path / "users"
    for name in ("bob", "alice"):
        UsersFile(users).set_password(name, f"{name}-password")
    config = parse_config(CONFIG.format(users=users), tmp_path / "c.toml")
    http = HttpShell("127.0.0.1:0")
    web = WebApi(http, config, None)
    plugin_routes(web)
    await http.start()
    yield web, http.url
    await http.stop()


async def logged_in(url: str, name: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=url, trust_env=False, timeout=10)
    page = await client.get("/login")
    resp = await client.post("/login", data={"name": name, "password": f"{name}-password",
                                             "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 302
    return client, csrf_of((await client.get("/")).text)


async def test_menu_in_order_and_by_permission_and_language(shell) -> None:
    _, url = shell
    bob, _ = await logged_in(url, "bob")
    alice, _ = await logged_in(url, "alice")
    html = (await bob.get("/things")).text
    assert '<a href="/things" class="active" aria-current="page">Things</a>' in html
    assert "/staff" not in html
    assert "Bob &lt;b&gt;Brown&lt;/b&gt;" in html  # autoescaped
    html = (await alice.get("/", headers={"Accept-Language": "it"})).text
    assert html.index('href="/things"') < html.index('href="/staff"') and "Cose" in html
    assert (await bob.get("/staff")).status_code == 403
    await bob.aclose()
    await alice.aclose()


async def test_service_errors_on_pages_actions_and_api(shell) -> None:
    _, url = shell
    bob, token = await logged_in(url, "bob")
    assert (await bob.get("/broken/nf")).status_code == 404
    resp = await bob.get("/broken/pbx")
    assert resp.status_code == 503 and "not reachable" in resp.text
    # An action: redirect back with a flash, or JSON to a fetch().
    resp = await bob.post("/things/do", data={"csrf_token": token},
                          headers={"Referer": url + "/things"})
    assert resp.status_code == 302 and resp.headers["location"] == "/things"
    assert "Saved." in (await bob.get("/things")).text
    resp = await bob.post("/things/do", data={"fail": "1"},
                          headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert resp.status_code == 403 and resp.json()["error"] == "error.not_allowed"
    resp = await bob.post("/things/do", data={}, headers={"X-CSRF-Token": token,
                                                          "Accept": "application/json"})
    assert resp.json() == {"ok": True, "message": "Saved.", "redirect": "/"}
    # Back never leaves the site.
    resp = await bob.post("/things/do", data={"csrf_token": token},
                          headers={"Referer": "https://evil.example/x"})
    assert resp.headers["location"] == "/"
    for code in ("403", "404", "503", "400"):
        resp = await bob.get(f"/api/fail/{code}")
        assert resp.status_code == int(code)
        assert set(resp.json()) == {"error", "message"}
    await bob.aclose()


async def test_api_models_validate_and_document(shell) -> None:
    _, url = shell
    bob, token = await logged_in(url, "bob")
    h = {"X-CSRF-Token": token}
    resp = await bob.post("/api/echo", json={"text": "ab", "times": 2}, headers=h)
    assert resp.status_code == 200 and resp.json() == {"text": "abab"}
    resp = await bob.post("/api/echo", json={"times": "many"}, headers=h)
    assert resp.status_code == 400 and resp.json()["error"] == "validation"
    assert {tuple(d["loc"]) for d in resp.json()["details"]} >= {("text",), ("times",)}
    assert (await bob.get("/api/items?q=z")).json() == [{"name": "z", "size": 3}]
    doc = (await bob.get("/openapi.json")).json()
    assert "/api/echo" in doc["paths"] and "post" in doc["paths"]["/api/echo"]
    assert doc["paths"]["/api/echo"]["post"]["requestBody"]
    await bob.aclose()
