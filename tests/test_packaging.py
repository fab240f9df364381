"""`pip install .` (not only editable) gives a working ctibot with its bundled parts."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_plugins_assets_and_a_working_command(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(tmp_path.glob("ctibot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "ctibot/cli.py",
        "ctibot/pbx/state.py",
        "ctibot/demo/__init__.py",
        "ctibot/plugins/__init__.py",
        "ctibot/web/__init__.py",
        "ctibot/xmpp_config/__init__.py",
    ):
        assert expected in names, expected
    assert not any(n.startswith("tests/") for n in names)

    # A fresh environment that sees this one's dependencies but not the source tree.
    env_dir = tmp_path / "env"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [
            sys.executable,
            "-c",
            "import panoramisk, os; print(os.path.dirname(os.path.dirname(panoramisk.__file__)))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (next((env_dir / "lib").glob("python3*")) / "site-packages" / "deps.pth").write_text(
        site + "\n"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(next((env_dir / "lib").glob("python3*")) / "site-packages"),
            str(wheel),
        ],
        check=True,
    )
    out = subprocess.run(
        [str(python), "-m", "ctibot", "check-config", str(ROOT / "examples" / "ctibot.toml")],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "OK" in out.stdout
    where = subprocess.run(
        [str(python), "-c", "import ctibot; print(ctibot.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(ROOT) not in where
