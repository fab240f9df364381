"""The notify plugin's strings, in English and Italian."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "notify.subject.postit": "New post-it from {who}",
        "notify.subject.postits": "{count} new post-its",
        "notify.subject.voicemail": "New voicemail from {who}",
        "notify.subject.voicemails": "{count} new voicemails",
        "notify.subject.mixed": "{count} new post-its and voicemails",
        "notify.mail.hello": "Hello {name},",
        "notify.mail.intro": "while you were not logged in to the CTI:",
        "notify.mail.postit": "Post-it from {who} ({when}):",
        "notify.mail.voicemail": "Voicemail from {who} in box {box} ({when}, {duration} s)",
        "notify.mail.more": "… and {count} more.",
        "notify.mail.link.postit": "Your post-its: {url}",
        "notify.mail.link.voicemail": "Listen to your voicemail: {url}",
        "notify.mail.footer": "You get these notices because you asked for them in your "
        "settings on the CTI panel.",
        "notify.sms.postit": "Post-it from {who}: {text}",
        "notify.sms.voicemail": "New voicemail from {who} ({duration} s) in box {box}.",
        "notify.sms.many": "{count} new post-its and voicemails are waiting for you.",
        "notify.error.no_sms": "No SMS can reach you.",
    },
    "it": {
        "notify.subject.postit": "Nuovo post-it da {who}",
        "notify.subject.postits": "{count} nuovi post-it",
        "notify.subject.voicemail": "Nuovo messaggio in segreteria da {who}",
        "notify.subject.voicemails": "{count} nuovi messaggi in segreteria",
        "notify.subject.mixed": "{count} nuovi post-it e messaggi in segreteria",
        "notify.mail.hello": "Ciao {name},",
        "notify.mail.intro": "mentre non eri collegato al CTI:",
        "notify.mail.postit": "Post-it da {who} ({when}):",
        "notify.mail.voicemail": "Messaggio in segreteria da {who} nella casella {box} "
        "({when}, {duration} s)",
        "notify.mail.more": "… e altri {count}.",
        "notify.mail.link.postit": "I tuoi post-it: {url}",
        "notify.mail.link.voicemail": "Ascolta la segreteria: {url}",
        "notify.mail.footer": "Ricevi questi avvisi perché li hai chiesti nelle tue "
        "impostazioni del pannello CTI.",
        "notify.sms.postit": "Post-it da {who}: {text}",
        "notify.sms.voicemail": "Nuovo messaggio in segreteria da {who} ({duration} s) nella "
        "casella {box}.",
        "notify.sms.many": "Ti aspettano {count} nuovi post-it e messaggi in segreteria.",
        "notify.error.no_sms": "Nessun SMS può raggiungerti.",
    },
}
