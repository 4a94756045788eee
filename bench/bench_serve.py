"""``serve`` speed: ``POST /recommend`` at 50 concurrent clients, ``GET /status`` latency.

Usage: ``python bench/bench_serve.py [--clients 50] [--seconds 10] [--workers 1]
[--no-access-log]``.

Starts the real ``artenic-opt serve`` (uvicorn, ``--workers`` processes, default one) on
127.0.0.1 with a fresh state and the embedded catalog, then drives it with ``httpx.AsyncClient``
from this process:

1. closed loop: ``--clients`` tasks, each sending ``POST /recommend`` (the 7B LoRA example
   workload, top 10) back to back for ``--seconds``: requests per second, p50 and p99;
2. paced: the same clients together sending at 60% of the closed-loop rate (open loop, each
   latency measured from the request's scheduled start): p50 and p99 below saturation;
3. ``GET /status`` from one client, 500 requests: p50 and p99.

Targets (issue 15): /recommend p50 <= 15 ms and p99 <= 50 ms at 50 concurrent clients,
/status p50 <= 3 ms. The server and this load generator share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1/optimizer"
WORKLOAD = tomllib.loads((ROOT / "examples" / "llm-lora-7b.toml").read_text())
WORKLOAD = WORKLOAD.get("workload", WORKLOAD)


def start(folder: Path, access_log: bool, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTENIC_")}
    env.update(HOME=str(folder), ARTENIC_OPT_CONFIG=str(folder / "none.toml"))
    args = [sys.executable, "-m", "artenic_opt", "--state", str(folder / "state.db"), "serve"]
    args += ["--port", "0", "--json", "--workers", str(workers)]
    args += [] if access_log else ["--no-access-log"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    text = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            text += os.read(proc.stdout.fileno(), 65536)
            try:
                return proc, json.loads(text)["url"]
            except json.JSONDecodeError:
                continue
    proc.kill()
    raise SystemExit("serve did not start")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def closed_loop(url: str, clients: int, seconds: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for _ in range(20):  # warm-up: connections, caches
            (await client.post(f"{API}/recommend", json=WORKLOAD)).raise_for_status()
        end = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                response = await client.post(f"{API}/recommend", json=WORKLOAD)
                latencies.append(time.perf_counter() - t0)
                response.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return latencies, len(latencies) / elapsed


async def paced(url: str, clients: int, rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        start = time.perf_counter()
        interval = clients / rate  # each client's own period

        async def worker(index: int) -> None:
            n = 0
            while True:
                scheduled = start + (index / clients + n) * interval
                if scheduled > start + seconds:
                    return
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
                response = await client.post(f"{API}/recommend", json=WORKLOAD)
                latencies.append(time.perf_counter() - scheduled)
                response.raise_for_status()
                n += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies


def status_latencies(url: str, n: int) -> list[float]:
    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(50):
            client.get(f"{API}/status").raise_for_status()
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(f"{API}/status").raise_for_status()
            latencies.append(time.perf_counter() - t0)
    return latencies


def line(name: str, latencies: list[float], targets: dict[str, float]) -> None:
    p50, p99 = pct(latencies, 0.50) * 1000, pct(latencies, 0.99) * 1000
    verdicts = []
    for label, value in (("p50", p50), ("p99", p99)):
        if label in targets:
            met = "met" if value <= targets[label] else "MISSED"
            verdicts.append(f"{label} target {targets[label]:g} ms {met}")
    print(
        f"{name:<44} n={len(latencies):>6}  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        + "; ".join(verdicts)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(Path(tmp), access_log=not args.no_access_log, workers=args.workers)
        try:
            print(
                f"serve on {url}, {args.workers} worker(s), {os.cpu_count()} CPUs, load average "
                f"{os.getloadavg()[0]:.1f}, access log {'off' if args.no_access_log else 'on'}"
            )
            latencies, rps = asyncio.run(closed_loop(url, args.clients, args.seconds))
            line(
                f"POST /recommend, {args.clients} clients, closed loop",
                latencies,
                {"p50": 15, "p99": 50},
            )
            print(f"{'':<44} throughput {rps:.0f} requests/s")
            rate = 0.6 * rps
            latencies = asyncio.run(paced(url, args.clients, rate, args.seconds))
            line(
                f"POST /recommend, {args.clients} clients, {rate:.0f}/s",
                latencies,
                {"p50": 15, "p99": 50},
            )
            line("GET /status, 1 client", status_latencies(url, 500), {"p50": 3})
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


if __name__ == "__main__":
    main()
