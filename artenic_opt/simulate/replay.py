"""Replay files: measured runs (workload, offering, outcome) for backtesting (DESIGN §2).

A replay file is JSON Lines, one measured run per line::

    {"workload": {WorkloadProfile fields},
     "offering": {Offering fields, "nodes": 2, "spot": false},
     "outcome": {"status": "completed", "hours": 3.5, "cost": 12.1, "currency": "USD",
                 "preemptions": 0, "metric_before": 0.61, "metric_after": 0.66}}

or CSV with the same fields flattened into dotted headers (``workload.name``,
``offering.price_per_hour``, ``outcome.cost``, ...). Runs of one workload repeat its fields.

Decisions:

* ``offering.spot`` (optional, default false) says whether the run used the spot price: spot and
  on-demand are distinct candidates (DESIGN §2) and a replayed spot run must be scored as one.
* Missing optional fields take the schema defaults; unknown fields are errors, as everywhere.
  ``offering.source`` and ``offering.price_date`` are optional here (measured data rarely says
  where its prices came from): they default to ``REPLAY_SOURCE`` and ``REPLAY_PRICE_DATE``.
* Per-run measured fields (input size, records, anything the job logged) go in an optional
  ``run`` object (``run.<field>`` in CSV): numbers or short strings kept as the run's
  ``attributes``. They describe that run, not the workload, so they never change its query id.
  Empty CSV cells count as missing, and list fields (``allowed_providers``) are comma-separated.
* Reading stops at the first bad line with an ``InvalidInputError`` that names the file and line:
  a backtest on half a file would answer a different question than the one asked.
* Writing goes to a temporary file in the same folder, then replaces the target, so a crash never
  leaves half a file behind.
* ``simulate_replay`` builds a realistic replay from the simulated world: for each workload a few
  candidates a team might have tried (mostly runnable ones, some that fail), spot or on-demand.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from artenic_opt._internal.files import atomic_write_text, read_text_file
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    CurrencyCode,
    JobOutcome,
    Offering,
    WorkloadProfile,
    format_validation_error,
)
from artenic_opt.simulate.world import SimulatedOutcome, World
from artenic_opt.types import JobStatus

_SECTIONS = ("workload", "offering", "outcome")
_OPTIONAL_SECTIONS = ("run",)
_RUN_KEYS = ("nodes", "spot")
#: ``offering.source`` of a replayed offering that does not say where its price came from.
REPLAY_SOURCE = "replay file (price source not given)"
#: ``offering.price_date`` of a replayed offering without one: unknown, so the earliest date.
REPLAY_PRICE_DATE = date(1970, 1, 1)
_MAX_ATTRIBUTES = 64


class ReplayOutcome(BaseModel):
    """The measured result of one replayed run."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    status: JobStatus
    hours: float = Field(ge=0, allow_inf_nan=False)
    cost: float = Field(ge=0, allow_inf_nan=False)
    currency: CurrencyCode = "USD"
    preemptions: int = Field(default=0, ge=0)
    metric_before: float | None = Field(default=None, allow_inf_nan=False)
    metric_after: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check(self) -> ReplayOutcome:
        if not self.status.is_final:
            raise ValueError(
                f"status: a measured run needs a final status, not {self.status.value}"
            )
        if (self.metric_before is None) != (self.metric_after is None):
            raise ValueError("metric_after: give both metric_before and metric_after, or neither")
        return self


