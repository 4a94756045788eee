"""Reading a workload document: a JSON or TOML file, or stdin (``-``), plus field overrides.

Shared by every front end (the CLI's workload flags, the dashboard's example workloads, ``serve``).
Sizes accept SI suffixes (``7B`` parameters, ``2T`` tokens, ``350M``). Every failure is an
``InvalidInputError`` that names the file.

Decisions (issue 12, the parameter unit):

* A parameter count is written the same way in flags and files: ``--params 7B`` and
  ``params = "7B"`` (``350M``, ``7e9`` also work). A bare number such as ``7000`` is refused
  with a message saying how to write it: it was read as 7,000 parameters by the flag but as
  7,000 million by ``model_params_m``. ``model_params_m`` (millions, the unit in its name)
  stays accepted in files; giving both it and ``params`` is an error.
* ``model = "llama-3-8b"`` (a name from the embedded architecture table) or ``hf_config =
  "path/config.json"`` (relative to the workload file) set the workload's ``architecture``,
  from which the parameter count derives.
* A boolean where the schema takes a number (``batch_size = true``) is refused: pydantic's lax
  mode would read it as 1, a typo turned into a silent, plausible-looking workload.
"""

import json
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from artenic_opt._internal.files import MAX_TEXT_BYTES, read_text_file
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


_BARE_NUMBER = re.compile(r"^\s*[-+]?[0-9]*\.?[0-9]+\s*$")
PARAMS_HINT = "write the parameter count with a unit: 7B, 350M or 7e9"


def parse_param_count(value: object, *, field: str) -> float:
    """A parameter count: ``"7B"``, ``"350M"``, ``"7e9"``; a bare number is ambiguous."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInputError(f"{field}: {value!r} is not a parameter count ({PARAMS_HINT})")
    text = str(value)
    if not isinstance(value, str) or _BARE_NUMBER.match(text):
        raise InvalidInputError(
            f"{field}: {text!r} is ambiguous (parameters or millions of parameters?); {PARAMS_HINT}"
        )
    return parse_quantity(text, field=field)


_MODEL_KEYS = frozenset({"params", "model", "hf_config", "model_params_m"})


_FILE_KEYS = {"params": "params", "model": "model", "hf_config": "hf_config"}
_FLAG_KEYS = {"params": "--params", "model": "--model", "hf_config": "--hf-config"}


def _architecture_fields(
    data: dict[str, Any], base: Path | None, context: str, names: dict[str, str]
) -> None:
    """Resolve ``params``, ``model`` and ``hf_config`` keys in place (see the module notes).

    ``names`` spells the keys in messages (file keys, or the flags they came from).
    """
    if "params" in data:
        if data.get("model_params_m") is not None:
            raise InvalidInputError(
                f"{context}: give {names['params']} or model_params_m, not both"
            )
        count = parse_param_count(data.pop("params"), field=names["params"])
        data["model_params_m"] = count / 1e6
    name = data.get("model")
    config = data.pop("hf_config", None)
    if name is not None and config is not None:
        raise InvalidInputError(
            f"{context}: give {names['model']} or {names['hf_config']}, not both"
        )
    if name is None and config is None:
        return
    # The architecture table loads only for a workload that names a model or a config.
    from artenic_opt.estimate.architectures import get_architecture, read_hf_config, to_schema

    if name is not None:
        if not isinstance(name, str):
            raise InvalidInputError(
                f"{context}: {names['model']} must be a name such as llama-3-8b"
            )
        data["architecture"] = to_schema(get_architecture(name))
    elif config is not None:
        if not isinstance(config, str) or not config.strip():
            raise InvalidInputError(
                f"{context}: {names['hf_config']} must be a path to a config.json"
            )
        path = Path(config)
        if base is not None and not path.is_absolute():
            path = base / path
        data["architecture"] = to_schema(read_hf_config(path))


#: A UTF-8 byte order mark, as Windows editors write it; RFC 8259 section 8.1 lets a JSON
#: parser ignore it, and it is no TOML statement either.
_BOM = "\ufeff"


def _object_without_duplicates(name: str) -> Any:
    """A ``json`` object hook refusing a key given twice (TOML refuses it; JSON kept the last)."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InvalidInputError(f"{name}: key {key!r} is given twice")
            result[key] = value
        return result

    return hook


