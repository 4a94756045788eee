"""A fake Artenic platform gateway (0.7.0) for tests: a real HTTP server on 127.0.0.1.

It implements the endpoints the optimizer uses, with the contract's quirks (``platform-api.md``):
Bearer auth when a key is set (401 body without ``details``), the 307 on ``/api/v1/providers``,
bare JSON arrays, offset/limit paging (422 outside 1..500 for jobs, silent clamping for
datasets), newest-first ordering, naive SQLite-style timestamps, 500 for an unknown job id or a
rejected dispatch, a job list that never refreshes status, and a single-job GET that "polls the
provider" and completes a running job once the test has said how it ended (``finish_job``).

Fault injection (``fail``, ``rate_limit``, ``delay``, ``malformed``, ``truncate``, ``die_after``)
lets tests break any path a given number of times. State is plain dicts and lists that tests
mutate directly or through the ``add_*`` helpers; every request is recorded in ``requests``.

Only the standard library is used (``http.server.ThreadingHTTPServer``). The data is this
project's own, shaped like the captures of a real gateway.
"""

from __future__ import annotations

import gzip
import hmac
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PROVIDER_IDS = ("ovh", "infomaniak", "scaleway", "vastai", "aws", "gcp", "azure")
PROVIDER_NAMES = {
    "ovh": ("OVH Public Cloud", "openstack"),
    "infomaniak": ("Infomaniak Public Cloud", "openstack"),
    "scaleway": ("Scaleway", "scaleway"),
    "vastai": ("Vast.ai", "vastai"),
    "aws": ("Amazon Web Services", "aws"),
    "gcp": ("Google Cloud Platform", "gcp"),
    "azure": ("Microsoft Azure", "azure"),
}
EXEMPT_PATHS = frozenset(
    {"/health", "/health/ready", "/health/live", "/docs", "/openapi.json", "/"}
)

#: The built-in ``mock`` training provider's instances: (on-demand EUR/h, spot EUR/h or None).
MOCK_INSTANCES: dict[str, tuple[float, float | None]] = {
    "mock-cpu-small": (0.01, None),
    "mock-cpu-large": (0.05, None),
    "mock-gpu-a100": (2.5, 0.75),
}
_WINDOW_DAYS = {"daily": 1, "weekly": 7, "monthly": 30}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def compute_row(
    provider_id: str,
    name: str,
    price: float | None,
    *,
    vcpus: int = 8,
    memory_gb: float = 32.0,
    disk_gb: float = 0.0,
    gpu_type: str | None = None,
    gpu_count: int = 0,
    currency: str = "EUR",
    region: str = "",
) -> dict[str, Any]:
    """A ``CatalogComputeFlavor`` row."""
    return {
        "provider_id": provider_id,
        "name": name,
        "vcpus": vcpus,
        "memory_gb": memory_gb,
        "disk_gb": disk_gb,
        "gpu_type": gpu_type,
        "gpu_count": gpu_count,
        "price_per_hour": price,
        "currency": currency,
        "region": region,
        "category": "gpu" if gpu_count or gpu_type else "general",
    }


def storage_row(
    provider_id: str, name: str, price: float | None, *, currency: str = "EUR", region: str = ""
) -> dict[str, Any]:
    """A ``CatalogStorageTier`` row."""
    return {
        "provider_id": provider_id,
        "name": name,
        "type": "object_storage",
        "price_per_gb_month": price,
        "currency": currency,
        "region": region,
        "description": "",
    }


