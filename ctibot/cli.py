"""The ctibot command line: run, demo, check-config, plugins, snapshot, replay."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import IO

from ctibot.config import ConfigError, load_config
from ctibot.http.errors import ListenError


def setup_logging(verbose: bool = False) -> None:
    """Console logging: one line per event worth a person's attention."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # panoramisk logs whole actions (a Login carries the secret) at debug level.
    logging.getLogger("panoramisk").setLevel(logging.WARNING)
    logging.getLogger("slixmpp").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its values at debug level (a phone's web password).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # httpx logs every request's URL at info level: an SMS gateway's key may ride in a query.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def cmd_check_config(args: argparse.Namespace) -> int:
    from ctibot.loader import check_profiles, plugin_errors, resolve

    config = load_config(args.file)
    check_profiles(config)
    errors = plugin_errors(config)
    if errors:
        for error in errors:
            print(f"ctibot: {error}", file=sys.stderr)
        return 1
    layout = config.layout()
    states, _ = resolve(config)
    enabled = [s.name for s in states if s.state == "enabled"]
    print(
        f"{args.file}: OK — {len(config.users)} users, {len(layout.extensions)} extensions, "
        f"PBX {config.pbx.host}:{config.pbx.port} as {config.pbx.username!r}; "
        f"{len(enabled)} plugins enabled"
    )
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """Every plugin installed: state (enabled / disabled / failed: why), version, what it adds."""
    from ctibot.loader import DISABLED, FAILED, PluginState, discover, resolve

    if args.config:
        states, problems = resolve(load_config(args.config))
    else:
        problems = []
        states = [
            PluginState(f.name, f.origin, f.plugin, FAILED if f.error else "enabled", f.error or "")
            for f in discover()
        ]
    for state in states:
        plugin = state.plugin
        shown = {DISABLED: "disabled", FAILED: f"failed: {state.reason}"}.get(
            state.state, "enabled"
        )
        print(f"{state.name} {state.version} ({state.origin}): {shown}")
        if plugin is None:
            continue
        print(f"  {plugin.description}")
        if plugin.requires:
            print(f"  requires: {', '.join(plugin.requires)}")
        if plugin.permissions:
            perms = ", ".join(
                f"{p.name} ({'/'.join(p.profiles) or 'no profile'})" for p in plugin.permissions
            )
            print(f"  permissions: {perms}")
        commands = [getattr(c, "name", "?") for c in plugin.commands]
        print(f"  commands: {', '.join(commands) if commands else '-'}")
        for setting in plugin.settings:
            value = state.settings.get(setting.name, setting.default)
            value = "(secret)" if setting.secret else ("(required)" if value is ... else value)
            print(f"  [plugins.{state.name}].{setting.name} = {value!r}  {setting.help}".rstrip())
    for problem in problems:
        print(f"ctibot: {problem}", file=sys.stderr)
    return 0


async def _wait_forever() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run(args: argparse.Namespace) -> int:
    from ctibot.app import CtiApp

    config = load_config(args.config)
    record: IO[bytes] | None = open(args.record, "ab") if args.record else None  # noqa: SIM115
    try:
        async with CtiApp(config, record=record):
            await _wait_forever()
    finally:
        if record is not None:
            record.close()
    return 0


async def _snapshot(args: argparse.Namespace) -> int:
    """One attempt, bounded by ``--timeout``: a monitoring check must not wait on retries."""
    from dataclasses import replace

    from ctibot.app import CtiApp

    config = load_config(args.config)
    timeout = max(args.timeout, 0.1)
    pbx = replace(config.pbx, connect_timeout=min(config.pbx.connect_timeout, timeout))
    config = replace(config, pbx=pbx)
    if not args.verbose:
        # The one line below says it all: no log lines of the attempt, no "retrying".
        logging.getLogger("ctibot").setLevel(logging.CRITICAL)
    app = CtiApp(config, database=False)
    await app.start()
    ready = asyncio.ensure_future(app.ami.ready.wait())
    try:
        async with asyncio.timeout(timeout):
            # The client would retry after a failure: the first failure is the answer.
            while not ready.done() and app.ami.last_error is None:
                await asyncio.wait([ready], timeout=0.01)
    except TimeoutError:
        pass
    finally:
        ready.cancel()
        snapshot = app.state.snapshot() if app.ami.ready.is_set() else None
        await app.stop()
    if snapshot is None:
        if app.ami.last_error is not None:
            reason = app.ami.last_error
        else:
            reason = f"no complete state received within {timeout:g} s"
        print(
            f"ctibot snapshot: PBX {config.pbx.host}:{config.pbx.port} not ready: {reason}",
            file=sys.stderr,
        )
        return 1
    _print_json(snapshot)
    return 0


def cmd_xmpp_groups(args: argparse.Namespace) -> int:
    """Write Prosody's mod_groups file: every person and phone in every roster of the host."""
    from ctibot.loader import load_services
    from ctibot.pbx.state import PbxState

    config = load_config(args.config)
    if config.xmpp is None:
        print(f"ctibot xmpp-groups: {args.config} has no [xmpp] section", file=sys.stderr)
        return 2
    # The groups are the presence plugin's feature: its service, through the loader.
    services = load_services(config, PbxState(config.layout()), None, only=("info", "presence"))
    presence = services.get("presence")
    if presence is None:
        print("ctibot xmpp-groups: the presence plugin is not loaded", file=sys.stderr)
        return 2
    groups = presence.roster_groups()
    presence.write_groups_file(args.output, groups)
    members = sum(len(v) for v in groups.values())
    print(
        f"{args.output}: {len(groups)} groups, {members} entries. In Prosody: "
        f'modules_enabled = {{ "groups" }} and groups_file = "{args.output}"',
        file=sys.stderr,
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ctibot.pbx.layout import LAB_LAYOUT
    from ctibot.pbx.replay import infer_from_bytes, replay_capture

    layout = None
    if args.config:
        layout = load_config(args.config).layout()
    elif args.lab:
        layout = LAB_LAYOUT
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"ctibot replay: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    if layout is None:
        # No configuration: what the capture shows (hints, phones, trunks), said in one line.
        inferred = infer_from_bytes(data)
        layout = inferred.layout
        if args.device:
            layout = replace(layout, device_template=args.device)
        print(f"ctibot replay: {inferred.summary}", file=sys.stderr)
    _print_json(replay_capture(data, layout))
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from ctibot.demo_command import run_demo

    return await run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ctibot", description="CTI gateway for Asterisk")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run ctibot against a PBX")
    p.add_argument("--config", required=True, help="the TOML configuration file")
    p.add_argument("--record", help="append the raw AMI bytes received to this file")

    p = sub.add_parser("demo", help="start the embedded demo PBX and ctibot against it")
    p.add_argument(
        "--ami-port",
        type=int,
        default=None,
        help="demo PBX AMI port (default 5038, a free one if taken; 0 = any free port)",
    )
    p.add_argument("--extensions", type=int, default=8, help="office size")
    p.add_argument("--no-traffic", action="store_true", help="no background calls")
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    p.add_argument(
        "--xmpp-port",
        type=int,
        default=5222,
        help="the demo Prosody's client port (a free one if taken)",
    )
    p.add_argument("--no-xmpp", action="store_true", help="no Prosody, no XMPP component")
    p.add_argument(
        "--web-port",
        type=int,
        default=None,
        help="the web panel's port on 127.0.0.1 (default 8080, a free one if taken; 0 = any)",
    )
    p.add_argument(
        "--state-dir",
        help="where the demo keeps its certificate, accounts and database across restarts "
        "(default $XDG_STATE_HOME/ctibot/demo, i.e. ~/.local/state/ctibot/demo)",
    )

    p = sub.add_parser("check-config", help="validate a configuration file")
    p.add_argument("file")

    p = sub.add_parser("plugins", help="list the plugins: state, version, permissions, commands")
    p.add_argument("--config", help="the states under this configuration ([plugins])")

    p = sub.add_parser("snapshot", help="connect, resync, print the PBX state as JSON, exit")
    p.add_argument("--config", required=True)
    p.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        help="seconds for the one attempt: connect, log in, read the state (default 3)",
    )

    p = sub.add_parser("xmpp-groups", help="write a Prosody mod_groups file for the rosters")
    p.add_argument("--config", required=True)
    p.add_argument("--output", required=True, help="the groups file to write")

    from ctibot.http import usercmd

    usercmd.add_parser(sub)

    p = sub.add_parser("replay", help="feed a raw AMI capture through the state model")
    p.add_argument("file", help="raw bytes as received from the AMI")
    p.add_argument("--config", help="take the PBX layout from this configuration")
    p.add_argument(
        "--device",
        default=None,
        help='device template, e.g. "Local/{extension}@phones" (default: from the capture)',
    )
    p.add_argument(
        "--lab", action="store_true", help="the layout of the lab that recorded tests/fixtures/ami/"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        if args.command == "check-config":
            return cmd_check_config(args)
        if args.command == "replay":
            return cmd_replay(args)
        if args.command == "plugins":
            return cmd_plugins(args)
        if args.command == "xmpp-groups":
            return cmd_xmpp_groups(args)
        if args.command == "user":
            from ctibot.http.usercmd import cmd_user

            return cmd_user(args)
        runner = {"run": _run, "snapshot": _snapshot, "demo": _demo}[args.command]
        return asyncio.run(runner(args))
    except ConfigError as exc:
        print(f"ctibot: configuration error: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"ctibot: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
