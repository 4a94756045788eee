"""Eight OS processes write to one state at the same moment; every write must land.

Each worker is a real ``python`` process. All of them open the (not yet existing) state file at
once, which also races the creation of the file; then they wait at a start line and each stores
200 recommendations, one transaction each.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from artenic_opt.state import LATEST_VERSION, count_recommendations, open_state

WORKERS = 8
RECORDS_PER_WORKER = 200

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    from artenic_opt.state import open_state, save_recommendation
    from tests.factories import make_advice

    state, start_line = Path(sys.argv[1]), Path(sys.argv[2])
    worker, count = sys.argv[3], int(sys.argv[4])
    advices = [make_advice(f"w{worker}-{i:04d}", candidates=2) for i in range(count)]
    with open_state(state) as store:
        (start_line.parent / f"ready-{worker}").touch()
        deadline = time.monotonic() + 60
        while not start_line.exists():
            if time.monotonic() > deadline:
                sys.exit("start line never appeared")
            time.sleep(0.005)
        for advice in advices:
            save_recommendation(store, advice)
    """
)


@pytest.mark.slow
def test_eight_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state" / "state.db"
    start_line = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(state),
                str(start_line),
                str(n),
                str(RECORDS_PER_WORKER),
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("ready-*"))) < WORKERS:
            failed = [p for p in procs if p.poll() not in (None, 0)]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline, "workers did not get ready"
            time.sleep(0.01)
        start_line.touch()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0, stderr

    with open_state(state, readonly=True) as store:
        assert store.schema_version == LATEST_VERSION
        assert count_recommendations(store) == WORKERS * RECORDS_PER_WORKER
        assert store.scalar("SELECT count(*) FROM recommendation_candidates") == (
            WORKERS * RECORDS_PER_WORKER * 2
        )
        per_worker = store.query(
            "SELECT substr(id, 1, instr(id, '-') - 1) AS worker, count(*) AS n "
            "FROM recommendations GROUP BY worker ORDER BY worker"
        )
        assert [row["n"] for row in per_worker] == [RECORDS_PER_WORKER] * WORKERS
        assert store.scalar("SELECT count(*) FROM _migrations") == LATEST_VERSION
        # In commit order, writers take turns: the runs really overlapped (a run that went one
        # worker after the other would switch only WORKERS - 1 times).
        order = [row["id"] for row in store.query("SELECT id FROM recommendations ORDER BY rowid")]
        owners = [rec_id.split("-")[0] for rec_id in order]
        switches = sum(1 for a, b in itertools.pairwise(owners) if a != b)
        assert switches > WORKERS - 1
    assert not list(state.parent.glob(".*.tmp*")), "no temporary file is left behind"
