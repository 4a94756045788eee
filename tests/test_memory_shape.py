"""Activation and state memory from a model's architecture (artenic_opt.estimate.memory):
per-tensor activation bytes, vocabulary logits, tied embeddings, LoRA dropout, offloading."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.estimate import activation_shape as shape_mod, memory as mem
from artenic_opt.estimate.architectures import get_architecture, to_schema
from artenic_opt.estimate.workload import describe_workload
from artenic_opt.schemas import ModelArchitecture, WorkloadProfile


def arch(key: str) -> ModelArchitecture:
    return to_schema(get_architecture(key))


def workload(key: str, **fields: Any) -> WorkloadProfile:
    shape = arch(key)
    base: dict[str, Any] = {
        "framework": "transformers",
        "model_params_m": shape.params_m,
        "architecture": shape,
        "dataset_size_gb": 1,
        "tokens": 1e8,
        "batch_size": 1,
        "sequence_length": 2048,
        "precision": "bf16",
    }
    return WorkloadProfile(**{**base, **fields})


def per_sample(w: WorkloadProfile, code: int = 0, **keywords: Any) -> float:
    return float(mem.activation_gb_per_sample(w, describe_workload(w), code, 1.0, **keywords))


def test_gpt3_shaped_block_is_korthikanti_34h() -> None:
    # GPT-2 family: plain MLP with ffn = 4h, dropout, multi-head attention: the paper's 34h.
    w = workload("gpt2-xl")
    hidden = arch("gpt2-xl").hidden
    assert shape_mod.activation_bytes_per_token_layer(w, describe_workload(w)) == pytest.approx(
        34.0 * hidden
    )


def test_llama_block_counts_the_gated_mlp() -> None:
    # Llama 2 7B: 16h + 8 x ffn (no dropout) = 37.5h.
    w = workload("llama-2-7b")
    expected = 16 * 4096 + 8 * 11008
    assert shape_mod.activation_bytes_per_token_layer(w, describe_workload(w)) == expected


def test_grouped_query_attention_keeps_smaller_kv() -> None:
    # Llama 3 8B: 8 KV heads of 128 -> kv width 1024, not 4096.
    w = workload("llama-3-8b")
    expected = 8 * 4096 + 4 * 4096 + 4 * 1024 + 8 * 14336
    assert shape_mod.activation_bytes_per_token_layer(w, describe_workload(w)) == expected


def test_without_architecture_the_paper_constant_is_used() -> None:
    w = WorkloadProfile(
        framework="transformers", model_params_m=7000, dataset_size_gb=1, tokens=1e8
    )
    facts = describe_workload(w)
    got = shape_mod.activation_bytes_per_token_layer(w, facts)
    assert got == pytest.approx(shape_mod.ACTIVATION_BYTES_PER_TOKEN_HIDDEN * facts.hidden)


@pytest.mark.parametrize(
    ("key", "gated"),
    [("llama-2-7b", True), ("mistral-7b", True), ("gpt2", False), ("bert-large", False)],
)
def test_gated_mlp_is_read_from_the_parameter_count(key: str, gated: bool) -> None:
    assert shape_mod.is_gated(arch(key)) is gated


@pytest.mark.parametrize(
    ("key", "tables"), [("llama-3.2-3b", 1.0), ("llama-2-7b", 2.0), ("gpt2", 1.0)]
)
def test_tied_embeddings_are_one_matrix(key: str, tables: float) -> None:
    assert shape_mod.embedding_matrices(arch(key)) == tables


def test_qlora_keeps_one_embedding_matrix_when_tied() -> None:
    tied = workload("llama-3.2-3b", fine_tuning="qlora", precision="int4")
    shape = arch("llama-3.2-3b")
    states = mem.model_states(tied)
    quantised = shape.params_m * 1e6 - shape.vocab * shape.hidden
    expected = quantised * mem.NF4_DOUBLE_QUANT_BITS / 8 + shape.vocab * shape.hidden * 2
    adapters = describe_workload(tied).trainable_params * mem.ADAPTER_BYTES
    assert states.weights_gb * 1e9 == pytest.approx(expected + adapters)


def test_logits_use_the_architecture_vocabulary() -> None:
    # Llama 3's 128,256 entries, not the 32,000 fallback: 12 B x 2048 x 128256 = 3.15 GB.
    w = workload("llama-3-8b")
    llama2_like = workload("llama-3-8b", chunked_loss=True)
    gap = per_sample(w) - per_sample(llama2_like)
    assert gap == pytest.approx(2048 * 128_256 * (12.0 - 3.5) / 1e9)


def test_encoders_carry_no_vocabulary_logits() -> None:
    w = workload("bert-large", sequence_length=512)
    facts = describe_workload(w)
    blocks = 24 * 512 * shape_mod.activation_bytes_per_token_layer(w, facts) / 1e9
    assert per_sample(w) == pytest.approx(blocks)


def test_eager_attention_adds_the_score_term() -> None:
    w = workload("bert-large", sequence_length=512)
    extra = per_sample(w, eager_attention=True) - per_sample(w)
    assert extra == pytest.approx(24 * 512 * 5 * 16 * 512 / 1e9)


def test_lora_dropout_targets() -> None:
    shape = arch("llama-2-7b")
    assert shape_mod.lora_dropout_bytes_per_token_layer(shape, "qv") == 6 * 4096
    assert shape_mod.lora_dropout_bytes_per_token_layer(shape, "qkv_fused") == 3 * 4096
    all_fused = 3 * (4096 + 4096 + 2 * 4096 + 11008)
    assert shape_mod.lora_dropout_bytes_per_token_layer(shape, "all_fused") == all_fused
    assert shape_mod.lora_dropout_bytes_per_token_layer(shape, "all") > all_fused
    assert shape_mod.lora_dropout_bytes_per_token_layer(None, "qv") == 0.0
    assert shape_mod.lora_dropout_bytes_per_token_layer(shape, "nonsense") == 0.0
    lora = workload("llama-2-7b", fine_tuning="lora")
    full = workload("llama-2-7b")
    assert per_sample(lora, lora_dropout_targets="qv") > per_sample(lora)
    # A full fine-tune has no adapters, so no adapter dropout.
    assert per_sample(full, lora_dropout_targets="qv") == per_sample(full)


def test_old_bitsandbytes_keeps_the_quantised_layers_inputs() -> None:
    # Llama 3.2 3B: QKV input 3072, output-projection input 24 x 128, MLP input 3072, down
    # projection input 8192, 2 B each; Mixtral visits 2 experts: MLP and down inputs twice.
    dense = shape_mod.quantised_inputs_bytes_per_token_layer(arch("llama-3.2-3b"))
    assert dense == 2 * (3072 + 24 * 128 + 3072 + 8192)
    moe = shape_mod.quantised_inputs_bytes_per_token_layer(arch("mixtral-8x7b"))
    assert moe == 2 * (4096 + 32 * 128 + 2 * (4096 + 14336))
    assert shape_mod.quantised_inputs_bytes_per_token_layer(None) == 0.0
    qlora = workload("llama-3.2-3b", fine_tuning="qlora", precision="int4", sequence_length=512)
    extra = per_sample(qlora, quantised_inputs_kept=True) - per_sample(qlora)
    assert extra == pytest.approx(28 * 512 * dense / 1e9)
    # Only 4-bit layers did it: a LoRA or full fine-tune keeps nothing more.
    for task in ("lora", "full"):
        other = workload("llama-3.2-3b", fine_tuning=task, sequence_length=512)
        assert per_sample(other, quantised_inputs_kept=True) == per_sample(other)


def test_activation_offload_moves_the_checkpoints_only() -> None:
    w = workload("llama-3.2-3b")
    kept = 28 * 2048 * 2 * 3072 / 1e9
    assert per_sample(w, 2) - per_sample(w, 2, activation_offload=True) == pytest.approx(kept)


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(["llama-2-7b", "llama-3-8b", "mistral-7b", "gpt2-medium", "phi-3-mini"]),
    seq=st.integers(min_value=16, max_value=8192),
    grow=st.integers(min_value=1, max_value=4096),
    code=st.sampled_from([0, 1, 2]),
)
def test_activations_grow_with_sequence_and_shrink_with_checkpointing(
    key: str, seq: int, grow: int, code: int
) -> None:
    short = workload(key, sequence_length=seq)
    long = workload(key, sequence_length=seq + grow)
    assert per_sample(long, code) > per_sample(short, code)
    assert per_sample(long, code, eager_attention=True) >= per_sample(long, code)
    assert per_sample(short, 2) <= per_sample(short, 1) <= per_sample(short, 0)


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(["llama-2-7b", "llama-3.2-3b", "gpt2-large"]),
    micro=st.integers(min_value=1, max_value=16),
    task=st.sampled_from(["full", "lora", "qlora"]),
)
def test_allocated_never_exceeds_needed_and_grows_with_micro_batch(
    key: str, micro: int, task: str
) -> None:
    w = workload(key, fine_tuning=task, precision="int4" if task == "qlora" else "bf16")
    facts = describe_workload(w)
    states = mem.model_states(w, facts)

    def at(batch: int) -> Any:
        return mem.plan_memory(
            w,
            facts,
            states,
            gpus_per_node=np.array([1.0]),
            nodes=np.array([1.0]),
            gpu_memory_gb=np.array([80.0]),
            host_memory_gb=np.array([512.0]),
            micro_batch=np.array([float(batch)]),
            checkpoint_code=np.array([0]),
            sharding_stage=np.array([0]),
            tensor_parallel=np.array([1.0]),
            offload=np.array([False]),
        )

    small, large = at(micro), at(micro + 1)
    assert small.allocated_gb[0] <= small.needed_gb[0]
    assert large.allocated_gb[0] > small.allocated_gb[0]
    assert large.needed_gb[0] > small.needed_gb[0]


def test_autocast_states_are_18_bytes_per_parameter() -> None:
    w = workload("bert-large", sequence_length=512, precision="fp16")
    params = describe_workload(w).params
    amp = mem.model_states(w, autocast=True)
    assert amp.total_gb * 1e9 == pytest.approx(18.0 * params)
    assert mem.model_states(w).total_gb * 1e9 == pytest.approx(16.0 * params)
    # fp32 and pure bf16 runs have no autocast copies.
    fp32 = workload("bert-large", precision="fp32")
    assert mem.model_states(fp32, autocast=True) == mem.model_states(fp32)


def test_autocast_keeps_fp32_norms_and_scores() -> None:
    w = workload("bert-large", sequence_length=512, precision="fp16")
    extra = per_sample(w, autocast=True) - per_sample(w)
    assert extra == pytest.approx(24 * 512 * 4 * 1024 / 1e9)
    eager = per_sample(w, eager_attention=True, autocast=True) - per_sample(w, eager_attention=True)
    assert eager == pytest.approx(24 * 512 * (4 * 1024 + 2 * 16 * 512) / 1e9)


def test_persisting_gradients_add_to_activations() -> None:
    w = workload("llama-3.2-3b")
    facts = describe_workload(w)
    states = mem.model_states(w, facts)
    common: dict[str, Any] = {
        "gpus_per_node": np.array([1.0]),
        "nodes": np.array([1.0]),
        "gpu_memory_gb": np.array([80.0]),
        "host_memory_gb": np.array([512.0]),
        "micro_batch": np.array([1.0]),
        "checkpoint_code": np.array([0]),
        "sharding_stage": np.array([0]),
        "tensor_parallel": np.array([1.0]),
        "offload": np.array([False]),
    }
    freed = mem.plan_memory(w, facts, states, **common)
    kept = mem.plan_memory(w, facts, states, gradients_persist=True, **common)
    peak = freed.allocated_gb[0] - states.weights_gb - states.optimizer_gb
    assert peak == pytest.approx(max(states.gradients_gb, float(freed.activations_gb[0])))
    summed = kept.allocated_gb[0] - states.weights_gb - states.optimizer_gb
    assert summed == pytest.approx(states.gradients_gb + float(kept.activations_gb[0]))


def test_widths_without_an_explicit_head_size() -> None:
    # A hand-written architecture without head_dim: K/V width follows the KV-head share.
    shape = arch("llama-3-8b").model_copy(update={"head_dim": 0})
    hidden, q_dim, kv_dim = shape_mod.dims(shape)
    assert (hidden, q_dim, kv_dim) == (4096.0, 4096.0, 1024.0)
