"""The voicemail plugin's strings, in English and Italian."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "perm.voicemail": "listen to and delete the messages of one's voicemail boxes",
        "voicemail.error.no_box": "You have no voicemail box “{box}”.",
        "voicemail.error.bad_message": "That is not a voicemail message.",
        "voicemail.error.no_message": "That message is not there (any more).",
        "voicemail.error.spool_unwritable": "The voicemail folder cannot be changed right now "
        "(read-only?). Nothing was changed.",
        "voicemail.error.spool_unreadable": "That message cannot be read right now "
        "(the voicemail folder's permissions).",
        "voicemail.chat.new": "New voicemail from {caller} in box {box} ({duration} s). "
        "Listen: {url}",
        "voicemail.web.menu": "Voicemail",
        "voicemail.web.title": "Voicemail",
        "voicemail.web.box": "Box {box}",
        "voicemail.web.new_count": "{count} new",
        "voicemail.web.empty": "No messages.",
        "voicemail.web.caller": "Caller",
        "voicemail.web.date": "Date",
        "voicemail.web.duration": "Length",
        "voicemail.web.seconds": "{seconds} s",
        "voicemail.web.listen": "Listen",
        "voicemail.web.download": "Download",
        "voicemail.web.delete": "Delete",
        "voicemail.web.confirm_delete": "Delete this message?",
        "voicemail.web.deleted": "Message deleted.",
        "voicemail.web.new": "new",
        "voicemail.web.heard": "heard",
        "voicemail.web.badge": "New voicemail",
    },
    "it": {
        "perm.voicemail": "ascoltare ed eliminare i messaggi delle proprie caselle vocali",
        "voicemail.error.no_box": "Non hai la casella vocale “{box}”.",
        "voicemail.error.bad_message": "Questo non è un messaggio della segreteria.",
        "voicemail.error.no_message": "Quel messaggio non c’è (più).",
        "voicemail.error.spool_unwritable": "Non posso modificare la cartella della segreteria "
        "in questo momento (sola lettura?). Non è cambiato nulla.",
        "voicemail.error.spool_unreadable": "Quel messaggio non si può leggere in questo momento "
        "(permessi della cartella della segreteria).",
        "voicemail.chat.new": "Nuovo messaggio in segreteria da {caller} nella casella {box} "
        "({duration} s). Ascolta: {url}",
        "voicemail.web.menu": "Segreteria",
        "voicemail.web.title": "Segreteria",
        "voicemail.web.box": "Casella {box}",
        "voicemail.web.new_count": "{count} nuovi",
        "voicemail.web.empty": "Nessun messaggio.",
        "voicemail.web.caller": "Chiamante",
        "voicemail.web.date": "Data",
        "voicemail.web.duration": "Durata",
        "voicemail.web.seconds": "{seconds} s",
        "voicemail.web.listen": "Ascolta",
        "voicemail.web.download": "Scarica",
        "voicemail.web.delete": "Elimina",
        "voicemail.web.confirm_delete": "Eliminare questo messaggio?",
        "voicemail.web.deleted": "Messaggio eliminato.",
        "voicemail.web.new": "nuovo",
        "voicemail.web.heard": "ascoltato",
        "voicemail.web.badge": "Nuovi messaggi in segreteria",
    },
}
