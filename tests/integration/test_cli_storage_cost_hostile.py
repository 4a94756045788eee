"""Session 15 hostile-input hunt on ``storage`` and ``cost``: each defect through a real subprocess,
real state files and real directories.

Every case here exited 1 ("internal error") or broke later commands before its fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_cli_exit_codes import run_cli


def _state_env(tmp_path: Path) -> dict[str, str]:
    return {"ARTENIC_OPT_STATE": str(tmp_path / "state.db"), "COLUMNS": "80"}


def test_import_access_with_timestamps_the_state_cannot_hold(tmp_path: Path) -> None:
    """Year 1 in UTC was stored and then every ``storage analyze`` of that dataset exited 1
    (the state reads back ``1-01-01T...``); year 1 at +01:00 overflowed and exited 1 at import."""
    env = _state_env(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("a,b\n1,2\n")
    assert run_cli("storage", "analyze", str(data), env=env).returncode == 0
    dataset = f"local:{data.resolve()}"
    lines = [
        {"timestamp": "0001-01-01T00:00:00Z", "dataset": dataset, "operation": "read"},
        {"timestamp": "0001-01-01T00:30:00+01:00", "dataset": dataset, "operation": "read"},
        {"timestamp": "0999-12-31T23:59:59Z", "dataset": dataset, "operation": "read"},
        {"timestamp": "9999-12-31T23:00:00-02:00", "dataset": dataset, "operation": "read"},
        {"timestamp": "2026-11-30T10:00:00Z", "dataset": dataset, "operation": "read"},
    ]
    log = tmp_path / "access.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))

    imported = run_cli("--json", "storage", "import-access", str(log), env=env)
    assert imported.returncode == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert result["events_read"] == 1
    assert [error["line"] for error in result["errors"]] == [1, 2, 3, 4]
    assert all("out of range" in error["message"] for error in result["errors"])

    analysed = run_cli("--json", "storage", "analyze", dataset, env=env)
    assert analysed.returncode == 0, analysed.stderr
    assert json.loads(analysed.stdout)["advice"]["dataset_id"] == dataset
    listed = run_cli("--json", "storage", "recommendations", env=env)
    assert listed.returncode == 0, listed.stderr


def _tmpfs_dir() -> Path | None:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@pytest.mark.parametrize("mtime", [-6e10, 1e12])
def test_analyze_files_with_file_times_out_of_range(tmp_path: Path, mtime: float) -> None:
    """tmpfs keeps 64-bit file times: a file dated year 68 or 33658 made ``storage analyze`` exit 1
    (year 33658 is beyond ``datetime``; year 68 cannot be stored and read back)."""
    base = _tmpfs_dir()
    if base is None:  # pragma: no cover - every Linux CI has a writable /dev/shm
        pytest.skip("no writable tmpfs to hold a 64-bit file time")
    env = _state_env(tmp_path)
    data = Path(os.path.realpath(base)) / f"artenic-{os.getpid()}-{tmp_path.name}"
    data.mkdir()
    try:
        target = data / "x.csv"
        target.write_text("a,b\n1,2\n")
        try:
            os.utime(target, (mtime, mtime))
        except (OSError, OverflowError):  # pragma: no cover - a filesystem clamping times
            pytest.skip("this tmpfs refuses the file time")
        if os.stat(target).st_mtime != mtime:  # pragma: no cover - clamped
            pytest.skip("this tmpfs clamps file times")
        (data / "ok.csv").write_text("a,b\n1,2\n")
        result = run_cli("--json", "storage", "analyze", str(data), env=env)
        assert result.returncode == 0, result.stderr
        advice = json.loads(result.stdout)
        assert advice["advice"]["size_bytes"] == 16
        problems = advice["problems"]
        assert [p["path"] for p in problems] == ["x.csv"]
        assert "file time" in problems[0]["message"]
        again = run_cli("--json", "storage", "recommendations", env=env)
        assert again.returncode == 0, again.stderr
    finally:
        for child in data.iterdir():
            child.unlink()
        data.rmdir()


def test_cost_commands_after_syncing_jobs_without_region_or_instance(tmp_path: Path) -> None:
    """The platform may leave a job's region (and instance type) empty; sync stores such an
    outcome with an empty region, and every cost command then exited 2 ("outcome 1: without its
    recommendation, give region") on a state nobody could fix."""
    from tests.platform_server import serve_platform

    env = {**_state_env(tmp_path), "ARTENIC_TIMEOUT": "5"}
    with serve_platform() as fake:
        fake.seed()  # one completed and one failed job, both without a region
        now = fake.clock()
        fake.add_job(
            service="no-instance",
            status="completed",
            instance_type=None,
            cost_actual_eur=1.0,
            duration_seconds=1800.0,
            completed_at=now.isoformat(),
        )
        env["ARTENIC_URL"] = fake.url
        synced = run_cli("sync", env=env)
        assert synced.returncode == 0, synced.stderr
    for args in (["cost", "summary"], ["cost", "savings"], ["cost", "spot"]):
        result = run_cli("--json", *args, env=env)
        assert result.returncode == 0, (args, result.stderr)
        json.loads(result.stdout)
        table = run_cli(*args, env=env)
        assert table.returncode == 0, (args, table.stderr)
    summary = json.loads(run_cli("--json", "cost", "summary", env=env).stdout)
    assert summary["jobs"] == 3
    # 4.20 + 0.02 + 1.00 EUR at the default reference rate (1 USD = 0.92 EUR).
    assert summary["total_cost"] == pytest.approx(5.22 / 0.92)
    by_instance = json.loads(
        run_cli("--json", "cost", "summary", "--by", "instance", env=env).stdout
    )
    assert sorted(g["key"] for g in by_instance["groups"]) == sorted(
        ["mock/mock-gpu-a100", "mock/mock-cpu-small", "mock/not stated"]
    )


def test_analyze_an_empty_target_is_bad_input(tmp_path: Path) -> None:
    """``Path("")`` is the current directory: an empty target scanned (and stored) wherever the
    command ran, a home directory perhaps, instead of saying the target is missing. (A blank
    name such as ``"   "`` is a legal directory name and stays one.)"""
    env = _state_env(tmp_path)
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "x.csv").write_text("a\n1\n")
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--json", "storage", "analyze", ""],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=work,
        timeout=120,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    error = json.loads(result.stdout)["error"]
    assert "target" in error["message"]
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        f"error: {error['message']}"
    ]
    listed = run_cli("--json", "storage", "recommendations", env=env)
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("command", [["analyze", "."], ["recommendations"]])
def test_an_empty_provider_is_bad_input(tmp_path: Path, command: list[str]) -> None:
    """``--provider ''`` was silently replaced by the default provider (AWS): the user's prices
    came from a provider they had not chosen, without a word."""
    env = _state_env(tmp_path)
    args = ["--json", "storage", *command, "--provider", ""]
    if command[0] == "analyze":
        args[3] = str(tmp_path)
    result = run_cli(*args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "--provider" in json.loads(result.stdout)["error"]["message"]


def test_two_local_folders_with_one_name_are_not_versions(tmp_path: Path) -> None:
    """``a/data`` and ``b/data`` were taken for two versions of one dataset "data": the advice
    reported version 1 -> version 1 growth of 50,000,000% and 1.3e14 bytes a month."""
    env = _state_env(tmp_path)
    small, big = tmp_path / "a" / "data", tmp_path / "b" / "data"
    small.mkdir(parents=True)
    big.mkdir(parents=True)
    (small / "x.csv").write_text("a,b\n")
    (big / "y.csv").write_text("a,b\n" + "1,2\n" * 1000)
    assert run_cli("storage", "analyze", str(small), env=env).returncode == 0
    result = run_cli("--json", "storage", "analyze", str(big), env=env)
    assert result.returncode == 0, result.stderr
    usage = json.loads(result.stdout)["advice"]["usage"]
    assert usage["growth"] == []
    assert usage["growth_bytes_per_month"] is None
    listed = json.loads(run_cli("--json", "storage", "recommendations", env=env).stdout)
    assert [advice["usage"]["growth"] for advice in listed] == [[], []]


def test_a_stored_folder_that_became_a_pipe_does_not_break_every_dataset(tmp_path: Path) -> None:
    """A folder analysed once and later replaced by a named pipe made ``storage recommendations``
    exit 2 for every dataset ("not a regular file or directory"), with no way to forget it."""
    env = _state_env(tmp_path)
    kept, gone = tmp_path / "kept", tmp_path / "gone"
    for folder in (kept, gone):
        folder.mkdir()
        (folder / "x.csv").write_text("a,b\n1,2\n")
        assert run_cli("storage", "analyze", str(folder), env=env).returncode == 0
    (gone / "x.csv").unlink()
    gone.rmdir()
    os.mkfifo(gone)
    listed = run_cli("--json", "storage", "recommendations", env=env)
    assert listed.returncode == 0, listed.stderr
    sizes = {advice["dataset_id"]: advice["size_bytes"] for advice in json.loads(listed.stdout)}
    assert sizes == {f"local:{kept}": 8, f"local:{gone}": 8}  # the stored scan of the folder
    alone = run_cli("--json", "storage", "analyze", f"local:{gone}", env=env)
    assert alone.returncode == 0, alone.stderr
    (problem,) = json.loads(alone.stdout)["problems"]
    assert "stored scan" in problem["message"]
    assert f"warning: {gone}: " in alone.stderr


def test_warnings_naming_a_file_with_a_line_break_stay_one_line(tmp_path: Path) -> None:
    """A malformed file named ``x<newline>y.csv`` split its warning over two stderr lines (the
    second one starting with no ``warning:``); an access log so named did the same."""
    env = _state_env(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "x\ny.csv").write_text("a,b\n1,2,3\n")
    result = run_cli("storage", "analyze", str(data), env=env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert not any(line.startswith("y.csv") for line in lines), lines
    assert "warning: x\\ny.csv: line 2: 3 fields, the header has 2" in lines
    log = tmp_path / "a\nb.csv"
    log.write_text("timestamp,dataset,operation\nnot a time,ds,read\n")
    imported = run_cli("storage", "import-access", str(log), env=env)
    assert imported.returncode == 0, imported.stderr
    lines = [line for line in imported.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("warning: ") and "a\\nb.csv:2: timestamp" in lines[0], lines
    assert len(lines) == 2, lines  # the warning and the summary line
