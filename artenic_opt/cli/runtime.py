"""What a command needs about its environment, resolved once per invocation.

Commands receive the global options through ``ctx.obj`` (a ``RootOptions``) and a per-command
``--state`` override; ``Runtime`` resolves settings lazily and opens the state store and catalog
only when a command asks for them, so that ``--help`` and simple commands stay fast.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from artenic_opt._internal.money import ExchangeRates
    from artenic_opt.catalog import Catalog
    from artenic_opt.config import Settings
    from artenic_opt.schemas import Offering
    from artenic_opt.state.store import StateStore


StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State database file (default: env ARTENIC_OPT_STATE, then the user data dir).",
        show_default=False,
        dir_okay=False,
    ),
]


@dataclass
class RootOptions:
    state: Path | None = None
    url: str | None = None
    profile: str | None = None
    timeout: float | None = None


@dataclass
class Runtime:
    """Lazily resolved settings, state store and catalog for one command."""

    options: RootOptions
    _settings: "Settings | None" = None
    _store: "StateStore | None" = None
    _catalog: "Catalog | None" = None
    _extras: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> "Settings":
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
        if self._store is None:
            from artenic_opt.state.store import open_state

            self._store = open_state(self.state_path, create=create)
        return self._store

    def has_state(self) -> bool:
        return self.state_path.exists()

    def rates(self) -> "ExchangeRates":
        from artenic_opt._internal.money import DEFAULT_RATES, ExchangeRates

        configured = self.settings.optimizer.exchange_rates
        if not configured:
            return DEFAULT_RATES
        return ExchangeRates({**DEFAULT_RATES.rates, **configured}, source="config file")

    def catalog(self) -> "Catalog":
        """The embedded catalog, overlaid with synced/imported rows and discounts."""
        if self._catalog is None:
            from artenic_opt.catalog import load_catalog

            extra: tuple[Offering, ...] = ()
            if self.has_state():
                from artenic_opt.state.catalog import list_overlay_offerings

                extra = tuple(list_overlay_offerings(self.store()))
            self._catalog = load_catalog(
                extra=extra, discounts=self.settings.optimizer.discounts or None
            )
        return self._catalog

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def get_runtime(ctx: typer.Context, state: Path | None = None) -> Runtime:
    """The runtime of this invocation; a command-level ``--state`` wins over the global one."""
    root = ctx.find_root()
    options = root.obj if isinstance(root.obj, RootOptions) else RootOptions()
    if state is not None:
        options = RootOptions(
            state=state, url=options.url, profile=options.profile, timeout=options.timeout
        )
    runtime = Runtime(options)
    ctx.call_on_close(runtime.close)
    return runtime
