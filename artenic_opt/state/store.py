"""The SQLite state store: opening, validating, creating and writing the one state file.

Everything that touches the state database goes through a ``StateStore`` returned by
``open_state``. Decisions taken here:

* **Validate before touching.** An existing file is checked before anything else happens to it:
  its first bytes must be the SQLite header (read as plain bytes, so SQLite never opens a file
  that is not SQLite), then a read-only connection (URI ``mode=ro``) checks the application id,
  the ``_migrations`` marker table and the schema version. An empty file, random bytes, another
  application's database or a schema newer than this code raise ``StateError`` naming the path,
  and the file's bytes stay as they were: no journal-mode switch, no migration, no write.
  The check reads the main file alone; when that fails and a non-empty ``-wal`` file is beside
  it, it is read again with its WAL, since a crash or a full disk during a checkpoint leaves a
  main file that is only whole with its WAL (the writable open then folds the WAL back).
  An existing SQLite file with no tables at all holds nothing to lose and is initialised.
* **Atomic creation.** A new state is built in a temporary file beside the target (created with
  ``os.open(..., 0o600)`` before SQLite sees it), fully migrated and switched to WAL, then
  hard-linked into place. ``link`` fails if the target appeared meanwhile, so two processes
  starting on a fresh machine never see each other's half-made file, and an empty file at the
  state path is always somebody else's (we refuse it rather than initialise it).
* **Marker.** The state sets ``PRAGMA application_id`` to ``APPLICATION_ID`` and keeps a
  ``_migrations`` table; both must be present, because ``_migrations`` alone is a common name.
* **Concurrency.** WAL journal, ``busy_timeout`` (30 s by default) and ``BEGIN IMMEDIATE`` for
  every write transaction, so writers queue on the lock instead of failing halfway. The rare
  ``database is locked`` that bypasses SQLite's busy handler is retried with jittered
  exponential backoff until the busy timeout is spent. Inner ``transaction()`` blocks become
  savepoints, so callers compose repository functions into one atomic unit.
* **Threads.** One connection per store, shared by threads under a re-entrant lock (the TUI reads
  from worker threads); a transaction holds the lock until it ends.
* SQLite errors after opening (disk full, corruption found later) surface as ``StateError``
  naming the path, so the CLI maps them to exit code 2 like any unusable state file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import secrets
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from artenic_opt.errors import StateError
from artenic_opt.state import migrations

if TYPE_CHECKING:
    import sqlite_utils

#: ``PRAGMA application_id`` of every artenic-opt state file ("AROP" in ASCII).
APPLICATION_ID = 0x41524F50
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_S = 30.0

_HEADER_SIZE = 100
_BUSY_ERROR_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_FIRST_BACKOFF_S = 0.02
_MAX_BACKOFF_S = 1.0

# errno values meaning "this file system cannot make hard links".
_NO_LINK_ERRNOS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS})

Params = Sequence[Any] | Mapping[str, Any]


def _not_state(path: Path, why: str) -> StateError:
    return StateError(f"{path} is not an artenic-opt state database ({why})")


def _newer_schema(path: Path, version: int) -> StateError:
    return StateError(
        f"{path} has state schema version {version}, newer than this artenic-opt supports "
        f"({migrations.LATEST_VERSION}); upgrade artenic-opt to use it"
    )


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        # Extended codes (e.g. SQLITE_BUSY_SNAPSHOT) keep the primary code in the low byte.
        return (code & 0xFF) in _BUSY_ERROR_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@dataclass(frozen=True)
class _Inspection:
    exists: bool
    schema_version: int | None = None


def _inspect(path: Path, busy_timeout_s: float) -> _Inspection:
    """Check an existing file without writing to it; return what was found."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return _Inspection(exists=False)
    except OSError as exc:
        raise StateError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_state(path, "not a regular file")
    if info.st_size == 0:
        raise _not_state(path, "empty file")
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER_SIZE)
    except OSError as exc:
        raise StateError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(header) < _HEADER_SIZE or not header.startswith(SQLITE_HEADER):
        raise _not_state(path, "file is not SQLite")

    # ``immutable=1``: read the main file only, without locks, WAL or shared memory. A plain
    # ``mode=ro`` connection creates ``-wal`` and ``-shm`` files for a WAL database and, being
    # read-only, cannot remove them on close, so checking a corrupt or newer-schema file would
    # leave them behind. Pages still in another process's WAL are not seen here; the writable
    # open checks the file again under its own connection (``_upgrade``).
    try:
        return _Inspection(
            exists=True, schema_version=_classify_uri(path, "immutable=1", busy_timeout_s)
        )
    except StateError:
        wal = path.with_name(f"{path.name}-wal")
        if not (wal.is_file() and wal.stat().st_size > 0):
            raise
    # The main file alone may be mid-checkpoint: a crash, or a full disk, while the WAL was
    # being folded back leaves pages in it that only make sense with the WAL (which still holds
    # them all). Read it with its WAL; the ``-wal`` and ``-shm`` files exist already.
    return _Inspection(exists=True, schema_version=_classify_uri(path, "", busy_timeout_s))


