"""The websocket hub at /ws: session auth, topics, snapshots, publish, coalescing, slow clients."""

from __future__ import annotations

import asyncio
import time

import pytest

from ctibot.http.hub import MAX_PENDING, Client

from web_fixtures import WebOffice, WsClient, WsRefused, wait_for


async def test_not_logged_in_or_foreign_origin_is_refused(web_office: WebOffice, web_clients):
    with pytest.raises(WsRefused) as refused:
        await WsClient.connect(web_office.url, web_clients["anonymous"].cookies)
    assert refused.value.status == 401
    with pytest.raises(WsRefused) as refused:
        await WsClient.connect(web_office.url, web_clients["user"].cookies,
                               origin="http://evil.example")
    assert refused.value.status == 403


async def test_snapshot_then_changes_only_to_allowed_users(web_office: WebOffice, web_clients):
    web = web_office.web
    web.live("test.open", snapshot=lambda user: {"hello": user.name})

    async def staff_snapshot(user):
        return {"staff": True}

    web.live("test.staff", snapshot=staff_snapshot, permission="operator_panel")
    bob = await WsClient.connect(web_office.url, web_clients["user"].cookies,
                                 origin=web_office.url)
    alice = await WsClient.connect(web_office.url, web_clients["supervisor"].cookies)
    try:
        await bob.send_json({"subscribe": ["test.open", "test.staff", "nosuch"]})
        got = []
        while len(got) < 3:
            got += await bob.messages()
        assert {"topic": "test.open", "data": {"hello": "bob"}} in got
        assert {"topic": "error", "data": {"topic": "test.staff", "error": "forbidden"}} in got
        assert {"topic": "error", "data": {"topic": "nosuch", "error": "forbidden"}} in got
        await alice.send_json({"subscribe": ["test.staff"]})
        assert await alice.messages() == [{"topic": "test.staff", "data": {"staff": True}}]
        # A change for the staff topic reaches alice only; one for bob alone, bob only.
        assert web.publish("test.staff", {"n": 1}) == 1
        assert await alice.messages() == [{"topic": "test.staff", "data": {"n": 1}}]
        alice_user = web.config.user_by_name("alice")
        web.publish("test.open", {"for": "alice"}, users=[alice_user])
        web.publish("test.open", {"for": "bob"}, users=["bob"])
        assert await bob.messages() == [{"topic": "test.open", "data": {"for": "bob"}}]
        # Unsubscribed: nothing more.
        await bob.send_json({"unsubscribe": ["test.open"]})
        await wait_for(lambda: all("test.open" not in c.topics for c in web.hub.clients
                                   if c.user.name == "bob"))
        assert web.publish("test.open", {"late": 1}, users=["bob"]) == 0
    finally:
        await bob.close()
        await alice.close()
    await wait_for(lambda: not web.hub.clients)


def test_coalescing_by_key_and_order() -> None:
    async def run() -> None:
        client = Client(user=None)
        for n in range(5):
            assert client.offer("board", {"ext": "201", "n": n}, key="201")
        client.offer("board", {"ext": "202"}, key="202")
        client.offer("board", {"delta": 1})
        client.offer("board", {"delta": 2})
        client.offer("board", {"ext": "201", "n": 9}, key="201")
        taken = [m["data"] for m in client.take()]
        assert taken == [{"ext": "202"}, {"delta": 1}, {"delta": 2}, {"ext": "201", "n": 9}]
        for n in range(MAX_PENDING):
            assert client.offer("x", n)
        assert client.offer("x", "one too many") is False

    asyncio.run(run())


async def test_a_slow_client_is_dropped_and_publish_never_waits(web_office, web_clients):
    web = web_office.web
    web.live("test.flood", snapshot=lambda user: "start")
    slow = await WsClient.connect(web_office.url, web_clients["user"].cookies)
    fast = await WsClient.connect(web_office.url, web_clients["admin"].cookies)
    await slow.send_json({"subscribe": ["test.flood"]})
    await fast.send_json({"subscribe": ["test.flood"]})
    assert (await slow.messages())[0]["data"] == "start"
    assert (await fast.messages())[0]["data"] == "start"
    await wait_for(lambda: len([c for c in web.hub.clients if "test.flood" in c.topics]) == 2)
    blob = "x" * 20_000
    received = 0

    async def read_fast() -> None:
        nonlocal received
        while received < 1500:
            received += len(await fast.messages())

    reader = asyncio.create_task(read_fast())
    worst = 0.0
    for n in range(1500):  # ~30 MB for a client that reads nothing
        started = time.perf_counter()
        web.publish("test.flood", {"n": n, "blob": blob})
        worst = max(worst, time.perf_counter() - started)
        if n % 50 == 49:  # a fast reader keeps up; the slow one reads nothing at all
            await wait_for(lambda n=n: received >= n - 100)
    assert worst < 0.05  # publish is a few dict operations, whoever is slow
    await wait_for(lambda: all(c.user.name != "bob" for c in web.hub.clients))
    await asyncio.wait_for(reader, 20)  # the fast client got everything
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError, TimeoutError)):
        while True:
            await slow.messages(timeout=10)
    await slow.close()
    await fast.close()


async def test_stopping_closes_open_sockets_at_once(web_office: WebOffice, web_clients) -> None:
    ws = await WsClient.connect(web_office.url, web_clients["user"].cookies)
    await ws.send_json({"subscribe": []})
    await wait_for(lambda: len(web_office.web.hub.clients) == 1)
    started = time.perf_counter()
    await web_office.app.http.stop()
    assert time.perf_counter() - started < 1.0  # no graceful wait on the websocket
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await ws.messages(timeout=5)
    assert ws.closed in (None, 1001)
    await ws.close()


async def test_logout_closes_that_sessions_sockets_only(web_office: WebOffice) -> None:
    from web_fixtures import csrf_of

    first = await web_office.logged_in("user")
    second = await web_office.logged_in("user")  # bob in another browser
    a = await WsClient.connect(web_office.url, first.cookies)
    b = await WsClient.connect(web_office.url, second.cookies)
    await a.send_json({"subscribe": []})
    await b.send_json({"subscribe": []})
    await wait_for(lambda: len(web_office.web.hub.clients) == 2)
    token = csrf_of((await first.get("/")).text)
    assert (await first.post("/logout", data={"csrf_token": token})).status_code == 302
    with pytest.raises(ConnectionError):
        await a.messages(timeout=5)
    assert a.closed == 1001
    await wait_for(lambda: len(web_office.web.hub.clients) == 1)
    web_office.web.live("test.after", snapshot=lambda user: "still here")
    await b.send_json({"subscribe": ["test.after"]})
    assert (await b.messages())[0]["data"] == "still here"
    await a.close()
    await b.close()


async def test_coalesced_turns_a_burst_of_changes_into_one_flush() -> None:
    from ctibot.plugin import Coalesced

    flushed: list[str] = []

    async def flush_async() -> None:
        flushed.append("async")

    sync = Coalesced(0.01, lambda: flushed.append("sync"))
    later = Coalesced(0.01, flush_async)
    for _ in range(50):
        sync(object())
        later()
    async with asyncio.timeout(5):
        while len(flushed) < 2:
            await asyncio.sleep(0.005)
    assert sorted(flushed) == ["async", "sync"]
    sync()  # after the flush, a new change schedules a new one
    async with asyncio.timeout(5):
        while len(flushed) < 3:
            await asyncio.sleep(0.005)
    assert flushed[-1] == "sync"
