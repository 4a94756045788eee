"""Time to load the embedded price catalog, and to query it.

Usage: ``python bench/bench_catalog.py [--runs N]``. Prints the median and the spread in ms of:

* a cold load: parse and validate the three embedded CSV files and build the numpy columns
  (the per-process cost; the cache is cleared before each run);
* a cached ``load_catalog()`` call;
* ``load_catalog`` with 100 overlay rows and a discount (rebuilds the columns);
* ``filter_offerings`` and ``gpu_price_summary`` on the embedded catalog.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

from artenic_opt.catalog import (
    clear_cache,
    filter_offerings,
    gpu_price_summary,
    load_catalog,
)
from artenic_opt.schemas import Offering


def measure(
    action: Callable[[], object], runs: int, before: Callable[[], None] | None = None
) -> list[float]:
    timings = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def overlay_rows(count: int) -> list[Offering]:
    return [
        Offering(
            provider="OnPrem",
            region="lab",
            instance_type=f"node-{i}",
            gpu_type="A100 80GB",
            gpu_count=8,
            gpu_memory_gb=80,
            price_per_hour=10 + i / 100,
            currency="EUR",
            source="bench",
            price_date=date(2026, 1, 1),
        )
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    opts = parser.parse_args()
    extra = overlay_rows(100)
    catalog = load_catalog()
    cases: dict[str, tuple[Callable[[], object], Callable[[], None] | None]] = {
        "cold load (parse + validate + columns)": (load_catalog, clear_cache),
        "cached load_catalog()": (load_catalog, None),
        "load_catalog(100 extra rows, discount)": (
            lambda: load_catalog(extra=extra, discounts={"AWS": 10}),
            None,
        ),
        "filter_offerings(gpu='H100')": (lambda: filter_offerings(catalog, gpu="H100"), None),
        "gpu_price_summary()": (lambda: gpu_price_summary(catalog), None),
    }
    print(f"{len(catalog)} offerings, {len(catalog.providers)} providers, {opts.runs} runs")
    for name, (action, before) in cases.items():
        timings = measure(action, opts.runs, before)
        print(
            f"{name:42s} median {statistics.median(timings):7.3f} ms"
            f"  (min {min(timings):.3f}, max {max(timings):.3f})"
        )


if __name__ == "__main__":
    main()
