"""Read an access file (JSON Lines or CSV) into ``AccessEvent`` records.

The platform exposes no access data (platform-api.md §6.1), so ``storage import-access FILE``
brings it from elsewhere: object-store logs, a proxy, a notebook's own records. This module is one
of the storage optimizer's two documented I/O adapters (with ``local_scan``); it only reads.

Format: one event per line with ``timestamp`` (ISO 8601; naive means UTC), ``dataset`` (the
dataset id; ``dataset_id`` is accepted too) and ``operation`` (read, download, write, list,
delete; ``get``/``put``/``upload``/``head`` are mapped). CSV needs a header row naming those
columns (``,``, ``;``, tab or ``|`` delimited); other columns and JSON fields are ignored.

Decisions:

* The file is streamed line by line, so a large log never sits in memory; a line over
  ``MAX_LINE_BYTES`` (1 MiB) is a bad line, read past in pieces, never held whole.
* A bad line (undecodable bytes, broken JSON or quoting, a missing field, a bad time, a time the
  state cannot store (``_times``) or an unknown operation) becomes a ``LineError`` with its
  1-based line number, and the rest is kept. Only a file that cannot be used at all (missing,
  unreadable, a CSV header without the required columns) raises, with a message naming the file.
* One CSV record per physical line: access logs do not hold multi-line fields, and this keeps
  line numbers exact.
* Events from a file are strong evidence (``weak_evidence=False``), unlike file times.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, Final

from pydantic import ValidationError

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    ACCESS_OPERATION_ALIASES,
    AccessEvent,
    AccessOperation,
    AccessParseResult,
    LineError,
    format_validation_error,
)
from artenic_opt.storage_optimizer._content import UTF8_BOM, detect_delimiter
from artenic_opt.storage_optimizer._times import RANGE_TEXT, storable_utc

REQUIRED_COLUMNS = ("timestamp", "dataset", "operation")
#: Byte-order marks of text this reader does not decode (UTF-32 first: its LE mark starts with
#: UTF-16's); every line would otherwise be a confusing "not UTF-8" or header error.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
#: Longest line read: an event is a few hundred bytes (a dataset id is at most 8192 characters).
MAX_LINE_BYTES: Final = 1024 * 1024
_DATASET_KEYS = ("dataset", "dataset_id")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CSV_SUFFIXES = (".csv", ".tsv")
_OPERATIONS = ", ".join(op.value for op in AccessOperation)


#: A parsed row (field name -> value) or the message of why the line is unusable.
_Row = Mapping[str, Any] | str


class _BadLineError(ValueError):
    """A line that cannot become an event; the message is shown next to its line number."""


def parse_access_file(path: str | os.PathLike[str], *, source: str = "import") -> AccessParseResult:
    """Parse a JSONL or CSV access file; bad lines are returned as errors, the rest as events."""
    errors: list[LineError] = []
    events = tuple(iter_access_file(path, errors, source=source))
    return AccessParseResult(events=events, errors=tuple(sorted(errors, key=lambda e: e.line)))


def iter_access_file(
    path: str | os.PathLike[str], errors: list[LineError], *, source: str = "import"
) -> Iterator[AccessEvent]:
    """The events of a JSONL or CSV access file, one at a time; bad lines go to ``errors``.

    Nothing is held but the current line, so a caller storing events in batches imports a log
    of any length in bounded memory.
    """
    shown = os.fspath(path)
    if not os.path.exists(shown):
        raise NotFoundError(f"{shown}: no such file")
    if os.path.isdir(shown):
        raise InvalidInputError(f"{shown}: is a directory, not an access file")
    if not os.path.isfile(shown):
        # A pipe or device would block or never end; access files are regular files.
        raise InvalidInputError(f"{shown}: not a regular file")
    try:
        with open(shown, "rb") as handle:
            yield from _parse_stream(shown, handle, errors, source=source)
    except OSError as exc:
        raise InvalidInputError(f"{shown}: cannot read ({exc.strerror or exc})") from None


def _raw_lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """The file's lines, each read in pieces of at most ``MAX_LINE_BYTES``; ``None`` stands for a
    line longer than that, which is skipped to its end without being held in memory."""
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = handle.readline(MAX_LINE_BYTES)
        yield None


def _decoded_lines(handle: BinaryIO, errors: list[LineError]) -> Iterator[tuple[int, str]]:
    """Non-blank lines as text; an undecodable or overlong line is recorded in ``errors`` and
    skipped."""
    for number, raw in enumerate(_raw_lines(handle), start=1):
        if raw is None:
            errors.append(
                LineError(line=number, message=f"line longer than {MAX_LINE_BYTES} bytes")
            )
            continue
        data = raw[len(UTF8_BOM) :] if number == 1 and raw.startswith(UTF8_BOM) else raw
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(LineError(line=number, message=f"not UTF-8 text (byte {exc.start})"))
            continue
        if text.strip():
            yield number, text


def _parse_stream(
    shown: str, handle: io.BufferedReader, errors: list[LineError], *, source: str
) -> Iterator[AccessEvent]:
    wide = next((name for bom, name in _WIDE_BOMS if handle.peek(4).startswith(bom)), None)
    if wide is not None:
        raise InvalidInputError(f"{shown}: {wide} text; only UTF-8 is read (save it as UTF-8)")
    lines = _decoded_lines(handle, errors)
    first = next(lines, None)
    if first is None:
        return
    if _is_jsonl(shown, first[1]):
        rows = _jsonl_rows(itertools.chain([first], lines))
    else:
        rows = _csv_rows(shown, first, lines)
    for number, row in rows:
        if isinstance(row, str):
            errors.append(LineError(line=number, message=row))
            continue
        try:
            yield _event(row, source=source)
        except _BadLineError as exc:
            errors.append(LineError(line=number, message=str(exc)))


def _is_jsonl(shown: str, first_line: str) -> bool:
    lowered = shown.lower()
    if lowered.endswith(_JSONL_SUFFIXES):
        return True
    if lowered.endswith(_CSV_SUFFIXES):
        return False
    return first_line.lstrip().startswith("{")


def _jsonl_rows(decoded: Iterable[tuple[int, str]]) -> Iterator[tuple[int, _Row]]:
    for number, text in decoded:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON ({exc.msg}, column {exc.colno})"
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object"
            continue
        yield number, {str(key).strip().lower(): item for key, item in value.items()}


def _csv_rows(
    shown: str, first: tuple[int, str], decoded: Iterable[tuple[int, str]]
) -> Iterator[tuple[int, _Row]]:
    header_line, header_text = first
    delimiter = "\t" if shown.lower().endswith(".tsv") else detect_delimiter(header_text)
    header = [name.strip().lower() for name in _split(header_text, delimiter)]
    missing = [
        column
        for column in REQUIRED_COLUMNS
        if column not in header and not (column == "dataset" and "dataset_id" in header)
    ]
    if missing:
        raise InvalidInputError(
            f"{shown}: line {header_line}: missing column(s) {', '.join(missing)} "
            f"(an access CSV needs a header with {', '.join(REQUIRED_COLUMNS)})"
        )
    for number, text in decoded:
        try:
            fields = _split(text, delimiter)
        except csv.Error as exc:
            yield number, f"bad CSV quoting ({exc})"
            continue
        if len(fields) != len(header):
            yield number, f"{len(fields)} fields, the header has {len(header)}"
            continue
        yield number, dict(zip(header, fields, strict=True))


def _split(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True), [])


def _event(row: Mapping[str, Any], *, source: str) -> AccessEvent:
    dataset = next((row[key] for key in _DATASET_KEYS if key in row), None)
    if dataset is None or isinstance(dataset, bool) or not isinstance(dataset, str | int):
        raise _BadLineError("dataset: missing or not a string")
    dataset_id = str(dataset).strip()
    if not dataset_id:
        raise _BadLineError("dataset: empty")
    timestamp = _timestamp(row.get("timestamp"))
    operation = _operation(row.get("operation"))
    try:
        return AccessEvent(
            dataset_id=dataset_id,
            timestamp=timestamp,
            operation=operation,
            source=source,
            weak_evidence=False,
        )
    except ValidationError as exc:
        raise _BadLineError(format_validation_error(exc)) from None


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise _BadLineError("timestamp: missing or not a string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _BadLineError(f"timestamp: {value.strip()!r} is not an ISO-8601 time") from None
    stored = storable_utc(parsed)
    if stored is None:
        raise _BadLineError(f"timestamp: {value.strip()!r} is out of range ({RANGE_TEXT})")
    return stored


def _operation(value: Any) -> AccessOperation:
    if not isinstance(value, str) or not value.strip():
        raise _BadLineError("operation: missing or not a string")
    text = value.strip().lower()
    try:
        return ACCESS_OPERATION_ALIASES.get(text) or AccessOperation(text)
    except ValueError:
        raise _BadLineError(
            f"operation: unknown {value.strip()!r} (expected {_OPERATIONS})"
        ) from None


__all__ = ["MAX_LINE_BYTES", "REQUIRED_COLUMNS", "iter_access_file", "parse_access_file"]
