"""Read a local file or directory tree as a dataset: the adapter that lets the pillar see disk.

This module and ``access_log`` are the only places of the storage optimizer that open files
(DESIGN §1 keeps the pillar free of I/O; these are its documented adapters). Everything is
read-only: files are opened with ``O_RDONLY`` (plus ``O_NOATIME`` where the OS allows it, so the
scan does not erase the very access times it reports), nothing is ever written, renamed or
``utime``-d, and file times are taken *before* a file is read.

Decisions:

* Two passes: the tree is listed first (stat only, fast), then each file is sniffed while
  ``on_progress(done, total, path)`` reports progress, so a caller can draw a real progress bar.
* Symbolic links: a link to a file is followed wherever it points, and every real file
  (device, inode) is counted once, so hard links and links to files already seen are reported as
  duplicates. A link to a directory is never followed: inside the tree its target is scanned at
  its real place (a link to an ancestor is reported as a loop), and outside the tree following it
  could pull in anything (scan that directory directly instead). Broken links and ``ELOOP`` links
  are reported. Each problem is one ``FileProblem``; no problem stops the scan.
* Formats come from the extension AND the content (first 1 MiB, plus the last 4 bytes for the
  Parquet footer): ``PAR1`` magic is Parquet; text starting with ``[`` or ``{`` is JSON (JSON
  Lines when each line is a document); ``.csv``/``.tsv`` text is checked as CSV. When extension
  and content disagree the content wins and the mismatch is reported. Unknown extensions are
  recognised as JSON or Parquet by content only; CSV is never guessed from content alone (too
  many text files parse as "CSV"). Files over 1 MiB are validated on that head only.
* Only UTF-8 text is read: a CSV or JSON file in UTF-16 or UTF-32 (a byte-order mark says so)
  is reported as such, not as binary content.
* Malformed CSV or JSON files stay in the dataset (they still cost storage) but are marked not
  tabular, with a note and a ``malformed`` problem naming the line.
* File times become weak access evidence: at most one read event per UTC day on which some file
  was last read after its last write (atime later than mtime) and one write event per UTC day of
  a file's mtime. File times say when a file was last touched, not how often, so rates built on
  them are lower bounds (``weak_evidence=True``). A file time the state cannot store (``_times``;
  tmpfs keeps 64-bit times) is left out and reported; the file itself is still counted.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from artenic_opt.errors import InvalidInputError, NotFoundError
from artenic_opt.schemas import (
    AccessEvent,
    AccessOperation,
    DatasetFileInfo,
    DatasetInfo,
    DatasetOrigin,
    FileProblem,
    FileProblemKind,
    LocalScanResult,
    data_format_from_name,
)
from artenic_opt.storage_optimizer._content import (
    PARQUET_MAGIC,
    MalformedContentError,
    check_csv,
    csv_row_boundary,
    decode_prefix,
    detect_delimiter,
    parse_json_array_prefix,
    parse_jsonl,
    record_structure,
    strip_bom,
)
from artenic_opt.storage_optimizer._times import RANGE_TEXT, storable_from_timestamp
from artenic_opt.types import DataFormat

#: How much of each file is read to recognise and validate its format.
SNIFF_BYTES = 1024 * 1024
#: Read events are inferred only when the atime is this much later than the mtime (clock noise).
_ATIME_AFTER_MTIME_S = 1.0

ProgressCallback = Callable[[int, int, str], None]


def _open_read_only(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:
            # O_NOATIME is refused on files we do not own; reading then may update the atime.
            pass
    return os.open(path, flags)


def _read_head_tail(path: str, max_bytes: int) -> tuple[bytes, bytes, int]:
    """Head (up to ``max_bytes``), last 4 bytes and size of a regular file, read-only."""
    fd = _open_read_only(path)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file")
        head = handle.read(max_bytes)
        if len(head) >= info.st_size:
            return head, head[-4:], info.st_size
        handle.seek(info.st_size - 4)
        return head, handle.read(4), info.st_size


def read_head(path: str, max_bytes: int) -> bytes:
    """Read up to ``max_bytes`` from the start of a regular file, read-only.

    The format advisor's sample reader. Raises ``InvalidInputError`` naming the file when it
    cannot be read.
    """
    try:
        head, _, _ = _read_head_tail(path, max_bytes)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return head


@dataclass(frozen=True)
class _Sniffed:
    format: DataFormat
    tabular: bool | None
    note: str | None = None
    records: int | None = None
    problem: tuple[FileProblemKind, str] | None = None


def _malformed(fmt: DataFormat, message: str) -> _Sniffed:
    return _Sniffed(
        fmt, False, note=f"malformed: {message}", problem=(FileProblemKind.MALFORMED, message)
    )


def _with_mismatch(sniffed: _Sniffed, declared: DataFormat) -> _Sniffed:
    if declared in (DataFormat.OTHER, sniffed.format) or sniffed.problem is not None:
        return sniffed
    message = f"extension says {declared.value}, content is {sniffed.format.value}"
    return _Sniffed(
        sniffed.format,
        sniffed.tabular,
        note=sniffed.note,
        records=sniffed.records,
        problem=(FileProblemKind.FORMAT_MISMATCH, message),
    )


def sniff_content(name: str, head: bytes, tail: bytes, size: int) -> _Sniffed:
    """Recognise the format and structure of a file from its head (pure: bytes in)."""
    declared = data_format_from_name(name)
    complete = len(head) >= size
    if head.startswith(PARQUET_MAGIC) and size >= 12 and tail == PARQUET_MAGIC:
        return _with_mismatch(_Sniffed(DataFormat.PARQUET, True), declared)
    if declared is DataFormat.PARQUET:
        if head.startswith(PARQUET_MAGIC):
            return _malformed(DataFormat.PARQUET, "truncated Parquet file (no closing PAR1)")
        return _malformed(DataFormat.PARQUET, "no PAR1 magic: not a Parquet file")
    body = strip_bom(head)
    if not body.strip():
        return _Sniffed(declared, False, "empty file")
    text_format = declared in (DataFormat.CSV, DataFormat.JSON, DataFormat.JSONL)
    wide = _wide_text(head)
    if wide is not None and text_format:
        return _malformed(declared, f"{wide} text; only UTF-8 is read (save it as UTF-8)")
    if b"\x00" in body[:65536]:
        return _malformed(declared, "binary content, not text") if text_format else _other()
    first = body.lstrip()[:1]
    if first in (b"[", b"{"):
        sniffed = _sniff_json(body, complete=complete, declared=declared)
        if sniffed is not None:
            return _with_mismatch(sniffed, declared)
    if declared is DataFormat.CSV:
        return _sniff_csv(name, body, complete=complete)
    if declared in (DataFormat.JSON, DataFormat.JSONL):
        shown = body.lstrip()[:10].decode("utf-8", errors="replace")
        return _malformed(declared, f"not JSON (starts with {shown!r})")
    return _other()


#: Byte-order marks of the text encodings whose NUL bytes would otherwise look binary
#: (UTF-32 first: its little-endian mark starts with UTF-16's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wide_text(head: bytes) -> str | None:
    """``UTF-16`` or ``UTF-32`` when the head starts with that byte-order mark."""
    return next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)


def _other() -> _Sniffed:
    return _Sniffed(DataFormat.OTHER, False)


def _decode(body: bytes, *, complete: bool, declared: DataFormat) -> str | _Sniffed:
    try:
        return decode_prefix(body, complete=complete)
    except UnicodeDecodeError as exc:
        if declared is DataFormat.OTHER:
            return _other()
        return _malformed(declared, f"not UTF-8 text (byte {exc.start})")


def _complete_lines(text: str, *, complete: bool) -> list[str]:
    lines = text.splitlines(keepends=True)
    if not complete and lines and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]
    return [line for line in lines if line.strip()]


def _is_document(line: str) -> bool:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict | list)


def _sniff_json(body: bytes, *, complete: bool, declared: DataFormat) -> _Sniffed | None:
    """JSON or JSON Lines; None when the content is not JSON and the extension does not claim it."""
    decoded = _decode(body, complete=complete, declared=declared)
    if isinstance(decoded, _Sniffed):
        return decoded
    text = decoded
    claims_json = declared in (DataFormat.JSON, DataFormat.JSONL)
    lines = _complete_lines(text, complete=complete)
    # JSON Lines: the first line is a whole document and more lines follow (or the name says so).
    if lines and _is_document(lines[0]) and (len(lines) > 1 or declared is DataFormat.JSONL):
        try:
            records = parse_jsonl(text, complete=complete)
        except MalformedContentError as exc:
            return _malformed(DataFormat.JSONL, exc.describe()) if claims_json else None
        tabular, note = record_structure(records)
        return _Sniffed(DataFormat.JSONL, tabular, note, records=len(records) if complete else None)
    if text.lstrip().startswith("{"):
        if not complete:
            # A large object cannot be checked from its head; it is not an array of records.
            return _Sniffed(DataFormat.JSON, False, _OBJECT_NOTE)
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"line {exc.lineno}: {exc.msg}"
            return _malformed(DataFormat.JSON, message) if claims_json else None
        return _Sniffed(DataFormat.JSON, False, _OBJECT_NOTE)
    try:
        records, _ = parse_json_array_prefix(text, complete=complete)
    except MalformedContentError as exc:
        return _malformed(DataFormat.JSON, exc.describe()) if claims_json else None
    tabular, note = record_structure(records)
    return _Sniffed(DataFormat.JSON, tabular, note, records=len(records) if complete else None)


_OBJECT_NOTE = "top-level JSON object, not an array of records"


def _sniff_csv(name: str, body: bytes, *, complete: bool) -> _Sniffed:
    if not complete:
        cut = csv_row_boundary(body)
        if cut == 0:
            return _malformed(DataFormat.CSV, f"no complete row in the first {len(body)} bytes")
        body = body[:cut]
    decoded = _decode(body, complete=True, declared=DataFormat.CSV)
    if isinstance(decoded, _Sniffed):
        return decoded
    delimiter = "\t" if name.lower().endswith(".tsv") else detect_delimiter(decoded)
    try:
        rows = check_csv(decoded, delimiter)
    except MalformedContentError as exc:
        return _malformed(DataFormat.CSV, exc.describe())
    return _Sniffed(DataFormat.CSV, True, records=rows if complete else None)


@dataclass(frozen=True)
class _Listed:
    location: str  # where the file was found (a link's own path for a followed link)
    rel_path: str
    info: os.stat_result


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _display(name: str) -> str:
    """``name`` as valid text: bytes that are not UTF-8 (kept by Python as lone surrogates)
    become ``\\xNN`` escapes, so a file named with them is still listed, analysed and stored."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def _text_path(path: str) -> str | None:
    """``path`` if it can be stored as text and opened again, else ``None``."""
    return path if _display(path) == path else None


