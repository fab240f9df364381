"""AMI AstDB and voicemail actions of the demo PBX."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ctibot.demo import messages as m
from ctibot.demo import voicemail
from ctibot.demo.registry import action, arg, send_list
from ctibot.demo.voicemail import user_fields

if TYPE_CHECKING:
    from ctibot.demo.server import AmiSession


# -- AstDB ------------------------------------------------------------------------
@action("DBPut")
async def db_put(s: AmiSession, msg: dict, aid: str | None) -> None:
    family, key = arg(msg, "Family"), arg(msg, "Key")
    if not family or not key:
        s.send(
            m.response("Error", aid, "No family specified" if not family else "No key specified")
        )
        return
    s.pbx.office.astdb.put(family, key, arg(msg, "Val"))
    s.send(m.response("Success", aid, "Updated database successfully"))


@action("DBDel")
async def db_del(s: AmiSession, msg: dict, aid: str | None) -> None:
    if s.pbx.office.astdb.delete(arg(msg, "Family"), arg(msg, "Key")):
        s.send(m.response("Success", aid, "Key deleted successfully"))
    else:
        s.send(m.response("Error", aid, "Database entry not found"))


@action("DBGet")
async def db_get(s: AmiSession, msg: dict, aid: str | None) -> None:
    family, key = arg(msg, "Family"), arg(msg, "Key")
    value = s.pbx.office.astdb.get(family, key)
    if value is None:
        s.send(m.response("Error", aid, "Database entry not found"))
        return
    send_list(
        s,
        [
            m.list_start(aid, "Result will follow"),
            m.list_item_tail(
                "DBGetResponse", aid, [("Family", family), ("Key", key), ("Val", value)]
            ),
            m.list_complete("DBGetComplete", aid, 1),
        ],
    )


@action("DBGetTree")
async def db_get_tree(s: AmiSession, msg: dict, aid: str | None) -> None:
    entries = s.pbx.office.astdb.tree(arg(msg, "Family"), arg(msg, "Key"))
    items = [m.list_start(aid, "Result will follow")]
    items += [
        m.list_item_tail("DBGetTreeResponse", aid, [("Key", k), ("Val", v)]) for k, v in entries
    ]
    items.append(m.list_complete("DBGetTreeComplete", aid, len(entries)))
    send_list(s, items)


# -- voicemail ------------------------------------------------------------------------
def _mailbox(s: AmiSession, box: str, context: str | None = None):
    box, _, ctx = box.partition("@")
    mb = s.pbx.office.mailboxes.get(box)
    want = context or ctx or s.pbx.office.voicemail_context
    return mb if mb is not None and mb.context == want else None


@action("MailboxCount")
async def mailbox_count(s: AmiSession, msg: dict, aid: str | None) -> None:
    name = arg(msg, "Mailbox")
    mb = _mailbox(s, name)
    new, old = (mb.new, mb.old) if mb else (0, 0)
    s.send(
        m.response(
            "Success",
            aid,
            "Mailbox Message Count",
            [("Mailbox", name), ("UrgMessages", 0), ("NewMessages", new), ("OldMessages", old)],
        )
    )


@action("MailboxStatus")
async def mailbox_status(s: AmiSession, msg: dict, aid: str | None) -> None:
    name = arg(msg, "Mailbox")
    mb = _mailbox(s, name)
    s.send(
        m.response(
            "Success",
            aid,
            "Mailbox Status",
            [("Mailbox", name), ("Waiting", int(bool(mb and mb.new)))],
        )
    )


@action("VoicemailUsersList")
async def voicemail_users_list(s: AmiSession, msg: dict, aid: str | None) -> None:
    boxes = list(s.pbx.office.mailboxes.values())
    items = [m.list_start(aid, "Voicemail user list will follow")]
    items += [m.list_item("VoicemailUserEntry", aid, user_fields(mb)) for mb in boxes]
    items.append(m.list_complete("VoicemailUserEntryComplete", aid, len(boxes)))
    send_list(s, items)


@action("VoicemailUserStatus")
async def voicemail_user_status(s: AmiSession, msg: dict, aid: str | None) -> None:
    mb = _mailbox(s, arg(msg, "Mailbox"), arg(msg, "Context") or None)
    if mb is None:
        s.send(m.response("Error", aid, "Mailbox not found"))
        return
    send_list(
        s,
        [
            m.list_start(aid, "Voicemail user detail will follow"),
            m.list_item("VoicemailUserDetail", aid, user_fields(mb)),
            m.list_complete("VoicemailUserDetailComplete", aid, 1),
        ],
    )


@action("VoicemailBoxSummary")
async def voicemail_box_summary(s: AmiSession, msg: dict, aid: str | None) -> None:
    mb = _mailbox(s, arg(msg, "Mailbox"), arg(msg, "Context") or None)
    if mb is None:
        s.send(m.response("Error", aid, "Mailbox not found"))
        return
    items = [m.list_start(aid, "Voicemail box detail will follow")]
    for msg_ in mb.messages:
        items.append(
            m.list_item(
                "VoicemailBoxDetail",
                aid,
                [
                    ("Folder", msg_.folder),
                    ("CallerID", msg_.callerid),
                    ("Date", msg_.date),
                    ("Duration", msg_.duration),
                    ("Flag", ""),
                    ("ID", msg_.id),
                ],
            )
        )
    items.append(m.list_complete("VoicemailBoxDetailComplete", aid, len(mb.messages)))
    send_list(s, items)


@action("VoicemailRemove")
async def voicemail_remove(s: AmiSession, msg: dict, aid: str | None) -> None:
    mb = _mailbox(s, arg(msg, "Mailbox"), arg(msg, "Context") or None)
    if mb is None or not mb.remove(arg(msg, "Folder"), arg(msg, "ID")):
        s.send(m.response("Error", aid, "Message remove failed"))
        return
    if s.pbx.office.voicemail_spool:
        voicemail.remove_files(
            Path(s.pbx.office.voicemail_spool), mb, arg(msg, "Folder"), arg(msg, "ID")
        )
    s.send(m.response("Success", aid, "Message remove successful\n"))
    s.pbx.engine.dialplan.announce_mailbox(mb.box)


@action("VoicemailRefresh")
async def voicemail_refresh(s: AmiSession, msg: dict, aid: str | None) -> None:
    s.send(m.response("Success", aid, "Refresh sent"))
    office = s.pbx.office
    if not office.voicemail_spool:
        return
    # Asterisk rereads the box's folders and sends MessageWaiting (the files are the truth).
    only = arg(msg, "Mailbox")
    for mb in office.mailboxes.values():
        if only and only.partition("@")[0] != mb.box:
            continue
        if voicemail.rescan(Path(office.voicemail_spool), mb):
            s.pbx.engine.dialplan.announce_mailbox(mb.box)
