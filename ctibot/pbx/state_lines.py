"""Extensions (device and hint states, DND, forwards), parked calls and mailboxes."""

from __future__ import annotations

from collections.abc import Callable

from ctibot.pbx.events import (
    CallParked,
    CallUnparked,
    DndChanged,
    DomainEvent,
    ExtensionStatusChanged,
    ForwardChanged,
    VoicemailCountChanged,
)
from ctibot.pbx.model import (
    DEVICE_STATE_RANKS,
    FORWARD_KINDS,
    HINT_STATUS_RANKS,
    RANK_UNKNOWN,
    Call,
    Channel,
    Device,
    Extension,
    Mailbox,
    ParkedCall,
)
from ctibot.pbx.naming import (
    ChannelNaming,
    clean_number,
    clean_text,
    device_of_channel,
    dialed_number,
)
from ctibot.pbx.state_calls import clean_name, to_int

Events = list[DomainEvent]
DND_ON_STATES = frozenset({"BUSY", "INUSE"})
MAX_ASTDB_VALUE = 40


class LineTracking:
    """The extension, parking and voicemail half of PbxState (attributes set by PbxState)."""

    naming: ChannelNaming
    clock: Callable[[], float]
    extensions: dict[str, Extension]
    parkings: dict[str, ParkedCall]
    mailboxes: dict[str, Mailbox]
    _channels: dict[str, Channel]
    _calls: dict[str, Call]

    def _extension(self, number: str | None) -> Extension | None:
        if number is None:
            return None
        ext = self.extensions.get(number)
        if ext is None:
            if not self.naming.accepts(number):
                return None
            ext = self.extensions[number] = Extension(number)
        return ext

    @staticmethod
    def _restatus(ext: Extension) -> Events:
        status = ext.compute_status()
        if status == ext.status:
            return []
        previous, ext.status = ext.status, status
        return [ExtensionStatusChanged(extension=ext.number, status=status, previous=previous)]

    # -- states ----------------------------------------------------------

    def _on_extension_status(self, msg: dict) -> Events:
        rank = HINT_STATUS_RANKS.get(msg.get("Status", ""))
        number = msg.get("Exten", "")
        # A phone's hint (201@ext-local) names an extension the PBX has, configured or not.
        found = self.naming.extension_of_hint(number, msg.get("Context", ""))
        if found is not None:
            self.naming.discover(found)
        ext = self._extension(number)
        if ext is None or rank is None:
            return []
        ext.hint_rank = rank
        return self._restatus(ext)

    def _on_device_state(self, msg: dict) -> Events:
        device = msg.get("Device", "")
        # A Local channel's device state is INUSE as soon as the channel exists,
        # ringing or not: it says nothing about the phone behind it.
        if device.startswith(("Local/", "Queue:", "MWI:", "park:")):
            return []
        state = msg.get("State", "")
        if device.startswith("Custom:DND"):
            ext = self._extension(self.naming.dnd_hint_extension(device))
            if ext is None or (state not in DND_ON_STATES and state != "NOT_INUSE"):
                return []
            return self._set_dnd(ext, state in DND_ON_STATES)
        rank = DEVICE_STATE_RANKS.get(state)
        number = self.naming.extension_of_device(device)
        if number is None and rank is not None and rank != RANK_UNKNOWN:
            # A phone the PBX has that ctibot did not know yet (just created in FreePBX).
            number = self.naming.extension_of_phone(device)
            if number is not None and not self.naming.discover(number):
                number = None
        ext = self._extension(number)
        if ext is None or rank is None:
            return []
        if rank == RANK_UNKNOWN:
            ext.devices.pop(device, None)
        else:
            ext.devices[device] = Device(clean_text(device, 120), state, rank)
        return self._restatus(ext)

    # -- AstDB: DND and forwards ----------------------------------------

    @staticmethod
    def _set_dnd(ext: Extension, on: bool) -> Events:
        if ext.dnd == on:
            return []
        ext.dnd = on
        return [DndChanged(extension=ext.number, dnd=on)]

    def set_astdb(self, key: str, value: str | None) -> Events:
        """Tell the state an AstDB key's value (None = deleted), e.g. after DBPut/DBDel.

        Keys are ``DND/<ext>``, ``CF/<ext>``, ``CFB/<ext>``, ``CFU/<ext>``; others
        are ignored. Returns the DndChanged / ForwardChanged events it causes.
        """
        family, _, number = key.strip("/").partition("/")
        ext = self._extension(number) if "/" not in number else None
        if ext is None:
            return []
        if value is not None:
            value = clean_text(value.strip(), MAX_ASTDB_VALUE) or None
        if family == "DND":
            return self._set_dnd(ext, value is not None)
        kind = FORWARD_KINDS.get(family)
        if kind is None or ext.forward[kind] == value:
            return []
        ext.forward[kind] = value
        return [ForwardChanged(extension=ext.number, kind=kind, destination=value)]

    def _on_db_get(self, msg: dict) -> Events:
        return self.set_astdb(f"{msg.get('Family', '')}/{msg.get('Key', '')}", msg.get("Val", ""))

    def _on_db_get_tree(self, msg: dict) -> Events:
        return self.set_astdb(msg.get("Key", ""), msg.get("Val", ""))

    # -- voicemail -------------------------------------------------------

    def _set_mailbox(self, box: str, new: int, old: int) -> Events:
        mailbox = self.mailboxes.get(box)
        if mailbox is None:
            mailbox = self.mailboxes[box] = Mailbox(box)
        if (mailbox.new, mailbox.old) == (new, old):
            return []
        mailbox.new, mailbox.old = new, old
        return [VoicemailCountChanged(mailbox=box, new=new, old=old)]

    def _on_message_waiting(self, msg: dict) -> Events:
        box = self.naming.mailbox_key(msg.get("Mailbox", ""))
        if not box:
            return []
        return self._set_mailbox(box, to_int(msg.get("New", "")), to_int(msg.get("Old", "")))

    # -- parking ---------------------------------------------------------

    def _party_of(self, uid: str, channel_name: str) -> str | None:
        ch = self._channels.get(uid)
        if ch is not None:
            return ch.party
        return self.naming.extension_of_channel(channel_name)

    def _park(self, msg: dict) -> Events:
        slot = clean_text(msg.get("ParkingSpace", ""), 20)
        if not slot:
            return []
        uid = msg.get("ParkeeUniqueid", "")
        current = self.parkings.get(slot)
        if current is not None and current.uniqueid == uid:
            return []  # the same parked call listed again (ParkedCalls)
        out: Events = []
        if current is not None:  # its leaving was missed: say so before the newcomer
            out.append(
                CallUnparked(
                    slot=slot,
                    lot=current.lot,
                    call_id=current.call_id,
                    picked_up_by=None,
                    reason="gone",
                )
            )
        parkee = self._channels.get(uid)
        from_ = parkee.party if parkee is not None else None
        if parkee is not None and parkee.trunk is not None:
            from_ = parkee.caller_number or from_
        parker = device_of_channel(msg.get("ParkerDialString", ""))
        linkedid = msg.get("ParkeeLinkedid", "")
        parked = ParkedCall(
            slot=slot,
            lot=clean_text(msg.get("Parkinglot", ""), 40),
            uniqueid=uid,
            call_id=linkedid if linkedid in self._calls else None,
            from_=from_ or clean_number(msg.get("ParkeeCallerIDNum", "")),
            # A known channel's own name: a trunk leg's CallerIDName is the caller's copy.
            from_name=parkee.caller_name
            if parkee is not None
            else clean_name(msg.get("ParkeeCallerIDName", "")),
            parked_by=self.naming.extension_of_device(parker)
            or dialed_number(parker)
            or clean_number(parker),
            parked_at=self.clock() - to_int(msg.get("ParkingDuration", "")),
            timeout=to_int(msg.get("ParkingTimeout", "")),
        )
        self.parkings[slot] = parked
        out.append(
            CallParked(
                slot=slot,
                lot=parked.lot,
                call_id=parked.call_id,
                from_=parked.from_,
                from_name=parked.from_name,
                parked_by=parked.parked_by,
                timeout=parked.timeout,
            )
        )
        return out

    def _on_parked_call(self, msg: dict) -> Events:
        return self._park(msg)

    def _on_unparked(self, msg: dict) -> Events:
        reason = {
            "UnParkedCall": "pickup",
            "ParkedCallTimeOut": "timeout",
            "ParkedCallGiveUp": "giveup",
        }.get(msg.get("Event", ""), "gone")
        slot = clean_text(msg.get("ParkingSpace", ""), 20)
        parked = self.parkings.pop(slot, None)
        if parked is None:
            return []
        picked_up_by = None
        if reason == "pickup":
            picked_up_by = self._party_of(
                msg.get("RetrieverUniqueid", ""), msg.get("RetrieverChannel", "")
            )
            call = self._calls.get(msg.get("ParkeeLinkedid", ""))
            if call is not None:
                call.picked_up_by = picked_up_by
        return [
            CallUnparked(
                slot=slot,
                lot=parked.lot,
                call_id=parked.call_id,
                picked_up_by=picked_up_by,
                reason=reason,
            )
        ]