class _Walker:
    """Lists a tree once, reporting links, loops and special files as problems."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.files: list[_Listed] = []
        self.problems: list[FileProblem] = []
        self._seen_files: dict[tuple[int, int], str] = {}

    def problem(self, rel: str, kind: FileProblemKind, message: str) -> None:
        self.problems.append(FileProblem(path=_display(rel), kind=kind, message=message))

    def add_file(self, path: str, rel: str, info: os.stat_result) -> None:
        key = (info.st_dev, info.st_ino)
        first = self._seen_files.get(key)
        if first is not None:
            self.problem(rel, FileProblemKind.DUPLICATE, f"same file as {first}; counted once")
            return
        self._seen_files[key] = rel
        self.files.append(_Listed(path, _display(rel), info))

    def walk(self) -> None:
        stack: list[tuple[str, str]] = [(self.root, "")]
        # Links are resolved after the walk, so a file is counted at its real place and the
        # link to it is the reported duplicate.
        links: list[tuple[str, str]] = []
        while stack:
            directory, rel_dir = stack.pop()
            try:
                with os.scandir(directory) as iterator:
                    entries = sorted(iterator, key=lambda entry: entry.name)
            except OSError as exc:
                self.problem(
                    rel_dir or ".",
                    FileProblemKind.UNREADABLE,
                    f"cannot list directory ({exc.strerror or exc})",
                )
                continue
            subdirs: list[tuple[str, str]] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    if entry.is_symlink():
                        links.append((entry.path, rel))
                    elif entry.is_dir(follow_symlinks=False):
                        subdirs.append((entry.path, rel))
                    elif entry.is_file(follow_symlinks=False):
                        self.add_file(entry.path, rel, entry.stat(follow_symlinks=False))
                    else:
                        self.problem(
                            rel, FileProblemKind.NOT_REGULAR, "not a regular file (device, pipe?)"
                        )
                except OSError as exc:
                    self.problem(
                        rel, FileProblemKind.UNREADABLE, f"cannot stat ({exc.strerror or exc})"
                    )
            # Reversed so that the stack pops directories in name order (stable output).
            stack.extend(reversed(subdirs))
        for path, rel in links:
            try:
                self._link(path, rel)
            except OSError as exc:
                self.problem(
                    rel, FileProblemKind.UNREADABLE, f"cannot read link ({exc.strerror or exc})"
                )

    def _link(self, path: str, rel: str) -> None:
        target = os.readlink(path)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self.problem(rel, FileProblemKind.BROKEN_SYMLINK, f"broken link to {target}")
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.problem(rel, FileProblemKind.SYMLINK_LOOP, f"link loop ({target})")
            else:
                self.problem(
                    rel, FileProblemKind.UNREADABLE, f"cannot follow link ({exc.strerror or exc})"
                )
            return
        real = os.path.realpath(path)
        if stat.S_ISDIR(info.st_mode):
            parent_real = os.path.realpath(os.path.dirname(path))
            if _inside(parent_real, real):
                self.problem(
                    rel,
                    FileProblemKind.SYMLINK_LOOP,
                    f"link to {target} points back to an enclosing directory; not followed",
                )
            elif _inside(real, self.root):
                where = os.path.relpath(real, self.root)
                self.problem(
                    rel,
                    FileProblemKind.DUPLICATE,
                    f"link to directory {where}, scanned at its real place; not followed",
                )
            else:
                self.problem(
                    rel,
                    FileProblemKind.OUTSIDE_TREE,
                    f"link to directory {real} outside the scanned tree; not followed "
                    "(scan it directly)",
                )
            return
        if stat.S_ISREG(info.st_mode):
            self.add_file(path, rel, info)
            return
        self.problem(rel, FileProblemKind.NOT_REGULAR, f"link to {target}, not a regular file")


def _resolve_root(path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    given = os.fspath(path)
    expanded = os.path.expanduser(given)
    if not os.path.lexists(expanded):
        raise NotFoundError(f"{given}: no such file or directory")
    try:
        info = os.stat(expanded)
    except FileNotFoundError:
        raise NotFoundError(f"{given}: broken symbolic link") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInputError(f"{given}: symbolic link loop") from None
        raise InvalidInputError(f"{given}: cannot read ({exc.strerror or exc})") from None
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise InvalidInputError(f"{given}: not a regular file or directory")
    return os.path.realpath(expanded), info


def scan_path(
    path: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None
) -> LocalScanResult:
    """Scan a local file or directory tree into a dataset, weak access events and problems.

    Raises ``NotFoundError`` when ``path`` does not exist and ``InvalidInputError`` when it is
    neither a file nor a directory; every problem below the root is reported, not raised.
    """
    root, root_info = _resolve_root(path)
    walker = _Walker(root)
    if stat.S_ISDIR(root_info.st_mode):
        walker.walk()
    else:
        walker.add_file(root, os.path.basename(root), root_info)

    files: list[DatasetFileInfo] = []
    total = len(walker.files)
    for done, listed in enumerate(walker.files, start=1):
        scanned = _scan_file(listed, walker)
        if scanned is not None:
            files.append(scanned)
        if on_progress is not None:
            on_progress(done, total, listed.rel_path)

    dataset = _dataset(root, files)
    return LocalScanResult(
        dataset=dataset,
        access_events=_file_time_events(dataset.id, files),
        problems=tuple(walker.problems),
    )


def _scan_file(listed: _Listed, walker: _Walker) -> DatasetFileInfo | None:
    # Times come from the listing, taken before the file is opened.
    info = listed.info
    try:
        head, tail, size = _read_head_tail(listed.location, SNIFF_BYTES)
    except OSError as exc:
        walker.problem(
            listed.rel_path, FileProblemKind.UNREADABLE, f"cannot read ({exc.strerror or exc})"
        )
        return None
    sniffed = sniff_content(listed.rel_path, head, tail, size)
    if sniffed.problem is not None:
        kind, message = sniffed.problem
        walker.problem(listed.rel_path, kind, message)
    modified_at = storable_from_timestamp(info.st_mtime)
    accessed_at = storable_from_timestamp(info.st_atime)
    if modified_at is None or accessed_at is None:
        walker.problem(
            listed.rel_path,
            FileProblemKind.MALFORMED,
            f"file time out of range ({RANGE_TEXT}); not used as access evidence",
        )
    return DatasetFileInfo(
        path=listed.rel_path,
        size_bytes=size,
        num_records=sniffed.records,
        modified_at=modified_at,
        accessed_at=accessed_at,
        format=sniffed.format,
        tabular=sniffed.tabular,
        note=sniffed.note,
        local_path=_text_path(listed.location),
    )


def _dominant_format(files: list[DatasetFileInfo]) -> DataFormat:
    totals: dict[DataFormat, tuple[int, int]] = {}
    for file in files:
        size, count = totals.get(file.format, (0, 0))
        totals[file.format] = (size + file.size_bytes, count + 1)
    if not totals:
        return DataFormat.OTHER
    return max(totals, key=lambda fmt: (totals[fmt], fmt.value))


def _dataset(root: str, files: list[DatasetFileInfo]) -> DatasetInfo:
    files.sort(key=lambda file: file.path)
    modified = [file.modified_at for file in files if file.modified_at is not None]
    return DatasetInfo(
        id=f"local:{_display(root)}",
        name=_display(os.path.basename(root.rstrip(os.sep)) or root),
        version=1,
        format=_dominant_format(files).value,
        total_size_bytes=sum(file.size_bytes for file in files),
        status="active",
        created_at=min(modified) if modified else None,
        origin=DatasetOrigin.LOCAL,
        local_path=_text_path(root),
        files=tuple(files),
    )


def _file_time_events(dataset_id: str, files: list[DatasetFileInfo]) -> tuple[AccessEvent, ...]:
    reads: dict[str, datetime] = {}
    writes: dict[str, datetime] = {}
    for file in files:
        # A time out of range is None (``_scan_file`` reports it): only the other one is used.
        if file.modified_at is not None:
            _latest_per_day(writes, file.modified_at)
        if file.accessed_at is None:
            continue
        if (
            file.modified_at is None
            or (file.accessed_at - file.modified_at).total_seconds() > _ATIME_AFTER_MTIME_S
        ):
            _latest_per_day(reads, file.accessed_at)
    events = [
        AccessEvent(
            dataset_id=dataset_id,
            timestamp=moment,
            operation=AccessOperation.READ,
            source="file_atime",
            weak_evidence=True,
        )
        for moment in reads.values()
    ]
    events += [
        AccessEvent(
            dataset_id=dataset_id,
            timestamp=moment,
            operation=AccessOperation.WRITE,
            source="file_mtime",
            weak_evidence=True,
        )
        for moment in writes.values()
    ]
    return tuple(sorted(events, key=lambda event: (event.timestamp, event.operation.value)))


def _latest_per_day(days: dict[str, datetime], moment: datetime) -> None:
    day = moment.date().isoformat()
    if day not in days or moment > days[day]:
        days[day] = moment


__all__ = ["SNIFF_BYTES", "ProgressCallback", "read_head", "scan_path", "sniff_content"]
