"""The shipped peak-memory rows against the memory model (artenic_opt.estimate.published_memory):
no published run is refused on its own hardware, the rows are sourced and split, and the
estimates stay near the published figures."""

from __future__ import annotations

import re
import statistics
from dataclasses import replace

import pytest

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.measurements import memory_rows, parse_measurements, throughput_rows
from artenic_opt.estimate.plans import search_plans
from artenic_opt.estimate.published_memory import (
    MemoryCheck,
    check_all,
    check_row,
    row_config,
    row_workload,
)
from artenic_opt.types import CheckpointMode, OptimizerKind

CHECKS = check_all()
SCORED = [c for c in CHECKS if c.log_ratio is not None]
SESSION_12_SOURCES = {"litgpt-resource-tables", "litgpt-config-hub", "hf-perf-guide"}


def by_id(row_id: str) -> MemoryCheck:
    return next(c for c in CHECKS if c.row.id == row_id)


@pytest.mark.parametrize("check", SCORED, ids=lambda c: c.row.id)
def test_no_published_run_is_refused_on_its_own_hardware(check: MemoryCheck) -> None:
    # The plan search with the row's micro-batch and checkpointing pinned, on the row's GPU type
    # and count: a run that was measured there must be found to fit.
    row = check.row
    assert check.fits_found, f"{row.id}: the planner refuses a run published on {row.gpu_type}"
    workload = row_workload(row)
    assert workload.micro_batch_size == row.micro_batch
    card = load_catalog().gpu_specs[row.gpu_type].memory_gb
    found = search_plans(
        workload,
        gpu_count=[row.gpus_per_node or row.gpus or 1],
        nodes=[row.nodes or 1],
        gpu_memory_gb=[card],
        memory_gb=[1024.0],
    ).found
    assert bool(found[0])


def test_memory_table_size_sources_and_split() -> None:
    rows = memory_rows()
    assert len(SCORED) >= 35
    assert len({c.row.source_id for c in SCORED}) >= 4
    added = [
        m for m in rows if m.source_id in SESSION_12_SOURCES or m.id.startswith("torchtune-mem")
    ]
    assert len(added) >= 25
    assert {m.task for m in added} >= {"full_ft", "lora", "qlora"}
    assert {m.kind for m in added} >= {"llm", "encoder"}
    assert len({m.seq_len for m in added}) >= 3 and len({m.micro_batch for m in added}) >= 3
    assert {m.gradient_checkpointing for m in added} >= {"none", "full"}
    # The held-out rule: every fourth row of each new source, in file order.
    for source in SESSION_12_SOURCES:
        in_source = [m for m in rows if m.source_id == source]
        expected = ["heldout" if (i + 1) % 4 == 0 else "calib" for i in range(len(in_source))]
        assert [m.split for m in in_source] == expected, source
    for m in added:
        assert re.search(r"@[0-9a-f]{40}", m.source), m.id
        assert m.memory_config.get("measured") in {"allocated", "reserved", "device"}, m.id


def test_speed_rows_are_untouched_by_the_memory_metric() -> None:
    assert all(not m.is_memory for m in throughput_rows())
    assert all(m.is_memory for m in memory_rows())


def test_nvml_rows_convert_mib() -> None:
    row = by_id("hf-perf-01").row
    assert row.metric == "nvml_used_mib"
    assert row.peak_memory_gb == pytest.approx(14949 * 2**20 / 1e9)


def test_memory_config_parsing() -> None:
    row = by_id("litgpt-rt-01").row
    config = row.memory_config
    assert config["optimizer"] == "adamw" and config["lora_targets"] == "qkv_fused"
    assert replace(row, notes="no tail").memory_config == {}


def test_litgpt_qlora_rows_ran_an_old_bitsandbytes() -> None:
    # LitGPT pinned bitsandbytes 0.42.0 (config hub) or predates 0.43.2 (resource tables): its
    # QLoRA rows, and only they, keep the quantised layers' inputs; torchtune's (torchao) do not.
    rows = [c.row for c in SCORED]
    kept = {r.id for r in rows if r.memory_config.get("bnb_keeps_inputs") == "1"}
    litgpt_qlora = {r.id for r in rows if r.source_id.startswith("litgpt") and r.task == "qlora"}
    assert kept == litgpt_qlora and len(kept) == 9
    row = by_id("litgpt-hub-08").row
    without = replace(row, notes=row.notes.replace("; bnb_keeps_inputs=1", ""))
    assert (check_row(row).estimate_gb or 0.0) > (check_row(without).estimate_gb or 0.0) + 0.9


def test_torchtune_rows_follow_the_readme() -> None:
    # 8B table: the single-device full fine-tune recipe (PagedAdamW8bit, optimizer in backward).
    full = row_workload(by_id("torchtune-02").row)
    assert full.optimizer is OptimizerKind.PAGED_ADAMW_8BIT and full.optimizer_in_backward
    assert full.pure_bf16 and full.chunked_loss
    # Flags table: '+ Packed Dataset' has no chunked loss yet; LoRA has activation offloading.
    assert row_config(by_id("torchtune-15").row)["chunked_loss"] == "0"
    assert row_config(by_id("torchtune-20").row)["activation_offload"] == "1"
    eight_bit = row_workload(by_id("torchtune-18").row)
    assert eight_bit.optimizer is OptimizerKind.ADAMW_8BIT and eight_bit.optimizer_in_backward
    assert row_workload(by_id("torchtune-17").row).gradient_checkpointing is CheckpointMode.FULL


def test_unstated_rows_are_skipped_with_a_reason() -> None:
    peft = by_id("peft-01")
    assert peft.skipped and "shape" in peft.skipped and peft.log_ratio is None
    baseline = by_id("torchtune-13")
    assert baseline.skipped and "not stated" in baseline.skipped


def test_a_speed_row_is_not_a_memory_check() -> None:
    with pytest.raises(ValueError, match="not a memory row"):
        check_row(throughput_rows()[0])


def test_metric_semantics_order_the_estimates() -> None:
    # The same run read as allocated, reserved and device use: each adds to the previous one.
    text_rows = parse_measurements(
        "id,source_id,source,source_date,model,arch_key,params_b,kind,task,seq_len,global_batch,"
        "micro_batch,precision,gpu_type,gpus,gpus_per_node,nodes,interconnect,stack,"
        "gradient_checkpointing,train_tokens,metric,value,split,notes\n"
        + "".join(
            f"x-{i},x,src@{'0' * 40},2024-01-01,Llama 2 7B,llama-2-7b,,llm,lora,1024,1,1,bf16,"
            f"A100 80GB,1,1,1,,lightning,none,,peak_memory_gb,20,calib,cfg: measured={kind}\n"
            for i, kind in enumerate(("allocated", "reserved", "device"))
        )
    )
    allocated, reserved, device = (check_row(m).estimate_gb or 0.0 for m in text_rows)
    assert allocated < reserved < device
    assert device - reserved == pytest.approx(0.4)


def test_accuracy_guard() -> None:
    # A regression guard on the published rows (the targets live in bench/memory_accuracy.py):
    # the median stays within the 0.15 over all scored rows, and most rows within 0.40.
    values = [c.log_ratio for c in SCORED if c.log_ratio is not None]
    assert statistics.median(values) <= 0.15
    assert sum(v <= 0.40 for v in values) >= 0.85 * len(values)