def _classify_uri(path: Path, extra: str, busy_timeout_s: float) -> int | None:
    """``_classify`` over a read-only connection to ``path`` (``extra``: more URI options)."""
    uri = path.absolute().as_uri() + "?mode=ro" + (f"&{extra}" if extra else "")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise StateError(f"{path} cannot be opened: {exc}") from None
    try:
        return _classify(path, conn)
    finally:
        conn.close()


def _classify(path: Path, conn: sqlite3.Connection) -> int | None:
    """Read-only check that ``conn`` holds our state; return its schema version.

    ``None`` means a SQLite database with no tables at all, which is safe to initialise.
    """
    try:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if application_id != APPLICATION_ID:
            if tables or application_id != 0:
                raise _not_state(path, "a SQLite database of another application")
            return None
        if migrations.MARKER_TABLE not in tables:
            raise _not_state(path, f"the {migrations.MARKER_TABLE} table is missing")
        version = migrations.current_version(conn)
    except sqlite3.Error as exc:
        raise _not_state(path, f"unreadable: {exc}") from None
    if version > migrations.LATEST_VERSION:
        raise _newer_schema(path, version)
    return version


def _ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (mode 0700) if missing; an existing directory is left as it is."""
    if directory.is_dir():
        return
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700)
        # mkdir's mode is filtered by the umask; say exactly what we mean.
        os.chmod(directory, 0o700)
    except FileExistsError:
        if directory.is_dir():
            return  # another process made it first: it is theirs to set up
        raise StateError(f"cannot create {directory}: a file is in the way") from None
    except OSError as exc:
        raise StateError(f"cannot create {directory}: {exc.strerror or exc}") from None


def _create_private_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _configure(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")


def _create_state_file(path: Path, busy_timeout_s: float) -> None:
    """Build a migrated state in a private temporary file, then link it into place."""
    _ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        _create_private_file(tmp)
    except OSError as exc:
        raise StateError(f"cannot create {path}: {exc.strerror or exc}") from None
    try:
        conn = sqlite3.connect(tmp, timeout=busy_timeout_s, isolation_level=None)
        try:
            _configure(conn, busy_timeout_s)
            _upgrade(StateStore(path, conn, readonly=False, busy_timeout_s=busy_timeout_s), conn)
            # Fold the WAL back into the main file: only the main file is linked into place.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        _publish(tmp, path)
    except sqlite3.Error as exc:
        raise StateError(f"cannot create {path}: {exc}") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def _publish(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        # Another process created the state meanwhile: use theirs, it is complete too.
        return
    except OSError as exc:
        if exc.errno in _NO_LINK_ERRNOS:
            # File systems without hard links: a rename cannot refuse an existing target, so
            # check first. The remaining window is two first-ever starts within microseconds.
            if not path.exists():
                os.replace(tmp, path)
            return
        raise StateError(f"cannot create {path}: {exc.strerror or exc}") from None


class StateStore:
    """An open state database. Create it with ``open_state``; close it (or use ``with``)."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, *, readonly: bool, busy_timeout_s: float
    ) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = conn
        self._readonly = readonly
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._depth = 0
        # sqlite-utils (and the click it imports) loads on first use: the hot paths
        # (recommend, feedback) write through plain SQL and never need it.
        self._db: sqlite_utils.Database | None = None

    # -- properties -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection; write through it only inside ``transaction``."""
        conn = self._connection()
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(conn, execute_plugins=False)
        return self._db

    @property
    def schema_version(self) -> int:
        with self._lock:
            try:
                return migrations.current_version(self._connection())
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # -- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "ro" if self._readonly else "rw"
        return f"StateStore({str(self._path)!r}, {mode})"

    # -- reading ----------------------------------------------------------------------------

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Run a SELECT and return every row as a dict."""
        with self._lock:
            try:
                cursor = self._connection().execute(sql, params)
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor]
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """Run a query returning one value (``None`` when there is no row)."""
        with self._lock:
            try:
                row = self._connection().execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
        return None if row is None else row[0]

    # -- writing ----------------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one write statement; only valid inside ``transaction()``."""
        self._require_transaction()
        try:
            return self._connection().execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Params]) -> sqlite3.Cursor:
        self._require_transaction()
        try:
            return self._connection().executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def insert(self, table: str, row: Mapping[str, Any]) -> int:
        """Insert one row inside a transaction; return its rowid."""
        with self.transaction():
            cursor = self.insert_rows(table, [row])
        rowid = cursor.lastrowid
        if rowid is None:  # pragma: no cover - SQLite always reports the rowid of an insert
            raise StateError(f"{self._path}: no row id for the insert into {table}")
        return rowid

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> sqlite3.Cursor:
        """Insert rows that share the same keys (table and column names are ours, not input)."""
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
        with self.transaction():
            if len(rows) == 1:
                return self.execute(sql, [rows[0][c] for c in columns])
            return self.executemany(sql, [[row[c] for c in columns] for row in rows])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """A write transaction (``BEGIN IMMEDIATE``); nested blocks become savepoints.

        Commits when the block ends, rolls back everything the block wrote when it raises.
        """
        if self._readonly:
            raise StateError(f"{self._path} is open read-only; it cannot be written")
        with self._lock:
            conn = self._connection()
            if self._depth == 0:
                self._begin(conn)
                self._depth = 1
                try:
                    yield self
                except BaseException as exc:
                    self._depth = 0
                    self._rollback(conn)
                    if isinstance(exc, sqlite3.Error):
                        raise self._error(exc) from exc
                    raise
                self._depth = 0
                self._commit(conn)
            else:
                savepoint = f"artenic_opt_{self._depth}"
                self._run(conn, f"SAVEPOINT {savepoint}")
                self._depth += 1
                try:
                    yield self
                except BaseException:
                    self._depth -= 1
                    if conn.in_transaction:
                        self._run(conn, f"ROLLBACK TO {savepoint}")
                        self._run(conn, f"RELEASE {savepoint}")
                    raise
                self._depth -= 1
                self._run(conn, f"RELEASE {savepoint}")

    # -- internals --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"{self._path} is closed")
        return self._conn

    def _require_transaction(self) -> None:
        if self._depth == 0:
            raise StateError(f"{self._path}: writes must run inside store.transaction()")

    def _error(self, exc: sqlite3.Error) -> StateError:
        if _is_busy(exc):
            return StateError(
                f"{self._path} is locked by another process "
                f"(waited {self._busy_timeout_s:g} s): {exc}"
            )
        return StateError(f"{self._path}: state database error: {exc}")

    def _run(self, conn: sqlite3.Connection, sql: str) -> None:
        try:
            conn.execute(sql)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _retrying(self, conn: sqlite3.Connection, sql: str) -> None:
        """Run a transaction-control statement, retrying while the database is busy."""
        deadline = time.monotonic() + self._busy_timeout_s
        delay = _FIRST_BACKOFF_S
        while True:
            try:
                conn.execute(sql)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise self._error(exc) from exc
            # Jitter keeps waiting writers from retrying in lock step.
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, _MAX_BACKOFF_S)

    def _begin(self, conn: sqlite3.Connection) -> None:
        self._retrying(conn, "BEGIN IMMEDIATE")

    def _commit(self, conn: sqlite3.Connection) -> None:
        try:
            self._retrying(conn, "COMMIT")
        except StateError:
            self._rollback(conn)
            raise

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            # The error that brought us here matters more than a failing rollback; SQLite rolls
            # back an unfinished transaction when the connection closes anyway.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


