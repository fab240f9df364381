"""The SMS plugin's strings, in English and Italian."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "perm.sms": "send SMS",
        "sms.sent": "✉ SMS to {number} sent ({parts} part).",
        "sms.sent_parts": "✉ SMS to {number} sent ({parts} parts).",
        "sms.sent_short": "✓ sent ({parts} part)",
        "sms.sent_short_parts": "✓ sent ({parts} parts)",
        "sms.already": "That message was already handed to the SMS gateway (#{id}, {status}).",
        "sms.fail.unreachable": "⚠ SMS not sent: the SMS gateway cannot be reached.",
        "sms.fail.http_status": "⚠ SMS not sent: the SMS gateway answered HTTP {http_status}.",
        "sms.fail.not_accepted": "⚠ SMS not sent: the SMS gateway's answer does not say it "
        "took the message.",
        "sms.fail.timeout": "⚠ The SMS gateway did not answer within {timeout:g} s. The SMS "
        "may have gone out, so it is not sent again: check before resending.",
        "sms.fail.broken": "⚠ The SMS gateway broke off its answer. The SMS may have gone "
        "out, so it is not sent again: check before resending.",
        "sms.error.bad_number": "“{number}” is not a phone number (digits, optionally after "
        "+ or 00; {minimum} to {maximum} digits).",
        "sms.error.empty": "Write the text of the SMS.",
        "sms.error.too_long": "That text needs {parts} SMS parts ({units} {encoding} "
        "characters); at most {maximum} are allowed.",
        "sms.error.not_allowed": "You are not allowed to send SMS.",
        "sms.error.no_gateway": "No SMS gateway is configured.",
        "sms.error.slow_down": "You have sent {count} SMS in the last hour, the most allowed "
        "({maximum}): nothing was sent. You may send another at {at} (in {wait} min).",
        "sms.error.daily_cap": "You have sent {count} SMS in the last 24 hours, the most "
        "allowed ({maximum}): nothing was sent. You may send another at {at} (in {wait} min).",
        "sms.history.none": "You have sent and received no SMS.",
        "sms.history.title": "Your SMS, newest first:",
        "sms.history.out": "#{id} {at} → {number} [{status}] {text}",
        "sms.history.in": "#{id} {at} ← {number} [{status}] {text}",
        "sms.status.sending": "sending",
        "sms.status.sent": "sent",
        "sms.status.failed": "not sent",
        "sms.status.unknown": "unknown",
        "sms.status.received": "received",
        "sms.status.undelivered": "received, not delivered",
        "sms.inbound_from": "SMS from {sender}: {text}",
        "sms.gateway.desc": "Enter the phone number to send SMS to (e.g. +39 333 1234567).",
        "sms.gateway.prompt": "Phone number",
        "sms.gateway.name": "SMS",
        "sms.form.number": "Phone number",
        "sms.form.text": "Text",
    },
    "it": {
        "perm.sms": "inviare SMS",
        "sms.sent": "✉ SMS a {number} inviato ({parts} parte).",
        "sms.sent_parts": "✉ SMS a {number} inviato ({parts} parti).",
        "sms.sent_short": "✓ inviato ({parts} parte)",
        "sms.sent_short_parts": "✓ inviato ({parts} parti)",
        "sms.already": "Questo messaggio è già stato consegnato al gateway SMS (#{id}, {status}).",
        "sms.fail.unreachable": "⚠ SMS non inviato: il gateway SMS non è raggiungibile.",
        "sms.fail.http_status": "⚠ SMS non inviato: il gateway SMS ha risposto HTTP {http_status}.",
        "sms.fail.not_accepted": "⚠ SMS non inviato: la risposta del gateway SMS non dice "
        "che l'ha preso in carico.",
        "sms.fail.timeout": "⚠ Il gateway SMS non ha risposto entro {timeout:g} s. L'SMS "
        "potrebbe essere partito, quindi non viene reinviato: verifica prima di reinviare.",
        "sms.fail.broken": "⚠ Il gateway SMS ha interrotto la risposta. L'SMS potrebbe essere "
        "partito, quindi non viene reinviato: verifica prima di reinviare.",
        "sms.error.bad_number": "«{number}» non è un numero di telefono (cifre, eventualmente "
        "dopo + o 00; da {minimum} a {maximum} cifre).",
        "sms.error.empty": "Scrivi il testo dell'SMS.",
        "sms.error.too_long": "Questo testo richiede {parts} parti SMS ({units} caratteri "
        "{encoding}); il massimo è {maximum}.",
        "sms.error.not_allowed": "Non hai il permesso di inviare SMS.",
        "sms.error.no_gateway": "Nessun gateway SMS configurato.",
        "sms.error.slow_down": "Hai inviato {count} SMS nell'ultima ora, il massimo "
        "consentito ({maximum}): non è stato inviato nulla. Potrai inviarne un altro alle {at} "
        "(tra {wait} min).",
        "sms.error.daily_cap": "Hai inviato {count} SMS nelle ultime 24 ore, il massimo "
        "consentito ({maximum}): non è stato inviato nulla. Potrai inviarne un altro alle {at} "
        "(tra {wait} min).",
        "sms.history.none": "Non hai inviato né ricevuto SMS.",
        "sms.history.title": "I tuoi SMS, dal più recente:",
        "sms.history.out": "#{id} {at} → {number} [{status}] {text}",
        "sms.history.in": "#{id} {at} ← {number} [{status}] {text}",
        "sms.status.sending": "in invio",
        "sms.status.sent": "inviato",
        "sms.status.failed": "non inviato",
        "sms.status.unknown": "incerto",
        "sms.status.received": "ricevuto",
        "sms.status.undelivered": "ricevuto, non consegnato",
        "sms.inbound_from": "SMS da {sender}: {text}",
        "sms.gateway.desc": "Inserisci il numero a cui inviare SMS (es. +39 333 1234567).",
        "sms.gateway.prompt": "Numero di telefono",
        "sms.gateway.name": "SMS",
        "sms.form.number": "Numero di telefono",
        "sms.form.text": "Testo",
    },
}

# The web panel's strings (the SMS page).
MESSAGES["en"].update(
    {
        "sms.web.title": "SMS",
        "sms.web.send_title": "Send an SMS",
        "sms.web.send": "Send",
        "sms.web.history": "My SMS",
        "sms.web.none": "No SMS yet.",
        "sms.web.when": "When",
        "sms.web.number": "Number",
        "sms.web.text": "Text",
        "sms.web.status_title": "Status",
        "sms.web.in": "← in",
        "sms.web.out": "→ out",
        "sms.web.gsm7": "GSM-7",
        "sms.web.ucs2": "UCS-2 (Unicode)",
        "sms.web.parts": "part(s)",
        "sms.web.too_long": "too long (at most {maximum} parts)",
        "sms.web.sent": "SMS to {number} sent ({parts} part(s)).",
        "sms.web.status.sending": "sending…",
        "sms.web.status.sent": "sent",
        "sms.web.status.failed": "failed",
        "sms.web.status.unknown": "unknown (may have gone out)",
        "sms.web.status.received": "received",
        "sms.web.status.undelivered": "received (not in chat)",
    }
)
MESSAGES["it"].update(
    {
        "sms.web.title": "SMS",
        "sms.web.send_title": "Invia un SMS",
        "sms.web.send": "Invia",
        "sms.web.history": "I miei SMS",
        "sms.web.none": "Nessun SMS.",
        "sms.web.when": "Quando",
        "sms.web.number": "Numero",
        "sms.web.text": "Testo",
        "sms.web.status_title": "Stato",
        "sms.web.in": "← ricevuto",
        "sms.web.out": "→ inviato",
        "sms.web.gsm7": "GSM-7",
        "sms.web.ucs2": "UCS-2 (Unicode)",
        "sms.web.parts": "parti",
        "sms.web.too_long": "troppo lungo (al massimo {maximum} parti)",
        "sms.web.sent": "SMS a {number} inviato ({parts} parti).",
        "sms.web.status.sending": "invio in corso…",
        "sms.web.status.sent": "inviato",
        "sms.web.status.failed": "non inviato",
        "sms.web.status.unknown": "incerto (potrebbe essere partito)",
        "sms.web.status.received": "ricevuto",
        "sms.web.status.undelivered": "ricevuto (non in chat)",
    }
)
