"""``recommend`` start-up against an older commit: paired wall time and instruction counts.

``bench_startup.py`` times one tree; on a shared machine its medians move by tens of ms from one
round to the next. This script compares two trees in one run: it alternates ``artenic-opt
recommend --workload examples/llm-lora-7b.toml --json`` of the old tree (a worktree of the old
commit, run with ``PYTHONPATH`` pointing at it, with its own example file) and of this install,
each with its own state created by a first run, and reports both medians, the median of the
paired differences and in how many pairs this tree was faster. ``--callgrind`` also counts the
instructions of one run of each under valgrind (``PYTHONHASHSEED=0``; the stable figure).

Usage::

    git worktree add /tmp/old 8554976
    python bench/bench_startup_compare.py --old /tmp/old [--pairs 40] [--callgrind]
        [--old-env OPENBLAS_NUM_THREADS=1]

``--old-env`` sets a variable for the old tree only: 8554976 starts an OpenBLAS worker thread
that spins while numpy loads (this tree sets ``OPENBLAS_NUM_THREADS=1``), so its instruction
count depends on the load of the machine unless that is set.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join("examples", "llm-lora-7b.toml")


def _run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, capture_output=True, check=True)
    return (time.perf_counter() - start) * 1000


def _instructions(args: list[str], env: dict[str, str], out: str) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *args],
        env={**env, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", required=True, help="Worktree of the old commit.")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--old-env", action="append", default=[], metavar="KEY=VALUE")
    opts = parser.parse_args()
    script = os.path.join(os.path.dirname(sys.executable), "artenic-opt")
    prog = [script] if os.path.exists(script) else [sys.executable, "-m", "artenic_opt"]
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED")
    }
    trees = {"old": os.path.abspath(opts.old), "new": os.path.dirname(HERE)}
    with tempfile.TemporaryDirectory() as tmp:
        envs: dict[str, dict[str, str]] = {}
        commands: dict[str, list[str]] = {}
        for name, tree in trees.items():
            env = {**base}
            env["ARTENIC_OPT_STATE"] = os.path.join(tmp, f"{name}.db")
            env["ARTENIC_OPT_CONFIG"] = os.path.join(tmp, f"{name}.toml")
            if name == "old":
                env["PYTHONPATH"] = tree
                env.update(item.split("=", 1) for item in opts.old_env)
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", os.path.join(tree, "artenic_opt")],
                env=env,
                check=True,
            )
            commands[name] = [*prog, "recommend", "--workload", os.path.join(tree, EXAMPLE)]
            commands[name].append("--json")
            envs[name] = env
            for _ in range(2):  # creates the state, then warms the caches
                _run(commands[name], env)
        times: dict[str, list[float]] = {"old": [], "new": []}
        for index in range(opts.pairs):
            for name in ("old", "new") if index % 2 == 0 else ("new", "old"):
                times[name].append(_run(commands[name], envs[name]))
        for name, values in times.items():
            print(
                f"{name}: median {statistics.median(values):.1f} ms, min {min(values):.1f} "
                f"(n={len(values)})"
            )
        diffs = [new - old for new, old in zip(times["new"], times["old"], strict=True)]
        faster = sum(d < 0 for d in diffs)
        print(
            f"paired new - old: median {statistics.median(diffs):+.1f} ms; new faster in "
            f"{faster}/{len(diffs)} pairs"
        )
        if opts.callgrind:
            if shutil.which("valgrind") is None:
                raise SystemExit("--callgrind needs valgrind on PATH")
            counts = {
                name: _instructions(commands[name], envs[name], os.path.join(tmp, f"{name}.cg"))
                for name in trees
            }
            change = counts["new"] / counts["old"] - 1
            print(
                f"instructions: old {counts['old'] / 1e6:.1f}M, new {counts['new'] / 1e6:.1f}M "
                f"({change:+.1%})"
            )


if __name__ == "__main__":
    main()
