"""``dashboard``: the optimizer page in the terminal (Textual), read-only.

Textual is imported inside the command body only, so that ``--help`` and every other command
start without it. ``--demo`` builds a throwaway simulated state in a temporary directory (deleted
on exit), so the dashboard shows all five views on a fresh machine; it never touches the user's
state. ``--json`` prints the data behind every view as one document instead of opening the UI,
for scripts and for checking that the dashboard shows the same numbers as the other commands.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, emit, json_mode
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard_command)


def _require_terminal() -> None:
    """The dashboard draws on a terminal and reads keys from one; without it, it never ends."""
    import sys

    missing = [
        name
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout))
        if stream is None or not stream.isatty()
    ]
    if missing:
        raise InvalidInputError(
            f"dashboard: {' and '.join(missing)} is not a terminal; run it in a terminal, "
            "or use --json for the data behind every view"
        )


def dashboard_command(
    ctx: typer.Context,
    state: StateOpt = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Show a simulated history built in a temporary directory (deleted on exit); "
            "the real state is not touched.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Open the terminal dashboard: overview, recommendations, providers, storage, cost trends.

    Read-only; needs a terminal (use --json in scripts). Keys: 1-5 switch views, r refreshes,
    / filters a table, enter opens a recommendation, t switches the light and dark theme, ?
    lists every key, q quits.
    """
    from artenic_opt.tui.data import DashboardData, StateDashboardData
    from artenic_opt.tui.demo_setup import open_demo_data

    if demo and state is not None:
        raise InvalidInputError(
            "--demo: builds its own throwaway state, so it cannot be combined with --state"
        )
    workspace = get_workspace(ctx, state, read_only=True)
    if not demo:
        # A state that cannot be read (not a state, newer schema, unreadable) is a one-line
        # error and exit 2 like in every command, before the UI takes the terminal: drawn in
        # the UI, the error vanished with it and the command exited 0. A missing state is fine
        # (empty views); opening is read-only and the views reuse this store.
        workspace.existing_store()

    def open_data() -> DashboardData:
        if demo:
            return open_demo_data()
        return StateDashboardData(workspace)

    if json or json_mode():
        from artenic_opt.tui.data import dashboard_snapshot

        data = open_data()
        try:
            snapshot = dashboard_snapshot(data)
        finally:
            data.close()

        def render(out: "Console") -> None:  # pragma: no cover - --json always prints JSON
            out.print_json(snapshot.model_dump_json())

        emit(snapshot, render)
        return

    _require_terminal()
    from artenic_opt.tui.app import DashboardApp

    app = DashboardApp(open_data)
    app.run()
    # Textual has already printed the traceback of a crash; never exit 0 after one.
    if app.return_code:
        raise typer.Exit(app.return_code)
