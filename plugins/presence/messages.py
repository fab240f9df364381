"""The presence plugin's strings: what virtual JIDs show, and the answer to ``team``."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "presence.status.available": "Available",
        "presence.status.ringing": "Ringing: call from {who}",
        "presence.status.ringing_out": "Ringing: calling {who}",
        "presence.status.ringing_anon": "Ringing",
        "presence.status.busy": "On a call with {who} since {since}",
        "presence.status.busy_anon": "On a call since {since}",
        "presence.status.onhold": "On hold with {who}",
        "presence.status.dnd": "Do not disturb",
        "presence.status.forward": "Forwarded to {where}",
        "presence.status.voicemail": "voicemail",
        "presence.status.mobile": "mobile",
        "presence.status.unregistered": "Phone not registered",
        "presence.status.unknown": "State unknown: the PBX is not reachable",
        "presence.team": "I have asked your client to add {n} contacts (people and phones): "
        "accept them to see everyone's state in your roster.",
        "presence.team_no_xmpp": "Your roster is in your chat client: send team from there.",
    },
    "it": {
        "presence.status.available": "Disponibile",
        "presence.status.ringing": "Squilla: chiamata da {who}",
        "presence.status.ringing_out": "Squilla: chiamata verso {who}",
        "presence.status.ringing_anon": "Squilla",
        "presence.status.busy": "Al telefono con {who} dalle {since}",
        "presence.status.busy_anon": "Al telefono dalle {since}",
        "presence.status.onhold": "In attesa con {who}",
        "presence.status.dnd": "Non disturbare",
        "presence.status.forward": "Inoltrato a {where}",
        "presence.status.voicemail": "segreteria",
        "presence.status.mobile": "cellulare",
        "presence.status.unregistered": "Telefono non registrato",
        "presence.status.unknown": "Stato sconosciuto: il centralino non è raggiungibile",
        "presence.team": "Ho chiesto al tuo client di aggiungere {n} contatti (persone e "
        "telefoni): accettali per vedere lo stato di tutti nel tuo elenco contatti.",
        "presence.team_no_xmpp": "I tuoi contatti sono nel client di chat: scrivi squadra da lì.",
    },
}
