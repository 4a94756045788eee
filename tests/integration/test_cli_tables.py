"""Human tables at the widths people use: 80, 100, 120 and 200 columns, and ``--wide``.

Each width is explicit (``COLUMNS`` for the run). At every width the table fits, its columns
appear in priority order and keep their full width or end in an ellipsis (never a word broken
over two lines), and one line on stderr names the hidden columns. Golden files pin the tables
byte for byte at 80 and 200 columns; regenerate them with ``UPDATE_GOLDEN=1`` when a change is
meant to alter them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.cli.tables import Col, fit_columns

app = build_app()
runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "tables"
WIDTHS = (80, 100, 120, 200)
RECOMMEND = ("recommend", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--top", "5")


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("tables") / "state.db"
    old = os.environ.get("ARTENIC_OPT_CONFIG")
    os.environ["ARTENIC_OPT_CONFIG"] = str(path.parent / "none.toml")
    try:
        args = ["--state", str(path), "demo", "--jobs", "160", "--seed", "3", "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        yield path
    finally:
        if old is not None:
            os.environ["ARTENIC_OPT_CONFIG"] = old


def run(*args: str, width: int, state: Path | None = None) -> Any:
    full = ["--state", str(state), *args] if state else list(args)
    result = runner.invoke(app, full, env={"COLUMNS": str(width)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: str, state: Path | None = None) -> Any:
    return json.loads(run(*args, "--json", width=80, state=state).stdout)


def table_rows(stdout: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows of the first box table in ``stdout`` (cells stripped)."""
    lines = stdout.splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    body = [line for line in lines if line.startswith("│")]

    def cells(line: str) -> list[str]:
        return [c.strip() for c in re.split("[│┃]", line)[1:-1]]

    return cells(header), [cells(line) for line in body]


def shows(cell: str, full: str) -> bool:
    """The cell is the full text, or its start followed by an ellipsis."""
    return cell == full or (cell.endswith("…") and full.startswith(cell[:-1]) and len(cell) > 1)


def check_fits(stdout: str, width: int) -> None:
    for line in stdout.splitlines():
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}"


# -- the fitting rule -------------------------------------------------------------------------


def test_fit_drops_highest_priority_number_first_and_never_priority_zero() -> None:
    cols: list[Col[object]] = [
        Col("name", str, min_width=4),
        Col("cost", str),
        Col("extra", str, priority=2),
        Col("more", str, priority=1),
    ]
    natural = [20, 8, 10, 10]
    # All: 48 + 13 = 61 cells.
    assert fit_columns(cols, natural, 61).hidden == ()
    # 60: "extra" (priority 2) goes first; the rest fit at their natural width.
    layout = fit_columns(cols, natural, 60)
    assert layout.hidden == ("extra",)
    assert layout.widths == (20, 8, 10)
    # 30: both optional columns go, and "name" shrinks to what is left: 30 - 7 - 8 = 15.
    layout = fit_columns(cols, natural, 30)
    assert layout.hidden == ("extra", "more")
    assert layout.widths == (15, 8)
    # Too narrow even for the minimums: priority 0 columns stay (the terminal wraps).
    assert fit_columns(cols, natural, 10).hidden == ("extra", "more")
    # --wide keeps everything at full width whatever the console.
    assert fit_columns(cols, natural, 30, wide=True).widths == (20, 8, 10, 10)


# -- every width ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_recommend_at_each_width(width: int) -> None:
    advice = as_json(*RECOMMEND)
    result = run(*RECOMMEND, width=width)
    check_fits(result.stdout, width)
    header, rows = table_rows(result.stdout)
    assert header[:7] == ["#", "provider", "instance", "GPUs", "time", "job cost", "spot"]
    assert len(rows) == len(advice["recommendations"]) == 5  # one line per row: nothing wraps
    for row, rec in zip(rows, advice["recommendations"], strict=True):
        assert row[0] == str(rec["rank"])
        assert shows(row[1], rec["offering"]["provider"])
        assert shows(row[2], rec["offering"]["instance_type"])
        assert row[3] and row[3].split()[0].endswith("x")  # "1x A100 80GB" or its start
        assert re.fullmatch(r"[\d.]+ (min|h)|\d+ d \d+ h", row[4])
        assert row[5].endswith(" USD")
    hidden = [line for line in result.stderr.splitlines() if "hidden" in line]
    if width == 200:
        assert not hidden
        assert header[7:] == ["plan", "region", "per hour", "mem GB", "score"]
    else:
        assert len(hidden) == 1 and hidden[0].endswith("--wide shows all")
        # What is hidden is exactly what is missing from the header.
        named = hidden[0].split("(")[1].split(")")[0].split(", ")
        assert set(named).isdisjoint(header)
        assert len(named) + len(header) == 12


