"""``demo``: fill a state with a simulated history through the real learning path.

Every simulated job goes recommend -> (simulated) run -> ``record_outcome`` -> retrain, exactly
as a team's jobs would, so ``status``, ``metrics``, ``history``, ``cost``, ``storage`` and the
dashboard all have realistic data on a fresh machine.

Decisions:

* Workloads come from ``simulate.generate_workloads(seed)``; each is recommended once, and its
  top pick plus up to ``EXPLORE_PICKS`` exploratory picks from its top 10 are run in the seeded
  ``World`` (exploring within the top 10 is what lets the ranker learn; picking at random over
  every feasible candidate teaches it little).
* The advisor is rebuilt from the state after every retrain, in ``auto`` mode, so later
  workloads are ranked by the hybrid model once one exists, as in real use.
* Outcomes are dated over the last ``HISTORY_DAYS`` days, oldest first, so spending trends and
  periods have something to show; recommendation times are the real ones.
* A few synthetic datasets with access events (seeded) give the storage views data. They are
  marked as local datasets of the demo, with no files on disk.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from artenic_opt._internal.money import ExchangeRates
from artenic_opt.catalog import Catalog
from artenic_opt.config import Settings
from artenic_opt.errors import InfeasibleError, InvalidInputError
from artenic_opt.schemas import DemoSummary, ReplayWritten
from artenic_opt.services.training import make_advisor, recommend_and_store, record_outcome, retrain
from artenic_opt.simulate import World, generate_workloads, simulate_replay, write_replay_file
from artenic_opt.state import active_model, count_training_samples, platform_records
from artenic_opt.state.datasets import add_access_events, replace_dataset_files, upsert_dataset
from artenic_opt.state.store import StateStore
from artenic_opt.types import OptimizerMode

EXPLORE_PICKS = 3
HISTORY_DAYS = 90
MAX_JOBS = 100_000

ProgressCallback = Callable[[int, int], None]


def _demo_datasets(store: StateStore, rng: np.random.Generator, now: datetime) -> tuple[int, int]:
    """Seeded datasets with hot, warm and cold access patterns, for the storage views."""
    specs = [
        ("clickstream", "csv", 420.0, 30.0),  # read daily
        ("reviews", "json", 180.0, 6.0),
        ("images-2024", "parquet", 2600.0, 0.5),
        ("audit-logs", "csv", 950.0, 0.2),
        ("features", "parquet", 75.0, 12.0),
        ("transcripts", "jsonl", 310.0, 2.0),
    ]
    events: list[platform_records.AccessEvent] = []
    with store.transaction():
        for name, fmt, size_gb, reads_per_month in specs:
            dataset_id = f"demo-{name}_v1"
            created = now - timedelta(days=int(rng.integers(120, 400)))
            size_bytes = int(size_gb * 2**30)
            upsert_dataset(
                store,
                platform_records.DatasetRecord(
                    id=dataset_id,
                    name=f"demo-{name}",
                    version=1,
                    format=fmt,
                    status="active",
                    total_size_bytes=size_bytes,
                    created_at=created,
                    origin=platform_records.DatasetOrigin.PLATFORM,
                    metadata={"demo": True},
                ),
            )
            files = max(1, int(size_gb // 100))
            replace_dataset_files(
                store,
                dataset_id,
                [
                    platform_records.DatasetFileRecord(
                        dataset_id=dataset_id,
                        path=f"part-{i:04d}.{fmt}",
                        size_bytes=size_bytes // files,
                    )
                    for i in range(files)
                ],
            )
            horizon_days = 180
            count = int(rng.poisson(reads_per_month * horizon_days / 30))
            quiet_days = 0 if reads_per_month >= 1 else int(rng.integers(95, 150))
            for _ in range(count):
                age = float(rng.uniform(quiet_days, horizon_days))
                events.append(
                    platform_records.AccessEvent(
                        dataset_id=dataset_id,
                        timestamp=now - timedelta(days=age),
                        operation="read" if rng.random() < 0.8 else "download",
                        source="demo",
                    )
                )
        added = add_access_events(store, events)
    return len(specs), added


def build_demo_state(
    store: StateStore,
    catalog: Catalog,
    settings: Settings,
    rates: ExchangeRates,
    *,
    jobs: int = 300,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> DemoSummary:
    if not 1 <= jobs <= MAX_JOBS:
        raise InvalidInputError(f"--jobs: must be between 1 and {MAX_JOBS}, not {jobs}")
    if not 0 <= seed < 2**31:
        raise InvalidInputError(f"--seed: must be between 0 and {2**31 - 1}, not {seed}")
    clock = now or datetime.now(UTC)
    rng = np.random.default_rng(seed)
    world = World(seed)
    per_workload = 1 + EXPLORE_PICKS
    workloads = generate_workloads(seed, math.ceil(jobs / per_workload) * 2)
    start = clock - timedelta(days=HISTORY_DAYS)
    step = timedelta(days=HISTORY_DAYS) / jobs

    advisor = make_advisor(store, catalog, settings, rates, mode=OptimizerMode.AUTO)
    trained_any = False
    done = used = infeasible = 0
    for workload in workloads:
        if done >= jobs:
            break
        used += 1
        try:
            result = recommend_and_store(store, advisor, workload, top=10, goal=None)
        except InfeasibleError:
            infeasible += 1
            continue
        recs = result.advice.recommendations
        picks = [0]
        if len(recs) > 1:
            extra = rng.choice(
                np.arange(1, len(recs)), size=min(EXPLORE_PICKS, len(recs) - 1), replace=False
            )
            picks.extend(int(p) for p in extra)
        for position in picks:
            if done >= jobs:
                break
            pick = recs[position]
            simulated = world.run(workload, pick.offering, pick.nodes, pick.spot, trial=done)
            outcome = simulated.in_currency(pick.currency, rates).to_job_outcome(
                result.advice.recommendation_id,
                pick.rank,
                recorded_at=start + step * (done + 1),
            )
            record_outcome(store, settings, outcome, rates=rates, auto_retrain=False)
            done += 1
            if on_progress is not None:
                on_progress(done, jobs)
        if retrain(store, settings).trained:
            trained_any = True
            advisor = make_advisor(store, catalog, settings, rates, mode=OptimizerMode.AUTO)
    final = retrain(store, settings, force=not trained_any)
    datasets, events = _demo_datasets(store, rng, clock)
    model = final.model or active_model(store)
    return DemoSummary(
        seed=seed,
        jobs=done,
        workloads=used,
        infeasible_workloads=infeasible,
        outcomes=done,
        training_samples=count_training_samples(store),
        model_version=model.version if model else None,
        datasets=datasets,
        access_events=events,
    )


def write_simulated_replay(
    path: Path, catalog: Catalog, *, workloads: int = 40, runs_per_workload: int = 8, seed: int = 0
) -> ReplayWritten:
    """A replay file of measured runs from the seeded world, for ``evaluate --replay``."""
    if not 1 <= workloads <= 100_000:
        raise InvalidInputError(f"--workloads: must be between 1 and 100000, not {workloads}")
    if not 0 <= seed < 2**31:
        raise InvalidInputError(f"--seed: must be between 0 and {2**31 - 1}, not {seed}")
    if not Path(path).parent.is_dir():
        raise InvalidInputError(f"--replay-out: {Path(path).parent} is not an existing directory")
    world = World(seed)
    chosen = generate_workloads(seed + 10_000, workloads)
    runs = simulate_replay(
        world,
        chosen,
        catalog.offerings,
        runs_per_workload=runs_per_workload,
        rng_or_seed=seed,
    )
    written = write_replay_file(path, runs)
    return ReplayWritten(file=str(path), runs=written, workloads=len(chosen), seed=seed)
