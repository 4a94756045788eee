"""What ``serve`` runs with: address, workers, key, limits; resolved and checked before start.

Typer- and FastAPI-free, so the command can refuse a bad configuration (exit 2) before the
optional server packages are even imported.

Decisions:

* The key scheme is the platform's: ``Authorization: Bearer <key>``, the key taken from
  ``--api-key-file`` or else ``ARTENIC_API_KEY``. A key file must be a regular file that only its
  owner can read or write (like ssh refuses a private key readable by others); surrounding
  whitespace is stripped, an empty file is an error.
* Without a key the server listens on loopback only: any other address is refused (exit 2),
  because the API records outcomes and trains models for whoever can reach it.
* ``ServeOptions`` crosses into uvicorn worker processes (``--workers > 1``) as JSON in an
  environment variable; the key itself never goes there: workers re-read it from the same file
  or from ``ARTENIC_API_KEY``, which they inherit.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from artenic_opt.errors import InvalidInputError

OPTIONS_ENV = "ARTENIC_OPT_SERVE_OPTIONS"
KEY_ENV = "ARTENIC_API_KEY"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    workers: int = 1
    api_key_file: str | None = None
    state: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()
    data_root: str | None = None
    graceful_timeout_s: float = 30.0
    access_log: bool = True

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        raw = os.environ.get(OPTIONS_ENV)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)


def is_loopback(host: str) -> bool:
    """``localhost`` and loopback addresses (127.0.0.0/8, ::1); anything else is exposed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_key_file(path: Path) -> str:
    """The key in ``path``; refuses files others may read or write, and empty files."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise InvalidInputError(f"--api-key-file {path}: no such file") from None
    except OSError as exc:
        raise InvalidInputError(f"--api-key-file {path}: cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"--api-key-file {path}: not a regular file")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InvalidInputError(
                f"--api-key-file {path}: readable or writable by others "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run `chmod 600 {path}`"
            )
        data = os.read(fd, 64 * 1024)
    finally:
        os.close(fd)
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidInputError(f"--api-key-file {path}: not UTF-8 text") from None
    if not key:
        raise InvalidInputError(f"--api-key-file {path}: the file is empty")
    return key


def resolve_key(options: ServeOptions) -> str | None:
    """The API key the server checks, or ``None`` when authentication is off."""
    if options.api_key_file:
        return read_key_file(Path(options.api_key_file).expanduser())
    key = os.environ.get(KEY_ENV, "").strip()
    return key or None


def check_options(options: ServeOptions) -> str | None:
    """Validate ``options``; return the key. ``InvalidInputError`` (exit 2) when unsafe."""
    if not 0 <= options.port <= 65535:
        raise InvalidInputError(f"--port: must be between 0 and 65535, not {options.port}")
    if options.workers < 1:
        raise InvalidInputError(f"--workers: must be at least 1, not {options.workers}")
    if options.max_body_bytes < 1024:
        raise InvalidInputError("--max-body-bytes: must be at least 1024")
    key = resolve_key(options)
    if key is None and not is_loopback(options.host):
        raise InvalidInputError(
            f"--host {options.host}: refusing to listen beyond loopback without an API key "
            f"(set {KEY_ENV} or --api-key-file)"
        )
    if options.data_root is not None and not Path(options.data_root).is_dir():
        raise InvalidInputError(f"--data-root {options.data_root}: not a directory")
    return key
