"""Wall time of the CLI as a real process: ``--help``, ``status`` and ``recommend``.

``recommend`` runs the 7B LoRA example end to end (catalog, estimates, ranking, storing the
recommendation in a fresh state) with ``--json``; the issue's target is 400 ms.

Installed packages run from compiled bytecode; this script makes sure ours has it (an editable
install under ``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile every module on every run,
which measures the compiler, not the tool). ``--no-bytecode`` measures that case too.

Usage: ``python bench/bench_startup.py [--runs N]``. Prints the median and the spread in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def time_command(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="Keep PYTHONDONTWRITEBYTECODE as it is."
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ARTENIC_OPT_STATE": os.path.join(tmp, "state.db")}
        env["ARTENIC_OPT_CONFIG"] = os.path.join(tmp, "config.toml")
        if not opts.no_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            import artenic_opt

            package = os.path.dirname(artenic_opt.__file__)
            subprocess.run([sys.executable, "-m", "compileall", "-q", package], env=env, check=True)
        # Time the console script people run; fall back to ``python -m`` without an install.
        script = os.path.join(os.path.dirname(sys.executable), "artenic-opt")
        prog = [script] if os.path.exists(script) else [sys.executable, "-m", "artenic_opt"]
        cases = {
            "artenic-opt --help": [*prog, "--help"],
            "artenic-opt status --no-probe": [
                *prog,
                "status",
                "--no-probe",
            ],
            "artenic-opt recommend (7B LoRA example)": [
                *prog,
                "recommend",
                "--workload",
                os.path.join(EXAMPLES, "llm-lora-7b.toml"),
                "--json",
            ],
        }
        time_command([sys.executable, "-m", "artenic_opt", "--help"], 2, env)  # warm caches
        print(f"{'command':42} {'median ms':>10} {'min':>8} {'max':>8}  (runs={opts.runs})")
        for name, args in cases.items():
            t = time_command(args, opts.runs, env)
            print(f"{name:42} {statistics.median(t):10.1f} {min(t):8.1f} {max(t):8.1f}")


if __name__ == "__main__":
    main()
