"""``storage analyze | recommendations | import-access``: formats, tiers and money saved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, emit, fmt_money, info, json_mode, make_table, warn
from artenic_opt.cli.runtime import StateOpt, get_workspace

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


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _payback(months: float | None) -> str:
    if months is None:
        return "-"
    return "now" if months == 0 else f"{months:.1f} mo"


def _advice_rows(advices: list[StorageAdvice]) -> list[tuple[object, ...]]:
    return [
        (
            a.dataset_id,
            _size(a.size_bytes),
            f"{a.current_format.value} -> {a.recommended_format.value}",
            f"{a.current_tier.value} -> {a.recommended_tier.value}",
            fmt_money(a.monthly_cost_now, a.currency),
            fmt_money(a.monthly_cost_after, a.currency),
            fmt_money(a.monthly_savings, a.currency),
            fmt_money(a.one_time_cost, a.currency),
            _payback(a.payback_months),
            a.evidence.format_figures.value,
        )
        for a in advices
    ]


_COLUMNS: list[str | tuple[str, str]] = [
    "dataset",
    ("size", "right"),
    "format",
    "tier",
    ("now/mo", "right"),
    ("after/mo", "right"),
    ("saves/mo", "right"),
    ("one-time", "right"),
    ("payback", "right"),
    "figures",
]


@storage_app.command("analyze")
def analyze(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A dataset id from the state, or a local path.")],
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
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
            provider=provider or runtime.settings.optimizer.storage_provider,
            region=region,
            on_progress=on_progress,
        )
    for problem in result.problems:
        warn(f"{problem.path}: {problem.message}")
    advice = result.advice
    for message in advice.warnings:
        warn(message)

    def render(out: Console) -> None:
        out.print(
            make_table(
                f"Storage advice for {advice.dataset_name}", _COLUMNS, _advice_rows([advice])
            )
        )
        for reason in advice.reasons:
            out.print(f"- {reason}")
        out.print(
            f"[dim]access: {advice.evidence.access.value}"
            + (" (weak: file times)" if advice.evidence.weak_access_evidence else "")
            + f"; format figures {advice.evidence.format_figures.value}"
            + ("; current tier assumed" if advice.evidence.tier_assumed else "")
            + "[/dim]"
        )

    emit(result, render)


@storage_app.command("recommendations")
def recommendations(
    ctx: typer.Context,
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Advice for every known dataset (synced or analysed before), biggest savings first."""
    from artenic_opt.services.storage import storage_recommendations

    runtime = get_workspace(ctx, state)
    advices = storage_recommendations(
        runtime.store(),
        runtime.catalog(),
        provider=provider or runtime.settings.optimizer.storage_provider,
        region=region,
    )

    def render(out: Console) -> None:
        if not advices:
            out.print(
                "No datasets yet: run `sync` to fetch platform datasets, or "
                "`storage analyze PATH` for a local folder."
            )
            return
        total = sum(a.monthly_savings for a in advices if a.monthly_savings > 0)
        currency = advices[0].currency
        out.print(
            make_table(
                f"{len(advices)} datasets, {fmt_money(total, currency)} a month to save",
                _COLUMNS,
                _advice_rows(advices),
            )
        )

    emit(advices, render)


@storage_app.command("import-access")
def import_access(
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
        warn(f"{file}:{error.line}: {error.message}")

    def render(_out: Console) -> None:
        info(
            f"read {result.events_read} events for {len(result.datasets)} datasets; "
            f"{result.events_added} new; {result.already_present} already present; "
            f"{len(result.errors)} bad lines"
        )

    emit(result, render)
