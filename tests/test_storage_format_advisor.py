"""Format advice on real files: measured ratios against a full conversion, and the rules."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import (
    BYTES_PER_MB,
    DatasetFileInfo,
    FigureEvidence,
    FormatAdvice,
    FormatThresholds,
)
from artenic_opt.storage_optimizer.format_advisor import PYARROW_MISSING, advise_format
from artenic_opt.storage_optimizer.local_scan import read_head, scan_path
from artenic_opt.types import DataFormat

KB = 1024
# Small thresholds so that files of a few MB behave like the 100 MB / 50 MB / 10 MB defaults.
SMALL = FormatThresholds(
    csv_min_bytes=1 * BYTES_PER_MB,
    json_min_bytes=512 * KB,
    keep_below_bytes=64 * KB,
    sample_bytes=512 * KB,
)
CATEGORIES = ["north", "south", "east", "west", "central", "online", "outlet", "airport"]
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")


def _records(count: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {
            "id": i,
            "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "store": f"S{rng.randint(1, 200)}",
            "category": rng.choice(CATEGORIES),
            "price": round(rng.uniform(1, 500), 2),
            "quantity": rng.randint(1, 20),
            "comment": " ".join(rng.choices(WORDS, k=rng.randint(2, 6))),
        }
        for i in range(count)
    ]


def _write_csv(path: Path, records: list[dict[str, object]], delimiter: str = ",") -> Path:
    header = delimiter.join(records[0])
    rows = (delimiter.join(str(value) for value in record.values()) for record in records)
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    records = _records(40_000)
    _write_csv(root / "sales.csv", records)
    (root / "sales.json").write_text(json.dumps(records), encoding="utf-8")
    (root / "sales.jsonl").write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    nested = [
        {"id": r["id"], "store": {"code": r["store"], "region": r["category"]}} for r in records
    ]
    (root / "nested.json").write_text(json.dumps(nested), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(records[:1000]), root / "already.parquet")
    return root


def _full_ratio(path: Path, fmt: DataFormat) -> float:
    """Original bytes / Parquet bytes of converting the WHOLE file (the reference)."""
    if fmt is DataFormat.CSV:
        table = pa_csv.read_csv(path)
    elif fmt is DataFormat.JSONL:
        table = pa_json.read_json(path)
    else:
        table = pa.Table.from_pylist(json.loads(path.read_text(encoding="utf-8")))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return path.stat().st_size / float(sink.getvalue().size)


def _advice_for(path: Path, thresholds: FormatThresholds = SMALL) -> FormatAdvice:
    dataset = scan_path(path).dataset
    return advise_format(dataset.files, thresholds, sample_reader=read_head)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("sales.csv", DataFormat.CSV),
        ("sales.json", DataFormat.JSON),
        ("sales.jsonl", DataFormat.JSONL),
    ],
)
def test_measured_ratio_is_within_25_percent_of_a_full_conversion(
    data_dir: Path, name: str, fmt: DataFormat
) -> None:
    path = data_dir / name
    assert path.stat().st_size > 4 * SMALL.sample_bytes  # the sample really is a fraction
    advice = _advice_for(path)
    (group,) = advice.groups
    assert (group.format, group.action, group.evidence) == (fmt, "convert", FigureEvidence.MEASURED)
    assert group.recommended_format is DataFormat.PARQUET
    assert group.sampled_files == 1
    assert 0 < group.sample_input_bytes <= SMALL.sample_bytes
    assert group.ratio is not None
    full = _full_ratio(path, fmt)
    assert abs(group.ratio - full) / full <= 0.25, (group.ratio, full)
    # Extrapolated by bytes from the sample.
    expected = path.stat().st_size * group.sample_output_bytes / group.sample_input_bytes
    assert group.size_after_bytes == pytest.approx(expected, abs=1)
    assert advice.evidence is FigureEvidence.MEASURED
    assert advice.recommended_format is DataFormat.PARQUET
    assert "measured" in group.reason


def test_tabular_json_names_jsonl_as_the_alternative(data_dir: Path) -> None:
    (group,) = _advice_for(data_dir / "sales.json").groups
    assert group.alternative_format is DataFormat.JSONL
    assert "JSON Lines is the text alternative" in group.reason


def test_nested_json_is_not_called_tabular(data_dir: Path) -> None:
    advice = _advice_for(data_dir / "nested.json")
    (group,) = advice.groups
    assert (group.structure, group.action, group.evidence) == (
        "not_tabular",
        "keep",
        FigureEvidence.NOT_APPLICABLE,
    )
    assert group.recommended_format is DataFormat.JSON
    assert "not tabular, so no Parquet advice" in group.reason
    assert "field 'store' of record 1 holds an object" in group.reason
    assert advice.size_after_bytes == advice.size_bytes


def test_whole_directory_groups(data_dir: Path) -> None:
    advice = _advice_for(data_dir)
    groups = {(g.format, g.structure): g for g in advice.groups}
    assert groups[(DataFormat.PARQUET, "tabular")].reason == "already Parquet"
    assert groups[(DataFormat.JSON, "not_tabular")].action == "keep"
    converted = [g for g in advice.groups if g.action == "convert"]
    assert {g.format for g in converted} == {DataFormat.CSV, DataFormat.JSON, DataFormat.JSONL}
    assert advice.convert_bytes == sum(g.size_bytes for g in converted)
    assert advice.size_after_bytes == sum(g.size_after_bytes for g in advice.groups)
    assert advice.current_format is DataFormat.JSON  # the largest format by bytes today
    assert advice.recommended_format is DataFormat.JSON  # nested JSON stays and dominates after


def test_files_are_unchanged_after_measurement(data_dir: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data_dir.iterdir()}
    _advice_for(data_dir)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in data_dir.iterdir()}
    assert after == before
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(p.name for p in before)


def test_small_and_mid_sized_data_is_kept(tmp_path: Path) -> None:
    small = _write_csv(tmp_path / "small.csv", _records(200))
    (group,) = _advice_for(small).groups
    assert group.action == "keep"
    assert group.reason == "the dataset is under 0.1 MB: kept as it is"

    mid = _write_csv(tmp_path / "mid.csv", _records(5_000))
    assert SMALL.keep_below_bytes < mid.stat().st_size <= SMALL.csv_min_bytes
    (group,) = _advice_for(mid).groups
    assert group.action == "keep"
    assert "of csv is not over the 1.0 MB threshold" in group.reason


def test_tsv_and_semicolon_csv_are_measured(tmp_path: Path) -> None:
    records = _records(20_000)
    for name, delimiter in (("data.tsv", "\t"), ("data.csv", ";")):
        path = _write_csv(tmp_path / name, records, delimiter)
        (group,) = _advice_for(path).groups
        assert group.evidence is FigureEvidence.MEASURED, name
        assert group.ratio is not None and group.ratio > 2


def test_small_files_are_measured_whole(tmp_path: Path) -> None:
    # Many small files: each sample is the whole file, and the group passes the threshold.
    for index in range(3):
        _write_csv(tmp_path / f"part-{index}.csv", _records(6_000, seed=index))
    assert all(p.stat().st_size < SMALL.sample_bytes for p in tmp_path.iterdir())
    advice = _advice_for(tmp_path, SMALL.model_copy(update={"max_sample_files": 2}))
    (group,) = advice.groups
    assert (group.files, group.sampled_files, group.evidence) == (3, 2, FigureEvidence.MEASURED)
    measured_bytes = sorted(p.stat().st_size for p in tmp_path.iterdir())[-2:]
    assert group.sample_input_bytes == sum(measured_bytes)


def test_low_measured_gain_is_not_worth_converting(data_dir: Path) -> None:
    picky = SMALL.model_copy(update={"min_ratio": 100.0})
    (group,) = _advice_for(data_dir / "sales.csv", picky).groups
    assert (group.action, group.evidence) == ("keep", FigureEvidence.MEASURED)
    assert group.ratio is not None and group.sampled_files == 1
    assert "under the 100x worth converting" in group.reason


def test_without_pyarrow_ratios_are_estimated(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes "import pyarrow" fail like a missing extra.
    for name in ("pyarrow", "pyarrow.csv", "pyarrow.json", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)
    advice = _advice_for(data_dir / "sales.csv")
    (group,) = advice.groups
    assert (group.evidence, group.ratio, group.ratio_low, group.ratio_high) == (
        FigureEvidence.ESTIMATED,
        4.0,
        3.0,
        5.0,
    )
    assert group.size_after_bytes == round(group.size_bytes / 4)
    assert advice.warnings == (PYARROW_MISSING,)
    assert advice.evidence is FigureEvidence.ESTIMATED
    assert "typically 3-5x smaller, estimated at 4x" in group.reason


def test_platform_files_are_estimated_with_the_documented_ranges() -> None:
    files = [
        DatasetFileInfo(path="train.csv", size_bytes=300 * BYTES_PER_MB),
        DatasetFileInfo(path="extra.json", size_bytes=80 * BYTES_PER_MB),
        DatasetFileInfo(path="small.json", size_bytes=40 * BYTES_PER_MB, tabular=True),
        DatasetFileInfo(path="images.tar", size_bytes=10 * BYTES_PER_MB),
    ]
    advice = advise_format(files)  # default thresholds: 100 MB CSV, 50 MB JSON, 10 MB keep
    groups = {(g.format, g.structure): g for g in advice.groups}
    csv_group = groups[(DataFormat.CSV, "tabular")]
    assert (csv_group.ratio, csv_group.size_after_bytes) == (4.0, 75 * BYTES_PER_MB)
    json_group = groups[(DataFormat.JSON, "unknown")]
    assert (json_group.action, json_group.ratio, json_group.ratio_low, json_group.ratio_high) == (
        "convert",
        3.0,
        2.0,
        4.0,
    )
    # 40 MB of tabular JSON is under the 50 MB threshold.
    assert groups[(DataFormat.JSON, "tabular")].action == "keep"
    assert groups[(DataFormat.OTHER, "not_tabular")].reason.startswith("not a tabular text format")
    assert advice.warnings == (
        "1 json file(s) were not inspected (not on this machine): the advice assumes records "
        "with flat fields",
    )
    assert advice.size_after_bytes == round(
        75 * BYTES_PER_MB + 80 * BYTES_PER_MB / 3 + 40 * BYTES_PER_MB + 10 * BYTES_PER_MB
    )


def test_sample_failures_fall_back_to_estimates(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,x\n1,2,3\n2,y\n")  # pyarrow refuses the extra field
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"a,b\n" + "é,1\n".encode("latin-1") * 10)
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n")
    jsonl_empty = tmp_path / "empty.jsonl"
    jsonl_empty.write_text("\n\n")
    json_bad = tmp_path / "bad.json"
    json_bad.write_text('[{"a": 1}, {"a": nope}]')
    json_empty = tmp_path / "empty.json"
    json_empty.write_text("[]")
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([{"a": 1}, {"a": "text"}]))

    def declared(path: Path, fmt: DataFormat) -> DatasetFileInfo:
        # As if the scan had found them tabular, and big enough to be worth converting.
        return DatasetFileInfo(
            path=path.name,
            size_bytes=10 * BYTES_PER_MB,
            format=fmt,
            tabular=True,
            local_path=str(path),
        )

    cases = [
        (ragged, DataFormat.CSV, "sample could not be converted"),
        (latin, DataFormat.CSV, "not UTF-8 text"),
        (header_only, DataFormat.CSV, "no complete row"),
        (jsonl_empty, DataFormat.JSONL, "no complete record"),
        (json_bad, DataFormat.JSON, "not measured"),
        (json_empty, DataFormat.JSON, "no complete record"),
        (mixed, DataFormat.JSON, "sample could not be converted"),
        (tmp_path / "gone.csv", DataFormat.CSV, "gone.csv: not measured"),
    ]
    for path, fmt, message in cases:
        advice = advise_format([declared(path, fmt)], SMALL, sample_reader=read_head)
        (group,) = advice.groups
        assert (group.action, group.evidence) == ("convert", FigureEvidence.ESTIMATED), path
        assert any(message in warning for warning in advice.warnings), (path, advice.warnings)


def test_not_tabular_without_a_note() -> None:
    file = DatasetFileInfo(path="x.jsonl", size_bytes=10 * BYTES_PER_MB, tabular=False)
    (group,) = advise_format([file], SMALL).groups
    assert group.action == "keep"
    assert "(structure not tabular)" in group.reason


def test_reader_errors_are_warnings() -> None:
    def failing_reader(path: str, max_bytes: int) -> bytes:
        raise InvalidInputError(f"{path}: cannot read (Permission denied)")

    file = DatasetFileInfo(path="a.csv", size_bytes=10 * BYTES_PER_MB, local_path="/nowhere/a.csv")
    advice = advise_format([file], SMALL, sample_reader=failing_reader)
    assert advice.groups[0].evidence is FigureEvidence.ESTIMATED
    assert advice.warnings == (
        "a.csv: not measured (/nowhere/a.csv: cannot read (Permission denied))",
    )


def test_empty_dataset_and_threshold_validation() -> None:
    advice = advise_format([])
    assert (advice.current_format, advice.recommended_format, advice.size_bytes) == (
        DataFormat.OTHER,
        DataFormat.OTHER,
        0,
    )
    with pytest.raises(ValidationError, match="keep_below_bytes"):
        FormatThresholds(keep_below_bytes=200 * BYTES_PER_MB)
    with pytest.raises(ValidationError, match="csv_ratio_low"):
        FormatThresholds(csv_ratio_low=6)
    with pytest.raises(ValidationError, match="json_ratio_low"):
        FormatThresholds(json_ratio_low=6)


def test_snappy_compression_is_honoured(data_dir: Path) -> None:
    zstd = _advice_for(data_dir / "sales.csv").groups[0]
    snappy = _advice_for(data_dir / "sales.csv", SMALL.model_copy(update={"compression": "snappy"}))
    assert snappy.compression == "snappy"
    assert snappy.groups[0].ratio is not None and zstd.ratio is not None
    assert snappy.groups[0].ratio < zstd.ratio


def test_advice_without_measurement_does_not_import_pyarrow(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from artenic_opt.schemas import DatasetFileInfo\n"
        "from artenic_opt.storage_optimizer import advise_format\n"
        "advise_format([DatasetFileInfo(path='a.csv', size_bytes=10**9)])\n"
        "print('pyarrow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
