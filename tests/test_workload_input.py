"""Workload input: quantities with suffixes, files (JSON, TOML, stdin) and flag overrides."""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
import typer
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from artenic_opt.cli.workload_input import WorkloadFlags, workload_options
from artenic_opt.errors import InvalidInputError
from artenic_opt.services.workload_reader import build_workload, parse_quantity, read_workload_file

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("text", "value"),
    [("7B", 7e9), ("350m", 3.5e8), ("2T", 2e12), ("1.5e3", 1500.0), (" 12k ", 12e3), ("3G", 3e9)],
)
def test_parse_quantity_known_values(text: str, value: float) -> None:
    assert parse_quantity(text, field="--params") == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "-7B", "7X", "0", "1e999", "7 B B"])
def test_parse_quantity_rejects_nonsense(text: str) -> None:
    with pytest.raises(InvalidInputError, match="--params"):
        parse_quantity(text, field="--params")


@given(
    st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
    st.sampled_from(["", "K", "M", "B", "T"]),
)
def test_parse_quantity_roundtrip(value: float, suffix: str) -> None:
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[suffix]
    assert parse_quantity(f"{value!r}{suffix}", field="x") == pytest.approx(value * scale)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.*") if p.suffix != ".md"))
def test_examples_are_valid_workloads(name: str) -> None:
    workload = build_workload(str(EXAMPLES / name), {})
    assert workload.name == Path(name).stem


def test_flags_override_file_fields(tmp_path: Path) -> None:
    workload = WorkloadFlags(
        workload_file=str(EXAMPLES / "llm-lora-7b.toml"),
        epochs=5.0,
        params="13B",
        provider=["AWS", "GCP"],
        budget=100.0,
        max_nodes=2,
        cpu_only=None,
    ).to_workload(display_currency="EUR")
    assert workload.num_epochs == 5
    assert workload.model_params_m == pytest.approx(13000)
    assert workload.allowed_providers == ("AWS", "GCP")
    assert workload.budget == 100 and workload.budget_currency == "EUR"
    assert workload.distributed and workload.max_nodes == 2


def test_flags_alone_make_a_workload() -> None:
    workload = WorkloadFlags(params="125M", dataset_gb=1.0, tokens="1B", cpu_only=True).to_workload(
        display_currency="USD"
    )
    assert workload.model_params_m == pytest.approx(125)
    assert workload.tokens == pytest.approx(1e9)
    assert workload.gpu_required is False


def test_missing_required_fields_name_the_flags() -> None:
    with pytest.raises(InvalidInputError, match="--params or --model and --dataset-gb"):
        build_workload(None, {})


@pytest.mark.parametrize(
    ("content", "suffix", "fragment"),
    [
        ("", ".json", "empty"),
        ("{not json", ".json", "malformed JSON at line 1"),
        ("a = ", ".toml", "malformed TOML"),
        ("[1, 2]", ".json", "one object"),
        ('{"model_params_m": -1, "dataset_size_gb": 1}', ".json", "model_params_m"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, suffix: str, fragment: str) -> None:
    path = tmp_path / f"w{suffix}"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=fragment):
        build_workload(str(path), {})


def test_missing_file() -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        read_workload_file("/nonexistent/w.json")


def test_stdin_json_and_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"model_params_m": 7, "dataset_size_gb": 1}'))
    assert build_workload("-", {}).model_params_m == 7
    monkeypatch.setattr("sys.stdin", io.StringIO("model_params_m = 8\ndataset_size_gb = 1\n"))
    assert build_workload("-", {}).model_params_m == 8


def test_nested_workload_key_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{"workload": {"model_params_m": 3, "dataset_size_gb": 1}}')
    assert build_workload(str(path), {}).model_params_m == 3
    # A field beside the table was dropped without a word (the 3 GB below was costed as 1 GB).
    toml = tmp_path / "w.toml"
    toml.write_text("dataset_size_gb = 3\n[workload]\nmodel_params_m = 3\ndataset_size_gb = 1\n")
    with pytest.raises(InvalidInputError, match=r"outside the workload table \(dataset_size_gb\)"):
        build_workload(str(toml), {})


