"""The settings plugin's strings, in English and Italian."""

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "settings.title": "My settings",
        "settings.saved": "Your settings are saved.",
        "settings.save": "Save",
        "settings.forwards": "Forwards",
        "settings.forwards_hint": "On all your phones. The unconditional forward is in the "
        "top bar.",
        "settings.forward_busy": "When I am busy",
        "settings.forward_noanswer": "When I do not answer",
        "settings.fw.off": "do not forward",
        "settings.fw.voicemail": "to my voicemail",
        "settings.fw.mobile": "to my mobile",
        "settings.fw.number": "to this number",
        "settings.number": "number or colleague",
        "settings.timeout": "after",
        "settings.seconds": "seconds of ringing",
        "settings.default_extension": "Default extension (the phone that rings first)",
        "settings.no_user_agent": "brand and model not reported by the PBX",
        "settings.firmware": "firmware",
        "settings.status.idle": "idle",
        "settings.status.busy": "busy",
        "settings.status.ringing": "ringing",
        "settings.status.onhold": "on hold",
        "settings.status.unavailable": "not registered",
        "settings.card_url": "Customer card and link",
        "settings.lookup_field": "Look customers up by",
        "settings.lookup.workphone": "work phone",
        "settings.lookup.cellphone": "mobile phone",
        "settings.lookup.homephone": "home phone",
        "settings.url": "Link opened from the call box",
        "settings.url_hint": "$CALLER_NUMBER, $CALLER_NAME and $CALLED are replaced by the "
        "call's data (URL-encoded). Only http:// and https:// links.",
        "settings.click_to_call": "Click-to-call",
        "settings.click.manual": "manual: my phone rings, I pick it up, then the call goes out",
        "settings.click.automatic": "automatic: my phone dials by itself, without ringing "
        "first (Yealink, Snom)",
        "settings.notices": "Notify me",
        "settings.notice.postit_email": "of post-its by e-mail",
        "settings.notice.postit_sms": "of post-its by SMS",
        "settings.notice.voicemail_email": "of voicemails by e-mail",
        "settings.notice.voicemail_sms": "of voicemails by SMS",
        "settings.notice.away": "while I am not logged in to the CTI (chat or panel)",
        "settings.notice.no_email": "(no e-mail address of yours is configured)",
        "settings.notice.no_sms": "(no mobile number of yours is configured)",
        "settings.error.no_email": "E-mail notices need your e-mail address, and none is "
        "configured: ask your administrator to add it. Nothing was saved.",
        "settings.error.no_mobile": "SMS notices need your mobile number, and none is "
        "configured: ask your administrator to add it. Nothing was saved.",
        "settings.error.extension": "{extension} is not one of your phones.",
        "settings.error.url": "The link must start with http:// or https://, have no spaces, "
        "and be at most {maximum} characters long.",
        "settings.error.timeout": "The ringing time is a number of seconds from 1 to {maximum}.",
        "settings.error.number": "Which number should the calls go to?",
        "settings.automatic_needs": "Automatic mode needs a Yealink or Snom phone that the PBX "
        "can name (none of yours is).",
        "settings.phone_user": "Phone web user",
        "settings.phone_password": "password",
        "settings.password_kept": "saved (leave empty to keep it)",
        "settings.test_echo": "Test echo",
        "settings.phone_login_hint": "Automatic mode logs in to your phone with the user and "
        "password of the phone's own web page; Test echo makes it call the echo test. The phone "
        "must trust ctibot's address (Yealink: Action URI Allow IP List, "
        "TrustedActionURIServerList); the first time it may ask you to accept. Empty the user "
        "to forget both.",
        "settings.echo_ok": "Your phone {extension} took the order: it is calling the echo test "
        "({echo_test}) now.",
        "settings.error.automatic": "Automatic click-to-call needs a Yealink or Snom phone the "
        "PBX can reach: {extension} is not one.",
        "settings.error.automatic_off": "Automatic click-to-call is not available here (the "
        "calls plugin is off).",
        "settings.error.phone_user": "The phone's web user is at most {maximum} characters, "
        "without “:”.",
        "settings.error.phone_password": "The phone's web password is at most {maximum} "
        "printable characters.",
    },
    "it": {
        "settings.title": "Le mie impostazioni",
        "settings.saved": "Impostazioni salvate.",
        "settings.save": "Salva",
        "settings.forwards": "Inoltri",
        "settings.forwards_hint": "Su tutti i tuoi telefoni. L'inoltro incondizionato è nella "
        "barra in alto.",
        "settings.forward_busy": "Quando sono occupato",
        "settings.forward_noanswer": "Quando non rispondo",
        "settings.fw.off": "non inoltrare",
        "settings.fw.voicemail": "alla mia segreteria",
        "settings.fw.mobile": "al mio cellulare",
        "settings.fw.number": "a questo numero",
        "settings.number": "numero o collega",
        "settings.timeout": "dopo",
        "settings.seconds": "secondi di squillo",
        "settings.default_extension": "Interno predefinito (il telefono che squilla per primo)",
        "settings.no_user_agent": "marca e modello non comunicati dal centralino",
        "settings.firmware": "firmware",
        "settings.status.idle": "libero",
        "settings.status.busy": "occupato",
        "settings.status.ringing": "squilla",
        "settings.status.onhold": "in attesa",
        "settings.status.unavailable": "non registrato",
        "settings.card_url": "Scheda cliente e link",
        "settings.lookup_field": "Cerca i clienti per",
        "settings.lookup.workphone": "telefono di lavoro",
        "settings.lookup.cellphone": "cellulare",
        "settings.lookup.homephone": "telefono di casa",
        "settings.url": "Link aperto dal riquadro della chiamata",
        "settings.url_hint": "$CALLER_NUMBER, $CALLER_NAME e $CALLED sono sostituiti con i dati "
        "della chiamata (codificati per URL). Solo link http:// e https://.",
        "settings.click_to_call": "Click-to-call",
        "settings.click.manual": "manuale: il mio telefono squilla, rispondo, poi parte la "
        "chiamata",
        "settings.click.automatic": "automatico: il mio telefono compone da solo, senza "
        "squillare prima (Yealink, Snom)",
        "settings.notices": "Avvisami",
        "settings.notice.postit_email": "dei post-it per e-mail",
        "settings.notice.postit_sms": "dei post-it per SMS",
        "settings.notice.voicemail_email": "dei messaggi in segreteria per e-mail",
        "settings.notice.voicemail_sms": "dei messaggi in segreteria per SMS",
        "settings.notice.away": "quando non sono collegato al CTI (chat o pannello)",
        "settings.notice.no_email": "(non è configurato un tuo indirizzo e-mail)",
        "settings.notice.no_sms": "(non è configurato un tuo numero di cellulare)",
        "settings.error.no_email": "Gli avvisi per e-mail richiedono il tuo indirizzo e-mail, "
        "che non è configurato: chiedi all'amministratore di aggiungerlo. Non è stato salvato "
        "nulla.",
        "settings.error.no_mobile": "Gli avvisi per SMS richiedono il tuo numero di cellulare, "
        "che non è configurato: chiedi all'amministratore di aggiungerlo. Non è stato salvato "
        "nulla.",
        "settings.error.extension": "{extension} non è uno dei tuoi telefoni.",
        "settings.error.url": "Il link deve iniziare con http:// o https://, non avere spazi "
        "ed essere lungo al massimo {maximum} caratteri.",
        "settings.error.timeout": "Il tempo di squillo è un numero di secondi da 1 a {maximum}.",
        "settings.error.number": "A quale numero vanno inoltrate le chiamate?",
        "settings.automatic_needs": "La modalità automatica richiede un telefono Yealink o Snom "
        "riconosciuto dal centralino (nessuno dei tuoi lo è).",
        "settings.phone_user": "Utente web del telefono",
        "settings.phone_password": "password",
        "settings.password_kept": "salvata (lascia vuoto per tenerla)",
        "settings.test_echo": "Test echo",
        "settings.phone_login_hint": "La modalità automatica accede al telefono con utente e "
        "password della sua interfaccia web; Test echo gli fa chiamare il test dell'eco. Il "
        "telefono deve fidarsi dell'indirizzo di ctibot (Yealink: Action URI Allow IP List, "
        "TrustedActionURIServerList); la prima volta può chiederti di accettare. Svuota l'utente "
        "per dimenticare entrambi.",
        "settings.echo_ok": "Il tuo telefono {extension} ha accettato il comando: sta chiamando "
        "il test dell'eco ({echo_test}).",
        "settings.error.automatic": "Il click-to-call automatico richiede un telefono Yealink o "
        "Snom raggiungibile dal centralino: {extension} non lo è.",
        "settings.error.automatic_off": "Il click-to-call automatico qui non è disponibile (il "
        "plugin calls è spento).",
        "settings.error.phone_user": "L'utente web del telefono ha al massimo {maximum} "
        "caratteri, senza “:”.",
        "settings.error.phone_password": "La password web del telefono ha al massimo {maximum} "
        "caratteri stampabili.",
    },
}
