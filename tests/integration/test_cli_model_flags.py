"""--model / --hf-config / --params through a real ``artenic-opt`` subprocess (issue 12)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artenic_opt", "--state", str(tmp_path / "s.db"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_model_flag_sets_architecture_and_size(tmp_path: Path) -> None:
    result = run(
        tmp_path, "recommend", "--model", "mistral-7b", "--dataset-gb", "2", "--top", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    workload = json.loads(result.stdout)["workload"]
    assert workload["model"] == "mistral-7b"
    assert workload["architecture"]["kv_heads"] == 8
    assert workload["model_params_m"] == pytest.approx(7241.7, rel=1e-3)


def test_hf_config_flag(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257}
        ),
        encoding="utf-8",
    )
    result = run(
        tmp_path,
        "recommend",
        "--hf-config",
        str(config),
        "--dataset-gb",
        "1",
        "--json",
        "--top",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["workload"]["model_params_m"] == pytest.approx(124.4, 1e-3)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--params", "7000"], ["--params", "ambiguous", "7B, 350M or 7e9"]),
        (["--model", "llama-3-8"], ["unknown model 'llama-3-8'", "closest: llama-3-8b"]),
        (["--model", "gpt2", "--hf-config", "x.json"], ["--model or --hf-config"]),
    ],
)
def test_bad_model_input_exits_2_in_one_line(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    result = run(tmp_path, "recommend", *args, "--dataset-gb", "1", "--json")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in result.stderr
    assert "error" in json.loads(result.stdout)


_LLAMA = {
    "model_type": "llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_attention_heads": 32,
    "vocab_size": 32000,
}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{nope", "not JSON"),
        (json.dumps({"model_type": "llama", "hidden_size": 8}), "field 'num_hidden_layers'"),
        (json.dumps({"model_type": "rwkv"}), "field 'model_type' is 'rwkv'"),
        # Whole numbers beyond the architecture schema's bounds (a billion layers, a hidden size
        # of 10^9) were an internal error (exit 1) printing a multi-line pydantic report.
        (json.dumps({**_LLAMA, "num_hidden_layers": 10**9}), "layers"),
        (json.dumps({**_LLAMA, "hidden_size": 10**9, "intermediate_size": 10**9}), "hidden"),
    ],
)
def test_bad_hf_config_names_file_and_field(tmp_path: Path, content: str, fragment: str) -> None:
    config = tmp_path / "config.json"
    config.write_text(content, encoding="utf-8")
    result = run(tmp_path, "recommend", "--hf-config", str(config), "--dataset-gb", "1")
    assert result.returncode == 2, result.stderr
    assert str(config) in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_hf_config_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    # A config.json saved with a UTF-8 BOM was refused as "not JSON"; RFC 8259 section 8.1
    # lets a parser ignore it.
    config = tmp_path / "config.json"
    config.write_bytes(b"\xef\xbb\xbf" + json.dumps(_LLAMA).encode())
    result = run(tmp_path, "recommend", "--hf-config", str(config), "--dataset-gb", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["workload"]["architecture"]["layers"] == 32


def test_hf_config_with_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    # The last hidden_size won silently: a 7B config read as an 18B model.
    config = tmp_path / "config.json"
    body = json.dumps(_LLAMA)[:-1] + ', "hidden_size": 8192}'
    config.write_text(body, encoding="utf-8")
    result = run(tmp_path, "recommend", "--hf-config", str(config), "--dataset-gb", "1")
    assert result.returncode == 2, result.stderr
    assert f"{config}: key 'hidden_size' is given twice" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
