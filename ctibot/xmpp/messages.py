"""The XMPP core's own strings (the component's answers that no plugin owns)."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "xmpp.elsewhere": "This contact shows {name}; send your commands to {here}.",
    },
    "it": {
        "xmpp.elsewhere": "Questo contatto mostra {name}; invia i comandi a {here}.",
    },
}
