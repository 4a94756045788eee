"""Stored recommendations: the advice as given, its ranked candidates and their feature rows.

Decisions:

* The full ``TrainingAdvice`` is kept as JSON (``advice_json``), so ``history show`` returns
  exactly what ``recommend`` printed, whatever later code changes. The fields that queries need
  (query id, time, dispatch link) and one row per candidate are stored as columns beside it.
* Each candidate keeps the feature row it had when it was recommended (``features_json``, with
  its feature schema version): a training sample built later from an outcome must describe the
  offering as the ranker saw it then, not as the catalog prices it today.
* A recommendation can be referred to by a unique prefix of its id of at least
  ``MIN_PREFIX_LENGTH`` characters, like a git commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import TrainingAdvice
from artenic_opt.state._codec import (
    decode_bool,
    decode_datetime,
    decode_json,
    decode_optional_datetime,
    encode_bool,
    encode_datetime,
    encode_json,
    reads_row,
    utc_now,
)
from artenic_opt.state.store import StateStore
from artenic_opt.types import JobStatus

if TYPE_CHECKING:
    from artenic_opt.state.history_records import (
        DispatchLink,
        RecommendationSummary,
        StoredCandidate,
    )

MIN_PREFIX_LENGTH = 6

# Sorts after every character a recommendation id can contain, so [prefix, prefix + _TOP) is
# the index range of ids starting with prefix.
_TOP = "\U0010ffff"


def save_recommendation(
    store: StateStore,
    advice: TrainingAdvice,
    feature_rows: Sequence[Sequence[float]] | None = None,
    feature_schema_version: int | None = None,
) -> None:
    """Store ``advice`` with one feature row per candidate (in rank order), if given."""
    candidates = advice.recommendations
    if feature_rows is not None:
        if len(feature_rows) != len(candidates):
            raise InvalidInputError(
                f"feature_rows: {len(feature_rows)} rows for {len(candidates)} candidates of "
                f"recommendation {advice.recommendation_id}"
            )
        if feature_schema_version is None:
            raise InvalidInputError("feature_schema_version: required when feature rows are given")
    record = {
        "id": advice.recommendation_id,
        "query_id": advice.query_id,
        "created_at": encode_datetime(advice.created_at),
        "workload_json": advice.workload.model_dump_json(),
        "mode": advice.mode.value,
        "goal": advice.goal.value,
        "model_version": advice.model_version,
        "display_currency": advice.display_currency,
        "advice_json": advice.model_dump_json(),
        "job_id": None,
        "dispatched_rank": None,
        "dispatched_at": None,
    }
    rows = []
    for index, candidate in enumerate(candidates):
        features = None if feature_rows is None else [float(x) for x in feature_rows[index]]
        offering = candidate.offering
        rows.append(
            {
                "recommendation_id": advice.recommendation_id,
                "rank": candidate.rank,
                "candidate_id": candidate.candidate_id,
                "provider": offering.provider,
                "region": offering.region,
                "instance_type": offering.instance_type,
                "gpu_type": offering.gpu_type,
                "gpu_count": offering.gpu_count,
                "nodes": candidate.nodes,
                "spot": encode_bool(candidate.spot),
                "score": candidate.score,
                "estimated_hours": candidate.estimated_hours,
                "estimated_cost": candidate.estimated_cost,
                "currency": candidate.currency,
                "features_json": None if features is None else encode_json(features),
                "feature_schema_version": None if features is None else feature_schema_version,
            }
        )
    if len({row["rank"] for row in rows}) != len(rows):
        raise InvalidInputError(
            f"recommendations: ranks of recommendation {advice.recommendation_id} repeat"
        )
    with store.transaction():
        if _exists(store, advice.recommendation_id):
            raise InvalidInputError(f"recommendation {advice.recommendation_id} is already stored")
        store.insert_rows("recommendations", [record])
        if rows:
            store.insert_rows("recommendation_candidates", rows)


def _exists(store: StateStore, rec_id: str) -> bool:
    return store.scalar("SELECT 1 FROM recommendations WHERE id = ?", [rec_id]) is not None


def query_is_known(store: StateStore, query_id: str) -> bool:
    """Whether any stored recommendation belongs to the query ``query_id``."""
    row = store.scalar("SELECT 1 FROM recommendations WHERE query_id = ? LIMIT 1", [query_id])
    return row is not None


def resolve_recommendation_id(store: StateStore, ref: str) -> str:
    """Return the full id that ``ref`` (a full id or a unique prefix) stands for."""
    ref = ref.strip()
    if not ref:
        raise InvalidInputError("recommendation id: must not be empty")
    if _exists(store, ref):
        return ref
    if len(ref) < MIN_PREFIX_LENGTH:
        raise NotFoundError(
            f"recommendation {ref} not found (an id prefix needs at least "
            f"{MIN_PREFIX_LENGTH} characters)"
        )
    matches = [
        row["id"]
        for row in store.query(
            "SELECT id FROM recommendations WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
            [ref, ref + _TOP],
        )
    ]
    if not matches:
        raise NotFoundError(f"recommendation {ref} not found")
    if len(matches) > 1:
        shown = ", ".join(matches[:2]) + (", ..." if len(matches) > 2 else "")
        raise InvalidInputError(f"recommendation id {ref} is ambiguous: it matches {shown}")
    return str(matches[0])


def get_recommendation(store: StateStore, rec_id: str) -> TrainingAdvice:
    """The stored advice of ``rec_id`` (a full id or a unique prefix of >= 6 characters)."""
    full_id = resolve_recommendation_id(store, rec_id)
    advice_json = store.scalar("SELECT advice_json FROM recommendations WHERE id = ?", [full_id])
    return _advice({"id": full_id, "advice_json": advice_json})


@reads_row("recommendations")
def _advice(row: dict[str, Any]) -> TrainingAdvice:
    return TrainingAdvice.model_validate_json(row["advice_json"])


def count_recommendations(store: StateStore) -> int:
    return int(store.scalar("SELECT count(*) FROM recommendations"))


_SUMMARY_SQL = """
SELECT r.id, r.query_id, r.created_at, r.workload_json, r.mode, r.goal, r.model_version,
       r.display_currency, r.job_id, r.dispatched_rank, r.dispatched_at,
       (SELECT count(*) FROM recommendation_candidates AS n
         WHERE n.recommendation_id = r.id) AS candidate_count,
       c.provider, c.region, c.instance_type, c.gpu_type, c.gpu_count, c.nodes, c.spot,
       c.estimated_hours, c.estimated_cost, c.currency,
       o.status AS outcome_status, o.rank AS outcome_rank
