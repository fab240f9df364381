"""The XMPP core's hooks (XmppGateway.hooks) through a real Prosody: what plugins hang on."""

from __future__ import annotations

import pytest
import slixmpp
from slixmpp.exceptions import IqError

from ctibot.config import PluginsConfig
from ctibot.plugin import IqRefused, IqRequest, VirtualMessage, VirtualPresence

from harness import ring_forever, until
from office import COMPONENT, DOMAIN, Office, team_up
from xmpp_fixtures import xmpp_client, xmpp_disconnect

GATEWAY_NS = "jabber:iq:gateway"


def hooks_of(chat_office: Office):
    assert chat_office.app is not None and chat_office.app.xmpp is not None
    return chat_office.app.xmpp.hooks


async def test_a_message_to_a_phones_jid_reaches_the_hook_and_no_command_reply(
    chat_office: Office,
) -> None:
    hooks = hooks_of(chat_office)
    seen: list[VirtualMessage] = []

    def take(msg: VirtualMessage) -> bool:
        seen.append(msg)
        return msg.body == "for the hook"

    hooks.on_message(take)
    alice = await chat_office.login("alice")
    # Not taken: the core answers as before, and the answer is the positive signal.
    await alice.say("for nobody", to=f"203@{COMPONENT}")
    await until(lambda: any(t.startswith("This contact shows") for t in alice.texts()))
    replies = len(alice.texts())
    await alice.say("for the hook", to=f"203@{COMPONENT}")
    await until(lambda: len(seen) == 2)
    msg = seen[1]
    assert (msg.user.name, msg.local, msg.body) == ("alice", "203", "for the hook")
    assert msg.displayed is None
    assert msg.sender.startswith(f"alice@{DOMAIN}/")
    # A command after it is answered: had the hook's message been answered too, its reply
    # would come first.
    assert await alice.ask("whoami") != ""
    assert len(alice.texts()) == replies + 1
    # A user's own virtual JID takes commands: never offered to the hooks.
    await alice.ask("whoami", to=f"alice@{COMPONENT}")
    assert len(seen) == 2


async def test_a_strangers_message_never_reaches_the_hooks(chat_office: Office) -> None:
    hooks = hooks_of(chat_office)
    seen: list[VirtualMessage] = []
    hooks.on_message(lambda msg: seen.append(msg) or True)
    carol = await chat_office.login("carol")  # an account on the server, not a ctibot user
    reply = await carol.ask("hello", to=f"203@{COMPONENT}")
    assert "not a user" in reply
    assert seen == []


async def test_a_displayed_marker_reaches_the_hook_with_the_id_it_marks(
    chat_office: Office,
) -> None:
    hooks = hooks_of(chat_office)
    seen: list[VirtualMessage] = []
    hooks.on_message(lambda msg: seen.append(msg) or True)
    alice = await chat_office.login("alice")
    marker = alice.client.make_message(mto=f"203@{COMPONENT}", mtype="chat")
    marker.append(
        slixmpp.xmlstream.ET.fromstring("<displayed xmlns='urn:xmpp:chat-markers:0' id='m-42'/>")
    )
    marker.send()
    await until(lambda: seen)
    assert (seen[0].local, seen[0].body, seen[0].displayed) == ("203", "", "m-42")


async def test_send_chat_from_a_virtual_jid_markable_with_its_id(chat_office: Office) -> None:
    hooks = hooks_of(chat_office)
    alice = await chat_office.login("alice")
    user = chat_office.config.users[0]
    sent = hooks.send_chat(user, "note <b>&", frm=hooks.jid_of("bob"), markable=True)
    await until(lambda: any(m["body"] == "note <b>&" for m in alice.messages))
    msg = next(m for m in alice.messages if m["body"] == "note <b>&")
    assert msg["from"].bare == f"bob@{COMPONENT}" and msg["id"] == sent
    assert msg.xml.find("{urn:xmpp:chat-markers:0}markable") is not None


