"""``ctibot user add|passwd|token NAME``: the local users file and the API tokens."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import IO

from ctibot.config import Config, load_config
from ctibot.http.auth import LOGIN, UsersFile, new_token, token_hash

MIN_PASSWORD = 8
TOKENS_KEY = "web.api_tokens"  # the same key as ctibot.http.web (which loads Quart)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("user", help="web panel logins: local passwords and API tokens")
    p.add_argument("--config", required=True, help="the TOML configuration file")
    p.add_argument(
        "action",
        choices=("add", "passwd", "token"),
        help="add: a local user; passwd: change the password; token: a new API token",
    )
    p.add_argument("name", help="the user's login name, as in [[users]]")
    p.add_argument("--revoke", action="store_true", help="token: revoke all the user's tokens")


def read_password(stdin: IO[str], *, twice: bool) -> str:
    """From the terminal (asked twice) or, without one, the first line of stdin."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if twice and getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def cmd_user(args: argparse.Namespace, stdin: IO[str] = sys.stdin) -> int:
    config = load_config(args.config)
    name = args.name
    if not LOGIN.match(name) or config.user_by_name(name) is None:
        print(
            f"ctibot: no [[users]] {name!r} in {config.path}: add them there first", file=sys.stderr
        )
        return 2
    if args.action == "token":
        return asyncio.run(token_command(config, name, args.revoke))
    if not config.auth.users_file:
        print(f"ctibot: {config.path}: [auth] users_file is not set", file=sys.stderr)
        return 2
    users = UsersFile(config.auth.users_file)
    if args.action == "add" and users.has(name):
        print(
            f"ctibot: {name} already has a password (use: ctibot user passwd {name})",
            file=sys.stderr,
        )
        return 1
    if args.action == "passwd" and not users.has(name):
        print(
            f"ctibot: {name} has no local password (use: ctibot user add {name})", file=sys.stderr
        )
        return 1
    try:
        password = read_password(stdin, twice=True)
    except (ValueError, EOFError) as exc:
        print(f"ctibot: {exc or 'no password given'}", file=sys.stderr)
        return 1
    if len(password) < MIN_PASSWORD:
        print(f"ctibot: a password has at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 1
    users.set_password(name, password)
    print(f"{name}: password {'set' if args.action == 'add' else 'changed'} in {users.path}")
    if args.action == "passwd":
        end_sessions(config, name)
    return 0


def end_sessions(config: Config, name: str) -> None:
    """Log ``name`` out of the web panel everywhere (the sessions in the database, if any)."""
    import sqlite3
    from pathlib import Path

    from ctibot.store import Store

    path = config.database.path
    if not Path(path).exists():
        return  # no database yet: no session either

    async def run() -> int:
        store = await Store.open(path)
        try:
            return await store.delete_web_sessions(user=name)
        finally:
            await store.close()

    try:
        ended = asyncio.run(run())
    except (OSError, sqlite3.Error) as exc:
        print(
            f"ctibot: {path}: the web sessions of {name} could not be ended: {exc}", file=sys.stderr
        )
        return
    if ended:
        print(
            f"{name}: {ended} web panel session(s) ended (a running ctibot notices within a minute)"
        )


async def token_command(config: Config, name: str, revoke: bool) -> int:
    """A new API token for ``name``, printed (only its hash is kept), or revoke them all."""
    from ctibot.store import Store

    store = await Store.open(config.database.path)
    try:
        if revoke:
            await store.set_setting(name, TOKENS_KEY, [])
            print(f"{name}: every API token revoked")
            return 0
        token = f"{name}.{new_token()}"
        hashes = list(await store.get_setting(name, TOKENS_KEY, []) or [])
        await store.set_setting(name, TOKENS_KEY, [*hashes[-19:], token_hash(token)])
    finally:
        await store.close()
    print(token)
    return 0