class ReplayRun(BaseModel):
    """One measured run: what was trained, where, and what happened."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    workload: WorkloadProfile
    offering: Offering
    nodes: int = Field(default=1, ge=1, le=512)
    spot: bool = False
    outcome: ReplayOutcome
    #: Per-run measured fields (``run`` object): input size and the like; not the workload's.
    attributes: dict[str, float | str] = Field(default_factory=dict, max_length=_MAX_ATTRIBUTES)

    def to_record(self) -> dict[str, Any]:
        """The nested JSON object of one replay line."""
        offering = self.offering.model_dump(mode="json", exclude_none=True)
        offering.update(nodes=self.nodes, spot=self.spot)
        record: dict[str, Any] = {
            "workload": self.workload.model_dump(mode="json", exclude_none=True),
            "offering": offering,
            "outcome": self.outcome.model_dump(mode="json", exclude_none=True),
        }
        if self.attributes:
            record["run"] = dict(self.attributes)
        return record


def replay_run(
    workload: WorkloadProfile,
    offering: Offering,
    outcome: SimulatedOutcome | JobOutcome,
    *,
    nodes: int | None = None,
    spot: bool | None = None,
) -> ReplayRun:
    """A replay run from an outcome; node count and spot default to the simulated outcome's."""
    if isinstance(outcome, SimulatedOutcome):
        nodes = outcome.nodes if nodes is None else nodes
        spot = outcome.spot if spot is None else spot
    measured = ReplayOutcome(
        status=outcome.status,
        hours=outcome.hours,
        cost=outcome.cost,
        currency=outcome.currency,
        preemptions=outcome.preemptions,
        metric_before=outcome.metric_before,
        metric_after=outcome.metric_after,
    )
    return ReplayRun(
        workload=workload,
        offering=offering,
        nodes=1 if nodes is None else nodes,
        spot=bool(spot),
        outcome=measured,
    )


def parse_replay_record(record: Any, *, where: str) -> ReplayRun:
    """Validate one nested replay record; ``where`` (``file:line``) prefixes any error."""
    if not isinstance(record, Mapping):
        raise InvalidInputError(f"{where}: expected a JSON object with workload, offering, outcome")
    unknown = sorted(set(record) - set(_SECTIONS) - set(_OPTIONAL_SECTIONS))
    missing = [name for name in _SECTIONS if name not in record]
    if unknown:
        raise InvalidInputError(
            f"{where}: unknown key {unknown[0]!r}; expected {', '.join(_SECTIONS)} "
            "and optionally run"
        )
    if missing:
        raise InvalidInputError(f"{where}: {missing[0]}: missing")
    for name in (*_SECTIONS, *(n for n in _OPTIONAL_SECTIONS if n in record)):
        if not isinstance(record[name], Mapping):
            raise InvalidInputError(f"{where}: {name}: must be an object")
    offering = dict(record["offering"])
    run = {key: offering.pop(key) for key in _RUN_KEYS if key in offering}
    offering.setdefault("source", REPLAY_SOURCE)
    offering.setdefault("price_date", REPLAY_PRICE_DATE.isoformat())
    attributes = {str(k): _attribute(v, where, str(k)) for k, v in record.get("run", {}).items()}
    data = {
        "workload": record["workload"],
        "offering": offering,
        "outcome": record["outcome"],
        "attributes": attributes,
        **run,
    }
    try:
        return ReplayRun.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(format_validation_error(exc, context=where)) from None


