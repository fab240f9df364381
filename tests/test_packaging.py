"""`pip install .` (not only editable) gives a working ctibot with its bundled parts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a wheel built from a clean tree must hold, found from the source folders.
FOLDERS = {"plugins": "ctibot/plugins", "web": "ctibot/web", "xmpp_config": "ctibot/xmpp_config"}


def shipped_files(root: Path = ROOT) -> list[str]:
    """Every plugin module and every template, static and data file, as named in the wheel."""
    expected = []
    for folder, installed in FOLDERS.items():
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root / folder)
            if not path.is_file() or {"__pycache__", "tests"} & set(rel.parts):
                continue
            if path.suffix in (".pyc", ".pyo"):
                continue
            expected.append(f"{installed}/{rel.as_posix()}")
    return expected


def test_every_plugin_folder_and_its_files_are_in_the_list_to_check() -> None:
    shipped = shipped_files()
    for name in ("calls", "phone", "queues", "info"):
        assert f"ctibot/plugins/{name}/__init__.py" in shipped
    assert any("/templates/" in f or "/static/" in f for f in shipped)


def test_the_wheel_carries_plugins_assets_and_a_working_command(tmp_path: Path) -> None:
    # A copy of the sources: what a fresh checkout builds (no stale build/ of old modules).
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "var", ".*_cache"
        ),
    )
    (source / "plugins" / "zz_newfeature" / "templates").mkdir(parents=True)
    (source / "plugins" / "zz_newfeature" / "__init__.py").write_text(
        '"""A new folder: ships with no packaging edit."""\n'
        "from ctibot.plugin import Plugin\n"
        'plugin = Plugin(name="zz_newfeature", description="a new feature")\n'
    )
    (source / "plugins" / "zz_newfeature" / "templates" / "page.html").write_text("<p>hi</p>\n")
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
            str(source),
        ],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(tmp_path.glob("ctibot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in shipped_files(source) if f not in names]
    assert missing == []
    assert "ctibot/plugins/zz_newfeature/__init__.py" in names
    assert "ctibot/plugins/zz_newfeature/templates/page.html" in names
    assert not any("/tests/" in n for n in names if n.startswith("ctibot/plugins/"))
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
    listed = subprocess.run(
        [str(python), "-m", "ctibot", "plugins"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    for name in ("calls", "phone", "queues", "info", "zz_newfeature"):
        assert f"{name} 1.0 (bundled): enabled" in listed, listed
    where = subprocess.run(
        [str(python), "-c", "import ctibot; print(ctibot.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(ROOT) not in where
