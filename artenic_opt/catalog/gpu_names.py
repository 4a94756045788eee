"""Canonical GPU type names, and the tolerant mapping from free-text labels onto them.

Every offering and every GPU spec row uses one of ``CANONICAL_GPU_TYPES`` (for example
``"A100 80GB"`` or ``"H100 SXM"``). Labels come from many places (cloud catalogs, the platform,
users typing ``--gpu a100-80gb``), so a label is reduced to a compact key first: lower case,
vendor and marketing words (``nvidia``, ``tesla``, ``geforce``, ``amd``, ``instinct``,
``quadro``) dropped, every character that is not a letter or digit removed. The key is then
looked up in an alias table. ``"NVIDIA A100-SXM4-80GB"``, ``"a100_80gb"`` and ``"A100 80GB"``
all become ``"a10080gb"`` and map to ``"A100 80GB"``.

Decisions on ambiguous labels follow the convention SkyPilot's catalogs use:

* a bare ``"A100"`` is the 40 GB part (``"A100-80GB"`` names the other one);
* a bare ``"H100"`` is the SXM part, the common one in 8-GPU servers;
* a bare ``"V100"`` is the 16 GB part;
* ``"RTX 6000"`` is the Turing Quadro RTX 6000 (Lambda's ``gpu_1x_rtx6000``); the Ada card
  (``"RTX 6000 Ada"``) is a different GPU and is not in the table.

Filters (``catalog list --gpu``, ``catalog gpus --gpu``) read a label differently: a **family
name** (``A100``, ``H100``, ``V100``: the part before a memory size or form factor, shared by
several canonical types) matches every variant of the family, so ``--gpu A100`` lists the 40 GB
and the 80 GB parts and ``--gpu H100`` the SXM, PCIe and NVL ones (``gpu_types_matching``); an
exact variant (``A100-80GB``, ``H100 PCIe``) narrows to that one. Elsewhere (a workload's
``reference_gpu``) one type is needed, and the convention above picks it.

A short memory suffix written with ``g`` instead of ``gb`` (``"A100-80G"``) is accepted as a
second try, after the exact key, so that ``"T4G"`` (a GPU of its own) is not read as "T4, 4 GB".
"""

from __future__ import annotations

import re

from artenic_opt.errors import InvalidInputError

#: Every GPU type the catalog knows, in the spelling used by offerings and the spec table.
CANONICAL_GPU_TYPES: tuple[str, ...] = (
    "A10",
    "A100 40GB",
    "A100 80GB",
    "A10G",
    "B200",
    "B300",
    "GH200",
    "H100 NVL",
    "H100 PCIe",
    "H100 SXM",
    "H200",
    "L4",
    "L40S",
    "MI300X",
    "P100",
    "Quadro RTX 6000",
    "RTX 3070",
    "RTX 4090",
    "RTX A4000",
    "RTX A6000",
    "T4",
    "T4G",
    "V100 16GB",
    "V100 32GB",
    "V100S 32GB",
)

