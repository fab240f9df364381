"""Background call traffic and instant call seeding for demos and benchmarks."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctibot.demo.server import DemoPbx

#: Never more than this many calls from the traffic generator at once.
MAX_TRAFFIC_CALLS = 6


def _traffic_extensions(pbx: DemoPbx) -> list[str]:
    """The phones background calls use: the traffic phones if the office has any, else all."""
    return pbx.office.traffic_phones or list(pbx.office.users)


def _idle_extensions(pbx: DemoPbx) -> list[str]:
    e = pbx.engine
    busy = {c.extension for c in e.channels.values() if c.extension}
    users = pbx.office.users
    return [x for x in _traffic_extensions(pbx) if x not in busy and users[x].phone.registered]


def _traffic_dids(pbx: DemoPbx) -> list[str]:
    """DIDs for inbound background calls: those of the traffic phones if there are any."""
    office = pbx.office
    if office.traffic_phones:
        return [did for did, dest in office.dids.items() if dest in office.traffic_phones]
    return list(office.dids)


def seed_calls(pbx: DemoPbx, count: int) -> int:
    """Create ``count`` answered, bridged calls at once (no ringing): 3 in 4 between
    two extensions, 1 in 4 to the outside through a trunk with room."""
    e, office = pbx.engine, pbx.office
    idle = _idle_extensions(pbx)
    made = 0
    for i in range(count):
        outside = i % 4 == 3
        trunk = None
        if outside:
            trunk = next((t for t in office.trunks if e.trunk_in_use(t) < t.max_channels), None)
        if (trunk is None and len(idle) < 2) or not idle:
            break
        src = idle.pop()
        user = office.users[src]
        a = e.new_device_channel(office.device(src), None, "from-internal", "s")
        a.extension = src
        e.set_callerid(a, src, user.fullname)
        if trunk is not None:
            number = f"06{random.randint(10000000, 99999999)}"
            b = e.new_device_channel(trunk.device, a.linkedid, "from-trunk", number)
            b.trunk = trunk
            a.app, a.appdata = "Dial", f"{trunk.device}/{number},60,tT"
            dest_num, dest_name = number, number
        else:
            dst = idle.pop()
            b = e.new_device_channel(office.device(dst), a.linkedid, "from-internal", dst)
            b.extension = dst
            a.app, a.appdata = "Dial", f"{office.device(dst)},15,tTkK"
            dest_num, dest_name = dst, office.users[dst].fullname
        b.app, b.appdata = "AppDial", "(Outgoing Line)"
        a.context, a.exten, a.priority = "sub-dial-ext", "s", 8
        e.set_callerid(b, dest_num, dest_name)
        e.set_connected(b, src, user.fullname)
        e.set_connected(a, dest_num, dest_name)
        e.set_state(a, 6)
        e.set_state(b, 6)
        e.bridge_two(a, b)
        made += 1
    return made


async def run_traffic(pbx: DemoPbx, rate: float) -> None:
    """Random inbound / outbound / internal calls, about ``rate`` new calls per
    simulated second, at most MAX_TRAFFIC_CALLS at once, each ended after a
    random talk time; the task is cancelled by ``DemoPbx.stop()``. With traffic
    phones (``Office.add_traffic_phones``) only those ring and dial."""
    rng = random.Random(2026)
    while True:
        await pbx.clock.sleep(rng.expovariate(rate) if rate > 0 else 5)
        live = {c.linkedid for c in pbx.engine.channels.values()}
        idle = _idle_extensions(pbx)
        if len(live) >= MAX_TRAFFIC_CALLS or len(idle) < 2:
            continue
        talk = rng.uniform(5, 40)
        kind = rng.choice(("inbound", "outbound", "internal"))
        dids = _traffic_dids(pbx)
        if kind == "inbound" and dids:
            number = f"06{rng.randint(10000000, 99999999)}"
            pbx.inbound_call(number, "Customer", rng.choice(dids), talk=talk)
            continue  # the outside caller hangs up by itself
        src = rng.choice(idle)
        if kind == "outbound":
            pbx.call(src, f"0{rng.randint(100000000, 999999999)}")
        else:
            pbx.call(src, rng.choice([e for e in idle if e != src]))
        pbx.engine.spawn(_hang_up_later(pbx, src, talk))


async def _hang_up_later(pbx: DemoPbx, ext: str, after: float) -> None:
    """The caller hangs up after ringing plus its talk time."""
    await pbx.clock.sleep(after + pbx.office.ring_timeout)
    pbx.hangup(ext)


#: Outside callers of the calls made on demand (``ctibot demo``'s console, ``demo customer``).
CUSTOMERS = (
    ("0612345678", "ACME Corp"),
    ("0698765432", "Initech"),
    ("0655501234", "Globex"),
    ("0233344455", "Umbrella Srl"),
)
_next_customer = [0]


def customer_call(pbx: DemoPbx, destination: str, talk: float = 60.0) -> str:
    """An outside caller rings ``destination`` (an extension or a queue number) on a trunk.

    They hang up ``talk`` seconds after being answered. Returns who calls, for the console.
    """
    number, name = CUSTOMERS[_next_customer[0] % len(CUSTOMERS)]
    _next_customer[0] += 1
    pbx.inbound_call(number, name, destination, talk=talk)
    return f"{name} <{number}>"


def colleague_call(pbx: DemoPbx, destination: str, talk: float = 60.0) -> str | None:
    """An idle traffic phone calls ``destination`` and hangs up after ``talk`` seconds.

    Returns who calls, or None when every traffic phone is busy.
    """
    office = pbx.office
    idle = [x for x in _idle_extensions(pbx) if x in office.traffic_phones and x != destination]
    if not idle:
        return None
    src = idle[-1]
    pbx.call(src, destination)
    pbx.engine.spawn(_hang_up_later(pbx, src, talk))
    return f"{office.users[src].fullname} <{src}>"
