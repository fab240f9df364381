"""The call commands (SPEC X2, X3): call, hangup, transfer, park, pickup, record, spy."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from ctibot.plugin import Arg, Command, Context, FormField, Lines, Reply, Result, label

from .services import placed_lines

_DESTINATION = Arg(
    "destination",
    required=True,
    rest=True,
    metavar={"en": "number|contact|user", "it": "numero|contatto|utente"},
)


class Call(Command):
    name = "call"
    order = 10
    aliases = {"it": ("chiama",)}
    permission = "call"
    args = (_DESTINATION,)
    help = {"en": "ring your phone, then the destination", "it": "chiama un numero o un collega"}
    title = {"en": "Place a call", "it": "Fai una chiamata"}
    adhoc = True
    form = (
        FormField(
            "destination",
            "text-single",
            {"en": "Number, contact or user", "it": "Numero, contatto o utente"},
            required=True,
        ),
    )

    async def run(self, ctx: Context, destination: str) -> Result:
        placed = await ctx.service.call(ctx.user, destination)
        lines = [Reply.of(key, **params) for key, params in placed_lines(placed)]
        return lines[0] if len(lines) == 1 else Lines(tuple(lines))


class Hangup(Command):
    name = "hangup"
    order = 11
    aliases = {"it": ("riaggancia",)}
    permission = "hangup"
    help = {"en": "end your current call", "it": "chiudi la chiamata in corso"}

    async def run(self, ctx: Context) -> Result:
        done = await ctx.service.hangup(ctx.user)
        return Reply.of("hangup.done", party=label(done.party_name, done.party))


class Transfer(Command):
    name = "transfer"
    order = 12
    aliases = {"it": ("trasferisci",)}
    permission = "transfer"
    args = (_DESTINATION,)
    help = {"en": "send the other party elsewhere", "it": "trasferisci l'interlocutore"}

    async def run(self, ctx: Context, destination: str) -> Result:
        done = await ctx.service.transfer(ctx.user, destination)
        target = label(done.destination_name, done.destination)
        reply = Reply.of(
            "transfer.done", party=label(done.party_name, done.party), destination=target
        )
        dnd = ctx.service.dnd_rule(done.destination) if done.destination else None
        if dnd is None:
            return reply
        return Lines((reply, Reply.of(f"call.dnd_{dnd}", who=target)))


class Park(Command):
    name = "park"
    order = 13
    aliases = {"it": ("parcheggia",)}
    permission = "park"
    help = {"en": "park the call and free your phone", "it": "parcheggia la chiamata"}

    async def run(self, ctx: Context) -> Result:
        done = await ctx.service.park(ctx.user)
        if done.destination:
            return Reply.of("park.done", slot=done.destination)
        return Reply.of("park.done_noslot")


class Pickup(Command):
    name = "pickup"
    order = 14
    aliases = {"it": ("riprendi", "prendi")}
    permission = "pickup"
    args = (Arg("slot", "int", required=True, maximum=99_999, metavar={"it": "posto"}),)
    help = {"en": "take a parked call", "it": "riprendi una chiamata parcheggiata"}

    async def run(self, ctx: Context, slot: int) -> Result:
        done = await ctx.service.pickup(ctx.user, str(slot))
        return Reply.of(
            "pickup.done", slot=done.destination, party=label(done.party_name, done.party)
        )


class Record(Command):
    name = "record"
    order = 15
    aliases = {"it": ("registra",)}
    permission = "recording"
    args = (
        Arg(
            "action",
            "choice",
            ("start", "pause", "resume", "stop"),
            metavar={"it": "avvia|pausa|riprendi|ferma"},
            aliases={
                "avvia": "start",
                "inizia": "start",
                "pausa": "pause",
                "riprendi": "resume",
                "ferma": "stop",
                "fine": "stop",
            },
        ),
    )
    help = {"en": "record the current call", "it": "registra la chiamata in corso"}

    async def run(self, ctx: Context, action: str = "start") -> Result:
        await ctx.service.record(ctx.user, action)
        return Reply.of(f"record.{action}")


_SPY_TARGET = Arg("extension", required=True, metavar={"it": "interno"})


class _Listen(Command):
    """Spy, whisper and barge: one service call, the mode names the reply."""

    mode: str = "listen"
    args = (_SPY_TARGET,)

    async def run(self, ctx: Context, extension: str) -> Result:
        done = await ctx.service.spy(ctx.user, extension, self.mode)
        return Reply.of(f"spy.{self.mode}", extension=label(done.party_name, done.destination))


class Spy(_Listen):
    name = "spy"
    order = 30
    aliases = {"it": ("ascolta",)}
    permission = "spy"
    help = {"en": "listen to a colleague's call", "it": "ascolta la chiamata di un collega"}


class Whisper(_Listen):
    name = "whisper"
    mode = "whisper"
    order = 31
    aliases = {"it": ("suggerisci",)}
    permission = "intrude"
    help = {"en": "talk to a colleague during a call", "it": "parla a un collega in chiamata"}


class Barge(_Listen):
    name = "barge"
    mode = "barge"
    order = 32
    aliases = {"it": ("intervieni",)}
    permission = "intrude"
    help = {"en": "join a colleague's call", "it": "entra nella chiamata di un collega"}


COMMANDS = (Call, Hangup, Transfer, Park, Pickup, Record, Spy, Whisper, Barge)