def read_workload_file(path: str) -> dict[str, Any]:
    """Parse a workload document (JSON or TOML; ``-`` reads stdin and sniffs the format)."""
    if path == "-":
        name = "<stdin>"
        if sys.stdin is None or sys.stdin.closed:
            raise InvalidInputError(f"{name}: stdin is closed; pipe a workload into --workload -")
        try:
            text = sys.stdin.read(MAX_TEXT_BYTES + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{name}: cannot read the workload: {exc}") from None
        if len(text) > MAX_TEXT_BYTES:
            raise InvalidInputError(
                f"{name}: workload is too large (more than {MAX_TEXT_BYTES} characters)"
            )
        text = text.removeprefix(_BOM)
        suffix = ".json" if text.lstrip().startswith("{") else ".toml"
    else:
        file = Path(path)
        name = str(file)
        text = read_text_file(file, what="workload file").removeprefix(_BOM)
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
            data = json.loads(text, object_pairs_hook=_object_without_duplicates(name))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
    if isinstance(data, dict) and isinstance(data.get("workload"), dict):
        beside = sorted(key for key in data if key != "workload")
        if beside:
            # Fields beside the [workload] table would be dropped without a word.
            raise InvalidInputError(
                f"{name}: fields outside the workload table ({', '.join(beside)}); put them "
                "inside it, or leave the table out"
            )
        data = data["workload"]
    if not isinstance(data, dict):
        raise InvalidInputError(f"{name}: a workload file must hold one object of fields")
    return data


def build_workload(file: str | None, overrides: dict[str, Any]) -> "WorkloadProfile":
    from artenic_opt.schemas import WorkloadProfile, parse_model

    data: dict[str, Any] = read_workload_file(file) if file else {}
    context = "workload" if not file else f"workload {'<stdin>' if file == '-' else file}"
    base = Path(file).parent if file and file != "-" else None
    _architecture_fields(data, base, context, _FILE_KEYS)  # paths relative to the file
    given = {
        key: value
        for key, value in overrides.items()
        if value is not None and not (isinstance(value, list | tuple) and not value)
    }
    if given.keys() & _MODEL_KEYS:
        # A flag about the model replaces everything the file said about it.
        for key in (*_MODEL_KEYS, "architecture"):
            data.pop(key, None)
    data.update(given)
    if given.keys() & _MODEL_KEYS:
        _architecture_fields(data, None, context, _FLAG_KEYS)  # paths relative to the cwd
    if isinstance(data.get("tokens"), str):
        # Written as the flag takes it: tokens = "2T" (a --tokens flag arrives parsed).
        data["tokens"] = parse_quantity(data["tokens"], field=f"{context}: tokens")
    # ``model_params_m`` may be left out where there is no model (the schema says when).
    optional_params = data.get("gpu_required") is False or str(
        data.get("framework", "")
    ).lower() in {"lightgbm", "xgboost", "catboost", "sklearn"}
    has_size = optional_params or "model_params_m" in data or data.get("architecture") is not None
    if not has_size or "dataset_size_gb" not in data:
        missing = [
            label
            for label, present in (
                ("model_params_m", has_size),
                ("dataset_size_gb", "dataset_size_gb" in data),
            )
            if not present
        ]
        flags = {"model_params_m": "--params or --model", "dataset_size_gb": "--dataset-gb"}
        raise InvalidInputError(
            f"{context}: {', '.join(missing)} required "
            f"(give {' and '.join(flags[m] for m in missing)} or --workload FILE)"
        )
    _refuse_booleans_as_numbers(data, context)
    workers = data.get("num_workers")
    if data.get("cpu_only") is True and isinstance(workers, int | float) and workers > 1:
        # The GPU-count filter does not apply to CPU-only offerings: it was dropped silently.
        raise InvalidInputError(
            f"{context}: cpu_only (--cpu-only) and num_workers {workers} (--gpus, GPUs per node) "
            "contradict: a CPU-only job runs on machines without GPUs; drop one of them"
        )
    return parse_model(WorkloadProfile, data, context=context)


def _refuse_booleans_as_numbers(data: dict[str, Any], context: str) -> None:
    """``batch_size = true`` is a typo, not a batch of 1 (pydantic's lax mode reads it as 1)."""
    from artenic_opt.schemas import WorkloadProfile

    for key, value in data.items():
        field = WorkloadProfile.model_fields.get(key)
        if not isinstance(value, bool) or field is None:
            continue
        kinds = set(get_args(field.annotation)) or {field.annotation}
        if kinds & {int, float} and bool not in kinds:
            raise InvalidInputError(f"{context}: {key}: {str(value).lower()} is not a number")
