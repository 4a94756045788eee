"""``status``: where the state lives, what is in it, and what the advisor will do."""

from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, emit, warn
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import draw_pairs
from artenic_opt.presentation import format as fmt

if TYPE_CHECKING:
    from rich.console import Console


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)


def status_command(
    ctx: typer.Context,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe/--no-probe",
            help="Ask the platform whether it answers (only when one is configured).",
        ),
    ] = True,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show state path, schema version, catalog size and price dates, mode, model and platform."""
    from artenic_opt.status import build_status

    runtime = get_workspace(ctx, state)
    result = build_status(runtime, probe_platform=probe)
    for message in result.warnings:
        warn(message)

    def render(out: "Console") -> None:
        model = result.model
        rows: list[tuple[str, str]] = [
            ("version", result.version),
            ("state", result.state_path),
            ("schema version", str(result.schema_version)),
            ("mode", f"{result.mode.value} (effective: {result.effective_mode.value})"),
            ("display currency", result.display_currency),
            (
                "catalog",
                f"{result.catalog_offerings} offerings, {result.catalog_providers} providers, "
                f"{result.catalog_gpu_types} GPU types",
            ),
            (
                "price dates",
                f"{result.catalog_price_date_oldest} .. {result.catalog_price_date_newest}",
            ),
            ("recommendations", str(result.recommendations)),
            ("outcomes", str(result.outcomes)),
            ("training samples", str(result.training_samples)),
            (
                "model",
                (
                    f"v{model.version}, {model.sample_count} samples, trained "
                    f"{model.trained_at:%Y-%m-%d %H:%M}, NDCG@5 "
                    f"{fmt.ratio(model.metrics.ndcg_at_5 if model.metrics else None)}"
                )
                if model
                else "none (heuristic ranking)",
            ),
            *([("retrain", "running")] if result.retrain_running else []),
            (
                "platform",
                f"{result.platform_url} ("
                + ("configured" if result.platform_configured else "not configured")
                + (
                    ""
                    if result.platform_reachable is None
                    else (", answering" if result.platform_reachable else ", NOT answering")
                )
                + ")",
            ),
            (
                "last sync",
                f"{result.last_sync_at:%Y-%m-%d %H:%M} ({result.data_age_hours:.1f} h ago)"
                if result.last_sync_at and result.data_age_hours is not None
                else "never",
            ),
            (
                "platform data",
                f"{result.platform_jobs} jobs, {result.datasets} datasets, "
                f"{result.budgets} budgets",
            ),
        ]
        draw_pairs(out, "artenic-opt status", rows)

    emit(result, render)
