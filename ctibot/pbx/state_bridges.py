"""Bridges, hold, transfers, recording and CDR times: what happens to calls once set up."""

from __future__ import annotations

from ctibot.pbx.events import CallRecordingChanged, DomainEvent
from ctibot.pbx.naming import clean_number, local_sibling
from ctibot.pbx.state_calls import MAX_ID, CallTracking

Events = list[DomainEvent]
MAX_TRANSFERS = 20  # a call bounced around more than this is noted, not listed


class BridgeTracking(CallTracking):
    """Who talks with whom (bridges), holds, transfers, recordings; replay answer times."""

    def _on_bridge_enter(self, msg: dict) -> Events:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        bridge = msg.get("BridgeUniqueid", "")
        if ch is None or not bridge or len(bridge) > MAX_ID:
            return []
        out: Events = []
        linkedid = msg.get("Linkedid", "")
        if linkedid and linkedid != ch.linkedid and len(linkedid) <= MAX_ID:
            out.extend(self._move_channel(ch, linkedid))
        if ch.bridge is not None and ch.bridge != bridge:
            self._bridges.get(ch.bridge, set()).discard(ch.uniqueid)
        members = self._bridges.setdefault(bridge, set())
        members.add(ch.uniqueid)
        ch.bridge = bridge
        if len(members) >= 2:
            self._bridged(members, out)
        return out

    def _bridged(self, members: set[str], out: Events) -> None:
        """Whoever shares a bridge with a call's caller is who the caller talks to."""
        channels = [self._channels[uid] for uid in members if uid in self._channels]
        for ch in channels:
            call = self._calls.get(ch.linkedid)
            if call is None or not self._caller_side(call, ch):
                continue
            for peer in channels:
                if peer is ch or self._caller_side(call, peer):
                    continue
                party = peer.party
                if party is None:
                    continue
                call.ended_with = party
                if call.answered_at is None:
                    self._answer(call, peer, party, out)
                break

    def _on_bridge_leave(self, msg: dict) -> Events:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        bridge = msg.get("BridgeUniqueid", "")
        if ch is not None and ch.bridge == bridge:
            ch.bridge = None
        members = self._bridges.get(bridge)
        if members is not None and ch is not None:
            members.discard(ch.uniqueid)
            if not members:  # an empty bridge tells nothing; forget it until re-entered
                del self._bridges[bridge]
        return []

    def _on_bridge_destroy(self, msg: dict) -> Events:
        members = self._bridges.pop(msg.get("BridgeUniqueid", ""), None)
        for uid in members or ():
            ch = self._channels.get(uid)
            if ch is not None and ch.bridge == msg.get("BridgeUniqueid"):
                ch.bridge = None
        return []

    def _on_hold(self, msg: dict) -> Events:
        ch, call = self._channel_call(msg)
        if ch is None or call is None:
            return []
        ch.on_hold = msg.get("Event") == "Hold"
        return self._refresh_hold(call)

    def _on_transfer(self, msg: dict) -> Events:
        if msg.get("Result", "Success") != "Success":
            return []
        if msg.get("Event") == "BlindTransfer":
            target = clean_number(msg.get("Extension", ""))
        else:
            peer = self._channels.get(msg.get("TransferTargetUniqueid", ""))
            target = peer.party if peer is not None else None
            target = target or clean_number(msg.get("TransferTargetCallerIDNum", ""))
        calls = {
            call.id: call
            for key in (
                "TransfererLinkedid",
                "TransfereeLinkedid",
                "OrigTransfererLinkedid",
                "SecondTransfererLinkedid",
                "TransferTargetLinkedid",
            )
            if (call := self._calls.get(msg.get(key, ""))) is not None
        }
        for call in calls.values():
            call.transferred = True
            if target is not None and len(call.transfers) < MAX_TRANSFERS:
                call.transfers.append(target)
        return []

    def _on_mixmonitor(self, msg: dict) -> Events:
        call = self._channel_call(msg)[1]
        if call is None:
            return []
        before = (call.recording, call.recording_paused)
        event = msg.get("Event")
        if event == "MixMonitorStart":
            call.recording, call.recording_paused, call.recorded = True, False, True
        elif event == "MixMonitorStop":
            call.recording, call.recording_paused = False, False
        elif call.recording:  # MixMonitorMute: muting both directions pauses the file
            call.recording_paused = msg.get("State") == "1"
        if (call.recording, call.recording_paused) == before:
            return []
        return [
            CallRecordingChanged(
                call_id=call.id, recording=call.recording, paused=call.recording_paused
            )
        ]

    def _on_cdr(self, msg: dict) -> Events:
        """Replay only: CDR times set the clock and sharpen the answer time."""
        replay = self._replay
        if replay is None:
            return []
        times = self._cdr_times
        times.learn(msg.get("StartTime", ""), msg.get("UniqueID", ""))
        replay.observe(times.read(msg.get("EndTime", "")))
        answer = times.read(msg.get("AnswerTime", ""))
        call = self._calls.get(self._call_of_uid.get(msg.get("UniqueID", ""), ""))
        if answer is None or call is None or call.answer_channel is None:
            return []
        answered = call.answer_channel
        sibling = local_sibling(answered)
        # The answering channel's own CDR (or its Local sibling's) says when it
        # answered; a caller's CDR may carry its own, earlier answer (Originate).
        about_answer = msg.get("DestinationChannel") == answered or msg.get("Channel") in (
            answered,
            sibling,
        )
        if about_answer and call.answered_at is not None and answer > call.answered_at:
            call.answered_at = answer
        return []
