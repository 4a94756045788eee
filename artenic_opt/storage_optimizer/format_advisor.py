"""Format advice: which files to convert to Parquet, and how much smaller they would be.

Rules (``FormatThresholds``, all configurable): CSV over 100 MB -> Parquet (typically 3-5x
smaller); tabular JSON or JSON Lines over 50 MB -> Parquet (2-4x; JSON Lines is the alternative
for a JSON array when a reader needs text); a dataset under 10 MB is kept as it is. Thresholds
apply to the bytes of one format (and JSON structure) within a dataset. Parquet and unknown
formats are kept. Nested JSON is never called tabular: Parquet would need a nested schema whose
size gain cannot be promised, so no conversion is advised and the reason names the nested field.

Measurement: when files are on this machine and pyarrow is installed (``artenic-opt[parquet]``),
the ratio is MEASURED: up to ``max_sample_files`` of the group's largest files are sampled (the
first ``sample_bytes`` of each, cut at a row or record boundary), converted to Parquet with
``compression`` (zstd by default: the best size on tabular data at fast decode; snappy, pyarrow's
default, is available), and the ratio (sample bytes / Parquet bytes) is applied to the group's
bytes. The conversion is written to an in-memory buffer, never to disk, and the files are only
read (through the injected ``sample_reader``, ``local_scan.read_head`` in practice, so this module
itself opens nothing). Otherwise the ratio is ESTIMATED as the midpoint of the documented range,
and the range is reported. A measured gain under ``min_ratio`` (1.2x) is not worth converting.

A small sample understates the gain a little (Parquet's footer and dictionaries weigh more in a
small file), so a measured figure errs on the safe side: on the test data a 512 KiB sample read
11-14% under a full conversion of a 2-5 MiB file, a 1 MiB sample 5-11% under; the default 8 MiB
sample is closer still.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from artenic_opt.errors import ArtenicOptError
from artenic_opt.schemas import (
    BYTES_PER_MB,
    DatasetFileInfo,
    FigureEvidence,
    FormatAdvice,
    FormatGroupAdvice,
    FormatThresholds,
)
from artenic_opt.storage_optimizer._content import (
    MalformedContentError,
    csv_row_boundary,
    decode_prefix,
    detect_delimiter,
    jsonl_boundary,
    parse_json_array_prefix,
    strip_bom,
)
from artenic_opt.types import DataFormat

#: Reads up to ``max_bytes`` from the start of the file at ``path``.
SampleReader = Callable[[str, int], bytes]
Structure = Literal["tabular", "not_tabular", "unknown"]

PYARROW_MISSING = (
    "pyarrow is not installed (pip install 'artenic-opt[parquet]'): compression ratios are "
    "estimated from typical ranges"
)
_CONVERTIBLE = (DataFormat.CSV, DataFormat.JSON, DataFormat.JSONL)


@dataclass(frozen=True)
class Arrow:
    """The pyarrow modules the measurement needs, imported on demand."""

    pa: Any
    csv: Any
    json: Any
    parquet: Any


def load_arrow() -> Arrow | None:
    """Import pyarrow lazily; None when the optional extra is not installed."""
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.json
        import pyarrow.parquet
    except ImportError:
        return None
    return Arrow(pa=pyarrow, csv=pyarrow.csv, json=pyarrow.json, parquet=pyarrow.parquet)


@dataclass(frozen=True)
class Measurement:
    ratio: float
    files: int
    input_bytes: int
    output_bytes: int


class _SampleError(ValueError):
    """A sample that cannot be measured; the message says why."""


def _mb(size: int) -> str:
    return f"{size / BYTES_PER_MB:,.1f} MB"


def _structure(file: DatasetFileInfo) -> Structure:
    if file.tabular is None:
        return "unknown"
    return "tabular" if file.tabular else "not_tabular"


def parquet_size(arrow: Arrow, table: Any, compression: str) -> int:
    """Bytes of ``table`` written as Parquet, to memory."""
    sink = arrow.pa.BufferOutputStream()
    arrow.parquet.write_table(table, sink, compression=compression)
    return int(sink.getvalue().size)


def sample_table(
    arrow: Arrow, data: bytes, *, complete: bool, fmt: DataFormat, name: str
) -> tuple[int, Any]:
    """(input bytes, Arrow table) of the complete rows or records at the start of ``data``."""
    if fmt is DataFormat.JSON:
        try:
            text = decode_prefix(strip_bom(data), complete=complete)
            records, consumed = parse_json_array_prefix(text, complete=complete)
        except (UnicodeDecodeError, MalformedContentError) as exc:
            raise _SampleError(str(exc)) from None
        if not records:
            raise _SampleError("no complete record within the sample")
        return len(text[:consumed].encode("utf-8")), arrow.pa.Table.from_pylist(records)
    body = strip_bom(data)
    if fmt is DataFormat.JSONL:
        if not complete:
            body = body[: jsonl_boundary(body)]
        if not body.strip():
            raise _SampleError("no complete record within the sample")
        return len(body), arrow.json.read_json(arrow.pa.BufferReader(body))
    if not complete:
        body = body[: csv_row_boundary(body)]
    try:
        head_text = decode_prefix(body[:65536], complete=len(body) <= 65536)
    except UnicodeDecodeError as exc:
        raise _SampleError(f"not UTF-8 text (byte {exc.start})") from None
    delimiter = "\t" if name.lower().endswith(".tsv") else detect_delimiter(head_text)
    table = arrow.csv.read_csv(
        arrow.pa.BufferReader(body),
        parse_options=arrow.csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
    )
    if table.num_rows == 0:
        raise _SampleError("no complete row within the sample")
    return len(body), table


def measure_ratio(
    files: Sequence[DatasetFileInfo],
    fmt: DataFormat,
    thresholds: FormatThresholds,
    *,
    sample_reader: SampleReader,
    arrow: Arrow,
    warnings: list[str],
) -> Measurement | None:
    """Convert samples of the largest local files; None when no sample could be measured."""
    local = sorted(
        ((file, file.local_path) for file in files if file.local_path is not None),
        key=lambda pair: (-pair[0].size_bytes, pair[0].path),
    )[: thresholds.max_sample_files]
    converter_errors = (arrow.pa.ArrowException, ValueError, TypeError, OverflowError)
    input_total = output_total = measured = 0
    for file, location in local:
        try:
            data = sample_reader(location, thresholds.sample_bytes)
        except ArtenicOptError as exc:
            warnings.append(f"{file.path}: not measured ({exc})")
            continue
        complete = len(data) < thresholds.sample_bytes or len(data) >= file.size_bytes
        try:
            used, table = sample_table(arrow, data, complete=complete, fmt=fmt, name=file.path)
            written = parquet_size(arrow, table, thresholds.compression)
        except _SampleError as exc:
            warnings.append(f"{file.path}: not measured ({exc})")
            continue
        except converter_errors as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            warnings.append(f"{file.path}: sample could not be converted ({first_line})")
            continue
        input_total += used
        output_total += written
        measured += 1
    if not measured or output_total == 0:
        return None
    return Measurement(
        ratio=input_total / output_total,
        files=measured,
        input_bytes=input_total,
        output_bytes=output_total,
    )


def _first_note(files: Sequence[DatasetFileInfo]) -> str:
    for file in files:
        if file.note:
            return f"{file.path}: {file.note}"
    return "structure not tabular"


class _GroupAdvisor:
    def __init__(
        self,
        thresholds: FormatThresholds,
        sample_reader: SampleReader | None,
        dataset_bytes: int,
    ) -> None:
        self.thresholds = thresholds
        self.sample_reader = sample_reader
        self.dataset_bytes = dataset_bytes
        self.warnings: list[str] = []
        self._arrow: Arrow | None = None
        self._arrow_checked = False

    def arrow(self) -> Arrow | None:
        if not self._arrow_checked:
            self._arrow_checked = True
            self._arrow = load_arrow()
            if self._arrow is None:
                self.warnings.append(PYARROW_MISSING)
        return self._arrow

    def advise(
        self, fmt: DataFormat, structure: Structure, files: Sequence[DatasetFileInfo]
    ) -> FormatGroupAdvice:
        size = sum(file.size_bytes for file in files)
        thresholds = self.thresholds

        def keep(
            reason: str,
            evidence: FigureEvidence = FigureEvidence.NOT_APPLICABLE,
            measurement: Measurement | None = None,
        ) -> FormatGroupAdvice:
            return FormatGroupAdvice(
                format=fmt,
                structure=structure,
                files=len(files),
                size_bytes=size,
                action="keep",
                recommended_format=fmt,
                ratio=None if measurement is None else round(measurement.ratio, 4),
                size_after_bytes=size,
                evidence=evidence,
                sampled_files=0 if measurement is None else measurement.files,
                sample_input_bytes=0 if measurement is None else measurement.input_bytes,
                sample_output_bytes=0 if measurement is None else measurement.output_bytes,
                reason=reason,
            )

        if self.dataset_bytes < thresholds.keep_below_bytes:
            return keep(f"the dataset is under {_mb(thresholds.keep_below_bytes)}: kept as it is")
        if fmt is DataFormat.PARQUET:
            return keep("already Parquet")
        if fmt not in _CONVERTIBLE:
            return keep("not a tabular text format (CSV, JSON, JSON Lines): kept as it is")
        if structure == "not_tabular":
            if fmt is DataFormat.CSV:
                return keep(f"not converted: {_first_note(files)}")
            return keep(
                f"not tabular, so no Parquet advice ({_first_note(files)}); Parquet needs flat "
                "records to promise a gain"
            )
        minimum = thresholds.csv_min_bytes if fmt is DataFormat.CSV else thresholds.json_min_bytes
        if size <= minimum:
            return keep(f"{_mb(size)} of {fmt.value} is not over the {_mb(minimum)} threshold")
        if fmt is DataFormat.CSV:
            low, high = thresholds.csv_ratio_low, thresholds.csv_ratio_high
        else:
            low, high = thresholds.json_ratio_low, thresholds.json_ratio_high

        measurement = self._measure(fmt, structure, files)
        if measurement is not None and measurement.ratio < thresholds.min_ratio:
            return keep(
                f"a sample converts only {measurement.ratio:.2f}x smaller as Parquet (under the "
                f"{thresholds.min_ratio:g}x worth converting)",
                FigureEvidence.MEASURED,
                measurement,
            )
        over = f"{_mb(size)} of {fmt.value} is over the {_mb(minimum)} threshold"
        if measurement is not None:
            ratio = measurement.ratio
            ratio_low = ratio_high = ratio
            evidence = FigureEvidence.MEASURED
            how = (
                f"a sample of {measurement.files} file(s) converts {ratio:.1f}x smaller as "
                f"Parquet ({thresholds.compression}), measured"
            )
        else:
            ratio = (low + high) / 2
            ratio_low, ratio_high = low, high
            evidence = FigureEvidence.ESTIMATED
            how = f"Parquet is typically {low:g}-{high:g}x smaller, estimated at {ratio:g}x"
            if structure == "unknown":
                self.warnings.append(
                    f"{len(files)} {fmt.value} file(s) were not inspected (not on this machine): "
                    "the advice assumes records with flat fields"
                )
        alternative = DataFormat.JSONL if fmt is DataFormat.JSON else None
        also = "; JSON Lines is the text alternative (it streams, but saves little)"
        return FormatGroupAdvice(
            format=fmt,
            structure=structure,
            files=len(files),
            size_bytes=size,
            action="convert",
            recommended_format=DataFormat.PARQUET,
            alternative_format=alternative,
            ratio=round(ratio, 4),
            ratio_low=round(ratio_low, 4),
            ratio_high=round(ratio_high, 4),
            size_after_bytes=round(size / ratio),
            evidence=evidence,
            sampled_files=0 if measurement is None else measurement.files,
            sample_input_bytes=0 if measurement is None else measurement.input_bytes,
            sample_output_bytes=0 if measurement is None else measurement.output_bytes,
            reason=f"{over}: {how}{also if alternative else ''}",
        )

    def _measure(
        self, fmt: DataFormat, structure: Structure, files: Sequence[DatasetFileInfo]
    ) -> Measurement | None:
        if self.sample_reader is None or structure != "tabular":
            return None
        if not any(file.local_path for file in files):
            return None
        arrow = self.arrow()
        if arrow is None:
            return None
        return measure_ratio(
            files,
            fmt,
            self.thresholds,
            sample_reader=self.sample_reader,
            arrow=arrow,
            warnings=self.warnings,
        )


def _dominant(sizes: dict[DataFormat, int]) -> DataFormat:
    if not sizes:
        return DataFormat.OTHER
    return max(sizes, key=lambda fmt: (sizes[fmt], fmt.value))


def advise_format(
    files: Sequence[DatasetFileInfo],
    thresholds: FormatThresholds | None = None,
    *,
    sample_reader: SampleReader | None = None,
) -> FormatAdvice:
    """Advice for every format group of a dataset's files.

    Without ``sample_reader`` nothing is read and every figure is estimated.
    """
    thresholds = thresholds or FormatThresholds()
    dataset_bytes = sum(file.size_bytes for file in files)
    groups: dict[tuple[DataFormat, Structure], list[DatasetFileInfo]] = {}
    for file in files:
        groups.setdefault((file.format, _structure(file)), []).append(file)
    advisor = _GroupAdvisor(thresholds, sample_reader, dataset_bytes)
    advice = [
        advisor.advise(fmt, structure, members)
        for (fmt, structure), members in sorted(groups.items(), key=lambda item: item[0])
    ]
    before: dict[DataFormat, int] = {}
    after: dict[DataFormat, int] = {}
    for group in advice:
        before[group.format] = before.get(group.format, 0) + group.size_bytes
        target = group.recommended_format
        after[target] = after.get(target, 0) + group.size_after_bytes
    converted = [group for group in advice if group.action == "convert"]
    if not converted:
        evidence = FigureEvidence.NOT_APPLICABLE
    elif all(group.evidence is FigureEvidence.MEASURED for group in converted):
        evidence = FigureEvidence.MEASURED
    else:
        evidence = FigureEvidence.ESTIMATED
    return FormatAdvice(
        current_format=_dominant(before),
        recommended_format=_dominant(after) if converted else _dominant(before),
        size_bytes=dataset_bytes,
        size_after_bytes=sum(group.size_after_bytes for group in advice),
        convert_bytes=sum(group.size_bytes for group in converted),
        evidence=evidence,
        compression=thresholds.compression,
        groups=tuple(advice),
        warnings=tuple(advisor.warnings),
    )


__all__ = [
    "PYARROW_MISSING",
    "Arrow",
    "Measurement",
    "SampleReader",
    "advise_format",
    "load_arrow",
    "measure_ratio",
    "parquet_size",
    "sample_table",
]
