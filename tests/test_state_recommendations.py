"""Recommendations, outcomes, training samples and model versions: round trips and rules."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import ModelInfo, RankingMetrics
from artenic_opt.state import (
    UNLINKED,
    StateStore,
    activate_model_version,
    active_model,
    add_training_sample,
    add_training_samples,
    candidate_features,
    count_outcomes,
    count_recommendations,
    count_training_queries,
    count_training_samples,
    deactivate_models,
    find_recommendation_by_job,
    get_model_version,
    get_outcome,
    get_recommendation,
    insert_outcome,
    list_candidates,
    list_model_versions,
    list_outcomes,
    list_recommendations,
    list_training_samples,
    next_model_version,
    open_state,
    outcome_counts_by_provider,
    outcome_for_job,
    record_model_version,
    resolve_recommendation_id,
    save_recommendation,
    set_dispatch,
)
from artenic_opt.types import FailureReason, JobStatus, OutcomeSource
from tests.factories import (
    T0,
    feature_rows,
    make_advice,
    make_outcome,
    make_sample,
    make_workload,
)

REC = "rec-0001-aaaa"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with open_state(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
def saved(store: StateStore) -> StateStore:
    save_recommendation(store, make_advice(REC), feature_rows(3), 2)
    return store


def _record(store: StateStore, **outcome: object) -> int:
    return insert_outcome(
        store,
        make_outcome(**outcome),  # type: ignore[arg-type]
        provider="aws",
        region="us-east-1",
        instance_type="type-1",
        spot=False,
        label=3,
    )


# --------------------------------------------------------------------------------------------
# Recommendations
# --------------------------------------------------------------------------------------------


def test_recommendation_round_trip_is_exact(store: StateStore) -> None:
    advice = make_advice(REC)
    save_recommendation(store, advice, feature_rows(3), 2)
    assert get_recommendation(store, REC) == advice
    assert count_recommendations(store) == 1


def test_recommendation_without_features(store: StateStore) -> None:
    save_recommendation(store, make_advice(REC))
    candidate = candidate_features(store, REC, 2)
    assert candidate.features is None
    assert candidate.feature_schema_version is None


def test_candidates_keep_their_feature_rows(saved: StateStore) -> None:
    candidates = list_candidates(saved, REC)
    assert [c.rank for c in candidates] == [1, 2, 3]
    second = candidate_features(saved, REC, 2)
    assert second.features == tuple(feature_rows(3)[1])
    assert second.feature_schema_version == 2
    assert second.query_id == make_workload().query_id
    assert second.candidate_id == "aws/us-east-1/type-2#1#on_demand"
    assert (second.provider, second.instance_type, second.spot) == ("aws", "type-2", False)
    assert second.estimated_cost == pytest.approx(32.77 * 20)
    with pytest.raises(NotFoundError, match=f"recommendation {REC} has no candidate at rank 9"):
        candidate_features(saved, REC, 9)


def test_nan_features_survive(store: StateStore) -> None:
    rows = feature_rows(3)
    rows[0][1] = math.nan
    save_recommendation(store, make_advice(REC), rows, 1)
    features = candidate_features(store, REC, 1).features
    assert features is not None and math.isnan(features[1])


def test_feature_rows_must_match_candidates(store: StateStore) -> None:
    with pytest.raises(InvalidInputError, match="feature_rows: 2 rows for 3 candidates"):
        save_recommendation(store, make_advice(REC), feature_rows(2), 1)
    with pytest.raises(InvalidInputError, match="feature_schema_version: required"):
        save_recommendation(store, make_advice(REC), feature_rows(3), None)
    assert count_recommendations(store) == 0


def test_duplicate_recommendation_is_refused(saved: StateStore) -> None:
    with pytest.raises(InvalidInputError, match=f"recommendation {REC} is already stored"):
        save_recommendation(saved, make_advice(REC))
    assert count_recommendations(saved) == 1


def test_repeated_ranks_are_refused(store: StateStore) -> None:
    advice = make_advice(REC)
    twice = advice.model_copy(
        update={"recommendations": (advice.recommendations[0], advice.recommendations[0])}
    )
    with pytest.raises(InvalidInputError, match=r"ranks of recommendation .* repeat"):
        save_recommendation(store, twice)


def test_recommendation_without_candidates(store: StateStore) -> None:
    save_recommendation(store, make_advice(REC, candidates=0))
    (summary,) = list_recommendations(store)
    assert summary.candidate_count == 0
    assert summary.top_provider is None and summary.top_spot is None


def test_id_prefix_resolution(store: StateStore) -> None:
    save_recommendation(store, make_advice("abcdef-111"))
    save_recommendation(store, make_advice("abcdef-222"))
    save_recommendation(store, make_advice("abcdef-223"))
    assert resolve_recommendation_id(store, "abcdef-1") == "abcdef-111"
    assert get_recommendation(store, "abcdef-1").recommendation_id == "abcdef-111"
    assert resolve_recommendation_id(store, "  abcdef-111 ") == "abcdef-111"
    with pytest.raises(InvalidInputError, match="abcdef-2 is ambiguous: it matches abcdef-222"):
        resolve_recommendation_id(store, "abcdef-2")
    with pytest.raises(InvalidInputError, match=r"abcdef is ambiguous: .*, \.\.\."):
        resolve_recommendation_id(store, "abcdef")
    with pytest.raises(NotFoundError, match="at least 6 characters"):
        resolve_recommendation_id(store, "abc")
    with pytest.raises(NotFoundError, match="recommendation zzzzzzz not found"):
        get_recommendation(store, "zzzzzzz")
    with pytest.raises(InvalidInputError, match="must not be empty"):
        resolve_recommendation_id(store, "  ")


def test_prefix_with_like_wildcards_is_literal(store: StateStore) -> None:
    save_recommendation(store, make_advice("abc%ef-1"))
    save_recommendation(store, make_advice("abcXef-1"))
    assert resolve_recommendation_id(store, "abc%ef") == "abc%ef-1"


def test_list_recommendations_newest_first_with_outcome(store: StateStore) -> None:
    for i in range(5):
        save_recommendation(
            store,
            make_advice(
                f"rec-{i}",
                created_at=T0 + timedelta(hours=i),
                workload=make_workload(f"job-{i}"),
            ),
        )
    insert_outcome(
        store,
        make_outcome("rec-3", rank=2, status=JobStatus.FAILED),
        provider="aws",
        region="us-east-1",
        instance_type="type-2",
        spot=False,
        label=0,
    )
    insert_outcome(
        store,
        make_outcome("rec-3", rank=1),
        provider="aws",
        region="us-east-1",
        instance_type="type-1",
        spot=False,
        label=4,
    )
    summaries = list_recommendations(store)
    assert [s.recommendation_id for s in summaries] == [f"rec-{i}" for i in range(4, -1, -1)]
    rec3 = summaries[1]
    assert rec3.workload_name == "job-3"
    assert rec3.outcome_status is JobStatus.COMPLETED
    assert rec3.outcome_rank == 1
    assert rec3.candidate_count == 3
    assert (rec3.top_provider, rec3.top_instance_type, rec3.top_spot) == ("aws", "type-1", False)
    assert rec3.top_currency == "USD"
    assert summaries[0].outcome_status is None
    page = list_recommendations(store, limit=2, offset=2)
    assert [s.recommendation_id for s in page] == ["rec-2", "rec-1"]
    with pytest.raises(InvalidInputError, match="limit"):
        list_recommendations(store, limit=0)
    with pytest.raises(InvalidInputError, match="offset"):
        list_recommendations(store, offset=-1)


def test_dispatch_link(saved: StateStore) -> None:
    assert find_recommendation_by_job(saved, "job-1") is None
    set_dispatch(saved, REC[:8], 2, "job-1", dispatched_at=T0)
    link = find_recommendation_by_job(saved, "job-1")
    assert link is not None
    assert (link.recommendation_id, link.rank, link.job_id) == (REC, 2, "job-1")
    assert link.query_id == make_workload().query_id
    assert link.dispatched_at == T0
    (summary,) = list_recommendations(saved)
    assert (summary.job_id, summary.dispatched_rank, summary.dispatched_at) == ("job-1", 2, T0)


def test_dispatch_rules(saved: StateStore) -> None:
    save_recommendation(saved, make_advice("rec-other-1"))
    set_dispatch(saved, REC, 1, "job-1")
    with pytest.raises(
        InvalidInputError, match=f"job job-1 is already linked to recommendation {REC}"
    ):
        set_dispatch(saved, "rec-other-1", 1, "job-1")
    with pytest.raises(NotFoundError, match="has no candidate at rank 7"):
        set_dispatch(saved, REC, 7, "job-2")
    with pytest.raises(InvalidInputError, match="job_id: must not be empty"):
        set_dispatch(saved, REC, 1, "")
    set_dispatch(saved, REC, 1, "job-1")  # the same link again is fine
    with pytest.raises(InvalidInputError, match=f"{REC} was already dispatched as job job-1"):
        set_dispatch(saved, REC, 2, "job-2")
    set_dispatch(saved, REC, 2, "job-2", replace=True)
    assert find_recommendation_by_job(saved, "job-1") is None
    link = find_recommendation_by_job(saved, "job-2")
    assert link is not None and link.rank == 2


# --------------------------------------------------------------------------------------------
# Outcomes and samples
# --------------------------------------------------------------------------------------------


def test_outcome_round_trip(saved: StateStore) -> None:
    outcome = make_outcome(REC, rank=2, job_id="job-9").model_copy(
        update={
            "status": JobStatus.FAILED,
            "failure_reason": FailureReason.OUT_OF_MEMORY,
            "metric_higher_is_better": False,
            "source": OutcomeSource.PLATFORM,
        }
    )
    outcome_id = insert_outcome(
        saved,
        outcome,
        provider="aws",
        region="us-east-1",
        instance_type="type-2",
        spot=True,
        label=0,
    )
    stored = get_outcome(saved, outcome_id)
    assert stored.outcome == outcome
    assert (stored.provider, stored.instance_type, stored.spot, stored.label) == (
        "aws",
        "type-2",
        True,
        0,
    )
    assert stored.linked
    assert outcome_for_job(saved, "job-9") == stored
    assert outcome_for_job(saved, "job-x") is None
    with pytest.raises(NotFoundError, match="outcome 999 not found"):
        get_outcome(saved, 999)


def test_unlinked_platform_outcome(store: StateStore) -> None:
    outcome = make_outcome(UNLINKED, job_id="platform-job")
    outcome_id = insert_outcome(
        store, outcome, provider="mock", region="eu", instance_type="gpu", spot=False, label=None
    )
    stored = get_outcome(store, outcome_id)
    assert not stored.linked
    assert stored.outcome.recommendation_id == UNLINKED
    assert stored.label is None
    assert store.scalar("SELECT recommendation_id FROM outcomes") is None


def test_outcome_for_unknown_recommendation_or_rank_stores_nothing(saved: StateStore) -> None:
    with pytest.raises(NotFoundError, match="recommendation nope not found"):
        _record(saved, rec_id="nope")
    with pytest.raises(NotFoundError, match=f"recommendation {REC} has no candidate at rank 5"):
        _record(saved, rec_id=REC, rank=5)
    with pytest.raises(InvalidInputError, match="label: must be between 0 and 4, got 7"):
        insert_outcome(
            saved,
            make_outcome(REC),
            provider="aws",
            region="r",
            instance_type="t",
            spot=False,
            label=7,
        )
    assert count_outcomes(saved) == 0


def test_one_outcome_per_job(saved: StateStore) -> None:
    _record(saved, rec_id=REC, job_id="job-1")
    with pytest.raises(InvalidInputError, match="an outcome for job 'job-1' is already recorded"):
        _record(saved, rec_id=REC, rank=2, job_id="job-1")
    _record(saved, rec_id=REC, rank=2)  # outcomes without a job id do not collide
    _record(saved, rec_id=REC, rank=3)
    assert count_outcomes(saved) == 3


def test_outcome_and_sample_are_stored_atomically(saved: StateStore) -> None:
    with pytest.raises(NotFoundError), saved.transaction():
        outcome_id = _record(saved, rec_id=REC)
        add_training_sample(saved, make_sample(REC), outcome_id=outcome_id)
        add_training_sample(saved, make_sample(REC), outcome_id=outcome_id + 100)
    assert count_outcomes(saved) == 0
    assert count_training_samples(saved) == 0

    with saved.transaction():
        outcome_id = _record(saved, rec_id=REC)
        sample_id = add_training_sample(saved, make_sample(REC), outcome_id=outcome_id)
    assert count_outcomes(saved) == 1
    assert saved.scalar("SELECT outcome_id FROM training_samples WHERE id = ?", [sample_id]) == (
        outcome_id
    )


def test_list_outcomes_filters(saved: StateStore) -> None:
    for hours, rank in ((1, 1), (2, 2), (3, 3)):
        _record(saved, rec_id=REC, rank=rank, recorded_at=T0 + timedelta(hours=hours))
    insert_outcome(
        saved,
        make_outcome(UNLINKED, recorded_at=T0 + timedelta(hours=4)),
        provider="gcp",
        region="europe-west4",
        instance_type="a2-highgpu-1g",
        spot=True,
        label=None,
    )
    assert [o.outcome.rank for o in list_outcomes(saved)] == [1, 2, 3, 1]
    since = list_outcomes(saved, since=T0 + timedelta(hours=2))
    assert [o.outcome.recorded_at for o in since] == [T0 + timedelta(hours=h) for h in (2, 3, 4)]
    assert len(list_outcomes(saved, recommendation_id=REC)) == 3
    assert [o.provider for o in list_outcomes(saved, provider="gcp")] == ["gcp"]


def test_outcome_counts_by_provider(saved: StateStore) -> None:
    _record(saved, rec_id=REC, rank=1)
    _record(saved, rec_id=REC, rank=2, status=JobStatus.FAILED)
    insert_outcome(
        saved,
        make_outcome(UNLINKED),
        provider="gcp",
        region="r",
        instance_type="t",
        spot=False,
        label=None,
    )
    counts = outcome_counts_by_provider(saved)
    assert set(counts) == {"aws", "gcp"}
    assert (counts["aws"].total, counts["aws"].completed) == (2, 1)
    assert counts["aws"].success_rate == 0.5
    assert counts["gcp"].success_rate == 1.0


def test_training_samples_round_trip_grouped_by_query(store: StateStore) -> None:
    samples = [
        make_sample("r2", 1, query_id="q2", label=1, created_at=T0),
        make_sample("r1", 1, query_id="q1", label=4, created_at=T0 + timedelta(minutes=1)),
        make_sample("r2", 2, query_id="q2", label=2, created_at=T0 + timedelta(minutes=2)),
    ]
    for sample in samples:
        add_training_sample(store, sample)
    listed = list_training_samples(store)
    assert [(s.query_id, s.rank) for s in listed] == [("q1", 1), ("q2", 1), ("q2", 2)]
    first = listed[1]
    assert first.model_dump(exclude={"features"}) == samples[0].model_dump(exclude={"features"})
    assert math.isnan(first.features[2]) and first.features[:2] == (1.0, 2.5)
    assert count_training_samples(store) == 3
    assert count_training_samples(store, since=T0) == 2
    assert count_training_samples(store, feature_schema_version=3) == 0
    assert count_training_queries(store) == 2
    assert list_training_samples(store, feature_schema_version=3) == []


def test_bulk_training_samples(saved: StateStore) -> None:
    outcome_id = _record(saved, rec_id=REC)
    samples = [make_sample(REC, rank=r, query_id=f"q{r % 2}") for r in range(1, 4)]
    assert add_training_samples(saved, samples, outcome_ids=[outcome_id, None, None]) == 3
    assert add_training_samples(saved, []) == 0
    assert count_training_samples(saved) == 3
    with pytest.raises(InvalidInputError, match="outcome_ids: 1 ids for 3 training samples"):
        add_training_samples(saved, samples, outcome_ids=[outcome_id])
    with pytest.raises(NotFoundError, match="outcome 404 not found"):
        add_training_samples(saved, samples, outcome_ids=[404, None, None])
    assert count_training_samples(saved) == 3


# --------------------------------------------------------------------------------------------
# Model versions
# --------------------------------------------------------------------------------------------


def _model(version: int, *, active: bool = True, metrics: bool = True) -> ModelInfo:
    return ModelInfo(
        version=version,
        path=f"state-models/ltr-v{version}.txt",
        trained_at=T0 + timedelta(days=version),
        sample_count=100 * version,
        query_count=10 * version,
        feature_schema_version=2,
        metrics=RankingMetrics(ndcg_at_5=0.8, ndcg_at_10=0.85, mrr=0.7, groups=10)
        if metrics
        else None,
        sha256="ab" * 32,
        active=active,
    )


def test_model_versions(store: StateStore) -> None:
    assert active_model(store) is None
    assert next_model_version(store) == 1
    assert record_model_version(store, _model(1)) == _model(1)
    record_model_version(store, _model(2, metrics=False))
    assert next_model_version(store) == 3
    active = active_model(store)
    assert active == _model(2, metrics=False)
    assert get_model_version(store, 1) == _model(1, active=False)
    assert [m.version for m in list_model_versions(store)] == [2, 1]

    record_model_version(store, _model(3, active=False))
    assert active_model(store) == active

    assert activate_model_version(store, 1) == _model(1)
    assert [m.version for m in list_model_versions(store) if m.active] == [1]

    deactivate_models(store)
    assert active_model(store) is None

    with pytest.raises(InvalidInputError, match="model version 2 is already recorded"):
        record_model_version(store, _model(2))
    with pytest.raises(NotFoundError, match="model version 42 not found"):
        activate_model_version(store, 42)


def _damage(store: StateStore, sql: str) -> None:
    with store.transaction():
        store.execute(sql)


def test_damaged_stored_json_is_one_state_error_naming_the_row(store: StateStore) -> None:
    """A row edited by hand or damaged: exit 2 naming the table and row, not an internal error."""
    from artenic_opt.errors import ExitCode, StateError

    save_recommendation(store, make_advice(REC), feature_rows(3), 1)
    save_recommendation(store, make_advice("rec-0002-bbbb"), feature_rows(3), 1)
    _damage(store, f"UPDATE recommendations SET advice_json = '{{garbage' WHERE id = '{REC}'")
    with pytest.raises(StateError) as info:
        get_recommendation(store, REC)
    message = str(info.value)
    assert message.startswith(f"stored recommendations row {REC} cannot be read (")
    assert "Invalid JSON" in message and "\n" not in message
    assert info.value.exit_code is ExitCode.USAGE
    assert get_recommendation(store, "rec-0002-bbbb").recommendation_id == "rec-0002-bbbb"
    _damage(store, f"UPDATE recommendations SET workload_json = '[1,' WHERE id = '{REC}'")
    with pytest.raises(StateError, match=f"stored recommendations row {REC} cannot be read"):
        list_recommendations(store)
    _damage(store, "UPDATE recommendation_candidates SET features_json = 'nope'")
    with pytest.raises(StateError, match="stored recommendation_candidates row"):
        list_candidates(store, "rec-0002-bbbb")


def test_an_out_of_bounds_outcome_is_still_skipped_but_a_damaged_one_is_an_error(
    store: StateStore,
) -> None:
    from artenic_opt.errors import StateError

    save_recommendation(store, make_advice(REC), feature_rows(3), 1)
    with store.transaction():
        _record(store)
    _damage(store, "UPDATE outcomes SET hours = 1e308")
    assert list_outcomes(store) == []  # left out of analyses, as before
    _damage(store, "UPDATE outcomes SET hours = 1, recorded_at = 'last tuesday'")
    with pytest.raises(StateError, match="stored outcomes row 1 cannot be read"):
        list_outcomes(store)
