"""The example third-party plugin, installed into a fresh virtual environment, works there."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ctibot-plugin-hello"
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "var", ".*_cache"
)

CONFIG = """\
[pbx]
host = "127.0.0.1"
port = {port}
username = "cti"
secret = "cti-secret"

[database]
path = "{database}"

[plugins.hello]
greeting = "Buongiorno"

[[users]]
name = "alice"
fullname = "Alice Anders"
extensions = ["201"]
language = "en"

[[users]]
name = "bob"
fullname = "Bob Brown"
extensions = ["202"]
language = "it"
"""

#: Run by the new environment's Python: ctibot over the demo PBX, no XMPP; what the
#: plugin answers in chat (through the command dispatch) before and after a call ends.
SCRIPT = """\
import asyncio, json, sys
from pathlib import Path

import ctibot_hello
from ctibot.app import CtiApp
from ctibot.commands import adhoc_commands_for, dispatch
from ctibot.config import load_config
from ctibot.demo.server import DemoPbx

TEMPLATE = sys.argv[1]
PATH = Path(sys.argv[2])


async def until(predicate, what, timeout=10.0):
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        sys.exit(f"waited {timeout} s in vain for: {what}")


async def main():
    out = {"module": ctibot_hello.__file__}
    async with DemoPbx(time_scale=0.05) as pbx:
        PATH.write_text(Path(TEMPLATE).read_text().replace("5038", str(pbx.port)))
        config = load_config(PATH)
        app = CtiApp(config)
        await app.start()
        try:
            await app.ami.wait_ready(5)
            alice, bob = config.users
            out["state"] = app.plugins.state("hello").state
            out["hello"] = await dispatch(app.services, alice, "hello")
            out["help"] = await dispatch(app.services, bob, "aiuto")
            out["adhoc"] = [c.name for c in adhoc_commands_for(config, bob, app.commands)]
            service = app.services.get("hello")
            pbx.phone("202").answer_after = 0.5
            pbx.call("201", "202")  # alice calls bob; he answers
            await until(lambda: any(c.bridge for c in pbx.channels_of("202")), "talking")
            pbx.hangup("201")
            await until(lambda: service.calls_ended >= 1, "the call ended")
            out["ciao"] = await dispatch(app.services, bob, "ciao")
        finally:
            await app.stop()
    print(json.dumps(out))


asyncio.run(main())
"""


PIP = [sys.executable, "-m", "pip"]


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure says what ran, and what it printed."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done


def wheel_of(source: Path, into: Path, name: str) -> Path:
    """The wheel of ``source``, built from a copy of it (no build/ nor egg-info in the tree)."""
    copy = into / "src" / source.name
    shutil.copytree(source, copy, ignore=IGNORE)
    run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(into), str(copy)])
    built = sorted(into.glob(f"{name}-*.whl"))
    assert len(built) == 1, built
    return built[0]


def dependencies_dir() -> str:
    """Where this environment keeps ctibot's third-party libraries (panoramisk, slixmpp...)."""
    import panoramisk

    return str(Path(panoramisk.__file__).resolve().parent.parent)


def test_a_third_party_plugin_installed_from_its_package_is_found_and_works(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    ctibot_wheel = wheel_of(ROOT, wheels, "ctibot")
    hello_wheel = wheel_of(EXAMPLE, wheels, "ctibot_plugin_hello")

    # A new environment that sees neither the source tree nor this environment's ctibot.
    # Tests reach no package index, so ctibot's third-party libraries come from this
    # environment through a .pth line: a directory of plain imports (its own .pth files,
    # such as the editable ctibot's, are not run); ctibot and the plugin are installed.
    env = tmp_path / "env"
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(env)
    python = env / "bin" / "python"
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site / "zz_ctibot_deps.pth").write_text(dependencies_dir() + "\n")
    install = ["install", "-q", "--no-deps", "--no-index", str(ctibot_wheel), str(hello_wheel)]
    run([str(python), "-m", "pip", *install])
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = run(
        [str(python), "-c", "import ctibot; print(ctibot.__file__)"], cwd=tmp_path, env=clean_env
    ).stdout
    assert where.startswith(str(site)), where

    config = tmp_path / "office.toml"
    config.write_text(CONFIG.format(port=5038, database=tmp_path / "ctibot.sqlite"))
    listed = run(
        [str(env / "bin" / "ctibot"), "plugins", "--config", str(config)],
        cwd=tmp_path,
        env=clean_env,
    ).stdout
    lines = listed.splitlines()
    head = "hello 0.1.0 (entry point ctibot_hello (ctibot-plugin-hello)): enabled"
    assert head in lines, f"no enabled hello plugin from its entry point in:\n{listed}"
    start = lines.index(head) + 1
    end = next((n for n in range(start, len(lines)) if not lines[n].startswith("  ")), len(lines))
    lines = lines[start:end]  # what it says of the plugin, indented under its line
    assert "  permissions: hello (user/supervisor/admin)" in lines, listed
    assert "  commands: hello" in lines, listed
    assert any(line.startswith("  [plugins.hello].greeting = 'Buongiorno'") for line in lines)
    assert "calls 1.0 (bundled): enabled" in listed, listed  # the bundled ones beside it

    script = tmp_path / "story.py"
    script.write_text(SCRIPT)
    out = run(
        [str(python), str(script), str(config), str(tmp_path / "running.toml")],
        cwd=tmp_path,
        env=clean_env,
    )
    story = json.loads(out.stdout.strip().splitlines()[-1])
    assert story["module"].startswith(str(site)), story
    assert story["state"] == "enabled", story
    assert story["hello"] == "Buongiorno, Alice Anders! Calls ended since I started: 0.", story
    assert "ciao" in story["help"], story  # bob's help lists it, in Italian
    assert "hello" in story["adhoc"], story  # and so does his ad-hoc command list
    assert story["ciao"] == ("Buongiorno, Bob Brown! Chiamate finite da quando sono partito: 1."), (
        story
    )


def test_the_example_imports_only_the_public_module_and_its_own_package() -> None:
    problems = []
    for path in sorted((EXAMPLE / "ctibot_hello").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # its own modules
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                if name.split(".")[0] == "ctibot" and name != "ctibot.plugin":
                    problems.append(f"{path.name}:{node.lineno}: imports {name}")
    assert problems == []
