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

Command modules do not use ``from __future__ import annotations``: Typer reads each command's
signature three times while building the tree (``inspect.signature(eval_str=True)`` and
``get_type_hints``), and string annotations are evaluated afresh every time, building every
``typer.Option`` again; evaluated once at import, the tree of ``--help`` builds in about 60% of
the time. Names imported only for type checking are quoted there (a test pins this).
"""

import atexit
import gc
import importlib
import os
import sys
import threading
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from artenic_opt import __version__
from artenic_opt.cli.errors import MappedGroup
from artenic_opt.cli.output import JsonOpt

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
        typer.Option(
            "--timeout",
            min=0.001,
            max=86_400,
            help="Platform request timeout in seconds (ARTENIC_TIMEOUT).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Show the version and exit.", callback=_version),
    ] = False,
    json: JsonOpt = False,
) -> None:
    from artenic_opt.workspace import WorkspaceOptions  # only when a command runs

    ctx.obj = WorkspaceOptions(state=state, url=url, profile=profile, timeout=timeout)


#: The command modules, in help order, with the top-level names each registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "training": (
        "recommend",
        "history",
        "feedback",
        "retrain",
        "metrics",
        "evaluate",
    ),
    "suggest": ("suggest",),
    "catalog": ("catalog",),
    "storage": ("storage",),
    "platform": ("sync", "dispatch"),
    "cost": ("cost",),
    "demo": ("demo",),
    "dashboard": ("dashboard",),
    "serve": ("serve",),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}

#: Options of ``root`` that take a value (everything else before the command is a flag).
ROOT_VALUE_OPTIONS = frozenset({"--state", "--url", "--profile", "--timeout"})
#: Flags of ``root`` that may come before the command (``artenic-opt --json status``).
ROOT_FLAGS = frozenset({"--json"})


def build_app(modules: Iterable[str] | None = None, *, command: str | None = None) -> typer.Typer:
    """The ``artenic-opt`` tree with the given command modules (default: all of them).

    With ``command`` (the name the command line runs), only that top-level command or group of
    its module is kept: Typer turns every registered function into a Click command before
    running one, and ``recommend`` would otherwise pay for ``history``, ``feedback`` & co.
    """
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
    if command is not None:
        commands = [c for c in app.registered_commands if c.name == command]
        groups = [g for g in app.registered_groups if g.name == command]
        if commands or groups:  # else keep the module whole (Click reports the name)
            app.registered_commands, app.registered_groups = commands, groups
    return app


def build_artenic_app(
    modules: Iterable[str] | None = None, *, command: str | None = None
) -> typer.Typer:
    """The ``artenic`` tree: its ``optimizer`` group is ``build_app(modules, command=...)``."""
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
    artenic_app.add_typer(build_app(modules, command=command), name="optimizer", help=HELP)
    return artenic_app


def modules_for(args: Sequence[str], prog_name: str = "artenic-opt") -> list[str] | None:
    """The one command module ``args`` (after the program name) runs, or ``None`` for all."""
    command = command_for(args, prog_name)
    return None if command is None else [_MODULE_OF[command]]


def command_for(args: Sequence[str], prog_name: str = "artenic-opt") -> str | None:
    """The top-level command ``args`` (after the program name) runs, or ``None`` (whole tree)."""
    if f"_{prog_name.replace('-', '_')}_COMPLETE".upper() in os.environ:
        return None  # shell completion: Click walks the whole tree
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in _MODULE_OF else None
        if arg in ROOT_VALUE_OPTIONS:
            index += 1  # skip the option's value
        elif arg in ROOT_FLAGS:
            pass
        elif arg.split("=", 1)[0] not in ROOT_VALUE_OPTIONS:
            return None  # --help, --version, completion flags or an unknown option
        index += 1
    return None


#: Allocations between two young garbage collections in a command process (CPython: 700).
GC_YOUNG_THRESHOLD = 100_000


#: ``PYDANTIC_DISABLE_PLUGINS`` values for which pydantic loads no plugin at all.
NO_PYDANTIC_PLUGINS = ("__all__", "1", "true")
#: The pydantic module that finds plugins through package entry points.
PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_pydantic_plugins() -> tuple[()]:
    return ()


def _real_loader_attribute(name: str) -> object:
    """A name of the loader the stand-in does not have (a newer pydantic may ask for one):
    load pydantic's real loader in its place and answer from it, so that the stand-in can
    only save work, never break a pydantic release."""
    if name.startswith("__"):
        raise AttributeError(name)
    sys.modules.pop(PYDANTIC_PLUGIN_LOADER, None)
    return getattr(importlib.import_module(PYDANTIC_PLUGIN_LOADER), name)


def _skip_pydantic_plugin_loader() -> None:
    """With pydantic plugins off, stand in for the module that would look for them.

    Pydantic imports ``pydantic.plugin._loader`` when it builds its first validator, and that
    module imports ``importlib.metadata`` (with ``email``, ``socket``, ``zipfile`` and more)
    only to find entry points, which it does not look at once plugins are disabled: its
    ``get_plugins`` then returns nothing. This module has that ``get_plugins`` and nothing to
    import (``recommend`` runs about 2.5% fewer instructions). Pydantic imports no other name of
    the loader (a test reads its source to check); should a later release ask for one, the
    stand-in loads the real loader and answers from it. Plugins switched on by the user (any
    other ``PYDANTIC_DISABLE_PLUGINS``) keep the real loader.
    """
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in NO_PYDANTIC_PLUGINS:
        return
    if PYDANTIC_PLUGIN_LOADER in sys.modules:
        return
    loader = types.ModuleType(PYDANTIC_PLUGIN_LOADER, _skip_pydantic_plugin_loader.__doc__)
    vars(loader)["get_plugins"] = _no_pydantic_plugins
    vars(loader)["__getattr__"] = _real_loader_attribute
    sys.modules[PYDANTIC_PLUGIN_LOADER] = loader


def _prepare_process() -> None:
    """Process-wide settings of a command run (not of library use).

    Pydantic plugins are observability hooks found through package entry points; a one-shot
    command has nothing for them to observe, and finding them reads the metadata of every
    installed distribution (about 15 ms, paid by every command). Typer switches them off the
    same way while it builds its parameter adapters. A ``PYDANTIC_DISABLE_PLUGINS`` set by the
    user, even to an empty string (all plugins on), is kept.

    OpenBLAS (numpy's linear algebra library) starts a worker thread per core when numpy loads,
    and the workers spin while they wait for work. artenic-opt does no BLAS work (no matrix
    products, no ``numpy.linalg``): ``OPENBLAS_NUM_THREADS`` is 1 unless the user set it, which
    starts none (about 1% of ``recommend``'s instructions, and a core left to other processes).

    The cyclic garbage collector runs a young collection every ``GC_YOUNG_THRESHOLD``
    allocations instead of CPython's 700. Start-up allocates mostly objects that live as long
    as the process (modules, classes, functions, pydantic schemas), which the collector
    otherwise traverses again and again: ``recommend`` runs about 2% fewer instructions
    (valgrind callgrind, 1340M -> 1311M). Garbage cycles are still collected, in batches of up
    to that many young objects, which is all a long-running ``serve`` or ``dashboard`` holds
    on top of what it uses.

    Standard output and error write what they cannot encode as escapes (``\\u65e5``) instead of
    failing: under ``PYTHONIOENCODING=ascii`` or a Latin-1 terminal, a workload named in
    another script made the table, stored advice already written, end in an internal error.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            reconfigure(errors="backslashreplace")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _skip_pydantic_plugin_loader()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _threshold, *older = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *older)


def exit_status(code: object) -> int:
    """The status ``sys.exit(code)`` gives the process (a message means 1, printed on stderr)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def end_process(exc: SystemExit) -> NoReturn:
    """End the process with ``exc``'s status, skipping the interpreter's finalization.

    Tearing down the interpreter (clearing every module, freeing numpy's, pydantic's and
    typer's objects one by one) took about 80 ms after every command here, a fifth of
    ``recommend``'s run time, to release memory the operating system takes back anyway. The
    command has finished when this runs: the state store is closed (its WAL checkpointed), so
    nothing is lost. ``atexit`` handlers still run (logging, temporary directories, coverage),
    then stdout and stderr are flushed. If another non-daemon thread is alive, or the
    interpreter lacks ``atexit._run_exitfuncs``, the ordinary exit runs instead.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others or not hasattr(atexit, "_run_exitfuncs"):
        raise exc
    status = exit_status(exc.code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        # The reader went away (``| head``) or the stream is closed: exit as Click does then.
        status = status or 1
    os._exit(status)


def _run(app: typer.Typer, prog_name: str) -> NoReturn:
    try:
        app(prog_name=prog_name)
    except SystemExit as exc:
        end_process(exc)
    end_process(SystemExit(0))  # pragma: no cover - standalone Click always raises SystemExit


def main() -> None:
    """Console script ``artenic-opt``; ends the process."""
    _prepare_process()
    args = sys.argv[1:]
    _run(build_app(modules_for(args), command=command_for(args)), "artenic-opt")


def artenic_main() -> None:
    """Console script ``artenic`` (its ``optimizer`` group is this package); ends the process."""
    _prepare_process()
    args = sys.argv[1:]
    command = command_for(args[1:], "artenic") if args[:1] == ["optimizer"] else None
    modules = None if command is None else [_MODULE_OF[command]]
    _run(build_artenic_app(modules, command=command), "artenic")


if __name__ == "__main__":  # pragma: no cover
    main()
