"""Pure content helpers: CSV row boundaries, JSON record prefixes, structure, delimiters."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings, strategies as st

from artenic_opt.storage_optimizer._content import (
    MalformedContentError,
    check_csv,
    csv_row_boundary,
    decode_prefix,
    detect_delimiter,
    jsonl_boundary,
    parse_json_array_prefix,
    parse_jsonl,
    record_structure,
    strip_bom,
)

FIELD = st.text(alphabet='ab ,"\n;é', max_size=8)


def _encode(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(FIELD, min_size=2, max_size=2), min_size=1, max_size=12),
    cut_fraction=st.floats(min_value=0, max_value=1),
)
def test_row_boundary_cuts_only_between_rows(rows: list[list[str]], cut_fraction: float) -> None:
    data = _encode(rows)
    prefix = data[: int(len(data) * cut_fraction)]
    boundary = csv_row_boundary(prefix)
    kept = list(csv.reader(io.StringIO(prefix[:boundary].decode("utf-8"), newline="")))
    # Whatever was kept is exactly the first rows of the original, never a split row.
    assert kept == rows[: len(kept)]
    if cut_fraction == 1:
        assert boundary == len(data)


def test_row_boundary_ignores_newlines_inside_quotes() -> None:
    data = b'a,b\n1,"line one\nline two"\n2,x'
    assert data[: csv_row_boundary(data)] == b'a,b\n1,"line one\nline two"\n'
    assert csv_row_boundary(b"no newline") == 0
    assert csv_row_boundary(b'a,"open\n') == 0


def test_jsonl_boundary_and_decoding() -> None:
    assert jsonl_boundary(b'{"a":1}\n{"a":') == 8
    assert jsonl_boundary(b'{"a":1}') == 0
    assert strip_bom(b"\xef\xbb\xbfx") == b"x"
    # A multi-byte character cut at the end of a head is dropped, not an error...
    assert decode_prefix("é".encode()[:1], complete=False) == ""
    # ...but in a complete file it is an error.
    with pytest.raises(UnicodeDecodeError):
        decode_prefix("é".encode()[:1], complete=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ("single\nvalue\n", ","),
        ('a,"x;y"\n1,"p;q"\n', ","),
        ("a;b\n1;2\nunfinished;", ";"),
        # A field over the csv module's size limit makes that candidate unusable, not an error.
        ("x" * 200_000 + ";" + "y" * 200_000 + "\n", ","),
    ],
)
def test_detect_delimiter(text: str, expected: str) -> None:
    assert detect_delimiter(text) == expected


def test_check_csv_counts_rows_and_names_the_bad_line() -> None:
    assert check_csv("a,b\n1,2\n\n3,4\n", ",") == 2
    with pytest.raises(MalformedContentError) as bad:
        check_csv("a,b\n1,2\n3,4,5\n", ",")
    assert bad.value.line == 3
    assert bad.value.describe() == "line 3: 3 fields, the header has 2"
    with pytest.raises(MalformedContentError, match="bad quoting"):
        check_csv('a,b\n1,"x"y\n', ",")


def test_json_array_prefix_complete_and_truncated() -> None:
    text = json.dumps([{"a": 1}, {"a": 2}, {"a": 3}])
    records, consumed = parse_json_array_prefix(text, complete=True)
    assert records == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert consumed == len(text)
    truncated = text[: text.index("3") - 2]
    records, consumed = parse_json_array_prefix(truncated, complete=False)
    assert records == [{"a": 1}, {"a": 2}]
    assert truncated[:consumed].endswith("}")
    assert parse_json_array_prefix("[]", complete=True) == ([], 2)
    assert parse_json_array_prefix('[{"a": "unfinished', complete=False) == ([], 1)
    assert parse_json_array_prefix('[{"a": 1},   ', complete=False) == ([{"a": 1}], 9)
    assert parse_json_array_prefix('[{"a": 1}', complete=False) == ([{"a": 1}], 9)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"a": 1}', 1),
        ('[{"a": 1},\n {"a": 2}', 2),
        ('[{"a": 1},\n', 2),
        ('[{"a": 1} {"a": 2}]', 1),
        ('[{"a": 1},\n {"a": oops}]', 2),
        ('[{"a": 1}] trailing', 1),
        ("[] x", 1),
    ],
)
def test_json_array_prefix_reports_malformed_lines(text: str, line: int) -> None:
    with pytest.raises(MalformedContentError) as bad:
        parse_json_array_prefix(text, complete=True)
    assert bad.value.line == line


def test_json_array_prefix_malformed_in_the_middle_of_a_truncated_head() -> None:
    with pytest.raises(MalformedContentError):
        parse_json_array_prefix('[{"a": 1}, {"a": nope}, {"a": 3', complete=False)


def test_parse_jsonl() -> None:
    assert parse_jsonl('{"a":1}\n\n{"a":2}\n{"a"', complete=False) == [{"a": 1}, {"a": 2}]
    with pytest.raises(MalformedContentError) as bad:
        parse_jsonl('{"a":1}\n{"a"\n', complete=True)
    assert bad.value.line == 2


@pytest.mark.parametrize(
    ("records", "tabular", "note"),
    [
        ([{"a": 1, "b": "x", "c": None, "d": True, "e": 1.5}], True, None),
        ([{"a": 1}, {"a": {"b": 2}}], False, "nested JSON: field 'a' of record 2 holds an object"),
        ([{"a": [1, 2]}], False, "nested JSON: field 'a' of record 1 holds a list"),
        ([1, 2], False, "record 1 is a scalar value, not an object"),
        ([[1], [2]], False, "record 1 is a list, not an object"),
        ([], False, "no records"),
    ],
)
def test_record_structure(records: list[object], tabular: bool, note: str | None) -> None:
    assert record_structure(records) == (tabular, note)
