"""Chat commands: the parser, help filtering, the catalogues, and chat stories on the demo PBX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ctibot.commands import (
    Arg,
    Command,
    Context,
    ParseError,
    Registry,
    Reply,
    commands_for,
    dispatch,
    parse,
)
from ctibot.i18n import MESSAGES, placeholders, translate
from ctibot.loader import Plugins, discover

from harness import ring_forever, ringing_at
from services_fixtures import USERS, Office, office_config

USER = {u.name: u for u in USERS}
discover()  # every plugin's strings in the catalogue
EN, IT = MESSAGES["en"], MESSAGES["it"]
#: The commands of the bundled plugins, enabled as the default configuration has them.
registry = Plugins(office_config(), pbx=None, ami=None).commands


def parsed(body: str, language: str = "en") -> tuple[str, dict]:
    result = parse(body, language, registry)
    assert not isinstance(result, ParseError), (body, result.key)
    return result[0].name, result[1]


# -- the parser ----------------------------------------------------------------------


def test_names_are_case_insensitive_and_whitespace_tolerant() -> None:
    assert parsed("CALL 202") == ("call", {"destination": "202"})
    assert parsed("  \t call \n  bob   brown  ") == ("call", {"destination": "bob brown"})
    assert parsed("Dnd ON") == ("dnd", {"state": "on"})
    assert parsed("hangup") == ("hangup", {})


def test_italian_and_english_aliases_work_in_any_language() -> None:
    assert parsed("chiama 202", "en") == ("call", {"destination": "202"})
    assert parsed("call 202", "it") == ("call", {"destination": "202"})
    assert parsed("nondisturbare sì") == ("dnd", {"state": "on"})
    assert parsed("riprendi 701") == ("pickup", {"slot": 701})
    assert parsed("prendi 702") == ("pickup", {"slot": 702})
    assert parsed("registra pausa") == ("record", {"action": "pause"})
    assert parsed("coda entra sales") == ("queue", {"action": "login", "rest": "sales"})
    assert parsed("inoltro segreteria occupato") == (
        "forward",
        {"target": "segreteria", "kind": "busy"},
    )
    for word in (
        "aiuto",
        "riaggancia",
        "trasferisci x",
        "parcheggia",
        "ascolta 1",
        "suggerisci 1",
        "stato",
        "chi",
        "chiamate",
        "chisono",
    ):
        assert not isinstance(parse(word, "en", registry), ParseError), word


def test_optional_and_typed_arguments() -> None:
    assert parsed("forward 0612345678 noanswer 20") == (
        "forward",
        {"target": "0612345678", "kind": "noanswer", "seconds": 20},
    )
    assert parsed("forward") == ("forward", {})
    assert parsed("queue pause lunch break sales") == (
        "queue",
        {"action": "pause", "rest": "lunch break sales"},
    )
    assert parsed("record") == ("record", {})


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("frobnicate", "unknown"),
        ("dnd maybe", "parse.bad_choice"),
        ("pickup abc", "parse.bad_number"),
        ("pickup", "parse.missing"),
        ("hangup now please", "parse.extra"),
        ("forward 333 busy 20 more", "parse.extra"),
        ("", "parse.empty"),
    ],
)
def test_parse_errors_name_the_problem(body: str, key: str) -> None:
    result = parse(body, "en", registry)
    assert isinstance(result, ParseError) and result.key == key


def test_usage_is_derived_from_the_declaration_per_language() -> None:
    call = registry.get("call")
    assert call is not None
    assert call.usage("en") == "call <number|contact|user>…"
    assert call.usage("it") == "chiama <numero|contatto|utente>…"
    assert registry.get("dnd").usage("it") == "nondisturbare [si|no]"  # type: ignore[union-attr]


# -- help and permissions --------------------------------------------------------------


def test_help_lists_only_what_the_user_may_run() -> None:
    config = office_config()
    names = {c.name for c in commands_for(config, USER["dave"], registry)}
    assert names == {"help", "call", "status", "whoami"}
    alice = {c.name for c in commands_for(config, USER["alice"], registry)}
    assert "spy" not in alice and "whisper" not in alice and "dnd" in alice
    carol = {c.name for c in commands_for(config, USER["carol"], registry)}
    assert {"spy", "whisper", "barge"} <= carol


async def test_help_text_hides_commands_and_speaks_italian(office: Office) -> None:
    svc = office.services
    dave_help = await dispatch(svc, USER["dave"], "help")
    assert dave_help is not None and "call" in dave_help and "hangup" not in dave_help
    assert "dnd" not in dave_help
    bob_help = await dispatch(svc, USER["bob"], "aiuto")
    assert bob_help is not None and bob_help.startswith("Cosa puoi fare")
    assert "chiama <numero|contatto|utente>" in bob_help and "ascolta" not in bob_help
    assert "There is no command" in (await dispatch(svc, USER["alice"], "help spy") or "")
    detail = await dispatch(svc, USER["carol"], "help whisper")
    assert detail is not None and detail.startswith("whisper <extension>")
    assert "suggerisci" in detail


# -- catalogues ------------------------------------------------------------------------


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    assert set(EN) == set(IT)
    # Every plugin's strings, bundled or not: a caller passes one set of parameters.
    assert {key for key in EN if placeholders(EN[key]) != placeholders(IT[key])} == set()


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    root = Path(__file__).parent.parent
    sources = [
        *root.joinpath("ctibot", "commands").glob("*.py"),
        *root.joinpath("ctibot", "services").glob("*.py"),
        *(
            root / "plugins" / name / f"{part}.py"
            for name in ("calls", "phone", "queues", "info")
            for part in ("commands", "services")
        ),
    ]
    pattern = re.compile(
        r"(?:Reply\.of|translate|ArgError|ParseError|Error|Denied|Found|"
        r'Argument|ToDo|Refused|Unavailable)\(\s*"([a-z_]+(?:\.[a-z_]+)?)"'
    )
    keys = {key for path in sources for key in pattern.findall(path.read_text())}
    assert len(keys) > 40
    assert sorted(k for k in keys if k not in EN) == []
    for kind in ("unconditional", "busy", "noanswer"):
        assert f"kind.{kind}" in EN
    for word in ("idle", "ringing", "busy", "onhold", "unavailable", "offline", "unknown"):
        assert f"phone.{word}" in EN


def test_translate_never_fails_on_odd_parameters() -> None:
    assert translate("usage", "it", usage="{x}") == "Uso: {x}"
    assert translate("usage", "fr", usage="x") == "Usage: x"
    assert translate("no.such.key", "en") == "no.such.key"
    assert translate("error.pbx_refused", "en") == "The PBX refused: "
    assert MESSAGES["it"]["perm.spy"] == "ascoltare altre chiamate"


# -- a plugin's command -----------------------------------------------------------------


def test_plugins_register_commands_the_same_way() -> None:
    plugins = Registry()

    @plugins.register
    class Note(Command):
        name = "note"
        aliases = {"it": ("nota",)}  # noqa: RUF012
        args = (Arg("text", required=True, rest=True, metavar={"it": "testo"}),)
        help = {"en": "write a note", "it": "scrivi una nota"}  # noqa: RUF012

        async def run(self, ctx: Context, text: str) -> Reply:
            return Reply.of("usage", usage=text)

    result = parse("NOTA comprare il latte", "it", plugins)
    assert not isinstance(result, ParseError)
    assert result[1] == {"text": "comprare il latte"}
    assert Note().usage("it") == "nota <testo>…"

    class Clash(Command):
        name = "clash"
        aliases = {"it": ("nota",)}  # noqa: RUF012

    with pytest.raises(ValueError, match="already belongs"):
        plugins.register(Clash)


# -- chat stories on the demo PBX --------------------------------------------------------


async def test_alice_sends_call_202_and_bobs_phone_rings(office: Office) -> None:
    ring_forever(office.pbx, "202")
    reply = await dispatch(office.services, office.users["alice"], "call 202")
    assert reply == "Calling Bob Brown (202): your phone 201 rings first."
    (originate,) = office.ami.of("Originate")
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/201", "202")
    await office.until(lambda: ringing_at(office.harness.state, "202"))


async def test_bob_speaks_italian_dnd_on_sets_astdb(office: Office) -> None:
    bob = office.users["bob"]
    reply = await dispatch(office.services, bob, "nondisturbare si")
    assert reply == "Non disturbare ora è attivo (202)."
    assert office.pbx.office.astdb.get("DND", "202") == "YES"
    assert office.ext("202").dnd
    assert await dispatch(office.services, bob, "dnd") == "Non disturbare è attivo (202)."
    assert await dispatch(office.services, bob, "dnd on") == "Non disturbare era già attivo."


async def test_forward_and_queue_from_chat(office: Office) -> None:
    carol = office.users["carol"]
    svc = office.services
    assert await dispatch(svc, carol, "forward voicemail") == (
        "Calls are now forwarded always to your voicemail."
    )
    assert office.pbx.office.astdb.get("CF", "203") == "vmu203"
    assert await dispatch(svc, carol, "forward") == "Forward always: your voicemail"
    assert await dispatch(svc, carol, "forward off") == "All call forwarding is off."
    assert await dispatch(svc, carol, "queue login sales") == "Logged into sales."
    queues = office.harness.state.queues
    await office.until(lambda: "203" in queues["sales"].members)
    assert await dispatch(svc, carol, "queue pause coffee sales") == "Paused in sales (coffee)."
    await office.until(lambda: queues["sales"].members["203"].paused)
    assert "sales: agent, paused (coffee)" in (await dispatch(svc, carol, "queue") or "")


async def test_refusals_errors_and_silence(office: Office) -> None:
    svc, users = office.services, office.users
    assert await dispatch(svc, users["dave"], "hangup") == "You are not allowed to hang up calls."
    assert await dispatch(svc, users["eve"], "ascolta 201") == (
        "Non hai il permesso di ascoltare altre chiamate."
    )
    assert await dispatch(svc, users["alice"], "hangup") == "You are not on a call."
    assert await dispatch(svc, users["alice"], "cal 202") == (
        "I don't know “cal”; did you mean call, calls? Try help."
    )
    assert await dispatch(svc, users["alice"], "dnd maybe") == (
        "“maybe” is not one of on|off. Usage: dnd [on|off]"
    )
    for empty in ("", "   ", "\n\t", None):
        assert await dispatch(svc, users["alice"], empty) is None
    long = await dispatch(svc, users["alice"], "call " + "1" * 3000)
    assert long is not None and "too long" in long and len(long) < 200
    assert office.ami.sent == []


async def test_pbx_down_every_command_says_so(office: Office) -> None:
    await office.harness.client.stop()
    for body in ("call 202", "dnd on", "dnd", "queue", "forward", "status", "who", "hangup"):
        assert await dispatch(office.services, office.users["alice"], body) == (
            "The PBX is not reachable right now."
        ), body
    assert await dispatch(office.services, office.users["bob"], "chiama 201") == (
        "Il centralino non è raggiungibile in questo momento."
    )


async def test_calling_a_colleagues_second_phone_dials_that_phone(office: Office) -> None:
    reply = await dispatch(office.services, office.users["alice"], "call 207")
    assert reply == "Calling Carol Clark (207): your phone 201 rings first."
    assert office.ami.of("Originate")[0]["Exten"] == "207"


def test_tables_render_one_line_per_row() -> None:
    from ctibot.commands import Table, render

    table = Table(Reply.of("calls.title"), ("word.number", ""), (("201", "Alice"), ("202", "")))
    assert render(table, "it") == "Le tue ultime chiamate:\nnumero: 201 · Alice\nnumero: 202"


async def test_a_pbx_refusal_keeps_asterisks_words() -> None:
    from ctibot.pbx.errors import AmiError
    from ctibot.pbx.layout import PbxLayout
    from ctibot.pbx.state import PbxState
    from ctibot.services import load_services

    class Refusing:
        connected = True

        async def send(self, action: dict) -> None:
            raise AmiError("Permission denied")

    state = PbxState(PbxLayout(extensions=("201", "202")))
    services = load_services(office_config(), state, Refusing())
    assert await dispatch(services, USER["alice"], "call 202") == (
        "The PBX refused: Permission denied"
    )
    assert await dispatch(services, USER["bob"], "nondisturbare si") == (
        "Il centralino ha rifiutato: Permission denied"
    )


async def test_a_ring_time_needs_the_no_answer_forward(office: Office) -> None:
    carol = office.users["carol"]
    expected = "A ring time applies only to the no-answer forward."
    assert await dispatch(office.services, carol, "forward 0612 20") == expected
    assert await dispatch(office.services, carol, "forward 0612 busy 20") == expected
    assert await dispatch(office.services, carol, "forward busy") == (
        "Missing <off|voicemail|mobile|number>. "
        "Usage: forward [off|voicemail|mobile|<number>] [busy|noanswer [<seconds>]]"
    )
    assert office.ami.sent == []
