"""Configuration: a good file loads; every mistake names the file, the key and the expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctibot.cli import main
from ctibot.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parent.parent / "examples" / "ctibot.toml"
GOOD = """
[pbx]
secret = "s3cret"
device = "Local/{extension}@phones"

[[users]]
name = "alice"
fullname = "Alice Anders"
extensions = ["201"]
"""


def test_the_example_file_is_valid() -> None:
    config = load_config(EXAMPLE)
    layout = config.layout()
    assert layout.extensions == ("201", "202", "212")
    assert layout.device_of("201") == "PJSIP/201"
    assert layout.trunks[0].max_channels == 4
    assert config.user_by_extension("212").name == "bob"


def test_defaults_fill_what_is_not_said() -> None:
    config = parse_config(GOOD, "office.toml")
    assert (config.pbx.host, config.pbx.port, config.pbx.username) == ("127.0.0.1", 5038, "cti")
    assert config.layout().device_of("203") == "Local/203@phones"


def test_the_secret_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTIBOT_PBX_SECRET", "from-env")
    config = parse_config(GOOD.replace('secret = "s3cret"\n', ""), "office.toml")
    assert config.pbx.secret == "from-env"
    assert "from-env" not in repr(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("port = 5038", 'port = "x"'),
            "office.toml: [pbx].port: expected a TCP port (1-65535), got 'x'",
        ),
        (("port = 5038", "port = 70000"), "[pbx].port: expected a TCP port"),
        (('secret = "s3cret"', ""), "office.toml: missing key [pbx].secret"),
        (
            ('device = "Local/{extension}@phones"', 'device = "PJSIP/201"'),
            '[pbx].device: expected a device template with "{extension}"',
        ),
        (
            ('extensions = ["201"]', 'extensions = "201"'),
            "[[users]] 'alice'.extensions: expected a list",
        ),
        (
            ('extensions = ["201"]', 'extensions = ["20\\n1"]'),
            "[[users]] 'alice'.extensions: expected",
        ),
        (('name = "alice"', 'name = "Alice Anders!"'), "[[users]] #1.name: expected a login name"),
        (('fullname = "Alice Anders"', 'fulname = "A"'), "unknown key 'fulname'"),
        (("[pbx]", "[pbxx]"), "unknown section [pbxx]"),
        (("[pbx]", "[pbx"), "not valid TOML"),
        (
            ('secret = "s3cret"', 'secret = "a\\r\\nAction: Originate"'),
            "must not contain line breaks",
        ),
    ],
)
def test_mistakes_are_named(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace("[pbx]", "[pbx]\nport = 5038", 1) if "port" in change[0] else GOOD
    assert change[0] in text
    with pytest.raises(ConfigError) as err:
        parse_config(text.replace(change[0], change[1], 1), "office.toml")
    assert message in str(err.value)


def test_an_extension_owned_twice_is_refused() -> None:
    text = GOOD + '\n[[users]]\nname = "bob"\nextensions = ["201"]\n'
    with pytest.raises(ConfigError, match="201 already belongs to 'alice'"):
        parse_config(text, "office.toml")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('secret = "s3cret"', "secret = 5"))
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: [pbx].secret: expected the AMI secret" in err
    assert main(["check-config", str(tmp_path / "none.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_the_plugins_section_is_kept_for_the_loader() -> None:
    config = parse_config(
        GOOD + '\n[plugins]\ndisabled = ["sms"]\n[plugins.calls]\npark_confirm = 5\n'
        "[plugins.postit]\nenabled = false\n",
        "office.toml",
    )
    assert config.plugins.disabled == ("sms",)
    assert config.plugins.table("calls") == {"park_confirm": 5}
    assert config.plugins.is_disabled("sms") and config.plugins.is_disabled("postit")
    assert not config.plugins.is_disabled("calls")
    assert parse_config(GOOD, "office.toml").plugins.disabled == ()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('disabled = "sms"', 'office.toml: [plugins].disabled: expected a list of plugin names'),
        ('disabled = ["SMS!"]', "office.toml: [plugins].disabled: expected a list of plugin"),
        ("calls = 3", "office.toml: [plugins].calls: expected a [plugins.calls] table of the"),
        ("[plugins.calls]\nenabled = 1", "office.toml: [plugins.calls].enabled: expected true or"),
    ],
)
def test_plugins_section_mistakes_are_named(section: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(GOOD + f"\n[plugins]\n{section}\n", "office.toml")
    assert str(err.value).startswith(message)
