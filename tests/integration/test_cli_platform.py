"""The platform flow through the real CLI (subprocesses) against the fake gateway on loopback.

sync -> second sync (no change) -> recommend -> dispatch -> job completes -> sync -> the
outcome is stored and a training sample created; and every platform failure exits 3 with one
line and leaves the state without partial records.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from tests.platform_server import (
    FakePlatform,
    platform_server_fixture,  # noqa: F401
    serve_platform,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def cli(url: str, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTENIC_URL": url, "ARTENIC_TIMEOUT": "5"}
    if key is not None:
        env["ARTENIC_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "artenic_opt", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def count(table: str) -> int:
    with closing(sqlite3.connect(os.environ["ARTENIC_OPT_STATE"])) as con:
        return int(con.execute(f"select count(*) from {table}").fetchone()[0])


def test_sync_dispatch_complete_sync_learns(platform_server: FakePlatform) -> None:
    platform_server.seed()
    url = platform_server.url

    first = cli(url, "sync", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "ok"
    jobs_before = count("platform_jobs")
    assert jobs_before > 0 and count("datasets") > 0 and count("budgets") > 0

    second = cli(url, "sync", "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    for part in again["parts"].values():
        assert part["added"] == 0 and part["updated"] == 0 and part["removed"] == 0

    rec = cli(url, "recommend", "--workload", str(EXAMPLES / "llm-lora-7b.toml"), "--json")
    assert rec.returncode == 0, rec.stderr
    rec_id = json.loads(rec.stdout)["recommendation_id"]

    sent = cli(
        url,
        "dispatch",
        rec_id,
        "--service",
        "sentiment",
        "--model",
        "llama-lora",
        "--platform-provider",
        "mock",
        "--json",
    )
    assert sent.returncode == 0, sent.stderr
    job_id = json.loads(sent.stdout)["job_id"]
    job = platform_server.jobs[job_id]
    assert job["config"]["artenic_opt_recommendation_id"] == rec_id
    assert job["config"]["artenic_opt_rank"] == 1
    assert platform_server.workload_specs[job_id]["name"] == "llm-lora-7b"

    platform_server.finish_job(job_id, duration_seconds=7200.0, cost_actual_eur=5.0)
    samples_before = count("training_samples")
    third = cli(url, "sync", "--only", "jobs", "--json")
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["outcomes_recorded"] >= 1

    with closing(sqlite3.connect(os.environ["ARTENIC_OPT_STATE"])) as con:
        row = con.execute(
            "select recommendation_id, rank, status, hours, cost, currency, label from outcomes "
            "where job_id = ?",
            (job_id,),
        ).fetchone()
    assert row[:6] == (rec_id, 1, "completed", 2.0, 5.0, "EUR")
    assert row[6] is not None
    assert count("training_samples") == samples_before + 1

    status = json.loads(cli(url, "status", "--json").stdout)
    assert status["last_sync_at"] is not None and status["data_age_hours"] < 1
    assert status["platform_jobs"] == count("platform_jobs")
    assert status["datasets"] == count("datasets") and status["budgets"] == count("budgets")

    history = cli(url, "history", "--json")
    entry = next(r for r in json.loads(history.stdout) if r["recommendation_id"] == rec_id)
    assert entry["job_id"] == job_id and entry["outcome_status"] == "completed"


def test_unreachable_platform_exits_3_and_stores_nothing() -> None:
    result = cli("http://127.0.0.1:9", "sync")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "unreachable" in result.stderr.lower() or "connect" in result.stderr.lower()
    assert count("platform_jobs") == 0


def test_refused_key_exits_3_and_never_prints_the_key() -> None:
    with serve_platform(api_key="right-key") as fake:
        fake.seed()
        result = cli(fake.url, "sync", "--json", key="sk-wrong-secret-42")
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"]["exit_code"] == 3
    assert "sk-wrong-secret-42" not in result.stdout + result.stderr
    assert count("platform_jobs") == 0


def test_part_failure_keeps_complete_parts_and_exits_3(platform_server: FakePlatform) -> None:
    platform_server.seed()
    platform_server.malformed("/api/v1/datasets", times=None)
    result = cli(platform_server.url, "sync", "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["status"] == "partial"
    assert "datasets" in report["failures"]
    assert count("datasets") == 0
    assert count("platform_jobs") == len(platform_server.jobs)


def test_status_shows_platform_answering(platform_server: FakePlatform) -> None:
    result = cli(platform_server.url, "status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["platform_configured"] is True
    assert data["platform_reachable"] is True
    down = cli("http://127.0.0.1:9", "status", "--json")
    assert down.returncode == 0
    assert json.loads(down.stdout)["platform_reachable"] is False


def test_recommend_dispatch_sends_the_platform_provider(platform_server: FakePlatform) -> None:
    # The fake gateway knows only the training provider "mock": without the flag reaching the
    # dispatch call, the offering's provider name (e.g. "aws") would be sent and refused.
    url = platform_server.url
    result = cli(
        url,
        "recommend",
        "--workload",
        str(EXAMPLES / "llm-lora-7b.toml"),
        "--dispatch",
        "--service",
        "sentiment",
        "--platform-model",
        "llama-lora",
        "--platform-provider",
        "mock",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    job = platform_server.jobs[document["dispatch"]["job_id"]]
    assert job["provider"] == "mock"
    assert job["config"]["artenic_opt_recommendation_id"] == document["advice"]["recommendation_id"]
