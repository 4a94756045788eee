"""Every documented exit code, produced through a real ``artenic-opt`` subprocess.

0 success; 1 unexpected internal error; 2 bad usage or invalid input; 3 platform unreachable or
refusing the key; 4 nothing feasible. Errors are one line on stderr, never a traceback, and with
``--json`` also one JSON document on stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "artenic_opt", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, fragment: str
) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    error_lines = [line for line in lines if line.startswith("error: ") or "Error" in line]
    assert error_lines, result.stderr
    assert fragment in result.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_exit_0_status_and_version() -> None:
    result = run_cli("status", "--json", "--no-probe")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["catalog_offerings"] >= 150
    assert run_cli("--version").returncode == 0


def test_exit_2_unknown_option_and_command() -> None:
    result = run_cli("catalog", "list", "--colour", "blue")
    assert result.returncode == 2
    assert "No such option" in result.stderr or "no such option" in result.stderr.lower()
    assert run_cli("teleport").returncode == 2


def test_exit_2_unknown_gpu_names_allowed_values() -> None:
    result = run_cli("catalog", "list", "--gpu", "Voodoo5")
    assert_one_line_error(result, 2, "Voodoo5")
    assert "H100" in result.stderr


@pytest.mark.parametrize("kind", ["random", "empty", "foreign", "newer"])
def test_exit_2_for_a_file_that_is_not_a_state_database(tmp_path: Path, kind: str) -> None:
    import sqlite3

    path = tmp_path / "bad.db"
    if kind == "random":
        path.write_bytes(os.urandom(4096))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":
        con = sqlite3.connect(path)
        con.execute("create table customers (id integer primary key, name text)")
        con.execute("insert into customers (name) values ('ada')")
        con.commit()
        con.close()
    else:
        ok = run_cli("--state", str(path), "catalog", "import", str(_offerings_csv(tmp_path)))
        assert ok.returncode == 0, ok.stderr
        con = sqlite3.connect(path)
        con.execute("insert into _migrations (version, name, applied_at) values (999, 'x', 'now')")
        con.commit()
        con.close()
    before = sha256(path)
    result = run_cli("--state", str(path), "status", "--no-probe")
    assert_one_line_error(result, 2, str(path))
    json_result = run_cli("status", "--no-probe", "--json", env={"ARTENIC_OPT_STATE": str(path)})
    assert json_result.returncode == 2
    assert json.loads(json_result.stdout)["error"]["exit_code"] == 2
    assert sha256(path) == before


def test_exit_2_malformed_config(tmp_path: Path) -> None:
    config = Path(os.environ["ARTENIC_OPT_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("display_currency = \n")
    result = run_cli("status", "--no-probe")
    assert_one_line_error(result, 2, str(config))


def _offerings_csv(tmp_path: Path) -> Path:
    path = tmp_path / "onprem.csv"
    path.write_text(
        "provider,region,instance_type,vcpus,memory_gb,gpu_type,gpu_count,gpu_memory_gb,"
        "price_per_hour,spot_price_per_hour,currency,source,price_date\n"
        "OnPrem,lab-1,dgx-a100,128,1024,A100 80GB,8,80,9.5,,USD,negotiated,2026-11-01\n"
    )
    return path


def test_exit_2_bad_import_row_names_the_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    good = _offerings_csv(tmp_path).read_text()
    path.write_text(good + "OnPrem,lab-1,dgx-2,128,1024,A100 80GB,8,80,-3,,USD,x,2026-11-01\n")
    result = run_cli("catalog", "import", str(path))
    assert_one_line_error(result, 2, ":3:")
    listing = run_cli("catalog", "list", "--provider", "OnPrem", "--json")
    assert listing.returncode == 4


def test_import_then_list(tmp_path: Path) -> None:
    assert run_cli("catalog", "import", str(_offerings_csv(tmp_path))).returncode == 0
    listing = run_cli("catalog", "list", "--provider", "OnPrem", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [r["instance_type"] for r in rows] == ["dgx-a100"]


def test_exit_4_when_nothing_matches() -> None:
    result = run_cli("catalog", "list", "--provider", "NoSuchCloud", "--json")
    assert result.returncode == 4
    assert json.loads(result.stdout)["error"]["exit_code"] == 4
    assert "NoSuchCloud" in result.stderr


def test_exit_1_internal_error_is_one_line() -> None:
    code = (
        "import artenic_opt.status as s\n"
        "def boom(*a, **k):\n    raise RuntimeError('simulated bug')\n"
        "s.build_status = boom\n"
        "import sys\nfrom artenic_opt.cli.main import main\n"
        "sys.argv = ['artenic-opt', 'status', '--no-probe']\nmain()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert_one_line_error(result, 1, "simulated bug")
    assert "ARTENIC_OPT_DEBUG" in result.stderr
    # An exception whose text spans lines (pydantic's do) is still one line.
    multi = code.replace("'simulated bug'", "'first line\\n  second line\\n'")
    result = subprocess.run([sys.executable, "-c", multi], capture_output=True, text=True)
    assert_one_line_error(result, 1, "first line second line")


def test_artenic_optimizer_group_runs_the_same_tree() -> None:
    code = "from artenic_opt.cli.main import artenic_main\nartenic_main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "optimizer", "catalog", "gpus", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)
