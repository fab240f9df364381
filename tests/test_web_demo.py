"""`ctibot demo` starts the panel too: it prints the URL and a login per demo user that works."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx

from web_fixtures import csrf_of


async def test_demo_prints_the_panel_and_its_logins_work(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ctibot", "demo", "--no-xmpp", "--no-traffic", "--ami-port", "0",
        "--web-port", "0", "--duration", "60", "--state-dir", str(tmp_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    text = ""
    try:
        async with asyncio.timeout(30):
            while "Ctrl-C stops" not in text:
                line = await proc.stdout.readline()
                assert line, text
                text += line.decode()
        url = re.search(r"Web panel +(http://127\.0\.0\.1:\d+)/", text)
        assert url, text
        logins = re.findall(r"\b([a-z]+) / ([a-z]+-demo)\b", text)
        assert ("alice", "alice-demo") in logins and len(logins) == 8
        assert "(supervisor)" in text and "(admin)" in text
        async with httpx.AsyncClient(base_url=url.group(1), trust_env=False, timeout=10) as c:
            page = await c.get("/login")
            resp = await c.post("/login", data={"name": "alice", "password": "alice-demo",
                                                "csrf_token": csrf_of(page.text)})
            assert resp.status_code == 302
            me = (await c.get("/api/me")).json()
            assert me["name"] == "alice" and "operator_panel" in me["permissions"]
        config = (tmp_path / "ctibot.toml").read_text()
        assert "[web]" in config and "users_file" in config
        assert (tmp_path / "web-users").stat().st_mode & 0o777 == 0o600
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
