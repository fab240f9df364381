"""Channels and calls: channel, caller ID, dial and hangup events, and the call records."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

from ctibot.pbx.events import (
    CallAnswered,
    CallEnded,
    CallRecord,
    CallRinging,
    CallStateChanged,
    CallUnparked,
    DomainEvent,
)
from ctibot.pbx.model import Call, Channel, ParkedCall, Queue, Trunk
from ctibot.pbx.naming import (
    MAX_NAME,
    ChannelNaming,
    clean_number,
    clean_text,
    device_of_channel,
    dialed_number,
    local_sibling,
    split_forward_tag,
)
from ctibot.pbx.state_time import CdrTimes, ReplayClock, uniqueid_epoch

Events = list[DomainEvent]
MAX_CHANNEL_NAME = 200
MAX_ID = 64  # Uniqueid / Linkedid / BridgeUniqueid: real ones are far shorter
RINGING = 5
MAILBOX = re.compile(r"[0-9A-Za-z_.-]{1,32}")


def to_int(text: str, default: int = 0) -> int:
    """An AMI number field, or ``default`` when it is not one (hostile input)."""
    digits = text[1:] if text[:1] == "-" else text
    if digits.isascii() and digits.isdigit() and len(text) < 12:
        return int(text)
    return default


def clean_name(text: str) -> str | None:
    name = clean_text(text, MAX_NAME)
    return None if name in ("", "<unknown>") else name


def caller_name(text: str) -> tuple[str | None, str | None]:
    """A CallerIDName as shown, and the forward tag (``CF:``…) the dialplan put before it."""
    if ":" not in text[:8]:
        return None, clean_name(text)
    tag, name = split_forward_tag(text)
    return tag, clean_name(name.strip() if tag else name)


def dialed_exten(text: str) -> str | None:
    """A dialplan extension that is a number dialed (not ``s``, ``h``, ``i``, ``t``…)."""
    if not text or text[0] not in "0123456789*#+" or len(text) > 40:
        return None
    if text.isdigit() and text.isascii():
        return text
    return clean_number(text)


class CallTracking:
    """The channel and call half of PbxState (its attributes are set by PbxState)."""

    naming: ChannelNaming
    clock: Callable[[], float]
    _replay: ReplayClock | None
    _cdr_times: CdrTimes
    _channels: dict[str, Channel]
    _by_name: dict[str, str]
    _calls: dict[str, Call]
    _call_of_uid: dict[str, str]
    _bridges: dict[str, set[str]]
    _internal_context: str
    trunks: dict[str, Trunk]
    queues: dict[str, Queue]
    parkings: dict[str, ParkedCall]
    recent_calls: deque[CallRecord]

    # -- building blocks -------------------------------------------------

    def _make_channel(self, msg: dict, uid: str, linkedid: str, now: float) -> Channel:
        name = clean_text(msg.get("Channel", ""), MAX_CHANNEL_NAME)
        naming = self.naming
        trunk = naming.trunk_of_channel(name)
        device = device_of_channel(name)
        cid_name = msg.get("CallerIDName", "")
        ch = Channel(
            name=name,
            uniqueid=uid,
            linkedid=linkedid,
            state=to_int(msg.get("ChannelState", "")),
            caller_number=clean_number(msg.get("CallerIDNum", "")),
            caller_name=caller_name(cid_name)[1] if ":" in cid_name[:8] else clean_name(cid_name),
            exten=clean_text(msg.get("Exten", ""), 40),
            extension=None if trunk else naming.extension_of_device(device),
            leg_of=None if trunk else naming.extension_of_local(device),
            trunk=trunk,
            created_at=now,
        )
        connected = msg.get("ConnectedLineNum")
        if connected and connected != "<unknown>":  # a resync lists it; Newchannel has none
            ch.connected_number = clean_number(connected)
            ch.connected_name = caller_name(msg.get("ConnectedLineName", ""))[1]
        if msg.get("Application") == "ConfBridge":  # a channel listed at a resync
            ch.conference = clean_text(msg.get("ApplicationData", "").partition(",")[0], 40)
        return ch

    def _add_channel(self, ch: Channel) -> None:
        self._channels[ch.uniqueid] = ch
        self._by_name[ch.name] = ch.uniqueid
        if ch.trunk is not None:
            trunk = self.trunks.get(ch.trunk)
            if trunk is not None:
                trunk.channels.add(ch.uniqueid)
        call = self._calls.get(ch.linkedid)
        if call is None:
            started = uniqueid_epoch(ch.linkedid) if self._replay else None
            call = Call(id=ch.linkedid, started_at=started or ch.created_at)
            self._calls[ch.linkedid] = call
        if ch.uniqueid != ch.linkedid and call.origin is None:
            self._orphan_leg(call, ch)
        elif call.origin is not None and ch.name != call.origin_local:
            # A leg the call opens towards someone: Asterisk gives it the caller's
            # CallerIDName (and, on a Local pair's far half, the caller's number).
            ch.outgoing = True
            if ch.caller_name is not None:
                ch.caller_name = self._leg_name(call, ch, ch.caller_name)
            if ch.caller_number == call.caller_number:
                ch.caller_number = None
            if ch.trunk is not None:
                ch.dialed = dialed_exten(ch.exten)
        self._join_call(call, ch)
        if ch.conference is not None and self._caller_side(call, ch):
            # Listed in a conference at a resync: a call to it, answered when it joined.
            call.conference = call.ended_with = ch.conference
            if call.answered_at is None and ch.state == 6:
                call.answered_at = ch.created_at
                call.answer_channel = ch.name

    def _orphan_leg(self, call: Call, ch: Channel) -> None:
        """The first channel known of a call is not the one that started it (the
        caller hung up, e.g. after parking this one; or ctibot came in late): it is a
        leg the call opened, its connected line is the caller, and if up it answered."""
        call.origin = ""  # known to be gone: no channel of the call is its caller's
        call.caller_number = ch.connected_number
        call.caller_name = ch.connected_name
        ch.outgoing = True
        ch.caller_name = self._leg_name(call, ch, ch.caller_name)
        if ch.caller_number is not None and ch.caller_number == call.caller_number:
            ch.caller_number = None
        if ch.trunk is not None:
            ch.dialed = dialed_exten(ch.exten)
        if ch.state == 6:
            call.answered_at = ch.created_at
            call.answered_by = call.callee = call.ended_with = ch.party
            call.answer_channel = ch.name

    @staticmethod
    def _leg_name(call: Call, ch: Channel, name: str | None) -> str | None:
        """The name a leg the call opened may show: app_dial gives a channel whose
        driver sets no caller ID (a trunk; a Local leg) the caller's name; a phone's
        own (a PJSIP endpoint's callerid) is kept."""
        if ch.trunk is not None or name == call.caller_name:
            return None
        return name

    def _join_call(self, call: Call, ch: Channel) -> None:
        call.channels[ch.uniqueid] = ch
        call.uids.append(ch.uniqueid)
        self._call_of_uid[ch.uniqueid] = call.id
        ch.linkedid = call.id
        if call.origin is None:
            call.origin = ch.uniqueid
            call.origin_local = local_sibling(ch.name)
            if ch.trunk is not None:
                call.inbound = True
                call.did = clean_number(ch.exten)
            self._refresh_caller(call, ch)
        if ch.trunk is not None:
            call.via_trunk = True

    @staticmethod
    def _refresh_caller(call: Call, ch: Channel) -> None:
        call.caller_number = ch.extension or ch.leg_of or ch.caller_number
        call.caller_name = ch.caller_name

    def _caller_side(self, call: Call, ch: Channel) -> bool:
        return ch.uniqueid == call.origin or (
            call.origin_local is not None and ch.name == call.origin_local
        )

    def _ring(self, call: Call, ch: Channel, out: Events) -> None:
        if ch.rang or ch.extension is None:
            return
        ch.rang = True
        out.append(
            CallRinging(
                call_id=call.id,
                extension=ch.extension,
                channel=ch.name,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                direction=call.direction,
                queue=call.queue,
            )
        )

    def _answer_app(self, call: Call, ch: Channel, out: Events) -> None:
        """The caller's channel was answered by an application (ConfBridge, ChanSpy)."""
        call.answered_at = self.clock()
        call.answer_channel = ch.name
        out.append(
            CallAnswered(
                call_id=call.id,
                answered_by=None,
                extension=None,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                direction=call.direction,
                queue=call.queue,
            )
        )

    def _answer(self, call: Call, ch: Channel, party: str | None, out: Events) -> None:
        call.answered_at = self.clock()
        call.answered_by = party
        call.answer_channel = ch.name
        if call.callee is None:
            call.callee = party
        out.append(
            CallAnswered(
                call_id=call.id,
                answered_by=party,
                extension=ch.extension or ch.leg_of,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                direction=call.direction,
                queue=call.queue,
            )
        )

    def _remove_channel(self, ch: Channel) -> Events:
        uid = ch.uniqueid
        self._channels.pop(uid, None)
        if self._by_name.get(ch.name) == uid:
            del self._by_name[ch.name]
        if ch.trunk is not None and ch.trunk in self.trunks:
            self.trunks[ch.trunk].channels.discard(uid)
        if ch.bridge is not None:
            members = self._bridges.get(ch.bridge)
            if members is not None:
                members.discard(uid)
        for queue in self.queues.values():
            if queue.callers:
                queue.callers.pop(uid, None)
        out: Events = []
        if self.parkings:  # a parked caller who hung up, if ParkedCallGiveUp was missed
            for slot in [slot for slot, p in self.parkings.items() if p.uniqueid == uid]:
                parked = self.parkings.pop(slot)
                out.append(
                    CallUnparked(
                        slot=slot,
                        lot=parked.lot,
                        call_id=parked.call_id,
                        picked_up_by=None,
                        reason="giveup",
                    )
                )
        call = self._calls.get(ch.linkedid)
        if call is None:
            return out
        call.channels.pop(uid, None)
        call.ringing.discard(uid)
        if not call.channels:
            return out + self._end_call(call)
        if ch.on_hold:
            return out + self._refresh_hold(call)
        return out

    def _end_call(self, call: Call, merged_into: str | None = None) -> Events:
        self._calls.pop(call.id, None)
        for uid in call.uids:
            if self._call_of_uid.get(uid) == call.id:
                del self._call_of_uid[uid]
        end = self.clock()
        answered = call.answered_at is not None
        answer_at = call.answered_at
        talk = max(0, round(end - answer_at)) if answer_at is not None else 0
        wait = max(0, round((answer_at if answer_at is not None else end) - call.started_at))
        if call.conference or call.spied:
            to = call.conference or call.spied
        elif answered:
            to = call.answered_by
        else:
            to = call.queue or call.callee or call.dialed
        record = CallRecord(
            call_id=call.id,
            from_=call.caller_number,
            from_name=call.caller_name,
            to=to,
            direction=call.direction,
            answered=answered,
            start=call.started_at,
            answer=answer_at,
            end=end,
            duration=talk,
            wait=wait,
            answered_by=call.answered_by,
            ended_with=(call.ended_with or call.answered_by) if answered else None,
            queue=call.queue,
            did=call.did,
            transferred=call.transferred,
            transfers=tuple(call.transfers),
            picked_up_by=call.picked_up_by,
            recorded=call.recorded,
            merged_into=merged_into,
            forwarded_from=call.forwarded_by,
            conference=call.conference,
            spied=call.spied,
            voicemail=call.voicemail,
        )
        if merged_into is None:
            self.recent_calls.append(record)
        return [CallEnded(call_id=call.id, record=record)]

    def _move_channel(self, ch: Channel, linkedid: str) -> Events:
        """Asterisk re-links a channel to an older call (pickup, transfer): follow it."""
        old = self._calls.get(ch.linkedid)
        new = self._calls.get(linkedid)
        if new is None:
            started = uniqueid_epoch(linkedid) if self._replay else None
            new = Call(id=linkedid, started_at=started or self.clock())
            self._calls[linkedid] = new
        movers = [ch]
        sibling_uid = self._by_name.get(local_sibling(ch.name) or "")
        if sibling_uid is not None and old is not None and sibling_uid in old.channels:
            movers.append(old.channels[sibling_uid])
        for mover in movers:
            if old is not None:
                old.channels.pop(mover.uniqueid, None)
                old.ringing.discard(mover.uniqueid)
            self._join_call(new, mover)
        if old is not None and not old.channels:
            return self._end_call(old, merged_into=new.id)
        return []

    def _refresh_hold(self, call: Call) -> Events:
        previous = call.state
        call.on_hold = any(ch.on_hold for ch in call.channels.values())
        if call.state != previous and call.answered_at is not None:
            return [CallStateChanged(call_id=call.id, state=call.state, previous=previous)]
        return []

    def _channel_call(self, msg: dict) -> tuple[Channel | None, Call | None]:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        if ch is None:
            return None, None
        return ch, self._calls.get(ch.linkedid)

    # -- AMI event handlers ---------------------------------------------

    def _on_voicemail_app(self, msg: dict) -> Events:
        """Newexten of ``VoiceMail(box@context,flags)``: the caller is leaving a message."""
        ch, call = self._channel_call(msg)
        if ch is None or call is None or call.voicemail is not None:
            return []
        box = msg.get("AppData", "").split(",", 1)[0].split("@", 1)[0]
        if not MAILBOX.fullmatch(box):
            box = "?"
        previous = call.state
        call.voicemail = box
        if call.answered_at is not None:
            return []  # an answered call sent on to a mailbox (a transfer): a note only
        return [CallStateChanged(call_id=call.id, state=call.state, previous=previous)]

    def _on_echo_app(self, msg: dict) -> Events:
        """Newexten of ``Echo()``: the PBX itself answers the caller (FreePBX's *43 echo
        test); the call is up, to the number dialed, with nobody on the other side."""
        ch, call = self._channel_call(msg)
        if ch is None or call is None or call.answered_at is not None or ch.uniqueid != call.origin:
            return []
        if call.dialed is None:
            call.dialed = dialed_exten(str(msg.get("Exten", "")))
        out: Events = []
        self._answer_app(call, ch, out)
        return out

    def _on_newchannel(self, msg: dict) -> Events:
        uid = msg.get("Uniqueid", "")
        if not uid or len(uid) > MAX_ID or uid in self._channels:
            return []
        if self._replay is not None:
            self._replay.observe(uniqueid_epoch(uid))
        linkedid = msg.get("Linkedid", "")
        if not linkedid or len(linkedid) > MAX_ID:
            linkedid = uid
        ch = self._make_channel(msg, uid, linkedid, self.clock())
        self._add_channel(ch)
        if msg.get("Context") == self._internal_context:
            # A phone's call starts in the internal context, on the number dialed.
            # (An originated phone channel may show its own extension: not dialed.)
            call = self._calls.get(ch.linkedid)
            if call is not None and call.origin == uid and ch.exten != ch.extension:
                call.dialed = dialed_exten(ch.exten)
        return []

    def _on_newcallerid(self, msg: dict) -> Events:
        ch, call = self._channel_call(msg)
        if ch is None:
            return []
        number = clean_number(msg.get("CallerIDNum", ""))
        tag, name = caller_name(msg.get("CallerIDName", ""))
        if not ch.outgoing:
            ch.caller_number, ch.caller_name = number, name
        elif call is not None:
            ch.caller_name = self._leg_name(call, ch, name)
            if number != call.caller_number:
                ch.caller_number = number  # the number dialed, as app_dial sets it
        if call is None:
            return []
        if tag is not None and call.forward_tag is None:
            # The dialplan marks a forwarded call (CALLERID(name)=CF:<name>) on the
            # channel that forwards it: the caller's, or a leg towards the extension.
            call.forward_tag = tag
            if ch.outgoing and ch.leg_of is not None:
                call.forwarded_from = ch.leg_of
        if call.origin == ch.uniqueid and call.answered_at is None:
            self._refresh_caller(call, ch)
        return []

    def _on_originate_response(self, msg: dict) -> Events:
        """A click-to-call's first phone answered: where it goes on to is what was dialed."""
        ch, call = self._channel_call(msg)
        if ch is None or call is None or call.dialed is not None:
            return []
        if msg.get("Context") == self._internal_context and self._caller_side(call, ch):
            call.dialed = dialed_exten(msg.get("Exten", ""))
        return []

    def _on_newstate(self, msg: dict) -> Events:
        ch, call = self._channel_call(msg)
        if ch is None:
            return []
        ch.state = to_int(msg.get("ChannelState", ""))
        out: Events = []
        if ch.state == RINGING and call is not None:
            self._ring(call, ch, out)
        return out

    def _on_dial_begin(self, msg: dict) -> Events:
        dest = self._channels.get(msg.get("DestUniqueid", ""))
        if dest is None:
            return []
        call = self._calls.get(dest.linkedid)
        if call is None:
            return []
        if dest.dialed is None and dest.extension is None and dest.leg_of is None:
            dest.dialed = dialed_number(msg.get("DialString", "")) or clean_number(
                msg.get("DestExten", "")
            )
        call.ringing.add(dest.uniqueid)
        source = msg.get("Uniqueid", "")
        if source in self._channels and call.callee is None and dest.uniqueid != call.origin:
            call.callee = dest.party
        out: Events = []
        self._ring(call, dest, out)
        return out

    def _on_dial_end(self, msg: dict) -> Events:
        dest = self._channels.get(msg.get("DestUniqueid", ""))
        if dest is None:
            return []
        call = self._calls.get(dest.linkedid)
        if call is None:
            return []
        call.ringing.discard(dest.uniqueid)
        source = self._channels.get(msg.get("Uniqueid", ""))
        # A DialEnd without a calling channel is an Originate reaching its first
        # phone: that phone picking up starts the call, it does not answer it.
        if msg.get("DialStatus") != "ANSWER" or source is None:
            return []
        party = dest.answered_party or dest.party
        if not self._caller_side(call, source):
            # An inner leg (queue member, forward, ring group) was picked up: the
            # caller is answered when the outer leg is, and this says by whom.
            outer = self._channels.get(self._by_name.get(local_sibling(source.name) or "", ""))
            if outer is not None:
                outer.answered_party = party
            return []
        out: Events = []
        # The caller's own phone picking up (an Originate through a Local channel)
        # starts the call; it does not answer it.
        if call.answered_at is None and party != call.caller_number:
            self._answer(call, dest, party, out)
        return out

    def _on_rename(self, msg: dict) -> Events:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        if ch is not None:
            if self._by_name.get(ch.name) == ch.uniqueid:
                del self._by_name[ch.name]
            ch.name = clean_text(msg.get("Newname", ""), MAX_CHANNEL_NAME) or ch.name
            self._by_name[ch.name] = ch.uniqueid
        return []

    def _on_hangup(self, msg: dict) -> Events:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        if ch is None:
            return []
        return self._remove_channel(ch)
