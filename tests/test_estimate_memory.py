"""GPU and host memory estimates (artenic_opt.estimate.memory) against published figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.estimate import assumptions as asm, memory as mem
from artenic_opt.estimate.memory import (
    PlanColumns,
    activation_gb_per_sample,
    estimate_memory,
    model_states,
)
from artenic_opt.estimate.plans import search_plans
from artenic_opt.estimate.workload import (
    WorkloadKind,
    describe_workload,
    lora_trainable_params,
    model_layers_hidden,
    workload_kind,
)
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.types import FineTuning, ModelFramework, OptimizerKind
from tests.factories import make_transformers_workload

GB = 1e9


def workload(**fields: Any) -> WorkloadProfile:
    return make_transformers_workload(**{"tokens": 1e9, **fields})


def plan(
    micro: int = 1, ckpt: int = 0, stage: int = 0, tp: int = 1, offload: bool = False, n: int = 1
) -> PlanColumns:
    return PlanColumns(
        micro_batch=np.full(n, micro, dtype=np.int64),
        checkpoint_code=np.full(n, ckpt, dtype=np.int64),
        sharding_stage=np.full(n, stage, dtype=np.int64),
        tensor_parallel=np.full(n, tp, dtype=np.int64),
        offload=np.full(n, offload, dtype=np.bool_),
    )


def one(
    w: WorkloadProfile,
    gpu_gb: float = 80.0,
    gpus: int = 1,
    nodes: int = 1,
    host_gb: float = 1000.0,
    **plan_fields: Any,
) -> Any:
    return estimate_memory(
        w,
        gpu_count=[gpus],
        gpu_memory_gb=[gpu_gb],
        memory_gb=[host_gb],
        nodes=[nodes],
        plan=plan(**plan_fields),
    )


def states_gb(m: Any) -> float:
    return float(m.weights_gb[0] + m.gradients_gb[0] + m.optimizer_gb[0])


# -- published figures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "published"),
    # Rajbhandari et al. 2020, "ZeRO", Figure 1: 7.5B parameters, mixed-precision Adam,
    # N_d = 64: baseline 120 GB, P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB per device.
    [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)],
)
def test_zero_paper_figure_1(stage: int, published: float) -> None:
    w = workload(model_params_m=7500, precision="bf16", optimizer="adamw")
    m = one(w, gpus=8, nodes=8, stage=stage)
    states = states_gb(m)
    if stage == 3:
        # FSDP/ZeRO-3 also holds a prefetch buffer of two gathered blocks.
        states -= mem.PREFETCH_BLOCKS * model_states(w).block_weights_gb
    assert states == pytest.approx(published, rel=0.05)
    assert model_states(w).total_gb == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("optimizer", "bytes_per_param"),
    [
        # EleutherAI, "Transformer Math 101" (2023), "Optimizer States": AdamW 12 bytes/param
        # (fp32 copy + two moments), 8-bit optimizers 6, SGD with momentum 8, incl. the master.
        (OptimizerKind.ADAMW, 12.0),
        (OptimizerKind.ADAMW_8BIT, 6.0),
        (OptimizerKind.SGD_MOMENTUM, 8.0),
        (OptimizerKind.SGD, 4.0),
    ],
)
def test_transformer_math_optimizer_bytes(optimizer: OptimizerKind, bytes_per_param: float) -> None:
    m = one(workload(model_params_m=1000, precision="bf16", optimizer=optimizer))
    assert m.optimizer_gb[0] == pytest.approx(1000e6 * bytes_per_param / GB, rel=0.01)


def test_adafactor_factors_its_second_moment_and_paged_states_live_on_the_host() -> None:
    ada = one(workload(model_params_m=1000, optimizer="adafactor"))
    # Master copy (4 B) plus row/column vectors, far below AdamW's 8 B of moments.
    assert 4.0 < float(ada.optimizer_gb[0]) < 4.1
    paged = one(workload(model_params_m=1000, optimizer="paged_adamw_8bit"))
    assert paged.optimizer_gb[0] == 0.0
    assert paged.host_needed_gb[0] == pytest.approx(6.0, rel=0.01)


def test_pure_bf16_drops_the_master_copy_and_halves_the_states() -> None:
    mixed = model_states(workload(model_params_m=1000))
    pure = model_states(workload(model_params_m=1000, pure_bf16=True))
    assert mixed.total_gb == pytest.approx(16.0)
    assert pure.total_gb == pytest.approx(8.0)  # 2 + 2 + 4 (bf16 moments)
    fp32 = model_states(workload(model_params_m=1000, precision="fp32"))
    assert fp32.total_gb == pytest.approx(16.0) and fp32.weights_gb == pytest.approx(4.0)


def test_qlora_paper_65b_on_a_single_48gb_gpu() -> None:
    # Dettmers et al. 2023, "QLoRA": abstract, a 65B model finetuned "on a single 48GB GPU";
    # sec. 3, NF4 with double quantisation stores 4.127 bits per quantised parameter. LoRA r=64
    # on all layers, batch 1, sequence 512, gradient checkpointing (its memory figure).
    qlora = workload(
        model_params_m=65000,
        fine_tuning="qlora",
        precision="int4",
        lora_rank=64,
        batch_size=1,
        sequence_length=512,
    )
    states = model_states(qlora)
    # The quantised base, plus the 16-bit embeddings/head and the fp32 adapters (<15% more).
    base = 65e9 * 4.127 / 8 / GB
    assert base < states.weights_gb < 1.15 * base
    m = one(qlora, gpu_gb=48.0, ckpt=2)
    assert bool(m.fits[0]) and m.needed_gb[0] < 48.0
    # And the plan search finds that fit without being told.
    choice = search_plans(qlora, gpu_count=[1], nodes=[1], gpu_memory_gb=[48.0], memory_gb=[64.0])
    assert bool(choice.found[0])


def test_lora_paper_gpt3_175b_vram() -> None:
    # Hu et al. 2021, "LoRA", sec. 4.2: on GPT-3 175B, LoRA (r = 4) trains in 350 GB of VRAM.
    lora = workload(model_params_m=175000, fine_tuning="lora", lora_rank=4, precision="fp16")
    assert states_gb(one(lora)) == pytest.approx(350.0, rel=0.05)


def test_activations_follow_korthikanti_with_flash_attention() -> None:
    # Korthikanti et al. 2022, eq. 1 without the 5as/h score term (flash attention): 34 s h per
    # block in 16 bit; full recompute keeps 2 s h per block plus one block; TP divides it all.
    w = workload(model_params_m=7000, sequence_length=4096)
    facts = describe_workload(w)
    s, h, layers = 4096, facts.hidden, facts.layers
    logits = s * mem.DEFAULT_VOCAB * mem.LOGIT_BYTES_PER_TOKEN_VOCAB / GB
    off, sel, full = activation_gb_per_sample(w, facts, np.array([0, 1, 2]), 1.0)
    assert off == pytest.approx(34 * s * h * layers / GB + logits)
    assert full == pytest.approx((2 * s * h * layers + 34 * s * h) / GB + logits)
    assert full < sel < off
    tp4 = activation_gb_per_sample(w, facts, 0, 4.0)
    assert float(tp4) == pytest.approx(off / 4)


def test_derived_shape_matches_published_models() -> None:
    # Llama 2 7B: 32 layers, hidden 4096; GPT-3 175B: 96 layers, hidden 12288 (within 15%).
    for params, layers, hidden in [(7e9, 32, 4096), (175e9, 96, 12288)]:
        got_layers, got_hidden = model_layers_hidden(params)
        assert got_layers == pytest.approx(layers, rel=0.15)
        assert got_hidden == pytest.approx(hidden, rel=0.15)
    assert lora_trainable_params(6.7e9, 64) == pytest.approx(160e6, rel=0.15)


# -- behaviour ---------------------------------------------------------------------------------


def test_lora_keeps_frozen_base_and_trains_small_fp32_adapters() -> None:
    full = one(workload(model_params_m=7000))
    lora = one(workload(model_params_m=7000, fine_tuning="lora"))
    assert lora.weights_gb[0] == pytest.approx(14.0, rel=0.02)
    assert lora.gradients_gb[0] < full.gradients_gb[0] / 50
    assert lora.optimizer_gb[0] < full.optimizer_gb[0] / 50


def test_checkpointing_and_micro_batch_scale_activations() -> None:
    w = workload()
    plain = one(w, micro=8)
    checkpointed = one(w, micro=8, ckpt=2)
    assert checkpointed.activations_gb[0] < plain.activations_gb[0] / 3
    assert one(w, micro=4).activations_gb[0] == pytest.approx(plain.activations_gb[0] / 2)


def test_sharding_stages_and_offload() -> None:
    w = workload(model_params_m=13000)
    replica, zero1, zero2, zero3 = (states_gb(one(w, gpus=8, stage=s)) for s in range(4))
    assert replica > zero1 > zero2 > zero3
    offloaded = one(w, gpus=8, stage=3, offload=True)
    assert states_gb(offloaded) < zero3
    assert offloaded.host_needed_gb[0] == pytest.approx(model_states(w).total_gb, rel=0.01)
    # A host that cannot take the offload fails the plan; an unpublished host too.
    assert not one(w, gpus=8, stage=3, offload=True, host_gb=64.0).fits[0]
    assert not one(w, gpus=8, stage=3, offload=True, host_gb=float("nan")).fits[0]


def test_usable_memory_is_the_card_minus_a_measured_reserve() -> None:
    w = workload(model_params_m=1000, sequence_length=128)
    need = float(one(w).needed_gb[0])
    just_fits = one(w, gpu_gb=need + mem.CUDA_CONTEXT_GB + 0.01)
    too_small = one(w, gpu_gb=need + mem.CUDA_CONTEXT_GB - 0.01)
    assert bool(just_fits.fits[0]) and not bool(too_small.fits[0])
    assert 0 <= just_fits.headroom_ratio[0] < 0.01
    # A run that uses 95% of an 80 GB card fits (the old flat 90% rule refused it).
    assert mem.CUDA_CONTEXT_GB < 0.05 * 80


def test_cpu_rows_hold_the_job_in_host_ram_and_unknown_memory_passes() -> None:
    w = workload(model_params_m=100, gpu_required=False)
    m = estimate_memory(
        w,
        gpu_count=[0, 0, 1],
        gpu_memory_gb=[0.0, 0.0, 24.0],
        memory_gb=[64.0, float("nan"), 32.0],
        nodes=[1, 1, 1],
        plan=plan(n=3),
    )
    assert m.on_gpu.tolist() == [False, False, True]
    assert m.available_known.tolist() == [True, False, True]
    assert m.fits[1] and m.headroom_ratio[1] == 0.0
    assert m.overhead_gb[0] == asm.HOST_BASE_MEMORY_GB
    assert m.overhead_gb[2] == mem.CUDA_CONTEXT_GB


def test_tabular_frameworks_need_host_ram_from_dataset_size() -> None:
    # LightGBM docs, Experiments, "Memory Consumption": on Higgs (10.5M x 28 floats) LightGBM
    # held 0.868 GB and xgboost_hist 3.784 GB resident.
    higgs_gb = 10.5e6 * 28 * 4 / GB
    for framework, measured in [("lightgbm", 0.868), ("xgboost", 3.784)]:
        w = WorkloadProfile(framework=framework, model_params_m=1, dataset_size_gb=higgs_gb)
        m = one(w, gpus=0, gpu_gb=0.0, host_gb=16.0)
        working_set = float(m.activations_gb[0])
        assert measured <= working_set <= 1.5 * measured
        assert m.needed_gb[0] == pytest.approx(working_set + asm.HOST_BASE_MEMORY_GB)
        assert not m.on_gpu[0]


def test_min_system_memory_is_checked_separately() -> None:
    w = workload(model_params_m=100, min_system_memory_gb=128)
    m = estimate_memory(
        w,
        gpu_count=[1, 1, 1],
        gpu_memory_gb=[24.0] * 3,
        memory_gb=[64.0, 256.0, float("nan")],
        nodes=[1, 1, 1],
        plan=plan(n=3),
    )
    assert m.host_fits.tolist() == [False, True, True]
    assert m.host_known.tolist() == [True, True, False]
    assert "min_system_memory_gb" in m.inputs_used


def test_breakdown_pressure_and_inputs_used() -> None:
    m = one(workload(fine_tuning="lora"))
    parts = m.breakdown(0)
    assert parts.total_gb >= parts.weights_gb + parts.gradients_gb + parts.optimizer_gb
    for name in ("model_params_m", "precision", "fine_tuning", "lora_rank", "plan"):
        assert name in parts.inputs_used
    assert float(m.pressure[0]) == pytest.approx(float(m.needed_gb[0] / m.usable_gb[0]))


@pytest.mark.parametrize("framework", list(ModelFramework))
def test_every_framework_has_a_kind_and_an_estimate(framework: ModelFramework) -> None:
    w = WorkloadProfile(framework=framework, model_params_m=100, dataset_size_gb=2)
    kind = workload_kind(w)
    assert kind is (
        WorkloadKind.TABULAR
        if framework.is_cpu_bound
        else WorkloadKind.TOKENS
        if framework is ModelFramework.TRANSFORMERS
        else WorkloadKind.SAMPLES
    )
    m = one(w)
    assert np.isfinite(m.needed_gb).all() and m.needed_gb[0] > 0


def test_lora_without_tokens_is_a_token_workload() -> None:
    w = WorkloadProfile(model_params_m=7000, dataset_size_gb=1, fine_tuning=FineTuning.LORA)
    assert workload_kind(w) is WorkloadKind.TOKENS


@settings(max_examples=60, deadline=None)
@given(
    params=st.floats(min_value=1, max_value=200_000),
    micro=st.integers(min_value=1, max_value=64),
    gpus=st.sampled_from([1, 2, 4, 8]),
    nodes=st.integers(min_value=1, max_value=8),
    stage=st.integers(min_value=0, max_value=3),
    ckpt=st.integers(min_value=0, max_value=2),
)
def test_more_devices_never_need_more_memory_per_device(
    params: float, micro: int, gpus: int, nodes: int, stage: int, ckpt: int
) -> None:
    w = workload(model_params_m=params)
    columns = plan(micro=micro, ckpt=ckpt, stage=stage, n=2)
    m = estimate_memory(
        w,
        gpu_count=[gpus, gpus],
        gpu_memory_gb=[80.0, 80.0],
        memory_gb=[1e3, 1e3],
        nodes=[nodes, nodes + 1],
        plan=columns,
    )
    assert m.needed_gb[1] <= m.needed_gb[0] + 1e-9
    assert m.needed_gb[0] > m.activations_gb[0]
