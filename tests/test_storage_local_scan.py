"""Local scan on real files: formats by extension and content, links, loops, bad files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from artenic_opt.errors import ArtenicOptError, InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    AccessOperation,
    DatasetFileInfo,
    DatasetOrigin,
    FileProblemKind,
    LocalScanResult,
)
from artenic_opt.storage_optimizer import local_scan
from artenic_opt.storage_optimizer.local_scan import SNIFF_BYTES, read_head, scan_path
from artenic_opt.types import DataFormat


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), path)
    return path


def _read_without_atime(path: Path) -> bytes:
    # The check itself must not move atimes, or it could not see the scan moving them.
    fd = os.open(path, os.O_RDONLY | os.O_NOATIME)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _snapshot(root: Path) -> dict[str, tuple[str, int, int, int]]:
    """sha256, size, mtime_ns, atime_ns of every regular file (links not followed)."""
    result: dict[str, tuple[str, int, int, int]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        digest = hashlib.sha256(_read_without_atime(path)).hexdigest()
        info = path.stat()
        result[str(path)] = (digest, info.st_size, info.st_mtime_ns, info.st_atime_ns)
    return result


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    _write(root / "sales.csv", "id,amount\n1,2.5\n2,3.5\n")
    _write(root / "table.tsv", "id\tname\n1\tx\n")
    _write(root / "records.json", json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": None}]))
    _write(root / "nested.json", json.dumps([{"a": 1, "address": {"city": "Paris"}}]))
    _write(root / "object.json", json.dumps({"data": [1, 2, 3]}, indent=2))
    _write(root / "events.jsonl", '{"a": 1}\n{"a": 2}\n\n{"a": 3}\n')
    _write(root / "deep.jsonl", '{"a": {"b": 1}}\n{"a": {"b": 2}}\n')
    _parquet(root / "sub" / "part-0.parquet")
    _write(root / "sub" / "notes.txt", "just some text, with a comma\n")
    return root


def _by_path(result: LocalScanResult) -> dict[str, DatasetFileInfo]:
    return {file.path: file for file in result.dataset.files}


def test_scan_detects_formats_and_structure(tree: Path) -> None:
    result = scan_path(tree)
    files = _by_path(result)
    assert sorted(files) == [
        "deep.jsonl",
        "events.jsonl",
        "nested.json",
        "object.json",
        "records.json",
        "sales.csv",
        "sub/notes.txt",
        "sub/part-0.parquet",
        "table.tsv",
    ]
    expect = {
        "sales.csv": (DataFormat.CSV, True, 2),
        "table.tsv": (DataFormat.CSV, True, 1),
        "records.json": (DataFormat.JSON, True, 2),
        "nested.json": (DataFormat.JSON, False, 1),
        "object.json": (DataFormat.JSON, False, None),
        "events.jsonl": (DataFormat.JSONL, True, 3),
        "deep.jsonl": (DataFormat.JSONL, False, 2),
        "sub/part-0.parquet": (DataFormat.PARQUET, True, None),
        "sub/notes.txt": (DataFormat.OTHER, False, None),
    }
    for name, (fmt, tabular, records) in expect.items():
        assert (files[name].format, files[name].tabular, files[name].num_records) == (
            fmt,
            tabular,
            records,
        ), name
    assert files["nested.json"].note == "nested JSON: field 'address' of record 1 holds an object"
    assert files["object.json"].note == "top-level JSON object, not an array of records"
    assert result.problems == ()

    dataset = result.dataset
    assert dataset.origin is DatasetOrigin.LOCAL
    assert dataset.id == f"local:{tree.resolve()}"
    assert dataset.name == "data"
    assert dataset.local_path == str(tree.resolve())
    assert dataset.total_size_bytes == sum(f.stat().st_size for f in tree.rglob("*") if f.is_file())
    assert files["sales.csv"].local_path == str((tree / "sales.csv").resolve())
    assert dataset.created_at == min(file.modified_at for file in dataset.files if file.modified_at)


def test_scan_never_changes_the_files(tree: Path) -> None:
    # Times in the past, atime == mtime: any ordinary read would move the atime (relatime).
    past = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    for path in tree.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))
    before = _snapshot(tree)
    scan_path(tree)
    read_head(str(tree / "sales.csv"), 10)
    after = _snapshot(tree)
    # Contents, sizes and mtimes never change; atimes do not either (opened with O_NOATIME).
    assert after == before


def test_single_file_scan_and_progress(tree: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    result = scan_path(tree / "sales.csv", on_progress=lambda *args: calls.append(args))
    assert [file.path for file in result.dataset.files] == ["sales.csv"]
    assert result.dataset.name == "sales.csv"
    assert result.dataset.format == "csv"
    assert calls == [(1, 1, "sales.csv")]

    calls.clear()
    scan_path(tree, on_progress=lambda *args: calls.append(args))
    assert [done for done, _, _ in calls] == list(range(1, 10))
    assert {total for _, total, _ in calls} == {9}


def test_empty_directory(tmp_path: Path) -> None:
    result = scan_path(tmp_path)
    assert result.dataset.files == ()
    assert result.dataset.total_size_bytes == 0
    assert result.dataset.format == "other"
    assert result.dataset.created_at is None
    assert result.access_events == ()


def _problems(result: LocalScanResult) -> dict[str, tuple[FileProblemKind, str]]:
    return {problem.path: (problem.kind, problem.message) for problem in result.problems}


def test_links_loops_and_special_files_are_reported_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    _write(root / "sub" / "real.csv", "a,b\n1,2\n")
    outside = _write(tmp_path / "elsewhere" / "shared.csv", "a,b\n3,4\n")
    (root / "broken").symlink_to(root / "missing.csv")
    (root / "sub" / "up").symlink_to(root)  # directory link back to an ancestor
    (root / "self").symlink_to(root / "self")  # ELOOP
    (root / "alias").symlink_to(root / "sub")  # directory link inside the tree
    (root / "out").symlink_to(tmp_path / "elsewhere")  # directory link outside the tree
    (root / "linked.csv").symlink_to(outside)  # file link outside: counted
    (root / "again.csv").symlink_to(root / "sub" / "real.csv")  # second name of a file
    os.link(root / "sub" / "real.csv", root / "hard.csv")
    os.mkfifo(root / "pipe")

    result = scan_path(root)
    files = _by_path(result)
    assert sorted(files) == ["hard.csv", "linked.csv"]  # hard.csv sorts before sub/real.csv
    assert files["linked.csv"].local_path == str(root.resolve() / "linked.csv")
    assert files["linked.csv"].size_bytes == outside.stat().st_size
    problems = _problems(result)
    assert problems["broken"][0] is FileProblemKind.BROKEN_SYMLINK
    assert problems["sub/up"][0] is FileProblemKind.SYMLINK_LOOP
    assert problems["self"][0] is FileProblemKind.SYMLINK_LOOP
    assert problems["alias"][0] is FileProblemKind.DUPLICATE
    assert problems["out"][0] is FileProblemKind.OUTSIDE_TREE
    assert problems["again.csv"][0] is FileProblemKind.DUPLICATE
    assert problems["sub/real.csv"] == (
        FileProblemKind.DUPLICATE,
        "same file as hard.csv; counted once",
    )
    assert problems["pipe"][0] is FileProblemKind.NOT_REGULAR
    # Every real file is counted exactly once.
    assert result.dataset.total_size_bytes == 2 * len("a,b\n1,2\n")


def test_link_to_a_special_file_is_reported(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to-pipe").symlink_to(tmp_path / "pipe")
    problems = _problems(scan_path(tmp_path))
    assert problems["to-pipe"][0] is FileProblemKind.NOT_REGULAR


def test_missing_and_unusable_roots_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file or directory"):
        scan_path(tmp_path / "nope")
    (tmp_path / "dangling").symlink_to(tmp_path / "nope")
    with pytest.raises(NotFoundError, match="broken symbolic link"):
        scan_path(tmp_path / "dangling")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(InvalidInputError, match="symbolic link loop"):
        scan_path(tmp_path / "loop")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InvalidInputError, match="not a regular file or directory"):
        scan_path(tmp_path / "fifo")


def test_root_stat_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_stat = os.stat

    def failing_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if str(path) == str(tmp_path):
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", failing_stat)
    with pytest.raises(InvalidInputError, match="Permission denied"):
        scan_path(tmp_path)


def test_unreadable_file_and_directory_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, for whom chmod 000 changes nothing: simulate the refusal instead.
    _write(tmp_path / "ok.csv", "a\n1\n")
    _write(tmp_path / "secret.csv", "a\n1\n")
    _write(tmp_path / "locked" / "inner.csv", "a\n1\n")
    real_open = local_scan._open_read_only
    real_scandir = os.scandir

    def refusing_open(path: str) -> int:
        if path.endswith("secret.csv"):
            raise PermissionError(13, "Permission denied")
        return real_open(path)

    def refusing_scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(local_scan, "_open_read_only", refusing_open)
    monkeypatch.setattr(os, "scandir", refusing_scandir)
    result = scan_path(tmp_path)
    assert [file.path for file in result.dataset.files] == ["ok.csv"]
    problems = _problems(result)
    assert problems["secret.csv"] == (FileProblemKind.UNREADABLE, "cannot read (Permission denied)")
    assert problems["locked"][0] is FileProblemKind.UNREADABLE
    with pytest.raises(ArtenicOptError, match=r"secret\.csv: cannot read"):
        read_head(str(tmp_path / "secret.csv"), 10)


def test_stat_and_readlink_failures_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "a.csv", "a\n1\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "a.csv")
    (tmp_path / "weird").symlink_to(tmp_path / "a.csv")
    real_stat = os.stat
    real_readlink = os.readlink

    def failing_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if str(path).endswith("link.csv"):
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    def failing_readlink(path: str) -> str:
        if path.endswith("weird"):
            raise OSError(5, "Input/output error")
        return real_readlink(path)

    monkeypatch.setattr(os, "stat", failing_stat)
    monkeypatch.setattr(os, "readlink", failing_readlink)
    problems = _problems(scan_path(tmp_path))
    assert problems["link.csv"] == (
        FileProblemKind.UNREADABLE,
        "cannot follow link (Permission denied)",
    )
    assert problems["weird"] == (
        FileProblemKind.UNREADABLE,
        "cannot read link (Input/output error)",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_chmod_000_file_is_reported(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    secret = _write(tmp_path / "secret.csv", "a\n1\n")
    secret.chmod(0)
    try:
        problems = _problems(scan_path(tmp_path))
    finally:
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert problems["secret.csv"][0] is FileProblemKind.UNREADABLE


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("ragged.csv", "a,b\n1,2\n3,4,5\n", DataFormat.CSV, "line 3: 3 fields, the header has 2"),
        ("quote.csv", 'a,b\n1,"open\n', DataFormat.CSV, "line 2: bad quoting"),
        ("binary.csv", b"a,b\n\x00\x01\x02", DataFormat.CSV, "binary content, not text"),
        ("latin.csv", "a,b\ncafé,1\n".encode("latin-1"), DataFormat.CSV, "not UTF-8 text"),
        ("broken.json", '[{"a": 1},\n {"a": }]', DataFormat.JSON, "line 2: Expecting value"),
        ("broken-object.json", '{"a":\n oops}', DataFormat.JSON, "line 2: Expecting value"),
        ("text.json", "hello world", DataFormat.JSON, "not JSON (starts with 'hello worl')"),
        ("bad.jsonl", '{"a": 1}\n{"a": \n', DataFormat.JSONL, "line 2: Expecting value"),
        ("fake.parquet", "a,b\n1,2\n", DataFormat.PARQUET, "no PAR1 magic"),
        ("cut.parquet", b"PAR1" + b"\x00" * 20, DataFormat.PARQUET, "truncated Parquet"),
    ],
)
def test_malformed_files_are_reported_and_kept_as_not_tabular(
    tmp_path: Path, name: str, content: str | bytes, fmt: DataFormat, message: str
) -> None:
    _write(tmp_path / name, content)
    result = scan_path(tmp_path)
    (file,) = result.dataset.files
    assert (file.format, file.tabular) == (fmt, False)
    (problem,) = result.problems
    assert problem.kind is FileProblemKind.MALFORMED
    assert problem.path == name
    assert message in problem.message
    assert file.note is not None and message in file.note


@pytest.mark.parametrize(
    ("name", "content", "fmt", "tabular", "mismatch"),
    [
        ("lines.json", '{"a": 1}\n{"a": 2}\n', DataFormat.JSONL, True, True),
        ("array.csv", '[{"a": 1}]', DataFormat.JSON, True, True),
        ("data.bin", '[{"a": 1}, {"a": 2}]', DataFormat.JSON, True, False),
        ("stream", '{"a": 1}\n{"a": 2}\n', DataFormat.JSONL, True, False),
        ("real.csv.parquet.txt", b"PAR1", DataFormat.OTHER, False, False),
        ("one.jsonl", '{"a": 1}', DataFormat.JSONL, True, False),
        ("one.json", '[{"a": 1}]', DataFormat.JSON, True, False),
        ("garbage", "[not json at all", DataFormat.OTHER, False, False),
        ("brace.csv", "{not json\n", DataFormat.CSV, True, False),
        ("lines-bad", '{"a": 1}\n{"a": \n', DataFormat.OTHER, False, False),
        ("latin.txt", "[é".encode("latin-1"), DataFormat.OTHER, False, False),
        ("nul.bin", b"\x00\x01", DataFormat.OTHER, False, False),
        ("empty.csv", "", DataFormat.CSV, False, False),
        ("blank.json", "  \n", DataFormat.JSON, False, False),
    ],
)
def test_content_sniffing(
    tmp_path: Path, name: str, content: str | bytes, fmt: DataFormat, tabular: bool, mismatch: bool
) -> None:
    _write(tmp_path / name, content)
    result = scan_path(tmp_path)
    (file,) = result.dataset.files
    assert (file.format, file.tabular) == (fmt, tabular)
    kinds = [problem.kind for problem in result.problems]
    assert kinds == ([FileProblemKind.FORMAT_MISMATCH] if mismatch else [])


def test_parquet_content_wins_over_a_csv_extension(tmp_path: Path) -> None:
    _parquet(tmp_path / "mislabelled.csv")
    result = scan_path(tmp_path)
    (file,) = result.dataset.files
    assert file.format is DataFormat.PARQUET
    assert result.problems[0].message == "extension says csv, content is parquet"


def test_large_files_are_judged_on_their_head(tmp_path: Path) -> None:
    rows = "".join(f'{i},"multi\nline {i}"\n' for i in range(60_000))
    big_csv = _write(tmp_path / "big.csv", "id,text\n" + rows)
    records = [{"id": i, "name": f"n{i}"} for i in range(60_000)]
    big_json = _write(tmp_path / "big.json", json.dumps(records))
    big_jsonl = _write(tmp_path / "big.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    big_object = _write(tmp_path / "big-object.json", json.dumps({"records": records}))
    _parquet(tmp_path / "big.parquet")
    for path in (big_csv, big_json, big_jsonl, big_object):
        assert path.stat().st_size > SNIFF_BYTES
    # A bad row beyond the head is not seen (documented): only the head is validated.
    with big_csv.open("a") as handle:
        handle.write("1,2,3\n")
    result = scan_path(tmp_path)
    files = _by_path(result)
    assert result.problems == ()
    assert (files["big.csv"].tabular, files["big.csv"].num_records) == (True, None)
    assert (files["big.json"].tabular, files["big.json"].num_records) == (True, None)
    assert (files["big.jsonl"].tabular, files["big.jsonl"].num_records) == (True, None)
    assert files["big-object.json"].tabular is False


def test_huge_single_row_csv_is_reported(tmp_path: Path) -> None:
    _write(tmp_path / "wide.csv", "a" * (SNIFF_BYTES + 10))
    (problem,) = scan_path(tmp_path).problems
    assert problem.kind is FileProblemKind.MALFORMED
    assert "no complete row" in problem.message


def test_file_times_become_weak_events(tmp_path: Path) -> None:
    day = datetime(2026, 3, 10, tzinfo=UTC).timestamp()
    read_twice = [_write(tmp_path / f"r{i}.csv", "a\n1\n") for i in range(2)]
    never_read = _write(tmp_path / "w.csv", "a\n1\n")
    # Two files read on the same day after being written on another: one read, one write event.
    for offset, path in enumerate(read_twice):
        os.utime(path, (day + 3600 * (offset + 1), day - 86_400 * 5))
    # Written later and not read since (atime == mtime): a write event only.
    os.utime(never_read, (day - 86_400, day - 86_400))

    result = scan_path(tmp_path)
    events = result.access_events
    assert all(event.weak_evidence for event in events)
    assert all(event.dataset_id == result.dataset.id for event in events)
    summary = [(event.operation, event.timestamp, event.source) for event in events]
    assert summary == [
        (AccessOperation.WRITE, datetime.fromtimestamp(day - 86_400 * 5, UTC), "file_mtime"),
        (AccessOperation.WRITE, datetime.fromtimestamp(day - 86_400, UTC), "file_mtime"),
        (AccessOperation.READ, datetime.fromtimestamp(day + 7200, UTC), "file_atime"),
    ]


def test_noatime_refusal_falls_back_to_a_plain_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # O_NOATIME is refused (EPERM) on files the user does not own; the read must still work.
    path = _write(tmp_path / "a.csv", "a\n1\n")
    real_open = os.open

    def strict_open(file: str, flags: int, *args: object) -> int:
        if flags & os.O_NOATIME:
            raise PermissionError(1, "Operation not permitted")
        return real_open(file, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", strict_open)
    assert read_head(str(path), 100) == b"a\n1\n"


def test_read_head_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InvalidInputError, match="pipe: cannot read \\(not a regular file\\)"):
        read_head(str(tmp_path / "pipe"), 100)


def test_entry_vanishing_during_the_walk_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class VanishedEntry:
        name = "gone.csv"
        path = str(tmp_path / "gone.csv")

        def is_symlink(self) -> bool:
            return False

        def is_dir(self, *, follow_symlinks: bool = True) -> bool:
            return False

        def is_file(self, *, follow_symlinks: bool = True) -> bool:
            return True

        def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
            raise FileNotFoundError(2, "No such file or directory")

    class Listing:
        def __enter__(self) -> list[VanishedEntry]:
            return [VanishedEntry()]

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(os, "scandir", lambda path: Listing())
    (problem,) = scan_path(tmp_path).problems
    assert (problem.path, problem.kind) == ("gone.csv", FileProblemKind.UNREADABLE)
    assert problem.message == "cannot stat (No such file or directory)"


def test_file_times_out_of_range_are_reported_and_left_out(tmp_path: Path) -> None:
    """tmpfs keeps 64-bit file times; one the state cannot store is dropped, the other kept."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):  # pragma: no cover - Linux CI has it
        pytest.skip("no writable tmpfs")
    root = shm / f"artenic-scan-{os.getpid()}-{tmp_path.name}"
    root.mkdir()
    try:
        good = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
        bad_atime, bad_mtime = root / "a.csv", root / "m.csv"
        for path in (bad_atime, bad_mtime):
            path.write_text("a\n1\n")
        os.utime(bad_atime, (1e12, good))  # atime in year 33658
        os.utime(bad_mtime, (good + 86400, -6e10))  # mtime in year 68
        if os.stat(bad_atime).st_atime != 1e12:  # pragma: no cover - clamped
            pytest.skip("this tmpfs clamps file times")
        result = scan_path(root)
    finally:
        for child in root.iterdir():
            child.unlink()
        root.rmdir()
    files = {f.path: f for f in result.dataset.files}
    assert files["a.csv"].accessed_at is None
    assert files["a.csv"].modified_at == datetime(2026, 1, 5, 12, tzinfo=UTC)
    assert files["m.csv"].modified_at is None
    assert files["m.csv"].accessed_at == datetime(2026, 1, 6, 12, tzinfo=UTC)
    assert sorted(p.path for p in result.problems) == ["a.csv", "m.csv"]
    assert all("file time out of range" in p.message for p in result.problems)
    assert [(e.operation.value, e.timestamp.day) for e in result.access_events] == [
        ("write", 5),
        ("read", 6),
    ]
    assert result.dataset.created_at == datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-16", "UTF-16"), ("utf-16-le", None), ("utf-32", "UTF-32")],
)
def test_utf16_and_utf32_text_is_not_called_binary(
    tmp_path: Path, codec: str, name: str | None
) -> None:
    """A UTF-16 CSV (Excel's "Unicode text") was reported as "binary content, not text": its
    NUL bytes looked binary. With a byte-order mark it is named for what it is."""
    path = tmp_path / "t.csv"
    path.write_bytes("a,b\n1,2\n".encode(codec))
    result = scan_path(path)
    (problem,) = result.problems
    assert problem.kind is FileProblemKind.MALFORMED
    if name is None:  # no byte-order mark: nothing says which encoding it is
        assert problem.message == "binary content, not text"
    else:
        assert problem.message == f"{name} text; only UTF-8 is read (save it as UTF-8)"
    assert result.dataset.files[0].tabular is False
