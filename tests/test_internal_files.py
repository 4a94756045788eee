"""The shared file helpers: one-line errors of the caller's class, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artenic_opt._internal.files import atomic_write_text, read_text_file
from artenic_opt.errors import InvalidInputError, ModelFileError


def test_read_text_file_errors_name_the_path_and_what(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"nope\.txt: offerings file not found"):
        read_text_file(tmp_path / "nope.txt", what="offerings file")
    with pytest.raises(ModelFileError, match="model file is a directory"):
        read_text_file(tmp_path, what="model file", error=ModelFileError)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInputError, match="is not text"):
        read_text_file(binary, what="replay file")
    big = tmp_path / "big.txt"
    big.write_text("x" * 11)
    with pytest.raises(InvalidInputError, match=r"too large \(11 bytes\)"):
        read_text_file(big, what="file", max_bytes=10)
    assert read_text_file(big, what="file", max_bytes=11) == "x" * 11
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n")
    assert read_text_file(bom, what="file", encoding="utf-8-sig") == "a,b\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_read_text_file_unreadable(tmp_path: Path) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text("x")
    locked.chmod(0)
    with pytest.raises(InvalidInputError, match=r"cannot read file \(Permission denied\)"):
        read_text_file(locked, what="file")


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(FileNotFoundError):
        atomic_write_text(target, "a")
    atomic_write_text(target, "first\r\n", make_parents=True)
    atomic_write_text(target, "second\n")
    assert target.read_bytes() == b"second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    target = tmp_path / "w" / "out.txt"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "\udcff")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_read_package_data_reads_the_shipped_file() -> None:
    from artenic_opt._internal.files import read_package_data

    text = read_package_data("artenic_opt.catalog", "offerings.csv")
    shipped = Path(__file__).parents[1] / "artenic_opt" / "catalog" / "data" / "offerings.csv"
    assert text == shipped.read_text(encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        read_package_data("artenic_opt.estimate", "no-such-file.csv")


def test_read_text_file_stops_at_its_limit_where_the_size_says_nothing(tmp_path: Path) -> None:
    # A device reports size 0 and never ends; the read is bounded all the same.
    with pytest.raises(InvalidInputError, match=r"/dev/zero: replay file is too large \(more than"):
        read_text_file(Path("/dev/zero"), what="replay file", max_bytes=1024)
    fifo = tmp_path / "runs.jsonl"
    os.mkfifo(fifo)
    import threading

    def feed() -> None:
        with fifo.open("wb") as handle:
            handle.write(b"a\r\nb\rc\n")

    writer = threading.Thread(target=feed)
    writer.start()
    assert read_text_file(fifo, what="replay file") == "a\nb\nc\n"  # universal newlines
    writer.join()
