"""Job outcomes and the learning-to-rank training samples built from them.

Decisions:

* ``insert_outcome`` and ``add_training_sample`` each run in a transaction that nests, so a caller
  stores an outcome and its sample atomically with::

      with store.transaction():
          outcome_id = insert_outcome(store, outcome, ...)
          add_training_sample(store, sample, outcome_id=outcome_id)

* An outcome of a platform job that did not come from one of our recommendations has no
  recommendation: its ``JobOutcome.recommendation_id`` is ``UNLINKED`` (the empty string) and the
  column holds NULL. A linked outcome must name a stored recommendation and one of its ranks;
  otherwise nothing is stored and ``NotFoundError`` names what is missing.
* One outcome per platform job id (a unique index), so a re-run ``sync`` cannot count a job twice;
  ``outcome_for_job`` lets it check first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.state._codec import (
    decode_bool,
    decode_datetime,
    decode_json,
    encode_bool,
    encode_datetime,
    encode_json,
    reads_row,
)
from artenic_opt.state.records import ProviderOutcomeCounts
from artenic_opt.state.store import StateStore
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    from artenic_opt.schemas import JobOutcome, OutcomeEntry, TrainingSample
    from artenic_opt.state.history_records import StoredOutcome

#: ``JobOutcome.recommendation_id`` of an outcome that belongs to no stored recommendation.
UNLINKED = ""


def _check_label(label: int | None) -> None:
    if label is not None and not 0 <= label <= 4:
        raise InvalidInputError(f"label: must be between 0 and 4, got {label}")


def insert_outcome(
    store: StateStore,
    outcome: JobOutcome,
    *,
    provider: str,
    region: str,
    instance_type: str,
    spot: bool,
    label: int | None,
    import_key: str | None = None,
) -> int:
    """Store ``outcome`` (run on the given machine, with its relevance label); return its id.

    ``import_key`` (the content hash of an imported record) must be new: ``has_import_key``
    lets an importer skip what it stored before.
    """
    _check_label(label)
    linked = outcome.recommendation_id != UNLINKED
    row = {
        "recommendation_id": outcome.recommendation_id if linked else None,
        "rank": outcome.rank,
        "status": outcome.status.value,
        "hours": outcome.hours,
        "cost": outcome.cost,
        "currency": outcome.currency,
        "preemptions": outcome.preemptions,
        "metric_before": outcome.metric_before,
        "metric_after": outcome.metric_after,
        "metric_higher_is_better": encode_bool(outcome.metric_higher_is_better),
        "failure_reason": None if outcome.failure_reason is None else outcome.failure_reason.value,
        "source": outcome.source.value,
        "job_id": outcome.job_id,
        "provider": provider,
        "region": region,
        "instance_type": instance_type,
        "spot": encode_bool(spot),
        "recorded_at": encode_datetime(outcome.recorded_at),
        "label": label,
    }
    if import_key is not None:
        row["import_key"] = import_key
    with store.transaction():
        if linked:
            _check_candidate(store, outcome.recommendation_id, outcome.rank)
        if outcome.job_id is not None and outcome_for_job(store, outcome.job_id) is not None:
            raise InvalidInputError(f"an outcome for job {outcome.job_id!r} is already recorded")
        return store.insert("outcomes", row)


def has_import_key(store: StateStore, import_key: str) -> bool:
    """Whether an outcome imported with this content hash is already stored."""
    return store.scalar("SELECT 1 FROM outcomes WHERE import_key = ?", [import_key]) is not None


def delete_outcome(store: StateStore, outcome_id: int) -> int:
    """Delete an outcome and the training samples built from it; return how many samples went.

    ``NotFoundError`` when no outcome has this id. A model trained on the sample keeps it until
    the next ``retrain``.
    """
    with store.transaction():
        if store.scalar("SELECT 1 FROM outcomes WHERE id = ?", [outcome_id]) is None:
            raise NotFoundError(f"outcome {outcome_id} not found")
        samples = store.execute(
            "DELETE FROM training_samples WHERE outcome_id = ?", [outcome_id]
        ).rowcount
        store.execute("DELETE FROM outcomes WHERE id = ?", [outcome_id])
    return int(samples)


def _check_candidate(store: StateStore, rec_id: str, rank: int) -> None:
    if store.scalar("SELECT 1 FROM recommendations WHERE id = ?", [rec_id]) is None:
        raise NotFoundError(f"recommendation {rec_id} not found")
    found = store.scalar(
        "SELECT 1 FROM recommendation_candidates WHERE recommendation_id = ? AND rank = ?",
        [rec_id, rank],
    )
    if found is None:
        raise NotFoundError(f"recommendation {rec_id} has no candidate at rank {rank}")


@reads_row("outcomes", out_of_bounds_passes=True)
def _outcome(row: dict[str, Any]) -> StoredOutcome:
    from artenic_opt.schemas import JobOutcome
    from artenic_opt.state.history_records import StoredOutcome

    outcome = JobOutcome(
        recommendation_id=row["recommendation_id"] or UNLINKED,
        rank=row["rank"],
        status=row["status"],
        hours=row["hours"],
        cost=row["cost"],
        currency=row["currency"],
        preemptions=row["preemptions"],
        metric_before=row["metric_before"],
        metric_after=row["metric_after"],
        metric_higher_is_better=decode_bool(row["metric_higher_is_better"]),
        failure_reason=row["failure_reason"],
        source=row["source"],
        job_id=row["job_id"],
        recorded_at=decode_datetime(row["recorded_at"]),
    )
    return StoredOutcome(
        id=row["id"],
        outcome=outcome,
        provider=row["provider"],
        region=row["region"],
        instance_type=row["instance_type"],
        spot=decode_bool(row["spot"]),
        label=row["label"],
    )


def get_outcome(store: StateStore, outcome_id: int) -> StoredOutcome:
    row = store.query_one("SELECT * FROM outcomes WHERE id = ?", [outcome_id])
    if row is None:
        raise NotFoundError(f"outcome {outcome_id} not found")
    return _outcome(row)


def outcome_for_job(store: StateStore, job_id: str) -> StoredOutcome | None:
    row = store.query_one("SELECT * FROM outcomes WHERE job_id = ?", [job_id])
    return None if row is None else _outcome(row)


def list_outcomes(
    store: StateStore,
    since: datetime | None = None,
    *,
    recommendation_id: str | None = None,
    provider: str | None = None,
) -> list[StoredOutcome]:
    """Outcomes in the order they were recorded, optionally recorded at or after ``since``."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("recorded_at >= ?")
        params.append(encode_datetime(since))
    if recommendation_id is not None:
        clauses.append("recommendation_id = ?")
        params.append(recommendation_id)
    if provider is not None:
        clauses.append("provider = ?")
        params.append(provider)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.query(f"SELECT * FROM outcomes {where} ORDER BY recorded_at, id", params)
    return [outcome for outcome in map(_valid_outcome, rows) if outcome is not None]


