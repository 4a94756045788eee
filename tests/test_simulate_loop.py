"""The pieces compose: advisor -> world -> outcome -> label -> sample -> LTR -> hybrid advisor."""

from __future__ import annotations

import numpy as np

from artenic_opt.catalog import load_catalog
from artenic_opt.errors import InfeasibleError
from artenic_opt.schemas import TrainingSample
from artenic_opt.simulate import RunSpec, World, generate_workloads, true_cost_table
from artenic_opt.training_advisor import FEATURE_NAMES, FEATURE_SCHEMA_VERSION, TrainingAdvisor
from artenic_opt.training_advisor.feedback_collector import CandidateRecord, FeedbackCollector
from artenic_opt.training_advisor.ltr_ranker import LTRParams, LTRRanker
from artenic_opt.types import OptimizerMode


def test_a_closed_loop_is_a_few_lines() -> None:
    catalog = load_catalog()
    world = World(0)
    rng = np.random.default_rng(0)
    advisor = TrainingAdvisor(catalog)
    collector = FeedbackCollector(feature_schema_version=FEATURE_SCHEMA_VERSION)
    samples: list[TrainingSample] = []
    for i, workload in enumerate(generate_workloads(0, 40)):
        try:
            result = advisor.recommend(workload, top=10)
        except InfeasibleError:
            continue
        recs = result.advice.recommendations
        # The top pick, plus two exploratory picks among the top 10.
        extra = rng.choice(np.arange(1, len(recs)), size=min(2, len(recs) - 1), replace=False)
        for position in (0, *(int(p) for p in extra)):
            pick = recs[position]
            outcome = world.run(workload, pick.offering, pick.nodes, pick.spot, trial=i)
            job = outcome.in_currency(pick.currency).to_job_outcome(
                result.advice.recommendation_id, pick.rank
            )
            stored = CandidateRecord.from_row(
                query_id=result.advice.query_id,
                recommendation_id=result.advice.recommendation_id,
                rank=pick.rank,
                candidate_id=result.candidate_ids[position],
                features=result.feature_rows[position],
                feature_schema_version=result.feature_schema_version,
                estimated_cost=pick.estimated_cost,
                estimated_hours=pick.estimated_hours,
                currency=pick.currency,
                recommended_cost=recs[0].estimated_cost,
            )
            samples.append(collector.collect(job, stored))

    assert len(samples) >= 50
    assert len({s.label for s in samples}) >= 3
    ranker = LTRRanker(
        feature_names=FEATURE_NAMES,
        feature_schema_version=FEATURE_SCHEMA_VERSION,
        params=LTRParams(n_estimators=30),
    )
    metrics = ranker.train(samples)
    assert metrics.groups >= 1

    hybrid = TrainingAdvisor(catalog, ltr_model=ranker, mode=OptimizerMode.HYBRID)
    workload = generate_workloads(99, 1, families=["llm-lora"])[0]
    advice = hybrid.recommend(workload, top=5).advice
    assert advice.mode is OptimizerMode.HYBRID
    assert all(r.ltr_score is not None for r in advice.recommendations)
    table = true_cost_table(
        world, workload, [RunSpec(r.offering, r.nodes, r.spot) for r in advice.recommendations]
    )
    assert table.relevance().shape == (len(advice.recommendations),)
