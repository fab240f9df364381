"""The plugin's strings, in English and Italian; every key starts with the plugin's name."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "perm.hello": "ask ctibot to say hello",
        "hello.greeting": "Hello",
        "hello.reply": "{greeting}, {name}! Calls ended since I started: {calls}.",
    },
    "it": {
        "perm.hello": "chiedere a ctibot di salutare",
        "hello.greeting": "Ciao",
        "hello.reply": "{greeting}, {name}! Chiamate finite da quando sono partito: {calls}.",
    },
}
