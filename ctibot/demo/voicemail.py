"""The demo PBX's voicemail spool: boxes, messages, MWI counts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class VoicemailMessage:
    """One message of a box: its folder, caller, date, length and spool id."""

    id: str
    folder: str  # INBOX or Old
    callerid: str
    date: str
    duration: int


@dataclass(slots=True)
class Mailbox:
    """A voicemail box ``box@context``."""

    box: str
    context: str
    fullname: str
    messages: list[VoicemailMessage] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(1 for m in self.messages if m.folder == "INBOX")

    @property
    def old(self) -> int:
        return sum(1 for m in self.messages if m.folder == "Old")

    def remove(self, folder: str, msg_id: str) -> bool:
        for m in self.messages:
            if m.folder == folder and m.id == msg_id:
                self.messages.remove(m)
                return True
        return False


#: Field values of VoicemailUserEntry / VoicemailUserDetail after the box identity,
#: as the lab's voicemail.conf produced them (order from the capture).
def user_fields(mb: Mailbox) -> list[tuple[str, object]]:
    return [
        ("VMContext", mb.context),
        ("VoiceMailbox", mb.box),
        ("Fullname", mb.fullname),
        ("Email", ""),
        ("Pager", ""),
        ("ServerEmail", "asterisk@localhost"),
        ("FromString", ""),
        ("MailCommand", "/bin/true"),
        ("Language", ""),
        ("TimeZone", ""),
        ("Callback", ""),
        ("Dialout", ""),
        ("UniqueID", ""),
        ("ExitContext", ""),
        ("SayDurationMinimum", 2),
        ("SayEnvelope", "Yes"),
        ("SayCID", "No"),
        ("AttachMessage", "No"),
        ("AttachmentFormat", ""),
        ("DeleteMessage", "No"),
        ("VolumeGain", "0.00"),
        ("CanReview", "No"),
        ("CanMarkUrgent", "Yes"),
        ("CallOperator", "No"),
        ("MaxMessageCount", 100),
        ("MaxMessageLength", 120),
        ("NewMessageCount", mb.new),
        ("OldMessageCount", mb.old),
    ]
