"""Board rendering: Chromium opens the operator board with 1,000 extensions and 200 live calls.

ctibot (panel on loopback) over the demo PBX with a 1,000-extension office and 200
answered calls; Debian's Chromium (Playwright, headless) logs in as an operator and
opens /board. Measured: the time from the navigation's start until the board is
complete (every extension drawn, from the page's one snapshot); then, while the PBX
makes 500 board changes per second for 10 s (phones unregistering / registering, calls
put on hold and taken back), the browser's main-thread time (Chrome's TaskDuration)
and whether the page keeps up: messages received vs applied each second, and how long
after the last change the page shows the final state. Goal (issue 8): complete <= 1 s;
no growing backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from board_fanout import PASSWORD, office_config  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    from playwright.async_api import async_playwright

    from ctibot.app import CtiApp
    from ctibot.demo.office import Office
    from ctibot.demo.server import DemoPbx
    from ctibot.http.auth import UsersFile

    office = Office.generate(extensions=args.extensions, queues=2)
    with tempfile.TemporaryDirectory(prefix="ctibot-render-") as tmp:
        async with DemoPbx(office, time_scale=1.0) as pbx:
            exts = list(office.users)
            names = {e: u.fullname for e, u in office.users.items()}
            config = office_config(pbx, Path(tmp), exts, names)
            UsersFile(Path(config.auth.users_file)).set_password("operator", PASSWORD)
            made = await pbx.seed_calls(args.calls)
            app = CtiApp(config)
            await app.start()
            await app.ami.wait_ready(30)
            in_calls = sorted({ch.extension for ch in app.state.channels.values() if ch.extension})
            idle = [e for e in exts if e not in set(in_calls)]
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                context = await browser.new_context(viewport={"width": 1600, "height": 1000})
                page = await context.new_page()
                await page.goto(app.http.url + "/login?next=/board")
                await page.fill("#login-name", "operator")
                await page.fill("#login-password", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_selector("body[data-board-ready='1']", timeout=30000)
                # a fresh navigation, timed from its start
                await page.reload()
                await page.wait_for_selector("body[data-board-ready='1']", timeout=30000)
                ready_ms = await page.evaluate("window.boardStats.readyMs")
                drawn = await page.locator("#board-extensions li.ext").count()
                live_calls = await page.locator("#board-extensions li.call").count()
                await page.wait_for_function("window.boardStats.received >= 1")
                cdp = await context.new_cdp_session(page)
                await cdp.send("Performance.enable")

                async def task_seconds() -> float:
                    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
                    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")

                quiet0 = await task_seconds()
                await asyncio.sleep(3)  # the board at rest: durations ticking, nothing else
                quiet = (await task_seconds() - quiet0) / 3
                before = await task_seconds()
                stats0 = await page.evaluate("({...window.boardStats})")
                backlog: list[int] = []
                changes = 0
                toggles = 0
                t0 = time.monotonic()
                loop = asyncio.get_running_loop()
                next_second = t0 + 1
                per_tick = args.rate / 50
                registered = dict.fromkeys(idle, True)
                held = dict.fromkeys(in_calls, False)
                i = j = 0
                while time.monotonic() - t0 < args.seconds:
                    tick = loop.time()
                    for _ in range(int(per_tick)):
                        if toggles % 2 == 0 and idle:
                            ext = idle[i % len(idle)]
                            i += 1
                            registered[ext] = not registered[ext]
                            pbx.set_registered(ext, registered[ext])
                        else:
                            ext = in_calls[j % len(in_calls)]
                            j += 1
                            held[ext] = not held[ext]
                            pbx.hold(ext, held[ext])
                        toggles += 1
                        changes += 1
                    if time.monotonic() >= next_second:
                        next_second += 1
                        s = await page.evaluate("window.boardStats")
                        backlog.append(s["received"] - s["applied"])
                    await asyncio.sleep(max(0.0, 0.02 - (loop.time() - tick)))
                t_last = time.monotonic()
                elapsed = t_last - t0
                # the final state of the last extensions toggled, in the page
                probe = idle[(i - 1) % len(idle)]
                want = "unavailable" if not registered[probe] else "idle"
                await page.wait_for_selector(
                    f"#board-extensions li.ext[data-number='{probe}'].st-{want}", timeout=30000
                )
                caught_up_ms = (time.monotonic() - t_last) * 1000
                after = await task_seconds()
                stats1 = await page.evaluate("({...window.boardStats})")
                await browser.close()
            await app.stop()
    received = stats1["received"] - stats0["received"]
    frames = stats1["frames"] - stats0["frames"]
    busy = stats1["busyMs"] - stats0["busyMs"]
    print(
        f"{args.extensions} extensions, {made} live calls seeded "
        f"({live_calls} call rows drawn, {drawn} extensions drawn)"
    )
    print(
        f"board complete {ready_ms:.0f} ms after the navigation started   goal <= 1000 ms  "
        f"{'OK' if ready_ms <= 1000 and drawn >= args.extensions else 'MISSED'}"
    )
    print(
        f"{changes} changes in {elapsed:.1f} s ({changes / elapsed:.0f}/s): the page got "
        f"{received} websocket messages, applied them in {frames} frames"
    )
    print(
        f"browser main thread busy {after - before:.2f} s of {elapsed:.1f} s "
        f"({100 * (after - before) / elapsed:.0f}%); the board's own updates "
        f"{busy / 1000:.2f} s, longest frame {stats1['maxFrameMs']:.1f} ms; at rest "
        f"{100 * quiet:.0f}%"
    )
    grows = len(backlog) > 2 and backlog[-1] > max(backlog[:2]) + 5
    print(
        f"messages waiting for a frame, each second: {backlog}; the last change shown "
        f"{caught_up_ms:.0f} ms after it was made   backlog "
        f"{'GROWS' if grows else 'does not grow: OK'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extensions", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500, help="board changes per second")
    parser.add_argument("--seconds", type=float, default=10)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
