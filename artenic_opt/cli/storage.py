"""``storage analyze | recommendations | import-access``: formats, tiers and money saved."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, emit, info, json_mode, warn
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import Col, WideOpt, draw, line
from artenic_opt.presentation import format as fmt

if TYPE_CHECKING:
    from rich.console import Console

    from artenic_opt.schemas import StorageAdvice

storage_app = typer.Typer(
    help="Storage optimizer: format advice (CSV/JSON -> Parquet), hot/warm/cold tiering, savings.",
    no_args_is_help=True,
)

ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Storage provider whose tier prices apply (default: storage_provider setting, AWS).",
    ),
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Storage region.")]


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")


def _change(before: str, after: str) -> str:
    return before if before == after else f"{before} -> {after}"


_COLUMNS: "list[Col[StorageAdvice]]" = [
    Col("dataset", lambda a: a.dataset_id, min_width=10),
    Col("size", lambda a: fmt.size(a.size_bytes), justify="right"),
    Col(
        "format",
        lambda a: _change(a.current_format.value, a.recommended_format.value),
        min_width=8,
    ),
    Col("tier", lambda a: _change(a.current_tier.value, a.recommended_tier.value), min_width=8),
    Col("saves/mo", lambda a: fmt.money(a.monthly_savings, a.currency), justify="right"),
    Col("payback", lambda a: fmt.months(a.payback_months), priority=1, justify="right"),
    Col("now/mo", lambda a: fmt.money(a.monthly_cost_now, a.currency), priority=2, justify="right"),
    Col(
        "after/mo",
        lambda a: fmt.money(a.monthly_cost_after, a.currency),
        priority=2,
        justify="right",
    ),
    Col("one-time", lambda a: fmt.money(a.one_time_cost, a.currency), priority=3, justify="right"),
    Col("figures", lambda a: a.evidence.format_figures.value, priority=4),
]


@storage_app.command("analyze")
def storage_analyze_command(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A dataset id from the state, or a local path.")],
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Analyse one dataset: usage, format advice (measured on disk when possible), tier, savings.

    A directory is scanned read-only; files that cannot be read are reported and skipped.
    """
    from rich.progress import Progress

    from artenic_opt.services.storage import analyze_target

    runtime = get_workspace(ctx, state)
    store = runtime.store()
    from rich.console import Console

    with Progress(console=Console(stderr=True), transient=True, disable=json_mode()) as progress:
        task = progress.add_task("scanning", total=None)

        def on_progress(done: int, total: int, path: str) -> None:
            progress.update(task, completed=done, total=total, description=f"scanning {path}")

        result = analyze_target(
            store,
            runtime.catalog(),
            target,
            provider=runtime.settings.optimizer.storage_provider if provider is None else provider,
            region=region,
            on_progress=on_progress,
        )
    # Paths may hold line breaks: ``clean`` keeps each warning on one line.
    for problem in result.problems:
        warn(fmt.clean(f"{problem.path}: {problem.message}"))
    advice = result.advice
    for message in advice.warnings:
        warn(fmt.clean(message))

    def render(out: "Console") -> None:
        draw(out, f"Storage advice for {advice.dataset_name}", _COLUMNS, [advice])
        for reason in advice.reasons:
            line(out, f"- {reason}")
        line(
            out,
            f"access: {advice.evidence.access.value}"
            + (" (weak: file times)" if advice.evidence.weak_access_evidence else "")
            + f"; format figures {advice.evidence.format_figures.value}"
            + ("; current tier assumed" if advice.evidence.tier_assumed else ""),
            style="dim",
        )

    emit(result, render)


@storage_app.command("recommendations")
def storage_recommendations_command(
    ctx: typer.Context,
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Advice for every known dataset (synced or analysed before), biggest savings first."""
    from artenic_opt.services.storage import storage_recommendations

    runtime = get_workspace(ctx, state)
    advices = storage_recommendations(
        runtime.store(),
        runtime.catalog(),
        provider=runtime.settings.optimizer.storage_provider if provider is None else provider,
        region=region,
    )

    def render(out: "Console") -> None:
        if not advices:
            line(
                out,
                "No datasets yet: run `sync` to fetch platform datasets, or "
                "`storage analyze PATH` for a local folder.",
            )
            return
        total = sum(a.monthly_savings for a in advices if a.monthly_savings > 0)
        currency = advices[0].currency
        draw(
            out,
            f"{len(advices)} datasets, {fmt.money(total, currency)} a month to save",
            _COLUMNS,
            advices,
        )

    emit(advices, render)


@storage_app.command("import-access")
def storage_import_access_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="JSONL or CSV with columns timestamp, dataset, operation.")
    ],
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Store dataset access events (the platform records none); bad lines are reported."""
    from artenic_opt.services.storage import import_access_file

    runtime = get_workspace(ctx, state)
    result = import_access_file(runtime.store(), file)
    for error in result.errors:
        warn(fmt.clean(f"{file}:{error.line}: {error.message}"))

    def render(_out: "Console") -> None:
        info(
            f"read {result.events_read} events for {len(result.datasets)} datasets; "
            f"{result.events_added} new; {result.already_present} already present; "
            f"{len(result.errors)} bad lines"
        )

    emit(result, render)
