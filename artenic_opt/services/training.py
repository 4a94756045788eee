"""Training use cases shared by the CLI, sync, demo and the dashboard.

The feedback path is one function, ``record_outcome``: ``feedback record``, ``feedback import``,
outcomes derived by ``sync`` and the simulated jobs of ``demo`` all go through it, so every
outcome is labelled the same way and stored atomically with its training sample.

Decisions:

* Provider reliability for the heuristic is the success rate of stored outcomes per provider,
  once a provider has at least ``MIN_RELIABILITY_RUNS`` outcomes (1.0 before that).
* Models live beside the state file (``paths.models_dir``), one folder per version with
  LightGBM's text model and its JSON metadata. Loading checks the sha256 recorded in the state
  as well as the one in the metadata, so a model folder swapped for another is refused.
* ``auto`` mode falls back to the heuristic, with a warning, when the active model cannot be
  loaded; ``ltr`` and ``hybrid`` asked for explicitly fail with exit 2 instead.
* Auto-retrain: after an outcome is recorded, a new model is trained when at least
  ``ltr.min_samples`` samples exist and ``ltr.retrain_after`` samples arrived since the last
  model. A failed retrain keeps the current model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from artenic_opt import paths
from artenic_opt._internal.files import read_text_file
from artenic_opt._internal.money import ExchangeRates
from artenic_opt.catalog import Catalog
from artenic_opt.config import Settings
from artenic_opt.errors import InvalidInputError, ModelFileError, NotFoundError
from artenic_opt.schemas import TrainingAdvice, WorkloadProfile, format_validation_error
from artenic_opt.state import (
    active_model,
    add_training_sample,
    candidate_features,
    count_training_samples,
    get_recommendation,
    has_import_key,
    insert_outcome,
    list_training_samples,
    next_model_version,
    outcome_counts_by_provider,
    query_is_known,
    record_model_version,
    resolve_recommendation_id,
    save_recommendation,
)
from artenic_opt.state.store import StateStore
from artenic_opt.training_advisor.advisor import AdviceResult, TrainingAdvisor
from artenic_opt.training_advisor.feature_extractor import FEATURE_NAMES, FEATURE_SCHEMA_VERSION
from artenic_opt.types import OptimizationGoal, OptimizerMode

if TYPE_CHECKING:
    # Outcomes and model versions load where they are read or built (``schemas.feedback``).
    from artenic_opt.schemas import JobOutcome, ModelInfo, OutcomeDeleted, TrainingSample

    # The result documents of feedback and retrain live in ``schemas.results``, which also
    # builds the storage schemas: imported where they are built, not on ``recommend``'s path.
    from artenic_opt.schemas.results import (
        LearningMetrics,
        OutcomeImport,
        RecordedOutcome,
        RetrainResult,
    )
    from artenic_opt.simulate.replay import ReplayRun
    from artenic_opt.training_advisor.evaluation import BacktestReport
    from artenic_opt.training_advisor.ltr_ranker import LTRRanker

MIN_RELIABILITY_RUNS = 3


@dataclass(frozen=True)
class LoadedModel:
    ranker: LTRRanker
    info: ModelInfo


def provider_reliability(store: StateStore) -> dict[str, float]:
    reliability: dict[str, float] = {}
    for row in outcome_counts_by_provider(store).values():
        if row.total >= MIN_RELIABILITY_RUNS:
            reliability[row.provider] = row.completed / row.total
    return reliability


def model_path(store: StateStore, info: ModelInfo) -> Path:
    """Where a recorded model version lives (relative paths are under the state's models dir)."""
    path = Path(info.path)
    return path if path.is_absolute() else paths.models_dir(Path(store.path)) / path


def load_active_model(store: StateStore) -> LoadedModel | None:
    """The active model, verified against the state's record; ``None`` when there is none."""
    info = active_model(store)
    if info is None:
        return None
    from artenic_opt.training_advisor.ltr_ranker import LTRRanker

    ranker = LTRRanker.load(
        model_path(store, info), FEATURE_SCHEMA_VERSION, expected_feature_names=FEATURE_NAMES
    )
    metadata = ranker.metadata
    if metadata is None or metadata.sha256 != info.sha256:
        raise ModelFileError(
            f"{info.path}: the model does not match version {info.version} recorded in the "
            "state (sha256 differs); run `retrain --force`"
        )
    return LoadedModel(ranker=ranker, info=info)


def make_advisor(
    store: StateStore | None,
    catalog: Catalog,
    settings: Settings,
    rates: ExchangeRates,
    *,
    mode: OptimizerMode | None = None,
    warn: Callable[[str], None] | None = None,
) -> TrainingAdvisor:
    wanted = mode or settings.optimizer.mode
    model: LoadedModel | None = None
    reliability: dict[str, float] = {}
    if store is not None:
        reliability = provider_reliability(store)
        if wanted is not OptimizerMode.HEURISTIC:
            try:
                model = load_active_model(store)
            except ModelFileError as exc:
                if wanted is not OptimizerMode.AUTO:
                    raise
                if warn is not None:
                    warn(f"{exc}; ranking with the heuristic")
    return TrainingAdvisor(
        catalog,
        reliability=reliability,
        display_currency=settings.optimizer.display_currency,
        rates=rates,
        ltr_model=model.ranker if model else None,
        mode=wanted,
        model_version=model.info.version if model else None,
        alternatives_threshold=settings.optimizer.alternatives_threshold,
    )


def same_as_warning(store: StateStore, workload: WorkloadProfile) -> str | None:
    """A warning when ``same_as`` names a query this state has never stored (a mistyped id
    would otherwise start a new learning group without a word); None when it is known or unset.
    """
    if workload.same_as is None or query_is_known(store, workload.same_as):
        return None
    return (
        f"same_as {workload.same_as}: no stored workload has this query id, so this starts a "
        "new one (query ids: `history --json`)"
    )


def recommend_and_store(
    store: StateStore,
    advisor: TrainingAdvisor,
    workload: WorkloadProfile,
    *,
    top: int,
    goal: OptimizationGoal | None,
) -> AdviceResult:
    result = advisor.recommend(workload, top=top, goal=goal)
    unknown = same_as_warning(store, workload)
    if unknown is not None:
        advice = result.advice
        result = replace(
            result, advice=advice.model_copy(update={"warnings": (*advice.warnings, unknown)})
        )
    with store.transaction():
        save_recommendation(
            store,
            result.advice,
            [list(row) for row in result.feature_rows],
            result.feature_schema_version,
        )
    return result


def record_outcome(
    store: StateStore,
    settings: Settings,
    outcome: JobOutcome,
    *,
    rates: ExchangeRates | None = None,
    auto_retrain: bool = True,
    import_key: str | None = None,
) -> RecordedOutcome:
    """Label ``outcome`` against its recommended candidate; store outcome and sample at once.

    The outcome's currency must be one ``rates`` knows (default: the built-in table): stored
    without a rate, it would make every later cost analysis fail.
    """
    from artenic_opt._internal.money import DEFAULT_RATES
    from artenic_opt.errors import CurrencyError
    from artenic_opt.schemas.results import RecordedOutcome

    known = rates or DEFAULT_RATES
    if outcome.currency not in known:
        raise CurrencyError(
            f"currency: no exchange rate for {outcome.currency} (known: "
            f"{', '.join(sorted(known))}); add it under [exchange_rates] in the optimizer config"
        )
    rec_id = resolve_recommendation_id(store, outcome.recommendation_id)
    if rec_id != outcome.recommendation_id:
        outcome = outcome.model_copy(update={"recommendation_id": rec_id})
    advice = get_recommendation(store, rec_id)
    if not 1 <= outcome.rank <= len(advice.recommendations):
        raise NotFoundError(
            f"rank: recommendation {rec_id[:12]} has ranks 1 to {len(advice.recommendations)}, "
            f"not {outcome.rank}"
        )
    candidate = candidate_features(store, rec_id, outcome.rank)
    label: int | None = None
    sample = None
    if candidate.features and candidate.feature_schema_version is not None:
        from artenic_opt.training_advisor.feedback_collector import (
            CandidateRecord,
            FeedbackCollector,
        )

        record = CandidateRecord.from_row(
            query_id=candidate.query_id,
            recommendation_id=rec_id,
            rank=outcome.rank,
            candidate_id=candidate.candidate_id,
            features=candidate.features,
            feature_schema_version=candidate.feature_schema_version,
            estimated_cost=candidate.estimated_cost,
            estimated_hours=candidate.estimated_hours,
            currency=candidate.currency,
            recommended_cost=advice.recommendations[0].estimated_cost,
        )
        labelled = outcome
        if outcome.currency != candidate.currency:
            # Predictions were made in the display currency of the time; compare like with like.
            from artenic_opt._internal.money import DEFAULT_RATES

            converted = (rates or DEFAULT_RATES).convert(
                outcome.cost, outcome.currency, candidate.currency
            )
            labelled = outcome.model_copy(
                update={"cost": converted, "currency": candidate.currency}
            )
        sample = FeedbackCollector().collect(labelled, record)
        label = sample.label
    with store.transaction():
        outcome_id = insert_outcome(
            store,
            outcome,
            provider=candidate.provider,
            region=candidate.region,
            instance_type=candidate.instance_type,
            spot=candidate.spot,
            label=label,
            import_key=import_key,
        )
        sample_id = add_training_sample(store, sample, outcome_id=outcome_id) if sample else None
    retrained = maybe_retrain(store, settings) if auto_retrain else None
    return RecordedOutcome(
        outcome_id=outcome_id,
        sample_id=sample_id,
        recommendation_id=rec_id,
        rank=outcome.rank,
        label=label,
        retrained=retrained,
    )


def import_outcomes(
    store: StateStore, settings: Settings, path: Path, *, rates: ExchangeRates | None = None
) -> OutcomeImport:
    """Store each valid JSONL line as an outcome; report bad lines by number, keep the rest.

    A line stored by an earlier import (same content hash) is skipped and counted as already
    present. A file with no usable line at all is bad input (``InvalidInputError``).
    """
    from artenic_opt.schemas import JobOutcome
    from artenic_opt.schemas.results import ImportLineError, OutcomeImport

    lines = read_text_file(path, what="outcomes file").splitlines()
    stored = 0
    already = 0
    errors: list[ImportLineError] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
            if not isinstance(data, dict):
                raise InvalidInputError("each line must be one JSON object")
            data.setdefault("source", "import")
            outcome = JobOutcome.model_validate(data)
            key = outcome_import_key(data)
            if has_import_key(store, key):
                already += 1
                continue
            record_outcome(
                store, settings, outcome, rates=rates, auto_retrain=False, import_key=key
            )
        except RecursionError:
            errors.append(ImportLineError(line=number, message="nested too deeply to read"))
        except json.JSONDecodeError as exc:
            errors.append(ImportLineError(line=number, message=f"not JSON ({exc.msg})"))
        except ValidationError as exc:
            errors.append(ImportLineError(line=number, message=format_validation_error(exc)))
        except InvalidInputError as exc:
            errors.append(ImportLineError(line=number, message=exc.message))
        else:
            stored += 1
    if errors and not stored and not already:
        # Nothing usable at all: bad input, not a partial import.
        first = errors[0]
        more = f" (and {len(errors) - 1} more bad lines)" if len(errors) > 1 else ""
        raise InvalidInputError(f"{path}:{first.line}: {first.message}{more}; nothing imported")
    retrained = maybe_retrain(store, settings) if stored else None
    return OutcomeImport(
        file=str(path),
        stored=stored,
        already_present=already,
        errors=tuple(errors),
        retrained=retrained,
    )


def outcome_import_key(data: dict[str, Any]) -> str:
    """Content hash of an imported outcome: sha256 of its fields as canonical JSON.

    Taken over the line as given (not the validated model, whose defaults such as
    ``recorded_at = now`` differ between imports), so the same line always has the same key.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def delete_outcome(store: StateStore, outcome_id: int) -> OutcomeDeleted:
    """Remove one outcome and its training samples (``feedback delete``)."""
    from artenic_opt.schemas import OutcomeDeleted
    from artenic_opt.state import delete_outcome as delete_stored_outcome

    samples = delete_stored_outcome(store, outcome_id)
    return OutcomeDeleted(outcome_id=outcome_id, training_samples_deleted=samples)


def retrain(
    store: StateStore,
    settings: Settings,
    *,
    force: bool = False,
    known_version: int | None = None,
) -> RetrainResult:
    """Train a new model version from every stored sample; the old model stays on failure.

    One retrain per state file at a time, across threads and processes (``state.locks``): a
    retrain that finds another one running returns at once, untrained, so two retrains started
    together give one model version.

    ``known_version`` is the newest model version recorded when the request arrived (taken by
    the caller at its entry, 0 when none). A request may reach the lock only after another
    retrain that was running when it arrived has finished (a cold worker process, a loaded
    machine); when the active model is newer than ``known_version`` and was trained on as many
    samples as there are now, that model is returned untrained ("another retrain finished while
    this one waited"), even with ``force``. A forced retrain that arrives after the previous
    one finished (``known_version`` already counts it) still trains.
    """
    from artenic_opt.schemas.results import RetrainResult
    from artenic_opt.state.locks import retrain_lock

    with retrain_lock(Path(store.path)) as acquired:
        if acquired:
            return _retrain_now(store, settings, force=force, known_version=known_version)
    return RetrainResult(
        trained=False,
        reason="another retrain of this state is running; its model becomes the new version",
        model=active_model(store),
        samples=count_training_samples(store),
    )


def _retrain_now(
    store: StateStore, settings: Settings, *, force: bool, known_version: int | None
) -> RetrainResult:
    from artenic_opt.schemas.results import RetrainResult

    samples = list_training_samples(store, feature_schema_version=FEATURE_SCHEMA_VERSION)
    min_samples = settings.optimizer.ltr.min_samples
    current = active_model(store)
    if (
        known_version is not None
        and current is not None
        and current.version > known_version
        and current.sample_count == len(samples)
    ):
        return RetrainResult(
            trained=False,
            reason=(
                "another retrain finished while this one waited; its model "
                f"v{current.version} is the new version"
            ),
            model=current,
            samples=len(samples),
        )
    if len(samples) < min_samples:
        return RetrainResult(
            trained=False,
            reason=f"{len(samples)} training samples, fewer than the {min_samples} needed",
            model=current,
            samples=len(samples),
        )
    if not force and current is not None:
        # Samples may carry back-dated times (imported or simulated history), so "new" means
        # more samples than the model was trained on, not newer timestamps.
        new = len(samples) - current.sample_count
        if new < settings.optimizer.ltr.retrain_after:
            return RetrainResult(
                trained=False,
                reason=(
                    f"{new} new samples since model v{current.version}, fewer than "
                    f"{settings.optimizer.ltr.retrain_after}; use --force to train anyway"
                ),
                model=current,
                samples=len(samples),
            )
    from artenic_opt.training_advisor.ltr_ranker import RETRAIN_LTR_PARAMS, LTRRanker

    # The parameters the closed-loop evaluation was measured with (bench_feedback_loop.py).
    ranker = LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        min_samples=min_samples,
        params=RETRAIN_LTR_PARAMS,
    )
    ranker.train(heuristic_ranked(store, samples))
    version = next_model_version(store)
    folder = paths.models_dir(Path(store.path)) / f"v{version}"
    metadata = ranker.save(folder)
    # Recorded relative to the models folder, so a state moved with its models keeps working.
    info = metadata.to_model_info(version, folder.name)
    with store.transaction():
        record_model_version(store, info)
    return RetrainResult(
        trained=True,
        reason=f"trained on {len(samples)} samples",
        model=active_model(store),
        samples=len(samples),
    )


def heuristic_ranked(store: StateStore, samples: list[TrainingSample]) -> list[TrainingSample]:
    """The samples with ``rank`` set to the heuristic's rank of their candidate among their
    recommendation's (by the stored heuristic scores), so the blend weight's inner validation
    (``ltr_ranker``) compares the model with the heuristic even for recommendations made in ltr
    or hybrid mode. A sample of a heuristic-mode recommendation, or of one no longer stored,
    keeps its rank."""
    orders: dict[str, dict[int, int] | None] = {}
    out: list[TrainingSample] = []
    for sample in samples:
        rec_id = sample.recommendation_id
        if rec_id not in orders:
            orders[rec_id] = None
            try:
                advice = get_recommendation(store, rec_id)
            except (NotFoundError, InvalidInputError):
                advice = None
            if advice is not None and advice.mode is not OptimizerMode.HEURISTIC:
                recs = sorted(advice.recommendations, key=lambda r: (-r.heuristic_score, r.rank))
                orders[rec_id] = {r.rank: k for k, r in enumerate(recs, start=1)}
        order = orders[rec_id]
        if order is not None and sample.rank in order:
            sample = sample.model_copy(update={"rank": order[sample.rank]})
        out.append(sample)
    return out


def retrain_due(store: StateStore, settings: Settings) -> bool:
    """Whether ``maybe_retrain`` would train now (a cheap count; ``retrain`` checks again)."""
    ltr = settings.optimizer.ltr
    samples = count_training_samples(store)
    current = active_model(store)
    if samples < ltr.min_samples:
        return False
    return current is None or samples - current.sample_count >= ltr.retrain_after


def maybe_retrain(store: StateStore, settings: Settings) -> ModelInfo | None:
    """Retrain when enough new samples arrived; return the new model, if any."""
    result = retrain(store, settings)
    return result.model if result.trained else None


def learning_metrics(store: StateStore) -> LearningMetrics:
    from artenic_opt.schemas.results import LearningMetrics

    info = active_model(store)
    return LearningMetrics(
        samples=count_training_samples(store),
        model_version=info.version if info else None,
        trained_at=info.trained_at.isoformat() if info else None,
        model_samples=info.sample_count if info else None,
        metrics=info.metrics if info else None,
    )


def stored_advice(store: StateStore, rec_ref: str) -> TrainingAdvice:
    return get_recommendation(store, resolve_recommendation_id(store, rec_ref))


def runs_from_history(store: StateStore) -> list[ReplayRun]:
    """Stored outcomes of our recommendations as measured runs, for backtesting."""
    from artenic_opt.simulate.replay import ReplayOutcome, ReplayRun
    from artenic_opt.state import list_outcomes

    runs: list[ReplayRun] = []
    advices: dict[str, TrainingAdvice] = {}
    for stored in list_outcomes(store):
        if not stored.linked:
            continue
        outcome = stored.outcome
        rec_id = outcome.recommendation_id
        if rec_id not in advices:
            advices[rec_id] = get_recommendation(store, rec_id)
        advice = advices[rec_id]
        if not 1 <= outcome.rank <= len(advice.recommendations):
            continue
        rec = advice.recommendations[outcome.rank - 1]
        runs.append(
            ReplayRun(
                workload=advice.workload,
                offering=rec.offering,
                nodes=rec.nodes,
                spot=rec.spot,
                outcome=ReplayOutcome(
                    status=outcome.status,
                    hours=outcome.hours,
                    cost=outcome.cost,
                    currency=outcome.currency,
                    preemptions=outcome.preemptions,
                    metric_before=outcome.metric_before,
                    metric_after=outcome.metric_after,
                ),
            )
        )
    return runs


def backtest_runs(
    runs: list[ReplayRun], catalog: Catalog, settings: Settings, rates: ExchangeRates
) -> BacktestReport:
    from artenic_opt.training_advisor.evaluation import DEFAULT_KSHOT, backtest
    from artenic_opt.training_advisor.ltr_ranker import RETRAIN_LTR_PARAMS

    return backtest(
        runs,
        catalog_specs=catalog.gpu_specs,
        params=RETRAIN_LTR_PARAMS,
        currency=settings.optimizer.display_currency,
        rates=rates,
        kshot=DEFAULT_KSHOT,
    )
