"""The CLI's side of the workspace: the ``--state`` option and one ``Workspace`` per command.

Commands receive the global options through ``ctx.obj`` (a ``WorkspaceOptions``) and a
per-command ``--state`` override; ``get_workspace`` builds the typer-free ``Workspace`` that the
services take, and closes it when the command ends.
"""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from artenic_opt.workspace import Workspace

StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State database file (default: env ARTENIC_OPT_STATE, then the user data dir).",
        show_default=False,
        dir_okay=False,
    ),
]


#: Commands that only read the state: they work on a state they cannot write (DESIGN §3).
READ_COMMANDS = frozenset(
    {
        "status",
        "history",
        "metrics",
        "evaluate",
        "dashboard",
        "catalog list",
        "catalog gpus",
        "catalog imports",
        "cost compare",
        "cost summary",
        "cost savings",
        "cost spot",
        "storage recommendations",
    }
)


def command_name(ctx: typer.Context) -> str:
    """``"catalog list"`` for ``artenic-opt catalog list`` (also under ``artenic optimizer``)."""
    names: list[str] = []
    current: Any = ctx
    while current is not None and current.parent is not None:
        names.append(current.info_name or "")
        current = current.parent
    names.reverse()
    if names[:1] == ["optimizer"]:
        names = names[1:]
    return " ".join(names)


def get_workspace(
    ctx: typer.Context, state: Path | None = None, *, read_only: bool = False
) -> "Workspace":
    """The workspace of this invocation; a command-level ``--state`` wins over the global one.

    Read commands (``READ_COMMANDS``) get a reader workspace, which opens a state it cannot
    write read-only instead of failing.
    """
    from artenic_opt.workspace import Workspace, WorkspaceOptions  # not needed by --help

    # The nearest context holding the global options: the root of ``artenic-opt``, but the
    # ``optimizer`` group (not the root) under ``artenic``.
    found = ctx.find_object(WorkspaceOptions)
    options = found if found is not None else WorkspaceOptions()
    if state is not None:
        options = replace(options, state=state)
    reader = command_name(ctx) in READ_COMMANDS
    workspace = Workspace(options, read_only=read_only, reader=reader)
    ctx.call_on_close(workspace.close)
    return workspace
