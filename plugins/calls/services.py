"""The calls service: call, hang up, transfer, park, pick up, record, listen in."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from ctibot.plugin import (
    AmiValueError,
    BadArgument,
    Call,
    CallAction,
    CallPlaced,
    Channel,
    NotFound,
    NothingToDo,
    PbxRefused,
    PbxUnavailable,
    PluginContext,
    ServiceBase,
    UserConfig,
    clean_name,
    clip,
    label,
)
from ctibot.plugin import actions as act
from ctibot.plugin import validate as v

from . import deskphone
from .deskphone import DeskPhone, PhoneError

#: A plugin (phonebook…) turns a name into a number, or says it does not know it.
ContactLookup = Callable[[UserConfig, str], Awaitable[str | None]]

RECORD_ACTIONS = ("start", "pause", "resume", "stop")
SPY_PERMISSIONS = {"listen": "spy", "whisper": "intrude", "barge": "intrude"}
_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9_.+-]")
#: The user's settings this plugin acts on (kept by the settings plugin in the core store).
MODE_KEY = "settings.click_to_call"
DEFAULT_EXTENSION_KEY = "settings.default_extension"
PHONE_USER_KEY = "settings.phone_user"
PHONE_PASSWORD_KEY = "settings.phone_password"


@dataclass(frozen=True, slots=True)
class Placed(CallPlaced):
    """A click-to-call placed: ``via`` "pbx" (the phone rings first: Originate) or "phone"
    (the desk phone dialled by itself); ``note``: why automatic mode was not used, as a
    message key and its parameters."""

    via: str = "pbx"
    note: tuple[str, dict[str, str]] | None = None


def placed_lines(placed: CallPlaced, *, dnd: bool = True) -> list[tuple[str, dict[str, str]]]:
    """What to tell the user of a call placed: (message key, parameters) per line."""
    via = getattr(placed, "via", "pbx")
    key = "call.dialing" if via == "phone" else "call.placed"
    params = {"destination": placed.destination, "extension": placed.extension}
    lines = [(key + "_user", {**params, "name": placed.name}) if placed.name else (key, params)]
    note = getattr(placed, "note", None)
    if note is not None:
        lines.append(note)
    if dnd and placed.dnd is not None:
        # Said at once: the PBX's DND rule answers the call, not the colleague.
        lines.append((f"call.dnd_{placed.dnd}", {"who": label(placed.name, placed.destination)}))
    return lines


def with_default(user: Any, chosen: Any) -> Any:
    """The user with ``chosen`` (one of their phones) first: the phone that rings first."""
    if not isinstance(chosen, str) or chosen not in user.extensions or chosen == user.extensions[0]:
        return user
    rest = tuple(e for e in user.extensions if e != chosen)
    return replace(user, extensions=(chosen, *rest))


class CallsService(ServiceBase):
    """The in-call actions (SPEC F3, F6, F30, F32)."""

    #: How long ``park`` waits for the PBX to say which slot it used (the
    #: ParkedCall event follows the action's reply at once; a busy host may lag).
    #: Without it the reply says the call is being parked, with no slot.
    park_confirm: float = 3.0

    def __init__(self, ctx: PluginContext) -> None:
        super().__init__(ctx)
        self.contact_lookups: list[ContactLookup] = []
        self.park_confirm = float(ctx.settings.get("park_confirm", type(self).park_confirm))
        settings = ctx.settings
        self.echo_test = str(settings.get("echo_test", "*43"))
        self.phone_scheme = str(settings.get("phone_scheme", "http"))
        self.phone_port = int(settings.get("phone_port", 0))
        self.phone_urls: dict[str, str] = dict(settings.get("phone_urls", {}))
        self.phone_timeout = float(settings.get("phone_timeout", 4.0))
        self.phone_tls_verify = bool(settings.get("phone_tls_verify", False))
        self.yealink_path = str(settings.get("yealink_path", "servlet"))

    def add_contact_lookup(self, lookup: ContactLookup) -> None:
        """Let a plugin (phonebook…) resolve names for ``call`` and ``transfer`` (after users)."""
        self.contact_lookups.append(lookup)

    async def resolve_destination(self, user: UserConfig, text: str) -> tuple[str, str | None]:
        """A dialable extension or number, and the colleague's name when it is one."""
        text = " ".join(text.split())
        if not text:
            raise BadArgument("error.missing_destination")
        if len(text) > 80:
            raise BadArgument("error.bad_destination", destination=clip(text))
        owner = self.config.user_by_extension(text)
        if owner is not None:  # one of a colleague's phones, exactly as named
            return text, owner.fullname
        found = self.find_user(text)
        if len(found) == 1:
            return found[0].default_extension, found[0].fullname
        if len(found) > 1:
            raise BadArgument(
                "error.ambiguous", text=clip(text), names=", ".join(u.name for u in found)
            )
        try:
            number = v.dial_number(text, "destination")
        except AmiValueError:
            number = None
        if number is None:
            for lookup in self.contact_lookups:
                found_number = await lookup(user, text)
                if found_number:
                    number = self.build(v.dial_number, found_number, "destination")
                    break
        if number is None:
            raise NotFound("error.no_such_contact", destination=clip(text))
        owner = self.config.user_by_extension(number)
        if owner is None and number not in self.state.extensions:
            self.check_phone_number(number, text)
        return number, owner.fullname if owner else None

    def dnd_rule(self, extension: str) -> str | None:
        """What the PBX does with a call to a phone on DND: "voicemail", "busy" (None: no DND).

        FreePBX's DND sends the call to the extension's voicemail when it has a
        mailbox, else the caller hears busy.
        """
        known = self.state.extensions.get(extension)
        if known is None or not known.dnd:
            return None
        return "voicemail" if extension in self.state.mailboxes else "busy"

    async def call(self, user: UserConfig, destination: str) -> Placed:
        """Click-to-call from the user's default phone: in automatic mode a Yealink or Snom
        phone dials by itself; otherwise (and as a fallback, with a note) it rings first,
        then ``destination`` is dialled (Originate)."""
        self.require(user, "call")
        self.require_pbx()
        user = await self.caller(user)
        exten, name = await self.resolve_destination(user, destination)
        if exten in user.extensions:
            raise BadArgument("error.call_self")
        note = None
        if await self._setting(user, MODE_KEY) == "automatic":
            try:
                phone, username, password = await self.automatic(user)
            except BadArgument as why:
                note = (why.key, {k: str(p) for k, p in why.params.items()})
            else:
                digits = self.build(v.dial_number, exten, "destination")
                await self.order(phone, digits, username, password)
                self.remember_dialing(user, exten)
                return Placed(
                    user.default_extension, exten, name, self.dnd_rule(exten), via="phone"
                )
        action = self.build(
            act.originate_call,
            self.device(user),
            exten,
            context=self.layout.internal_context,
            caller_id=self.caller_id(user),
            timeout_ms=15000,
        )
        await self.send(action)
        self.remember_dialing(user, exten)
        return Placed(
            extension=user.default_extension,
            destination=exten,
            name=name,
            dnd=self.dnd_rule(exten),
            note=note,
        )

    # -- automatic click-to-call: the desk phone dials (F27) -------------------------------

    async def _setting(self, user: UserConfig, key: str) -> Any:
        store = self.ctx.store
        return None if store is None else await store.get_setting(user.name, key)

    async def caller(self, user: UserConfig) -> UserConfig:
        """The user with the default extension of their settings first."""
        return with_default(user, await self._setting(user, DEFAULT_EXTENSION_KEY))

    async def contacts(self) -> dict[str, tuple[str, str]]:
        """Endpoint -> (User-Agent, contact URI) of the registered phones (PJSIPShowContacts)."""
        try:
            items = await self.send(act.pjsip_show_contacts())
        except (PbxUnavailable, PbxRefused):
            return {}
        found: dict[str, tuple[str, str]] = {}
        for item in items if isinstance(items, list) else []:
            if item.get("Event") != "ContactList":
                continue
            endpoint = str(item.get("Endpoint") or item.get("Aor") or "")
            agent = str(item.get("UserAgent") or "").strip()
            if endpoint and agent and endpoint not in found:
                found[endpoint] = (agent, str(item.get("Uri") or ""))
        return found

    async def desk_phone(
        self, extension: str, contacts: dict[str, tuple[str, str]] | None = None
    ) -> DeskPhone:
        """``extension``'s phone when it can dial on request; BadArgument says why not."""
        device = self.layout.device_of(extension)
        endpoint = device.split("/", 1)[1] if device.startswith("PJSIP/") else extension
        if contacts is None:
            contacts = await self.contacts()
        agent, uri = contacts.get(endpoint, ("", ""))
        brand = deskphone.brand_of(agent)
        if brand is None:
            phone = clip(agent, 40) if agent else ""
            if not phone:
                raise BadArgument("calls.auto.unknown_phone", extension=extension)
            raise BadArgument("calls.auto.unsupported", extension=extension, phone=phone)
        base = self.phone_urls.get(extension)
        if base is None:
            host = deskphone.host_of_contact(uri)
            if host is None:
                raise BadArgument("calls.auto.no_address", extension=extension)
            base = deskphone.base_url(host, self.phone_scheme, self.phone_port)
        return DeskPhone(extension, brand, base, clip(agent, 60))

    async def automatic(self, user: UserConfig) -> tuple[DeskPhone, str, str]:
        """The user's default phone and its web credentials, when it can dial on request."""
        username = await self._setting(user, PHONE_USER_KEY)
        password = await self._setting(user, PHONE_PASSWORD_KEY)
        if not isinstance(username, str) or not username or not isinstance(password, str):
            raise BadArgument("calls.auto.no_credentials", extension=user.default_extension)
        return await self.desk_phone(user.default_extension), username, password

    async def order(self, phone: DeskPhone, digits: str, username: str, password: str) -> None:
        """The phone dials ``digits``, or a clear error says why it did not (never retried)."""
        if not deskphone.DIGITS.fullmatch(digits):
            raise BadArgument("calls.auto.bad_digits", destination=clip(digits))
        try:
            await phone.dial(
                digits,
                username,
                password,
                timeout=self.phone_timeout,
                verify=self.phone_tls_verify,
                yealink_path=self.yealink_path,
            )
        except PhoneError as refused:
            self.ctx.log.info("phone %s did not dial: %s", phone.extension, refused.kind)
            params = {"extension": phone.extension}
            if refused.kind in ("unreachable", "timeout"):
                raise PbxUnavailable(f"calls.phone.{refused.kind}", **params) from None
            if refused.kind == "answer":
                params["status"] = str(refused.status)
            raise PbxRefused(f"calls.phone.{refused.kind}", **params) from None
        self.ctx.log.info("phone %s (%s) dials %s by itself", phone.extension, phone.brand, digits)

    async def test_echo(
        self, user: UserConfig, username: str | None = None, password: str | None = None
    ) -> dict[str, str]:
        """The user's default phone dials the echo test with these web credentials (or the
        saved ones): proves the phone takes orders from ctibot."""
        self.require(user, "call")
        self.require_pbx()
        user = await self.caller(user)
        if username is None:
            saved = await self._setting(user, PHONE_USER_KEY)
            username = saved if isinstance(saved, str) else ""
        if password is None:
            saved = await self._setting(user, PHONE_PASSWORD_KEY)
            password = saved if isinstance(saved, str) else ""
        phone = await self.desk_phone(user.default_extension)
        await self.order(phone, self.echo_test, username, password)
        return {"extension": phone.extension, "brand": phone.brand, "echo_test": self.echo_test}

    async def automatic_phones(self, user: UserConfig) -> dict[str, str]:
        """Which of the user's phones can dial on request: extension -> brand."""
        found: dict[str, str] = {}
        contacts = await self.contacts() if getattr(self.ami, "connected", False) else {}
        for extension in user.extensions:
            try:
                found[extension] = (await self.desk_phone(extension, contacts)).brand
            except BadArgument:
                continue
        return found

    async def hangup(self, user: UserConfig) -> CallAction:
        """Hang up the user's side of their current call."""
        self.require(user, "hangup")
        self.require_pbx()
        call, mine = self.current(user)
        if call is None or mine is None:
            raise NothingToDo("error.no_call")
        party, name = self.other_party(user, call, mine)
        await self.send(self.build(act.hangup, mine.name))
        return CallAction("hangup", call.id, party, party_name=name)

    def _answered(self, user: UserConfig):
        call, mine = self.current(user)
        if call is None or mine is None:
            raise NothingToDo("error.no_call")
        peer = self.peer_of(mine)
        if peer is None:
            raise NothingToDo("error.no_answered_call")
        return call, mine, peer

    async def transfer(self, user: UserConfig, destination: str) -> CallAction:
        """Blind-transfer the other party of the user's call to ``destination``."""
        self.require(user, "transfer")
        self.require_pbx()
        call, mine, peer = self._answered(user)
        exten, exten_name = await self.resolve_destination(user, destination)
        party, party_name = self.other_party(user, call, mine)
        owner = self.config.user_by_extension(exten)
        if exten in user.extensions or owner == user:
            raise BadArgument("error.transfer_self")
        parties = {p for p in (peer.party, party) if p}
        owners = {self.config.user_by_extension(p) for p in parties} - {None}
        if exten in parties or (owner is not None and owner in owners):
            raise BadArgument("error.transfer_to_peer", party=label(party_name, party))
        context = self.layout.internal_context
        try:
            await self.send(self.build(act.blind_transfer, mine.name, exten, context))
        except PbxRefused as refused:
            # Older Asterisk (or a bridge that refuses) : move the far end ourselves.
            try:
                await self.send(self.build(act.redirect, peer.name, exten, context))
            except PbxRefused:
                raise refused from None
        return CallAction(
            "transfer", call.id, party, exten, party_name=party_name, destination_name=exten_name
        )

    async def park(self, user: UserConfig) -> CallAction:
        """Park the other party; the call comes back to the user's phone on timeout."""
        self.require(user, "park")
        self.require_pbx()
        call, mine, peer = self._answered(user)
        return await self._park(call, peer, mine)

    async def pickup(self, user: UserConfig, slot: str | int) -> CallAction:
        """Ring the user's phone and take the call parked on ``slot``."""
        self.require(user, "pickup")
        self.require_pbx()
        slot = self.build(v.parking_slot, str(slot).strip())
        parked = self.state.parkings.get(slot)
        if parked is None:
            raise NotFound("error.no_parked_call", slot=slot)
        action = self.build(
            act.pickup_parked,
            self.device(user),
            slot,
            self.layout.internal_context,
            caller_id=self.caller_id(user),
        )
        await self.send(action)
        name = self.name_of_number(parked.from_) or parked.from_name
        name = self.not_self(name, parked.from_, user)
        return CallAction("pickup", parked.call_id, parked.from_, slot, party_name=name)

    async def record(self, user: UserConfig, action: str = "start") -> CallAction:
        """Start, pause, resume or stop recording the user's current call."""
        self.require(user, "recording")
        if action not in RECORD_ACTIONS:
            raise BadArgument(
                "error.bad_choice", value=clip(action), choices="|".join(RECORD_ACTIONS)
            )
        self.require_pbx()
        call, mine, peer = self._answered(user)
        if action == "start":
            if call.recording:
                raise NothingToDo("error.already_recording")
            name = _UNSAFE_FILE.sub("_", f"ctibot-{call.id}-{mine.extension}")[:120] + ".wav"
            await self.send(self.build(act.mixmonitor, mine.name, name, "a"))
        elif not call.recording:
            raise NothingToDo("error.not_recording")
        elif action == "pause":
            if call.recording_paused:
                raise NothingToDo("error.recording_paused_already")
            await self.send(self.build(act.mixmonitor_mute, mine.name, True))
        elif action == "resume":
            if not call.recording_paused:
                raise NothingToDo("error.recording_not_paused")
            await self.send(self.build(act.mixmonitor_mute, mine.name, False))
        else:
            await self.send(self.build(act.stop_mixmonitor, mine.name))
        return CallAction(f"record_{action}", call.id, peer.party)

    async def spy(self, user: UserConfig, extension: str, mode: str = "listen") -> CallAction:
        """Ring the user's phone, then listen to / whisper into / barge into a colleague's call."""
        permission = SPY_PERMISSIONS.get(mode)
        if permission is None:
            raise BadArgument("error.bad_choice", value=clip(mode), choices="listen|whisper|barge")
        self.require(user, permission)
        self.require_pbx()
        target = self.extension_of(extension)
        if target in user.extensions:
            raise BadArgument("error.spy_self")
        channels = [ch for ch in self.channels_of([target]) if ch.bridge is not None]
        if not channels:
            raise NothingToDo(
                "error.target_no_call", extension=label(self.name_of_number(target), target)
            )
        spied = channels[0]
        action = self.build(
            act.spy, self.device(user), spied.name, mode, caller_id=self.caller_id(user)
        )
        await self.send(action)
        name = self.name_of_number(target)
        return CallAction(mode, spied.linkedid, target, target, party_name=name)

    # -- anyone's call, from the operator board (permission operator_panel) ---------------

    def leg_of(self, call_id: str, extension: str | None = None) -> tuple[Call, Channel]:
        """A live call and the channel to act on: ``extension``'s leg, else its first one."""
        call = self.state.calls.get(str(call_id))
        if call is None:
            raise NotFound("error.no_such_call", call=clip(str(call_id)))
        legs = [
            ch for ch in call.channels.values() if extension is None or ch.extension == extension
        ]
        if not legs:
            raise NotFound("error.no_such_call", call=clip(str(call_id)))
        legs.sort(key=lambda ch: (ch.bridge is None, ch.uniqueid != call.origin, ch.created_at))
        return call, legs[0]

    def _operator(self, user: UserConfig, permission: str) -> None:
        self.require(user, "operator_panel")
        self.require(user, permission)
        self.require_pbx()

    async def hangup_call(
        self, user: UserConfig, call_id: str, extension: str | None = None
    ) -> CallAction:
        """Hang up anyone's call (``extension``'s leg of it, or the whole call)."""
        self._operator(user, "hangup")
        call, leg = self.leg_of(call_id, extension)
        targets = [leg] if extension else list(call.channels.values())
        for channel in targets:
            await self.send(self.build(act.hangup, channel.name))
        return CallAction("hangup", call.id, leg.party, party_name=self.name_of_number(leg.party))

    async def transfer_call(
        self, user: UserConfig, call_id: str, destination: str, extension: str | None = None
    ) -> CallAction:
        """Send the party ``extension`` talks with (or the caller, while it rings) elsewhere."""
        self._operator(user, "transfer")
        call, leg = self.leg_of(call_id, extension)
        exten, name = await self.resolve_destination(user, destination)
        if exten == leg.extension:
            raise BadArgument("error.transfer_to_peer", party=label(name, exten))
        context = self.layout.internal_context
        peer = self.peer_of(leg)
        if peer is not None:
            moved = peer
            try:
                await self.send(self.build(act.blind_transfer, leg.name, exten, context))
            except PbxRefused:
                await self.send(self.build(act.redirect, peer.name, exten, context))
        else:  # still ringing: the caller's leg goes to the new destination
            moved = call.channels.get(call.origin or "") or leg
            await self.send(self.build(act.redirect, moved.name, exten, context))
        party = moved.party
        return CallAction(
            "transfer",
            call.id,
            party,
            exten,
            party_name=self.name_of_number(party) or clean_name(call.caller_name),
            destination_name=name,
        )

    async def park_call(
        self, user: UserConfig, call_id: str, extension: str | None = None
    ) -> CallAction:
        """Park the party ``extension`` talks with; on timeout it rings ``extension`` again."""
        self._operator(user, "park")
        call, leg = self.leg_of(call_id, extension)
        peer = self.peer_of(leg)
        if peer is None:
            raise NothingToDo("error.no_answered_call")
        return await self._park(call, peer, leg)

    async def _park(self, call: Call, peer: Channel, back_to: Channel) -> CallAction:
        """Park ``peer``; on timeout it rings ``back_to`` again. The slot, once the PBX
        has it (within ``park_confirm`` seconds)."""
        await self.send(self.build(act.park, peer.name, back_to.name, self.layout.parking_lot))
        parked = await self.wait_for(
            lambda: next(
                (p.slot for p in self.state.parkings.values() if p.uniqueid == peer.uniqueid),
                None,
            ),
            self.park_confirm,
        )
        return CallAction("park", call.id, peer.party, parked)

    async def record_call(
        self, user: UserConfig, call_id: str, action: str = "start", extension: str | None = None
    ) -> CallAction:
        """Start or stop recording anyone's answered call."""
        self._operator(user, "recording")
        if action not in ("start", "stop"):
            raise BadArgument("error.bad_choice", value=clip(action), choices="start|stop")
        call, leg = self.leg_of(call_id, extension)
        if leg.bridge is None:
            raise NothingToDo("error.no_answered_call")
        if action == "start":
            if call.recording:
                raise NothingToDo("error.already_recording")
            name = _UNSAFE_FILE.sub("_", f"ctibot-{call.id}-{leg.party or 'call'}")[:120] + ".wav"
            await self.send(self.build(act.mixmonitor, leg.name, name, "a"))
        else:
            if not call.recording:
                raise NothingToDo("error.not_recording")
            await self.send(self.build(act.stop_mixmonitor, leg.name))
        return CallAction(f"record_{action}", call.id, leg.party)

    def my_calls(self, user: UserConfig) -> list[dict]:
        """The user's current calls for the call box: the other party named by the one rule,
        seconds since it started (answered: since the answer), recording state."""
        out: list[dict] = []
        now = self.now()
        for call, ch, party, name in self.live_calls(user):
            since = call.answered_at or call.started_at
            out.append(
                {
                    "call_id": call.id,
                    "extension": ch.extension or "",
                    "state": call.state,
                    "party": party,
                    "party_name": name,
                    "label": label(name, party),
                    # the number that was called: theirs when they called me, else mine
                    "called": (party or "") if call.caller_number in user.extensions
                    else (ch.extension or ""),
                    "elapsed": max(0, int(now - since)) if since else 0,
                    "answered": self.peer_of(ch) is not None,
                    "recording": call.recording,
                    "recording_paused": call.recording_paused,
                }
            )
        return out

    def search_users(self, user: UserConfig, text: str, limit: int = 10) -> list[dict]:
        """Users whose name, full name or extension contains ``text`` (the dial box's list)."""
        self.require(user, "call")
        word = " ".join(str(text).split()).casefold()[:80]
        if not word:
            return []
        found = []
        for each in self.config.users:
            if (
                word in each.name
                or word in each.fullname.casefold()
                or any(e.startswith(word) for e in each.extensions)
            ):
                found.append(
                    {
                        "name": each.name,
                        "fullname": each.fullname,
                        "extension": each.default_extension,
                        "label": label(each.fullname, each.default_extension),
                    }
                )
            if len(found) >= limit:
                break
        return found