FROM recommendations AS r
LEFT JOIN recommendation_candidates AS c ON c.recommendation_id = r.id AND c.rank = 1
LEFT JOIN outcomes AS o ON o.id = (
    SELECT max(id) FROM outcomes WHERE outcomes.recommendation_id = r.id)
ORDER BY r.created_at DESC, r.id DESC
LIMIT ? OFFSET ?
"""


def list_recommendations(
    store: StateStore, limit: int = 50, offset: int = 0
) -> list[RecommendationSummary]:
    """Newest first, with the top candidate and the latest outcome status of each."""
    if limit < 1:
        raise InvalidInputError(f"limit: must be at least 1, got {limit}")
    if offset < 0:
        raise InvalidInputError(f"offset: must be 0 or more, got {offset}")
    return [_summary(row) for row in store.query(_SUMMARY_SQL, [limit, offset])]


@reads_row("recommendations")
def _summary(row: dict[str, Any]) -> RecommendationSummary:
    from artenic_opt.state.history_records import RecommendationSummary

    workload = json.loads(row["workload_json"])
    has_top = row["provider"] is not None
    return RecommendationSummary(
        recommendation_id=row["id"],
        query_id=row["query_id"],
        created_at=decode_datetime(row["created_at"]),
        workload_name=str(workload.get("name", "")),
        mode=row["mode"],
        goal=row["goal"],
        model_version=row["model_version"],
        display_currency=row["display_currency"],
        candidate_count=row["candidate_count"],
        top_provider=row["provider"],
        top_region=row["region"],
        top_instance_type=row["instance_type"],
        top_gpu_type=row["gpu_type"],
        top_gpu_count=row["gpu_count"],
        top_nodes=row["nodes"],
        top_spot=decode_bool(row["spot"]) if has_top else None,
        top_estimated_hours=row["estimated_hours"],
        top_estimated_cost=row["estimated_cost"],
        top_currency=row["currency"],
        job_id=row["job_id"],
        dispatched_rank=row["dispatched_rank"],
        dispatched_at=decode_optional_datetime(row["dispatched_at"]),
        outcome_status=None if row["outcome_status"] is None else JobStatus(row["outcome_status"]),
        outcome_rank=row["outcome_rank"],
    )


_CANDIDATE_SQL = """
SELECT c.*, r.query_id FROM recommendation_candidates AS c
JOIN recommendations AS r ON r.id = c.recommendation_id
WHERE c.recommendation_id = ?
"""


@reads_row("recommendation_candidates")
def _candidate(row: dict[str, Any]) -> StoredCandidate:
    from artenic_opt.state.history_records import StoredCandidate

    features = decode_json(row["features_json"])
    return StoredCandidate(
        recommendation_id=row["recommendation_id"],
        query_id=row["query_id"],
        rank=row["rank"],
        candidate_id=row["candidate_id"],
        provider=row["provider"],
        region=row["region"],
        instance_type=row["instance_type"],
        gpu_type=row["gpu_type"],
        gpu_count=row["gpu_count"],
        nodes=row["nodes"],
        spot=decode_bool(row["spot"]),
        score=row["score"],
        estimated_hours=row["estimated_hours"],
        estimated_cost=row["estimated_cost"],
        currency=row["currency"],
        features=None if features is None else tuple(features),
        feature_schema_version=row["feature_schema_version"],
    )


def list_candidates(store: StateStore, rec_id: str) -> list[StoredCandidate]:
    """Every stored candidate of ``rec_id`` (full id or unique prefix), in rank order."""
    full_id = resolve_recommendation_id(store, rec_id)
    rows = store.query(_CANDIDATE_SQL + " ORDER BY c.rank", [full_id])
    return [_candidate(row) for row in rows]


def candidate_features(store: StateStore, rec_id: str, rank: int) -> StoredCandidate:
    """The candidate at ``rank`` of ``rec_id``, with the feature row it was ranked with."""
    full_id = resolve_recommendation_id(store, rec_id)
    row = store.query_one(_CANDIDATE_SQL + " AND c.rank = ?", [full_id, rank])
    if row is None:
        raise NotFoundError(f"recommendation {full_id} has no candidate at rank {rank}")
    return _candidate(row)


def set_dispatch(
    store: StateStore,
    rec_id: str,
    rank: int,
    job_id: str,
    *,
    dispatched_at: datetime | None = None,
    replace: bool = False,
) -> None:
    """Record that the candidate at ``rank`` of ``rec_id`` was dispatched as platform ``job_id``.

    A recommendation links to one job. Linking it to another job needs ``replace=True``, because
    the outcome of the first job could then no longer be traced back to it.
    """
    if not job_id:
        raise InvalidInputError("job_id: must not be empty")
    with store.transaction():
        full_id = resolve_recommendation_id(store, rec_id)
        candidate_features(store, full_id, rank)
        other = store.scalar(
            "SELECT id FROM recommendations WHERE job_id = ? AND id != ?", [job_id, full_id]
        )
        if other is not None:
            raise InvalidInputError(f"job {job_id} is already linked to recommendation {other}")
        current = store.scalar("SELECT job_id FROM recommendations WHERE id = ?", [full_id])
        if current is not None and current != job_id and not replace:
            raise InvalidInputError(
                f"recommendation {full_id} was already dispatched as job {current}"
            )
        store.execute(
            "UPDATE recommendations SET job_id = ?, dispatched_rank = ?, dispatched_at = ? "
            "WHERE id = ?",
            [job_id, rank, encode_datetime(dispatched_at or utc_now()), full_id],
        )


def find_recommendation_by_job(store: StateStore, job_id: str) -> DispatchLink | None:
    """The recommendation a platform job was dispatched from, or ``None``."""
    from artenic_opt.state.history_records import DispatchLink

    row = store.query_one(
        "SELECT id, query_id, dispatched_rank, job_id, dispatched_at FROM recommendations "
        "WHERE job_id = ?",
        [job_id],
    )
    if row is None:
        return None
    return DispatchLink(
        recommendation_id=row["id"],
        query_id=row["query_id"],
        rank=row["dispatched_rank"],
        job_id=row["job_id"],
        dispatched_at=decode_optional_datetime(row["dispatched_at"]),
    )