def default_compute_rows() -> list[dict[str, Any]]:
    """A small catalog across providers, with the documented quirks on purpose."""
    return [
        compute_row("ovh", "l4-90", 1.0, vcpus=22, memory_gb=90.0, gpu_type="L4", gpu_count=1),
        compute_row("infomaniak", "a2-ram4-disk50-perf1", 0.0164, vcpus=2, memory_gb=4.0),
        compute_row("infomaniak", "a8-ram16-disk200-perf1", 0.0706, vcpus=8, memory_gb=16.0),
        compute_row("scaleway", "GP1-S", 0.11, vcpus=8, memory_gb=32.0),
        compute_row(
            "scaleway", "RENDER-S", 1.0, vcpus=10, memory_gb=45.0, gpu_type="P100", gpu_count=1
        ),
        compute_row(
            "vastai",
            "RTX 4090 x2",
            0.74,
            vcpus=32,
            memory_gb=125.8,
            gpu_type="RTX 4090",
            gpu_count=2,
            currency="USD",
            region="Spain, ES",
        ),
        compute_row(
            "vastai",
            "RTX 4090 x2",
            0.69,
            vcpus=16,
            memory_gb=64.0,
            gpu_type="RTX 4090",
            gpu_count=2,
            currency="USD",
            region="Spain, ES",
        ),
        compute_row(
            "aws",
            "p4d.24xlarge",
            32.7726,
            vcpus=96,
            memory_gb=1152.0,
            gpu_type="A100",
            gpu_count=1,
            currency="USD",
            region="EU (Ireland)",
        ),
        compute_row("gcp", "n2-standard-8", 0.3885, vcpus=8, memory_gb=30.0, currency="USD"),
        compute_row("azure", "Standard_D4s_v5", None, vcpus=4, memory_gb=0.0, currency="USD"),
    ]


def default_storage_rows() -> list[dict[str, Any]]:
    return [
        storage_row("infomaniak", "Object Storage \u2014 Standard", 0.01),
        storage_row("scaleway", "Object Storage \u2014 Standard", 0.012),
        storage_row("scaleway", "Object Storage \u2014 Glacier", 0.0025),
    ]


def naive(ts: datetime) -> str:
    """SQLite-style timestamp: naive, no offset, no fraction (as the platform emits them)."""
    return ts.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


@dataclass
class Fault:
    """A rule that breaks matching requests, ``times`` times (``None`` = forever)."""

    kind: str
    path: str
    method: str | None = "GET"
    times: int | None = 1
    status: int = 500
    seconds: float = 0.0
    retry_after: int = 1
    body: bytes | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: ``send``; ``truncate`` (half the body, then hang up); ``drop`` (hang up, no answer);
    #: ``endless`` (a chunked body that never ends); ``trickle`` (one byte every ``seconds``).
    mode: str = "send"
    seconds: float = 0.0


