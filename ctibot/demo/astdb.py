"""The demo PBX's AstDB: families and keys, as DBPut/DBGet/DBDel/DBGetTree see them."""

from __future__ import annotations


class AstDb:
    """A flat ``/family/key`` -> value store like Asterisk's astdb."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    @staticmethod
    def _path(family: str, key: str) -> str:
        return f"/{family}/{key}"

    def put(self, family: str, key: str, value: str) -> None:
        self._data[self._path(family, key)] = value

    def get(self, family: str, key: str) -> str | None:
        return self._data.get(self._path(family, key))

    def delete(self, family: str, key: str) -> bool:
        return self._data.pop(self._path(family, key), None) is not None

    def tree(self, family: str = "", key: str = "") -> list[tuple[str, str]]:
        """Entries under ``/family[/key]``, sorted like ``database show``."""
        prefix = "/" + family if family else ""
        if family and key:
            prefix += "/" + key
        return sorted(
            (k, v)
            for k, v in self._data.items()
            if not prefix or k == prefix or k.startswith(prefix + "/")
        )
