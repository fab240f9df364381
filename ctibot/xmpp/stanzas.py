"""Stanzas written as prepared XML: escaping, the no-store hints, a presence's children."""

from __future__ import annotations

import re
import time
from xml.sax.saxutils import escape

from ctibot.plugin import VirtualPresence

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: XEP-0334 hints of a message that is news: for no archive, no offline storage.
NO_STORE_HINTS = "<no-store xmlns='urn:xmpp:hints'/><no-permanent-store xmlns='urn:xmpp:hints'/>"
#: ... and for no other device (XEP-0280): one copy per online resource is sent already.
NO_COPY_HINTS = "<no-copy xmlns='urn:xmpp:hints'/><private xmlns='urn:xmpp:carbons:2'/>"
RECEIPT_REQUEST = "<request xmlns='urn:xmpp:receipts'/>"
MARKABLE = "<markable xmlns='urn:xmpp:chat-markers:0'/>"
MARKERS_NS = "urn:xmpp:chat-markers:0"


def delay_element(moment: float, frm: str) -> str:
    """XEP-0203: a message's original time (UTC, XEP-0082), given by ``frm`` that held it."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
    return f"<delay xmlns='urn:xmpp:delay' stamp='{stamp}' from='{xml_attr(frm)}'/>"


def xml_text(value: str) -> str:
    """Text safe inside an XML element: escaped, and no character XML 1.0 forbids."""
    return escape(_NOT_XML.sub("\ufffd", value))


def xml_attr(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value), {"'": "&apos;", '"': "&quot;"})


def presence_body(presence: VirtualPresence, nick: str) -> str:
    """The children of a presence stanza: show, status, nick (XEP-0172)."""
    parts = []
    if presence.show:
        parts.append(f"<show>{presence.show}</show>")
    if presence.status:
        parts.append(f"<status>{xml_text(presence.status)}</status>")
    parts.append(f"<nick xmlns='http://jabber.org/protocol/nick'>{xml_text(nick)}</nick>")
    return "".join(parts)