class FakePlatform:
    """State and faults of the fake gateway; ``start()`` serves it on an ephemeral port."""

    def __init__(self, *, api_key: str = "") -> None:
        self.api_key = api_key
        self.db_up = True
        self.version = "0.7.0"
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.provider_results: dict[str, dict[str, Any]] = {}
        self.workload_specs: dict[str, Any] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.budgets: dict[int, dict[str, Any]] = {}
        self.alerts: dict[int, list[dict[str, Any]]] = {}
        self.compute_rows: list[dict[str, Any]] = default_compute_rows()
        self.storage_rows: list[dict[str, Any]] = default_storage_rows()
        self.failing_catalog_providers: set[str] = set()
        self.training_providers: set[str] = {"mock"}
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._die_after: int | None = None
        self._dead = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self._next_file_id = 1
        self._next_budget_id = 1
        self._next_alert_id = 1
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def start(self) -> FakePlatform:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._kill()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _kill(self) -> None:
        self._dead.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dead(self) -> bool:
        return self._dead.is_set()

    # ----------------------------------------------------------------------------------------
    # State helpers
    # ----------------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        job_id: str | None = None,
        service: str = "fraud-detection",
        model: str = "xgboost-v2",
        provider: str = "mock",
        config: dict[str, Any] | None = None,
        status: str = "running",
        instance_type: str | None = "mock-gpu-a100",
        region: str | None = None,
        is_spot: bool = False,
        created_at: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Store a job as the gateway would hold it; extra ``fields`` override anything."""
        with self._lock:
            created = created_at or self.clock()
            rate = self._rate(instance_type, is_spot)
            job: dict[str, Any] = {
                "id": job_id or str(uuid.uuid4()),
                "service": service,
                "model": model,
                "provider": provider,
                "config": config if config is not None else {},
                "status": status,
                "metrics": None,
                "error": None,
                "provider_job_id": f"mock-{uuid.uuid4().hex[:8]}",
                "instance_type": instance_type,
                "region": region,
                "is_spot": is_spot,
                "cost_estimate_eur": None if rate is None else round(rate * 24.0, 6),
                "cost_actual_eur": None,
                "cost_per_hour_eur": rate,
                "duration_seconds": None,
                "artifacts_uri": None,
                "created_at": naive(created),
                "started_at": created.astimezone(UTC).replace(tzinfo=None).isoformat(),
                "completed_at": None,
            }
            job.update(fields)
            self.jobs[job["id"]] = job
            return job

    def finish_job(
        self,
        job_id: str,
        *,
        status: str = "completed",
        duration_seconds: float | None = 3600.0,
        cost_actual_eur: float | None = 2.5,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Say how the job ended at the provider; the next ``GET /training/{id}`` applies it."""
        with self._lock:
            if job_id not in self.jobs:
                raise KeyError(job_id)
            self.provider_results[job_id] = {
                "status": status,
                "duration_seconds": duration_seconds,
                "cost_actual_eur": cost_actual_eur,
                "metrics": metrics if metrics is not None else {"accuracy": 0.95, "loss": 0.05},
                "error": error,
            }

    def add_dataset(
        self,
        dataset_id: str,
        *,
        name: str | None = None,
        version: int = 1,
        fmt: str = "csv",
        status: str = "created",
        description: str = "",
        metadata: dict[str, Any] | None = None,
        created_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            when = created_at if created_at is not None else self.clock()
            dataset = {
                "id": dataset_id,
                "name": name or dataset_id.rsplit("_v", 1)[0],
                "version": version,
                "format": fmt,
                "description": description,
                "metadata": metadata if metadata is not None else {},
                "status": status,
                "total_size_bytes": 0,
                "created_at": when if isinstance(when, str) else naive(when),
            }
            self.datasets[dataset_id] = dataset
            self.files.setdefault(dataset_id, [])
            return dataset

    def add_file(
        self,
        dataset_id: str,
        path: str,
        *,
        size_bytes: int = 1024,
        num_records: int | None = None,
        sha256: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            record = {
                "id": self._next_file_id,
                "dataset_id": dataset_id,
                "path": path,
                "sha256": sha256 or uuid.uuid5(uuid.NAMESPACE_URL, f"{dataset_id}/{path}").hex * 2,
                "size_bytes": size_bytes,
                "num_records": num_records,
                "storage_path": f"{dataset_id}/{path}",
            }
            self._next_file_id += 1
            self.files.setdefault(dataset_id, []).append(record)
            self.datasets[dataset_id]["total_size_bytes"] = sum(
                f["size_bytes"] for f in self.files[dataset_id]
            )
            return record

    def add_budget(
        self,
        scope: str,
        scope_value: str,
        period: str = "monthly",
        limit_eur: float = 500.0,
        *,
        alert_threshold_pct: float = 80.0,
        enabled: bool = True,
    ) -> dict[str, Any]:
        with self._lock:
            budget: dict[str, Any] = {
                "id": self._next_budget_id,
                "scope": scope,
                "scope_value": scope_value,
                "period": period,
                "limit_eur": limit_eur,
                "alert_threshold_pct": alert_threshold_pct,
                "enabled": enabled,
                "created_at": naive(self.clock()),
            }
            self.budgets[budget["id"]] = budget
            self.alerts[budget["id"]] = []
            self._next_budget_id += 1
            return budget

    def add_alert(self, budget_id: int, pct_used: float, spent_eur: float) -> dict[str, Any]:
        with self._lock:
            budget = self.budgets[budget_id]
            alert = {
                "id": self._next_alert_id,
                "alert_type": "threshold_exceeded",
                "spent_eur": spent_eur,
                "limit_eur": budget["limit_eur"],
                "pct_used": pct_used,
                "message": f"{budget['scope']}/{budget['scope_value']} {budget['period']} budget "
                f"at {pct_used:.1f}%",
                "webhook_sent": False,
                "created_at": naive(self.clock()),
            }
            self._next_alert_id += 1
            self.alerts[budget_id].append(alert)
            return alert

    def seed(self) -> None:
        """A small but varied world: finished and running jobs, datasets, budgets."""
        now = self.clock()
        self.add_job(
            service="fraud-detection",
            status="completed",
            created_at=now - timedelta(hours=5),
            metrics={"accuracy": 0.93, "loss": 0.07},
            cost_actual_eur=4.2,
            duration_seconds=5400.0,
            completed_at=(now - timedelta(hours=3, minutes=30)).isoformat(),
        )
        self.add_job(
            service="sentiment",
            model="distilbert",
            status="failed",
            instance_type="mock-cpu-small",
            created_at=now - timedelta(hours=4),
            error="CUDA out of memory",
            cost_actual_eur=0.02,
            duration_seconds=600.0,
            completed_at=(now - timedelta(hours=3, minutes=50)).isoformat(),
        )
        self.add_job(service="sentiment", model="bert-large", created_at=now - timedelta(hours=1))
        self.add_dataset("reviews_v1", version=1, status="active", created_at=now - timedelta(2))
        self.add_file("reviews_v1", "reviews.csv", size_bytes=141, num_records=5)
        self.add_dataset("reviews_v2", version=2, created_at=now - timedelta(days=1))
        self.add_dataset("iris_v1", created_at="")
        self.add_file("iris_v1", "iris.csv", size_bytes=210, num_records=6)
        self.add_file("iris_v1", "extra.csv", size_bytes=8, num_records=1)
        self.add_budget("global", "*", "monthly", 500.0, alert_threshold_pct=75.0)
        self.add_budget("service", "sentiment", "weekly", 50.0)
        self.add_budget("provider", "mock", "daily", 10.0, enabled=False)

    # ----------------------------------------------------------------------------------------
    # Faults
    # ----------------------------------------------------------------------------------------

    def fail(
        self, path: str, status: int = 500, *, times: int | None = 1, method: str | None = "GET"
    ) -> Fault:
        """Answer ``status`` with a §1.7 error body."""
        return self._add_fault(Fault("status", path, method, times, status=status))

    def rate_limit(
        self, path: str, *, times: int = 1, retry_after: int = 1, method: str | None = "GET"
    ) -> Fault:
        """Answer 429 with ``Retry-After`` ``times`` times, then serve normally."""
        return self._add_fault(Fault("rate_limit", path, method, times, retry_after=retry_after))

    def delay(
        self, path: str, seconds: float, *, times: int | None = None, method: str | None = "GET"
    ) -> Fault:
        """Wait ``seconds`` before answering (longer than the client timeout = a timeout)."""
        return self._add_fault(Fault("delay", path, method, times, seconds=seconds))

    def malformed(
        self,
        path: str,
        *,
        body: bytes | None = None,
        times: int | None = 1,
        method: str | None = "GET",
    ) -> Fault:
        """Answer 200 with ``body``, or the real body cut in half (an honest Content-Length)."""
        return self._add_fault(Fault("malformed", path, method, times, body=body))

    def truncate(self, path: str, *, times: int | None = 1, method: str | None = "GET") -> Fault:
        """Promise the full Content-Length, send half of the body, then drop the connection."""
        return self._add_fault(Fault("truncate", path, method, times))

    def endless(self, path: str, *, times: int | None = 1, method: str | None = "GET") -> Fault:
        """Answer 200 with a chunked body of JSON whitespace that never ends."""
        return self._add_fault(Fault("endless", path, method, times))

    def trickle(
        self, path: str, seconds: float, *, times: int | None = 1, method: str | None = "GET"
    ) -> Fault:
        """Promise a 1 MB body, then send one byte every ``seconds`` (each read in time)."""
        return self._add_fault(Fault("trickle", path, method, times, seconds=seconds))

    def gzipped(
        self, path: str, body: bytes, *, times: int | None = 1, method: str | None = "GET"
    ) -> Fault:
        """Answer 200 with ``body`` gzip-compressed (``Content-Encoding: gzip``)."""
        return self._add_fault(Fault("gzipped", path, method, times, body=body))

    def die_after(self, requests: int) -> None:
        """Serve ``requests`` more requests, then drop the next one and shut down for good."""
        with self._lock:
            self._die_after = len(self.requests) + requests

    def reset_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self._die_after = None

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def count(self, path: str, method: str = "GET") -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path and r.method == method)

    # ----------------------------------------------------------------------------------------
    # Request handling
    # ----------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Response:
        """Answer one request, faults included."""
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = body
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        with self._lock:
            record = RecordedRequest(method, path, query, headers, payload)
            self.requests.append(record)
            if self._die_after is not None and len(self.requests) > self._die_after:
                threading.Thread(target=self._kill, daemon=True).start()
                return _Response(0, b"", mode="drop")
            fault = self._take_fault(method, path)
        if fault is not None and fault.kind == "delay":
            self._stopping.wait(fault.seconds)
            fault = None
        if fault is not None and fault.kind in ("status", "rate_limit"):
            # Rejected before the route runs, as the gateway's middleware does.
            response = self._apply_fault(fault, _Response(0, b""), request_id)
        else:
            response = self._respond(method, path, split.query, query, headers, payload, request_id)
            if fault is not None:
                response = self._apply_fault(fault, response, request_id)
        response.headers.setdefault("x-request-id", request_id)
        record.status = response.status
        if fault is not None and fault.kind in ("truncate", "endless", "trickle"):
            response.mode = fault.kind
            response.seconds = fault.seconds
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def _apply_fault(self, fault: Fault, response: _Response, request_id: str) -> _Response:
        if fault.kind == "status":
            return _error(fault.status, request_id)
        if fault.kind == "rate_limit":
            error = _error(429, request_id, retry_after=fault.retry_after)
            error.headers["Retry-After"] = str(fault.retry_after)
            return error
        if fault.kind == "malformed":
            body = (
                fault.body if fault.body is not None else response.body[: len(response.body) // 2]
            )
            return _Response(200, body, {"x-request-id": request_id})
        if fault.kind == "gzipped":
            packed = gzip.compress(fault.body or b"", compresslevel=9)
            return _Response(200, packed, {"x-request-id": request_id, "Content-Encoding": "gzip"})
        return response

    def _respond(
        self,
        method: str,
        path: str,
        raw_query: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        payload: Any,
        request_id: str,
    ) -> _Response:
        if path not in EXEMPT_PATHS and not path.startswith("/assets/") and self.api_key:
            auth = headers.get("authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), self.api_key.encode()
            ):
                return _json(
                    401,
                    {
                        "error": {
                            "code": "AUTHENTICATION_FAILED",
                            "message": "Invalid or missing API key.",
                            "request_id": request_id,
                        }
                    },
                )
        if path == "/api/v1/providers":
            suffix = f"?{raw_query}" if raw_query else ""
            return _Response(307, b"", {"location": f"{self.url}/api/v1/providers/{suffix}"})
        if path.endswith("/") and path not in ("/", "/api/v1/providers/"):
            suffix = f"?{raw_query}" if raw_query else ""
            return _Response(307, b"", {"location": f"{self.url}{path.rstrip('/')}{suffix}"})
        with self._lock:
            return self._route(method, path, query, payload, request_id)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        payload: Any,
        request_id: str,
    ) -> _Response:
        parts = path.strip("/").split("/")
        get = method == "GET"
        if path == "/health":
            return _only(get, request_id) or _json(200, {"status": "healthy"})
        if path == "/health/ready":
            if not get:
                return _error(405, request_id)
            if self.db_up:
                return _json(200, {"status": "ready", "database": "connected"})
            return _json(503, {"status": "not_ready", "database": "disconnected"})
        if path == "/health/detailed":
            db = "connected" if self.db_up else "disconnected"
            return _only(get, request_id) or _json(
                200 if self.db_up else 503,
                {
                    "status": "healthy" if self.db_up else "degraded",
                    "components": {"version": self.version, "database": db},
                },
            )
        if parts[:3] == ["api", "v1", "providers"]:
            return _only(get, request_id) or self._providers(parts[3:], query, request_id)
        if parts[:3] == ["api", "v1", "training"] and len(parts) >= 4:
            return self._training(method, parts[3:], query, payload, request_id)
        if parts[:3] == ["api", "v1", "datasets"]:
            return _only(get, request_id) or self._datasets(parts[3:], query, request_id)
        if parts[:3] == ["api", "v1", "budgets"]:
            return _only(get, request_id) or self._budgets(parts[3:], query, request_id)
        return _error(404, request_id, message="Not Found")

    # providers and catalog ----------------------------------------------------------------

    def _providers(
        self, rest: list[str], query: dict[str, list[str]], request_id: str
    ) -> _Response:
        if rest in ([], [""]):
            return _json(200, [self._provider_summary(pid) for pid in PROVIDER_IDS])
        gpu_only = _bool_param(query, "gpu_only", False)
        if gpu_only is None:
            return _validation(request_id, "query", "gpu_only", "bool_parsing", "not a boolean")
        if rest[0] == "catalog" and len(rest) == 2 and rest[1] in ("compute", "storage"):
            live = [p for p in PROVIDER_IDS if p not in self.failing_catalog_providers]
            return _json(200, self._catalog_rows(rest[1], live, gpu_only))
        pid = rest[0]
        if pid not in PROVIDER_IDS:
            return _error(404, request_id, message=f"Unknown provider: {pid}")
        if len(rest) == 1:
            return _json(200, self._provider_summary(pid))
        if rest[1] != "catalog" or len(rest) > 3:
            return _error(404, request_id, message="Not Found")
        if pid in self.failing_catalog_providers:
            return _error(500, request_id)
        if len(rest) == 2:
            return _json(
                200,
                {
                    "provider_id": pid,
                    "provider_name": PROVIDER_NAMES[pid][0],
                    "compute": self._catalog_rows("compute", [pid], False),
                    "storage": self._catalog_rows("storage", [pid], False),
                    "is_live": pid not in ("infomaniak",),
                    "cached": True,
                    "last_fetched_at": self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
            )
        if rest[2] not in ("compute", "storage"):
            return _error(404, request_id, message="Not Found")
        return _json(200, self._catalog_rows(rest[2], [pid], gpu_only))

    def _catalog_rows(self, kind: str, providers: list[str], gpu_only: bool) -> list[Any]:
        rows = self.compute_rows if kind == "compute" else self.storage_rows
        # The aggregate keeps the platform's fixed provider order (§1.5).
        ordered = [r for pid in providers for r in rows if r.get("provider_id") == pid]
        if kind == "compute" and gpu_only:
            ordered = [r for r in ordered if (r.get("gpu_count") or 0) > 0]
        return ordered

    @staticmethod
    def _provider_summary(pid: str) -> dict[str, Any]:
        display, connector = PROVIDER_NAMES[pid]
        return {
            "id": pid,
            "display_name": display,
            "description": "",
            "website": "https://example.invalid/",
            "connector_type": connector,
            "capabilities": [],
            "enabled": False,
            "status": "unconfigured",
            "status_message": "",
        }

    # training ------------------------------------------------------------------------------

    def _training(
        self,
        method: str,
        rest: list[str],
        query: dict[str, list[str]],
        payload: Any,
        request_id: str,
    ) -> _Response:
        if rest == ["jobs"]:
            return _only(method == "GET", request_id) or self._list_jobs(query, request_id)
        if rest == ["dispatch"]:
            if method != "POST":
                return _error(405, request_id)
            return self._dispatch(payload, request_id)
        job = self.jobs.get(rest[0])
        if len(rest) == 2 and rest[1] == "cancel":
            if method != "POST":
                return _error(405, request_id)
            if job is None or job["status"] not in ("pending", "running"):
                return _error(500, request_id)
            job["status"] = "cancelled"
            job["completed_at"] = self.clock().isoformat()
            return _json(200, dict(job))
        if len(rest) != 1:
            return _error(404, request_id, message="Not Found")
        if method != "GET":
            return _error(405, request_id)
        if job is None:
            return _error(500, request_id)
        result = self.provider_results.get(job["id"])
        if job["status"] == "running" and result is not None:
            job.update({k: result[k] for k in ("status", "metrics", "error")})
            if result["status"] in ("completed", "failed"):
                job["completed_at"] = self.clock().isoformat()
                job["cost_actual_eur"] = result["cost_actual_eur"]
                job["duration_seconds"] = result["duration_seconds"]
        return _json(200, dict(job))

    def _list_jobs(self, query: dict[str, list[str]], request_id: str) -> _Response:
        limit = _int_param(query, "limit", 50)
        offset = _int_param(query, "offset", 0)
        if limit is None or offset is None:
            name = "limit" if limit is None else "offset"
            return _validation(request_id, "query", name, "int_parsing", "not a valid integer")
        if not 1 <= limit <= 500:
            return _validation(
                request_id,
                "query",
                "limit",
                "greater_than_equal" if limit < 1 else "less_than_equal",
                "Input should be between 1 and 500",
            )
        if offset < 0:
            return _validation(
                request_id, "query", "offset", "greater_than_equal", "Input should be >= 0"
            )
        jobs = list(self.jobs.values())
        for name in ("service", "provider", "status"):
            if name in query:
                jobs = [j for j in jobs if j[name] == query[name][0]]
        jobs.sort(key=lambda j: j["created_at"] or "", reverse=True)
        return _json(200, [dict(j) for j in jobs[offset : offset + limit]])

    def _dispatch(self, payload: Any, request_id: str) -> _Response:
        if not isinstance(payload, dict):
            return _validation(request_id, "body", "", "model_attributes_type", "not an object")
        for name in ("service", "model", "provider"):
            if not isinstance(payload.get(name), str):
                return _validation(request_id, "body", name, "missing", "Field required")
        if payload["provider"] not in self.training_providers:
            return _error(500, request_id)
        instance = payload.get("instance_type")
        is_spot = bool(payload.get("is_spot", False))
        max_hours = float(payload.get("max_runtime_hours", 24.0))
        rate = self._rate(instance, is_spot)
        estimate = None if rate is None else rate * max_hours
        if estimate is not None and self._blocked(payload["service"], estimate):
            return _error(500, request_id)
        now = self.clock()
        job = self.add_job(
            service=payload["service"],
            model=payload["model"],
            provider=payload["provider"],
            config=payload.get("config") or {},
            status="running",
            instance_type=instance,
            region=payload.get("region"),
            is_spot=is_spot,
            created_at=now,
            cost_estimate_eur=estimate,
            cost_per_hour_eur=rate,
        )
        self.workload_specs[job["id"]] = payload.get("workload_spec")
        return _json(200, {"job_id": job["id"]})

    @staticmethod
    def _rate(instance: str | None, is_spot: bool) -> float | None:
        if instance is None or instance not in MOCK_INSTANCES:
            return None
        on_demand, spot = MOCK_INSTANCES[instance]
        return spot if is_spot and spot is not None else on_demand

    def _spent(self, scope: str, scope_value: str, period: str) -> float:
        since = self.clock() - timedelta(days=_WINDOW_DAYS.get(period, 30))
        total = 0.0
        for job in self.jobs.values():
            created = datetime.fromisoformat(job["created_at"])
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            if created < since:
                continue
            if scope == "service" and job["service"] != scope_value:
                continue
            if scope == "provider" and job["provider"] != scope_value:
                continue
            total += job["cost_actual_eur"] or 0.0
        return total

    def _blocked(self, service: str, estimate: float) -> bool:
        for budget in self.budgets.values():
            if (
                budget["enabled"]
                and budget["scope"] == "service"
                and budget["scope_value"] == (service)
            ):
                spent = self._spent("service", service, budget["period"])
                if spent + estimate > budget["limit_eur"]:
                    return True
        return False

    # datasets ------------------------------------------------------------------------------

    def _datasets(self, rest: list[str], query: dict[str, list[str]], request_id: str) -> _Response:
        if not rest:
            limit = _int_param(query, "limit", 50)
            offset = _int_param(query, "offset", 0)
            if limit is None or offset is None:
                name = "limit" if limit is None else "offset"
                return _validation(request_id, "query", name, "int_parsing", "not an integer")
            limit, offset = min(max(limit, 1), 500), max(offset, 0)
            rows = list(self.datasets.values())
            for name in ("status", "name"):
                if name in query:
                    rows = [d for d in rows if d[name] == query[name][0]]
            rows.sort(key=lambda d: d["created_at"] or "", reverse=True)
            return _json(200, rows[offset : offset + limit])
        dataset = self.datasets.get(rest[0])
        if dataset is None:
            return _error(404, request_id, message="Dataset not found")
        if len(rest) == 1:
            return _json(200, dataset)
        files = sorted(self.files.get(rest[0], []), key=lambda f: f["path"])
        if rest[1:] == ["files"]:
            return _json(200, files)
        if rest[1:] == ["stats"]:
            breakdown: dict[str, int] = {}
            for f in files:
                ext = f["path"].rsplit(".", 1)[1].lower() if "." in f["path"] else "unknown"
                breakdown[ext] = breakdown.get(ext, 0) + 1
            stats: dict[str, Any] = {
                "total_size_bytes": dataset["total_size_bytes"],
                "total_files": len(files),
                "format_breakdown": breakdown,
            }
            records = sum(f["num_records"] or 0 for f in files)
            if dataset["format"] in ("csv", "json", "jsonl") and records > 0:
                stats["num_records"] = records
            return _json(200, stats)
        return _error(404, request_id, message="Not Found")

    # budgets -------------------------------------------------------------------------------

    def _budgets(self, rest: list[str], query: dict[str, list[str]], request_id: str) -> _Response:
        if not rest:
            enabled_only = _bool_param(query, "enabled_only", True)
            if enabled_only is None:
                return _validation(
                    request_id, "query", "enabled_only", "bool_parsing", "not a boolean"
                )
            rows = list(self.budgets.values())
            if "scope" in query:
                rows = [b for b in rows if b["scope"] == query["scope"][0]]
            if enabled_only:
                rows = [b for b in rows if b["enabled"]]
            rows.sort(key=lambda b: (b["created_at"], b["id"]), reverse=True)
            return _json(200, rows)
        if rest == ["spending"]:
            for name in ("scope", "scope_value"):
                if name not in query:
                    return _validation(request_id, "query", name, "missing", "Field required")
            scope, value = query["scope"][0], query["scope_value"][0]
            out = []
            for budget in self.budgets.values():
                if not budget["enabled"] or (budget["scope"], budget["scope_value"]) != (
                    scope,
                    value,
                ):
                    continue
                spent = self._spent(scope, value, budget["period"])
                out.append(
                    {
                        "scope": scope,
                        "scope_value": value,
                        "period": budget["period"],
                        "spent_eur": spent,
                        "limit_eur": budget["limit_eur"],
                        "pct_used": spent / budget["limit_eur"] * 100.0,
                        "alerts": list(reversed(self.alerts.get(budget["id"], [])))[:5],
                    }
                )
            return _json(200, out)
        return _error(405, request_id)


# --------------------------------------------------------------------------------------------
# Response helpers
# --------------------------------------------------------------------------------------------


def _json(status: int, body: Any) -> _Response:
    return _Response(status, json.dumps(body).encode(), {"content-type": "application/json"})


_ERROR_TEXT = {
    404: ("HTTP_ERROR", "Not Found"),
    405: ("HTTP_ERROR", "Method Not Allowed"),
    429: ("RATE_LIMIT_EXCEEDED", "Too many requests."),
    500: ("INTERNAL_SERVER_ERROR", "An unexpected error occurred."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable."),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout."),
}


def _error(
    status: int, request_id: str, *, message: str | None = None, retry_after: int | None = None
) -> _Response:
    code, text = _ERROR_TEXT.get(status, ("HTTP_ERROR", "Error"))
    details: dict[str, Any] = {}
    if retry_after is not None:
        details["retry_after_seconds"] = float(retry_after)
    return _json(
        status,
        {
            "error": {
                "code": code,
                "message": message or text,
                "request_id": request_id,
                "details": details,
            }
        },
    )


def _validation(request_id: str, where: str, name: str, kind: str, msg: str) -> _Response:
    return _json(
        422,
        {
            "error": {
                "code": "VALIDATION_ERROR",
                "message": "Request validation failed.",
                "request_id": request_id,
                "details": {"errors": [{"type": kind, "loc": [where, name], "msg": msg}]},
            }
        },
    )


def _only(allowed: bool, request_id: str) -> _Response | None:
    return None if allowed else _error(405, request_id)


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int | None:
    if name not in query:
        return default
    try:
        return int(query[name][0])
    except ValueError:
        return None


def _bool_param(query: dict[str, list[str]], name: str, default: bool) -> bool | None:
    if name not in query:
        return default
    value = query[name][0].lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakePlatform


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus delayed ACKs
    # add ~40 ms to every request on loopback.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if fake.dead:
            self._drop()
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = fake.handle(method, self.path, headers, body)
        if response.mode == "drop":
            self._drop()
            return
        if response.mode in ("endless", "trickle"):
            self._stream(response)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.mode == "truncate":
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(response.body)

    def _stream(self, response: _Response) -> None:
        """Send a body that never ends (or only at a byte per ``seconds``), until the client
        hangs up or the fake stops."""
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if response.mode == "endless":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(10**6))
        self.end_headers()
        chunk = b" " * 65536
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        try:
            while not fake._stopping.is_set():
                if response.mode == "endless":
                    self.wfile.write(frame)
                else:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    fake._stopping.wait(response.seconds)
        except OSError:
            pass
        self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)
        except OSError:
            pass


@contextmanager
def serve_platform(*, api_key: str = "") -> Iterator[FakePlatform]:
    """Run a fake gateway for the duration of the ``with`` block."""
    fake = FakePlatform(api_key=api_key).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(name="platform_server")
def platform_server_fixture() -> Iterator[FakePlatform]:
    """A running fake gateway with the default catalog and no jobs, datasets or budgets."""
    with serve_platform() as fake:
        yield fake