def _valid_outcome(row: dict[str, Any]) -> StoredOutcome | None:
    """The row as an outcome, or ``None`` when it breaks today's bounds.

    States written before the bounds existed may hold values such as ``hours = 1e308``; such a
    row is left out of every analysis (instead of overflowing it) until ``feedback delete``
    removes it. ``count_invalid_outcomes`` says how many there are.
    """
    try:
        return _outcome(row)
    except ValidationError:
        return None


def outcome_entries(
    store: StateStore,
    *,
    limit: int,
    recommendation_prefix: str | None = None,
    invalid_only: bool = False,
) -> list[OutcomeEntry]:
    """Stored outcomes newest first (``feedback list``), out-of-bounds rows included and flagged.

    ``recommendation_prefix`` keeps the outcomes of recommendations whose id starts with it;
    ``invalid_only`` keeps the rows that analyses leave out (see ``_valid_outcome``).
    """
    clauses: list[str] = []
    params: list[Any] = []
    if recommendation_prefix:
        clauses.append("substr(recommendation_id, 1, ?) = ?")
        params += [len(recommendation_prefix), recommendation_prefix]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT * FROM outcomes {where} ORDER BY recorded_at DESC, id DESC"
    entries: list[OutcomeEntry] = []
    for row in store.query(sql, params):
        entry = _entry(row)
        if invalid_only and entry.valid:
            continue
        entries.append(entry)
        if len(entries) >= limit:
            break
    return entries


