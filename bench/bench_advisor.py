"""Training-advisor speed: feature extraction per pair and heuristic ranking.

Usage: ``python bench/bench_advisor.py [--runs N]``. Prints the median (and min-max) of:

* batched feature extraction over every candidate of the embedded catalog, per (workload,
  candidate) pair, with the memory/time/cost estimates included (what a cold call costs) and
  with the estimates already computed (what the advisor pays after ranking);
* single-pair extraction (``extract_single`` of one candidate row, with its set's context);
* heuristic ranking of 100 offerings and of the whole catalog: candidate expansion, estimates,
  hard filters, scores and the ordered result, i.e. ``rank_offerings`` end to end;
* ``TrainingAdvisor.recommend`` (top 10), which adds features and the advice objects, and the
  same in hybrid mode with a model trained on 300 simulated feedback jobs (LightGBM scoring the
  top 10 widened by the model's outcome support).

* the training-plan search (``estimate.plans.search_plans``) over every candidate of the whole
  catalog, for a 7B LoRA, a 13B full fine-tune on one node and a distributed 70B.

Targets (issue 3): batched extraction <= 5 us per pair, a single pair <= 100 us, ranking 100
offerings <= 2 ms, the whole catalog <= 5 ms. Issue 12: the plan search over the whole catalog
<= 10 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from artenic_opt.catalog import Catalog, load_catalog
from artenic_opt.estimate.plans import search_plans
from artenic_opt.evaluation.simulator import collect_feedback
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.simulate import World
from artenic_opt.training_advisor import (
    TrainingAdvisor,
    build_candidates,
    estimate_candidates,
    extract_features,
    extract_single,
    rank_offerings,
)
from artenic_opt.training_advisor.evaluation import EVALUATION_LTR_PARAMS, new_ranker
from artenic_opt.training_advisor.ltr_ranker import LTRRanker

LORA_7B = WorkloadProfile(
    name="llama-7b-lora",
    model_params_m=7000,
    dataset_size_gb=1,
    num_epochs=3,
    fine_tuning="lora",
    batch_size=4,
    gradient_checkpointing=True,
)
FULL_70B_DISTRIBUTED = WorkloadProfile(
    name="llama-70b-full",
    framework="transformers",
    model_params_m=70000,
    dataset_size_gb=50,
    batch_size=1,
    gradient_checkpointing=True,
    distributed=True,
    max_nodes=8,
)


def measure(action: Callable[[], object], runs: int, inner: int = 1) -> list[float]:
    """Seconds per call of ``action``, one figure per run of ``inner`` calls."""
    action()  # warm caches (catalog, workload facts)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(inner):
            action()
        timings.append((time.perf_counter() - start) / inner)
    return timings


def run_all(calls: Sequence[Callable[[], object]]) -> None:
    for call in calls:
        call()


def report(label: str, seconds: list[float], *, scale: float, unit: str, target: float) -> None:
    values = [s * scale for s in seconds]
    median = statistics.median(values)
    verdict = "ok" if median <= target else "over target"
    print(
        f"{label:<58} median {median:9.2f} {unit}  (min {min(values):.2f}, "
        f"max {max(values):.2f})  target <= {target:g} {unit}: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    runs: int = args.runs

    catalog = load_catalog()
    arrays = catalog.arrays
    print(f"catalog: {len(arrays)} offerings; runs per figure: {runs}")

    for workload in (LORA_7B, FULL_70B_DISTRIBUTED):
        candidates = build_candidates(workload, arrays)
        n = len(candidates)
        estimates = estimate_candidates(workload, candidates)
        features = extract_features(workload, candidates, estimates=estimates)
        print(f"\n{workload.name}: {n} candidates")
        report(
            "batched extraction per pair, estimates included",
            measure(partial(extract_features, workload, candidates), runs),
            scale=1e6 / n,
            unit="us",
            target=5,
        )
        report(
            "batched extraction per pair, estimates given",
            measure(partial(extract_features, workload, candidates, estimates=estimates), runs),
            scale=1e6 / n,
            unit="us",
            target=5,
        )
        rows = [candidates.row(int(i)) for i in np.linspace(0, n - 1, 20).astype(int)]
        singles = [partial(extract_single, workload, row, context=features.context) for row in rows]
        report(
            "single pair (extract_single, one candidate row)",
            measure(partial(run_all, singles), runs),
            scale=1e6 / len(rows),
            unit="us",
            target=100,
        )

    hundred = arrays.take(np.arange(100))
    print()
    report(
        "rank 100 offerings (7B LoRA, rank_offerings end to end)",
        measure(lambda: rank_offerings(LORA_7B, hundred), runs, inner=5),
        scale=1e3,
        unit="ms",
        target=2,
    )
    report(
        f"rank whole catalog ({len(arrays)} offerings, 7B LoRA)",
        measure(lambda: rank_offerings(LORA_7B, arrays), runs, inner=5),
        scale=1e3,
        unit="ms",
        target=5,
    )
    report(
        "rank whole catalog (70B, distributed 1-8 nodes)",
        measure(lambda: rank_offerings(FULL_70B_DISTRIBUTED, arrays), runs, inner=2),
        scale=1e3,
        unit="ms",
        target=5,
    )
    print()
    full_13b = WorkloadProfile(
        name="13b-full",
        framework="transformers",
        model_params_m=13000,
        dataset_size_gb=1,
        tokens=1e9,
        batch_size=64,
    )
    for workload in (LORA_7B, full_13b, FULL_70B_DISTRIBUTED):
        candidates = build_candidates(workload, arrays)
        report(
            f"plan search, whole catalog ({workload.name}, {len(candidates)} candidates)",
            measure(
                partial(
                    search_plans,
                    workload,
                    gpu_count=candidates.gpu_count,
                    nodes=candidates.nodes,
                    gpu_memory_gb=candidates.gpu_memory_gb,
                    memory_gb=candidates.memory_gb,
                ),
                runs,
                inner=5,
            ),
            scale=1e3,
            unit="ms",
            target=10,
        )
    advisor = TrainingAdvisor(catalog)
    report(
        "TrainingAdvisor.recommend, top 10 (7B LoRA, whole catalog)",
        measure(lambda: advisor.recommend(LORA_7B, top=10), runs, inner=2),
        scale=1e3,
        unit="ms",
        target=5,
    )
    hybrid = TrainingAdvisor(catalog, ltr_model=simulated_model(catalog), mode="hybrid")
    report(
        "recommend hybrid, top 10, widened shortlist (7B LoRA)",
        measure(lambda: hybrid.recommend(LORA_7B, top=10), runs, inner=2),
        scale=1e3,
        unit="ms",
        target=10,
    )


def simulated_model(catalog: Catalog) -> LTRRanker:
    """A ranker trained as production retrains, on 300 simulated feedback jobs (seed 0)."""
    samples, _, _ = collect_feedback(World(0), TrainingAdvisor(catalog), seed=0, train_jobs=300)
    ranker = new_ranker(EVALUATION_LTR_PARAMS, holdout_share=0.0)
    ranker.train(samples)
    return ranker


if __name__ == "__main__":
    main()
