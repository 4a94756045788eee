"""`catalog list --gpu` through the real CLI: a family name lists every variant, the cheaper
A100 80 GB and the H100 PCIe/NVL parts included (issue 13); an exact variant narrows."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def catalog_gpus(label: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "artenic_opt", "catalog", "list", "--gpu", label, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {row["gpu_type"] for row in json.loads(result.stdout)}


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("A100", {"A100 40GB", "A100 80GB"}),
        ("H100", {"H100 SXM", "H100 PCIe", "H100 NVL"}),
        ("A100-80GB", {"A100 80GB"}),
        ("H100 PCIe", {"H100 PCIe"}),
    ],
)
def test_gpu_family_and_variant(label: str, expected: set[str]) -> None:
    assert catalog_gpus(label) == expected
