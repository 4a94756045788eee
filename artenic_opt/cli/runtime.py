"""The CLI's side of the workspace: the ``--state`` option and one ``Workspace`` per command.

Commands receive the global options through ``ctx.obj`` (a ``WorkspaceOptions``) and a
per-command ``--state`` override; ``get_workspace`` builds the typer-free ``Workspace`` that the
services take, and closes it when the command ends.
"""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from artenic_opt.workspace import Workspace, WorkspaceOptions

StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="State database file (default: env ARTENIC_OPT_STATE, then the user data dir).",
        show_default=False,
        dir_okay=False,
    ),
]


def get_workspace(
    ctx: typer.Context, state: Path | None = None, *, read_only: bool = False
) -> Workspace:
    """The workspace of this invocation; a command-level ``--state`` wins over the global one."""
    root = ctx.find_root()
    options = root.obj if isinstance(root.obj, WorkspaceOptions) else WorkspaceOptions()
    if state is not None:
        options = replace(options, state=state)
    workspace = Workspace(options, read_only=read_only)
    ctx.call_on_close(workspace.close)
    return workspace
