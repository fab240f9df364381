"""The web panel's shell over real HTTP: login (local file, LDAP via slapd), sessions, CSRF, API."""

from __future__ import annotations

import io
import re
from argparse import Namespace
from pathlib import Path

import httpx
import pytest

from ctibot.http.auth import LdapAuth, RateLimit, UsersFile, check_password, hash_password
from ctibot.http.usercmd import cmd_user, token_command

from web_fixtures import LDAP_USERS, PROFILES, STRANGER, Slapd, WebOffice, csrf_of


async def test_local_user_logs_in_and_sees_the_layout(web_office: WebOffice) -> None:
    client = web_office.client()
    resp = await web_office.login(client, "bob", PROFILES["user"].password)
    assert resp.status_code == 302 and resp.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200
    assert "Bob Brown" in home.text and 'action="/logout"' in home.text
    me = (await client.get("/api/me")).json()
    assert me["name"] == "bob" and me["profile"] == "user" and "call" in me["permissions"]


async def test_ldap_user_logs_in_by_dn_template(web_office: WebOffice) -> None:
    client = web_office.client()
    resp = await web_office.login(client, "alice", LDAP_USERS["alice"])
    assert resp.status_code == 302
    assert (await client.get("/api/me")).json()["name"] == "alice"


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("bob", "wrong-password"),
        ("alice", "wrong-password"),  # LDAP
        ("alice", PROFILES["user"].password),  # someone else's password
        ("nobody", "whatever-pw"),
        ("bob", ""),
        ("BOB ", "x" * 2000),
    ],
)
async def test_wrong_credentials_are_refused(web_office: WebOffice, name, password) -> None:
    client = web_office.client()
    resp = await web_office.login(client, name, password)
    assert resp.status_code == 401
    assert "Wrong user name or password" in resp.text
    assert (await client.get("/", follow_redirects=False)).status_code == 302


async def test_ldap_account_that_is_no_ctibot_user_gets_no_session(web_office) -> None:
    client = web_office.client()
    resp = await web_office.login(client, STRANGER.name, STRANGER.password)
    assert resp.status_code == 403 and "not a user of this phone system" in resp.text
    assert (await client.get("/api/me")).status_code == 401


@pytest.mark.parametrize(
    "name", ["*", "*)(uid=*", "alice)(|(uid=*", "al*", "*)(objectClass=*", "alice\\2a"]
)
async def test_ldap_injection_never_logs_in(web_office: WebOffice, slapd: Slapd, name) -> None:
    client = web_office.client()
    resp = await web_office.login(client, name, LDAP_USERS["alice"])
    assert resp.status_code in (401, 429)
    assert (await client.get("/api/me")).status_code == 401
    # Under the login-name check too: both ways of asking the directory escape the name.
    for settings in (slapd.bind_dn_config(), slapd.search_config()):
        assert await LdapAuth(settings).check(name, LDAP_USERS["alice"]) is False


async def test_ldap_search_then_bind(slapd: Slapd) -> None:
    auth = LdapAuth(slapd.search_config())
    assert await auth.check("alice", LDAP_USERS["alice"]) is True
    assert await auth.check("alice", LDAP_USERS["dave"]) is False
    assert await auth.check("dave", LDAP_USERS["dave"]) is True
    assert await auth.check("nobody", "x") is False
    # A service account with a wrong password: nobody logs in, nothing raises.
    wrong = LdapAuth(slapd.search_config(service_password="wrong"))
    assert await wrong.check("alice", LDAP_USERS["alice"]) is False


async def test_ldap_server_down_is_a_refusal_not_a_crash(slapd: Slapd) -> None:
    from dataclasses import replace

    from web_fixtures import free_port

    auth = LdapAuth(replace(slapd.bind_dn_config(), server=f"ldap://127.0.0.1:{free_port()}"))
    assert await auth.check("alice", LDAP_USERS["alice"]) is False


async def test_rate_limit_per_name_and_per_ip(web_office: WebOffice) -> None:
    client = web_office.client()
    for _ in range(5):
        assert (await web_office.login(client, "bob", "wrong-password")).status_code == 401
    blocked = await web_office.login(client, "bob", PROFILES["user"].password)
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.text and "minutes" in blocked.text
    # The same address is held back for the other names too.
    other = await web_office.login(web_office.client(), "carol", PROFILES["admin"].password)
    assert other.status_code == 429


