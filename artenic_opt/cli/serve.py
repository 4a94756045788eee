"""``serve``: the optimizer's HTTP API on the same state (optional extra ``[serve]``)."""

from pathlib import Path
from typing import Annotated

import typer

from artenic_opt.cli.output import JsonOpt, print_json
from artenic_opt.cli.runtime import StateOpt, get_workspace
from artenic_opt.serve import route_table

INSTALL_HINT = "serve needs the optional server packages: pip install 'artenic-opt[serve]'"


def register(app: typer.Typer) -> None:
    app.command("serve", help=_HELP)(serve_command)


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (beyond loopback needs a key).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: any free port).")] = 8765,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes.")] = 1,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            "--api-key-file",
            help="File holding the Bearer key (mode 600); default: env ARTENIC_API_KEY.",
            dir_okay=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Allow this browser origin (repeatable); CORS is off by default.",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Largest request body accepted.")
    ] = 1024 * 1024,
    data_root: Annotated[
        Path | None,
        typer.Option(
            "--data-root",
            help="Let storage/analyze scan local paths under this folder "
            "(default: dataset ids only).",
            file_okay=False,
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log each request on stderr.")
    ] = True,
    state: StateOpt = None,
    json: JsonOpt = False,
) -> None:
    from artenic_opt.serve.options import ServeOptions, check_options

    workspace = get_workspace(ctx, state)
    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        api_key_file=str(api_key_file) if api_key_file else None,
        state=str(workspace.state_path.absolute()),
        max_body_bytes=max_body_bytes,
        cors_origins=tuple(cors_origin or ()),
        data_root=str(data_root.resolve()) if data_root else None,
        access_log=access_log,
    )
    key = check_options(options)
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        from artenic_opt.errors import InvalidInputError

        raise InvalidInputError(INSTALL_HINT) from None
    from artenic_opt.serve import ROUTES
    from artenic_opt.serve.server import run

    def on_listening(port: int) -> None:
        if json:
            print_json(
                {
                    "url": f"http://{_url_host(host)}:{port}",
                    "host": host,
                    "port": port,
                    "workers": workers,
                    "authentication": key is not None,
                    "state": options.state,
                    "routes": [{"method": m, "path": p, "what": w} for m, p, w in ROUTES],
                }
            )

    run(options, key, on_listening)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


_HELP = (
    "Serve the optimizer's HTTP API: the same services and JSON documents as the commands' "
    "--json, on the same state.\n\n"
    "Bearer authentication with the platform's key scheme (ARTENIC_API_KEY or "
    "--api-key-file); without a key only loopback addresses are allowed. Errors are "
    '{"detail": ...} with 400/401/404/409/413/422/503. SIGTERM finishes requests in flight, '
    "then checkpoints the state. With --json, one document (URL, port, routes) is printed on "
    "stdout once listening. Needs the optional extra: pip install 'artenic-opt[serve]'.\n\n"
    "\b\n" + route_table()
)
