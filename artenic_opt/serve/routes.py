"""The routes: each reads its input, calls the service function its CLI command calls, and
returns that command's ``--json`` document (a pydantic model or a bare array of them).

Decisions:

* Routes are plain ``def`` functions, run in the server's thread pool: the services are
  synchronous (SQLite, numpy) and a slow one must not stall the event loop.
* Documents are serialised with pydantic's ``model_dump_json`` and returned as a ``Response``,
  so FastAPI does not validate them a second time; ``response_model`` still documents them in
  the OpenAPI schema.
* ``feedback`` never trains inside the request: when enough new samples have arrived it starts
  the background retrain (``status`` shows it running) and answers with ``retrained: null``.
* ``storage/analyze`` takes dataset ids known to the state; a local path only when the server
  was started with ``--data-root`` and the path lies inside it (an API client never gets to scan
  the server's whole file system).
* ``status`` does not probe the platform unless ``?probe=true`` (dashboards poll it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artenic_opt.catalog import GpuPriceRow
from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    CostReport,
    FrontierPoint,
    JobOutcome,
    LearningMetrics,
    Offering,
    OptimizerStatus,
    RecordedOutcome,
    RetrainResult,
    SavingsReport,
    SpendingSummary,
    SpotAdvice,
    StorageAdvice,
    StorageAnalysis,
    TrainingAdvice,
    WorkloadProfile,
)
from artenic_opt.serve import API_PREFIX
from artenic_opt.serve.context import ServerContext
from artenic_opt.serve.retrain import RetrainJob
from artenic_opt.state import next_model_version
from artenic_opt.state.history_records import RecommendationSummary
from artenic_opt.types import JobStatus, OptimizationGoal, OptimizerMode

router = APIRouter()
P = API_PREFIX


def document(obj: BaseModel | list[Any], status_code: int = 200) -> Response:
    """The JSON of a document exactly as ``--json`` prints it (modulo whitespace)."""
    if isinstance(obj, BaseModel):
        body = obj.model_dump_json()
    else:
        body = "[" + ",".join(item.model_dump_json() for item in obj) + "]"
    return Response(body, status_code=status_code, media_type="application/json")


def validated(model: type[Any], data: Any, where: str) -> Any:
    """``model.model_validate(data)``; failures become a 422 naming ``where`` + the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**err, "loc": (where, *err["loc"])} for err in exc.errors()]
        raise RequestValidationError(errors) from None


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    return {"status": "ok"}


# -- training -------------------------------------------------------------------------------


@router.post(f"{P}/recommend", response_model=TrainingAdvice, tags=["training"])
def recommend(
    request: Request,
    workload: WorkloadProfile,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
    goal: OptimizationGoal | None = None,
    mode: OptimizerMode | None = None,
) -> Response:
    """`recommend --workload FILE --json`: rank every offering, store the recommendation."""
    from artenic_opt.services.training import recommend_and_store

    ctx = context(request)
    result = recommend_and_store(
        ctx.workspace.store(), ctx.advisor(mode), workload, top=top, goal=goal
    )
    return document(result.advice)


@router.get(f"{P}/status", response_model=OptimizerStatus, tags=["meta"])
async def status(request: Request, probe: bool = False) -> Response:
    """`status --json` (without a platform probe unless `probe=true`)."""
    from artenic_opt.status import build_status

    workspace = context(request).workspace
    if probe:  # network: off the event loop
        return document(await run_in_threadpool(build_status, workspace, probe_platform=True))
    # A handful of indexed counts on the WAL (well under a millisecond): answered on the event
    # loop, which spares the thread hand-off that would cost more than the work.
    return document(build_status(workspace, probe_platform=False))


