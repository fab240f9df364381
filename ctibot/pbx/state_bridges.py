"""Bridges, hold, transfers, recording and CDR times: what happens to calls once set up."""

from __future__ import annotations

from ctibot.pbx.events import CallRecordingChanged, DomainEvent
from ctibot.pbx.model import Call, Channel
from ctibot.pbx.naming import clean_number, clean_text, local_sibling
from ctibot.pbx.state_calls import MAX_ID, CallTracking, dialed_exten

Events = list[DomainEvent]
MAX_TRANSFERS = 20  # a call bounced around more than this is noted, not listed
MAX_HOPS = 8  # Local pairs followed from a channel to the party it talks with


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
        ch.bridge_place = (msg.get("Context", ""), msg.get("Exten", ""), msg.get("Priority", ""))
        if msg.get("BridgeCreator") == "ConfBridge" or msg.get("BridgeTechnology") == "softmix":
            # A conference: each participant's call is a call to it, not to one another.
            name = clean_text(msg.get("BridgeName", ""), 40)
            self._join_conference(ch, name if name not in ("", "<unknown>") else bridge, out)
        elif len(members) >= 2:
            self._bridged(members, out)
        return out

    def _join_conference(self, ch: Channel, conference: str, out: Events) -> None:
        ch.conference = conference
        call = self._calls.get(ch.linkedid)
        if call is None or not self._caller_side(call, ch):
            return
        call.conference = conference
        call.ended_with = conference
        if call.answered_at is None:
            self._answer_app(call, ch, out)

    def _bridged(self, members: set[str], out: Events) -> None:
        """Whoever shares a bridge with a call's caller is who the caller talks to."""
        channels = [self._channels[uid] for uid in members if uid in self._channels]
        # A bridge with a queue / forward / transfer Local leg in it is one link of
        # a chain: whom the caller talks with is then at the far end of the chain.
        chained = any(ch.leg_of is not None for ch in channels)
        touched: dict[str, Call] = {}
        for ch in channels:
            call = self._calls.get(ch.linkedid)
            if call is None:
                continue
            if chained:
                touched[call.id] = call
            if ch.conference is not None or not self._caller_side(call, ch):
                continue
            for peer in channels:
                if peer is ch or peer.conference is not None or self._caller_side(call, peer):
                    continue
                party = peer.party
                # Nobody talks with himself: the caller's own number is never the peer.
                if party is None or party == call.caller_number:
                    continue
                call.ended_with = party
                if call.answered_at is None:
                    self._answer(call, peer, party, out)
                break
        for call in touched.values():
            self._follow_far_end(call)

    def _follow_far_end(self, call: Call) -> None:
        if call.conference is not None or call.answered_at is None:
            return
        for uid in (call.origin, self._by_name.get(call.origin_local or "")):
            ch = call.channels.get(uid or "")
            if ch is None or ch.bridge is None:
                continue
            far = self.peer_of(ch)
            party = far.party if far is not None else None
            if party is not None and party != call.caller_number:
                call.ended_with = party
            return

    def _bridge_peer(self, ch: Channel) -> Channel | None:
        if ch.bridge is None or ch.conference is not None:
            return None
        for uid in self._bridges.get(ch.bridge, ()):
            if uid != ch.uniqueid and uid in self._channels:
                return self._channels[uid]
        return None

    def peer_of(self, ch: Channel) -> Channel | None:
        """Who ``ch`` talks with: its bridge peer, followed through Local channel pairs.

        A queue member, a forward or a transfer made by an agent puts ``Local/…``
        pairs between the two parties; the peer is the channel at the far end of
        them (the phone or trunk), not the Local half in ``ch``'s own bridge. None
        when ``ch`` is in no two-party bridge (ringing, parked, in a conference).
        """
        peer = self._bridge_peer(ch)
        for _ in range(MAX_HOPS):
            if peer is None:
                return None
            sibling_uid = self._by_name.get(local_sibling(peer.name) or "")
            sibling = self._channels.get(sibling_uid or "")
            further = self._bridge_peer(sibling) if sibling is not None else None
            if further is None or further is ch or further.party is None:
                return peer
            peer = further
        return peer

    def _on_bridge_leave(self, msg: dict) -> Events:
        ch = self._channels.get(msg.get("Uniqueid", ""))
        bridge = msg.get("BridgeUniqueid", "")
        if ch is not None and ch.bridge == bridge:
            ch.bridge = None
            place = ch.bridge_place
            ch.bridge_place = None
            if place is not None and place[1] != msg.get("Exten", "") and ch.conference is None:
                self._redirected(ch, place, msg)
            ch.conference = None
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

    def _redirected(self, ch: Channel, place: tuple[str, str, str], msg: dict) -> None:
        """A bridged channel runs no dialplan: leaving its bridge from another place
        than it entered is an AMI Redirect (how many CTI clients transfer)."""
        now = (msg.get("Context", ""), msg.get("Exten", ""), msg.get("Priority", ""))
        if now == place or not place[0] or not now[0] or now[1] == "h":
            return
        call = self._calls.get(ch.linkedid)
        if call is None or call.answered_at is None:
            return
        self._transferred(call, dialed_exten(now[1]))

    @staticmethod
    def _transferred(call: Call, target: str | None) -> None:
        # A blind transfer in a two-party bridge is an async goto of the transferee:
        # its BlindTransfer event and its leaving the bridge tell the same transfer.
        call.transferred = True
        if target is None or (call.transfers and call.transfers[-1] == target):
            return
        if len(call.transfers) < MAX_TRANSFERS:
            call.transfers.append(target)

    def _attended_target(self, msg: dict) -> str | None:
        """Who the transferee was joined with: a party of the bridge it ends in."""
        peer = self._channels.get(msg.get("TransferTargetUniqueid", ""))
        if peer is not None and peer.party is not None:
            return peer.party
        known = {
            msg.get(f"{role}Uniqueid", "")
            for role in ("OrigTransferer", "SecondTransferer", "Transferee")
        }
        transferee = self._channels.get(msg.get("TransfereeUniqueid", ""))
        own = transferee.party if transferee is not None else None
        for key in ("DestBridgeUniqueid", "SecondBridgeUniqueid"):
            for uid in sorted(self._bridges.get(msg.get(key, ""), ())):
                ch = self._channels.get(uid)
                if uid in known or ch is None or ch.party in (None, own):
                    continue
                return ch.party
        return clean_number(msg.get("TransferTargetCallerIDNum", ""))

    def _on_transfer(self, msg: dict) -> Events:
        if msg.get("Result", "Success") != "Success":
            return []
        if msg.get("Event") == "BlindTransfer":
            target = clean_number(msg.get("Extension", ""))
        else:
            target = self._attended_target(msg)
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
            self._transferred(call, target)
        return []

    def _on_chanspy_start(self, msg: dict) -> Events:
        """A ChanSpy call: answered by the application, a call to the party listened to."""
        spyer = self._channels.get(msg.get("SpyerUniqueid", ""))
        if spyer is None:
            return []
        call = self._calls.get(spyer.linkedid)
        if call is None or call.spied is not None:
            return []
        spyee = self._channels.get(msg.get("SpyeeUniqueid", ""))
        party = spyee.party if spyee is not None else None
        call.spied = party or clean_text(msg.get("SpyeeChannel", ""), 80) or "?"
        call.ended_with = call.spied
        out: Events = []
        if call.answered_at is None:
            self._answer_app(call, spyer, out)
        return out

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