async def test_an_iq_handler_answers_and_refuses_and_its_feature_is_announced(
    chat_office: Office,
) -> None:
    hooks = hooks_of(chat_office)
    asked: list[IqRequest] = []

    def gateway(request: IqRequest) -> str | None:
        asked.append(request)
        if request.type == "get":
            return f"<query xmlns='{GATEWAY_NS}'><desc>Phone number</desc><prompt/></query>"
        raise IqRefused("not-acceptable", "not a number")

    hooks.on_iq("urn:example:test-gateway", gateway)
    client = await xmpp_client(chat_office.server, "alice", plugins=("xep_0030",))
    try:
        iq = client.make_iq_get(ito=COMPONENT)
        iq.append(slixmpp.xmlstream.ET.fromstring("<query xmlns='urn:example:test-gateway'/>"))
        result = await iq.send(timeout=5)
        assert result.xml.find(f"{{{GATEWAY_NS}}}query/{{{GATEWAY_NS}}}desc").text == (
            "Phone number"
        )
        iq = client.make_iq_set(ito=COMPONENT)
        iq.append(slixmpp.xmlstream.ET.fromstring("<query xmlns='urn:example:test-gateway'/>"))
        with pytest.raises(IqError) as refused:
            await iq.send(timeout=5)
        assert refused.value.condition == "not-acceptable"
        assert refused.value.text == "not a number"
        assert [(r.type, r.local, r.user.name if r.user else None) for r in asked] == [
            ("get", "", "alice"),
            ("set", "", "alice"),
        ]
        info = await client.plugin["xep_0030"].get_info(jid=COMPONENT, timeout=5)
        assert "urn:example:test-gateway" in info["disco_info"]["features"]
    finally:
        await xmpp_disconnect(client)


async def test_a_presence_source_and_publish_reach_subscribers_with_what_changed(
    chat_office: Office,
) -> None:
    hooks = hooks_of(chat_office)
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    await until(lambda: bob.show_of(f"203@{COMPONENT}") is not None)
    shown = {"203": VirtualPresence(True, "away", "At lunch")}
    hooks.set_presence(lambda local, language: shown.get(local, VirtualPresence(True, None, "")))
    hooks.publish_presence(["203"])
    await until(lambda: (bob.show_of(f"203@{COMPONENT}") or "")[1:] == ("away", "At lunch"))
    # Published again, unchanged: nothing is written.
    assert hooks.publish_presence(["203"]) == 0


async def test_hooks_on_online_and_away_and_show(chat_office: Office) -> None:
    hooks = hooks_of(chat_office)
    events: list[tuple[str, str]] = []
    hooks.on_online(lambda user: events.append(("online", user.name)))
    hooks.on_away(lambda user: events.append(("away", user.name)))
    hooks.on_show(lambda user, show: events.append(("show", show)))
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    await until(lambda: ("online", "bob") in events)
    bob.client.send_presence(pshow="xa")
    await until(lambda: ("show", "xa") in events)
    await chat_office.logout("bob")
    await until(lambda: ("away", "bob") in events)
    assert hooks.is_online(chat_office.config.users[1]) is False


async def test_no_stanza_leaves_when_the_component_is_offline(chat_office: Office) -> None:
    hooks = hooks_of(chat_office)
    gateway = chat_office.app.xmpp  # type: ignore[union-attr]
    await gateway.stop()
    assert hooks.send_chat(chat_office.config.users[0], "lost") is None
    assert hooks.send_chat(chat_office.config.users[0], "lost", transient=True) is None


async def test_disabled_popups_send_none_and_the_rest_goes_on(chat_office: Office) -> None:
    await chat_office.stop_ctibot()
    await chat_office.start_ctibot(plugins=PluginsConfig(disabled=("popups",)))
    bob = await chat_office.login("bob")
    await team_up(chat_office, bob)
    ring_forever(chat_office.pbx, "202")
    chat_office.pbx.inbound_call("0612345678", "ACME Corp", "5550102")  # the DID of 202
    # The presence plugin still shows the ringing; a popup would have come before it.
    await until(
        lambda: (bob.show_of(f"202@{COMPONENT}") or ("", "", ""))[2].startswith("Squilla")
    )
    assert not any("ti sta chiamando" in t for t in bob.texts())
    assert "Bob Brown" in await bob.ask("chisono")
