"""The ctibot configuration matching a demo office: one builder for the demo, the tests, benches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ctibot.config import (
    Config,
    DatabaseConfig,
    PbxConfig,
    PluginsConfig,
    UserConfig,
    WebConfig,
    XmppConfig,
)
from ctibot.demo.office import Office

#: The demo PBX's full-rights AMI account (``DemoPbx``'s default): user "cti", this secret.
PBX_SECRET = "cti-secret"
#: The demo people's mail domain (reserved for examples, RFC 2606) and the notices' sender.
MAIL_DOMAIN = "example.com"
MAIL_SENDER = f"ctibot@{MAIL_DOMAIN}"


def offhour_routes(office: Office) -> dict[str, str]:
    """The demo's DIDs for the off-hour page: a person's extension, or a queue's agents."""
    routes = {}
    for did, dest in office.dids.items():
        queue = office.queue_by_number(dest)
        routes[did] = f"queue:{queue.name}" if queue is not None else dest
    return routes


def office_users(office: Office) -> tuple[UserConfig, ...]:
    """One ctibot user per person of the office, named by first name (``bob``, ``bob205``…),
    with their extension, mobile and other phones."""
    users: list[UserConfig] = []
    for ext, user in office.people.items():
        name = user.fullname.split()[0].lower()
        if any(u.name == name for u in users):
            name = f"{name}{ext}"
        devices = tuple(user.other_phones)
        users.append(UserConfig(name, user.fullname, (ext,), user.mobile, devices=devices))
    return tuple(users)


def with_contacts(users: Iterable[UserConfig]) -> tuple[UserConfig, ...]:
    """The users with an e-mail address (``alice@example.com``) and an Italian mobile number
    made of their extension (201: ``+393470000201``) where they have none."""
    out = []
    for user in users:
        ext = user.default_extension
        mobile = user.mobile or (f"+39347{int(ext):07d}" if ext.isdigit() else None)
        out.append(replace(user, email=user.email or f"{user.name}@{MAIL_DOMAIN}", mobile=mobile))
    return tuple(out)


def messaging_plugins(plugins: PluginsConfig, sms_url: str, smtp_port: int) -> PluginsConfig:
    """``plugins`` plus ``[plugins.sms]`` at the SMS gateway stand-in at ``sms_url`` and
    ``[plugins.notify]`` at the mail sink on 127.0.0.1:``smtp_port`` (plain SMTP, loopback)."""
    from ctibot.sandbox.smsgateway import demo_settings

    notify = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "security": "none",
        "sender": MAIL_SENDER,
        "coalesce": 5.0,  # a burst is still one notice, and the demo shows it soon
    }
    settings = {**plugins.settings, "sms": demo_settings(sms_url), "notify": notify}
    return PluginsConfig(plugins.disabled, settings)


def office_pbx(
    office: Office,
    *,
    port: int,
    host: str = "127.0.0.1",
    secret: str = PBX_SECRET,
    username: str = "cti",
    **settings: Any,
) -> PbxConfig:
    """ctibot's ``[pbx]`` for the office's demo PBX at ``host``:``port``: its device template,
    trunks, voicemail context and parking; ``settings``: other PbxConfig fields (timings)."""
    layout = office.layout()
    values: dict[str, Any] = dict(
        host=host,
        port=port,
        username=username,
        secret=secret,
        device=layout.device_template,
        trunks=layout.trunks,
        voicemail_context=layout.voicemail_context,
        parking_lot=layout.parking_lot,
        parking_exten=layout.parking_exten,
    )
    values.update(settings)
    return PbxConfig(**values)


def office_plugins(office: Office, sounds: Path | None = None) -> PluginsConfig:
    """The plugins' settings the office implies: the voicemail spool when its messages are real
    files, off-hour routes for its DIDs when ``sounds`` (the PBX's sounds folder) is given."""
    settings: dict[str, Any] = {}
    if office.voicemail_spool:
        settings["voicemail"] = {"spool": office.voicemail_spool}
    if sounds is not None:
        settings["offhour"] = {"routes": offhour_routes(office), "sounds_dir": str(sounds)}
    return PluginsConfig(settings=settings) if settings else PluginsConfig()


def office_config(
    office: Office,
    *,
    port: int,
    path: Path,
    host: str = "127.0.0.1",
    secret: str = PBX_SECRET,
    users: Iterable[UserConfig] | None = None,
    database: str | Path | None = None,
    xmpp: XmppConfig | None = None,
    web: WebConfig | None = None,
    plugins: PluginsConfig | None = None,
    sounds: Path | None = None,
    pbx: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Config:
    """A ctibot configuration for ``office``'s demo PBX at ``host``:``port``.

    ``path``: the configuration file's path (the database defaults to ``ctibot.sqlite`` beside
    it); ``users``: by default every person of the office (:func:`office_users`); ``plugins``:
    by default what the office implies (:func:`office_plugins`, ``sounds`` for off-hour);
    ``pbx``: other PbxConfig fields (timings); ``overrides``: other Config fields (profiles,
    auth).
    """
    return Config(
        path=path,
        pbx=office_pbx(office, port=port, host=host, secret=secret, **dict(pbx or {})),
        users=tuple(office_users(office) if users is None else users),
        xmpp=xmpp,
        database=DatabaseConfig(str(database or path.parent / "ctibot.sqlite")),
        plugins=office_plugins(office, sounds) if plugins is None else plugins,
        web=web,
        **overrides,
    )
