"""``serve`` end to end: a real uvicorn on 127.0.0.1, real httpx, the CLI on the same state.

Every route is checked for its status code, its schema (the pydantic model it documents) and
equality with the CLI's ``--json`` document for the same input.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from artenic_opt.catalog import GpuPriceRow
from artenic_opt.cli.main import build_app
from artenic_opt.schemas import (
    CostReport,
    FrontierPoint,
    LearningMetrics,
    Offering,
    OptimizerStatus,
    RecordedOutcome,
    RetrainResult,
    SavingsReport,
    SpendingSummary,
    SpotAdvice,
    StorageAdvice,
    TrainingAdvice,
)
from artenic_opt.serve import ROUTES
from artenic_opt.serve.retrain import RetrainJob
from artenic_opt.services.storage import StorageAnalysis
from artenic_opt.state.history_records import RecommendationSummary
from tests.integration.serve_support import API, KEY, Server, server_env, start_server

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKLOAD = json.loads((EXAMPLES / "llm-pretrain-1b.json").read_text())
runner = CliRunner()
app = build_app()


def cli_json(state: Path, *args: str) -> Any:
    result = runner.invoke(app, ["--state", str(state), *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


#: Fields that are "now" (analysis time, window ends), so two runs a moment apart differ.
CLOCK_FIELDS = frozenset(
    {"created_at", "analyzed_at", "window_start", "window_end", "start", "end"}
)


def same_document(a: Any, b: Any, path: str = "") -> None:
    """Assert equality, except clock fields and the floats derived from "now" (1e-4 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for key in a:
            if key not in CLOCK_FIELDS:
                same_document(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_document(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state with 160 simulated outcomes, a trained model and six datasets."""
    folder = tmp_path_factory.mktemp("serve-demo")
    state = folder / "state.db"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "artenic_opt",
            "--state",
            str(state),
            "demo",
            "--jobs",
            "160",
            "--seed",
            "3",
            "--json",
        ],
        check=True,
        capture_output=True,
        env=server_env(folder / "home"),
    )
    return state


def copy_state(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / "state.db"
    shutil.copy(src, dst)
    models = src.parent / (src.stem + "-models")
    if models.exists():
        shutil.copytree(models, dst_dir / "state-models")
    return dst


@pytest.fixture(scope="module")
def served(demo_state: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve-routes")
    state = copy_state(demo_state, folder)
    server = start_server(state, folder / "home")
    yield server
    assert server.stop() == 0
    assert KEY not in server.stderr()


@pytest.fixture(scope="module")
def client(served: Server) -> Iterator[httpx.Client]:
    with served.client() as c:
        yield c


@pytest.fixture(scope="module")
def state_of(served: Server) -> Path:
    return Path(served.announcement["state"])


@pytest.fixture(autouse=True)
def same_config(served: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process CLI reads the same (absent) config file as the server."""
    home = served.stderr_path.parent
    monkeypatch.setenv("ARTENIC_OPT_CONFIG", str(home / "optimizer.toml"))
    # The server's key is also the platform key the CLI would use: the same environment.
    monkeypatch.setenv("ARTENIC_API_KEY", KEY)


def get_ok(client: httpx.Client, path: str, **params: Any) -> Any:
    response = client.get(API + path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# -- reads: equal to the CLI ----------------------------------------------------------------


def test_status_equals_cli(client: httpx.Client, state_of: Path) -> None:
    doc = get_ok(client, "/status")
    OptimizerStatus.model_validate(doc)
    assert doc["retrain_running"] is False
    assert doc == cli_json(state_of, "status", "--no-probe")


def test_history_pages_equal_cli(client: httpx.Client, state_of: Path) -> None:
    first = get_ok(client, "/history", limit=5)
    assert isinstance(first, list) and len(first) == 5
    for row in first:
        RecommendationSummary.model_validate(row)
    assert first == cli_json(state_of, "history", "--limit", "5")
    second = get_ok(client, "/history", offset=5, limit=5)
    assert second == cli_json(state_of, "history", "--limit", "10")[5:]
    assert get_ok(client, "/history", offset=10_000) == []
    one = get_ok(client, f"/history/{first[0]['recommendation_id'][:12]}")
    TrainingAdvice.model_validate(one)
    assert one == cli_json(state_of, "history", "--show", first[0]["recommendation_id"])


def test_metrics_equal_cli(client: httpx.Client, state_of: Path) -> None:
    doc = get_ok(client, "/metrics")
    assert LearningMetrics.model_validate(doc).model_version is not None
    assert doc == cli_json(state_of, "metrics")


def test_catalog_equal_cli(client: httpx.Client, state_of: Path) -> None:
    rows = get_ok(client, "/catalog", gpu="H100", limit=5)
    assert len(rows) == 5
    assert all(Offering.model_validate(r).gpu_type for r in rows)
    assert rows == cli_json(state_of, "catalog", "list", "--gpu", "H100", "--limit", "5")
    gpus = get_ok(client, "/catalog/gpus", gpu="A100")
    assert gpus and all(GpuPriceRow.model_validate(r) for r in gpus)
    assert gpus == cli_json(state_of, "catalog", "gpus", "--gpu", "A100")


def test_cost_reports_equal_cli(client: httpx.Client, state_of: Path) -> None:
    summary = get_ok(client, "/cost/summary", period="1y", by="provider")
    SpendingSummary.model_validate(summary)
    window = ("start", "end")  # the period ends "now", a few milliseconds apart
    cli_summary = cli_json(state_of, "cost", "summary", "--period", "1y")
    assert without(summary, *window) == without(cli_summary, *window)
    savings = get_ok(client, "/cost/savings", period="1y")
    SavingsReport.model_validate(savings)
    cli_savings = cli_json(state_of, "cost", "savings", "--period", "1y")
    assert without(savings, *window) == without(cli_savings, *window)
    spot = get_ok(client, "/cost/spot")
    assert spot and all(SpotAdvice.model_validate(s) for s in spot)
    assert spot == cli_json(state_of, "cost", "spot")


def test_cost_compare_body_and_query_equal_cli(client: httpx.Client, state_of: Path) -> None:
    response = client.post(f"{API}/cost/compare", json=WORKLOAD)
    assert response.status_code == 200, response.text
    report = response.json()
    CostReport.model_validate(report)
    cli = cli_json(
        state_of, "cost", "compare", "--workload", str(EXAMPLES / "llm-pretrain-1b.json")
    )
    same_document(report, cli)
    query = {k: v for k, v in WORKLOAD.items() if not isinstance(v, list | dict)}
    frontier = get_ok(client, "/cost/compare", frontier_only="true", **query)
    assert all(FrontierPoint.model_validate(p) for p in frontier)
    assert frontier == cli["frontier"]


def test_storage_equal_cli(client: httpx.Client, state_of: Path) -> None:
    advices = get_ok(client, "/storage/recommendations")
    assert len(advices) == 6 and all(StorageAdvice.model_validate(a) for a in advices)
    same_document(advices, cli_json(state_of, "storage", "recommendations"))
    dataset = advices[0]["dataset_id"]
    response = client.post(f"{API}/storage/analyze", json={"target": dataset})
    assert response.status_code == 200, response.text
    StorageAnalysis.model_validate(response.json())
    same_document(response.json(), cli_json(state_of, "storage", "analyze", dataset))
    outside = client.post(f"{API}/storage/analyze", json={"target": "/etc"})
    assert outside.status_code == 404
    assert "--data-root" in outside.json()["detail"]


def test_openapi_lists_every_route(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    for methods, path, _ in ROUTES:
        if path in ("/openapi.json",):
            continue
        key = path.replace("{id}", "{recommendation_id}")
        assert key in schema["paths"], path
        for method in methods.split("|"):
            assert method.lower() in schema["paths"][key], (method, path)


# -- writes: the same documents as the CLI --------------------------------------------------


def test_recommend_equals_cli_and_is_stored(client: httpx.Client, state_of: Path) -> None:
    before = get_ok(client, "/status")["recommendations"]
    response = client.post(f"{API}/recommend", json=WORKLOAD, params={"top": 5, "goal": "cost"})
    assert response.status_code == 200, response.text
    advice = TrainingAdvice.model_validate(response.json())
    assert len(advice.recommendations) == 5
    cli = cli_json(
        state_of,
        "recommend",
        "--workload",
        str(EXAMPLES / "llm-pretrain-1b.json"),
        "--top",
        "5",
        "--goal",
        "cost",
    )
    volatile = ("recommendation_id", "created_at")
    assert without(response.json(), *volatile) == without(cli, *volatile)
    assert get_ok(client, "/status")["recommendations"] == before + 2
    stored = get_ok(client, f"/history/{advice.recommendation_id}")
    assert stored == response.json()


def test_feedback_equals_cli(client: httpx.Client, state_of: Path) -> None:
    recs = [
        client.post(f"{API}/recommend", json=WORKLOAD).json()["recommendation_id"] for _ in range(2)
    ]
    response = client.post(
        f"{API}/feedback",
        json={"recommendation_id": recs[0], "rank": 2, "cost": 12.5, "hours": 3.0},
    )
    assert response.status_code == 201, response.text
    api = RecordedOutcome.model_validate(response.json())
    cli = cli_json(
        state_of, "feedback", "record", recs[1], "--rank", "2", "--cost", "12.5", "--hours", "3"
    )
    volatile = ("outcome_id", "sample_id", "recommendation_id", "retrained")
    assert without(response.json(), *volatile) == without(cli, *volatile)
    assert api.label is not None and cli["outcome_id"] == api.outcome_id + 1


def test_retrain_waits_and_equals_cli(client: httpx.Client, state_of: Path) -> None:
    first = client.post(f"{API}/retrain", params={"wait": "true"})
    assert first.status_code == 200, first.text
    RetrainResult.model_validate(first.json())
    cli = cli_json(state_of, "retrain")  # nothing new since: untrained, with the reason
    assert cli["trained"] is False
    again = client.post(f"{API}/retrain", params={"wait": "true"})
    assert again.json() == cli
    job = RetrainJob.model_validate(get_ok(client, "/retrain"))
    assert job.state == "succeeded" and job.result == RetrainResult.model_validate(cli)


def test_retrain_in_background_shows_in_status(client: httpx.Client) -> None:
    before = get_ok(client, "/metrics")["model_version"]
    started = client.post(f"{API}/retrain", params={"force": "true"})
    assert started.status_code == 202
    job = RetrainJob.model_validate(started.json())
    assert job.state == "running"
    again = client.post(f"{API}/retrain", params={"force": "true"})
    # Joined while the first job runs; a second job only once the first one has finished.
    joined = again.json()["job_id"] == job.job_id
    assert joined or get_ok(client, "/metrics")["model_version"] > before
    seen_running = get_ok(client, "/status")["retrain_running"]
    done = client.post(f"{API}/retrain", params={"wait": "true", "force": "true"})
    # Each request either joined the running job or, if that had finished, trained once more.
    after = get_ok(client, "/metrics")["model_version"]
    assert done.status_code == 200
    assert before + 1 <= after <= before + (2 if joined else 3)
    assert seen_running or get_ok(client, "/retrain")["job_id"] != job.job_id


# -- errors and bad input -------------------------------------------------------------------


def test_auth_missing_wrong_right(served: Server) -> None:
    with served.client(key=None) as anonymous:
        assert anonymous.get("/health").status_code == 200
        for path in (f"{API}/status", "/openapi.json"):
            response = anonymous.get(path)
            assert response.status_code == 401
            assert response.json() == {"detail": "invalid or missing API key"}
            assert response.headers["www-authenticate"] == "Bearer"
        lower = anonymous.get(f"{API}/status", headers={"Authorization": f"bearer {KEY}"})
        assert lower.status_code == 200
        basic = anonymous.get(f"{API}/status", headers={"Authorization": f"Basic {KEY}"})
        assert basic.status_code == 401
    with served.client(key=KEY[:-1] + "x") as wrong:
        assert wrong.get(f"{API}/status").status_code == 401
        assert wrong.post(f"{API}/recommend", json=WORKLOAD).status_code == 401
    with served.client() as right:
        assert right.get(f"{API}/status").status_code == 200


def error_fields(response: httpx.Response) -> list[str]:
    return [".".join(str(p) for p in err["loc"]) for err in response.json()["detail"]]


BAD_REQUESTS = [
    ("recommend", {"json": {**WORKLOAD, "model_params_m": -5}}, "body.model_params_m"),
    ("recommend", {"json": {**WORKLOAD, "framework": "cobol"}}, "body.framework"),
    ("recommend", {"json": {**WORKLOAD, "num_epochs": 1e300}}, "body.num_epochs"),
    ("recommend", {"json": {**WORKLOAD, "gpu_color": "red"}}, "body.gpu_color"),
    ("recommend", {"json": WORKLOAD, "params": {"top": 0}}, "query.top"),
    ("recommend", {"json": WORKLOAD, "params": {"goal": "cheapest"}}, "query.goal"),
    ("recommend", {"json": WORKLOAD, "params": {"mode": "magic"}}, "query.mode"),
    (
        "recommend",
        {"content": b'{"model_params_m": 1', "headers": {"content-type": "application/json"}},
        "body.20",
    ),
    ("feedback", {"json": {"recommendation_id": "x", "cost": -1, "hours": 1}}, "body.cost"),
    (
        "feedback",
        {"json": {"recommendation_id": "x", "cost": 1, "hours": 1, "status": "won"}},
        "body.status",
    ),
    (
        "feedback",
        {"json": {"recommendation_id": "x", "cost": 1, "hours": 1, "rank": 0}},
        "body.rank",
    ),
    (
        "feedback",
        {"json": {"recommendation_id": "x", "cost": 1, "hours": 1, "status": "running"}},
        "body",
    ),
    ("cost/compare", {"json": {**WORKLOAD, "precision": "fp3"}}, "body.precision"),
]


def counts(client: httpx.Client) -> tuple[int, int, int]:
    doc = get_ok(client, "/status")
    return doc["recommendations"], doc["outcomes"], doc["training_samples"]


def test_bad_input_names_the_field_and_changes_nothing(client: httpx.Client) -> None:
    before = counts(client)
    for route, kwargs, field in BAD_REQUESTS:
        response = client.post(f"{API}/{route}", **kwargs)
        assert response.status_code == 422, (route, field, response.text)
        assert field in error_fields(response), (field, response.json())
    assert client.get(f"{API}/history", params={"limit": 501}).status_code == 422
    assert client.get(f"{API}/catalog", params={"min_gpu_memory": -1}).status_code == 422
    big = {**WORKLOAD, "name": "x" * (2 * 1024 * 1024)}
    too_large = client.post(f"{API}/recommend", json=big)
    assert too_large.status_code == 413
    assert too_large.json() == {"detail": "request body larger than 1048576 bytes"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts streamed bytes
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = client.post(
        f"{API}/recommend", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert counts(client) == before


def test_library_errors_map_to_statuses(client: httpx.Client) -> None:
    missing = client.get(f"{API}/history/ffffffffffff")
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    impossible = client.post(f"{API}/recommend", json={**WORKLOAD, "budget": 0.01})
    assert impossible.status_code == 409
    assert "budget" in impossible.json()["detail"]
    nothing = client.get(f"{API}/catalog", params={"gpu": "H100", "provider": "nobody"})
    assert nothing.status_code == 409 and "--provider nobody" in nothing.json()["detail"]
    period = client.get(f"{API}/cost/summary", params={"period": "soon"})
    assert period.status_code == 400 and period.json()["detail"].startswith("period:")
    unknown = client.post(
        f"{API}/feedback", json={"recommendation_id": "ffffffffffff", "cost": 1, "hours": 1}
    )
    assert unknown.status_code == 404
    assert client.get(f"{API}/nope").status_code == 404
    assert client.delete(f"{API}/status").status_code == 405


# -- start-up refusals ----------------------------------------------------------------------


def run_serve(
    tmp_path: Path, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(tmp_path / "s.db"), "serve", *args],
        capture_output=True,
        text=True,
        env=server_env(tmp_path / "home", key=key),
        timeout=60,
    )


def test_non_loopback_without_key_is_refused(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--host", "0.0.0.0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "without an API key" in result.stderr
    assert not (tmp_path / "s.db").exists()


def test_key_file_must_be_private(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k" * 32)
    key_file.chmod(0o644)
    result = run_serve(tmp_path, "--api-key-file", str(key_file), "--host", "0.0.0.0")
    assert result.returncode == 2 and "chmod 600" in result.stderr
    assert "k" * 32 not in result.stderr
    key_file.write_text("")
    key_file.chmod(0o600)
    result = run_serve(tmp_path, "--api-key-file", str(key_file))
    assert result.returncode == 2 and "empty" in result.stderr


def test_key_file_serves_and_is_never_logged(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    secret = "file-key-0123456789abcdef"
    key_file.write_text(secret + "\n")
    key_file.chmod(0o600)
    server = start_server(
        tmp_path / "s.db", tmp_path / "home", "--api-key-file", str(key_file), key=None
    )
    try:
        assert server.announcement["authentication"] is True
        with server.client(key=secret) as c:
            assert c.get(f"{API}/status").status_code == 200
            assert (
                c.post(f"{API}/recommend", json={**WORKLOAD, "model_params_m": -1}).status_code
                == 422
            )
        with server.client(key=KEY) as c:
            assert c.get(f"{API}/status").status_code == 401
    finally:
        assert server.stop() == 0
    assert secret not in server.stderr()
    assert "GET /api/v1/optimizer/status" in server.stderr()  # the access log is on


def test_missing_extra_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('fastapi', 'uvicorn'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from artenic_opt.cli.main import main\n"
        f"sys.argv = ['artenic-opt', '--state', {str(tmp_path / 's.db')!r}, 'serve']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=server_env(tmp_path / "home"),
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: serve needs the optional server packages: pip install 'artenic-opt[serve]'\n"
    )


def test_cors_and_data_root(served: Server, tmp_path: Path) -> None:
    with served.client() as c:
        plain = c.get(f"{API}/status", headers={"Origin": "https://dash.example"})
        assert "access-control-allow-origin" not in plain.headers
    data = tmp_path / "data" / "clicks"
    data.mkdir(parents=True)
    (data / "part-0.csv").write_text("user,item\n" + "".join(f"{i},{i % 7}\n" for i in range(500)))
    server = start_server(
        tmp_path / "s.db",
        tmp_path / "home",
        "--cors-origin",
        "https://dash.example",
        "--data-root",
        str(tmp_path / "data"),
    )
    try:
        with server.client() as c:  # --data-root: paths inside it are analysed, others refused
            inside = c.post(f"{API}/storage/analyze", json={"target": "clicks"})
            assert inside.status_code == 200, inside.text
            assert StorageAnalysis.model_validate(inside.json()).advice.size_bytes > 0
            escape = c.post(f"{API}/storage/analyze", json={"target": "../../etc"})
            assert escape.status_code == 400 and "outside --data-root" in escape.json()["detail"]
        with server.client(key=None) as c:
            preflight = c.options(
                f"{API}/status",
                headers={
                    "Origin": "https://dash.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == "https://dash.example"
        with server.client() as c:
            other = c.get(f"{API}/status", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers
    finally:
        assert server.stop() == 0


def test_state_is_checkpointed_after_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "s.db"
    server = start_server(state, tmp_path / "home")
    with server.client() as c:
        assert c.post(f"{API}/recommend", json=WORKLOAD).status_code == 200
    assert server.stop() == 0
    wal = Path(f"{state}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(state) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 1
    conn.close()


if os.environ.get("ARTENIC_OPT_DEBUG_SERVE"):  # pragma: no cover - local debugging aid
    print(server_env(Path("/tmp")))


def test_readme_route_table_is_fresh() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for methods, path, what in ROUTES:
        assert f"| {methods.replace('|', ' / ')} | `{path}` | {what.replace('|', '/')} |" in readme


def test_two_workers_share_the_state_and_retrain_once(demo_state: Path, tmp_path: Path) -> None:
    state = copy_state(demo_state, tmp_path / "state")
    server = start_server(state, tmp_path / "home", "--workers", "2")
    try:
        with server.client() as c:
            version = c.get(f"{API}/metrics").json()["model_version"]
            rec = c.post(f"{API}/recommend", json=WORKLOAD).json()["recommendation_id"]

        both_ready = threading.Barrier(2)

        def retrain_wait(_: int) -> dict[str, Any]:
            with server.client() as own:  # its own connection: possibly the other worker
                # Warmed, then sent together: "at once" means both arrive before either ends.
                assert own.get(f"{API}/metrics").json()["model_version"] == version
                both_ready.wait(30)
                response = own.post(f"{API}/retrain", params={"force": "true", "wait": "true"})
                assert response.status_code == 200, response.text
                return dict(response.json())

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(retrain_wait, range(2)))
        with server.client() as c:
            assert c.get(f"{API}/metrics").json()["model_version"] == version + 1
            assert c.get(f"{API}/history/{rec}").status_code == 200  # any worker sees it
        # One trained (or both joined one job of one worker); the other one was told why not.
        assert sum(r["trained"] for r in results) >= 1
        assert {r["model"]["version"] for r in results if r["trained"]} == {version + 1}
        for r in results:
            if not r["trained"]:
                assert r["reason"].startswith(
                    ("another retrain of this state is running", "another retrain finished")
                ), r
    finally:
        assert server.stop() == 0