def test_decorator_puts_the_flags_in_place_of_the_workloadflags_parameter() -> None:
    seen: dict[str, object] = {}

    @workload_options
    def command(ctx: typer.Context, workload: WorkloadFlags, top: int = 3) -> None:
        seen["flags"] = workload
        seen["top"] = top

    names = list(inspect.signature(command).parameters)
    assert names[0] == "ctx" and names[-1] == "top"
    assert "workload" not in names and {"workload_file", "params", "spot"} <= set(names)
    app = typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, ["--params", "7B", "--spot", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert seen["top"] == 5
    assert seen["flags"] == WorkloadFlags(params="7B", spot=True)


def test_decorator_needs_exactly_one_workloadflags_parameter() -> None:
    def command(top: int = 3) -> None:
        del top

    with pytest.raises(TypeError, match="WorkloadFlags"):
        workload_options(command)


@pytest.mark.parametrize(
    ("content", "suffix", "field"),
    [
        ('{"params": "7B", "dataset_size_gb": 1, "batch_size": true}', ".json", "batch_size"),
        ('{"model_params_m": true, "dataset_size_gb": 1}', ".json", "model_params_m"),
        ('params = "7B"\ndataset_size_gb = 1\nnum_epochs = true\n', ".toml", "num_epochs"),
        ('params = "7B"\ndataset_size_gb = false\n', ".toml", "dataset_size_gb"),
        ('{"params": "7B", "dataset_size_gb": 1, "budget": false}', ".json", "budget"),
    ],
)
def test_a_boolean_where_a_number_goes_is_refused(
    tmp_path: Path, content: str, suffix: str, field: str
) -> None:
    # pydantic's lax mode reads true as 1: `batch_size = true` became a global batch of 1 and
    # `model_params_m = true` a one-million-parameter model, ranked and stored without a word.
    path = tmp_path / f"w{suffix}"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=rf"{field}: (true|false) is not a number"):
        build_workload(str(path), {})


def test_booleans_still_read_where_the_schema_takes_them(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        'params = "7B"\ndataset_size_gb = 1\nspot_allowed = false\ngradient_checkpointing = true\n'
    )
    workload = build_workload(str(path), {})
    assert workload.spot_allowed is False
    assert workload.gradient_checkpointing is not None


@pytest.mark.parametrize(
    ("content", "suffix", "tokens"),
    [
        ('params = "7B"\ndataset_size_gb = 1\ntokens = "2T"\n', ".toml", 2e12),
        ('{"params": "7B", "dataset_size_gb": 1, "tokens": "500M"}', ".json", 5e8),
        ('{"params": "7B", "dataset_size_gb": 1, "tokens": 3e9}', ".json", 3e9),
    ],
)
def test_tokens_take_a_unit_in_files_as_in_the_flag(
    tmp_path: Path, content: str, suffix: str, tokens: float
) -> None:
    # `--tokens 2T` worked but `tokens = "2T"` in a file was refused ("unable to parse string
    # as a number"), although the module promises SI suffixes for sizes in both.
    path = tmp_path / f"w{suffix}"
    path.write_text(content)
    assert build_workload(str(path), {}).tokens == pytest.approx(tokens)


def test_a_token_count_that_is_not_a_number_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{"params": "7B", "dataset_size_gb": 1, "tokens": "lots"}')
    with pytest.raises(InvalidInputError, match="tokens: 'lots' is not a number"):
        build_workload(str(path), {})


@pytest.mark.parametrize(
    ("content", "suffix"),
    [
        ('{"params": "7B", "dataset_size_gb": 2}', ".json"),
        ('params = "7B"\r\ndataset_size_gb = 2\r\n', ".toml"),
    ],
)
def test_a_byte_order_mark_is_ignored(tmp_path: Path, content: str, suffix: str) -> None:
    # Editors on Windows save UTF-8 with a BOM; JSON files were refused ("Unexpected UTF-8
    # BOM") and TOML ones got "Invalid statement (at line 1, column 1)". RFC 8259 section 8.1
    # lets a parser ignore it.
    path = tmp_path / f"w{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + content.encode())
    assert build_workload(str(path), {}).dataset_size_gb == 2


def test_a_byte_order_mark_on_stdin_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('\ufeff{"params": "7B", "dataset_size_gb": 3}'))
    assert build_workload("-", {}).dataset_size_gb == 3


def test_a_json_key_given_twice_is_refused(tmp_path: Path) -> None:
    # JSON kept the last value silently (dataset_size_gb 1 then 5 read as 5); TOML refuses a
    # key given twice, and so does the JSON reader now, naming the key.
    path = tmp_path / "w.json"
    path.write_text('{"params": "7B", "dataset_size_gb": 1, "dataset_size_gb": 5}')
    with pytest.raises(InvalidInputError, match=r"w\.json: key 'dataset_size_gb' is given twice"):
        build_workload(str(path), {})


def test_cpu_only_with_a_gpu_count_is_refused(tmp_path: Path) -> None:
    # `--cpu-only --gpus 4` ranked CPU machines and dropped the GPU filter without a word.
    with pytest.raises(InvalidInputError, match=r"--cpu-only.*--gpus"):
        WorkloadFlags(params="7B", dataset_gb=1.0, cpu_only=True, gpus_per_node=4).to_workload(
            display_currency="USD"
        )
    path = tmp_path / "w.toml"
    path.write_text('params = "7B"\ndataset_size_gb = 1\ncpu_only = true\nnum_workers = 2\n')
    with pytest.raises(InvalidInputError, match=r"cpu_only.*num_workers"):
        build_workload(str(path), {})
    # The default (one GPU per node) and a GPU count without cpu_only still read.
    assert (
        WorkloadFlags(params="7B", dataset_gb=1.0, cpu_only=True)
        .to_workload(display_currency="USD")
        .cpu_only
    )
    assert (
        WorkloadFlags(params="7B", dataset_gb=1.0, gpus_per_node=4)
        .to_workload(display_currency="USD")
        .num_workers
        == 4
    )
