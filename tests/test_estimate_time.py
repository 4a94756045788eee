"""Run-time estimates (artenic_opt.estimate.runtime) against published GPU-hours."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate import assumptions as asm
from artenic_opt.estimate.runtime import (
    PeakSource,
    TimeArrays,
    estimate_hours,
    peak_tflops_for_precision,
    reference_from_figures,
    scaling_efficiency,
)
from artenic_opt.estimate.workload import describe_workload
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import ModelFramework, Precision
from tests.factories import make_transformers_workload

NAN = math.nan
# A100 80GB dense figures (NVIDIA A100 datasheet, via the catalog's GPU table): 312 TFLOPS bf16
# and fp16 tensor, 19.5 TFLOPS fp32.
A100 = {"bf16_tflops": 312.0, "fp16_tflops": 312.0, "fp32_tflops": 19.5}


workload = make_transformers_workload


def hours_on(
    w: WorkloadProfile,
    *,
    gpus: int = 8,
    nodes: int = 1,
    vcpus: float = 96.0,
    figures: dict[str, float] | None = None,
    **kwargs: Any,
) -> TimeArrays:
    spec = figures or A100
    return estimate_hours(
        w,
        gpu_count=[gpus],
        nodes=[nodes],
        vcpus=[vcpus],
        bf16_tflops=[spec["bf16_tflops"]],
        fp16_tflops=[spec["fp16_tflops"]],
        fp32_tflops=[spec["fp32_tflops"]],
        **kwargs,
    )


@pytest.mark.parametrize(
    ("params_b", "tokens", "published_gpu_hours"),
    [
        # Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models", Table 2
        # (CO2 emissions during pretraining): time in A100-80GB GPU-hours, 2.0T tokens each
        # (Table 1): 7B 184,320; 13B 368,640; 70B 1,720,320.
        (7.0, 2.0e12, 184_320),
        (13.0, 2.0e12, 368_640),
        (70.0, 2.0e12, 1_720_320),
        # Touvron et al. 2023, "LLaMA: Open and Efficient Foundation Language Models", Table 15:
        # LLaMA-7B (6.7B params, 1.0T tokens) 82,432 GPU-hours; LLaMA-65B (65.2B params, 1.4T
        # tokens) 1,022,362 GPU-hours, on A100-80GB.
        (6.7, 1.0e12, 82_432),
        (65.2, 1.4e12, 1_022_362),
    ],
)
def test_pretraining_gpu_hours_match_published_runs(
    params_b: float, tokens: float, published_gpu_hours: int
) -> None:
    w = workload(model_params_m=params_b * 1000, tokens=tokens, precision="bf16")
    estimate = hours_on(w, gpus=8)
    gpu_hours = float(estimate.hours[0]) * 8
    assert gpu_hours == pytest.approx(published_gpu_hours, rel=0.35)


def test_lightgbm_higgs_benchmark_time() -> None:
    # LightGBM docs, Experiments, "Speed": Higgs (10.5M rows x 28 features, 1.18 GB as float32),
    # 500 trees, 16 threads: LightGBM 238.5 s, xgboost_hist 551.9 s.
    higgs_gb = 10.5e6 * 28 * 4 / 1e9
    for framework, seconds in [("lightgbm", 238.505513), ("xgboost", 551.898)]:
        w = WorkloadProfile(framework=framework, model_params_m=1, dataset_size_gb=higgs_gb)
        estimate = hours_on(w, gpus=0, vcpus=16)
        assert float(estimate.hours[0]) * 3600 == pytest.approx(seconds, rel=0.35)


def test_training_flops_count_attention_and_recompute_once() -> None:
    # 6N + 12 L h s per token (Kaplan et al. 2020 plus the PaLM/Megatron attention term);
    # adapters skip the frozen weights' gradients (4N); full recompute adds one forward pass.
    full = describe_workload(workload(tokens=1e9))
    layers, hidden = full.layers, full.hidden
    attention = 12 * layers * hidden * 2048
    assert full.training_flops == pytest.approx((6 * 7e9 + attention) * 1e9)
    lora = describe_workload(workload(tokens=1e9, fine_tuning="lora"))
    assert lora.training_flops == pytest.approx((4 * 7e9 + attention) * 1e9)
    recompute = describe_workload(workload(tokens=1e9, gradient_checkpointing=True))
    assert recompute.training_flops == pytest.approx((8 * 7e9 + attention * 4 / 3) * 1e9)
    off, selective, full_ck = full.recompute_flops_per_position
    assert off == 0 and 0 < selective < full_ck
    epochs = describe_workload(workload(tokens=1e9, num_epochs=3))
    assert epochs.training_flops == pytest.approx(3 * full.training_flops)
    # Long context costs more per token (the attention term grows with the sequence).
    long = describe_workload(workload(tokens=1e9, sequence_length=32768))
    assert long.flops_per_position > 1.5 * full.flops_per_position


def test_kind_comes_from_size_not_the_framework_name() -> None:
    # The issue's defect: a 7B full fine-tune with framework pytorch costed as a vision model.
    seven_b = describe_workload(
        WorkloadProfile(framework="pytorch", model_params_m=7000, dataset_size_gb=10)
    )
    assert seven_b.kind.value == "tokens"
    small = describe_workload(
        WorkloadProfile(framework="pytorch", model_params_m=25, dataset_size_gb=10)
    )
    assert small.kind.value == "samples"


def test_tokens_derived_from_dataset_size() -> None:
    derived = describe_workload(workload(dataset_size_gb=4))
    assert derived.positions_total == pytest.approx(4e9 / asm.BYTES_PER_TOKEN)
    assert any("bytes per token" in note for note in derived.notes)


def test_sample_based_models_use_samples_and_positions() -> None:
    w = WorkloadProfile(framework="pytorch", model_params_m=86, dataset_size_gb=138, num_epochs=1)
    facts = describe_workload(w)
    samples = 138e9 / asm.BYTES_PER_SAMPLE
    assert facts.training_flops == pytest.approx(6 * 86e6 * samples * asm.POSITIONS_PER_SAMPLE)
    assert any("sample-based" in note for note in facts.notes)


def test_peak_by_precision_and_fallbacks() -> None:
    figures = {
        "bf16_tflops": [312.0, NAN, NAN, NAN],
        "fp16_tflops": [312.0, 125.0, NAN, NAN],
        "fp32_tflops": [19.5, 15.7, 82.6, NAN],
    }
    peak, source = peak_tflops_for_precision(Precision.BF16, **figures)
    assert peak[:3].tolist() == [312.0, 125.0, 82.6 * asm.FP32_TO_TENSOR_FALLBACK_FACTOR]
    assert math.isnan(peak[3])
    assert source.tolist() == [
        PeakSource.NATIVE,
        PeakSource.SUBSTITUTE,
        PeakSource.FP32_FALLBACK,
        PeakSource.UNKNOWN,
    ]
    fp32_peak, fp32_source = peak_tflops_for_precision(Precision.FP32, **figures)
    assert fp32_peak[:3].tolist() == [19.5, 15.7, 82.6]
    assert fp32_source[3] == PeakSource.UNKNOWN
    fp16_peak, _ = peak_tflops_for_precision(
        Precision.FP16, bf16_tflops=[300.0], fp16_tflops=[NAN], fp32_tflops=[10.0]
    )
    assert fp16_peak[0] == 300.0
    # Quantised training computes in bf16.
    int4_peak, _ = peak_tflops_for_precision(Precision.INT4, **figures)
    assert int4_peak[0] == 312.0


def test_fp32_training_is_slower_than_bf16() -> None:
    # fp32 matmuls run at the fp32 rate (PyTorch's matmul TF32 switch is off by default).
    bf16 = hours_on(workload(tokens=1e9, precision="bf16"), gpus=1)
    fp32 = hours_on(workload(tokens=1e9, precision="fp32"), gpus=1)
    assert 5.0 < float(fp32.hours[0]) / float(bf16.hours[0]) < 312 / 19.5 * 1.2


def test_fp32_convolutions_use_tf32_on_ampere() -> None:
    # NVIDIA DeepLearningExamples ResNet-50 v1.5 on 1x A100 80GB: 938 img/s TF32 vs 2470 img/s
    # mixed precision (measurements.csv dle-resnet50-01/02): TF32 is about 2.6x slower, far from
    # the 16x of the plain fp32 rate.
    from artenic_opt.estimate.architectures import get_architecture
    from artenic_opt.schemas import ModelArchitecture

    found = get_architecture("resnet-50")
    arch = ModelArchitecture(
        name=found.name,
        family=found.family,
        kind=found.kind,
        params_m=found.params_m,
        active_params_m=found.params_m,
        source="test",
    )
    fields: dict[str, Any] = {
        "framework": "pytorch",
        "model_params_m": found.params_m,
        "dataset_size_gb": 10,
        "batch_size": 256,
        "architecture": arch,
    }
    fp16 = hours_on(WorkloadProfile(**fields, precision="fp16"), gpus=1)
    fp32 = hours_on(WorkloadProfile(**fields, precision="fp32"), gpus=1)
    assert describe_workload(WorkloadProfile(**fields)).is_cnn
    assert 1.5 < float(fp32.hours[0]) / float(fp16.hours[0]) < 4.0


def test_unknown_throughput_gives_nan_hours() -> None:
    none = {"bf16_tflops": NAN, "fp16_tflops": NAN, "fp32_tflops": NAN}
    estimate = hours_on(workload(tokens=1e9), gpus=1, figures=none)
    assert math.isnan(float(estimate.hours[0]))
    assert estimate.peak_source[0] == PeakSource.UNKNOWN


def test_scaling_losses_within_and_across_nodes() -> None:
    assert scaling_efficiency([1, 2, 8], [1, 1, 1]).tolist() == pytest.approx([1.0, 0.97, 0.97**3])
    assert scaling_efficiency([8, 8], [2, 4]).tolist() == pytest.approx(
        [0.97**3 * 0.95, 0.97**3 * 0.95**2]
    )
    w = workload(tokens=1e10, distributed=True, max_nodes=4)
    one = float(hours_on(w, gpus=8, nodes=1).hours[0])
    two = float(hours_on(w, gpus=8, nodes=2).hours[0])
    assert one / 2 < two < one


def test_calibration_scales_by_reference_throughput() -> None:
    # 10 h measured on 1 x A100 (312 TFLOPS): 2 x A100 on one node -> 10 / (2 * 0.97) h;
    # an fp32-only GPU at half the A100's peak -> 20 h.
    w = workload(tokens=1e9, estimated_hours=10.0, reference_gpu="A100 80GB")
    reference = reference_from_figures("A100 80GB", 1, Precision.BF16, **A100)
    assert reference is not None
    estimate = estimate_hours(
        w,
        gpu_count=[1, 2, 1],
        nodes=[1, 1, 1],
        vcpus=[16, 16, 16],
        bf16_tflops=[312.0, 312.0, 156.0],
        fp16_tflops=[312.0, 312.0, 156.0],
        fp32_tflops=[19.5, 19.5, 10.0],
        reference=reference,
    )
    assert estimate.calibrated
    assert estimate.hours.tolist() == pytest.approx([10.0, 10.0 / (2 * 0.97), 20.0])
    assert "estimated_hours" in estimate.inputs_used


def test_reference_of_many_gpus_spreads_over_nodes_of_eight() -> None:
    reference = reference_from_figures("A100 80GB", 16, Precision.BF16, **A100)
    assert reference is not None
    assert reference.sustained_tflops == pytest.approx(16 * 312 * 0.97**3 * 0.95)
    assert (
        reference_from_figures(
            "X", 1, Precision.FP32, bf16_tflops=1.0, fp16_tflops=1.0, fp32_tflops=NAN
        )
        is None
    )


def test_estimated_hours_without_reference_is_ignored_with_a_note() -> None:
    estimate = hours_on(workload(tokens=1e9, estimated_hours=5.0), gpus=1)
    assert not estimate.calibrated
    assert any("reference_gpu not given" in note for note in estimate.notes)
    named = hours_on(workload(tokens=1e9, estimated_hours=5.0, reference_gpu="A100"), gpus=1)
    assert any("no throughput known" in note for note in named.notes)


def test_cpu_bound_frameworks_scale_with_data_and_vcpus() -> None:
    w = WorkloadProfile(framework="xgboost", model_params_m=1, dataset_size_gb=10, num_epochs=2)
    estimate = estimate_hours(
        w,
        gpu_count=[0, 0, 1, 0],
        nodes=[1, 1, 1, 1],
        vcpus=[8.0, 32.0, NAN, NAN],
        bf16_tflops=[NAN, NAN, 312.0, NAN],
        fp16_tflops=[NAN, NAN, 312.0, NAN],
        fp32_tflops=[NAN, NAN, 19.5, NAN],
    )
    hours = estimate.hours
    assert hours[1] < hours[0]
    assert hours[0] / hours[1] < 4  # Amdahl: fewer than 4x from 4x the vCPUs
    assert estimate.vcpus_assumed.tolist() == [False, False, True, True]
    # One GPU row without a vCPU count assumes 8 vCPUs; a CPU row assumes 4.
    assert hours[3] > hours[2]
    double = estimate_hours(
        w.model_copy(update={"dataset_size_gb": 20}),
        gpu_count=[0],
        nodes=[1],
        vcpus=[8.0],
        bf16_tflops=[NAN],
        fp16_tflops=[NAN],
        fp32_tflops=[NAN],
    )
    assert float(double.hours[0]) == pytest.approx(2 * float(hours[0]))
    assert all(source == PeakSource.CPU for source in estimate.peak_source)


def test_cpu_bound_estimated_hours_note() -> None:
    w = WorkloadProfile(
        framework="lightgbm", model_params_m=1, dataset_size_gb=1, estimated_hours=2
    )
    estimate = hours_on(w, gpus=0, vcpus=8)
    assert any("CPU-bound" in note for note in estimate.notes)


def test_deep_learning_on_cpu_rows() -> None:
    w = workload(tokens=1e8, model_params_m=10, gpu_required=False)
    estimate = estimate_hours(
        w,
        gpu_count=[0, 0, 1],
        nodes=[1, 1, 1],
        vcpus=[64.0, NAN, 8.0],
        bf16_tflops=[NAN, NAN, 312.0],
        fp16_tflops=[NAN, NAN, 312.0],
        fp32_tflops=[NAN, NAN, 19.5],
    )
    # No faster than the CPU peak at the default utilisation allows.
    floor = 6 * 10e6 * 1e8 / (64 * asm.CPU_PEAK_GFLOPS_PER_VCPU * 1e9 * asm.DEFAULT_MFU) / 3600
    hours = estimate.hours.tolist()
    assert hours[0] >= floor * 0.99
    assert hours[1] > hours[0] > hours[2]
    assert estimate.vcpus_assumed.tolist() == [False, True, False]
    assert estimate.peak_source.tolist()[:2] == [PeakSource.CPU, PeakSource.CPU]


def test_mfu_is_validated() -> None:
    with pytest.raises(InvalidInputError, match="mfu"):
        hours_on(workload(tokens=1e9), mfu=0.0)


@pytest.mark.parametrize("framework", list(ModelFramework))
def test_every_framework_gets_finite_hours(framework: ModelFramework) -> None:
    w = WorkloadProfile(framework=framework, model_params_m=50, dataset_size_gb=5)
    estimate = hours_on(w, gpus=1, vcpus=8)
    assert np.isfinite(estimate.hours).all() and estimate.hours[0] > 0


@settings(max_examples=60, deadline=None)
@given(
    params=st.floats(min_value=1, max_value=1e5),
    tokens=st.floats(min_value=1e6, max_value=1e12),
    gpus=st.integers(min_value=1, max_value=8),
)
def test_more_gpus_are_faster_but_sublinear(params: float, tokens: float, gpus: int) -> None:
    w = workload(model_params_m=params, tokens=tokens)
    base = float(hours_on(w, gpus=gpus).hours[0])
    doubled = float(hours_on(w, gpus=gpus * 2).hours[0])
    assert base / 2 < doubled < base


# --- calibrated model: GPU families, bandwidth, plans (issue 12) --------------------------------

H100 = {"bf16_tflops": 989.0, "fp16_tflops": 989.0, "fp32_tflops": 67.0}


def _on(w: WorkloadProfile, gpu: str, figures: dict[str, float], bw: float, **kw: Any) -> float:
    return float(
        hours_on(
            w,
            gpus=kw.pop("gpus", 8),
            gpu_type=[gpu],
            memory_bandwidth_gbps=[bw],
            figures=figures,
            **kw,
        ).hours[0]
    )


def test_h100_over_a100_follows_measurements_not_the_datasheet() -> None:
    # llm-foundry MPT-7B FSDP bf16 on 8 GPUs: 10,643 tok/s/GPU on H100 vs 4,641 on A100 80GB
    # (measurements.csv llmfoundry-01/10): 2.29x, while the dense bf16 datasheet ratio is 3.17x.
    w = workload(tokens=1e9, batch_size=6)
    ratio = _on(w, "A100 80GB", A100, 2039.0) / _on(w, "H100 SXM", H100, 3350.0)
    assert ratio == pytest.approx(10_643 / 4_641, rel=0.20)
    assert ratio < 989 / 312 * 0.85


def test_h200_beats_h100_through_bandwidth() -> None:
    # Same GH100 silicon and dense peak; 4.8 vs 3.35 TB/s (gpu_specs.csv).
    w = workload(tokens=1e9, batch_size=1, sequence_length=1024)
    assert _on(w, "H200", H100, 4800.0) < _on(w, "H100 SXM", H100, 3350.0)


def test_mi300x_is_not_faster_than_its_datasheet_suggests() -> None:
    # Datasheet bf16: MI300X 1300 vs H100 989 TFLOPS (1.31x); the fitted family factor (MLPerf
    # Llama 2 70B LoRA rows) puts it near parity, not 1.3x ahead.
    mi = {"bf16_tflops": 1300.0, "fp16_tflops": 1300.0, "fp32_tflops": 163.4}
    w = workload(tokens=1e9, fine_tuning="lora", batch_size=1, sequence_length=8192)
    ratio = _on(w, "H100 SXM", H100, 3350.0) / _on(w, "MI300X", mi, 5300.0)
    assert 0.6 < ratio < 1.2


def test_plan_arrays_recompute_once_and_cost_communication() -> None:
    w = workload(tokens=1e9, distributed=True, max_nodes=2)
    rows = 6
    estimate = estimate_hours(
        w,
        gpu_count=[8] * rows,
        nodes=[1, 1, 1, 2, 2, 1],
        vcpus=[96] * rows,
        bf16_tflops=[312.0] * rows,
        fp16_tflops=[312.0] * rows,
        fp32_tflops=[19.5] * rows,
        gpu_type=["A100 80GB"] * rows,
        micro_batch=[4, 4, 4, 4, 4, 4],
        grad_accum=[1, 1, 1, 1, 1, 1],
        checkpointing=[0, 2, 1, 0, 0, 0],
        zero_stage=[0, 0, 0, 0, 3, 0],
        offload=[False, False, False, False, False, True],
    )
    none, full, selective, dp2, zero3, offload = estimate.hours.tolist()
    # Full recompute adds one forward pass: about 8/6 of the work, never counted twice.
    assert 1.2 < full / none < 8 / 6 + 0.01
    assert none < selective < full
    # Two nodes are faster; ZeRO-3 moves 1.5x the data but shards the optimiser step.
    assert dp2 < none and zero3 < none
    assert zero3 == pytest.approx(dp2, rel=0.2)
    assert offload > none


def test_small_micro_batches_are_slower_per_token() -> None:
    # torchtune and the llm-foundry tables: utilisation rises with tokens per micro-batch.
    w = workload(tokens=1e9)
    small = float(hours_on(w, gpus=1, micro_batch=[1], gpu_type=["A100 80GB"]).hours[0])
    large = float(hours_on(w, gpus=1, micro_batch=[8], gpu_type=["A100 80GB"]).hours[0])
    assert small > 1.05 * large


def test_tensor_parallel_and_plan_validation() -> None:
    w = workload(tokens=1e9)
    tp1 = float(hours_on(w, gpus=8, tensor_parallel=[1]).hours[0])
    tp8 = float(hours_on(w, gpus=8, tensor_parallel=[8]).hours[0])
    assert tp8 > tp1
    with pytest.raises(InvalidInputError, match="grad_accum"):
        hours_on(w, gpus=8, grad_accum=[0])
    with pytest.raises(InvalidInputError, match="micro_batch"):
        hours_on(w, gpus=8, micro_batch=[1, 2])


def test_unknown_bandwidths_fall_back() -> None:
    w = workload(tokens=1e9, distributed=True, max_nodes=2)
    known = float(
        hours_on(w, gpus=8, nodes=2, intra_node_gbps=[300.0], inter_node_gbps=[400.0]).hours[0]
    )
    unknown = float(hours_on(w, gpus=8, nodes=2, intra_node_gbps=[NAN]).hours[0])
    assert math.isfinite(unknown) and unknown >= known


# --------------------------------------------------------------------------------------------
# GPU-to-GPU speed ratios (issue 12 target: every ratio within 20% of the measured one) and the
# accuracy report's held-out targets. Expected ratios are the published figures' quotients.
# --------------------------------------------------------------------------------------------

# Lambda PyTorch benchmark, fp16, 1 GPU (lambdal/deeplearning-benchmark
# pytorch/pytorch-train-throughput-fp16.csv and pytorch-train-bs-fp16.csv @4e11f68, i.e.
# measurements.csv lambda-*): (published speed, per-GPU batch).
_LAMBDA_RESNET50 = {
    "A10": (638.0, 448),
    "A100 80GB": (1582.0, 1280),
    "H100 SXM": (2616.0, 1280),
    "RTX 4090": (1301.0, 448),
    "V100 16GB": (833.0, 256),
}
_LAMBDA_BERT_LARGE_SQUAD = {
    "A10": (42.0, 28),
    "A100 80GB": (152.0, 112),
    "RTX 4090": (93.0, 28),
    "V100 16GB": (57.0, 16),
}


def _catalog_hours(arch_key: str, gpu: str, batch: int, **fields: Any) -> float:
    from artenic_opt.catalog import load_catalog
    from artenic_opt.estimate.architectures import get_architecture, to_schema
    from artenic_opt.schemas import ModelArchitecture

    found = get_architecture(arch_key)
    arch = (
        to_schema(found)
        if found.is_transformer
        else ModelArchitecture(
            name=found.name,
            family=found.family,
            kind=found.kind,
            params_m=found.params_m,
            active_params_m=found.params_m,
            source="test",
        )
    )
    spec = load_catalog().gpu_specs[gpu]
    w = WorkloadProfile(
        framework="pytorch",
        model_params_m=arch.params_m,
        dataset_size_gb=10,
        batch_size=batch,
        precision="fp16",
        architecture=arch,
        **fields,
    )
    return float(
        estimate_hours(
            w,
            gpu_count=[1],
            nodes=[1],
            vcpus=[32.0],
            bf16_tflops=[spec.bf16_tflops or NAN],
            fp16_tflops=[spec.fp16_tflops or NAN],
            fp32_tflops=[spec.fp32_tflops or NAN],
            gpu_type=[gpu],
            memory_bandwidth_gbps=[spec.memory_bandwidth_gbps or NAN],
        ).hours[0]
    )


@pytest.mark.parametrize(
    ("fast", "slow"),
    [
        # The consumer and small datacenter cards against the big ones: these were off by more
        # than 20% before the per-family CNN regime (the A10 and RTX 4090 run ResNet-50 at a
        # larger share of their tensor peak than A100/H100 do).
        ("A100 80GB", "A10"),
        ("H100 SXM", "A10"),
        ("V100 16GB", "A10"),
        ("A100 80GB", "RTX 4090"),
        ("H100 SXM", "RTX 4090"),
        ("RTX 4090", "V100 16GB"),
    ],
)
def test_resnet50_gpu_ratios_follow_the_lambda_table(fast: str, slow: str) -> None:
    speed_fast, batch_fast = _LAMBDA_RESNET50[fast]
    speed_slow, batch_slow = _LAMBDA_RESNET50[slow]
    est = _catalog_hours("resnet-50", slow, batch_slow) / _catalog_hours(
        "resnet-50", fast, batch_fast
    )
    assert est == pytest.approx(speed_fast / speed_slow, rel=0.20)


@pytest.mark.parametrize(
    ("fast", "slow"),
    [
        # V100 and RTX 4090 against A100 on BERT-large SQuAD (seq 384) were 31% and 22% off.
        ("A100 80GB", "V100 16GB"),
        ("A100 80GB", "RTX 4090"),
        ("RTX 4090", "V100 16GB"),
        ("V100 16GB", "A10"),
    ],
)
def test_bert_large_gpu_ratios_follow_the_lambda_table(fast: str, slow: str) -> None:
    speed_fast, batch_fast = _LAMBDA_BERT_LARGE_SQUAD[fast]
    speed_slow, batch_slow = _LAMBDA_BERT_LARGE_SQUAD[slow]
    fields = {"sequence_length": 384, "tokens": 1e9}
    est = _catalog_hours("bert-large", slow, batch_slow, **fields) / _catalog_hours(
        "bert-large", fast, batch_fast, **fields
    )
    assert est == pytest.approx(speed_fast / speed_slow, rel=0.20)


def test_encoder_and_cnn_regimes_depart_from_the_llm_factor() -> None:
    from artenic_opt.estimate.throughput_model import fitted_coefficients, regime_of

    coef = fitted_coefficients()
    assert regime_of("llm", is_cnn=False) == "llm"
    assert regime_of("encoder", is_cnn=False) == "encoder"
    assert regime_of("vision", is_cnn=False) == "encoder"  # ViT-style
    assert regime_of("vision", is_cnn=True) == "cnn"
    for gpu in ("A100 80GB", "RTX 4090", "L40S", "some future GPU"):
        llm = coef.family_factor(gpu)
        assert coef.family_factor(gpu, "cnn") == pytest.approx(
            llm * coef.regime.get(_family(gpu), {}).get("cnn", 1.0)
        )
        assert coef.family_factor(gpu, "encoder") == pytest.approx(
            llm * coef.encoder_factor * coef.regime.get(_family(gpu), {}).get("encoder", 1.0)
        )


def _family(gpu: str) -> str:
    from artenic_opt.estimate.throughput_model import FAMILY_OF

    return FAMILY_OF.get(gpu, gpu)


def _bench() -> Any:
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "bench_estimator.py"
    spec = importlib.util.spec_from_file_location("bench_estimator_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_held_out_accuracy_meets_the_issue_targets() -> None:
    bench = _bench()
    rows = bench.build_rows("heldout")
    assert rows and all(r.m.split == "heldout" for r in rows)
    errors = np.abs(bench.log_errors(rows, bench.fitted_coefficients()))
    # Issue 12 targets: median |log ratio| <= 0.20 and worst <= 0.70 on held-out rows.
    assert float(np.median(errors)) <= 0.20
    assert float(errors.max()) <= 0.70


def test_fit_refuses_held_out_rows_and_reproduces_the_shipped_constants() -> None:
    bench = _bench()
    coef = bench.fitted_coefficients()
    with pytest.raises(SystemExit, match="held-out"):
        bench.fit(bench.build_rows(), coef)
    refit = bench.fit(bench.build_rows("calib"), coef)
    assert refit.family == pytest.approx(coef.family, rel=1e-3)
    assert refit.regime.keys() == coef.regime.keys()
    assert refit.t0_layer_s == pytest.approx(coef.t0_layer_s, rel=1e-3)


def test_ratio_table_flags_rows_above_the_peak() -> None:
    # torchtune README (measurements.csv torchtune-07): Llama 3.1 8B LoRA at 4,699 tok/s on one
    # RTX A6000 (dense fp16/bf16 tensor peak 154.85 TFLOPS, gpu_specs.csv): about 4 x 8e9
    # FLOPs per token x 4,699 = 150 TFLOPS of model work before any recompute, so no efficiency
    # under the cap reproduces it; the report marks such pairs as data questions.
    bench = _bench()
    rows = bench.build_rows("calib")
    a6000 = next(r for r in rows if r.m.id == "torchtune-07")
    assert bench.implied_hfu(a6000) > asm.MAX_EFFICIENCY
    found = bench.ratios(rows, bench.predict(rows, bench.fitted_coefficients()))
    flagged = {(r.gpu_a, r.gpu_b) for r in found if r.above_peak}
    assert flagged == {("RTX 4090", "RTX A6000")}


def test_l40s_inherits_the_rtx_4090_factor_on_a_full_rate_basis() -> None:
    # Same AD102 silicon: RTX 4090 128 SMs, L40S 142 SMs, both 2520 MHz boost. The 4090's
    # 165.2 TFLOPS is the GeForce fp32-accumulate rate (half of 330.3, llm.c mfu.h); the
    # L40S's 362 is the full rate. Datasheet ratio 362 / 165.2 = 2.19; per SM and clock, 1.11.
    rtx = {"bf16_tflops": 165.2, "fp16_tflops": 165.2, "fp32_tflops": 82.6}
    l40s = {"bf16_tflops": 362.0, "fp16_tflops": 362.0, "fp32_tflops": 91.6}
    w = workload(tokens=1e9, fine_tuning="lora", batch_size=2, sequence_length=2048)
    ratio = _on(w, "RTX 4090", rtx, 1008.0, gpus=1) / _on(w, "L40S", l40s, 864.0, gpus=1)
    assert ratio == pytest.approx(142 / 128, rel=0.20)
    assert ratio < 362 / 165.2 * 0.7


def test_every_counted_gpu_to_gpu_ratio_is_within_the_target() -> None:
    # Issue 12: every GPU-to-GPU speed ratio in the table within 20% of the measured one. Pairs
    # with a data-question row (published figure above the utilisation cap) are listed by the
    # bench but not counted; today those are exactly the torchtune "1x A6000" rows.
    bench = _bench()
    rows = bench.build_rows()
    found = bench.ratios(rows, bench.predict(rows, bench.fitted_coefficients()))
    counted = [r for r in found if not r.above_peak]
    assert len(counted) >= 80
    assert max(r.off for r in counted) <= bench.TARGET_RATIO
    assert {r.m.id for r in rows if r.data_question} == {"torchtune-03", "torchtune-07"}
    # The MPT-70B A100/H100 ratio is informed by two pairs (32 and 64 GPUs).
    mpt70 = [r for r in counted if r.model.startswith("MPT-70B")]
    assert len(mpt70) == 2


def test_fit_never_reads_data_question_rows() -> None:
    bench = _bench()
    coef = bench.fitted_coefficients()
    calib = bench.build_rows("calib")
    clean = [r for r in calib if not r.data_question]
    assert len(clean) < len(calib)
    assert bench.fit(clean, coef).family == pytest.approx(bench.fit(calib, coef).family)


@pytest.mark.parametrize(
    ("text", "gbs"),
    [("RoCE 1600 Gbps node-node", 200.0), ("400 Gbps inter-node", 50.0), ("", 0.0), (None, 0.0)],
)
def test_rows_stated_inter_node_bandwidth(text: str | None, gbs: float) -> None:
    assert _bench()._stated_inter_gbps(text) == gbs


def test_attention_runs_at_its_own_efficiency() -> None:
    # The attention core's share of the work grows with the sequence; at attention_factor < 1
    # a long-context step slows by more than its FLOPs (llm-foundry MPT-7B on 8x H100:
    # 10,203 tok/s/GPU at 1024 vs 1,956 at 65536, measurements.csv).
    from dataclasses import replace

    from artenic_opt.estimate.throughput_model import fitted_coefficients

    coef = fitted_coefficients()
    assert 0.3 < coef.attention_factor < 1.0
    short = workload(model_params_m=7000, tokens=1e9, sequence_length=1024, batch_size=8)
    long = workload(model_params_m=7000, tokens=1e9, sequence_length=32768, batch_size=1)
    same = replace(coef, attention_factor=1.0)

    def hours(w: WorkloadProfile, c: Any) -> float:
        return float(hours_on(w, gpus=8, coefficients=c).hours[0])

    slow_down = hours(long, coef) / hours(short, coef)
    flops_only = hours(long, same) / hours(short, same)
    assert slow_down > flops_only * 1.1
    facts = describe_workload(long)
    assert facts.attention_flops_per_position > 0
    assert 3 * facts.attention_flops_per_position < facts.flops_per_position
