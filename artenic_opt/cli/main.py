"""Entry points: ``artenic-opt <command>``, ``artenic optimizer <command>``, ``python -m``.

Command modules import only typer, rich and pydantic at module level; everything heavier
(numpy-backed catalog, LightGBM, scikit-learn, Textual, httpx) loads inside the command that
needs it, so ``--help`` stays fast.

The tree is built per invocation (``build_app``). When the command line names a command, only the
module defining it is imported and registered: Typer turns every registered function into a Click
command (signature inspection, one pydantic adapter per parameter) before running anything, and
doing that for all 22 commands cost more than ranking the whole catalog. Anything else (no
command, ``--help``, ``--version``, an unknown name, shell completion) gets the whole tree, so
help, suggestions and completion see every command.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from artenic_opt import __version__
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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"artenic-opt {__version__}")
        raise typer.Exit(0)


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


#: The command modules, in help order, with the top-level names each registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "training": ("recommend", "history", "feedback", "retrain", "metrics", "evaluate"),
    "catalog": ("catalog",),
    "storage": ("storage",),
    "platform": ("sync", "dispatch"),
    "cost": ("cost",),
    "demo": ("demo",),
    "dashboard": ("dashboard",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}

#: Options of ``root`` that take a value (everything else before the command is a flag).
ROOT_VALUE_OPTIONS = frozenset({"--state", "--url", "--profile", "--timeout"})


def build_app(modules: Iterable[str] | None = None) -> typer.Typer:
    """The ``artenic-opt`` tree with the given command modules (default: all of them)."""
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
    app.callback()(root)
    for module in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(f"artenic_opt.cli.{module}").register(app)
    return app


def build_artenic_app(modules: Iterable[str] | None = None) -> typer.Typer:
    """The ``artenic`` tree: its ``optimizer`` group is ``build_app(modules)``."""
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
    artenic_app.add_typer(build_app(modules), name="optimizer", help=HELP)
    return artenic_app


def modules_for(args: Sequence[str], prog_name: str = "artenic-opt") -> list[str] | None:
    """The one command module ``args`` (after the program name) runs, or ``None`` for all."""
    if f"_{prog_name.replace('-', '_')}_COMPLETE".upper() in os.environ:
        return None  # shell completion: Click walks the whole tree
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return None
        if not arg.startswith("-"):
            module = _MODULE_OF.get(arg)
            return None if module is None else [module]
        if arg in ROOT_VALUE_OPTIONS:
            index += 1  # skip the option's value
        elif arg.split("=", 1)[0] not in ROOT_VALUE_OPTIONS:
            return None  # --help, --version, completion flags or an unknown option
        index += 1
    return None


def main() -> None:
    """Console script ``artenic-opt``."""
    build_app(modules_for(sys.argv[1:]))(prog_name="artenic-opt")


def artenic_main() -> None:
    """Console script ``artenic`` (its ``optimizer`` group is this package)."""
    args = sys.argv[1:]
    modules = modules_for(args[1:], "artenic") if args[:1] == ["optimizer"] else None
    build_artenic_app(modules)(prog_name="artenic")


if __name__ == "__main__":  # pragma: no cover
    main()
