"""Extension numbers from the many names Asterisk gives one phone, and untrusted text."""

from __future__ import annotations

import pytest

from ctibot.pbx.layout import LAB_LAYOUT, PbxLayout, TrunkSpec
from ctibot.pbx.naming import (
    ChannelNaming,
    clean_number,
    clean_text,
    device_of_channel,
    dialed_number,
    local_sibling,
)

FIELD = ChannelNaming(
    PbxLayout(
        extensions=("201", "202", "203"),
        trunks=(TrunkSpec("voip-a", ("PJSIP/voip-a-*",), 10),),
    )
)
LAB = ChannelNaming(LAB_LAYOUT)
ANY = ChannelNaming(PbxLayout())  # no extension list: any number is one


@pytest.mark.parametrize(
    ("naming", "channel", "extension"),
    [
        (FIELD, "PJSIP/201-00000001", "201"),
        (FIELD, "SIP/202-0000a1b2", "202"),
        (FIELD, "IAX2/203-1234", "203"),
        (FIELD, "PJSIP/299-00000001", None),  # not a configured extension
        (FIELD, "PJSIP/voip-a-00000009", None),
        (FIELD, "Local/201@from-queue-00000003;1", None),  # a queue leg, not the phone
        (LAB, "Local/201@phones-0000001f;1", "201"),
        (LAB, "Local/201@phones-0000001f;2", "201"),
        (LAB, "Local/0612345678@pstn-sim-00000022;1", None),
        (ANY, "PJSIP/4711-00000001", "4711"),
        (ANY, "PJSIP/alice-00000001", None),
    ],
)
def test_the_phone_behind_a_channel(naming, channel, extension):
    assert naming.extension_of_channel(channel) == extension


@pytest.mark.parametrize(
    ("interface", "extension"),
    [
        ("Local/203@from-queue/n", "203"),
        ("hint:203@ext-local", "203"),
        ("PJSIP/203", "203"),
        ("SIP/203", "203"),
        ("Custom:203", "203"),
        ("hint:203@somewhere-else", None),
        ("Local/203@elsewhere/n", None),
        ("Agent/1001", None),
    ],
)
def test_queue_member_interfaces(interface, extension):
    assert FIELD.extension_of_interface(interface) == extension


def test_lab_and_field_trunks():
    assert FIELD.trunk_of_channel("PJSIP/voip-a-00000009") == "voip-a"
    assert FIELD.trunk_of_channel("PJSIP/201-00000001") is None
    assert LAB.trunk_of_channel("Local/5550102@from-pstn-00000006;1") == "pstn-sim"
    assert LAB.trunk_of_channel("Local/0612345003@pstn-sim-0000006f;2") == "pstn-sim"


def test_devices_siblings_and_dial_strings():
    assert device_of_channel("PJSIP/201-00000001") == "PJSIP/201"
    assert device_of_channel("Local/201@phones-0000001f;1") == "Local/201@phones"
    assert device_of_channel("PJSIP/voip-a-0000000a") == "PJSIP/voip-a"
    assert local_sibling("Local/201@phones-0000001f;1") == "Local/201@phones-0000001f;2"
    assert local_sibling("Local/201@phones-0000001f;2") == "Local/201@phones-0000001f;1"
    assert local_sibling("PJSIP/201-00000001") is None
    assert dialed_number("0612345003") == "0612345003"
    assert dialed_number("0612345678@pstn-sim") == "0612345678"
    assert dialed_number("voip-a/0612345678") == "0612345678"
    assert dialed_number("PJSIP/+39061234@voip-a") == "39061234"
    assert dialed_number("voip-a/sip:0612345678@10.0.0.1") == "0612345678"
    assert dialed_number("Local/alice@x") is None


def test_dnd_hints_and_mailboxes():
    assert LAB.dnd_hint_extension("Custom:DND206") == "206"
    assert LAB.dnd_hint_extension("Custom:DND999") is None
    assert LAB.extension_of_device("Custom:DND206") is None
    assert LAB.mailbox_key("203@default") == "203"
    assert LAB.mailbox_key("203@other") == "203@other"


def test_caller_ids_are_cleaned_not_trusted():
    assert clean_number("<unknown>") is None
    assert clean_number("s") is None
    assert clean_number("0612345678") == "0612345678"
    assert clean_number("06\r\n12") == "0612"
    assert len(clean_number("9" * 100_000) or "") == 40
    assert clean_text("ACME\x00\x1b[31m Corp") == "ACME[31m Corp"
    assert len(clean_text("Ω" * 10_000)) == 80
