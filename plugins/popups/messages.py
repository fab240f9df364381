"""The popups plugin's strings: the popup, its follow-ups, the missed-call summary."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "popups.ringing": "📞 {who} is calling you on {ext}{queue}.\n"
        "Reply: hangup · transfer <number> · park",
        "popups.queue": " (queue {queue})",
        "popups.elsewhere": "✔ The call from {who} was answered by {by}.",
        "popups.missed": "✖ Missed call from {who} at {at}.",
        "popups.summary": "While you were away you missed {n} call(s):",
        "popups.summary_all": "While you were away {n} call(s) rang for you:",
        "popups.line": "• {who} at {at}",
        "popups.line_answered": "• {who} at {at}, answered by {by}",
        "popups.unknown": "an unknown caller",
    },
    "it": {
        "popups.ringing": "📞 {who} ti sta chiamando sul {ext}{queue}.\n"
        "Rispondi: riaggancia · trasferisci <numero> · parcheggia",
        "popups.queue": " (coda {queue})",
        "popups.elsewhere": "✔ Alla chiamata di {who} ha risposto {by}.",
        "popups.missed": "✖ Chiamata persa da {who} alle {at}.",
        "popups.summary": "Mentre eri assente hai perso {n} chiamata/e:",
        "popups.summary_all": "Mentre eri assente ti hanno cercato {n} chiamata/e:",
        "popups.line": "• {who} alle {at}",
        "popups.line_answered": "• {who} alle {at}, ha risposto {by}",
        "popups.unknown": "un numero sconosciuto",
    },
}
