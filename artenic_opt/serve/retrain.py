"""The background retrain worker: one thread per retrain, one retrain at a time.

``POST /retrain`` starts a job and answers at once (202) with its document; while it runs,
``status`` reports ``retrain_running`` and reads keep being served (LightGBM trains outside any
database transaction and releases the GIL). A second request while a job runs gets that same
job back. Across processes (``--workers``, or a CLI ``retrain`` beside the server) the retrain
lock in ``services.training.retrain`` makes the later one return untrained, so two retrains
started together always give one model version. Each request passes the newest model version
recorded when it arrived (``known_version``): one that only reaches the lock after a retrain
running at its arrival has finished gets that retrain's model, untrained, instead of a second
version (a worker process can take longer to start its job than another takes to train).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from artenic_opt.errors import ArtenicOptError
from artenic_opt.schemas import RetrainResult
from artenic_opt.workspace import Workspace

log = logging.getLogger("artenic_opt.serve")

#: Finished jobs kept for the requests still waiting on them (a new job may already run).
_KEEP_FINISHED = 16


class RetrainJob(BaseModel):
    """A retrain started by the server; ``result`` is the document ``retrain --json`` prints."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    state: Literal["running", "succeeded", "failed"]
    force: bool
    started_at: datetime
    finished_at: datetime | None = None
    result: RetrainResult | None = None
    error: str | None = None


class RetrainWorker:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._finished: OrderedDict[str, RetrainJob] = OrderedDict()
        self._job: RetrainJob | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._done.set()

    def current(self) -> RetrainJob | None:
        with self._lock:
            return self._job

    def start(self, *, force: bool, known_version: int | None = None) -> tuple[RetrainJob, bool]:
        """Start a retrain unless one runs; return the job and whether this call started it.

        ``known_version``: the newest model version recorded when the request arrived (see
        ``services.training.retrain``); ``None`` skips that check.
        """
        with self._lock:
            if self._job is not None and self._job.state == "running":
                return self._job, False
            job = RetrainJob(
                job_id=secrets.token_hex(8),
                state="running",
                force=force,
                started_at=datetime.now(UTC),
            )
            self._job = job
            self._done.clear()
            self._thread = threading.Thread(
                target=self._run, args=(job, known_version), name="artenic-retrain", daemon=True
            )
            self._thread.start()
            return job, True

    def wait(self, job_id: str, timeout_s: float | None = None) -> RetrainJob | None:
        """The job ``job_id`` once it has finished (as it is at the timeout otherwise); ``None``
        for a job this worker does not know. Another job started meanwhile does not count."""
        with self._settled:
            self._settled.wait_for(
                lambda: job_id in self._finished or self._job is None or self._job.job_id != job_id,
                timeout_s,
            )
            if job_id in self._finished:
                return self._finished[job_id]
            return self._job if self._job is not None and self._job.job_id == job_id else None

    def join(self, timeout_s: float) -> bool:
        """Wait for a running job; ``True`` when none is left running."""
        return self._done.wait(timeout_s)

    def _run(self, job: RetrainJob, known_version: int | None) -> None:
        from artenic_opt.services.training import retrain

        update: dict[str, object]
        # The server's connection, shared with the request threads: the retrain holds it only
        # while it reads the samples and records the version, never while LightGBM trains.
        # (A second connection would be opened through ``open_state``, whose header check
        # opens and closes the file, which drops this process's POSIX locks on it.)
        ws = self._workspace
        try:
            result = retrain(ws.store(), ws.settings, force=job.force, known_version=known_version)
            update = {"state": "succeeded", "result": result}
        except ArtenicOptError as exc:
            update = {"state": "failed", "error": exc.message}
        except Exception as exc:  # the worker thread must always settle its job
            log.exception("retrain %s failed", job.job_id)
            update = {"state": "failed", "error": f"internal error ({type(exc).__name__})"}
        update["finished_at"] = datetime.now(UTC)
        with self._settled:
            self._job = settled = job.model_copy(update=update)
            self._finished[job.job_id] = settled
            while len(self._finished) > _KEEP_FINISHED:
                self._finished.popitem(last=False)
            self._done.set()
            self._settled.notify_all()
