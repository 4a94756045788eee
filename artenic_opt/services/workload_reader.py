"""Reading a workload document: a JSON or TOML file, or stdin (``-``), plus field overrides.

Shared by every front end (the CLI's workload flags, the dashboard's example workloads, ``serve``).
Sizes accept SI suffixes (``7B`` parameters, ``2T`` tokens, ``350M``). Every failure is an
``InvalidInputError`` that names the file.
"""

import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artenic_opt.errors import InvalidInputError

if TYPE_CHECKING:
    from artenic_opt.schemas import WorkloadProfile

_SUFFIXES = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_QUANTITY = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([KMBGTP]?)\s*$", re.I)


def parse_quantity(text: str, *, field: str) -> float:
    """``"7B"`` -> 7e9, ``"350m"`` -> 3.5e8, ``"1.5e3"`` -> 1500; positive finite numbers only."""
    match = _QUANTITY.match(text)
    if not match:
        raise InvalidInputError(
            f"{field}: {text!r} is not a number (use e.g. 7B, 350M, 2T or 1.5e9)"
        )
    value = float(match.group(1)) * _SUFFIXES[match.group(2).upper()]
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{field}: must be greater than 0, not {text!r}")
    return value


def read_workload_file(path: str) -> dict[str, Any]:
    """Parse a workload document (JSON or TOML; ``-`` reads stdin and sniffs the format)."""
    if path == "-":
        name = "<stdin>"
        if sys.stdin is None or sys.stdin.closed:
            raise InvalidInputError(f"{name}: stdin is closed; pipe a workload into --workload -")
        try:
            text = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{name}: cannot read the workload: {exc}") from None
        suffix = ".json" if text.lstrip().startswith("{") else ".toml"
    else:
        file = Path(path)
        name = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidInputError(f"{name}: workload file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{name}: cannot read workload file: {exc}") from None
        suffix = file.suffix.lower()
    if not text.strip():
        raise InvalidInputError(f"{name}: workload file is empty")
    if suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInputError(f"{name}: malformed TOML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
    if isinstance(data, dict) and isinstance(data.get("workload"), dict):
        data = data["workload"]
    if not isinstance(data, dict):
        raise InvalidInputError(f"{name}: a workload file must hold one object of fields")
    return data


def build_workload(file: str | None, overrides: dict[str, Any]) -> "WorkloadProfile":
    from artenic_opt.schemas import WorkloadProfile, parse_model

    data: dict[str, Any] = read_workload_file(file) if file else {}
    context = "workload" if not file else f"workload {'<stdin>' if file == '-' else file}"
    for key, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, list | tuple) and not value:
            continue
        data[key] = value
    if "model_params_m" not in data or "dataset_size_gb" not in data:
        missing = [k for k in ("model_params_m", "dataset_size_gb") if k not in data]
        flags = {"model_params_m": "--params", "dataset_size_gb": "--dataset-gb"}
        raise InvalidInputError(
            f"{context}: {', '.join(missing)} required "
            f"(give {' and '.join(flags[m] for m in missing)} or --workload FILE)"
        )
    return parse_model(WorkloadProfile, data, context=context)
