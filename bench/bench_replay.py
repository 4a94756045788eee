"""Backtest on public measured runs: zero-shot and k-shot regret against the baselines.

For each data set of ``bench/replay_sources.py`` (Scout Hadoop/Spark analytics jobs; Lynceus
TensorFlow training jobs), leave-one-workload-out ``backtest`` with k-shot 0, 1, 3, 6, and prints
the cost of each method's pick over the cheapest measured run (1.00 = optimal; "regret" below is
that ratio), then the issue-14 targets:

* zero runs of the target: mean regret of the learned pick (k=0) and of hybrid at or below the
  cheapest-hourly-price baseline, at most 1.2, hybrid at least 10% better than the heuristic;
* three runs chosen by ``suggest``'s rule (k=3): median regret at most 1.10.

A data set whose files are neither in ``ARTENIC_REPLAY_DATA`` (default
``/work/shared/replay-data``) nor downloadable is skipped with a message.

Run: ``python bench/bench_replay.py`` (about 30 s per data set on one core).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from artenic_opt.catalog import load_catalog
from artenic_opt.training_advisor.evaluation import DEFAULT_KSHOT, backtest
from artenic_opt.training_advisor.ltr_ranker import RETRAIN_LTR_PARAMS
from bench.replay_sources import SOURCES


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SOURCES), help="One data set only.")
    args = parser.parse_args()
    specs = load_catalog().gpu_specs
    for name, load in SOURCES.items():
        if args.only and name != args.only:
            continue
        runs = load()
        if runs is None:
            print(f"{name}: skipped (data not found locally and not downloadable: offline?)")
            continue
        start = time.perf_counter()
        report = backtest(runs, catalog_specs=specs, params=RETRAIN_LTR_PARAMS, kshot=DEFAULT_KSHOT)
        took = time.perf_counter() - start
        print(f"== {name}: {report.runs} runs, {report.workloads} workloads ({took:.0f} s)")
        rows = [(m.mode.value, m.mean_regret, m.median_regret) for m in report.modes]
        rows += [(m.method, m.mean_regret, m.median_regret) for m in report.baselines]
        rows += [(m.method, m.mean_regret, m.median_regret) for m in report.kshot]
        print(f"{'method':<16} {'mean regret':>12} {'median regret':>14}")
        for method, mean, median in rows:
            print(f"{method:<16} {1 + mean:>12.3f} {1 + median:>14.3f}")
        by = {method: (1 + mean, 1 + median) for method, mean, median in rows}
        price = by["cheapest_price"][0]
        learned, hybrid, heuristic = by["k=0"][0], by["hybrid"][0], by["heuristic"][0]
        print(
            f"target zero-shot learned pick <= cheapest price ({learned:.3f} vs {price:.3f}): "
            f"{_verdict(learned <= price)}; <= 1.2: {_verdict(learned <= 1.2)}"
        )
        print(
            f"target zero-shot hybrid <= cheapest price ({hybrid:.3f}): "
            f"{_verdict(hybrid <= price)}; <= 1.2: {_verdict(hybrid <= 1.2)}; "
            f"hybrid regret over the optimum at least 10% below the heuristic's "
            f"({hybrid - 1:.3f} vs {heuristic - 1:.3f}): "
            f"{_verdict(hybrid - 1 <= 0.9 * (heuristic - 1))}"
        )
        k3 = by["k=3"][1]
        print(f"target 3 runs chosen by suggest, median <= 1.10 ({k3:.3f}): {_verdict(k3 <= 1.10)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
