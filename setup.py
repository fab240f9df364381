"""Packaging: every package of the core and every bundled plugin folder is found, with its data.

pyproject.toml holds the metadata; the package list is computed here, so that a new
``plugins/<name>/`` folder ships (with its templates, static files and data) untouched.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent
#: Installed package -> source folder (the same mapping as pyproject's package-dir).
FOLDERS = {
    "ctibot": "ctibot",
    "ctibot.plugins": "plugins",
    "ctibot.web": "web",
    "ctibot.xmpp_config": "xmpp_config",
}
_SKIP_DIRS = {"__pycache__", "tests"}
_SKIP_SUFFIXES = {".py", ".pyc", ".pyo"}


def packages() -> list[str]:
    """Every package under each folder (tests beside a plugin do not ship)."""
    found = []
    for package, folder in FOLDERS.items():
        found.append(package)
        found.extend(
            f"{package}.{sub}"
            for sub in find_packages(str(ROOT / folder), exclude=["tests", "*.tests", "*.tests.*"])
        )
    return sorted(found)


def source_of(package: str) -> Path:
    for prefix, folder in sorted(FOLDERS.items(), key=lambda kv: -len(kv[0])):
        if package == prefix or package.startswith(prefix + "."):
            rest = package[len(prefix) :].lstrip(".")
            return ROOT / folder / Path(*rest.split(".")) if rest else ROOT / folder
    raise KeyError(package)


def package_data(names: list[str]) -> dict[str, list[str]]:
    """Each package's files that are not Python: templates, static files, TOML, SQL…"""
    data: dict[str, list[str]] = {}
    for package in names:
        base = source_of(package)
        files = []
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if not path.is_file() or path.suffix in _SKIP_SUFFIXES:
                continue
            if _SKIP_DIRS & set(rel.parts[:-1]):
                continue
            # A file inside a sub-package belongs to that package's own list.
            if any(
                (base / Path(*rel.parts[:i]) / "__init__.py").is_file()
                for i in range(1, len(rel.parts))
            ):
                continue
            files.append(rel.as_posix())
        if files:
            data[package] = files
    return data


PACKAGES = packages()

setup(packages=PACKAGES, package_data=package_data(PACKAGES))
