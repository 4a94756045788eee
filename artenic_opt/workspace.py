"""What a front end (CLI, dashboard, HTTP server) needs about its environment, resolved lazily.

``Workspace`` holds the settings, the state store, the catalog and the exchange rates of one
invocation. It knows nothing of Typer, Textual or HTTP: the CLI builds one per command from its
global options, the dashboard one per app, ``serve`` one per process, and all of them pass it to
the same service functions.

Decisions: everything is resolved on first use, so ``--help`` and simple commands stay fast; the
store can be opened read-only (``read_only=True``), in which case nothing ever migrates, creates
or locks the user's file, and a write is refused by SQLite itself.

A *reader* (``reader=True``: a command that only reads, such as ``status`` or ``history``) opens
the state normally when the file and its directory are writable (so an older schema is migrated
as by any command), and read-only when they are not: a state on a read-only mount, or owned by
another user, still answers every read command. A command that writes, given a state it cannot
write, is refused in one line before SQLite gets to fail halfway.
"""

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.catalog import Catalog
    from artenic_opt.config import Settings
    from artenic_opt.schemas import Offering
    from artenic_opt.state.store import StateStore


def state_writable(path: Path) -> bool:
    """Whether SQLite can write ``path``: the file, and its directory (journal, WAL, -shm)."""
    directory = path.parent if str(path.parent) else Path(".")
    return os.access(path, os.W_OK) and os.access(directory, os.W_OK | os.X_OK)


@dataclass(frozen=True)
class WorkspaceOptions:
    """Overrides given on the command line (or by a caller); ``None`` means "not given"."""

    state: Path | None = None
    url: str | None = None
    profile: str | None = None
    timeout: float | None = None


@dataclass
class Workspace:
    """Lazily resolved settings, state store, catalog and rates for one invocation."""

    options: WorkspaceOptions = field(default_factory=WorkspaceOptions)
    read_only: bool = False
    reader: bool = False
    _settings: "Settings | None" = field(default=None, repr=False)
    _store: "StateStore | None" = field(default=None, repr=False)
    _catalog: "Catalog | None" = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def settings(self) -> "Settings":
        with self._lock:
            if self._settings is None:
                from artenic_opt.config import load_settings

                self._settings = load_settings(
                    state=self.options.state,
                    url=self.options.url,
                    timeout_s=self.options.timeout,
                    profile=self.options.profile,
                )
            return self._settings

    @property
    def state_path(self) -> Path:
        return self.settings.state_path

    def store(self, *, create: bool = True) -> "StateStore":
        """The state store; a read-only workspace opens it read-only and never creates it."""
        with self._lock:
            if self._store is None:
                from artenic_opt.state.store import open_state

                path = self.state_path
                writable = not path.exists() or state_writable(path)
                if self.read_only or (self.reader and not writable):
                    self._store = open_state(path, create=False, readonly=True)
                elif not writable:
                    from artenic_opt.errors import StateError

                    raise StateError(
                        f"{path} is read-only (the file or its directory cannot be written) and "
                        "this command writes to the state; use a writable copy with --state"
                    )
                else:
                    self._store = open_state(path, create=create)
            return self._store

    def has_state(self) -> bool:
        return self.state_path.exists()

    def existing_store(self) -> "StateStore | None":
        """The store when a state file exists, else ``None`` (looking never creates one)."""
        with self._lock:
            if self._store is None and not self.has_state():
                return None
            return self.store(create=False)

    def rates(self) -> "ExchangeRates":
        from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates

        configured = self.settings.optimizer.exchange_rates
        if not configured:
            return DEFAULT_RATES
        return ExchangeRates({**DEFAULT_RATES.rates, **configured}, source="config file")

    def catalog(self) -> "Catalog":
        """The embedded catalog, overlaid with synced/imported rows and discounts."""
        with self._lock:
            if self._catalog is None:
                from artenic_opt.catalog import load_catalog

                extra: tuple[Offering, ...] = ()
                store = self.existing_store()
                if store is not None:
                    from artenic_opt.state.catalog import list_overlay_offerings

                    extra = tuple(list_overlay_offerings(store))
                self._catalog = load_catalog(
                    extra=extra, discounts=self.settings.optimizer.discounts or None
                )
            return self._catalog

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