def test_a_long_job_keeps_its_time_and_cost_whole_at_80() -> None:
    # A 7B model on 2T tokens (a Llama-2 sized pre-training run) takes months: its time
    # ("191 d 1 h") and cost ("96,363 USD") no longer fitted beside the names at their minimum
    # widths, so Rich squeezed them ("sp…", time cut), the very numbers a user acts on.
    args = ("recommend", "--params", "7B", "--dataset-gb", "10", "--tokens", "2T", "--top", "3")
    from artenic_opt.presentation import format as fmt

    advice = as_json(*args)
    result = run(*args, width=80)
    check_fits(result.stdout, 80)
    header, rows = table_rows(result.stdout)
    assert header[:7] == ["#", "provider", "instance", "GPUs", "time", "job cost", "spot"]
    for row, rec in zip(rows, advice["recommendations"], strict=True):
        assert row[0] == str(rec["rank"])
        assert row[4] == fmt.hours(rec["estimated_hours"])
        assert row[5] == fmt.money(rec["estimated_cost"], "USD")
        assert row[6] in ("yes", "no")
        assert shows(row[2], rec["offering"]["instance_type"])


def test_wide_shows_every_column_at_80() -> None:
    result = run(*RECOMMEND, "--wide", width=80)
    header, rows = table_rows(result.stdout)
    assert len(header) == 12 and len(rows) == 5
    assert "hidden" not in result.stderr


@pytest.mark.parametrize("width", WIDTHS)
def test_storage_recommendations_at_each_width(width: int, demo_state: Path) -> None:
    advices = as_json("storage", "recommendations", state=demo_state)
    result = run("storage", "recommendations", width=width, state=demo_state)
    check_fits(result.stdout, width)
    header, rows = table_rows(result.stdout)
    assert header[:5] == ["dataset", "size", "format", "tier", "saves/mo"]
    assert len(rows) == len(advices)
    for row, advice in zip(rows, advices, strict=True):
        assert shows(row[0], advice["dataset_id"])
        assert row[4].endswith(advice["currency"])


@pytest.mark.parametrize("width", WIDTHS)
def test_cost_spot_at_each_width_gives_every_verdict_its_reason(
    width: int, demo_state: Path
) -> None:
    advice = as_json("cost", "spot", state=demo_state)
    result = run("cost", "spot", width=width, state=demo_state)
    check_fits(result.stdout, width)
    header, lines = table_rows(result.stdout)
    assert header[:4] == ["provider", "instance", "advice", "why"]
    # A reason may wrap over several lines, between words only: continuation lines have empty
    # cells everywhere else. Joined with spaces, the fragments give the reason back.
    rows: list[list[str]] = []
    for cells in lines:
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1][3] += " " + cells[3]
    assert len(rows) == len(advice)
    for row, item in zip(rows, advice, strict=True):
        assert shows(row[1], item["instance_type"])
        assert row[2].startswith("use spot" if item["recommend_spot"] else "on-demand")
        assert item["verdict_reason"]
        assert row[3] == item["verdict_reason"]


@pytest.mark.parametrize("width", WIDTHS)
def test_catalog_gpus_at_each_width(width: int) -> None:
    gpus = as_json("catalog", "gpus")
    result = run("catalog", "gpus", width=width)
    check_fits(result.stdout, width)
    header, rows = table_rows(result.stdout)
    assert header[:5] == ["GPU", "count", "provider", "cheapest instance", "on-demand/GPU-h"]
    assert len(rows) == len(gpus)
    for row, gpu in zip(rows, gpus, strict=True):
        assert shows(row[0], gpu["gpu_type"])
        assert shows(row[2], gpu["provider"])
        assert shows(row[3], gpu["instance_type"])
        assert row[4].endswith(gpu["currency"])


