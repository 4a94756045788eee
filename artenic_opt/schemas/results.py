"""Result documents of the use cases in ``services`` (what ``--json`` prints for them).

Every ``--json`` document is a model of ``artenic_opt.schemas``; these are the ones that belong to
no pillar: what ``demo`` built, what a replay file received, what ``storage analyze`` found.
"""

from artenic_opt.schemas import _Frozen
from artenic_opt.schemas.storage import FileProblem, StorageAdvice


class DemoSummary(_Frozen):
    """``demo``: what the simulated history holds."""

    seed: int
    jobs: int
    workloads: int
    infeasible_workloads: int
    outcomes: int
    training_samples: int
    model_version: int | None
    datasets: int
    access_events: int


class ReplayWritten(_Frozen):
    """``demo --replay-out``: the replay file written."""

    file: str
    runs: int
    workloads: int
    seed: int


class StorageAnalysis(_Frozen):
    """``storage analyze``: the advice and the per-file problems met on the way."""

    advice: StorageAdvice
    problems: tuple[FileProblem, ...] = ()
