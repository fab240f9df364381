"""The post-it plugin's strings, in English and Italian."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "perm.postit": "leave post-its",
        "postit.sent": "📝 Post-it #{id} left for {name}: delivered to their chat.",
        "postit.sent_waiting": "📝 Post-it #{id} left for {name}: they are offline and will "
        "get it when they come back.",
        "postit.sent_stored": "📝 Post-it #{id} left for {name} (no chat account: they will "
        "see it in their post-its).",
        "postit.none": "You have no post-its.",
        "postit.none_sent": "You have sent no post-its.",
        "postit.mine": "Your post-its ({unread} unread):",
        "postit.sent_list": "Post-its you left:",
        "postit.line_unread": "#{id} ● from {name}, {at}: {text}",
        "postit.line_read": "#{id} ○ from {name}, {at}: {text}",
        "postit.line_sent_unread": "#{id} to {name}, {at}: not read yet · {text}",
        "postit.line_sent_waiting": "#{id} to {name}, {at}: waiting for them to come online · "
        "{text}",
        "postit.line_sent_read": "#{id} to {name}, {at}: read {read_at} · {text}",
        "postit.read": "Post-it #{id} from {name}, {at}:\n{text}",
        "postit.read_own_unread": "Post-it #{id} to {name}, {at} (not read yet):\n{text}",
        "postit.read_own_read": "Post-it #{id} to {name}, {at} (read {read_at}):\n{text}",
        "postit.deleted": "Post-it #{id} deleted.",
        "postit.hint": "“postit read <n>” shows one, “postit delete <n>” throws it away, "
        "“postits sent” shows what you left and whether it was read.",
        "postit.error.empty": "A post-it needs some text.",
        "postit.error.not_allowed": "You are not allowed to leave post-its.",
        "postit.error.too_long": "That post-it is too long ({length} characters; at most "
        "{maximum}).",
        "postit.error.no_such_user": "There is no user “{name}” to leave a post-it for.",
        "postit.error.no_such_postit": "You have no post-it #{id}.",
        "postit.error.slow_down": "You have left {count} post-its in the last {minutes} "
        "minutes, the most allowed: you may leave another at {at} (in {wait} min).",
        "postit.arg.user": "user",
        "postit.arg.text": "text",
    },
    "it": {
        "perm.postit": "lasciare post-it",
        "postit.sent": "📝 Post-it n. {id} lasciato a {name}: consegnato nella sua chat.",
        "postit.sent_waiting": "📝 Post-it n. {id} lasciato a {name}: non è collegato, lo "
        "riceverà appena torna.",
        "postit.sent_stored": "📝 Post-it n. {id} lasciato a {name} (non ha un account di "
        "chat: lo troverà tra i suoi post-it).",
        "postit.none": "Non hai post-it.",
        "postit.none_sent": "Non hai lasciato post-it.",
        "postit.mine": "I tuoi post-it ({unread} da leggere):",
        "postit.sent_list": "I post-it che hai lasciato:",
        "postit.line_unread": "n. {id} ● da {name}, {at}: {text}",
        "postit.line_read": "n. {id} ○ da {name}, {at}: {text}",
        "postit.line_sent_unread": "n. {id} a {name}, {at}: non ancora letto · {text}",
        "postit.line_sent_waiting": "n. {id} a {name}, {at}: in attesa che si colleghi · {text}",
        "postit.line_sent_read": "n. {id} a {name}, {at}: letto {read_at} · {text}",
        "postit.read": "Post-it n. {id} da {name}, {at}:\n{text}",
        "postit.read_own_unread": "Post-it n. {id} a {name}, {at} (non ancora letto):\n{text}",
        "postit.read_own_read": "Post-it n. {id} a {name}, {at} (letto {read_at}):\n{text}",
        "postit.deleted": "Post-it n. {id} eliminato.",
        "postit.hint": "«postit leggi <n>» ne mostra uno, «postit elimina <n>» lo butta, "
        "«postit inviati» mostra quelli che hai lasciato e se sono stati letti.",
        "postit.error.empty": "Un post-it deve avere un testo.",
        "postit.error.not_allowed": "Non hai il permesso di lasciare post-it.",
        "postit.error.too_long": "Questo post-it è troppo lungo ({length} caratteri; al "
        "massimo {maximum}).",
        "postit.error.no_such_user": "Non c'è nessun utente «{name}» a cui lasciare un post-it.",
        "postit.error.no_such_postit": "Non hai un post-it n. {id}.",
        "postit.error.slow_down": "Hai lasciato {count} post-it negli ultimi {minutes} minuti, "
        "il massimo consentito: potrai lasciarne un altro alle {at} (tra {wait} min).",
        "postit.arg.user": "utente",
        "postit.arg.text": "testo",
    },
}

# The web panel's strings (the post-its page and the top bar badge).
MESSAGES["en"].update(
    {
        "postit.web.title": "Post-its",
        "postit.web.badge": "unread post-its",
        "postit.web.mine": "My post-its",
        "postit.web.sent": "Post-its I left",
        "postit.web.write": "Write a post-it",
        "postit.web.to": "For",
        "postit.web.text": "Text",
        "postit.web.send": "Leave the post-it",
        "postit.web.unread": "unread",
        "postit.web.read": "read",
        "postit.web.unread_count": "{unread} unread",
        "postit.web.mark_read": "Mark read",
        "postit.web.delete": "Delete",
        "postit.web.not_read_yet": "not read yet",
        "postit.web.read_by": "read",
        "postit.web.left": "Post-it #{id} left for {name}.",
        "postit.web.marked_read": "Post-it #{id} marked read.",
        "postit.web.deleted": "Post-it #{id} deleted.",
    }
)
MESSAGES["it"].update(
    {
        "postit.web.title": "Post-it",
        "postit.web.badge": "post-it non letti",
        "postit.web.mine": "I miei post-it",
        "postit.web.sent": "Post-it che ho lasciato",
        "postit.web.write": "Scrivi un post-it",
        "postit.web.to": "Per",
        "postit.web.text": "Testo",
        "postit.web.send": "Lascia il post-it",
        "postit.web.unread": "non letto",
        "postit.web.read": "letto",
        "postit.web.unread_count": "{unread} non letti",
        "postit.web.mark_read": "Segna come letto",
        "postit.web.delete": "Elimina",
        "postit.web.not_read_yet": "non ancora letto",
        "postit.web.read_by": "letto",
        "postit.web.left": "Post-it n. {id} lasciato per {name}.",
        "postit.web.marked_read": "Post-it n. {id} segnato come letto.",
        "postit.web.deleted": "Post-it n. {id} eliminato.",
    }
)
