"""Plugins reach the core only through ``ctibot.plugin``; the core never imports a plugin."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
CORE = ROOT / "ctibot"


def imports(path: Path) -> Iterator[tuple[int, str, int]]:
    """(line, module, level) of every import in a file (level > 0: relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


def is_plugin(module: str) -> bool:
    """A bundled plugin's module, by its source name or its installed one."""
    parts = module.split(".")
    return parts[0] == "plugins" or parts[:2] == ["ctibot", "plugins"]


def plugin_violations(path: Path, package: Path) -> list[str]:
    """What a plugin module imports that it may not."""
    found = []
    depth = len(path.relative_to(package).parts) - 1  # 0: a module at the package's top
    for line, module, level in imports(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        if level:
            if level > depth + 1:
                found.append(f"{where}: a relative import leaves the plugin's own package")
            continue
        if is_plugin(module):
            found.append(f"{where}: imports {module} (another plugin)")
        elif (module == "ctibot" or module.startswith("ctibot.")) and module != "ctibot.plugin":
            found.append(f"{where}: imports {module}: plugins import only ctibot.plugin")
    return found


def plugin_packages() -> list[Path]:
    return sorted(p for p in PLUGINS.iterdir() if (p / "__init__.py").is_file())


def test_there_are_plugins_to_check() -> None:
    names = {p.name for p in plugin_packages()}
    assert {"calls", "phone", "queues", "info"} <= names


def test_plugins_import_only_the_public_module_and_their_own_package() -> None:
    problems = [
        problem
        for package in plugin_packages()
        for path in sorted(package.rglob("*.py"))
        if "tests" not in path.relative_to(package).parts
        for problem in plugin_violations(path, package)
    ]
    assert problems == []


def test_no_core_module_imports_a_plugin() -> None:
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        for line, module, level in imports(path):
            if level == 0 and is_plugin(module):
                problems.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert problems == []


def test_the_checker_catches_what_it_must(tmp_path: Path) -> None:
    package = tmp_path / "bad"
    package.mkdir()
    (package / "__init__.py").write_text("from . import services\n")
    (package / "services.py").write_text(
        "from ctibot.pbx.state import PbxState\n"
        "import ctibot.plugins.calls\n"
        "from ctibot.plugin import Plugin\n"
        "from ..calls import services\n"
        "from .messages import MESSAGES\n"
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = plugin_violations(package / "services.py", package)
    finally:
        ROOT = saved
    assert len(found) == 3, found
    assert "ctibot.pbx.state" in found[0] and "another plugin" in found[1]
    assert "leaves the plugin's own package" in found[2]


def test_commands_go_through_services_not_the_pbx_state() -> None:
    """A command (and later a page) asks a service: it never reads the PBX state itself."""
    problems = []
    for path in sorted(PLUGINS.glob("*/commands.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("state", "pbx")
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in ("service", "services", "ctx")
            ):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: reads .{node.attr}")
    assert problems == []
