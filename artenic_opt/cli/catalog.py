"""``catalog list | gpus | import | imports | remove``: browse and extend the price catalog."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from artenic_opt.cli.output import JsonOpt, describe_gpus, emit, fmt_money, info, make_table
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.errors import InfeasibleError

if TYPE_CHECKING:
    from rich.console import Console

catalog_app = typer.Typer(
    help="Browse the price catalog (embedded list prices plus synced and imported rows).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


@catalog_app.command("list")
def list_offerings(
    ctx: typer.Context,
    gpu: Annotated[
        str | None, typer.Option("--gpu", help="GPU type, e.g. H100, A100-80GB.")
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Provider name.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Region name.")] = None,
    min_gpu_memory: Annotated[
        float | None,
        typer.Option("--min-gpu-memory", min=0, max=10_000, help="Minimum memory per GPU in GB."),
    ] = None,
    spot: Annotated[bool, typer.Option("--spot", help="Only offerings sold as spot.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=1_000_000, help="Show at most N rows.")
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """List offerings, cheapest on-demand price first."""
    from artenic_opt.catalog import filter_offerings, normalize_gpu_type

    runtime = get_workspace(ctx, state)
    catalog = runtime.catalog()
    gpu_type = normalize_gpu_type(gpu) if gpu else None
    rows = filter_offerings(
        catalog,
        gpu=gpu_type,
        provider=provider,
        region=region,
        min_gpu_memory_gb=min_gpu_memory,
        spot_only=spot,
        rates=runtime.rates(),
    )
    if not rows:
        filters = {
            "--gpu": gpu_type,
            "--provider": provider,
            "--region": region,
            "--min-gpu-memory": min_gpu_memory,
            "--spot": True if spot else None,
        }
        given = ", ".join(f"{k} {v}" for k, v in filters.items() if v is not None)
        raise InfeasibleError(f"no offering matches {given}")
    if limit is not None:
        rows = rows[:limit]

    def render(out: Console) -> None:
        table = make_table(
            f"{len(rows)} offerings",
            [
                "provider",
                "region",
                "instance",
                "GPUs",
                ("vCPU", "right"),
                ("RAM GB", "right"),
                ("on-demand/h", "right"),
                ("spot/h", "right"),
                "price date",
            ],
            (
                (
                    o.provider,
                    o.region,
                    o.instance_type,
                    describe_gpus(o.gpu_count, o.gpu_type, o.gpu_memory_gb),
                    o.vcpus or "-",
                    f"{o.memory_gb:g}" if o.memory_gb else "-",
                    fmt_money(o.price_per_hour, o.currency),
                    fmt_money(o.spot_price_per_hour, o.currency),
                    o.price_date.isoformat(),
                )
                for o in rows
            ),
        )
        out.print(table)

    emit(rows, render)


@catalog_app.command("gpus")
def list_gpus(
    ctx: typer.Context,
    gpu: Annotated[str | None, typer.Option("--gpu", help="Only this GPU type.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Cheapest price per GPU-hour by GPU type, count and provider (like `sky show-gpus`)."""
    from artenic_opt.catalog import gpu_price_summary, normalize_gpu_type

    runtime = get_workspace(ctx, state)
    catalog = runtime.catalog()
    rows = gpu_price_summary(
        catalog,
        gpu=normalize_gpu_type(gpu) if gpu else None,
        provider=provider,
        rates=runtime.rates(),
    )

    def render(out: Console) -> None:
        table = make_table(
            "Cheapest price per GPU-hour",
            [
                "GPU",
                ("count", "right"),
                ("GB/GPU", "right"),
                "provider",
                "cheapest instance",
                "region",
                ("on-demand/GPU-h", "right"),
                ("spot/GPU-h", "right"),
            ],
            (
                (
                    r.gpu_type,
                    r.gpu_count,
                    f"{r.gpu_memory_gb:g}",
                    r.provider,
                    r.instance_type,
                    r.region,
                    fmt_money(r.on_demand_per_gpu_hour, r.currency),
                    fmt_money(r.spot_per_gpu_hour, r.currency),
                )
                for r in rows
            ),
        )
        out.print(table)

    emit(rows, render)


@catalog_app.command("import")
def import_offerings(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="CSV or JSON file of offerings (Offering fields as columns/keys)."),
    ],
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add or override offerings (on-premises machines, negotiated prices).

    Rows with the same provider, region and instance type replace catalog rows; a row without a
    spot price keeps the one its key already has. The whole file is validated first (including
    its currencies against the known exchange rates): a bad row is reported with its line number
    and nothing is imported. Importing the same file again changes nothing and says so.
    """
    from artenic_opt.services.catalog import import_catalog_file

    result = import_catalog_file(get_workspace(ctx, state), file)

    def render(_out: Console) -> None:
        kept = f"; kept {result.spot_prices_kept} spot prices" if result.spot_prices_kept else ""
        info(
            f"imported {result.offerings} offerings from {file} ({result.changed} new or "
            f"changed, {result.already_present} already present{kept})"
        )

    emit(result, render)


@catalog_app.command("imports")
def list_imports(
    ctx: typer.Context,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the files imported with `catalog import`: rows, rows still held, when."""
    from artenic_opt.services.catalog import list_catalog_imports

    rows = list_catalog_imports(get_workspace(ctx, state))

    def render(out: Console) -> None:
        if not rows:
            info("no catalog imports yet (catalog import FILE)")
            return
        from rich.table import Table
        from rich.text import Text

        # File names are data: drawn as Text, never read as markup.
        table = Table(title=f"{len(rows)} catalog imports", header_style="bold")
        table.add_column("file", overflow="fold")
        table.add_column("rows", justify="right", no_wrap=True)
        table.add_column("held", justify="right", no_wrap=True)
        table.add_column("imported at", no_wrap=True)
        for r in rows:
            table.add_row(
                Text(r.file),
                str(r.rows),
                str(r.offerings_held),
                r.imported_at.isoformat(timespec="seconds"),
            )
        out.print(table)

    emit(rows, render)


@catalog_app.command("remove")
def remove_offerings(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Option("--file", help="Remove what this imported file brought (path or name)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="Remove one imported or synced offering: provider/region/instance."
        ),
    ] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """Remove imported offerings, by source file or by key; embedded rows show through again."""
    from artenic_opt.services.catalog import remove_from_catalog

    result = remove_from_catalog(get_workspace(ctx, state), file=file, key=key)

    def render(_out: Console) -> None:
        what = result.file if result.file is not None else result.key
        info(f"removed {result.offerings_removed} offerings ({what})")

    emit(result, render)
