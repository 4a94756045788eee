"""The shipped measurement table: parsed, sourced, split, and covering what the fit needs."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from artenic_opt.catalog import CANONICAL_GPU_TYPES
from artenic_opt.estimate.measurements import (
    MeasurementDataError,
    load_measurements,
    memory_rows,
    parse_measurements,
    throughput_rows,
)

HEADER = (
    "id,source_id,source,source_date,model,arch_key,params_b,kind,task,seq_len,global_batch,"
    "micro_batch,precision,gpu_type,gpus,gpus_per_node,nodes,interconnect,stack,"
    "gradient_checkpointing,train_tokens,metric,value,split,notes"
)
GOOD = (
    "x-01,x,repo:path@abc table 1,2024-01-01,M,,7,llm,pretrain,2048,8,1,bf16,A100 80GB,8,8,1,"
    ",fsdp,none,,tokens_per_s_per_gpu,3700,calib,"
)


def test_table_is_large_and_from_many_sources() -> None:
    rows = load_measurements()
    assert len(rows) >= 40
    assert len({m.source_id for m in rows}) >= 8
    # Distinct publishers, not just distinct files of one publisher.
    origins = {
        m.source.split("/")[0] if "://" not in m.source else m.source.split("/")[2] for m in rows
    }
    assert len(origins) >= 9
    # MLPerf Training results are among them.
    assert any(m.source.startswith("mlcommons/training_results") for m in rows)


def test_every_row_is_sourced_and_dated() -> None:
    for m in load_measurements():
        assert m.source.strip() and m.source_date.strip(), m.id
        assert "@" in m.source or m.source.startswith("https://"), f"{m.id}: cite a commit or URL"


def test_gpu_names_join_the_spec_table() -> None:
    for m in load_measurements():
        assert m.gpu_type in CANONICAL_GPU_TYPES, f"{m.id}: {m.gpu_type!r}"


def test_required_gpu_and_model_coverage() -> None:
    rows = throughput_rows()
    gpus = {m.gpu_type for m in rows}
    assert {"A100 80GB", "H100 SXM", "RTX 4090", "MI300X"} <= gpus
    assert gpus & {"V100 16GB", "V100 32GB"}
    assert gpus & {"L4", "A10", "A10G"}
    kinds = Counter(m.kind for m in rows)
    assert kinds["llm"] >= 20
    assert kinds["vision"] >= 5 and kinds["encoder"] >= 5
    assert {m.precision for m in rows} >= {"fp32", "tf32", "bf16", "fp16", "fp8"}


def test_memory_rows_present_and_plausible() -> None:
    rows = memory_rows()
    assert len(rows) >= 12
    for m in rows:
        gb = m.peak_memory_gb
        assert gb is not None and 0 < gb <= 200, m.id
    gib = next(m for m in rows if m.metric == "peak_memory_gib")
    assert gib.peak_memory_gb == pytest.approx(gib.value * 1.073741824)
    assert next(iter(throughput_rows())).peak_memory_gb is None


def test_heldout_split_is_fixed_and_stratified() -> None:
    rows = load_measurements()
    heldout = [m for m in rows if m.split == "heldout"]
    assert 0.2 <= len(heldout) / len(rows) <= 0.35
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for m in rows:
        by_source[m.source_id][m.split] += 1
    for source, counts in by_source.items():
        if sum(counts.values()) >= 4:
            assert counts["heldout"] and counts["calib"], source
    assert len({m.gpu_type for m in heldout}) >= 4
    assert throughput_rows("heldout") and memory_rows("heldout")
    assert all(m.split == "calib" for m in throughput_rows("calib"))


def test_whole_run_rows_carry_their_tokens() -> None:
    for m in load_measurements():
        if m.metric == "gpu_hours":
            assert m.train_tokens is not None and m.train_tokens >= 1e12


def test_loader_is_cached() -> None:
    assert load_measurements() is load_measurements()


def test_parser_accepts_a_minimal_row() -> None:
    (row,) = parse_measurements(f"{HEADER}\n{GOOD}\n")
    assert row.value == 3700 and row.arch_key is None and row.interconnect is None
    assert row.gpus == 8 and row.precision == "bf16" and row.peak_memory_gb is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (",3700,", ",fast,", "value is not a number"),
        (",3700,", ",-1,", "positive"),
        (",3700,", ",,", "value is empty"),
        (",bf16,", ",bf17,", "precision 'bf17'"),
        (",fsdp,", ",magic,", "stack 'magic'"),
        (",calib,", ",test,", "split 'test'"),
        (",2048,", ",20.5,", "seq_len must be a whole number"),
        ("repo:path@abc table 1", "", "source is empty"),
        (",tokens_per_s_per_gpu,3700,", ",gpu_hours,3700,", "needs train_tokens"),
        (",tokens_per_s_per_gpu,3700,", ",mfu,3700,", "mfu is a fraction"),
    ],
)
def test_parser_rejects_bad_rows(old: str, new: str, message: str) -> None:
    bad = GOOD.replace(old, new, 1)
    assert bad != GOOD
    with pytest.raises(MeasurementDataError, match=message) as info:
        parse_measurements(f"{HEADER}\n{bad}\n")
    assert "line 2" in str(info.value)


def test_parser_rejects_duplicates_and_missing_columns() -> None:
    with pytest.raises(MeasurementDataError, match="duplicate id"):
        parse_measurements(f"{HEADER}\n{GOOD}\n{GOOD}\n")
    with pytest.raises(MeasurementDataError, match="missing column"):
        parse_measurements("id,value\nx,1\n")
