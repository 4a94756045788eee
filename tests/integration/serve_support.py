"""Running the real ``artenic-opt serve`` (uvicorn on 127.0.0.1, a free port) for tests."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

KEY = "test-key-5f0c0a6c2b7e4d1f"
API = "/api/v1/optimizer"


def server_env(home: Path, *, key: str | None = KEY) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARTENIC_") or k.startswith("ARTENIC_OPT_DEBUG")
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        ARTENIC_OPT_CONFIG=str(home / "optimizer.toml"),
        ARTENIC_CONFIG_FILE=str(home / "artenic.toml"),
        NO_COLOR="1",
    )
    if key is not None:
        env["ARTENIC_API_KEY"] = key
    return env


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    stderr_path: Path
    announcement: dict[str, Any]

    def client(self, *, key: str | None = KEY, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def start_server(
    state: Path, home: Path, *args: str, key: str | None = KEY, timeout: float = 60
) -> Server:
    """Start ``serve --port 0 --json`` and wait for its announcement on stdout."""
    home.mkdir(parents=True, exist_ok=True)
    stderr_path = home / f"serve-{time.monotonic_ns()}.err"
    with stderr_path.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "artenic_opt",
                "--state",
                str(state),
                "serve",
                "--port",
                "0",
                "--json",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=server_env(home, key=key),
        )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    text = ""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            proc.kill()
            proc.wait()
            raise AssertionError(f"serve did not start: {stderr_path.read_text()}")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if not ready:
            continue
        # Raw reads: a buffered readline would hide the rest of the document from select.
        text += os.read(proc.stdout.fileno(), 65536).decode()
        try:
            announcement = json.loads(text)
        except json.JSONDecodeError:
            continue
        break
    server = Server(proc, announcement["url"], stderr_path, announcement)
    with server.client() as client:  # the socket is bound; wait for the app's start-up
        while time.monotonic() < deadline:
            try:
                if client.get("/health").status_code == 200:
                    return server
            except httpx.TransportError:
                time.sleep(0.05)
    server.stop()
    raise AssertionError("serve never answered /health")
