"""ctibot's HTTP server shell: Quart on Hypercorn, in the same event loop as the rest.

``ctibot.http.shell.HttpShell`` is the shell; ``ctibot.http.errors`` what it raises
(importable without loading Quart).
"""
