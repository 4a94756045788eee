"""``artenic-opt serve``: the optimizer's HTTP API (``/api/v1/optimizer``) over the same services.

Modules: ``options`` (what the command resolved: address, key, limits; typer- and
fastapi-free), ``app`` (the ASGI app factory: auth and body limit middleware, error mapping),
``routes`` (one thin route per CLI command), ``context`` (the per-process workspace and caches),
``retrain`` (the background retrain worker) and ``server`` (uvicorn, signals, shutdown).

This module imports nothing heavy: ``ROUTES`` feeds ``serve --help`` and the README, and
FastAPI/uvicorn load only when the server starts (they are the optional ``[serve]`` extra).
"""

API_PREFIX = "/api/v1/optimizer"

#: (method, path, what it returns) for ``serve --help``, the README and a staleness test.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/health", "liveness, no auth"),
    ("GET", "/openapi.json", "OpenAPI schema"),
    ("POST", f"{API_PREFIX}/recommend", "rank offerings (?top&goal&mode)"),
    ("GET", f"{API_PREFIX}/status", "status --json (+ retrain_running)"),
    ("GET", f"{API_PREFIX}/history", "stored recommendations (?offset&limit)"),
    ("GET", f"{API_PREFIX}/history/{{id}}", "one stored recommendation (id or prefix)"),
    ("POST", f"{API_PREFIX}/feedback", "record a job outcome (feedback record)"),
    ("POST", f"{API_PREFIX}/retrain", "background retrain (?force&wait)"),
    ("GET", f"{API_PREFIX}/retrain", "the latest retrain job of this process"),
    ("GET", f"{API_PREFIX}/metrics", "held-out ranking quality (metrics --json)"),
    ("POST", f"{API_PREFIX}/storage/analyze", "analyse a dataset ({target, ...})"),
    ("GET", f"{API_PREFIX}/storage/recommendations", "advice for every known dataset"),
    ("GET|POST", f"{API_PREFIX}/cost/compare", "providers side by side (workload)"),
    ("GET", f"{API_PREFIX}/cost/summary", "spending (?period&by)"),
    ("GET", f"{API_PREFIX}/cost/savings", "savings opportunities (?period)"),
    ("GET", f"{API_PREFIX}/cost/spot", "spot advice (?period)"),
    ("GET", f"{API_PREFIX}/catalog", "offerings (?gpu&provider&region...)"),
    ("GET", f"{API_PREFIX}/catalog/gpus", "cheapest per GPU-hour (?gpu&provider)"),
)


def route_table() -> str:
    """The route table as aligned plain-text lines, API paths relative to ``API_PREFIX``."""
    rows = [(m, p.removeprefix(API_PREFIX) or "/", w) for m, p, w in ROUTES]
    width = max(len(method) for method, _, _ in rows)
    path_width = max(len(path) for _, path, _ in rows)
    lines = [f"Routes ({API_PREFIX}/...; /health and /openapi.json at the root):"]
    lines += [f"{m:<{width}}  {p:<{path_width}}  {w}" for m, p, w in rows]
    return "\n".join(lines)
