"""Bundled ctibot plugins: one sub-package per feature (installed as ctibot.plugins)."""
