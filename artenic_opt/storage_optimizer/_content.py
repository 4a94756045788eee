"""Pure helpers that read the *content* of a file head: row boundaries, JSON records, structure.

Nothing here touches the disk: ``local_scan`` reads bytes and passes them in, and the format
advisor uses the same helpers to cut conversion samples, so the scanner and the advisor always
agree on what a row and a record are.

Decisions:

* A CSV row ends at a newline that is outside quotes. With RFC 4180 quoting (a quote inside a
  field is written twice) that is a newline preceded by an even number of ``"`` characters, so the
  boundary is found with byte counts instead of a character-by-character parser.
* A truncated head is not malformed: the incomplete tail (last line, last record) is dropped and
  only what is complete is judged.
* "Tabular" JSON means records that are objects whose values are all scalars (string, number,
  boolean, null). Anything holding an object or a list is nested, and the note says which field.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Sequence
from typing import Any

UTF8_BOM = b"\xef\xbb\xbf"
PARQUET_MAGIC = b"PAR1"
CSV_DELIMITERS = (",", ";", "\t", "|")
_SCALARS = (str, int, float, bool, type(None))


class MalformedContentError(ValueError):
    """The content breaks its format at a known place; ``line`` is 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line

    def describe(self) -> str:
        return f"line {self.line}: {self}" if self.line is not None else str(self)


def strip_bom(data: bytes) -> bytes:
    return data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data


def decode_prefix(data: bytes, *, complete: bool) -> str:
    """Decode UTF-8; a multi-byte character cut by a truncated head is dropped, not an error."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    return decoder.decode(data, final=complete)


def csv_row_boundary(data: bytes) -> int:
    """Length of the longest prefix of ``data`` that ends at a CSV row boundary (0 if none)."""
    total_quotes = data.count(b'"')
    quotes_after = 0
    end = len(data)
    while True:
        newline = data.rfind(b"\n", 0, end)
        if newline < 0:
            return 0
        quotes_after += data.count(b'"', newline, end)
        if (total_quotes - quotes_after) % 2 == 0:
            return newline + 1
        end = newline


def jsonl_boundary(data: bytes) -> int:
    """Length of the prefix that ends with a complete line (0 if there is none)."""
    return data.rfind(b"\n") + 1


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields.

    Candidates are tried in order ``, ; TAB |``; the one giving most fields wins; ``,`` when no
    candidate is consistent (a one-column file).
    """
    lines = text.splitlines(keepends=True)[:20]
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]
    best, best_fields = ",", 1
    for candidate in CSV_DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=candidate) if row}
        except csv.Error:
            continue
        if len(counts) == 1:
            fields = counts.pop()
            if fields > best_fields:
                best, best_fields = candidate, fields
    return best


def check_csv(text: str, delimiter: str) -> int:
    """Validate CSV text whose end is a row boundary; return the number of data rows.

    Raises ``MalformedContentError`` naming the first line whose field count differs from the
    header's, or a quoting error.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header_fields: int | None = None
    rows = 0
    try:
        for row in reader:
            if not row:
                continue
            if header_fields is None:
                header_fields = len(row)
                continue
            if len(row) != header_fields:
                raise MalformedContentError(
                    f"{len(row)} fields, the header has {header_fields}", line=reader.line_num
                )
            rows += 1
    except csv.Error as exc:
        raise MalformedContentError(f"bad quoting ({exc})", line=reader.line_num) from None
    return rows


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _is_truncation(exc: json.JSONDecodeError, text: str) -> bool:
    # In a cut head, a record fails either at the very end of the text or as a string that never
    # closes; anywhere else the content itself is broken.
    return exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")


def parse_json_array_prefix(text: str, *, complete: bool) -> tuple[list[Any], int]:
    """Parse the records of a JSON array held (maybe truncated) in ``text``.

    Returns the complete records and the number of characters they span (from the opening
    bracket to the end of the last complete record, or the closing bracket). Raises
    ``MalformedContentError`` when the content is not a well-formed array.
    """
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise MalformedContentError("not a JSON array", line=_line_of(text, pos))
    pos += 1
    records: list[Any] = []
    consumed = pos
    pos = _skip_ws(text, pos)
    if pos < len(text) and text[pos] == "]":
        consumed = pos + 1
        _expect_end(text, consumed)
        return records, consumed
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            if complete:
                raise MalformedContentError("unexpected end of the array", line=_line_of(text, pos))
            return records, consumed
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if not complete and _is_truncation(exc, text):
                return records, consumed
            raise MalformedContentError(exc.msg, line=exc.lineno) from None
        records.append(value)
        consumed = end
        pos = _skip_ws(text, end)
        if pos >= len(text):
            if complete:
                raise MalformedContentError("unexpected end of the array", line=_line_of(text, pos))
            return records, consumed
        if text[pos] == ",":
            pos += 1
        elif text[pos] == "]":
            consumed = pos + 1
            _expect_end(text, consumed)
            return records, consumed
        else:
            raise MalformedContentError(
                "expected ',' or ']' after a record", line=_line_of(text, pos)
            )


def _expect_end(text: str, pos: int) -> None:
    rest = _skip_ws(text, pos)
    if rest < len(text):
        raise MalformedContentError("extra data after the JSON array", line=_line_of(text, rest))


def parse_jsonl(text: str, *, complete: bool) -> list[Any]:
    """Parse JSON Lines; the last line of a truncated head is dropped. Blank lines are allowed."""
    lines = text.splitlines(keepends=True)
    if not complete and lines and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]
    records: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise MalformedContentError(exc.msg, line=number) from None
    return records


def record_structure(records: Sequence[Any]) -> tuple[bool, str | None]:
    """(tabular, note): tabular when every record is an object of scalar values."""
    if not records:
        return False, "no records"
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            kind = _json_kind(record)
            return False, f"record {index} is {kind}, not an object"
        for key, value in record.items():
            if not isinstance(value, _SCALARS):
                return (
                    False,
                    f"nested JSON: field '{key}' of record {index} holds {_json_kind(value)}",
                )
    return True, None


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a scalar value"
