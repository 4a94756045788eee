"""Feedback-loop evaluation and backtest: quality per mode, and how long they take.

Usage: ``python bench/bench_feedback_loop.py [--seeds 0 1 2] [--train-jobs 300]
[--test-workloads 80] [--runs-per-workload 4] [--all-feasible | --widened]
[--replay-workloads 40] [--runs N]``.

Prints, per seed, the evaluation table of ``evaluate_modes`` (heuristic vs ltr vs hybrid on
held-out simulated workloads against the ground truth: mean and median top-1 regret, share
within 5% of the best, NDCG@5, MRR), the total time, and the median (min-max over ``--runs``)
time of a leave-one-workload-out ``backtest`` of a simulated replay file of
``--replay-workloads`` workloads (written to and read back from a temporary JSONL file, so the
parse is timed too), with its table. ``--all-feasible`` ranks every feasible candidate instead of
the heuristic's top 10; ``--widened`` ranks the top 10 widened by the model's outcome support,
the set ``recommend`` lets the model rank.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from artenic_opt.catalog import load_catalog
from artenic_opt.evaluation.simulator import EVALUATION_LTR_PARAMS, evaluate_modes
from artenic_opt.simulate import (
    World,
    generate_workloads,
    read_replay_file,
    simulate_replay,
    write_replay_file,
)
from artenic_opt.training_advisor.evaluation import backtest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-jobs", type=int, default=300)
    parser.add_argument("--test-workloads", type=int, default=80)
    parser.add_argument("--runs-per-workload", type=int, default=4)
    parser.add_argument("--all-feasible", action="store_true")
    parser.add_argument("--widened", action="store_true")
    parser.add_argument("--replay-workloads", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3, help="timed backtest repetitions")
    args = parser.parse_args()
    catalog = load_catalog()

    started = time.perf_counter()
    for seed in args.seeds:
        t0 = time.perf_counter()
        evaluation = evaluate_modes(
            seed,
            train_jobs=args.train_jobs,
            test_workloads=args.test_workloads,
            runs_per_workload=args.runs_per_workload,
            eval_top=None if args.all_feasible else 10,
            catalog=catalog,
            widen=args.widened,
        )
        print(evaluation.table())
        print(
            f"labels 0-4: {list(evaluation.label_counts)}; "
            f"seed time {time.perf_counter() - t0:.2f} s\n"
        )
    print(f"evaluation total: {time.perf_counter() - started:.2f} s for {len(args.seeds)} seeds\n")

    world = World(0)
    workloads = generate_workloads(
        np.random.default_rng([0, 9]), args.replay_workloads, providers=catalog.providers
    )
    runs = simulate_replay(world, workloads, catalog.offerings, runs_per_workload=8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "replay.jsonl"
        write_replay_file(path, runs)
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            report = backtest(
                read_replay_file(path),
                catalog_specs=catalog.gpu_specs,
                params=EVALUATION_LTR_PARAMS,
            )
            timings.append(time.perf_counter() - t0)
    print(report.table())
    print(
        f"backtest of {len(runs)} runs / {args.replay_workloads} workloads (read + "
        f"{report.workloads} folds): median {statistics.median(timings):.2f} s "
        f"(min {min(timings):.2f}, max {max(timings):.2f}) over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
