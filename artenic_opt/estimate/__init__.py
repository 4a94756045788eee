"""Estimates of a workload on offerings: memory fit, run time and whole-job cost.

Pure, vectorised functions: each takes the workload and numpy columns describing the candidate
rows (one row per offering x node count) and returns arrays for every row at once, plus the
inputs it used. They never open files or import the catalog: callers pass the columns.
``assumptions`` lists every constant with its source.

``candidates`` (catalog columns -> candidate rows, and all estimators over them) and ``filters``
(the hard filters) sit here, below the pillars that share them (training advisor, cost analyzer);
they are imported by module, not re-exported, so importing ``estimate`` stays light.
"""

from __future__ import annotations

from artenic_opt.estimate.cost import (
    CostArrays,
    estimate_cost,
    expected_spot_hours,
    preemption_rate_for,
    validate_preemption_rates,
)
from artenic_opt.estimate.memory import MemoryArrays, estimate_memory
from artenic_opt.estimate.runtime import (
    PeakSource,
    ReferenceThroughput,
    TimeArrays,
    estimate_hours,
    peak_tflops_for_precision,
    reference_from_figures,
    scaling_efficiency,
)
from artenic_opt.estimate.workload import (
    WorkloadFacts,
    WorkloadKind,
    describe_workload,
    lora_trainable_params,
    model_layers_hidden,
    workload_kind,
)

__all__ = [
    "CostArrays",
    "MemoryArrays",
    "PeakSource",
    "ReferenceThroughput",
    "TimeArrays",
    "WorkloadFacts",
    "WorkloadKind",
    "describe_workload",
    "estimate_cost",
    "estimate_hours",
    "estimate_memory",
    "expected_spot_hours",
    "lora_trainable_params",
    "model_layers_hidden",
    "peak_tflops_for_precision",
    "preemption_rate_for",
    "reference_from_figures",
    "scaling_efficiency",
    "validate_preemption_rates",
    "workload_kind",
]