@router.get(f"{P}/history", response_model=list[RecommendationSummary], tags=["training"])
def history(
    request: Request,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Response:
    """`history --limit N --json`, newest first, paged by `offset`/`limit`."""
    from artenic_opt.state import list_recommendations

    store = context(request).workspace.store()
    return document(list_recommendations(store, limit=limit, offset=offset))


@router.get(f"{P}/history/{{recommendation_id}}", response_model=TrainingAdvice, tags=["training"])
def history_one(request: Request, recommendation_id: str) -> Response:
    """`history --show ID --json` (an unambiguous id prefix works too)."""
    from artenic_opt.services.training import stored_advice

    return document(stored_advice(context(request).workspace.store(), recommendation_id))


class FeedbackRequest(BaseModel):
    """The fields of `feedback record`; `currency` defaults to the display currency."""

    model_config = ConfigDict(extra="forbid")

    recommendation_id: str = Field(min_length=1, max_length=200)
    rank: int = Field(default=1, ge=1, le=1000)
    status: JobStatus = JobStatus.COMPLETED
    cost: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    hours: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    preemptions: int = Field(default=0, ge=0, le=100_000)
    metric_before: float | None = None
    metric_after: float | None = None
    metric_higher_is_better: bool = True
    job_id: str | None = Field(default=None, max_length=200)


@router.post(f"{P}/feedback", response_model=RecordedOutcome, status_code=201, tags=["training"])
def feedback(request: Request, body: FeedbackRequest) -> Response:
    """`feedback record --json`: label the outcome, store it with its training sample."""
    from artenic_opt.services.training import record_outcome, retrain_due

    ctx = context(request)
    ws = ctx.workspace
    data = body.model_dump()
    data["currency"] = (body.currency or ws.settings.optimizer.display_currency).upper()
    outcome = validated(JobOutcome, data, "body")
    store = ws.store()
    result = record_outcome(store, ws.settings, outcome, auto_retrain=False)
    if retrain_due(store, ws.settings):
        ctx.retrainer.start(force=False)
    return document(result, 201)


@router.post(
    f"{P}/retrain",
    response_model=RetrainJob | RetrainResult,
    status_code=202,
    tags=["training"],
)
def retrain(request: Request, force: bool = False, wait: bool = False) -> Response:
    """Start a retrain in the background (202, the job); `wait=true` answers when it is done
    with the `retrain --json` document. A retrain already running is joined, not repeated; one
    that finished after this request arrived is not repeated either (its model is answered)."""
    ctx = context(request)
    # The arrival mark, taken before anything slow (the retrain thread's imports, the lock).
    known_version = next_model_version(ctx.workspace.store()) - 1
    worker = ctx.retrainer
    job, _ = worker.start(force=force, known_version=known_version)
    if not wait:
        return document(job, 202)
    finished = worker.wait(job.job_id)
    assert finished is not None
    if finished.result is None:
        raise InvalidInputError(f"retrain failed: {finished.error}")
    return document(finished.result)


@router.get(f"{P}/retrain", response_model=RetrainJob, tags=["training"])
def retrain_job(request: Request) -> Response:
    """The latest retrain this server process started."""
    job = context(request).retrainer.current()
    if job is None:
        raise NotFoundError("no retrain started by this server yet")
    return document(job)


@router.get(f"{P}/metrics", response_model=LearningMetrics, tags=["training"])
def metrics(request: Request) -> Response:
    """`metrics --json`."""
    from artenic_opt.services.training import learning_metrics

    return document(learning_metrics(context(request).workspace.store()))


# -- storage --------------------------------------------------------------------------------


class StorageAnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(min_length=1, max_length=4096, description="Dataset id (or path)")
    provider: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)


def _storage_target(ctx: ServerContext, target: str) -> str:
    from artenic_opt.state.datasets import find_dataset

    if find_dataset(ctx.workspace.store(), target) is not None:
        return target
    if ctx.options.data_root is None:
        raise NotFoundError(
            f"target: {target} is not a dataset id in the state (local paths are analysed "
            "over HTTP only when the server runs with --data-root)"
        )
    root = Path(ctx.options.data_root).resolve()
    path = (root / target).resolve()
    if not path.is_relative_to(root):
        raise InvalidInputError(f"target: {target} lies outside --data-root")
    return str(path)


@router.post(f"{P}/storage/analyze", response_model=StorageAnalysis, tags=["storage"])
def storage_analyze(request: Request, body: StorageAnalyzeRequest) -> Response:
    """`storage analyze TARGET --json`."""
    from artenic_opt.services.storage import analyze_target

    ctx = context(request)
    ws = ctx.workspace
    result = analyze_target(
        ws.store(),
        ws.catalog(),
        _storage_target(ctx, body.target),
        provider=body.provider or ws.settings.optimizer.storage_provider,
        region=body.region,
    )
    return document(result)


@router.get(f"{P}/storage/recommendations", response_model=list[StorageAdvice], tags=["storage"])
def storage_recommendations(
    request: Request, provider: str | None = None, region: str | None = None
) -> Response:
    """`storage recommendations --json`."""
    from artenic_opt.services.storage import storage_recommendations as advise

    ws = context(request).workspace
    return document(
        advise(
            ws.store(),
            ws.catalog(),
            provider=provider or ws.settings.optimizer.storage_provider,
            region=region,
        )
    )


