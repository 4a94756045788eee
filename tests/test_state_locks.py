"""The retrain lock: one holder per state file, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from artenic_opt.state.locks import retrain_lock, retrain_lock_path, retrain_running


def test_one_holder_across_threads(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    assert not retrain_running(state)
    assert not retrain_lock_path(state).exists()  # looking creates nothing
    with retrain_lock(state) as first:
        assert first and retrain_running(state)
        seen: list[bool] = []

        def other() -> None:
            with retrain_lock(state) as second:
                seen.append(second)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert seen == [False]
    assert not retrain_running(state)
    assert retrain_lock_path(state).stat().st_mode & 0o777 == 0o600
    with retrain_lock(state) as again:
        assert again


def test_one_holder_across_processes(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    code = (
        "import sys\nfrom pathlib import Path\nfrom artenic_opt.state.locks import retrain_lock\n"
        f"with retrain_lock(Path({str(state)!r})) as held:\n    print(held)\n"
    )
    with retrain_lock(state) as held:
        assert held
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "False"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "True"
