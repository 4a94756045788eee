"""Access files: JSONL and CSV, per-line errors with line numbers, naive times as UTC."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import AccessOperation, LineError
from artenic_opt.storage_optimizer.access_log import parse_access_file

EVENT_TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7))]),
)
DATASET_IDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda text: text.strip() == text and text != "")
OPERATIONS = st.sampled_from(list(AccessOperation))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(EVENT_TIMES, DATASET_IDS, OPERATIONS), min_size=1, max_size=15),
    as_csv=st.booleans(),
)
def test_round_trip(
    tmp_path: Path, rows: list[tuple[datetime, str, AccessOperation]], as_csv: bool
) -> None:
    path = tmp_path / ("log.csv" if as_csv else "log.jsonl")
    if as_csv:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["timestamp", "dataset", "operation"])
        writer.writerows((ts.isoformat(), ds, op.value) for ts, ds, op in rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:
        path.write_text(
            "".join(
                json.dumps({"timestamp": ts.isoformat(), "dataset": ds, "operation": op.value})
                + "\n"
                for ts, ds, op in rows
            ),
            encoding="utf-8",
        )
    result = parse_access_file(path)
    assert result.errors == ()
    assert [(e.timestamp, e.dataset_id, e.operation) for e in result.events] == [
        (ts.astimezone(UTC), ds, op) for ts, ds, op in rows
    ]
    assert all(e.timestamp.tzinfo is UTC and not e.weak_evidence for e in result.events)


def test_csv_bad_lines_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "access.csv"
    path.write_bytes(
        b"\xef\xbb\xbfTimestamp,Dataset,Operation,user\n"
        b"2026-01-01T00:00:00,ds1,READ,bob\n"
        b"\n"
        b"yesterday,ds1,read,x\n"
        b"2026-01-02T00:00:00Z,ds2,GET,y\n"
        b"2026-01-03,ds2,frobnicate,z\n"
        b"2026-01-03,ds2,read\n"
        b'"2026-01-03,ds2,read,x\n'
        b"\xff\xfe,x,y,z\n"
        b"2026-01-04T12:00:00+02:00, ds3 ,upload,q\n"
        b"2026-01-04,,read,q\n"
        b",ds3,read,q\n"
        b"2026-01-04,ds3,,q\n"
    )
    result = parse_access_file(path, source="s3-log")
    assert [(e.dataset_id, e.timestamp, e.operation, e.source) for e in result.events] == [
        ("ds1", datetime(2026, 1, 1, tzinfo=UTC), AccessOperation.READ, "s3-log"),
        ("ds2", datetime(2026, 1, 2, tzinfo=UTC), AccessOperation.READ, "s3-log"),
        ("ds3", datetime(2026, 1, 4, 10, tzinfo=UTC), AccessOperation.WRITE, "s3-log"),
    ]
    assert result.errors == (
        LineError(line=4, message="timestamp: 'yesterday' is not an ISO-8601 time"),
        LineError(
            line=6,
            message="operation: unknown 'frobnicate' (expected read, download, write, list, "
            "delete)",
        ),
        LineError(line=7, message="3 fields, the header has 4"),
        LineError(line=8, message="bad CSV quoting (unexpected end of data)"),
        LineError(line=9, message="not UTF-8 text (byte 0)"),
        LineError(line=11, message="dataset: empty"),
        LineError(line=12, message="timestamp: missing or not a string"),
        LineError(line=13, message="operation: missing or not a string"),
    )


def test_jsonl_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "access.jsonl"
    lines = [
        {"timestamp": "2026-01-01T10:00:00+02:00", "DATASET": "d", "operation": "download"},
        [1, 2],
        {"timestamp": "2026", "dataset": "d", "operation": "read"},
        "{bad",
        {"timestamp": "2026-01-01", "dataset_id": "e", "operation": "head"},
        {"timestamp": "2026-01-01", "dataset": True, "operation": "read"},
        {"timestamp": 1700000000, "dataset": "d", "operation": "read"},
        {"timestamp": "2026-01-01", "dataset": 42, "operation": "put"},
    ]
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    result = parse_access_file(path)
    assert [(e.dataset_id, e.operation) for e in result.events] == [
        ("d", AccessOperation.DOWNLOAD),
        ("e", AccessOperation.LIST),
        ("42", AccessOperation.WRITE),
    ]
    assert result.events[0].timestamp == datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert [(error.line, error.message) for error in result.errors] == [
        (2, "not a JSON object"),
        (3, "timestamp: '2026' is not an ISO-8601 time"),
        (4, "not JSON (Expecting property name enclosed in double quotes, column 2)"),
        (6, "dataset: missing or not a string"),
        (7, "timestamp: missing or not a string"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "count"),
    [
        ("log.tsv", "timestamp\tdataset\toperation\n2026-01-01\td\tread\n", 1),
        ("log.txt", "timestamp;dataset_id;operation\n2026-01-01;d;read\n", 1),
        ("log.txt", '{"timestamp": "2026-01-01", "dataset": "d", "operation": "read"}\n', 1),
        ("log.ndjson", '{"timestamp": "2026-01-01", "dataset": "d", "operation": "list"}\n', 1),
        ("empty.csv", "", 0),
        ("blank.jsonl", "\n\n  \n", 0),
    ],
)
def test_formats_are_detected(tmp_path: Path, name: str, content: str, count: int) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = parse_access_file(path)
    assert (len(result.events), result.errors) == (count, ())


def test_only_undecodable_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"\xff\n")
    assert parse_access_file(path).errors == (LineError(line=1, message="not UTF-8 text (byte 0)"),)


def test_unusable_files_raise(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.csv: no such file"):
        parse_access_file(tmp_path / "nope.csv")
    with pytest.raises(InvalidInputError, match="is a directory"):
        parse_access_file(tmp_path)
    header_only = tmp_path / "log.csv"
    header_only.write_text("when,dataset,what\n2026-01-01,d,read\n")
    with pytest.raises(
        InvalidInputError, match=r"line 1: missing column\(s\) timestamp, operation"
    ):
        parse_access_file(header_only)


def test_read_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.csv"
    path.write_text("timestamp,dataset,operation\n")

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(InvalidInputError, match="cannot read \\(Permission denied\\)"):
        parse_access_file(path)


def test_values_the_schema_refuses_are_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        f"timestamp,dataset,operation\n2026-01-01,{'x' * 9000},read\n2026-01-01,d,read\n"
    )
    result = parse_access_file(path)
    assert len(result.events) == 1
    (error,) = result.errors
    assert error.line == 2
    assert error.message.startswith("dataset_id: String should have at most 8192 characters")


def test_special_files_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        parse_access_file(tmp_path / "pipe.csv")


@pytest.mark.parametrize(
    "stamp",
    [
        "0001-01-01T00:00:00Z",  # stored as "1-01-01..." and unreadable afterwards
        "0001-01-01T00:30:00+01:00",  # overflows when converted to UTC
        "0999-12-31T23:59:59",
        "9999-12-31T23:00:00-02:00",  # overflows the other way
    ],
)
def test_times_the_state_cannot_store_are_line_errors(tmp_path: Path, stamp: str) -> None:
    log = tmp_path / "a.csv"
    log.write_text(f"timestamp,dataset,operation\n{stamp},ds,read\n1000-01-01T00:00:00,ds,read\n")
    result = parse_access_file(log)
    assert [e.timestamp for e in result.events] == [datetime(1000, 1, 1, tzinfo=UTC)]
    assert len(result.errors) == 1
    assert result.errors[0].line == 2
    assert "out of range" in result.errors[0].message


def test_an_endless_line_is_a_line_error_and_is_never_held_whole(tmp_path: Path) -> None:
    """One line of 64 MiB (no access-log line is near that; a dataset id is at most 8192
    characters) was read whole into memory before being refused: a log without line breaks
    could exhaust memory. It is now a line error, read in bounded pieces, and the lines around
    it keep their numbers."""
    good = '{"timestamp": "2026-01-01T00:00:00", "dataset": "ds", "operation": "read"}\n'
    log = tmp_path / "a.jsonl"
    with log.open("w") as handle:
        handle.write(good)
        handle.write('{"dataset": "' + "x" * (64 * 1024 * 1024) + '"}\n')
        handle.write(good.replace("01T", "02T"))
    tracemalloc.start()
    try:
        result = parse_access_file(log)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak
    assert [e.timestamp.day for e in result.events] == [1, 2]
    assert [(e.line, "longer than" in e.message) for e in result.errors] == [(2, True)]


def test_a_long_last_line_without_a_break(tmp_path: Path) -> None:
    log = tmp_path / "a.csv"
    log.write_bytes(b"timestamp,dataset,operation\n" + b"9" * (3 * 1024 * 1024))
    result = parse_access_file(log)
    assert result.events == ()
    assert [e.line for e in result.errors] == [2]


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_a_utf16_log_is_named_for_what_it_is(tmp_path: Path, codec: str) -> None:
    """A UTF-16 access CSV said "line 2: missing column(s) timestamp, dataset, operation"."""
    log = tmp_path / "a.csv"
    log.write_bytes("timestamp,dataset,operation\n2026-01-01,ds,read\n".encode(codec))
    with pytest.raises(InvalidInputError, match=f"{codec.upper()} text; only UTF-8 is read"):
        parse_access_file(log)
