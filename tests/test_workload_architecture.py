"""Workloads that name their model: --model / hf_config, and one unit for parameter counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import WorkloadProfile
from artenic_opt.services.workload_reader import build_workload, parse_param_count

LLAMA_CONFIG = {
    "model_type": "llama",
    "_name_or_path": "my-org/llama-like",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


@pytest.mark.parametrize(
    ("value", "count"), [("7B", 7e9), ("350M", 3.5e8), ("7e9", 7e9), ("1.5b", 1.5e9)]
)
def test_param_counts_with_a_unit(value: str, count: float) -> None:
    assert parse_param_count(value, field="--params") == pytest.approx(count)


@given(st.integers(min_value=1, max_value=10**12))
def test_bare_numbers_are_ambiguous(number: int) -> None:
    for value in (number, str(number), float(number)):
        with pytest.raises(InvalidInputError, match=r"ambiguous.*7B, 350M or 7e9"):
            parse_param_count(value, field="--params")


def test_param_count_rejects_non_numbers() -> None:
    for value in (True, None, ["7B"]):
        with pytest.raises(InvalidInputError, match="not a parameter count"):
            parse_param_count(value, field="params")


def _file(tmp_path: Path, text: str, name: str = "w.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_file_params_use_the_flag_unit(tmp_path: Path) -> None:
    workload = build_workload(_file(tmp_path, 'params = "7B"\ndataset_size_gb = 1\n'), {})
    assert workload.model_params_m == pytest.approx(7000)
    with pytest.raises(InvalidInputError, match="ambiguous"):
        build_workload(_file(tmp_path, "params = 7000\ndataset_size_gb = 1\n"), {})
    both = 'params = "7B"\nmodel_params_m = 7000\ndataset_size_gb = 1\n'
    with pytest.raises(InvalidInputError, match="params or model_params_m, not both"):
        build_workload(_file(tmp_path, both), {})


def test_named_model_sets_architecture_and_size(tmp_path: Path) -> None:
    workload = build_workload(_file(tmp_path, 'model = "Llama 3 8B"\ndataset_size_gb = 5\n'), {})
    assert workload.model == "Llama 3 8B"
    assert workload.architecture is not None and workload.architecture.kind == "llm"
    assert workload.architecture.kv_heads == 8
    assert workload.model_params_m == pytest.approx(8030.3, rel=1e-3)
    mixtral = build_workload(None, {"model": "mixtral-8x7b", "dataset_size_gb": 1.0})
    assert mixtral.architecture is not None
    assert mixtral.architecture.active_params_m < 0.3 * mixtral.architecture.params_m


def test_hf_config_relative_to_the_workload_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps(LLAMA_CONFIG), encoding="utf-8")
    workload = build_workload(
        _file(tmp_path, 'hf_config = "cfg/config.json"\ndataset_size_gb = 1\n'), {}
    )
    assert workload.architecture is not None
    assert workload.architecture.name == "my-org/llama-like"
    assert workload.model_params_m == pytest.approx(8030.3, rel=1e-3)
    with pytest.raises(InvalidInputError, match=r"missing\.json"):
        build_workload(None, {"hf_config": str(tmp_path / "missing.json"), "dataset_size_gb": 1})


def test_flags_replace_the_files_model(tmp_path: Path) -> None:
    path = _file(tmp_path, "model_params_m = 124\ndataset_size_gb = 1\n")
    workload = build_workload(path, {"model": "mistral-7b"})
    assert workload.model == "mistral-7b" and workload.model_params_m == pytest.approx(7241.7, 1e-3)
    sized = build_workload(path, {"params": "13B"})
    assert sized.architecture is None and sized.model_params_m == pytest.approx(13000)


def test_inconsistent_or_conflicting_model_inputs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"model_params_m: 124 .*disagrees"):
        build_workload(None, {"model": "llama-3-8b", "model_params_m": 124, "dataset_size_gb": 1})
    # Within the 5% tolerance the user's figure is kept.
    close = build_workload(None, {"model": "llama-3-8b", "params": "8B", "dataset_size_gb": 1})
    assert close.model_params_m == pytest.approx(8000)
    with pytest.raises(InvalidInputError, match="--model or --hf-config, not both"):
        build_workload(None, {"model": "gpt2", "hf_config": "x.json", "dataset_size_gb": 1})
    with pytest.raises(InvalidInputError, match="closest: llama-3-8b"):
        build_workload(None, {"model": "llama-3-8", "dataset_size_gb": 1})
    for bad in ("model = 7\ndataset_size_gb = 1\n", 'hf_config = ""\ndataset_size_gb = 1\n'):
        with pytest.raises(InvalidInputError, match=r"model must be|hf_config must be"):
            build_workload(_file(tmp_path, bad), {})
    with pytest.raises(InvalidInputError, match="--params or --model"):
        build_workload(None, {"dataset_size_gb": 1})


def test_architecture_survives_json_round_trip() -> None:
    workload = build_workload(None, {"model": "bert-base", "dataset_size_gb": 1})
    again = WorkloadProfile.model_validate(json.loads(workload.model_dump_json()))
    assert again == workload and again.architecture is not None
    assert again.architecture.kind == "encoder"
    # Old records without the new fields still load.
    old = workload.model_dump(mode="json", exclude={"model", "architecture"})
    assert WorkloadProfile.model_validate(old).architecture is None
