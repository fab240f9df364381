"""ctibot's HTTP server shell: Quart on Hypercorn, in the same event loop as the rest."""

from ctibot.http.shell import HttpShell, parse_listen

__all__ = ["HttpShell", "parse_listen"]