def open_state(
    path: Path | str,
    *,
    create: bool = True,
    readonly: bool = False,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
) -> StateStore:
    """Open (and, when ``create``, first create) the state database at ``path``.

    Raises ``StateError`` naming the path when the file is not a usable state database; in that
    case the file is left byte-for-byte unchanged.
    """
    path = Path(path).expanduser()
    found = _inspect(path, busy_timeout_s)
    if not found.exists:
        if readonly or not create:
            raise StateError(f"{path} does not exist (no artenic-opt state database there yet)")
        _create_state_file(path, busy_timeout_s)
    elif readonly and found.schema_version != migrations.LATEST_VERSION:
        raise StateError(
            f"{path} has state schema version {found.schema_version or 0}; open it once "
            f"without read-only access to upgrade it to {migrations.LATEST_VERSION} "
            "(`artenic-opt status` does, where the file is writable)"
        )

    mode = "ro" if readonly else "rw"
    conn = _connect(path, f"mode={mode}", busy_timeout_s)
    if readonly and not _readable(conn):
        # A WAL database in a directory we cannot write: SQLite cannot create the shared-memory
        # file a read-only reader needs. Nobody can be writing through that directory either, so
        # read the main file as immutable (no locks, no WAL; sqlite.org/wal.html#readonly).
        conn.close()
        conn = _connect(path, "mode=ro&immutable=1", busy_timeout_s)
    try:
        _configure(conn, busy_timeout_s)
        store = StateStore(path, conn, readonly=readonly, busy_timeout_s=busy_timeout_s)
        if not readonly:
            _upgrade(store, conn)
        elif _classify(path, conn) != found.schema_version:
            # The check read the main file; this connection also reads the WAL, which may hold a
            # migration (by a newer artenic-opt) that the main file does not have yet.
            raise _newer_schema(path, migrations.current_version(conn))
    except BaseException:
        conn.close()
        raise
    return store


def _connect(path: Path, query: str, busy_timeout_s: float) -> sqlite3.Connection:
    uri = f"{path.absolute().as_uri()}?{query}"
    try:
        return sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise StateError(f"{path} cannot be opened: {exc}") from None


def _readable(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        return False
    return True


def _upgrade(store: StateStore, conn: sqlite3.Connection) -> None:
    """Check the file is ours, switch it to WAL and apply pending migrations.

    Nothing is written before the check passes, and an up-to-date state takes no write lock.
    """
    version = _classify(store.path, conn)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise StateError(f"{store.path} cannot be opened: {exc}") from None
    if version == migrations.LATEST_VERSION:
        return
    with store.transaction():
        # Another process may have initialised or migrated the file since it was checked.
        version = _classify(store.path, conn)
        if version is None:
            store.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        try:
            migrations.apply_pending(store.db)
        except sqlite3.Error as exc:
            raise StateError(f"{store.path}: migration failed: {exc}") from exc
