"""Architectures: computed parameter counts vs published ones, FLOPs, config.json reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import InvalidInputError
from artenic_opt.estimate.architectures import (
    SUPPORTED_MODEL_TYPES,
    architecture_from_hf_config,
    flops_per_token,
    get_architecture,
    load_architectures,
    matmul_params,
    read_hf_config,
)
from artenic_opt.estimate.measurements import load_measurements

REQUIRED = [
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-3-8b",
    "llama-3-70b",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "mistral-7b",
    "mixtral-8x7b",
    "qwen2.5-7b",
    "qwen2.5-72b",
    "gemma-2-9b",
    "gemma-2-27b",
    "phi-3-mini",
    "gpt2",
    "gpt2-xl",
    "bert-base",
    "bert-large",
    "t5-base",
    "vit-b-16",
    "vit-l-16",
    "resnet-50",
    "sd-v1-unet",
]
EXACT_TOLERANCE = 0.02  # published exact counts (7.61B, 46.7B, 124M...)
NOMINAL_TOLERANCE = 0.10  # counts known only from the model's name (7B, 70B)


def test_required_models_present_and_sourced() -> None:
    table = load_architectures()
    assert set(REQUIRED) <= set(table)
    for arch in table.values():
        assert arch.published_source and arch.config_source, arch.key


@pytest.mark.parametrize("key", sorted(load_architectures()))
def test_computed_count_matches_published(key: str) -> None:
    arch = load_architectures()[key]
    assert arch.published_params_b is not None
    tolerance = EXACT_TOLERANCE if arch.published_exact else NOMINAL_TOLERANCE
    assert arch.params / 1e9 == pytest.approx(arch.published_params_b, rel=tolerance)
    if arch.published_active_params_b is not None:
        assert arch.active_params / 1e9 == pytest.approx(
            arch.published_active_params_b, rel=tolerance
        )


def test_moe_total_vs_active() -> None:
    mixtral = get_architecture("mixtral-8x7b")
    assert mixtral.is_moe and mixtral.experts == 8 and mixtral.experts_per_token == 2
    assert mixtral.active_params < 0.3 * mixtral.params
    mistral = get_architecture("Mistral 7B")
    assert not mistral.is_moe and mistral.active_params == mistral.params


def test_gqa_and_explicit_head_dim_change_the_count() -> None:
    gemma = get_architecture("gemma-2-9b")
    assert gemma.q_dim == 16 * 256 > gemma.hidden
    l2_70b = get_architecture("llama-2-70b")
    assert l2_70b.kv_dim == 8 * 128 < l2_70b.hidden


def test_workload_kind_comes_from_the_family() -> None:
    kinds = {k: a.kind for k, a in load_architectures().items()}
    assert kinds["llama-3-8b"] == "llm" and kinds["bert-base"] == "encoder"
    assert kinds["vit-b-16"] == "vision" and kinds["resnet-50"] == "vision"
    assert kinds["sd-v1-unet"] == "diffusion"


@pytest.mark.parametrize(
    ("key", "seq", "tokens_per_s", "model_tflops"),
    [
        # NVIDIA/NeMo performance_summary.md (NeMo 24.07, DGX-H100): tokens/s/GPU and model
        # TFLOP/s/GPU of the same run, so their ratio is the FLOPs per token NeMo counted.
        ("llama-2-7b", 4096, 16847, 776),
        ("llama-3-8b", 8192, 12036, 697),
    ],
)
def test_training_flops_match_a_published_model_flops_count(
    key: str, seq: int, tokens_per_s: float, model_tflops: float
) -> None:
    published = model_tflops * 1e12 / tokens_per_s
    assert flops_per_token(get_architecture(key), seq) == pytest.approx(published, rel=0.01)


@given(seq=st.integers(1, 200_000))
def test_flops_grow_with_sequence_and_training_is_three_forwards(seq: int) -> None:
    arch = get_architecture("llama-3.1-8b")
    forward = flops_per_token(arch, seq, training=False)
    assert flops_per_token(arch, seq) == pytest.approx(3 * forward)
    assert flops_per_token(arch, seq + 1, training=False) > forward
    assert forward >= 2 * matmul_params(arch)


def test_flops_use_active_parameters_and_reject_cnns() -> None:
    mixtral = get_architecture("mixtral-8x7b")
    assert flops_per_token(mixtral, 1, training=False) < 2 * 0.3 * mixtral.params
    with pytest.raises(InvalidInputError, match="per-sample"):
        flops_per_token(get_architecture("resnet-50"), 1)
    with pytest.raises(InvalidInputError, match="at least 1"):
        flops_per_token(mixtral, 0)


def test_unknown_model_names_the_closest() -> None:
    with pytest.raises(InvalidInputError, match="closest: llama-3-8b") as info:
        get_architecture("llama-3-8")
    assert info.value.exit_code == 2
    with pytest.raises(InvalidInputError, match="unknown model 'zzzz'"):
        get_architecture("zzzz")


def test_measurement_arch_keys_exist() -> None:
    table = load_architectures()
    for m in load_measurements():
        assert m.arch_key is None or m.arch_key in table, m.id


# --- Hugging Face config.json -------------------------------------------------------------

LLAMA_3_8B = {
    "model_type": "llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


def _write(tmp_path: Path, data: object, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_hf_config_reproduces_the_table(tmp_path: Path) -> None:
    arch = read_hf_config(_write(tmp_path, LLAMA_3_8B))
    assert arch.params == get_architecture("llama-3-8b").params
    assert arch.kind == "llm" and arch.config_source.endswith("config.json")


@pytest.mark.parametrize(
    ("key", "config"),
    [
        (
            "mixtral-8x7b",
            {
                **LLAMA_3_8B,
                "model_type": "mixtral",
                "vocab_size": 32000,
                "num_local_experts": 8,
                "num_experts_per_tok": 2,
            },
        ),
        (
            "qwen2.5-7b",
            {
                "model_type": "qwen2",
                "num_hidden_layers": 28,
                "hidden_size": 3584,
                "num_attention_heads": 28,
                "num_key_value_heads": 4,
                "intermediate_size": 18944,
                "vocab_size": 152064,
                "tie_word_embeddings": False,
            },
        ),
        (
            "gemma-2-9b",
            {
                "model_type": "gemma2",
                "num_hidden_layers": 42,
                "hidden_size": 3584,
                "num_attention_heads": 16,
                "num_key_value_heads": 8,
                "head_dim": 256,
                "intermediate_size": 14336,
                "vocab_size": 256000,
                "tie_word_embeddings": True,
            },
        ),
        (
            "gpt2",
            {
                "model_type": "gpt2",
                "n_layer": 12,
                "n_embd": 768,
                "n_head": 12,
                "n_positions": 1024,
                "vocab_size": 50257,
                "n_inner": None,
            },
        ),
        (
            "bert-base",
            {
                "model_type": "bert",
                "num_hidden_layers": 12,
                "hidden_size": 768,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "vocab_size": 30522,
                "max_position_embeddings": 512,
            },
        ),
        (
            "t5-base",
            {
                "model_type": "t5",
                "num_layers": 12,
                "d_model": 768,
                "num_heads": 12,
                "d_kv": 64,
                "d_ff": 3072,
                "vocab_size": 32128,
            },
        ),
        (
            "vit-b-16",
            {
                "model_type": "vit",
                "num_hidden_layers": 12,
                "hidden_size": 768,
                "num_attention_heads": 12,
                "intermediate_size": 3072,
                "image_size": 224,
                "patch_size": 16,
            },
        ),
        (
            "phi-3-mini",
            {
                "model_type": "phi3",
                "num_hidden_layers": 32,
                "hidden_size": 3072,
                "num_attention_heads": 32,
                "num_key_value_heads": 32,
                "intermediate_size": 8192,
                "vocab_size": 32064,
                "tie_word_embeddings": False,
            },
        ),
        (
            "mistral-7b",
            {**LLAMA_3_8B, "model_type": "mistral", "vocab_size": 32000},
        ),
    ],
)
def test_hf_config_per_model_type(tmp_path: Path, key: str, config: dict[str, object]) -> None:
    arch = architecture_from_hf_config(config, tmp_path / "config.json")
    assert arch.params == pytest.approx(get_architecture(key).params, rel=1e-9)
    assert arch.active_params == pytest.approx(get_architecture(key).active_params, rel=1e-9)


def test_every_supported_type_is_tested() -> None:
    assert set(SUPPORTED_MODEL_TYPES) == {
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "gemma2",
        "phi3",
        "gpt2",
        "bert",
        "t5",
        "vit",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"hidden_size": 1}), "field 'model_type' is missing"),
        (json.dumps({**LLAMA_3_8B, "model_type": "mamba"}), "'mamba', not a supported"),
        (
            json.dumps({k: v for k, v in LLAMA_3_8B.items() if k != "hidden_size"}),
            "field 'hidden_size' is missing",
        ),
        (json.dumps({**LLAMA_3_8B, "num_hidden_layers": "32"}), "'num_hidden_layers' must be"),
        (json.dumps({**LLAMA_3_8B, "num_key_value_heads": 5}), "not a multiple of kv_heads"),
        (json.dumps({**LLAMA_3_8B, "num_hidden_layers": 0}), "layers must be a positive"),
    ],
)
def test_bad_hf_config_names_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message) as info:
        read_hf_config(path)
    assert str(path) in str(info.value) and info.value.exit_code == 2


def test_unreadable_hf_config(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"missing\.json: Hugging Face config not found"):
        read_hf_config(tmp_path / "missing.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInputError, match=r"bin\.json: Hugging Face config is not text"):
        read_hf_config(binary)
    with pytest.raises(InvalidInputError, match="Hugging Face config is too large"):
        read_hf_config("/dev/zero")  # no size to check first, and no end


def test_encoder_and_vit_flops_exclude_lookups() -> None:
    bert = get_architecture("bert-base")
    assert matmul_params(bert) < bert.params - bert.vocab * bert.hidden
    vit = get_architecture("vit-b-16")
    assert 0 < matmul_params(vit) < vit.params
    assert flops_per_token(vit, 197) > 6 * matmul_params(vit)
    assert get_architecture("gpt2").params_m == pytest.approx(124.4, abs=0.1)


ROW = {
    "key": "m",
    "name": "M",
    "family": "decoder",
    "model_type": "llama",
    "layers": "2",
    "hidden": "8",
    "heads": "2",
    "ffn_size": "16",
    "vocab": "10",
    "published_params_b": "1",
    "published_source": "s",
    "config_source": "c",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layers": "two"}, "layers is not a whole number"),
        ({"family": "rnn"}, "family 'rnn'"),
        ({"published_source": ""}, "published_source are required"),
        ({"config_source": ""}, "config_source is required"),
        ({"experts": "2", "experts_per_token": "3"}, "experts_per_token exceeds"),
        ({"vocab": ""}, "vocab must be a positive"),
        ({"published_params_b": "x"}, "could not convert"),
    ],
)
def test_table_rows_are_validated(change: dict[str, str], message: str) -> None:
    from artenic_opt.estimate.architectures import ArchitectureDataError, _row_to_architecture

    assert _row_to_architecture(ROW, 2).params > 0
    with pytest.raises(ArchitectureDataError, match=message) as info:
        _row_to_architecture({**ROW, **change}, 7)
    assert "line 7" in str(info.value)
