"""Web panel sessions in the store: they outlive a restart, end at logout, idle time, passwd."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import sys
import time
from pathlib import Path

import httpx

from ctibot.config import WebConfig
from ctibot.http.web import COOKIE, SEEN_WRITE, SESSION_IDLE

from web_fixtures import PROFILES, WebOffice, WsClient, csrf_of, running_office, wait_for

BOB = PROFILES["user"]
CAROL = PROFILES["admin"]


def rows(office_or_db: WebOffice | Path) -> list[tuple[str, str, float, float]]:
    """(hash, user, created, seen) of every stored session, read by a connection of our own."""
    path = (
        office_or_db if isinstance(office_or_db, Path) else Path(office_or_db.config.database.path)
    )
    with sqlite3.connect(path) as db:
        return db.execute("SELECT hash, user, created, seen FROM web_sessions").fetchall()


def sid_of(cookie: str) -> str:
    return cookie.rpartition(".")[0]


def digest(cookie: str) -> str:
    return hashlib.sha256(sid_of(cookie).encode()).hexdigest()


async def passwd(config: Path, name: str, password: str) -> str:
    """``ctibot user passwd NAME`` in a process of its own; what it printed."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "ctibot", "user", "--config", str(config), "passwd", name),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(password.encode() + b"\n"), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def me(office: WebOffice, cookie: str) -> httpx.Response:
    return await office.client(cookies={COOKIE: cookie}).get("/api/me")


