"""``serve`` options: loopback detection, key files, the worker hand-over (no server needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import InvalidInputError
from artenic_opt.serve import API_PREFIX, ROUTES, route_table
from artenic_opt.serve.options import (
    OPTIONS_ENV,
    ServeOptions,
    check_options,
    is_loopback,
    read_key_file,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.com", False),
        ("localhost.evil.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@given(st.ip_addresses())
def test_is_loopback_agrees_with_ipaddress(address: object) -> None:
    assert is_loopback(str(address)) is address.is_loopback  # type: ignore[attr-defined]


def test_options_travel_to_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    options = ServeOptions(host="::1", port=9, workers=3, cors_origins=("https://a",))
    monkeypatch.setenv(OPTIONS_ENV, options.to_env())
    assert ServeOptions.from_env() == options
    assert "key" not in options.to_env().lower().replace("api_key_file", "")
    monkeypatch.delenv(OPTIONS_ENV)
    assert ServeOptions.from_env() == ServeOptions()


def test_check_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert check_options(ServeOptions()) is None
    monkeypatch.setenv("ARTENIC_API_KEY", "  k  ")
    assert check_options(ServeOptions(host="0.0.0.0")) == "k"
    for bad, field in [
        (ServeOptions(port=70000), "--port"),
        (ServeOptions(workers=0), "--workers"),
        (ServeOptions(max_body_bytes=10), "--max-body-bytes"),
        (ServeOptions(data_root=str(tmp_path / "none")), "--data-root"),
    ]:
        with pytest.raises(InvalidInputError, match=field):
            check_options(bad)
    monkeypatch.setenv("ARTENIC_API_KEY", "")
    with pytest.raises(InvalidInputError, match="without an API key"):
        check_options(ServeOptions(host="10.0.0.1"))


def test_key_file_checks(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        read_key_file(tmp_path / "missing")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        read_key_file(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(b"\xff\xfe")
    key.chmod(0o600)
    with pytest.raises(InvalidInputError, match="UTF-8"):
        read_key_file(key)
    key.write_text(" secret\n")
    assert read_key_file(key) == "secret"
    key.chmod(0o640)
    with pytest.raises(InvalidInputError, match="chmod 600"):
        read_key_file(key)
    key.chmod(0o600)
    link = tmp_path / "link"
    os.symlink(key, link)
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_key_file(link)  # O_NOFOLLOW: a symlink could point anywhere


def test_route_table_names_every_route() -> None:
    table = route_table()
    assert API_PREFIX in table.splitlines()[0]
    for methods, path, _ in ROUTES:
        assert (path.removeprefix(API_PREFIX) or "/") in table, path
        assert methods in table


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("NotFoundError", 404),
        ("InvalidInputError", 400),
        ("StateError", 400),
        ("CurrencyError", 400),
        ("InfeasibleError", 409),
        ("PlatformError", 503),
        ("PlatformUnreachableError", 503),
        ("PlatformAuthError", 503),
        ("ArtenicOptError", 500),
    ],
)
def test_library_errors_map_to_the_documented_statuses(error: str, status: int) -> None:
    """The same classes as the exit codes: 2 -> 400/404, 4 -> 409, 3 -> 503, else 500."""
    pytest.importorskip("fastapi")
    from artenic_opt import errors
    from artenic_opt.serve.app import status_of

    assert status_of(getattr(errors, error)("message")) == status
