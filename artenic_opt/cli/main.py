"""Entry points: ``artenic-opt <command>``, ``artenic optimizer <command>``, ``python -m``.

Command modules import only typer, rich and pydantic at module level; everything heavier
(numpy-backed catalog, LightGBM, scikit-learn, Textual, httpx) loads inside the command that
needs it, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from artenic_opt import __version__
from artenic_opt.cli import catalog as catalog_cmd
from artenic_opt.cli import cost as cost_cmd
from artenic_opt.cli import dashboard as dashboard_cmd
from artenic_opt.cli import demo as demo_cmd
from artenic_opt.cli import platform as platform_cmd
from artenic_opt.cli import status as status_cmd
from artenic_opt.cli import storage as storage_cmd
from artenic_opt.cli import training as training_cmd
from artenic_opt.cli.errors import MappedGroup
from artenic_opt.cli.runtime import RootOptions

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 unexpected internal error; 2 bad usage or invalid input; "
    "3 platform unreachable, timed out or refused authentication; "
    "4 no feasible result (nothing satisfies the constraints)."
)

HELP = (
    "Artenic Optimizer: where to train and store ML workloads, and what it will cost.\n\n"
    "Ranks every cloud offering for a training workload (fit, time, whole-job cost), learns "
    "from job outcomes, advises on storage formats and tiers, and analyses spending. Works "
    "offline from an embedded price catalog; syncs with the Artenic platform when one is "
    "configured (ARTENIC_URL, ARTENIC_API_KEY).\n\n" + EXIT_CODES_HELP
)

app = typer.Typer(
    name="artenic-opt",
    cls=MappedGroup,
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"artenic-opt {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="State database file (default: env ARTENIC_OPT_STATE, then the user data dir).",
            dir_okay=False,
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Platform base URL (overrides ARTENIC_URL and the profile)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Profile of ~/.artenic/config.toml (ARTENIC_PROFILE)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Platform request timeout in seconds (ARTENIC_TIMEOUT)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_version),
    ] = False,
) -> None:
    ctx.obj = RootOptions(state=state, url=url, profile=profile, timeout=timeout)


status_cmd.register(app)
training_cmd.register(app)
catalog_cmd.register(app)
storage_cmd.register(app)
platform_cmd.register(app)
cost_cmd.register(app)
demo_cmd.register(app)
dashboard_cmd.register(app)

artenic_app = typer.Typer(
    name="artenic",
    cls=MappedGroup,
    help="Artenic command line (optimizer commands). " + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
artenic_app.add_typer(app, name="optimizer", help=HELP)


def main() -> None:
    """Console script ``artenic-opt``."""
    app(prog_name="artenic-opt")


def artenic_main() -> None:
    """Console script ``artenic`` (its ``optimizer`` group is this package)."""
    artenic_app(prog_name="artenic")


if __name__ == "__main__":  # pragma: no cover
    main()
