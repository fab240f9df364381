"""The services of the loaded plugins, by plugin name: what commands and pages reach them by."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctibot.commands.base import Registry
    from ctibot.config import Config, UserConfig


class ServiceRegistry(Mapping[str, Any]):
    """``services.calls``, ``services["queues"]``: each enabled plugin's service by its name.

    Also the core's permission check (``may``), the configuration, and the command
    registry built from the same plugins (``commands``), so that one object is all a
    surface (chat, ad-hoc, web) needs.
    """

    def __init__(self, config: Config, commands: Registry | None = None) -> None:
        self._services: dict[str, Any] = {}
        self._config = config
        if commands is None:
            from ctibot.commands.base import Registry

            commands = Registry()
        self.commands: Registry = commands
        #: The loader's Plugins these services come from (states, contexts), when loaded.
        self.plugins: Any = None

    # -- the mapping -----------------------------------------------------------------------

    def add(self, name: str, service: Any) -> None:
        if name in self._services:
            raise ValueError(f"a service named {name!r} is already there")
        self._services[name] = service

    def __getitem__(self, name: str) -> Any:
        return self._services[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._services)

    def __len__(self) -> int:
        return len(self._services)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.__dict__["_services"][name]
        except KeyError:
            raise AttributeError(
                f"no service {name!r}: its plugin is not loaded (disabled, failed or unknown)"
            ) from None

    def only(self, names: Iterable[str]) -> ServiceRegistry:
        """A view holding these plugins' services only (what a plugin that requires them gets)."""
        view = ServiceRegistry(self._config, self.commands)
        view.plugins = self.plugins
        for name in names:
            if name in self._services:
                view._services[name] = self._services[name]
        return view

    # -- what every service shares ---------------------------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        """A new configuration reaches every service (tests change one setting this way)."""
        self._config = config
        for service in self._services.values():
            if hasattr(service, "config"):
                service.config = config

    @property
    def history(self) -> Any:
        return next(
            (s.history for s in self._services.values() if getattr(s, "history", None)), None
        )

    @history.setter
    def history(self, history: Any) -> None:
        """The call store every service reads recent calls from."""
        for service in self._services.values():
            if hasattr(service, "history"):
                service.history = history

    def may(self, user: UserConfig, permission: str | None) -> bool:
        """The core permission check: does the user's profile grant ``permission``?"""
        return permission is None or permission in self._config.permissions_of(user)
