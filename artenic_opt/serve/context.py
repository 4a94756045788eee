"""What one server process keeps between requests: the workspace, cached advisors, the worker.

Decisions:

* One ``Workspace`` per process: one SQLite connection in WAL mode (``StateStore`` serialises
  threads on it; write transactions are short), the catalog loaded once. Catalog rows imported or
  synced while the server runs are seen after a restart.
* Advisors are cached by (mode, active model version and checksum, provider reliability): a
  request pays two small queries to build the key, and a LightGBM model is loaded only when a
  new version becomes active.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from artenic_opt.serve.options import ServeOptions
from artenic_opt.serve.retrain import RetrainWorker
from artenic_opt.workspace import Workspace, WorkspaceOptions

if TYPE_CHECKING:
    from artenic_opt.training_advisor.advisor import TrainingAdvisor
    from artenic_opt.types import OptimizerMode

log = logging.getLogger("artenic_opt.serve")

_MAX_ADVISORS = 8


@dataclass
class ServerContext:
    options: ServeOptions
    api_key: str | None
    workspace: Workspace
    retrainer: RetrainWorker
    _advisors: dict[Hashable, TrainingAdvisor] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, options: ServeOptions, api_key: str | None) -> ServerContext:
        workspace = Workspace(
            WorkspaceOptions(state=Path(options.state) if options.state else None)
        )
        return cls(
            options=options,
            api_key=api_key,
            workspace=workspace,
            retrainer=RetrainWorker(workspace),
        )

    def warm(self) -> None:
        """Open the state and load the catalog before the first request."""
        store = self.workspace.store()
        # WAL with synchronous=NORMAL: commits skip the fsync (the WAL is synced at each
        # checkpoint); a power cut may lose the last commits but never corrupts the file
        # (https://www.sqlite.org/pragma.html#pragma_synchronous). Per connection: the CLI
        # keeps SQLite's default FULL.
        store.scalar("PRAGMA synchronous = NORMAL")
        self.workspace.catalog()

    def advisor(self, mode: OptimizerMode | None) -> TrainingAdvisor:
        from artenic_opt.services.training import make_advisor, provider_reliability
        from artenic_opt.state import active_model

        ws = self.workspace
        store = ws.store()
        info = active_model(store)
        reliability = provider_reliability(store)
        key = (
            mode or ws.settings.optimizer.mode,
            None if info is None else (info.version, info.sha256),
            tuple(sorted(reliability.items())),
        )
        with self._lock:
            cached = self._advisors.get(key)
        if cached is not None:
            return cached
        advisor = make_advisor(
            store, ws.catalog(), ws.settings, ws.rates(), mode=mode, warn=log.warning
        )
        with self._lock:
            if len(self._advisors) >= _MAX_ADVISORS:
                self._advisors.clear()
            self._advisors[key] = advisor
        return advisor

    def shutdown(self, timeout_s: float) -> None:
        """Let a running retrain finish, checkpoint the WAL into the state file and close it."""
        finished = self.retrainer.join(timeout_s)
        if not finished:
            log.warning("retrain still running after %.0f s; leaving it to finish", timeout_s)
            return
        store = self.workspace.existing_store()
        if store is not None:
            # Folds the WAL into the state file, so a copy of the file alone is complete.
            busy = store.scalar("PRAGMA wal_checkpoint(TRUNCATE)")
            if busy:
                log.warning("WAL checkpoint incomplete: another process holds the state")
        self.workspace.close()