# -- cost -----------------------------------------------------------------------------------


def _analyzer(ctx: ServerContext) -> Any:
    from artenic_opt.services.cost import make_analyzer

    ws = ctx.workspace
    return make_analyzer(ws.catalog(), ws.settings.optimizer.display_currency, ws.rates())


def _compare(ctx: ServerContext, workload: WorkloadProfile, frontier_only: bool) -> Response:
    report = _analyzer(ctx).compare_providers(workload)
    return document(list(report.frontier) if frontier_only else report)


_LIST_FIELDS = frozenset({"allowed_providers", "allowed_regions"})


@router.get(f"{P}/cost/compare", response_model=CostReport | list[FrontierPoint], tags=["cost"])
def cost_compare_query(request: Request, frontier_only: bool = False) -> Response:
    """`cost compare --json`; the workload's fields as query parameters
    (`?model_params_m=7000&dataset_size_gb=50`, lists repeated)."""
    params = request.query_params
    data: dict[str, Any] = {}
    for key in params:
        if key == "frontier_only":
            continue
        data[key] = params.getlist(key) if key in _LIST_FIELDS else params[key]
    workload = validated(WorkloadProfile, data, "query")
    return _compare(context(request), workload, frontier_only)


@router.post(f"{P}/cost/compare", response_model=CostReport | list[FrontierPoint], tags=["cost"])
def cost_compare(
    request: Request, workload: WorkloadProfile, frontier_only: bool = False
) -> Response:
    """`cost compare --workload FILE --json`."""
    return _compare(context(request), workload, frontier_only)


Period = Annotated[str, Query(max_length=20, description="e.g. 7d, 30d, 12w, 6m, 1y")]


@router.get(f"{P}/cost/summary", response_model=SpendingSummary, tags=["cost"])
def cost_summary(
    request: Request,
    period: Period = "30d",
    by: Annotated[str, Query(max_length=20)] = "provider",
) -> Response:
    """`cost summary --json`."""
    from artenic_opt.services.cost import load_history

    ctx = context(request)
    history = load_history(ctx.workspace.store(), ctx.workspace.rates())
    return document(_analyzer(ctx).spending_summary(history, period, by))


@router.get(f"{P}/cost/savings", response_model=SavingsReport, tags=["cost"])
def cost_savings(request: Request, period: Period = "90d") -> Response:
    """`cost savings --json`."""
    from artenic_opt.services.cost import load_history

    ctx = context(request)
    history = load_history(ctx.workspace.store(), ctx.workspace.rates())
    return document(_analyzer(ctx).savings_opportunity(history, period))


@router.get(f"{P}/cost/spot", response_model=list[SpotAdvice], tags=["cost"])
def cost_spot(
    request: Request, period: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    """`cost spot --json`."""
    from artenic_opt.services.cost import load_history

    ctx = context(request)
    history = load_history(ctx.workspace.store(), ctx.workspace.rates())
    return document(_analyzer(ctx).spot_advice(history, period=period))


# -- catalog --------------------------------------------------------------------------------


@router.get(f"{P}/catalog", response_model=list[Offering], tags=["catalog"])
def catalog(
    request: Request,
    gpu: Annotated[str | None, Query(max_length=100)] = None,
    provider: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    min_gpu_memory: Annotated[float | None, Query(ge=0, le=100_000)] = None,
    spot: bool = False,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """`catalog list --json`; 409 naming the filters when nothing matches."""
    from artenic_opt.services.queries import catalog_offerings

    return document(
        catalog_offerings(
            context(request).workspace.catalog(),
            context(request).workspace.rates(),
            gpu=gpu,
            provider=provider,
            region=region,
            min_gpu_memory_gb=min_gpu_memory,
            spot_only=spot,
            limit=limit,
        )
    )


@router.get(f"{P}/catalog/gpus", response_model=list[GpuPriceRow], tags=["catalog"])
def catalog_gpus(
    request: Request,
    gpu: Annotated[str | None, Query(max_length=100)] = None,
    provider: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """`catalog gpus --json`."""
    from artenic_opt.services.queries import gpu_prices

    workspace = context(request).workspace
    return document(gpu_prices(workspace.catalog(), workspace.rates(), gpu=gpu, provider=provider))
