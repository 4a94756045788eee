"""Issue 13, "Input and state": bounds, feedback delete, catalog imports, idempotent imports and
read-only states, through the real CLI (a subprocess where the defect was seen there)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from artenic_opt.cli.main import build_app
from artenic_opt.state import open_state
from tests.integration.test_cli_exit_codes import run_cli

app = build_app()
runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
READ_COMMANDS = (
    ["status", "--no-probe"],
    ["history"],
    ["cost", "summary"],
    ["cost", "spot"],
    ["catalog", "list", "--limit", "3"],
    ["catalog", "imports"],
    ["dashboard"],
    ["metrics"],
    ["storage", "recommendations"],
    ["cost", "savings"],
    ["catalog", "gpus"],
)


def ok_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def recommendation() -> dict[str, Any]:
    return dict(ok_json("recommend", "-w", str(EXAMPLES / "tabular-gbdt.json"), "--top", "3"))


def assert_reads_work() -> None:
    for args in READ_COMMANDS:
        result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        json.loads(result.stdout)


# -- 1. bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--hours", "1e308"),
        ("--hours", "nan"),
        ("--hours", "inf"),
        ("--cost", "1e308"),
        ("--cost", "-inf"),
        ("--metric-before", "1e300"),
    ],
)
def test_out_of_range_outcome_values_exit_2_naming_the_field(flag: str, value: str) -> None:
    rec_id = recommendation()["recommendation_id"]
    values = {"--hours": "1", "--cost": "10", flag: value}
    extra = ["--metric-after", "1"] if flag.startswith("--metric") else []
    result = run_cli(
        "feedback",
        "record",
        rec_id,
        *[item for pair in values.items() for item in pair],
        *extra,
        "--json",
    )
    assert result.returncode == 2, result.stderr
    field = flag.removeprefix("--").replace("-", "_")
    assert f"{field}:" in json.loads(result.stdout)["error"]["message"]
    assert len(result.stderr.splitlines()) == 1
    assert_reads_work()


def test_stored_out_of_range_values_from_an_old_state_break_nothing() -> None:
    """A state written before the bounds: 1e308 hours and cost, a 1e308 price."""
    advice = recommendation()
    rec_id = advice["recommendation_id"]
    ok_json("feedback", "record", rec_id, "--cost", "10", "--hours", "1")
    ok_json("feedback", "record", rec_id, "--rank", "2", "--cost", "10", "--hours", "1")
    path = Path(os.environ["ARTENIC_OPT_STATE"])
    with sqlite3.connect(path) as con:
        con.execute("UPDATE outcomes SET hours = 1e308, cost = 1e308 WHERE rank = 1")
        con.execute(
            "INSERT INTO offerings (provider, region, instance_type, gpu_count, price_per_hour, "
            "spot_price_per_hour, currency, source, price_date, origin) VALUES "
            "('Old', 'r', 'huge', 0, 1e308, 1e308, 'USD', 'old', '2026-01-01', 'import')"
        )
        con.execute(
            "INSERT INTO storage_prices (provider, region, tier_name, tier, price_per_gb_month, "
            "retrieval_per_gb, min_storage_days, currency, source, price_date, origin) VALUES "
            "('AWS', 'us-east-1', 'S3 Standard', 'hot', 1e308, 1e308, 0, 'USD', 'old', "
            "'2026-01-01', 'platform')"
        )
    con.close()
    assert_reads_work()
    summary = ok_json("cost", "summary")
    assert summary["jobs"] == 1  # the out-of-range outcome is left out, the other is counted
    # The out-of-range price is left out of the catalog instead of overflowing a ranking.
    assert runner.invoke(app, ["catalog", "list", "--provider", "Old"]).exit_code == 4
    # The bad record is found with `feedback list --invalid` and removed.
    (bad,) = ok_json("feedback", "list", "--invalid")
    assert bad["valid"] is False and bad["rank"] == 1
    assert bad["problem"].startswith(("hours:", "cost:"))
    assert bad["hours"] == 1e308  # finite, so listed as stored
    human = run_cli("feedback", "list", "--wide", env={"COLUMNS": "200"})
    assert human.returncode == 0 and "left out" in human.stdout
    deleted = ok_json("feedback", "delete", str(bad["outcome_id"]))
    assert deleted["outcome_id"] == bad["outcome_id"]
    assert ok_json("feedback", "list", "--invalid") == []
    assert [e["rank"] for e in ok_json("feedback", "list")] == [2]


def test_catalog_import_bounds_prices_and_memory(tmp_path: Path) -> None:
    rows = {
        "price_per_hour": "provider,region,instance_type,price_per_hour\nA,r,x,1e308\n",
        "memory_gb": "provider,region,instance_type,price_per_hour,memory_gb\nA,r,x,1,nan\n",
        "gpu_count": "provider,region,instance_type,price_per_hour,gpu_type,gpu_count\n"
        "A,r,x,1,H100,99999999\n",
        "spot_price_per_hour": "provider,region,instance_type,price_per_hour,"
        "spot_price_per_hour\nA,r,x,1,inf\n",
    }
    for field, text in rows.items():
        path = tmp_path / f"{field}.csv"
        path.write_text(text)
        result = run_cli("catalog", "import", str(path))
        assert result.returncode == 2, result.stderr
        assert f"{field}:" in result.stderr and ":2:" in result.stderr


# -- 2. feedback delete ---------------------------------------------------------------------


def test_feedback_delete_removes_the_outcome_and_its_sample() -> None:
    rec_id = recommendation()["recommendation_id"]
    recorded = ok_json("feedback", "record", rec_id, "--cost", "10", "--hours", "1")
    assert ok_json("metrics")["samples"] == 1
    deleted = ok_json("feedback", "delete", str(recorded["outcome_id"]))
    assert deleted == {"outcome_id": recorded["outcome_id"], "training_samples_deleted": 1}
    assert ok_json("metrics")["samples"] == 0
    assert ok_json("status", "--no-probe")["outcomes"] == 0
    again = run_cli("feedback", "delete", str(recorded["outcome_id"]), "--json")
    assert again.returncode == 2
    assert json.loads(again.stdout)["error"]["code"] == "not_found"


def test_feedback_list_shows_ids_newest_first_filtered_by_recommendation() -> None:
    first = recommendation()["recommendation_id"]
    second = recommendation()["recommendation_id"]
    ids = [
        ok_json("feedback", "record", rec, "--rank", str(rank), "--cost", "10", "--hours", "1")[
            "outcome_id"
        ]
        for rec, rank in ((first, 1), (first, 2), (second, 1))
    ]
    listed = ok_json("feedback", "list")
    assert [e["outcome_id"] for e in listed] == sorted(ids, reverse=True)
    assert all(e["valid"] and e["problem"] is None for e in listed)
    mine = ok_json("feedback", "list", "--recommendation", first[:8])
    assert {e["recommendation_id"] for e in mine} == {first} and len(mine) == 2
    assert len(ok_json("feedback", "list", "--limit", "1")) == 1
    assert ok_json("feedback", "list", "--recommendation", "zzzz") == []
    bad = run_cli("feedback", "list", "--limit", "0", "--json")
    assert bad.returncode == 2 and "error" in json.loads(bad.stdout)


# -- 3. catalog import: currencies, imports, remove, spot prices ----------------------------


def test_unknown_currency_is_refused_at_import_naming_line_and_currency(tmp_path: Path) -> None:
    path = tmp_path / "xyz.csv"
    path.write_text(
        "provider,region,instance_type,price_per_hour,currency\nA,r,x,1,USD\nA,r,y,1,XYZ\n"
    )
    result = run_cli("catalog", "import", str(path))
    assert result.returncode == 2
    assert "xyz.csv:3" in result.stderr and "XYZ" in result.stderr
    # Nothing was imported, so recommend still works.
    assert run_cli("catalog", "list", "--provider", "A").returncode == 4
    # A rate in the config file makes the currency known.
    config = Path(os.environ["ARTENIC_OPT_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[exchange_rates]\nXYZ = 3.0\n")
    assert run_cli("catalog", "import", str(path)).returncode == 0
    assert run_cli("cost", "compare", "--params", "100M", "--dataset-gb", "1").returncode == 0


def test_outcome_currency_without_a_rate_is_refused() -> None:
    rec_id = recommendation()["recommendation_id"]
    result = runner.invoke(
        app, ["feedback", "record", rec_id, "--cost", "1", "--hours", "1", "--currency", "XYZ"]
    )
    assert result.exit_code == 2 and "XYZ" in result.stderr
    assert_reads_work()


def test_catalog_imports_list_and_remove_by_file_and_key(tmp_path: Path) -> None:
    first = tmp_path / "lab.csv"
    first.write_text(
        "provider,region,instance_type,price_per_hour\nLab,r1,a,1\nLab,r1,b,2\nLab,r1,c,3\n"
    )
    second = tmp_path / "other.json"
    second.write_text(
        json.dumps([{"provider": "Lab", "region": "r1", "instance_type": "c", "price_per_hour": 4}])
    )
    ok_json("catalog", "import", str(first))
    ok_json("catalog", "import", str(second))
    imports = {row["name"]: row for row in ok_json("catalog", "imports")}
    assert set(imports) == {"lab.csv", "other.json"}
    assert imports["lab.csv"]["rows"] == 3
    assert imports["lab.csv"]["offerings_held"] == 2  # c now belongs to other.json
    assert imports["lab.csv"]["file"] == str(first.absolute())

    removed = ok_json("catalog", "remove", "--file", "lab.csv")
    assert removed["offerings_removed"] == 2
    left = [row["instance_type"] for row in ok_json("catalog", "list", "--provider", "Lab")]
    assert left == ["c"]
    removed = ok_json("catalog", "remove", "--key", "Lab/r1/c")
    assert removed["offerings_removed"] == 1
    assert run_cli("catalog", "list", "--provider", "Lab").returncode == 4
    for args in (
        ["catalog", "remove", "--file", "nosuch.csv"],
        ["catalog", "remove", "--key", "AWS/us-east-1/m7i.2xlarge"],  # embedded: not removable
        ["catalog", "remove", "--key", "no-slashes"],
        ["catalog", "remove"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)


def test_reimporting_a_price_keeps_its_spot_price(tmp_path: Path) -> None:
    """An on-demand re-price of an embedded machine used to drop its spot price (the imported
    row replaced the whole row, spot included)."""
    key = ("AWS", "us-east-1", "m7i.2xlarge")
    before = {
        (o["provider"], o["region"], o["instance_type"]): o
        for o in ok_json("catalog", "list", "--provider", "AWS")
    }[key]
    assert before["spot_price_per_hour"] is not None
    path = tmp_path / "reprice.csv"
    path.write_text(f"provider,region,instance_type,price_per_hour,vcpus\n{','.join(key)},0.35,8\n")
    result = ok_json("catalog", "import", str(path))
    assert result["spot_prices_kept"] == 1
    after = {
        (o["provider"], o["region"], o["instance_type"]): o
        for o in ok_json("catalog", "list", "--provider", "AWS")
    }[key]
    assert after["price_per_hour"] == 0.35
    assert after["spot_price_per_hour"] == before["spot_price_per_hour"]


# -- 4. idempotent imports ------------------------------------------------------------------


def test_reimporting_outcomes_access_logs_and_catalogs_is_a_no_op(tmp_path: Path) -> None:
    rec_id = recommendation()["recommendation_id"]
    outcomes = tmp_path / "outcomes.jsonl"
    outcomes.write_text(
        "".join(
            json.dumps(
                {
                    "recommendation_id": rec_id,
                    "rank": rank,
                    "status": "completed",
                    "hours": 1,
                    "cost": 2 * rank,
                }
            )
            + "\n"
            for rank in (1, 2)
        )
    )
    first = run_cli("feedback", "import", str(outcomes))
    assert first.returncode == 0 and "stored 2 outcomes; 0 already present" in first.stderr
    second = run_cli("feedback", "import", str(outcomes), "--json")
    assert second.returncode == 0
    report = json.loads(second.stdout)
    assert (report["stored"], report["already_present"]) == (0, 2)
    assert ok_json("status", "--no-probe")["outcomes"] == 2

    log = tmp_path / "access.csv"
    log.write_text(
        "dataset_id,timestamp,operation\nds1,2026-11-01T00:00:00Z,read\n"
        "ds1,2026-11-02T00:00:00Z,read\n"
    )
    assert ok_json("storage", "import-access", str(log))["events_added"] == 2
    again = run_cli("storage", "import-access", str(log))
    assert again.returncode == 0 and "0 new; 2 already present" in again.stderr

    catalog = tmp_path / "lab.csv"
    catalog.write_text("provider,region,instance_type,price_per_hour\nLab,r1,a,1\n")
    assert ok_json("catalog", "import", str(catalog))["changed"] == 1
    again = run_cli("catalog", "import", str(catalog))
    assert again.returncode == 0 and "1 already present" in again.stderr


def test_migration_2_upgrades_a_version_1_state(tmp_path: Path) -> None:
    path = Path(os.environ["ARTENIC_OPT_STATE"])
    recommendation()
    with sqlite3.connect(path) as con:
        con.execute("DROP INDEX idx_outcomes_import_key")
        con.execute("ALTER TABLE outcomes DROP COLUMN import_key")
        con.execute("DROP INDEX idx_offerings_import_file")
        con.execute("ALTER TABLE offerings DROP COLUMN import_file")
        con.execute("DROP TABLE catalog_imports")
        con.execute("DELETE FROM _migrations WHERE version = 2")
    con.close()
    with open_state(path) as store:
        assert store.schema_version == 2
        assert store.scalar("SELECT count(*) FROM catalog_imports") == 0
    assert_reads_work()


# -- 7. read-only states --------------------------------------------------------------------


def test_checking_a_corrupt_or_newer_file_leaves_no_wal_or_shm(tmp_path: Path) -> None:
    newer = tmp_path / "newer" / "state.db"
    newer.parent.mkdir()
    made = run_cli("--state", str(newer), "recommend", "--params", "1B", "--dataset-gb", "1")
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO _migrations VALUES (999, 'future', 'now')")
    con.close()
    corrupt = tmp_path / "corrupt" / "state.db"
    corrupt.parent.mkdir()
    shutil.copy(newer, corrupt)
    with corrupt.open("r+b") as handle:  # keep the header, break the pages after it
        handle.seek(4096)
        handle.write(os.urandom(4096))
    for path in (newer, corrupt):
        for args in (
            ["status", "--no-probe"],
            ["history"],
            ["recommend", "--params", "1B", "--dataset-gb", "1"],
        ):
            result = run_cli("--state", str(path), *args)
            assert result.returncode == 2, (path, args, result.stderr)
        assert sorted(p.name for p in path.parent.iterdir()) == ["state.db"]


def test_read_commands_never_write_a_current_state(tmp_path: Path) -> None:
    recommendation()
    path = Path(os.environ["ARTENIC_OPT_STATE"])
    before = path.read_bytes()
    assert_reads_work()
    assert path.read_bytes() == before


NOBODY = 65534


@pytest.fixture
def read_only_state() -> Iterator[tuple[Path, list[str], dict[str, str]]]:
    """A valid state in a directory nobody may write, and how to run the CLI as a user it
    binds: ourselves when not root (root writes whatever the mode), else ``nobody``."""
    if os.geteuid() == 0 and (
        shutil.which("setpriv") is None
        or not Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}").exists()
    ):
        pytest.skip("running as root without setpriv and a system python")
    base = Path(tempfile.mkdtemp(prefix="artenic-ro-"))
    try:
        os.chmod(base, 0o755)
        folder = base / "state"
        folder.mkdir()
        path = folder / "state.db"
        data = base / "data"
        data.mkdir()
        (data / "a.csv").write_text("x,y\n1,2\n")
        os.chmod(data, 0o755)
        os.chmod(data / "a.csv", 0o644)
        scanned = run_cli("--state", str(path), "storage", "analyze", str(data))
        assert scanned.returncode == 0, scanned.stderr
        result = run_cli(
            "--state", str(path), "recommend", "--params", "100M", "--dataset-gb", "1", "--top", "2"
        )
        assert result.returncode == 0, result.stderr
        home = base / "home"
        home.mkdir()
        os.chmod(home, 0o777)
        os.chmod(path, 0o444)
        os.chmod(folder, 0o555)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "ARTENIC_OPT_STATE": str(path),
            "ARTENIC_OPT_CONFIG": str(home / "none.toml"),
            "NO_COLOR": "1",
        }
        if os.geteuid() == 0:
            import site

            paths = [str(Path(__file__).resolve().parents[2]), *site.getsitepackages()]
            env["PYTHONPATH"] = os.pathsep.join(paths)
            python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
            prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python]
        else:
            prefix = [sys.executable]
        yield path, prefix, env
    finally:
        for root, dirs, _files in os.walk(base):
            for name in dirs:
                os.chmod(Path(root) / name, 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_read_only_state_serves_read_commands_and_refuses_writes(
    read_only_state: tuple[Path, list[str], dict[str, str]],
) -> None:
    path, prefix, env = read_only_state
    before = path.read_bytes()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, "-m", "artenic_opt", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=path.parent.parent,  # not a checkout: ``-m`` puts the cwd first on sys.path
            timeout=120,
        )

    probe = run("--version")
    if probe.returncode != 0:
        pytest.skip(f"cannot run the CLI as another user here: {probe.stderr[-200:]}")
    for args in READ_COMMANDS:
        result = run(*args, "--json")
        assert result.returncode == 0, (args, result.stderr)
        json.loads(result.stdout)
    assert json.loads(run("history", "--json").stdout)[0]["candidate_count"] == 2
    for args in (
        ["recommend", "--params", "100M", "--dataset-gb", "1"],
        ["feedback", "delete", "1"],
        ["catalog", "remove", "--key", "a/b/c"],
    ):
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "read-only" in lines[0], result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["history", "--limit", "99999999999999999999999"], "--limit"),
        (["catalog", "list", "--limit", "99999999999999999999"], "--limit"),
        (["catalog", "list", "--min-gpu-memory", "inf"], "--min-gpu-memory"),
        (
            ["feedback", "record", "abcdef", "--rank", "10000", "--cost", "1", "--hours", "1"],
            "--rank",
        ),
        (["feedback", "delete", "99999999999999999999999"], "outcome_id"),
        (["--timeout", "nan", "status"], "--timeout"),
        (["cost", "summary", "--period", "99999999999999d"], "period"),
    ],
)
def test_numeric_options_are_bounded(args: list[str], fragment: str) -> None:
    result = run_cli(*args, "--json")
    assert result.returncode == 2, result.stderr
    assert fragment in json.loads(result.stdout)["error"]["message"]
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("value", [1e308, math.nan, math.inf, -1.0])
def test_platform_budgets_are_bounded(value: float) -> None:
    from pydantic import ValidationError

    from artenic_opt.platform.models import Budget, BudgetSpending

    with pytest.raises(ValidationError, match="limit_eur"):
        Budget.model_validate({"id": 1, "scope": "global", "period": "monthly", "limit_eur": value})
    with pytest.raises(ValidationError, match="spent_eur"):
        BudgetSpending.model_validate(
            {"scope": "global", "period": "monthly", "limit_eur": 10, "spent_eur": value}
        )


def test_an_outcomes_file_with_no_usable_line_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n[1]\n")
    result = run_cli("feedback", "import", str(path), "--json")
    assert result.returncode == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert "bad.jsonl:1" in message and "1 more bad lines" in message


def test_writers_refuse_a_state_they_cannot_write_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The permission check itself (``os.access``) is the edge: root passes every check, so the
    real-permission case is ``test_read_only_state_serves_read_commands_and_refuses_writes``."""
    recommendation()
    import artenic_opt.workspace as workspace

    monkeypatch.setattr(workspace, "state_writable", lambda path: False)
    result = runner.invoke(app, ["feedback", "delete", "1", "--json"])
    assert result.exit_code == 2 and "read-only" in json.loads(result.stdout)["error"]["message"]
    for args in READ_COMMANDS:
        read = runner.invoke(app, [*args, "--json"])
        assert read.exit_code == 0, (args, read.output)