def test_rate_limit_window_ends() -> None:
    now = [0.0]
    limit = RateLimit(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        limit.fail("ip:1", "name:bob")
    assert limit.blocked("name:bob") > 0 and limit.blocked("name:carol") == 0
    now[0] = 61
    assert limit.blocked("ip:1", "name:bob") == 0


async def test_logout_ends_the_session(web_office: WebOffice) -> None:
    client = await web_office.logged_in("user")
    old_cookie = client.cookies["ctibot_session"]
    token = csrf_of((await client.get("/")).text)
    resp = await client.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["location"] == "/login"
    assert (await client.get("/api/me")).status_code == 401
    # The old cookie, replayed, opens nothing.
    replay = web_office.client(cookies={"ctibot_session": old_cookie})
    assert (await replay.get("/api/me")).status_code == 401


async def test_session_cookie_flags_and_a_new_id_at_login(web_office: WebOffice) -> None:
    client = web_office.client()
    page = await client.get("/login")
    before = page.cookies["ctibot_session"]
    header = page.headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    resp = await web_office.login(client, "bob", PROFILES["user"].password)
    after = resp.cookies["ctibot_session"]
    assert after != before
    assert "HttpOnly" in resp.headers["set-cookie"]
    # The cookie is signed: a forged id is no session.
    sid = after.rpartition(".")[0]
    forged = web_office.client(cookies={"ctibot_session": f"{sid}.{'0' * 32}"})
    assert (await forged.get("/api/me")).status_code == 401


async def test_csrf_missing_or_wrong_token_is_refused(web_office: WebOffice) -> None:
    client = await web_office.logged_in("user")
    for data in ({}, {"csrf_token": "wrong"}):
        resp = await client.post("/logout", data=data)
        assert resp.status_code == 403 and resp.headers["X-Ctibot-Refused"] == "csrf"
    resp = await client.post("/api/me/language", json={"language": "it"})
    assert resp.status_code == 403 and resp.json()["error"] == "csrf"
    assert (await client.get("/api/me")).status_code == 200  # still logged in
    # The login form needs its token as well (no login CSRF): a fresh form, no session.
    fresh = web_office.client()
    await fresh.get("/login")
    resp = await fresh.post("/login", data={"name": "bob", "password": PROFILES["user"].password})
    assert resp.status_code == 302 and resp.headers["location"] == "/login"
    assert "The form expired" in (await fresh.get("/login")).text
    assert (await fresh.get("/api/me")).status_code == 401


async def test_login_next_stays_on_this_site(web_office: WebOffice) -> None:
    for target, landing in (("/api/docs", "/api/docs"), ("https://evil.example/", "/"),
                            ("//evil.example/x", "/"), ("/\\evil.example", "/")):
        client = web_office.client()
        resp = await web_office.login(client, "bob", PROFILES["user"].password, next=target)
        assert resp.headers["location"] == landing, target


async def test_not_logged_in_pages_redirect_and_api_says_401(web_office: WebOffice) -> None:
    client = web_office.client()
    resp = await client.get("/api/docs")
    assert resp.status_code == 302 and resp.headers["location"] == "/login?next=/api/docs"
    resp = await client.get("/api/me")
    assert resp.status_code == 401 and resp.json()["error"] == "unauthorized"


async def test_language_from_the_browser_then_the_users_choice(web_office: WebOffice) -> None:
    client = web_office.client(headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
    assert "Nome utente" in (await client.get("/login")).text
    await web_office.login(client, "bob", PROFILES["user"].password)
    page = await client.get("/")
    assert "Esci" in page.text and '<html lang="it">' in page.text
    resp = await client.post("/language", data={"language": "en", "csrf_token": csrf_of(page.text)},
                             headers={"Referer": web_office.url + "/"})
    assert resp.status_code == 302
    assert "Log out" in (await client.get("/")).text
    # Kept in the store: a new session of bob in an Italian browser gets English.
    other = web_office.client(headers={"Accept-Language": "it"})
    await web_office.login(other, "bob", PROFILES["user"].password)
    assert "Log out" in (await other.get("/")).text
    assert await web_office.app.store.get_setting("bob", "web.language") == "en"


async def test_api_validation_errors_are_json(web_office: WebOffice) -> None:
    client = await web_office.logged_in("user")
    token = csrf_of((await client.get("/")).text)
    headers = {"X-CSRF-Token": token}
    resp = await client.post("/api/me/language", json={"lang": "it"}, headers=headers)
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "validation" and body["details"]
    resp = await client.post("/api/me/language", content=b"{not json",
                             headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 400 and "error" in resp.json()
    resp = await client.post("/api/me/language", json={"language": "fr"}, headers=headers)
    assert resp.status_code == 400 and resp.json()["error"] == "error.bad_choice"
    resp = await client.post("/api/me/language", json={"language": "it"}, headers=headers)
    assert resp.status_code == 200 and resp.json()["language"] == "it"


async def test_openapi_and_offline_docs(web_office: WebOffice) -> None:
    assert (await web_office.client().get("/openapi.json")).status_code == 401
    client = await web_office.logged_in("user")
    doc = (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/api/me" in doc["paths"] and all(p.startswith("/api/") for p in doc["paths"])
    docs = (await client.get("/api/docs")).text
    assert "/static/ctibot/apidocs.js" in docs
    assert not re.search(r"(src|href)=\"https?://", docs)  # nothing from a CDN
    assert (await client.get("/static/ctibot/apidocs.js")).status_code == 200


async def test_bearer_token_for_scripts(web_office: WebOffice, capsys) -> None:
    assert await token_command(web_office.config, "carol", revoke=False) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("carol.")
    api = web_office.client(headers={"Authorization": f"Bearer {token}"})
    me = await api.get("/api/me")
    assert me.status_code == 200 and me.json()["name"] == "carol"
    # No CSRF header needed with a token (no cookie is involved).
    resp = await api.post("/api/me/language", json={"language": "it"})
    assert resp.status_code == 200
    for wrong in (token[:-2] + "xx", "bob." + token.partition(".")[2], "garbage"):
        bad = web_office.client(headers={"Authorization": f"Bearer {wrong}"})
        assert (await bad.get("/api/me")).status_code == 401
    # Pages do not take tokens.
    assert (await api.get("/", follow_redirects=False)).status_code == 302
    assert await token_command(web_office.config, "carol", revoke=True) == 0
    assert (await api.get("/api/me")).status_code == 401


async def test_static_files_and_no_traversal(web_office: WebOffice) -> None:
    client = web_office.client()
    resp = await client.get("/static/ctibot/panel.js")
    assert resp.status_code == 200 and "ctibot" in resp.text
    for path in ("/static/ctibot/../__init__.py", "/static/ctibot/%2e%2e/__init__.py",
                 "/static/ctibot/..%2f__init__.py", "/static/nosuchplugin/x.js",
                 "/static/ctibot//etc/passwd"):
        assert (await client.get(path, follow_redirects=True)).status_code == 404, path


async def test_escaping_in_the_shell(web_office: WebOffice) -> None:
    client = web_office.client()
    hostile = '"><script>alert(1)</script>'
    resp = await web_office.login(client, "bob", "x", next=hostile)
    assert "<script>alert(1)" not in resp.text
    resp = await client.post("/login", data={"name": hostile, "password": "x",
                                             "csrf_token": csrf_of(resp.text)})
    assert "<script>alert(1)" not in resp.text and "&lt;script&gt;" in resp.text


def test_users_file_scrypt(tmp_path: Path) -> None:
    stored = hash_password("s3cret-pass")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert stored != hash_password("s3cret-pass")  # salted
    assert check_password("s3cret-pass", stored) and not check_password("other", stored)
    assert not check_password("x", "garbage") and not check_password("x", "scrypt$1$2$3$!$!")
    users = UsersFile(tmp_path / "users")
    users.set_password("bob", "first-pass")
    users.set_password("carol", "second-pass")
    users.set_password("bob", "changed-pass")
    assert users.check("bob", "changed-pass") is True and users.check("bob", "first-pass") is False
    assert users.check("nobody", "x") is None
    assert (tmp_path / "users").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError):
        users.set_password("bad:name", "whatever-pass")


def test_ctibot_user_add_and_passwd(tmp_path: Path, capsys) -> None:
    config = tmp_path / "ctibot.toml"
    config.write_text(
        '[pbx]\nsecret = "x"\n[auth]\nusers_file = "' + str(tmp_path / "users") + '"\n'
        '[[users]]\nname = "bob"\nfullname = "Bob"\nextensions = ["202"]\n'
    )

    def run(action: str, name: str, stdin: str) -> int:
        args = Namespace(config=str(config), action=action, name=name, revoke=False)
        return cmd_user(args, io.StringIO(stdin))

    assert run("passwd", "bob", "new-password\n") == 1  # not there yet
    assert run("add", "bob", "short\n") == 1
    assert run("add", "nobody", "long-enough\n") == 2
    assert run("add", "bob", "first-password\n") == 0
    assert run("add", "bob", "again-password\n") == 1
    assert run("passwd", "bob", "second-password\n") == 0
    users = UsersFile(tmp_path / "users")
    assert users.check("bob", "second-password") is True
    assert "second-password" not in (tmp_path / "users").read_text()


async def test_unknown_page_is_a_404_page(web_office: WebOffice) -> None:
    client = await web_office.logged_in("user")
    resp = await client.get("/no/such/page")
    assert resp.status_code == 404 and "There is no such page" in resp.text
    assert (await client.get("/api/nothing")).json()["error"] == "not_found"


def test_ldap_config_parsed(tmp_path: Path) -> None:
    from ctibot.config import ConfigError, parse_config

    base = '[pbx]\nsecret = "x"\n[[users]]\nname = "bob"\nfullname = "B"\nextensions = ["2"]\n'
    config = parse_config(base + '[web]\nsecret_key = "0123456789abcdef"\n'
                          'public_url = "https://cti.example.com/"\n'
                          '[auth.ldap]\nserver = "ldaps://ldap.example.com:636"\n'
                          'search_base = "ou=people,dc=example,dc=com"\n'
                          'start_tls = false\nca_file = "/etc/ssl/ca.pem"\n')
    assert config.auth.ldap is not None and config.auth.ldap.search_base
    assert config.web is not None and config.web.public_url == "https://cti.example.com/"
    for bad in ('[auth.ldap]\nserver = "http://x"\nbind_dn = "uid={login}"\n',
                '[auth.ldap]\nserver = "ldap://x"\n',
                '[auth.ldap]\nserver = "ldap://x"\nbind_dn = "uid=fixed"\n',
                '[web]\nsecret_key = "short"\n', '[auth]\nusers = "x"\n'):
        with pytest.raises(ConfigError):
            parse_config(base + bad)


async def test_httpx_client_fixture_per_profile(web_clients) -> None:
    for profile, client in web_clients.items():
        resp = await client.get("/api/me")
        if profile == "anonymous":
            assert resp.status_code == 401
        else:
            assert resp.json()["name"] == PROFILES[profile].name
    assert isinstance(web_clients["user"], httpx.AsyncClient)


async def test_ldap_start_tls_checks_the_certificate(slapd_tls: Slapd) -> None:
    alice = LDAP_USERS["alice"]
    trusted = LdapAuth(slapd_tls.bind_dn_config(start_tls=True, ca_file=str(slapd_tls.ca)))
    assert await trusted.check("alice", alice) is True
    assert await trusted.check("alice", "wrong") is False
    # Without its CA the certificate is refused: no login, even with the right password.
    unknown_ca = LdapAuth(slapd_tls.bind_dn_config(start_tls=True))
    assert await unknown_ca.check("alice", alice) is False
    # verify = false (a lab): the same certificate is accepted.
    lab = LdapAuth(slapd_tls.bind_dn_config(start_tls=True, verify=False))
    assert await lab.check("alice", alice) is True
    searched = LdapAuth(slapd_tls.search_config(start_tls=True, ca_file=str(slapd_tls.ca)))
    assert await searched.check("alice", alice) is True


async def test_an_idle_session_ends(web_office: WebOffice) -> None:
    import time

    from ctibot.http.web import SESSION_IDLE

    client = await web_office.logged_in("user")
    assert (await client.get("/api/me")).status_code == 200
    web_office.web.clock = lambda: time.time() + SESSION_IDLE + 1  # wall-clock time
    assert (await client.get("/api/me")).status_code == 401
