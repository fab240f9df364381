"""Conference rooms (ConfBridge on 800 in from-internal), as the conference capture shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ctibot.demo import messages as m
from ctibot.demo.channels import Channel

if TYPE_CHECKING:
    from ctibot.demo.calls import CallEngine
    from ctibot.demo.channels import Bridge

#: Conference rooms (ConfBridge) dialed in from-internal, as in the capture lab.
CONFERENCE_ROOMS = frozenset({"800"})
#: Seconds the first participant hears "you are the only person" before joining.
CONFERENCE_ONLY_PERSON = 3.0
#: ConfBridge's profiles, as the lab's dialplan names them.
PROFILES = "default_bridge,default_user"


class ConferenceRooms:
    """The rooms in use: each a softmix bridge with ConfBridge's announcer channel in it.

    Each caller's call is a call to the room; the room lives while someone is in it.
    """

    def __init__(self, engine: CallEngine) -> None:
        self.e = engine
        self.bridges: dict[str, Bridge] = {}

    async def join(self, ch: Channel, room: str, answer: Callable[[Channel], None]) -> None:
        """``<room>``: Answer, ConfBridge(<room>,default_bridge,default_user), stay."""
        e = self.e
        e.steps.at(ch, 1, "Answer")
        answer(ch)
        ch.app, ch.appdata = "ConfBridge", f"{room},{PROFILES}"
        e.steps.at(ch, 2, ch.app, ch.appdata)
        br = self.bridges.get(room)
        first = br is None
        if br is None:
            br = e.new_bridge("conference", room)
            # ConfBridge plays its prompts through a channel of its own in the bridge.
            uid = e.new_uniqueid()
            announcer = Channel(f"CBAnn/{room}-{e._next_seq()};2", e.new_uniqueid(), uid, 0.0)
            br.channels.append(announcer)
            self.bridges[room] = br
            e.emit(m.event("ConfbridgeStart", [("Conference", room)], br.pairs()))
            e.set_device_state(f"confbridge:{room}", "INUSE")
        ch.hooks.append(lambda chan: self._leave(chan, room, br))
        if first:
            await e.clock.sleep(CONFERENCE_ONLY_PERSON)
        self._enter(ch, room, br)
        await e.dialplan.hold_forever()

    @staticmethod
    def participants(br: Bridge) -> list[Channel]:
        return [c for c in br.channels if not c.name.startswith("CBAnn/")]

    def _name_peers(self, br: Bridge) -> None:
        """Everyone in the room names all the others (announcer first) in BRIDGEPEER."""
        for member in self.participants(br):
            others = ",".join(c.name for c in br.channels if c is not member)
            self.e.steps.var(member, "BRIDGEPEER", others)

    def _enter(self, ch: Channel, room: str, br: Bridge) -> None:
        e = self.e
        others = self.participants(br)
        br.channels.append(ch)
        ch.bridge = br
        e.emit(m.event("BridgeEnter", br.pairs(), m.channel_pairs(ch)))
        # Asterisk's CDR engine pairs each two participants once: the older channel's
        # record names the younger one; a caller who is nobody's older has one record
        # with no peer.
        for other in others:
            older, younger = sorted((other, ch), key=lambda c: _uid_order(c.uniqueid))
            e.add_record(older, younger.name, older.app, older.appdata, True)
        self._name_peers(br)
        e.emit(
            m.event(
                "ConfbridgeJoin",
                [("Conference", room)],
                br.pairs(),
                m.channel_pairs(ch),
                [("Admin", "No"), ("Muted", "No")],
            )
        )

    def _leave(self, ch: Channel, room: str, br: Bridge) -> None:
        """A participant hangs up: ConfbridgeLeave, BridgeLeave; the last one ends the room."""
        e = self.e
        if ch in br.channels:
            e.steps.var(ch, "BRIDGEPEER", "")
            e.emit(
                m.event(
                    "ConfbridgeLeave",
                    [("Conference", room)],
                    br.pairs(),
                    m.channel_pairs(ch),
                    [("Admin", "No")],
                )
            )
            br.channels.remove(ch)
            ch.bridge = None
            e.emit(m.event("BridgeLeave", br.pairs(), m.channel_pairs(ch)))
            self._name_peers(br)
            e.steps.var(ch, "CONFBRIDGE_RESULT", "HANGUP")
        if self.participants(br) or self.bridges.get(room) is not br:
            return
        del self.bridges[room]
        e.set_device_state(f"confbridge:{room}", "NOT_INUSE")
        e.emit(m.event("ConfbridgeEnd", [("Conference", room)], br.pairs()))
        br.channels.clear()
        e.destroy(br)
        for _half in (1, 2):  # the announcer's two halves go away
            e.emit(
                m.event("DeviceStateChange", [("Device", f"CBAnn/{room}"), ("State", "UNKNOWN")])
            )


def _uid_order(uniqueid: str) -> tuple[int, ...]:
    """Uniqueids (``1796109348.28``) in creation order."""
    return tuple(int(part) for part in uniqueid.split(".") if part.isdigit())
