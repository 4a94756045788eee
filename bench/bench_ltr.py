"""Learning-to-rank speed: training on 10k and 100k samples, scoring a whole-catalog matrix.

Usage: ``python bench/bench_ltr.py [--runs N] [--threads T] [--skip-100k]``. Prints medians
(and min-max) of:

* ``LTRRanker.train`` on 10,000 and 100,000 synthetic samples (groups of 20 candidates, labels
  0-4 from a noisy function of the features). ``train`` fits twice, once without the held-out
  20% of the groups (to measure NDCG) and once on everything, so this is the time ``retrain``
  really takes;
* ``LTRRanker.predict`` over a 500-row matrix (about the whole catalog with spot and on-demand
  candidates) and over 100 rows, with the model trained on 10k samples.

The feature width is the feature extractor's (``FEATURE_NAMES``) when it is importable, else 25.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from artenic_opt.schemas import TrainingSample
from artenic_opt.training_advisor.ltr_ranker import LTRParams, LTRRanker


def feature_width() -> int:
    try:
        from artenic_opt.training_advisor.feature_extractor import FEATURE_NAMES
    except ImportError:
        return 25
    return len(FEATURE_NAMES)


def synthetic_samples(count: int, width: int, group_size: int = 20) -> list[TrainingSample]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(count, width))
    utility = features[:, 0] - 0.5 * features[:, 1] + rng.normal(scale=0.5, size=count)
    labels = np.digitize(utility, [-1.5, -0.5, 0.5, 1.5])
    return [
        TrainingSample(
            query_id=f"q{i // group_size}",
            recommendation_id=f"r{i // group_size}",
            rank=i % group_size + 1,
            candidate_id=f"c{i}",
            features=tuple(features[i].tolist()),
            feature_schema_version=1,
            label=int(labels[i]),
        )
        for i in range(count)
    ]


def measure(action: Callable[[], object], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return timings


def report(label: str, seconds: list[float], unit: str) -> None:
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6}[unit]
    values = [s * scale for s in seconds]
    print(
        f"{label:<44} median {statistics.median(values):10.3f} {unit}"
        f"   (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="training runs per size")
    parser.add_argument("--threads", type=int, default=LTRParams().num_threads)
    parser.add_argument("--skip-100k", action="store_true", help="only the 10k training size")
    args = parser.parse_args()

    width = feature_width()
    params = LTRParams(num_threads=args.threads)
    print(f"features: {width}, LightGBM threads: {args.threads}, trees: {params.n_estimators}")

    # Warm the lazy imports (lightgbm, sklearn) so they do not count against the first run.
    LTRRanker(params=params).train(synthetic_samples(200, width))

    sizes = [10_000] if args.skip_100k else [10_000, 100_000]
    trained: LTRRanker | None = None
    for size in sizes:
        samples = synthetic_samples(size, width)
        ranker = LTRRanker(params=params)
        times = measure(lambda r=ranker, s=samples: r.train(s), args.runs)  # type: ignore[misc]
        report(f"train {size:,} samples ({size // 20:,} groups)", times, "s")
        if trained is None:
            trained = ranker
            metrics = ranker.metrics
            if metrics is not None:
                print(
                    f"{'':<44} held-out NDCG@5 {metrics.ndcg_at_5:.3f} on {metrics.groups} groups"
                )

    assert trained is not None
    rng = np.random.default_rng(1)
    for rows in (500, 100):
        matrix = rng.normal(size=(rows, width))
        trained.predict(matrix)
        times = measure(lambda m=matrix: trained.predict(m), 300)  # type: ignore[misc]
        report(f"predict {rows} rows", times, "ms")


if __name__ == "__main__":
    main()
