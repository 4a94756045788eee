"""Issue 13, "Input and state" and "Network and processes": each defect through a real subprocess.

Every case here exited 1 ("internal error"), hung, or printed nothing on stdout with ``--json``
before; each must now be bad input (exit 2) or "platform" (exit 3) with one line on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_cli_exit_codes import run_cli


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_bad_input(
    result: subprocess.CompletedProcess[str], fragment: str, code: int = 2
) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert fragment in lines[0], lines
    assert "internal error" not in lines[0]


def assert_json_error(result: subprocess.CompletedProcess[str], code: int = 2) -> dict[str, object]:
    assert result.returncode == code, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    error = document["error"]
    assert error["exit_code"] == code
    assert len(stderr_lines(result)) == 1, result.stderr
    assert error["message"] in result.stderr
    return dict(error)


# -- argument-parsing errors honour --json --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["recommend", "--params", "7B", "--dataset-gb", "1", "--top", "0"], "--top"),
        (["recommend", "--params", "7B", "--dataset-gb", "1", "--goal", "fast"], "--goal"),
        (["recommend", "--frobnicate"], "--frobnicate"),
        (["history", "--limit", "0"], "--limit"),
        (["feedback", "record"], "recommendation_id"),
        (["teleport"], "teleport"),
    ],
)
def test_parse_errors_print_the_json_error_document(args: list[str], fragment: str) -> None:
    for where in ("after", "before"):
        full = [*args, "--json"] if where == "after" else ["--json", *args]
        result = run_cli(*full)
        error = assert_json_error(result)
        assert error["code"] == "usage_error"
        assert fragment in str(error["message"])
    # Without --json: the same single line, nothing on stdout.
    plain = run_cli(*args)
    assert_bad_input(plain, fragment)
    assert plain.stdout == ""


def test_root_json_flag_before_the_command() -> None:
    result = run_cli("--json", "status", "--no-probe")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["catalog_offerings"] > 0


def test_json_after_a_double_dash_is_not_the_flag() -> None:
    result = run_cli("history", "--limit", "0", "--", "--json")
    assert result.returncode == 2
    assert result.stdout == ""


# -- input that used to crash ---------------------------------------------------------------


def deep_json(path: Path) -> Path:
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def test_deeply_nested_workload_outcomes_and_replay_files(tmp_path: Path) -> None:
    workload = deep_json(tmp_path / "w.json")
    toml = tmp_path / "w.toml"
    toml.write_text("a = " + "[" * 100_000 + "]" * 100_000)
    cases = [
        ["recommend", "-w", str(workload)],
        ["recommend", "-w", str(toml)],
        ["feedback", "import", str(workload)],
        ["evaluate", "--replay", str(workload)],
    ]
    for args in cases:
        result = run_cli(*args, "--json")
        error = assert_json_error(result)
        assert "nested" in str(error["message"]), args


def test_closed_stdin_is_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "recommend", "-w", "-"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        # Close fd 0 in the child, as `<&-` does in a shell.
        preexec_fn=lambda: os.close(0),
    )
    assert_bad_input(result, "stdin")


def test_binary_config_file_is_bad_input(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(bytes(range(256)) * 4)
    result = run_cli("status", "--no-probe", env={"ARTENIC_OPT_CONFIG": str(config)})
    assert_bad_input(result, str(config))


def test_storage_analyze_lists_a_file_named_with_invalid_utf8(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "good.csv").write_text("a,b\n1,2\n")
    bad_name = os.fsencode(data) + b"/r\xff\xfeport.csv"
    with open(bad_name, "wb") as handle:
        handle.write(b"a,b\n1,2\n3,4\n")
    result = run_cli("storage", "analyze", str(data), "--json")
    assert result.returncode == 0, result.stderr
    usage = json.loads(result.stdout)["advice"]["usage"]
    # Both files analysed: 8 + 12 bytes, two CSV files.
    assert usage["total_size_bytes"] == 20
    assert usage["formats"][0]["files"] == 2
    import sqlite3

    with sqlite3.connect(os.environ["ARTENIC_OPT_STATE"]) as con:
        paths = {row[0] for row in con.execute("SELECT path FROM dataset_files")}
    con.close()
    assert "r\\xff\\xfeport.csv" in paths  # the bytes shown as escapes, stored as text
    again = run_cli("storage", "recommendations", "--json")
    assert again.returncode == 0, again.stderr


def test_demo_seed_and_replay_out_are_checked(tmp_path: Path) -> None:
    assert_bad_input(run_cli("demo", "--seed", "-1"), "--seed")
    missing = tmp_path / "missing" / "runs.jsonl"
    assert_bad_input(run_cli("demo", "--replay-out", str(missing)), "--replay-out")
    assert not missing.parent.exists()


# -- network and processes ------------------------------------------------------------------


def _recommend_model_flag() -> str:
    """``recommend --dispatch`` names the platform model ``--platform-model`` once ``--model``
    means a model architecture (issue 12); before that it is ``--model``."""
    help_text = run_cli("recommend", "--help").stdout
    return "--platform-model" if "--platform-model" in help_text else "--model"


@pytest.mark.parametrize(
    "args",
    [
        ["sync"],
        ["dispatch", "abc", "--service", "s", "--model", "m"],
        ["recommend", "--params", "7B", "--dataset-gb", "1", "--dispatch", "--service", "s"],
    ],
)
def test_no_platform_configured_exits_3_at_once(args: list[str]) -> None:
    if args[0] == "recommend":
        args = [*args, _recommend_model_flag(), "m"]
    started = time.monotonic()
    result = run_cli(*args, "--json")
    elapsed = time.monotonic() - started
    error = assert_json_error(result, code=3)
    assert error["code"] == "platform_not_configured"
    assert "ARTENIC_URL" in str(error["message"])
    assert "retry" not in result.stderr
    # No retries: well under the ~8 s the five retries took (start-up included).
    assert elapsed < 6, elapsed


def test_status_without_a_platform_says_not_configured() -> None:
    result = run_cli("status")
    assert result.returncode == 0, result.stderr
    assert "not configured" in result.stdout


def test_dashboard_without_a_terminal_exits_2_with_a_hint() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "dashboard"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert_bad_input(result, "--json")
    assert "terminal" in result.stderr
    # --json needs no terminal.
    assert run_cli("dashboard", "--json").returncode == 0


# -- the same paths in process (CliRunner), so that coverage sees them -----------------------


def test_in_process_error_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from artenic_opt.cli.main import build_app

    app = build_app()
    runner = CliRunner()

    deep = deep_json(tmp_path / "deep.json")
    result = runner.invoke(app, ["--json", "recommend", "-w", str(deep)])
    assert result.exit_code == 2 and "nested" in json.loads(result.stdout)["error"]["message"]

    result = runner.invoke(app, ["history", "--limit", "0", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "usage_error"

    result = runner.invoke(app, ["catalog"])  # a group without a command shows its help
    assert "list" in result.output and "error:" not in result.output

    result = runner.invoke(app, ["dashboard"])  # CliRunner's streams are not terminals
    assert result.exit_code == 2 and "--json" in result.stderr

    result = runner.invoke(app, ["sync", "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "platform_not_configured"

    monkeypatch.setenv("ARTENIC_OPT_DEBUG", "1")
    with pytest.raises(RecursionError):
        runner.invoke(app, ["recommend", "-w", str(deep)], catch_exceptions=False)


def test_display_names_of_non_utf8_paths() -> None:
    from artenic_opt.storage_optimizer.local_scan import _display, _text_path

    bad = os.fsdecode(b"r\xff.csv")
    assert _display(bad) == "r\\xff.csv"
    assert _display("ok.csv") == "ok.csv"
    assert _text_path(bad) is None
    assert _text_path("/data/ok.csv") == "/data/ok.csv"
