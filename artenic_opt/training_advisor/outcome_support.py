"""Where a learned ranking model has seen outcomes: the configurations it may promote.

A ranking model trained on feedback only knows the configurations that were run. Ranked over every
feasible candidate it extrapolates to the long tail it never saw (on the simulator, hybrid then
ranks worse than the heuristic; ``evaluation.simulator``), but restricted to the heuristic's top
10 it can never promote what the heuristic ranks lower, whatever the outcomes say (issue 14). So
``recommend`` lets the model rank the heuristic's shortlist *widened by outcomes*: every candidate
whose configuration has a measured outcome for this or a similar workload.

``support_rows(features)`` turns training rows into the model's *outcome support*: one row per
distinct (workload kind, configuration) it was trained on, stored in the model's metadata.
``supported(features, support)`` marks the candidates of one workload that the support covers;
``learned_shortlist`` is the set the model ranks (heuristic top N plus the covered rows).

Decisions:

* A configuration is the machine shape, not the offering: spot or on-demand, node count, GPUs per
  node, GPU memory and bandwidth (which tell GPU models apart), vCPUs and system memory. The same
  shape in another region or at another provider is the same configuration: its price and
  reliability differ, and those are features the model scores.
* Similar workloads share the fine-tuning method and the framework family and need training work
  within ``SIMILAR_WORK_DECADES`` (one decade, 10x) of each other. The target workload's own runs
  always qualify (identical workload columns).
* Values are compared rounded to 3 decimals (features are logs and catalog figures: rounding only
  absorbs float noise of a JSON round trip).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from artenic_opt._internal.arrays import FloatArray

#: Workload columns that say which workloads are similar.
SUPPORT_WORKLOAD_COLUMNS: Final[tuple[str, ...]] = (
    "fine_tuning",
    "framework_family",
    "log_training_work",
)
#: Offering columns that make a configuration.
SUPPORT_CONFIG_COLUMNS: Final[tuple[str, ...]] = (
    "is_spot",
    "nodes",
    "gpus_per_node",
    "gpu_memory_gb",
    "gpu_bandwidth_gbps",
    "vcpus",
    "system_memory_gb",
)
SUPPORT_COLUMNS: Final = SUPPORT_WORKLOAD_COLUMNS + SUPPORT_CONFIG_COLUMNS
#: Training work (log10) within this many decades counts as a similar workload.
SIMILAR_WORK_DECADES: Final = 1.0
_DECIMALS: Final = 3
_WORK: Final = SUPPORT_WORKLOAD_COLUMNS.index("log_training_work")
_CATEGORIES: Final = [
    i for i, name in enumerate(SUPPORT_WORKLOAD_COLUMNS) if name != "log_training_work"
]
_CONFIG: Final = slice(len(SUPPORT_WORKLOAD_COLUMNS), len(SUPPORT_COLUMNS))


def support_indices(feature_names: Sequence[str]) -> list[int] | None:
    """Positions of ``SUPPORT_COLUMNS`` in ``feature_names``; ``None`` if one is missing."""
    position = {name: i for i, name in enumerate(feature_names)}
    if not all(name in position for name in SUPPORT_COLUMNS):
        return None
    return [position[name] for name in SUPPORT_COLUMNS]


def support_rows(features: npt.ArrayLike, feature_names: Sequence[str]) -> FloatArray:
    """Distinct (workload kind, configuration) rows of training features, sorted.

    Empty (``0 x len(SUPPORT_COLUMNS)``) when the names lack a support column.
    """
    matrix = np.asarray(features, dtype=np.float64)
    columns = support_indices(feature_names)
    if columns is None or matrix.ndim != 2 or matrix.shape[0] == 0:
        return np.zeros((0, len(SUPPORT_COLUMNS)), dtype=np.float64)
    rows: FloatArray = np.unique(matrix[:, columns].round(_DECIMALS), axis=0)
    return rows


def _row_keys(matrix: FloatArray) -> npt.NDArray[np.void]:
    """One hashable-by-bytes key per row (rounded, ``-0.0`` folded into ``0.0``)."""
    contiguous = np.ascontiguousarray(matrix.round(_DECIMALS) + 0.0)
    keys: npt.NDArray[np.void] = contiguous.view(
        np.dtype((np.void, contiguous.dtype.itemsize * contiguous.shape[1]))
    ).reshape(-1)
    return keys


def supported(
    features: FloatArray, support: FloatArray, feature_names: Sequence[str]
) -> npt.NDArray[np.bool_]:
    """Which rows of one workload's candidate ``features`` the ``support`` covers.

    All rows must belong to the same workload (as ``extract_features`` builds them).
    """
    n = features.shape[0]
    columns = support_indices(feature_names)
    if n == 0 or support.shape[0] == 0 or columns is None:
        return np.zeros(n, dtype=np.bool_)
    mine = features[:, columns]
    workload = mine[0, : len(SUPPORT_WORKLOAD_COLUMNS)].round(_DECIMALS)
    similar = np.abs(support[:, _WORK] - workload[_WORK]) <= SIMILAR_WORK_DECADES + 1e-9
    for column in _CATEGORIES:
        similar &= support[:, column] == workload[column]
    if not similar.any():
        return np.zeros(n, dtype=np.bool_)
    known = _row_keys(support[similar][:, _CONFIG])
    covered: npt.NDArray[np.bool_] = np.isin(_row_keys(mine[:, _CONFIG]), known)
    return covered


def learned_shortlist(
    heuristic_order: npt.ArrayLike,
    features: FloatArray,
    model: object,
    top: int,
    *,
    cost: npt.ArrayLike,
    hours: npt.ArrayLike,
) -> npt.NDArray[np.int64]:
    """Rows the learned model ranks, ascending: the heuristic's ``top`` rows, every row the
    model's ``outcome_support`` covers (a model without that attribute: the top rows only), and
    every row that dominates one of those (cheaper and no slower: it must rank above it anyway).

    ``features`` are the rows of one workload's candidates, named as ``FEATURE_NAMES``;
    ``cost`` and ``hours`` their estimates (dominance is transitive, so one pass closes the set).
    """
    from artenic_opt.training_advisor.feature_extractor import FEATURE_NAMES

    order = np.asarray(heuristic_order, dtype=np.int64)
    rows = order[:top]
    support = getattr(model, "outcome_support", None)
    if isinstance(support, np.ndarray) and support.ndim == 2 and support.shape[0]:
        covered = np.flatnonzero(supported(features, support, FEATURE_NAMES))
        extra = np.setdiff1d(covered, rows)
        if extra.size:
            costs = np.asarray(cost, dtype=np.float64)
            times = np.asarray(hours, dtype=np.float64)
            dominators = (costs[None, :] < costs[extra, None]) & (
                times[None, :] <= times[extra, None]
            )
            rows = np.union1d(np.union1d(rows, extra), np.flatnonzero(dominators.any(axis=0)))
    result: npt.NDArray[np.int64] = np.sort(rows).astype(np.int64)
    return result


__all__ = [
    "SIMILAR_WORK_DECADES",
    "SUPPORT_COLUMNS",
    "SUPPORT_CONFIG_COLUMNS",
    "SUPPORT_WORKLOAD_COLUMNS",
    "learned_shortlist",
    "support_indices",
    "support_rows",
    "supported",
]