# Compact keys (see module docstring) that are not simply the compacted canonical name.
_ALIASES: dict[str, tuple[str, ...]] = {
    "A10": ("a1024gb",),
    "A100 40GB": (
        "a100",
        "a100sxm",
        "a100sxm4",
        "a100sxm440gb",
        "a10040gbsxm",
        "a10040gbsxm4",
        "a100pcie",
        "a100pcie40gb",
        "a10040gbpcie",
    ),
    "A100 80GB": (
        "a100sxm80gb",
        "a100sxm480gb",
        "a10080gbsxm",
        "a10080gbsxm4",
        "a100pcie80gb",
        "a10080gbpcie",
    ),
    "A10G": ("a10g24gb",),
    "B200": ("b200sxm", "b200sxm6", "b200180gb", "b200192gb"),
    "B300": ("b300sxm", "b300sxm6", "b300288gb"),
    "GH200": ("gh20096gb", "gh200480gb", "gracehopper"),
    "H100 NVL": ("h100nvl94gb", "h10094gbnvl", "h100nvl96gb"),
    "H100 PCIe": ("h100pcie80gb", "h10080gbpcie"),
    "H100 SXM": (
        "h100",
        "h10080gb",
        "h100sxm5",
        "h100sxm80gb",
        "h100sxm580gb",
        "h10080gbsxm",
        "h10080gbhbm3",
        "h100hbm3",
        "h100mega80gb",
    ),
    "H200": ("h200sxm", "h200141gb", "h200sxm141gb", "h200141gbsxm"),
    "L4": ("l424gb",),
    "L40S": ("l40s48gb",),
    "MI300X": ("mi300x192gb", "mi300xoam"),
    "P100": ("p10016gb", "p100pcie", "p100pcie16gb"),
    "Quadro RTX 6000": ("rtx6000", "rtx600024gb"),
    "RTX 3070": ("3070", "rtx30708gb"),
    "RTX 4090": ("4090", "rtx409024gb"),
    "RTX A4000": ("a4000", "rtxa400016gb"),
    "RTX A6000": ("a6000", "rtxa600048gb"),
    "T4": ("t416gb",),
    "T4G": ("t4g16gb",),
    "V100 16GB": ("v100", "v100sxm2", "v100sxm216gb", "v10016gbsxm2", "v100pcie16gb"),
    "V100 32GB": ("v100sxm232gb", "v10032gbsxm2", "v100pcie32gb"),
    "V100S 32GB": ("v100s", "v100spcie", "v100spcie32gb"),
}

# Words that say who made the GPU or how it is marketed, never which GPU it is.
_NOISE_WORDS = re.compile(r"nvidia|tesla|geforce|amd|instinct|quadro|tensorcore|gpu")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SHORT_GB = re.compile(r"(\d)g(?!b)")


def _compact(label: str) -> str:
    text = _NON_ALNUM.sub("", label.lower())
    return _NOISE_WORDS.sub("", text)


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in CANONICAL_GPU_TYPES:
        index[_compact(name)] = name
    for name, keys in _ALIASES.items():
        for key in keys:
            index[key] = name
    return index


_INDEX = _build_index()


def normalize_gpu_type_or_none(label: str | None) -> str | None:
    """The canonical name for ``label``, or ``None`` when it names no known GPU.

    Meant for rows from other systems (platform catalogs label some rows just ``"GPU"``), where
    an unknown label means "skip this row", not "stop".
    """
    if label is None:
        return None
    key = _compact(str(label))
    if not key:
        return None
    found = _INDEX.get(key)
    if found is None:
        found = _INDEX.get(_SHORT_GB.sub(r"\1gb", key))
    return found


def normalize_gpu_type(label: str) -> str:
    """The canonical name for ``label``; ``InvalidInputError`` naming the allowed values if none."""
    found = normalize_gpu_type_or_none(label)
    if found is None:
        allowed = ", ".join(CANONICAL_GPU_TYPES)
        raise InvalidInputError(f"gpu_type: unknown GPU type {label!r}; known types: {allowed}")
    return found


# A canonical name ending in a memory size or form factor is a variant of the family before it.
_VARIANT = re.compile(r"^(\S+) (?:\d+GB|SXM|PCIe|NVL)$")


def _families() -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for name in CANONICAL_GPU_TYPES:
        match = _VARIANT.match(name)
        if match is not None:
            members.setdefault(match.group(1), []).append(name)
    return {family: tuple(names) for family, names in members.items() if len(names) > 1}


#: Family name -> its canonical variants (only families with more than one variant).
GPU_FAMILIES: dict[str, tuple[str, ...]] = _families()
_FAMILY_INDEX: dict[str, tuple[str, ...]] = {
    _compact(family): names for family, names in GPU_FAMILIES.items()
}


def gpu_types_matching(label: str) -> tuple[str, ...]:
    """The canonical GPU types a filter ``label`` selects: every variant for a family name
    (``"A100"``, ``"nvidia h100"``), else the one type it names; ``InvalidInputError`` if none."""
    family = _FAMILY_INDEX.get(_compact(label))
    if family is not None:
        return family
    return (normalize_gpu_type(label),)
