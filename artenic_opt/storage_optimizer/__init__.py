"""Storage optimizer: usage analysis, format advice with measured compression, tiering, savings.

``StorageOptimizer`` (``optimizer``) is the entry point the CLI and TUI call with loaded data.
``scan_path`` (``local_scan``) and ``parse_access_file`` (``access_log``) are the two adapters
that read the user's files, read-only; every other module is pure logic. pyarrow, the optional
``parquet`` extra, is imported only when a sample is measured.
"""

from __future__ import annotations

from artenic_opt.storage_optimizer.access_log import iter_access_file, parse_access_file
from artenic_opt.storage_optimizer.format_advisor import advise_format
from artenic_opt.storage_optimizer.local_scan import read_head, scan_path
from artenic_opt.storage_optimizer.optimizer import StorageOptimizer
from artenic_opt.storage_optimizer.tiering_engine import classify_tier, decide_tier
from artenic_opt.storage_optimizer.usage_analyzer import analyze_usage

__all__ = [
    "StorageOptimizer",
    "advise_format",
    "analyze_usage",
    "classify_tier",
    "decide_tier",
    "iter_access_file",
    "parse_access_file",
    "read_head",
    "scan_path",
]