async def test_a_session_survives_a_restart(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        client = await office.logged_in("user")
        cookie = client.cookies[COOKIE]
        home = await client.get("/")
        assert home.status_code == 200 and BOB.fullname in home.text
        token = csrf_of(home.text)
        for _ in range(5):
            assert (await client.get("/api/me")).status_code == 200
        # The last-seen time is written lazily: not on every request.
        [(key, user, created, seen)] = rows(office)
        assert key == digest(cookie) and user == "bob" and seen == created
    # Stopped: the last-seen time of the requests above reached the store.
    [(_, _, created, seen)] = rows(tmp_path / "ctibot.sqlite")
    assert seen > created

    async with running_office(tmp_path, None) as office:  # a new ctibot, same database and key
        again = office.client(cookies={COOKIE: cookie})
        page = await again.get("/")
        assert page.status_code == 200 and BOB.fullname in page.text
        assert (await again.get("/api/me")).json()["name"] == "bob"
        # The same CSRF token still goes with it.
        resp = await again.post(
            "/language",
            data={"language": "en", "csrf_token": token},
            headers={"Referer": office.url + "/"},
        )
        assert resp.status_code == 302 and "X-Ctibot-Refused" not in resp.headers
        # And the websocket opens on the same cookie.
        office.web.live("test.persist", snapshot=lambda user: {"hello": user.name})
        ws = await WsClient.connect(office.url, {COOKIE: cookie}, origin=office.url)
        try:
            await ws.send_json({"subscribe": ["test.persist"]})
            assert await ws.messages() == [{"topic": "test.persist", "data": {"hello": "bob"}}]
        finally:
            await ws.close()


async def test_the_database_holds_no_usable_cookie(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        cookies = [(await office.logged_in(p)).cookies[COOKIE] for p in ("user", "admin")]
        assert {r[0] for r in rows(office)} == {digest(c) for c in cookies}
    files = b"".join(p.read_bytes() for p in tmp_path.glob("ctibot.sqlite*"))
    assert b"web_sessions" in files  # the right file
    for cookie in cookies:
        assert sid_of(cookie).encode() not in files and cookie.encode() not in files
        assert digest(cookie).encode() in files


async def test_logout_deletes_the_stored_session(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        client = await office.logged_in("user")
        other = await office.logged_in("admin")
        cookie = client.cookies[COOKIE]
        assert len(rows(office)) == 2
        token = csrf_of((await client.get("/")).text)
        assert (await client.post("/logout", data={"csrf_token": token})).status_code == 302
        assert [r[1] for r in rows(office)] == ["carol"]
        assert (await other.get("/api/me")).status_code == 200
    async with running_office(tmp_path, None) as office:
        assert (await me(office, cookie)).status_code == 401


async def test_idle_time_counts_across_a_restart(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        long_idle = (await office.logged_in("user")).cookies[COOKIE]
        just_idle = (await office.logged_in("admin")).cookies[COOKIE]
        fresh = (await office.logged_in("user")).cookies[COOKIE]
    db = tmp_path / "ctibot.sqlite"
    now = time.time()
    with sqlite3.connect(db) as conn:  # ctibot is stopped: these sessions idled meanwhile
        conn.execute(
            "UPDATE web_sessions SET seen = ? WHERE hash = ?",
            (now - SESSION_IDLE - SEEN_WRITE - 60, digest(long_idle)),
        )
        conn.execute(
            "UPDATE web_sessions SET seen = ? WHERE hash = ?",
            (now - SESSION_IDLE - 5, digest(just_idle)),
        )
    async with running_office(tmp_path, None) as office:
        # Swept when ctibot starts; the one that only just expired goes when it is used.
        await wait_for(lambda: digest(long_idle) not in {r[0] for r in rows(office)})
        assert (await me(office, long_idle)).status_code == 401
        assert digest(just_idle) in {r[0] for r in rows(office)}
        assert (await me(office, just_idle)).status_code == 401
        assert {r[0] for r in rows(office)} == {digest(fresh)}
        assert (await me(office, fresh)).json()["name"] == "bob"


async def test_a_user_no_longer_configured_is_refused(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        bob = (await office.logged_in("user")).cookies[COOKIE]
        carol = (await office.logged_in("admin")).cookies[COOKIE]
        users = tuple(u for u in office.config.users if u.name != CAROL.name)
    async with running_office(tmp_path, None, users=users) as office:
        assert (await me(office, carol)).status_code == 401
        assert (await office.client(cookies={COOKIE: carol}).get("/")).status_code == 302
        assert [r[1] for r in rows(office)] == ["bob"]  # her row is gone
        assert (await me(office, bob)).json()["name"] == "bob"


async def test_without_a_secret_key_sessions_end_at_restart(tmp_path: Path, caplog) -> None:
    web = WebConfig("127.0.0.1:0", "", "")
    caplog.set_level(logging.WARNING, "ctibot.http.web")
    async with running_office(tmp_path, None, web=web) as office:
        cookie = (await office.logged_in("user")).cookies[COOKIE]
        assert (await me(office, cookie)).status_code == 200
    assert "secret_key is not set" in caplog.text
    async with running_office(tmp_path, None, web=web) as office:
        assert (await me(office, cookie)).status_code == 401
        await wait_for(lambda: not rows(office))  # rows no cookie can match are dropped


async def test_a_cached_session_costs_no_database_read(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        client = await office.logged_in("user")
        assert (await client.get("/api/me")).status_code == 200
        statements: list[str] = []
        await office.app.store.db.set_trace_callback(statements.append)
        try:
            for _ in range(5):
                assert (await client.get("/api/me")).status_code == 200
            assert not [s for s in statements if "web_sessions" in s]
            # A minute later (wall clock) the last-seen time is written, once.
            office.web.clock = lambda: time.time() + SEEN_WRITE + 1
            for _ in range(3):
                assert (await client.get("/api/me")).status_code == 200
            assert len([s for s in statements if "web_sessions" in s]) == 1
        finally:
            await office.app.store.db.set_trace_callback(None)
        [(_, _, created, seen)] = rows(office)
        assert seen >= created + SEEN_WRITE


async def test_the_cap_and_a_flood_of_anonymous_sessions(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        office.web.max_sessions = 2
        first = await office.logged_in("user")
        second = await office.logged_in("admin")
        for _ in range(3):  # login forms: memory only; they push the others out of the cache
            await office.client().get("/login")
        assert len(rows(office)) == 2
        assert (await second.get("/api/me")).status_code == 200  # read again from the store
        assert (await first.get("/api/me")).status_code == 200
        third = await office.logged_in("user")  # beyond the cap: the least recently seen goes
        assert len(rows(office)) == 2
        assert (await first.get("/api/me")).status_code == 401
        assert (await second.get("/api/me")).status_code == 200
        assert (await third.get("/api/me")).status_code == 200


async def test_user_passwd_ends_that_users_sessions(tmp_path: Path) -> None:
    async with running_office(tmp_path, None) as office:
        bobs = [await office.logged_in("user") for _ in range(2)]
        carol = await office.logged_in("admin")
        config = tmp_path / "passwd.toml"
        config.write_text(
            f'[pbx]\nsecret = "x"\n[database]\npath = "{office.config.database.path}"\n'
            f'[auth]\nusers_file = "{office.users_file}"\n'
            '[[users]]\nname = "bob"\nfullname = "Bob"\nextensions = ["202"]\n'
            '[[users]]\nname = "carol"\nfullname = "Carol"\nextensions = ["203"]\n'
        )
        out = await passwd(config, "bob", "a-brand-new-password")
        assert "2 web panel session(s) ended" in out
        assert [r[1] for r in rows(office)] == ["carol"]
        # The running ctibot lets them go when it next writes their last-seen time.
        office.web.clock = lambda: time.time() + SEEN_WRITE + 1
        for bob in bobs:
            assert (await bob.get("/api/me")).status_code == 401
        assert (await carol.get("/api/me")).status_code == 200
        # The new password works.
        fresh = office.client()
        resp = await office.login(fresh, "bob", "a-brand-new-password")
        assert resp.status_code == 302 and (await fresh.get("/api/me")).status_code == 200
    # Without a database file nothing is created and the password still changes.
    config.write_text(config.read_text().replace("ctibot.sqlite", "none/ctibot.sqlite"))
    assert "session" not in await passwd(config, "bob", "another-password")
    assert not (tmp_path / "none").exists()


def test_the_migration_is_appended(tmp_path: Path) -> None:
    from ctibot.store import MIGRATIONS, Store

    async def run() -> int:
        store = await Store.open(tmp_path / "db.sqlite")
        await store.close()
        with sqlite3.connect(tmp_path / "db.sqlite") as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    assert asyncio.run(run()) == len(MIGRATIONS)
    assert "CREATE TABLE web_sessions" in MIGRATIONS[-1] and "subscriptions" in MIGRATIONS[0]