def test_catalog_imports_table_draws_file_names_as_data(tmp_path: Path) -> None:
    path = tmp_path / "[red]lab[bold].csv"
    path.write_text("provider,region,instance_type,price_per_hour\nLab,r1,a,1\n")
    assert runner.invoke(app, ["catalog", "import", str(path)]).exit_code == 0
    result = runner.invoke(app, ["catalog", "imports"])
    assert result.exit_code == 0, result.output
    assert "[red]lab[bold].csv" in result.stdout


def test_stored_outcome_in_a_currency_without_a_rate_breaks_no_cost_analysis() -> None:
    """A state written before outcome currencies were checked can hold ``XYZ`` amounts."""
    advice = recommendation()
    rec_id = advice["recommendation_id"]
    ok_json("feedback", "record", rec_id, "--cost", "10", "--hours", "1")
    ok_json("feedback", "record", rec_id, "--rank", "2", "--cost", "12", "--hours", "1")
    path = Path(os.environ["ARTENIC_OPT_STATE"])
    with sqlite3.connect(path) as con:
        con.execute("UPDATE outcomes SET currency = 'XYZ' WHERE rank = 1")
    con.close()
    summary = ok_json("cost", "summary")
    assert summary["jobs"] == 1  # the XYZ outcome is left out, the USD one is counted
    for args in (("cost", "spot"), ("cost", "savings"), ("dashboard", "--json")):
        ok_json(*args)
