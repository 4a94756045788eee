"""``catalog list | gpus | import | imports | remove``: browse and extend the price catalog."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from artenic_opt.cli.output import JsonOpt, emit, info
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.cli.tables import Col, WideOpt, draw
from artenic_opt.presentation import format as fmt

if TYPE_CHECKING:
    from rich.console import Console

catalog_app = typer.Typer(
    help="Browse the price catalog (embedded list prices plus synced and imported rows).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


_OFFERING_COLUMNS: list[Col[Any]] = [
    Col("provider", lambda o: o.provider, min_width=6),
    Col("instance", lambda o: o.instance_type, min_width=10),
    Col("GPUs", lambda o: fmt.gpus(o.gpu_count, o.gpu_type, o.gpu_memory_gb), min_width=9),
    Col("on-demand/h", lambda o: fmt.money(o.price_per_hour, o.currency), justify="right"),
    Col(
        "spot/h",
        lambda o: fmt.money(o.spot_price_per_hour, o.currency),
        priority=1,
        justify="right",
    ),
    Col("region", lambda o: o.region, priority=2, min_width=8),
    Col("vCPU", lambda o: o.vcpus or fmt.DASH, priority=3, justify="right"),
    Col(
        "RAM GB",
        lambda o: f"{o.memory_gb:g}" if o.memory_gb else fmt.DASH,
        priority=3,
        justify="right",
    ),
    Col("price date", lambda o: o.price_date.isoformat(), priority=4),
]

_GPU_COLUMNS: list[Col[Any]] = [
    Col("GPU", lambda r: r.gpu_type, min_width=6),
    Col("count", lambda r: r.gpu_count, justify="right"),
    Col("provider", lambda r: r.provider, min_width=6),
    Col("cheapest instance", lambda r: r.instance_type, min_width=10),
    Col(
        "on-demand/GPU-h",
        lambda r: fmt.money(r.on_demand_per_gpu_hour, r.currency),
        justify="right",
    ),
    Col(
        "spot/GPU-h",
        lambda r: fmt.money(r.spot_per_gpu_hour, r.currency),
        priority=1,
        justify="right",
    ),
    Col("GB/GPU", lambda r: f"{r.gpu_memory_gb:g}", priority=2, justify="right"),
    Col("region", lambda r: r.region, priority=3, min_width=8),
]


@catalog_app.command("list")
def catalog_list_command(
    ctx: typer.Context,
    gpu: Annotated[
        str | None,
        typer.Option("--gpu", help="GPU type or family, e.g. H100 (all H100s), A100-80GB."),
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
    wide: WideOpt = False,
) -> None:
    """List offerings, cheapest on-demand price first."""
    from artenic_opt.services.queries import catalog_offerings

    workspace = get_workspace(ctx, state)
    rows = catalog_offerings(
        workspace.catalog(),
        workspace.rates(),
        gpu=gpu,
        provider=provider,
        region=region,
        min_gpu_memory_gb=min_gpu_memory,
        spot_only=spot,
        limit=limit,
    )

    def render(out: "Console") -> None:
        draw(out, f"{len(rows)} offerings", _OFFERING_COLUMNS, rows)

    emit(rows, render)


@catalog_app.command("gpus")
def catalog_gpus_command(
    ctx: typer.Context,
    gpu: Annotated[str | None, typer.Option("--gpu", help="Only this GPU type.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.")] = None,
    state: StateOpt = None,
    json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Cheapest price per GPU-hour by GPU type, count and provider (like `sky show-gpus`)."""
    from artenic_opt.services.queries import gpu_prices

    workspace = get_workspace(ctx, state)
    rows = gpu_prices(workspace.catalog(), workspace.rates(), gpu=gpu, provider=provider)

    def render(out: "Console") -> None:
        draw(out, "Cheapest price per GPU-hour", _GPU_COLUMNS, rows)

    emit(rows, render)


@catalog_app.command("import")
def catalog_import_command(
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

    workspace = get_workspace(ctx, state)
    result = import_catalog_file(workspace.store(), workspace.catalog(), workspace.rates(), file)

    def render(_out: "Console") -> None:
        kept = f"; kept {result.spot_prices_kept} spot prices" if result.spot_prices_kept else ""
        info(
            f"imported {result.offerings} offerings from {file} ({result.changed} new or "
            f"changed, {result.already_present} already present{kept})"
        )

    emit(result, render)


@catalog_app.command("imports")
def catalog_imports_command(
    ctx: typer.Context,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the files imported with `catalog import`: rows, rows still held, when."""
    from artenic_opt.services.catalog import list_catalog_imports

    rows = list_catalog_imports(get_workspace(ctx, state).existing_store())

    def render(out: "Console") -> None:
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
def catalog_remove_command(
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

    result = remove_from_catalog(get_workspace(ctx, state).store(create=False), file=file, key=key)

    def render(_out: "Console") -> None:
        what = result.file if result.file is not None else result.key
        info(f"removed {result.offerings_removed} offerings ({what})")

    emit(result, render)
