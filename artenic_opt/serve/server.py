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

import copy
import inspect
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from artenic_opt.serve.options import OPTIONS_ENV, ServeOptions


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    logger = logging.getLogger("artenic_opt")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _log_config(base: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging with the access log on stderr too (its default is stdout, which
    ``serve --json`` keeps for its one document), without colours."""
    config = copy.deepcopy(base)
    for handler in config.get("handlers", {}).values():
        handler["stream"] = "ext://sys.stderr"
    for formatter in config.get("formatters", {}).values():
        formatter["use_colors"] = False
    return config


def _ignore_signal(signum: int, frame: object) -> None:
    """Handler in place while uvicorn is not serving: the stop was already handled."""


def run(
    options: ServeOptions, api_key: str | None, on_listening: Callable[[int], None] | None = None
) -> None:
    """Serve until SIGTERM/SIGINT; returns after a graceful shutdown.

    The socket is bound before the server starts, so ``--port 0`` works and ``on_listening``
    receives the real port.
    """
    import uvicorn

    _configure_logging()
    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "timeout_graceful_shutdown": int(options.graceful_timeout_s),
        "access_log": options.access_log,
        "log_config": _log_config(uvicorn.config.LOGGING_CONFIG),
        "log_level": "info",
        "server_header": False,
        "proxy_headers": False,
    }
    if options.workers == 1:
        from artenic_opt.serve.app import create_app

        config = uvicorn.Config(create_app(options, api_key), **common)
    else:
        os.environ[OPTIONS_ENV] = options.to_env()
        config = uvicorn.Config(
            "artenic_opt.serve.app:app_from_env", factory=True, workers=options.workers, **common
        )
    sock = config.bind_socket()
    # Listening now, so a client told the port may connect at once (it waits in the backlog
    # until the app has started).
    sock.listen(config.backlog)
    port = int(sock.getsockname()[1])
    logging.getLogger("artenic_opt.serve").info(
        "serving the optimizer API on http://%s:%d (%d worker%s, authentication %s)",
        options.host,
        port,
        options.workers,
        "" if options.workers == 1 else "s",
        "on" if api_key else "off (loopback only)",
    )
    if on_listening is not None:
        on_listening(port)
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has shut down, so that the default
    # action kills the process; after a graceful shutdown ``serve`` exits 0 instead.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _ignore_signal)
    if options.workers == 1:
        server.run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    # uvicorn 0.29-0.3x takes the worker target, newer versions build it themselves.
    extra = {"target": server.run} if "target" in inspect.signature(Multiprocess).parameters else {}
    Multiprocess(config, sockets=[sock], **extra).run()
