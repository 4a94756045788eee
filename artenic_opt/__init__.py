"""artenic-opt: where to train and store ML workloads, and what it will cost.

The heavy parts (LightGBM, scikit-learn, Textual) load lazily, so importing this package stays
cheap; the public names below resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artenic_opt._version import __version__

_LAZY = {
    "TrainingAdvisor": "artenic_opt.training_advisor.advisor",
    "StorageOptimizer": "artenic_opt.storage_optimizer.optimizer",
    "CostAnalyzer": "artenic_opt.cost_analyzer.analyzer",
}

if TYPE_CHECKING:  # pragma: no cover
    from artenic_opt.cost_analyzer.analyzer import CostAnalyzer
    from artenic_opt.storage_optimizer.optimizer import StorageOptimizer
    from artenic_opt.training_advisor.advisor import TrainingAdvisor

__all__ = ["CostAnalyzer", "StorageOptimizer", "TrainingAdvisor", "__version__"]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'artenic_opt' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
