"""Users' own presence: online tracking in the core, and the plugins on its hooks, under races."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from slixmpp import JID, Presence

from ctibot.config import Config, PbxConfig, UserConfig, XmppConfig
from ctibot.xmpp.hooks import GatewayHooks
from ctibot.xmpp.users import OnlineUsers, combined_show

from xmpp_fixtures import load_plugin

BOB = UserConfig("bob", "Bob Brown", ("202",), jid="bob@example.test", auto_queue_login=True)
DAVE = UserConfig("dave", "Dave Davis", ("204",))  # no XMPP account
COMPONENT = "cti.example.test"
CONFIG = Config(
    path=Path("office.toml"),
    pbx=PbxConfig(host="127.0.0.1", port=5038, username="cti", secret="x"),
    xmpp=XmppConfig(COMPONENT, "secret", "127.0.0.1", 5347, "example.test"),
    users=(BOB, DAVE),
)


class SlowPbx:
    """The phone and queues services' answers, taking a while as a PBX round trip does."""

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


class Wire:
    """What the component writes, as prepared XML."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.online = asyncio.Event()
        self.online.set()
        self._ids = 0

    def send_raw(self, data: str) -> None:
        self.sent.append(data)

    def new_id(self) -> str:
        self._ids += 1
        return f"id{self._ids}"

    def add_event_handler(self, *_: object) -> None:
        pass


class MissedCalls:
    """The store's missed-call list, with a database read's pause."""

    def __init__(self) -> None:
        self.taken: list[str] = []

    async def take_missed(self, user: str) -> list[dict]:
        await asyncio.sleep(0.01)
        self.taken.append(user)
        return []


def core() -> tuple[OnlineUsers, GatewayHooks, Wire]:
    jids = SimpleNamespace(
        domain=COMPONENT,
        sender=lambda jid: BOB if JID(jid).bare == BOB.jid else None,
    )
    wire = Wire()
    users = OnlineUsers(CONFIG, jids, wire)  # type: ignore[arg-type]
    gateway = SimpleNamespace(jids=jids, users=users, xmpp=wire)
    return users, GatewayHooks(gateway), wire  # type: ignore[arg-type]


async def make() -> tuple[OnlineUsers, SlowPbx, list[str]]:
    """The core's online tracking with the popups, autoqueue and dndsync plugins on its hooks."""
    users, hooks, _ = core()
    pbx, store = SlowPbx(), MissedCalls()
    services = {"phone": pbx, "queues": pbx}
    for name in ("popups", "autoqueue", "dndsync"):
        await load_plugin(name, hooks=hooks, config=CONFIG, services=services, store=store)
    return users, pbx, store.taken


def presence(sender: str, kind: str = "available", to: str = f"201@{COMPONENT}") -> Presence:
    pres = Presence()
    pres["from"], pres["to"] = sender, to
    if kind == "unavailable":
        pres["type"] = "unavailable"
    elif kind != "available":
        pres["show"] = kind
    return pres


async def test_online_offline_online_in_a_burst_ends_logged_in_once_settled() -> None:
    view, services, summaries = await make()
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
    view, services, summaries = await make()
    laptop = "bob@example.test/laptop"
    await asyncio.gather(
        *(view.on_presence(presence(laptop, to=f"{n}@{COMPONENT}")) for n in range(201, 209))
    )
    assert services.calls == ["login"] and summaries == ["bob"]


async def test_a_bare_unavailable_does_not_take_a_known_resource_offline() -> None:
    view, services, _ = await make()
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
    view, services, summaries = await make()
    await view.on_presence(presence("bob@example.test", "unavailable"))
    assert view.is_online(BOB) is False
    assert services.calls == [] and summaries == []


async def test_dnd_flapping_ends_with_the_last_show() -> None:
    view, services, _ = await make()
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


async def test_logging_in_available_leaves_the_phones_dnd_alone_and_offline_is_no_show() -> None:
    view, services, _ = await make()
    laptop = "bob@example.test/laptop"
    await view.on_presence(presence(laptop))
    await view.on_presence(presence(laptop, "away"))
    assert services.dnd == []  # nothing ever said DND: the phone's own DND is not touched
    await view.on_presence(presence(laptop, "dnd"))
    await view.on_presence(presence(laptop, "unavailable"))
    assert services.dnd == [True]  # going offline is not "DND off"


async def test_strangers_and_other_domains_are_ignored() -> None:
    view, services, summaries = await make()
    await view.on_presence(presence("mallory@example.test/x"))
    await view.on_presence(presence("bob@example.test/laptop", to="someone@elsewhere.test"))
    assert view.is_online(BOB) is None
    assert services.calls == [] and summaries == []


def test_dnd_on_any_resource_is_dnd_else_the_most_available_show() -> None:
    assert combined_show({"laptop": "away", "phone": "dnd"}) == "dnd"
    assert combined_show({"laptop": "xa", "phone": ""}) == ""
    assert combined_show({"laptop": "xa", "phone": "chat"}) == "chat"
    assert combined_show({"laptop": "xa", "phone": "away"}) == "away"


async def test_a_failing_hook_does_not_stop_the_others() -> None:
    users, hooks, _ = core()
    seen: list[str] = []

    def broken(user: UserConfig) -> None:
        raise RuntimeError("a plugin's bug")

    hooks.on_online(broken)
    hooks.on_online(lambda user: seen.append(user.name))
    await users.on_presence(presence("bob@example.test/laptop"))
    assert seen == ["bob"]


def test_after_a_reconnect_every_user_is_probed_from_their_own_virtual_jid() -> None:
    view, _, wire = core()
    view.resources["bob"] = {"laptop": ""}
    view.forget()
    assert view.is_online(BOB) is None
    assert wire.sent == [f"<presence type='probe' from='bob@{COMPONENT}' to='bob@example.test'/>"]


async def test_the_answer_to_a_probe_tells_ctibot_bob_is_away() -> None:
    view, _, _ = await make()
    # Prosody's answer for a user with no resource online: unavailable, from the bare JID.
    await view.on_presence(presence("bob@example.test", "unavailable", to=f"bob@{COMPONENT}"))
    assert view.is_online(BOB) is False
    assert view.online_jids(BOB) == []
    await view.on_presence(presence("bob@example.test/phone"))
    await view.on_presence(presence("bob@example.test/laptop", "away"))
    assert view.online_jids(BOB) == ["bob@example.test/phone", "bob@example.test/laptop"]


async def test_a_popup_for_someone_whose_presence_is_unknown_is_a_headline_never_stored() -> None:
    view, hooks, wire = core()
    popups = await load_plugin("popups", hooks=hooks, config=CONFIG)
    popups.notify(BOB, "ring")
    assert len(wire.sent) == 1 and "type='headline'" in wire.sent[0]
    assert "to='bob@example.test'" in wire.sent[0]
    view.resources["bob"] = {}  # known to be away: nothing at all
    popups.notify(BOB, "ring")
    assert len(wire.sent) == 1
    view.resources["bob"] = {"laptop": "", "phone": "away"}
    popups.notify(BOB, "ring")
    stanzas = wire.sent[1].replace("</message><message", "</message>\n<message").split("\n")
    assert [m.split(" type=")[0].split("to=")[1] for m in stanzas] == [
        "'bob@example.test/laptop'",
        "'bob@example.test/phone'",
    ]
    assert all("type='chat'" in m and "urn:xmpp:hints" in m for m in stanzas)