def _attribute(value: Any, where: str, name: str) -> float | str:
    """A run attribute: a finite number (numeric text converts) or a short string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInputError(f"{where}: run.{name}: must be a number or a string")
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            if len(value) > 200:
                raise InvalidInputError(
                    f"{where}: run.{name}: longer than 200 characters"
                ) from None
            return value
        value = number
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}: run.{name}: must be finite")
    return float(value)


def _unflatten(row: Mapping[str, str | None], where: str) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {name: {} for name in (*_SECTIONS, *_OPTIONAL_SECTIONS)}
    for header, value in row.items():
        if header is None:
            raise InvalidInputError(f"{where}: more cells than headers")
        section, _, field = header.strip().partition(".")
        if section not in nested or not field:
            raise InvalidInputError(
                f"{where}: column {header!r} must be workload.<field>, offering.<field>, "
                "outcome.<field> or run.<field>"
            )
        if value is None or value.strip() == "":
            continue
        nested[section][field] = value.strip()
    if not nested["run"]:
        del nested["run"]
    return nested


def _iter_csv(text: str, name: str) -> Iterator[ReplayRun]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        where = f"{name}:{reader.line_num}"
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        yield parse_replay_record(_unflatten(row, where), where=where)


def _iter_jsonl(text: str, name: str) -> Iterator[ReplayRun]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
        yield parse_replay_record(record, where=where)


def read_replay_file(path: str | os.PathLike[str]) -> list[ReplayRun]:
    """Read a JSONL (or ``.csv``) replay file; the first bad line raises ``InvalidInputError``."""
    file = Path(path)
    text = read_text_file(file, what="replay file")
    runs = list(
        _iter_csv(text, str(file))
        if file.suffix.lower() == ".csv"
        else _iter_jsonl(text, str(file))
    )
    if not runs:
        raise InvalidInputError(f"{file}: replay file has no runs")
    return runs


def _flatten(record: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for section in (*_SECTIONS, *_OPTIONAL_SECTIONS):
        for field, value in record.get(section, {}).items():
            if isinstance(value, (list, tuple)):
                text = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            flat[f"{section}.{field}"] = text
    return flat


def write_replay_file(
    path: str | os.PathLike[str], records: Iterable[ReplayRun | Mapping[str, Any]]
) -> int:
    """Write runs as JSONL (or CSV when the name ends in ``.csv``); returns the number written.

    Plain mappings are validated as replay records first, so a file written here always reads
    back.
    """
    file = Path(path)
    runs = [
        r if isinstance(r, ReplayRun) else parse_replay_record(r, where=f"record {i}")
        for i, r in enumerate(records, start=1)
    ]
    nested = [run.to_record() for run in runs]
    if file.suffix.lower() == ".csv":
        flat = [_flatten(record) for record in nested]
        headers: dict[str, None] = {}
        for row in flat:
            headers.update(dict.fromkeys(row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(headers), lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        text = buffer.getvalue()
    else:
        text = "".join(json.dumps(r, separators=(",", ":"), sort_keys=False) + "\n" for r in nested)
    atomic_write_text(file, text, make_parents=True)
    return len(runs)


def simulate_replay(
    world: World,
    workloads: Sequence[WorkloadProfile],
    offerings: Sequence[Offering],
    *,
    runs_per_workload: int = 8,
    rng_or_seed: np.random.Generator | int = 0,
) -> list[ReplayRun]:
    """Measured runs a team might have made: per workload, a few candidates run once each.

    About 80% of the tried candidates can run the job (enough memory, a GPU when needed); the
    rest fail, as misjudged choices do. Spot is used on half the runs where it is sold and allowed;
    distributed workloads try 1 to ``max_nodes`` nodes.
    """
    if runs_per_workload < 1:
        raise InvalidInputError(f"runs_per_workload: must be at least 1, got {runs_per_workload}")
    if not offerings:
        raise InvalidInputError("offerings: need at least one offering to simulate runs on")
    rng = (
        rng_or_seed
        if isinstance(rng_or_seed, np.random.Generator)
        else np.random.default_rng(rng_or_seed)
    )
    runs: list[ReplayRun] = []
    for workload in workloads:
        runnable = [i for i, o in enumerate(offerings) if world.expected(workload, o).runnable]
        tried: set[tuple[int, int, bool]] = set()
        for attempt in range(runs_per_workload):
            pool = runnable if runnable and rng.uniform() < 0.8 else range(len(offerings))
            index = int(rng.choice(list(pool)))
            offering = offerings[index]
            spot = bool(
                workload.spot_allowed
                and offering.spot_price_per_hour is not None
                and rng.uniform() < 0.5
            )
            nodes = int(rng.integers(1, workload.max_nodes + 1)) if workload.distributed else 1
            if (index, nodes, spot) in tried:
                continue
            tried.add((index, nodes, spot))
            outcome = world.run(workload, offering, nodes, spot, trial=attempt)
            runs.append(replay_run(workload, offering, outcome))
    return runs
