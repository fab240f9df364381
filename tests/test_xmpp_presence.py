"""What virtual JIDs show, derived from a live demo PBX: ringing, on a call, DND, forwarded…"""

from __future__ import annotations

from pathlib import Path

from ctibot.config import Config, UserConfig
from ctibot.demo.server import DemoPbx
from ctibot.pbx import actions as a
from ctibot.plugins.presence.view import Presence, PresenceView
from ctibot.services import load_services

from harness import Harness

USERS = (
    UserConfig("alice", "Alice Anders", ("201",)),
    UserConfig("bob", "Bob Brown", ("202",)),
    UserConfig("carol", "Carol Clark", ("203",)),
    UserConfig("dave", "Dave Davis", ("204",), mobile="3331234567"),
)


def view(h: Harness) -> PresenceView:
    config = Config(path=Path("office.toml"), pbx=h.config, users=USERS)
    return PresenceView(load_services(config, h.state, h.client, publish=h.bus.publish_all))


async def test_idle_ringing_and_on_a_call(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    assert v.of_extensions(["202"], "en") == Presence(True, None, "Available")
    assert v.of_extensions(["202"], "it") == Presence(True, None, "Disponibile")
    pbx.phone("202").answer_after = 2.0
    pbx.inbound_call("0612345678", "ACME Corp", "5550102")  # the DID of 202
    await ctibot.until(lambda: v.of_extensions(["202"], "en").show == "away")
    ringing = v.of_extensions(["202"], "en")
    assert ringing.status == "Ringing: call from ACME Corp (0612345678)"
    await ctibot.until(lambda: v.of_extensions(["202"], "en").show == "xa")
    busy = v.of_extensions(["202"], "it")
    assert busy.status.startswith("Al telefono con ACME Corp (0612345678) dalle ")


async def test_an_internal_call_names_the_colleague(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    pbx.call("201", "203")
    await ctibot.until(
        lambda: (
            v.of_extensions(["203"], "en").show == "xa"
            and v.of_extensions(["201"], "en").show == "xa"
        )
    )
    assert "with Alice Anders (201) since" in v.of_extensions(["203"], "en").status
    assert "with Carol Clark (203) since" in v.of_extensions(["201"], "en").status


async def test_dnd_forward_unregistered_and_pbx_down(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    ctibot.client.refresh_astdb({"DND/205": "YES", "CF/204": "vmu204", "CF/206": "0699887766"})
    assert v.of_extensions(["205"], "en") == Presence(True, "dnd", "Do not disturb")
    assert v.of_extensions(["204"], "it") == Presence(True, "away", "Inoltrato a segreteria")
    assert v.of_extensions(["206"], "en").status == "Forwarded to 0699887766"
    pbx.set_registered("207", False)
    await ctibot.until(lambda: not v.of_extensions(["207"], "en").available)
    assert v.of_extensions(["207"], "en").status == "Phone not registered"
    down = v.of_extensions(["201"], "en", pbx_up=False)
    assert down == Presence(True, "xa", "State unknown: the PBX is not reachable")


async def test_a_person_over_several_phones_shows_the_busiest(
    ctibot: Harness, pbx: DemoPbx
) -> None:
    v = view(ctibot)
    bob = UserConfig("bob", "Bob Brown", ("208", "202"))
    pbx.call("201", "202")
    await ctibot.until(lambda: v.of_user(bob, "en").show == "xa")
    assert "Alice Anders" in v.of_user(bob, "en").status


async def test_a_caller_sent_to_voicemail_is_leaving_a_message(
    ctibot: Harness, pbx: DemoPbx
) -> None:
    """Bob calls Alice, who is on DND: the PBX runs VoiceMail(201@default,b) on his line."""
    v = view(ctibot)
    pbx.set_dnd("201", True)
    pbx.call("202", "201")
    await ctibot.until(lambda: "message" in v.of_extensions(["202"], "en").status)
    assert v.of_extensions(["202"], "en") == Presence(
        True, "xa", "Leaving a message for Alice Anders (201)"
    )
    assert v.of_extensions(["202"], "it").status == "Lascia un messaggio per Alice Anders (201)"
    (call,) = ctibot.state.calls.values()
    assert (call.state, call.voicemail, call.answered_at) == ("voicemail", "201", None)


async def test_a_conference_shows_its_room(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    pbx.call("201", "800")
    await ctibot.until(lambda: "conference" in v.of_extensions(["201"], "en").status)
    assert v.of_extensions(["201"], "en").status == "In conference 800"
    assert v.of_extensions(["201"], "it").status == "In conferenza 800"


async def test_a_forwarded_call_names_who_forwarded_it(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    pbx.set_forward("201", "CF", "203")
    originate = a.originate_call("PJSIP/202", "201", context="from-internal")
    await ctibot.client.send({**originate, "CallerID": '"Bob Brown" <202>'})
    await ctibot.until(lambda: "forwarded" in v.of_extensions(["203"], "en").status)
    carol = v.of_extensions(["203"], "en").status
    assert carol.startswith("On a call with Bob Brown (202) since ")
    assert carol.endswith(", forwarded from Alice Anders (201)")
    assert v.of_extensions(["203"], "it").status.endswith(", inoltrata da Alice Anders (201)")
    assert v.of_extensions(["202"], "en").status.endswith(", forwarded from Alice Anders (201)")


async def test_a_spy_is_listening_to_the_spied_party(ctibot: Harness, pbx: DemoPbx) -> None:
    v = view(ctibot)
    pbx.call("201", "202")
    await ctibot.until(lambda: v.of_extensions(["201"], "en").show == "xa")
    alice = next(ch for ch in ctibot.state.channels.values() if ch.extension == "201")
    await ctibot.client.send(a.spy("PJSIP/203", alice.name))
    await ctibot.until(lambda: "Listening" in v.of_extensions(["203"], "en").status)
    assert v.of_extensions(["203"], "en") == Presence(True, "xa", "Listening to Alice Anders (201)")
    assert v.of_extensions(["203"], "it").status == "In ascolto di Alice Anders (201)"
