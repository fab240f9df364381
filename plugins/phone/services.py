"""The phone settings service: do-not-disturb and call forwarding on all a user's phones."""

from __future__ import annotations

import contextlib

from ctibot.plugin import (
    AmiValueError,
    BadArgument,
    DndResult,
    ForwardResult,
    PbxRefused,
    ServiceBase,
    UserConfig,
    clip,
)
from ctibot.plugin import actions as act
from ctibot.plugin import validate as v

#: FreePBX's AstDB families per forward kind (PBX-CONVENTIONS).
FORWARD_FAMILIES = {"unconditional": "CF", "busy": "CFB", "noanswer": "CFU"}
MAX_RING_SECONDS = 300


class PhoneService(ServiceBase):
    """DND (F7) and call forward (F8, F23), compare-before-write on every extension."""

    # -- what is set now (what commands and pages show) -----------------------------------

    def dnd_on(self, user: UserConfig) -> bool:
        """Is do-not-disturb on on any of the user's phones?"""
        state = self.state
        return any(state.extensions[e].dnd for e in user.extensions if e in state.extensions)

    def forwards(self, user: UserConfig) -> list[tuple[str, str]]:
        """(kind, AstDB value) of every forward set on the user's phones, kind by kind."""
        state = self.state
        found: list[tuple[str, str]] = []
        for kind in FORWARD_FAMILIES:
            values = {
                state.extensions[e].forward.get(kind)
                for e in user.extensions
                if e in state.extensions
            } - {None}
            found.extend((kind, value) for value in sorted(x for x in values if x))
        return found

    def unconditional_forward(self, user: UserConfig) -> str | None:
        """The unconditional forward of the user's default phone (its AstDB value)."""
        ext = self.state.extensions.get(user.default_extension)
        return ext.forward.get("unconditional") if ext is not None else None

    async def set_dnd(self, user: UserConfig, on: bool) -> DndResult:
        """DND on or off on all the user's extensions (AstDB and the BLF light)."""
        self.require(user, "dnd")
        self.require_pbx()
        changed: list[str] = []
        unchanged: list[str] = []
        for ext in user.extensions:
            known = self.state.extensions.get(ext)
            if known is not None and known.dnd == on:
                unchanged.append(ext)
                continue
            if on:
                await self.send(self.build(act.db_put, "DND", ext, "YES"))
            else:
                # Already gone from AstDB is fine: off is what we want.
                with contextlib.suppress(PbxRefused):
                    await self.send(self.build(act.db_del, "DND", ext))
            # Phones' BLF keys follow Custom:DND<ext>; a failure there leaves DND itself set.
            with contextlib.suppress(PbxRefused):
                await self.send(
                    self.build(act.devstate_change, f"DND{ext}", "BUSY" if on else "NOT_INUSE")
                )
            self.set_astdb(f"DND/{ext}", "YES" if on else None)
            changed.append(ext)
        return DndResult(on, tuple(changed), tuple(unchanged))

    def forward_value(self, user: UserConfig, destination: str | None) -> str | None:
        """The AstDB value for a forward destination: None, vmu<box>, the mobile, a number."""
        if destination is None:
            return None
        word = destination.strip()
        lowered = word.casefold()
        if lowered in ("", "off"):
            return None
        if lowered == "voicemail":
            return f"vmu{user.default_extension}"
        if lowered == "mobile":
            if not user.mobile:
                raise BadArgument("error.no_mobile")
            return self.build(v.dial_number, user.mobile, "mobile")
        colleagues = self.find_user(word)
        if len(colleagues) == 1 and not word.isdigit():
            word = colleagues[0].default_extension
        try:
            number = v.dial_number(word, "destination")
        except AmiValueError:
            raise BadArgument("error.bad_destination", destination=clip(word)) from None
        if number in user.extensions:
            raise BadArgument("error.forward_self")
        if self.config.user_by_extension(number) is None and number not in self.state.extensions:
            self.check_phone_number(number, word)
        return number

    async def set_forward(
        self,
        user: UserConfig,
        kind: str,
        destination: str | None,
        timeout: int | None = None,
    ) -> ForwardResult:
        """Forward (unconditional, busy, noanswer) of all the user's extensions.

        ``destination``: None / "off", "voicemail", "mobile" or a number. ``timeout``
        (seconds of ringing before a no-answer forward) goes to AMPUSER/<ext>/ringtimer.
        ``kind`` "all" with no destination clears every forward. The result says which
        other forwards stay set, so that "off" never leaves one on silently.
        """
        self.require(user, "call_forward")
        if kind == "all":
            if self.forward_value(user, destination) is not None:
                raise BadArgument("error.forward_all_off_only")
            kinds = tuple(FORWARD_FAMILIES)
        elif kind in FORWARD_FAMILIES:
            kinds = (kind,)
        else:
            raise BadArgument(
                "error.bad_choice", value=clip(str(kind)), choices="|".join(FORWARD_FAMILIES)
            )
        if timeout is not None:
            if kind != "noanswer":
                raise BadArgument("error.timeout_noanswer_only")
            if not isinstance(timeout, int) or not 1 <= timeout <= MAX_RING_SECONDS:
                raise BadArgument("error.bad_timeout", maximum=MAX_RING_SECONDS)
        value = self.forward_value(user, destination)
        if value is not None:
            value = self.build(v.astdb_value, value)
        self.require_pbx()
        changed: list[str] = []
        unchanged: list[str] = []
        for ext in user.extensions:
            known = self.state.extensions.get(ext)
            wrote = False
            for each in kinds:
                if known is not None and known.forward.get(each) == value:
                    continue
                family = FORWARD_FAMILIES[each]
                if value is None:
                    with contextlib.suppress(PbxRefused):  # nothing there: off already
                        await self.send(self.build(act.db_del, family, ext))
                else:
                    await self.send(self.build(act.db_put, family, ext, value))
                self.set_astdb(f"{family}/{ext}", value)
                wrote = True
            (changed if wrote else unchanged).append(ext)
            if timeout is not None:
                await self.send(self.build(act.db_put, "AMPUSER", f"{ext}/ringtimer", str(timeout)))
        return ForwardResult(
            kind,
            value,
            tuple(changed),
            tuple(unchanged),
            timeout,
            self.forwards_besides(user, kinds),
        )

    def forwards_besides(
        self, user: UserConfig, kinds: tuple[str, ...]
    ) -> tuple[tuple[str, str], ...]:
        """The forwards of other kinds than ``kinds`` set on any of the user's phones."""
        found: list[tuple[str, str]] = []
        for each in FORWARD_FAMILIES:
            if each in kinds:
                continue
            for ext in user.extensions:
                known = self.state.extensions.get(ext)
                target = known.forward.get(each) if known is not None else None
                if target and (each, target) not in found:
                    found.append((each, target))
        return tuple(found)