@pytest.mark.parametrize("width", WIDTHS)
def test_history_at_each_width(width: int, demo_state: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    shutil.copy(demo_state, state)
    history = as_json("history", "--limit", "5", state=state)
    result = run("history", "--limit", "5", width=width, state=state)
    check_fits(result.stdout, width)
    header, rows = table_rows(result.stdout)
    assert header[:5] == ["id", "workload", "top pick", "est. cost", "outcome"]
    assert len(rows) == 5
    for row, item in zip(rows, history, strict=True):
        assert row[0] == item["recommendation_id"][:12]
        assert shows(row[1], item["workload_name"])


@pytest.mark.parametrize("width", WIDTHS)
def test_feedback_list_at_each_width(width: int, demo_state: Path) -> None:
    outcomes = as_json("feedback", "list", "--limit", "5", state=demo_state)
    result = run("feedback", "list", "--limit", "5", width=width, state=demo_state)
    check_fits(result.stdout, width)
    header, rows = table_rows(result.stdout)
    assert header[:6] == ["id", "instance", "status", "hours", "cost", "check"]
    assert len(rows) == 5
    for row, item in zip(rows, outcomes, strict=True):
        assert row[0] == str(item["outcome_id"])
        assert shows(row[1], f"{item['provider']} {item['instance_type']}")
        assert row[5] == "ok"


# -- hostile names ----------------------------------------------------------------------------


def test_markup_and_ansi_in_a_name_never_break_recommend_or_history(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    name = "[/bold] oops \x1b[31mred"
    args = ("recommend", "--params", "1B", "--dataset-gb", "1", "--top", "2")
    result = run(*args, "--name", name, width=120, state=state)
    assert "[/bold] oops \\x1b[31mred" in result.stdout
    assert "\x1b" not in result.stdout
    listed = run("history", width=120, state=state)
    assert "[/bold] oops \\x1b[31mre" in listed.stdout
    assert "\x1b" not in listed.stdout
    shown = run(
        "history",
        "--show",
        json.loads(listed_json(state))[0]["recommendation_id"],
        width=120,
        state=state,
    )
    assert "[/bold] oops \\x1b[31mred" in shown.stdout


def listed_json(state: Path) -> str:
    return str(run("history", "--json", width=80, state=state).stdout)


# -- golden tables ----------------------------------------------------------------------------

GOLDEN_COMMANDS: dict[str, tuple[str, ...]] = {
    "recommend": RECOMMEND,
    "catalog_gpus": ("catalog", "gpus"),
    "cost_spot": ("cost", "spot"),
    "storage_recommendations": ("storage", "recommendations"),
}
_VOLATILE = re.compile(r"recommendation [0-9a-f]{12}")


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("name", sorted(GOLDEN_COMMANDS))
def test_golden_tables(name: str, width: int, demo_state: Path) -> None:
    args = GOLDEN_COMMANDS[name]
    state = demo_state if args[0] in {"cost", "storage"} else None
    result = run(*args, width=width, state=state)
    # The recommendation id is new on every run; everything else is pinned byte for byte.
    text = _VOLATILE.sub("recommendation 000000000000", result.stdout)
    golden = GOLDEN / f"{name}_{width}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{name} at {width} columns changed; UPDATE_GOLDEN=1 to accept"
    )


def test_hostile_name_in_a_real_process_exits_0_and_history_renders(tmp_path: Path) -> None:
    # Issue 13: `recommend --name "[/bold] oops"` stored the result, then exited 1 (MarkupError)
    # and `history` failed until the record aged out.
    env = {**os.environ, "COLUMNS": "80", "ARTENIC_OPT_STATE": str(tmp_path / "s.db")}
    base = [sys.executable, "-m", "artenic_opt"]
    name = "[/bold] oops \x1b[2J"
    args = ["recommend", "--params", "1B", "--dataset-gb", "1", "--top", "1", "--name", name]

    def run_process(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *words], env=env, capture_output=True, text=True, check=False)

    first = run_process(*args)
    assert first.returncode == 0, first.stderr
    listed = run_process("history")
    assert listed.returncode == 0, listed.stderr
    # At 80 columns the name may end in an ellipsis, but it starts as typed.
    assert "│ [/bold] oo" in listed.stdout
    assert "\x1b" not in first.stdout + listed.stdout


TABLE_COMMANDS = (
    ("recommend",),
    ("history",),
    ("feedback", "list"),
    ("evaluate",),
    ("sync",),
    ("catalog", "list"),
    ("catalog", "gpus"),
    ("cost", "compare"),
    ("cost", "summary"),
    ("cost", "savings"),
    ("cost", "spot"),
    ("storage", "analyze"),
    ("storage", "recommendations"),
)


@pytest.mark.parametrize("command", TABLE_COMMANDS, ids=" ".join)
def test_every_command_that_draws_a_fitted_table_takes_wide(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--wide" in result.stdout


def test_human_lines_of_history_feedback_and_retrain(demo_state: Path, tmp_path: Path) -> None:
    assert "No recommendations yet" in run("history", width=80, state=tmp_path / "e.db").stdout
    state = tmp_path / "state.db"
    shutil.copy(demo_state, state)
    rec_id = as_json("history", "--limit", "1", state=state)[0]["recommendation_id"]
    args = ("feedback", "record", rec_id, "--cost", "10", "--hours", "2")
    recorded = run(*args, width=80, state=state)
    assert recorded.stdout.startswith("recorded outcome ") and rec_id[:12] in recorded.stdout
    retrained = run("retrain", "--force", width=80, state=state)
    assert re.match(r"(model v\d+: .*NDCG@5 [\d.-]+|not trained: )", retrained.stdout)
