"""fp8 and TF32 as workload precisions: peaks, run time, memory, schema and the CLI (issue 12)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.catalog import load_catalog
from artenic_opt.estimate.memory import FP8_WEIGHT_COPY_BYTES, model_states
from artenic_opt.estimate.runtime import (
    PeakSource,
    TimeArrays,
    estimate_hours,
    peak_tflops_for_precision,
    reference_from_figures,
)
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import Precision
from tests.factories import make_transformers_workload
from tests.integration.test_cli_exit_codes import run_cli

# gpu_specs.csv rows (dense figures): H100 SXM bf16 989, fp8 1979; A100 80GB bf16 312 (no fp8);
# V100 32GB fp16 125, no bf16 (no TF32: Volta).
SPECS = load_catalog().gpu_specs
POSITIVE = st.floats(min_value=1.0, max_value=5000.0)
MAYBE = st.one_of(st.just(math.nan), POSITIVE)


def _hours(w: WorkloadProfile, gpu: str, gpus: int = 8) -> TimeArrays:
    spec = SPECS[gpu]
    return estimate_hours(
        w,
        gpu_count=[gpus],
        nodes=[1],
        vcpus=[96.0],
        bf16_tflops=[spec.bf16_tflops or math.nan],
        fp16_tflops=[spec.fp16_tflops or math.nan],
        fp32_tflops=[spec.fp32_tflops or math.nan],
        fp8_tflops=[spec.fp8_tflops or math.nan],
        gpu_type=[gpu],
        memory_bandwidth_gbps=[spec.memory_bandwidth_gbps or math.nan],
    )


def _llm(precision: str, **kw: Any) -> WorkloadProfile:
    return make_transformers_workload(
        model_params_m=7000, tokens=1e9, precision=precision, batch_size=4, **kw
    )


def test_precision_enum_stores_tf32_as_fp32_and_fp8_as_16_bit() -> None:
    assert Precision("tf32").stores_fp32 and Precision.FP32.stores_fp32
    assert not Precision.FP8.stores_fp32 and not Precision.BF16.stores_fp32
    assert Precision.TF32.bytes_per_param == 4.0
    assert Precision.FP8.bytes_per_param == 2.0


def test_peaks_of_tf32_and_fp8_on_real_catalog_rows() -> None:
    names = ["A100 80GB", "H100 SXM", "V100 32GB"]
    figures: dict[str, Any] = {
        key: [getattr(SPECS[n], key) or math.nan for n in names]
        for key in ("bf16_tflops", "fp16_tflops", "fp32_tflops", "fp8_tflops")
    }
    tf32, tf32_source = peak_tflops_for_precision(Precision.TF32, **figures)
    # A100: 156 = 312 / 2 (NVIDIA A100 datasheet TF32 dense); V100 has no TF32: its fp32 rate.
    assert tf32.tolist() == pytest.approx([156.0, 494.5, SPECS["V100 32GB"].fp32_tflops])
    assert tf32_source.tolist() == [PeakSource.NATIVE, PeakSource.NATIVE, PeakSource.SUBSTITUTE]
    fp8, fp8_source = peak_tflops_for_precision(Precision.FP8, **figures)
    # H100 runs fp8 at its fp8 rate; A100 and V100 have none and train in 16 bit.
    assert fp8.tolist() == pytest.approx([312.0, 1979.0, SPECS["V100 32GB"].fp16_tflops])
    assert fp8_source.tolist() == [PeakSource.SUBSTITUTE, PeakSource.NATIVE, PeakSource.SUBSTITUTE]


@settings(max_examples=200, deadline=None)
@given(bf16=MAYBE, fp16=MAYBE, fp32=MAYBE, fp8=MAYBE)
def test_fp8_peak_is_the_fp8_rate_else_the_bf16_path(
    bf16: float, fp16: float, fp32: float, fp8: float
) -> None:
    figures = {"bf16_tflops": [bf16], "fp16_tflops": [fp16], "fp32_tflops": [fp32]}
    got, source = peak_tflops_for_precision(Precision.FP8, **figures, fp8_tflops=[fp8])
    half, half_source = peak_tflops_for_precision(Precision.BF16, **figures)
    if fp8 > 0:
        assert got[0] == fp8 and source[0] == PeakSource.NATIVE
    else:
        np.testing.assert_array_equal(got, half)
        expected = PeakSource.SUBSTITUTE if half[0] > 0 else half_source[0]
        assert source[0] == expected


@settings(max_examples=200, deadline=None)
@given(bf16=MAYBE, fp32=MAYBE)
def test_tf32_peak_is_half_bf16_else_fp32(bf16: float, fp32: float) -> None:
    got, source = peak_tflops_for_precision(
        Precision.TF32, bf16_tflops=[bf16], fp16_tflops=[math.nan], fp32_tflops=[fp32]
    )
    if bf16 > 0:
        assert got[0] == bf16 / 2 and source[0] == PeakSource.NATIVE
    elif fp32 > 0:
        assert got[0] == fp32 and source[0] == PeakSource.SUBSTITUTE
    else:
        assert math.isnan(got[0]) and source[0] == PeakSource.UNKNOWN


def test_fp8_speeds_up_an_h100_but_not_an_a100() -> None:
    bf16_h100 = float(_hours(_llm("bf16"), "H100 SXM").hours[0])
    fp8_h100 = _hours(_llm("fp8"), "H100 SXM")
    # Published H100 fp8 over bf16 speed-ups are well under the 2x of the datasheets:
    # llm-foundry MPT-3B 2048: 30,586 fp8 vs 23,422-24,142 bf16 tok/s/GPU (measurements.csv).
    assert 1.05 < bf16_h100 / float(fp8_h100.hours[0]) < 1.8
    assert not any("fp8" in note for note in fp8_h100.notes)
    bf16_a100 = float(_hours(_llm("bf16"), "A100 80GB").hours[0])
    fp8_a100 = _hours(_llm("fp8"), "A100 80GB")
    assert float(fp8_a100.hours[0]) == pytest.approx(bf16_a100)
    assert any("without an fp8 rate" in note for note in fp8_a100.notes)
    assert int(fp8_a100.peak_source[0]) == PeakSource.SUBSTITUTE


def test_tf32_sits_between_bf16_and_fp32() -> None:
    hours = {p: float(_hours(_llm(p), "A100 80GB").hours[0]) for p in ("bf16", "tf32", "fp32")}
    assert hours["bf16"] < hours["tf32"] < hours["fp32"]
    # A100: 312 bf16 vs 156 TF32 vs 19.5 fp32 dense TFLOPS; 4-byte tensors also move 2x bytes.
    assert 1.5 < hours["tf32"] / hours["bf16"] < 2.6
    # No TF32 on Volta: tf32 is plain fp32 there.
    v100 = {p: float(_hours(_llm(p), "V100 32GB").hours[0]) for p in ("tf32", "fp32")}
    assert v100["tf32"] == pytest.approx(v100["fp32"])


def test_reference_throughput_uses_the_fp8_rate() -> None:
    ref = reference_from_figures(
        "H100 SXM",
        8,
        Precision.FP8,
        bf16_tflops=989.0,
        fp16_tflops=989.0,
        fp32_tflops=67.0,
        fp8_tflops=1979.0,
    )
    assert ref is not None and ref.peak_tflops_per_gpu == 1979.0
    assert ref.peak_source is PeakSource.NATIVE


def test_memory_fp8_adds_the_cached_fp8_weight_copy_and_tf32_stores_fp32() -> None:
    bf16, fp8 = model_states(_llm("bf16")), model_states(_llm("fp8"))
    params = 7000e6
    assert fp8.weights_gb - bf16.weights_gb == pytest.approx(params * FP8_WEIGHT_COPY_BYTES / 1e9)
    assert fp8.optimizer_gb == pytest.approx(bf16.optimizer_gb)
    fp32, tf32 = model_states(_llm("fp32")), model_states(_llm("tf32"))
    assert (tf32.weights_gb, tf32.gradients_gb, tf32.optimizer_gb) == pytest.approx(
        (fp32.weights_gb, fp32.gradients_gb, fp32.optimizer_gb)
    )
    assert tf32.weights_gb == pytest.approx(2 * bf16.weights_gb)


def test_workload_file_accepts_the_new_precisions(tmp_path: Path) -> None:
    for precision in ("fp8", "tf32"):
        w = WorkloadProfile.model_validate(
            {
                "framework": "pytorch",
                "model_params_m": 350,
                "dataset_size_gb": 1,
                "precision": precision,
            }
        )
        assert w.precision is Precision(precision)


def test_cli_rejects_an_unknown_precision_naming_the_valid_ones(tmp_path: Path) -> None:
    args = ["recommend", "--params", "1B", "--dataset-gb", "1", "--precision", "fp9"]
    result = run_cli("--state", str(tmp_path / "s.db"), *args, "--json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for valid in ("fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4"):
        assert f"'{valid}'" in result.stderr
    assert "fp8" in result.stdout and '"exit_code": 2' in result.stdout


def test_cli_recommends_fp8_and_says_which_gpus_fall_back(tmp_path: Path) -> None:
    args = ["recommend", "--model", "llama-2-7b", "--tokens", "100M", "--dataset-gb", "1"]
    result = run_cli("--state", str(tmp_path / "s.db"), *args, "--precision", "fp8", "--json")
    assert result.returncode == 0, result.stderr
    assert "without an fp8 rate" in result.stderr
    assert '"precision": "fp8"' in result.stdout


def test_candidates_carry_fp8_and_interconnect_to_the_time_model() -> None:
    # The catalog's in-node link (gpu_specs.csv H100 SXM: NVLink 4, 450 GB/s) and fp8 rate reach
    # the estimator: a sharded 13B full fine-tune on 8x H100 is timed over NVLink, not over the
    # PCIe fallback, and an fp8 run uses the fp8 peak.
    from artenic_opt.estimate.candidates import build_candidates, estimate_candidates

    w = make_transformers_workload(model_params_m=13000, tokens=1e8, precision="fp8")
    candidates = build_candidates(w, load_catalog().arrays)
    rows = np.flatnonzero((candidates.gpu_type == "H100 SXM") & (candidates.gpu_count == 8))
    assert rows.size
    assert candidates.intra_node_gbps is not None and candidates.gpu_fp8_tflops is not None
    assert set(candidates.intra_node_gbps[rows].tolist()) == {450.0}
    assert set(candidates.gpu_fp8_tflops[rows].tolist()) == {1979.0}
    with_links = estimate_candidates(w, candidates.take(rows[:1]))
    bare = dataclasses.replace(
        candidates.take(rows[:1]), intra_node_gbps=None, inter_node_gbps=None
    )
    without = estimate_candidates(w, bare)
    assert float(with_links.hours[0]) < float(without.hours[0])
    assert float(with_links.time.peak_tflops[0]) == 1979.0
