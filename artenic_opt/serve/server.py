"""Running the app under uvicorn: one process, or ``--workers N`` processes.

Decisions:

* SIGTERM and SIGINT are uvicorn's: it stops accepting connections, lets requests in flight
  finish (up to ``graceful_timeout_s``), then runs the app's shutdown, which waits for a running
  retrain and checkpoints the WAL into the state file before closing it.
* With ``workers > 1`` uvicorn spawns processes that import ``app_from_env``; the options travel
  in ``ARTENIC_OPT_SERVE_OPTIONS`` (without the key, which each worker re-reads). All workers
  share the one state file through SQLite WAL, and the retrain lock keeps model versions single.
* Logs go to stderr through ``logging``; uvicorn's access log holds method, path and status,
  never headers, so the key is never written anywhere.
"""

from __future__ import annotations

import logging
import os
import sys

from artenic_opt.serve.options import OPTIONS_ENV, ServeOptions


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    logger = logging.getLogger("artenic_opt")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def run(options: ServeOptions, api_key: str | None) -> None:
    """Serve until SIGTERM/SIGINT; returns after a graceful shutdown."""
    import uvicorn

    _configure_logging()
    log = logging.getLogger("artenic_opt.serve")
    log.info(
        "serving the optimizer API on http://%s:%d (%d worker%s, authentication %s)",
        options.host,
        options.port,
        options.workers,
        "" if options.workers == 1 else "s",
        "on" if api_key else "off (loopback only)",
    )
    common = {
        "host": options.host,
        "port": options.port,
        "timeout_graceful_shutdown": int(options.graceful_timeout_s),
        "access_log": options.access_log,
        "log_level": "info",
        "server_header": False,
        "proxy_headers": False,
    }
    if options.workers == 1:
        from artenic_opt.serve.app import create_app

        uvicorn.run(create_app(options, api_key), **common)  # type: ignore[arg-type]
        return
    os.environ[OPTIONS_ENV] = options.to_env()
    uvicorn.run(
        "artenic_opt.serve.app:app_from_env",
        factory=True,
        workers=options.workers,
        **common,  # type: ignore[arg-type]
    )
