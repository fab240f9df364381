"""The users' own presence: online tracking and what follows from it, under racing stanzas."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from slixmpp import JID, Presence

from ctibot.config import UserConfig
from ctibot.xmpp.userpresence import UserPresence

BOB = UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.test", auto_queue_login=True)
COMPONENT = "cti.example.test"


class SlowServices:
    """Queue login / logout and DND that take a while, as a PBX round trip does."""

    def __init__(self) -> None:
        self.in_queues = False
        self.calls: list[str] = []
        self.dnd: list[bool] = []

    async def queue_presence(self, user: UserConfig, online: bool):
        self.calls.append("login" if online else "logout")
        # A login is slower than a logout: an unserialised login would land last.
        await asyncio.sleep(0.05 if online else 0.001)
        self.in_queues = online
        return True

    async def set_dnd(self, user: UserConfig, on: bool):
        self.dnd.append(on)
        return SimpleNamespace(changed=True)


def make() -> tuple[UserPresence, SlowServices, list[str]]:
    services = SlowServices()
    summaries: list[str] = []

    async def summary(user: UserConfig) -> None:
        await asyncio.sleep(0.01)  # a database read
        summaries.append(user.name)

    jids = SimpleNamespace(
        domain=COMPONENT,
        sender=lambda jid: BOB if JID(jid).bare == BOB.jid else None,
    )
    gateway = SimpleNamespace(jids=jids, services=services, popups=SimpleNamespace(summary=summary))
    return UserPresence(gateway), services, summaries


def presence(sender: str, kind: str = "available", to: str = f"201@{COMPONENT}") -> Presence:
    pres = Presence()
    pres["from"], pres["to"] = sender, to
    if kind == "unavailable":
        pres["type"] = "unavailable"
    elif kind != "available":
        pres["show"] = kind
    return pres


async def test_online_offline_online_in_a_burst_ends_logged_in_once_settled() -> None:
    view, services, summaries = make()
    laptop = "bob@example.test/laptop"
    # slixmpp runs each handler as its own task: the three race.
    await asyncio.gather(
        view.on_presence(presence(laptop)),
        view.on_presence(presence(laptop, "unavailable")),
        view.on_presence(presence(laptop)),
    )
    assert view.is_online(BOB) is True
    assert services.in_queues is True
    # The offline and the second online were seen while logging in: by the time
    # their turn came, bob was online again, as already acted upon.
    assert services.calls == ["login"]
    # ... and the other way round ends logged out.
    await asyncio.gather(
        view.on_presence(presence(laptop, "unavailable")),
        view.on_presence(presence(laptop)),
        view.on_presence(presence(laptop, "unavailable")),
    )
    assert view.is_online(BOB) is False
    assert services.in_queues is False
    assert services.calls == ["login", "logout"]
    assert summaries == ["bob"]


async def test_copies_of_one_presence_act_once() -> None:
    view, services, summaries = make()
    laptop = "bob@example.test/laptop"
    await asyncio.gather(
        *(view.on_presence(presence(laptop, to=f"{n}@{COMPONENT}")) for n in range(201, 209))
    )
    assert services.calls == ["login"] and summaries == ["bob"]


async def test_a_bare_unavailable_does_not_take_a_known_resource_offline() -> None:
    view, services, _ = make()
    await view.on_presence(presence("bob@example.test/laptop"))
    # Prosody answers a probe from a JID bob has not authorised yet like this.
    await view.on_presence(presence("bob@example.test", "unavailable"))
    assert view.is_online(BOB) is True
    assert services.calls == ["login"]
    # The resource's own unavailable does.
    await view.on_presence(presence("bob@example.test/laptop", "unavailable"))
    assert view.is_online(BOB) is False
    assert services.calls == ["login", "logout"]


async def test_a_bare_unavailable_for_someone_never_seen_means_offline() -> None:
    view, services, summaries = make()
    await view.on_presence(presence("bob@example.test", "unavailable"))
    assert view.is_online(BOB) is False
    assert services.calls == [] and summaries == []


async def test_dnd_flapping_ends_with_the_last_show() -> None:
    view, services, _ = make()
    laptop = "bob@example.test/laptop"
    await view.on_presence(presence(laptop))
    await asyncio.gather(
        view.on_presence(presence(laptop, "dnd")),
        view.on_presence(presence(laptop, "away")),
        view.on_presence(presence(laptop, "dnd")),
    )
    assert services.dnd[-1] is True
    await view.on_presence(presence(laptop, "chat"))
    assert services.dnd[-1] is False


async def test_strangers_and_other_domains_are_ignored() -> None:
    view, services, summaries = make()
    await view.on_presence(presence("mallory@example.test/x"))
    await view.on_presence(presence("bob@example.test/laptop", to="someone@elsewhere.test"))
    assert view.is_online(BOB) is None
    assert services.calls == [] and summaries == []


class Wire:
    """What the component writes, as prepared XML."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.online = asyncio.Event()
        self.online.set()

    def send_raw(self, data: str) -> None:
        self.sent.append(data)

    def new_id(self) -> str:
        return "id1"


def test_after_a_reconnect_every_user_is_probed_from_their_own_virtual_jid() -> None:
    view, _, _ = make()
    wire = Wire()
    nobody = UserConfig("dave", "Dave Davis", ("204",))  # no XMPP account
    view.gw.xmpp = wire
    view.gw.config = SimpleNamespace(users=(BOB, nobody))
    view.resources["bob"] = {"laptop": ""}
    view.forget()
    assert view.is_online(BOB) is None
    assert wire.sent == [f"<presence type='probe' from='bob@{COMPONENT}' to='bob@example.test'/>"]


async def test_the_answer_to_a_probe_tells_ctibot_bob_is_away() -> None:
    view, _, _ = make()
    # Prosody's answer for a user with no resource online: unavailable, from the bare JID.
    await view.on_presence(presence("bob@example.test", "unavailable", to=f"bob@{COMPONENT}"))
    assert view.is_online(BOB) is False
    assert view.online_jids(BOB) == []
    await view.on_presence(presence("bob@example.test/phone"))
    await view.on_presence(presence("bob@example.test/laptop", "away"))
    assert view.online_jids(BOB) == ["bob@example.test/phone", "bob@example.test/laptop"]


def test_a_popup_for_someone_whose_presence_is_unknown_is_a_headline_never_stored() -> None:
    from ctibot.xmpp.popups import Popups

    view, _, _ = make()
    wire = Wire()
    gateway = SimpleNamespace(xmpp=wire, users=view, jids=SimpleNamespace(domain=COMPONENT))
    popups = Popups(gateway)  # type: ignore[arg-type]
    popups.notify(BOB, "ring")
    assert len(wire.sent) == 1 and "type='headline'" in wire.sent[0]
    assert "to='bob@example.test'" in wire.sent[0]
    view.resources["bob"] = {}  # known to be away: nothing at all
    popups.notify(BOB, "ring")
    assert len(wire.sent) == 1
    view.resources["bob"] = {"laptop": "", "phone": "away"}
    popups.notify(BOB, "ring")
    assert [m.split(" type=")[0].split("to=")[1] for m in wire.sent[1:]] == [
        "'bob@example.test/laptop'",
        "'bob@example.test/phone'",
    ]
    assert all("type='chat'" in m and "urn:xmpp:hints" in m for m in wire.sent[1:])