def _finite(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


@reads_row("outcomes")
def _entry(row: dict[str, Any]) -> OutcomeEntry:
    from artenic_opt.schemas import OutcomeEntry

    problem: str | None = None
    try:
        _outcome(row)
    except (ValidationError, ValueError) as exc:
        problem = _first_problem(exc)
    try:
        recorded_at = decode_datetime(row["recorded_at"])
    except (TypeError, ValueError):
        recorded_at = None
    return OutcomeEntry(
        outcome_id=row["id"],
        recorded_at=recorded_at,
        recommendation_id=row["recommendation_id"] or None,
        rank=row["rank"],
        provider=str(row["provider"]),
        region=str(row["region"]),
        instance_type=str(row["instance_type"]),
        spot=bool(row["spot"]),
        status=str(row["status"]),
        hours=_finite(row["hours"]),
        cost=_finite(row["cost"]),
        currency=str(row["currency"]),
        label=row["label"],
        source=row["source"],
        job_id=row["job_id"],
        valid=problem is None,
        problem=problem,
    )


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "value"
        return f"{where}: {error['msg']}"
    return str(exc)


def invalid_outcome_ids(store: StateStore) -> list[int]:
    """Ids of stored outcomes whose values are outside today's bounds (see ``_valid_outcome``)."""
    rows = store.query("SELECT * FROM outcomes ORDER BY id")
    return [int(row["id"]) for row in rows if _valid_outcome(row) is None]


def count_outcomes(store: StateStore) -> int:
    return int(store.scalar("SELECT count(*) FROM outcomes"))


def outcome_counts_by_provider(store: StateStore) -> dict[str, ProviderOutcomeCounts]:
    """Per provider: how many outcomes were recorded and how many completed."""
    rows = store.query(
        "SELECT provider, count(*) AS total, "
        "sum(CASE WHEN status = ? THEN 1 ELSE 0 END) AS completed "
        "FROM outcomes GROUP BY provider ORDER BY provider",
        [JobStatus.COMPLETED.value],
    )
    return {
        row["provider"]: ProviderOutcomeCounts(
            provider=row["provider"], total=row["total"], completed=row["completed"]
        )
        for row in rows
    }


# --------------------------------------------------------------------------------------------
# Training samples
# --------------------------------------------------------------------------------------------


def _sample_row(sample: TrainingSample, outcome_id: int | None) -> dict[str, Any]:
    return {
        "outcome_id": outcome_id,
        "query_id": sample.query_id,
        "recommendation_id": sample.recommendation_id,
        "rank": sample.rank,
        "candidate_id": sample.candidate_id,
        "features_json": encode_json(list(sample.features)),
        "feature_schema_version": sample.feature_schema_version,
        "label": sample.label,
        "source": sample.source.value,
        "created_at": encode_datetime(sample.created_at),
    }


def _check_outcome(store: StateStore, outcome_id: int | None) -> None:
    if (
        outcome_id is not None
        and store.scalar("SELECT 1 FROM outcomes WHERE id = ?", [outcome_id]) is None
    ):
        raise NotFoundError(f"outcome {outcome_id} not found")


def add_training_sample(
    store: StateStore, sample: TrainingSample, *, outcome_id: int | None = None
) -> int:
    """Store one labelled feature row (from outcome ``outcome_id`` if any); return its id."""
    with store.transaction():
        _check_outcome(store, outcome_id)
        return store.insert("training_samples", _sample_row(sample, outcome_id))


def add_training_samples(
    store: StateStore,
    samples: Sequence[TrainingSample],
    *,
    outcome_ids: Sequence[int | None] | None = None,
) -> int:
    """Store many samples in one transaction (the simulator's bulk path); return the count."""
    if outcome_ids is not None and len(outcome_ids) != len(samples):
        raise InvalidInputError(
            f"outcome_ids: {len(outcome_ids)} ids for {len(samples)} training samples"
        )
    ids: Sequence[int | None] = outcome_ids if outcome_ids is not None else [None] * len(samples)
    rows = [
        _sample_row(sample, outcome_id) for sample, outcome_id in zip(samples, ids, strict=True)
    ]
    with store.transaction():
        for outcome_id in {i for i in ids if i is not None}:
            _check_outcome(store, outcome_id)
        if rows:
            store.insert_rows("training_samples", rows)
    return len(rows)


@reads_row("training_samples")
def _sample(row: dict[str, Any]) -> TrainingSample:
    from artenic_opt.schemas import TrainingSample

    return TrainingSample(
        query_id=row["query_id"],
        recommendation_id=row["recommendation_id"],
        rank=row["rank"],
        candidate_id=row["candidate_id"],
        features=tuple(decode_json(row["features_json"])),
        feature_schema_version=row["feature_schema_version"],
        label=row["label"],
        source=row["source"],
        created_at=decode_datetime(row["created_at"]),
    )


def _sample_filter(
    since: datetime | None, feature_schema_version: int | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if feature_schema_version is not None:
        clauses.append("feature_schema_version = ?")
        params.append(feature_schema_version)
    if since is not None:
        clauses.append("created_at > ?")
        params.append(encode_datetime(since))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def list_training_samples(
    store: StateStore, *, feature_schema_version: int | None = None
) -> list[TrainingSample]:
    """Samples grouped by query id (LTR groups must be contiguous), oldest first within one."""
    where, params = _sample_filter(None, feature_schema_version)
    rows = store.query(f"SELECT * FROM training_samples {where} ORDER BY query_id, id", params)
    return [_sample(row) for row in rows]


def count_training_samples(
    store: StateStore,
    *,
    since: datetime | None = None,
    feature_schema_version: int | None = None,
) -> int:
    """How many samples exist (created strictly after ``since``, when given)."""
    where, params = _sample_filter(since, feature_schema_version)
    return int(store.scalar(f"SELECT count(*) FROM training_samples {where}", params))


def count_training_queries(store: StateStore, *, feature_schema_version: int | None = None) -> int:
    """How many distinct query ids (LTR groups) the samples cover."""
    where, params = _sample_filter(None, feature_schema_version)
    return int(
        store.scalar(f"SELECT count(DISTINCT query_id) FROM training_samples {where}", params)
    )
