"""GPU label normalisation: known spellings, ambiguity rules, and case/spacing invariance."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from artenic_opt.catalog import (
    CANONICAL_GPU_TYPES,
    normalize_gpu_type,
    normalize_gpu_type_or_none,
)
from artenic_opt.catalog.gpu_names import _ALIASES
from artenic_opt.errors import InvalidInputError

KNOWN_LABELS = {
    "a100-80gb": "A100 80GB",
    "A100-80G": "A100 80GB",
    "NVIDIA A100-SXM4-80GB": "A100 80GB",
    "nvidia-a100-80gb": "A100 80GB",
    "A100": "A100 40GB",
    "nvidia-tesla-a100": "A100 40GB",
    "NVIDIA A100-PCIE-40GB": "A100 40GB",
    "nvidia-h100-80gb": "H100 SXM",
    "H100": "H100 SXM",
    "NVIDIA H100 80GB HBM3": "H100 SXM",
    "H100-PCIe": "H100 PCIe",
    "H100 NVL": "H100 NVL",
    "nvidia-h200-141gb": "H200",
    "RTX4090": "RTX 4090",
    "NVIDIA GeForce RTX 4090": "RTX 4090",
    "A6000": "RTX A6000",
    "NVIDIA RTX A6000": "RTX A6000",
    "mi300x": "MI300X",
    "AMD Instinct MI300X": "MI300X",
    "Tesla T4": "T4",
    "nvidia-tesla-t4": "T4",
    "T4G": "T4G",
    "A10G": "A10G",
    "nvidia-l4": "L4",
    "L40S": "L40S",
    "Tesla V100-SXM2-16GB": "V100 16GB",
    "V100-32GB": "V100 32GB",
    "V100": "V100 16GB",
    "nvidia-tesla-p100": "P100",
    "Quadro RTX 6000": "Quadro RTX 6000",
    "rtx6000": "Quadro RTX 6000",
    "GH200": "GH200",
    "B200": "B200",
}


@pytest.mark.parametrize(("label", "expected"), sorted(KNOWN_LABELS.items()))
def test_known_labels(label: str, expected: str) -> None:
    assert normalize_gpu_type(label) == expected


def test_canonical_names_map_to_themselves() -> None:
    for name in CANONICAL_GPU_TYPES:
        assert normalize_gpu_type(name) == name


def test_alias_targets_are_canonical() -> None:
    assert set(_ALIASES) <= set(CANONICAL_GPU_TYPES)


@pytest.mark.parametrize("label", ["GPU", "", "   ", None, "RTX 6000 Ada", "L40", "TPU v5e"])
def test_unknown_labels_give_none(label: str | None) -> None:
    assert normalize_gpu_type_or_none(label) is None


def test_unknown_label_error_lists_allowed_values() -> None:
    with pytest.raises(InvalidInputError) as err:
        normalize_gpu_type("RTX 6000 Ada")
    message = err.value.message
    assert message.startswith("gpu_type: unknown GPU type 'RTX 6000 Ada'")
    for name in CANONICAL_GPU_TYPES:
        assert name in message


ALL_SPELLINGS = sorted(
    {(name, name) for name in CANONICAL_GPU_TYPES}
    | {(label, target) for label, target in KNOWN_LABELS.items()}
)
SEPARATORS = st.sampled_from(["", " ", "  ", "-", "_", "/", ".", "\t"])


@st.composite
def respelled(draw: st.DrawFn) -> tuple[str, str]:
    label, target = draw(st.sampled_from(ALL_SPELLINGS))
    chars: list[str] = []
    for char in label:
        if char.isalnum():
            chars.append(char.upper() if draw(st.booleans()) else char.lower())
            chars.append(draw(SEPARATORS))
        else:
            # An existing separator may become any other separator.
            chars.append(draw(SEPARATORS))
    return draw(SEPARATORS) + "".join(chars), target


@given(respelled())
def test_case_and_spacing_variants_map_to_the_same_name(case: tuple[str, str]) -> None:
    label, target = case
    assert normalize_gpu_type(label) == target
    assert normalize_gpu_type_or_none(label) == target


@given(st.text(max_size=40))
def test_or_none_never_raises_and_agrees_with_strict(label: str) -> None:
    found = normalize_gpu_type_or_none(label)
    if found is None:
        with pytest.raises(InvalidInputError):
            normalize_gpu_type(label)
    else:
        assert found in CANONICAL_GPU_TYPES
        assert normalize_gpu_type(label) == found
