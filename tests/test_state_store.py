"""Opening the state: creation, file modes, refusal of foreign files, transactions, locking."""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from artenic_opt.errors import ExitCode, StateError
from artenic_opt.state import (
    APPLICATION_ID,
    LATEST_VERSION,
    count_recommendations,
    get_meta,
    open_state,
    save_recommendation,
    set_meta,
    store as store_module,
)
from artenic_opt.state.store import StateStore
from tests.factories import make_advice, sha256_of


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "state.db"


@pytest.fixture
def store(state_path: Path) -> Iterator[StateStore]:
    with open_state(state_path) as opened:
        yield opened


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _side_files(path: Path) -> list[Path]:
    return [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


# --------------------------------------------------------------------------------------------
# Creation
# --------------------------------------------------------------------------------------------


def test_new_state_is_private_wal_and_migrated(state_path: Path) -> None:
    old_umask = os.umask(0)  # a permissive umask must not leak into the modes
    try:
        with open_state(state_path) as store:
            assert store.path == state_path
            assert store.schema_version == LATEST_VERSION
            assert store.scalar("PRAGMA journal_mode") == "wal"
            assert store.scalar("PRAGMA foreign_keys") == 1
            assert store.scalar("PRAGMA busy_timeout") == 30_000
            assert store.scalar("PRAGMA application_id") == APPLICATION_ID
            assert not store.readonly
            assert "rw" in repr(store)
    finally:
        os.umask(old_umask)
    assert _mode(state_path) == 0o600
    assert _mode(state_path.parent) == 0o700
    assert not list(state_path.parent.glob(".*.tmp*")), "temporary files are cleaned up"


def test_existing_parent_directory_keeps_its_mode(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir(mode=0o755)
    os.chmod(parent, 0o755)
    with open_state(parent / "state.db"):
        pass
    assert _mode(parent) == 0o755
    assert _mode(parent / "state.db") == 0o600


def test_reopening_keeps_data_and_does_not_migrate_again(state_path: Path) -> None:
    with open_state(state_path) as store:
        set_meta(store, "greeting", "hello")
    with open_state(state_path) as store:
        assert get_meta(store, "greeting") == "hello"
        assert store.scalar("SELECT count(*) FROM _migrations") == LATEST_VERSION


def test_missing_file_is_not_created_when_create_is_false(state_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist") as info:
        open_state(state_path, create=False)
    assert str(state_path) in str(info.value)
    assert not state_path.exists()
    with pytest.raises(StateError, match="does not exist"):
        open_state(state_path, readonly=True)
    assert not state_path.exists()


def test_path_with_tilde_and_spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with open_state("~/my state/state #1.db") as store:
        assert store.path == tmp_path / "my state" / "state #1.db"
        set_meta(store, "k", "v")
    assert (tmp_path / "my state" / "state #1.db").exists()


def test_empty_sqlite_database_without_tables_is_initialised(state_path: Path) -> None:
    state_path.parent.mkdir()
    sqlite3.connect(state_path).execute("VACUUM").connection.close()
    assert state_path.stat().st_size > 0
    with open_state(state_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.scalar("PRAGMA application_id") == APPLICATION_ID


def test_state_at_version_zero_is_migrated_but_not_readonly(state_path: Path) -> None:
    state_path.parent.mkdir()
    conn = sqlite3.connect(state_path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(
        "CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="schema version 0; open it once without read-only"):
        open_state(state_path, readonly=True)
    with open_state(state_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.scalar("PRAGMA journal_mode") == "wal"


def test_creation_race_uses_the_winners_file(
    state_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def lose_the_race(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_link(src, dst)  # "the other process" publishes first...
        raise FileExistsError(errno.EEXIST, "File exists", str(dst))  # ...so ours fails

    monkeypatch.setattr(os, "link", lose_the_race)
    with open_state(state_path) as store:
        assert store.schema_version == LATEST_VERSION
    assert not list(state_path.parent.glob(".*.tmp*"))


def test_file_system_without_hard_links(state_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with open_state(state_path) as store:
        assert store.schema_version == LATEST_VERSION
    assert _mode(state_path) == 0o600
    assert not list(state_path.parent.glob(".*.tmp*"))


def test_link_failure_is_a_state_error(state_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "link", broken)
    with pytest.raises(StateError, match=r"cannot create .*Input/output error"):
        open_state(state_path)
    assert not state_path.exists()
    assert not list(state_path.parent.glob(".*.tmp*"))


def test_private_dir_creation_edge_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_the_way = tmp_path / "file"
    in_the_way.write_text("x")
    with pytest.raises(StateError, match=r"cannot create .*file: a file is in the way"):
        store_module._ensure_private_dir(in_the_way)

    real_mkdir = Path.mkdir

    def beaten_to_it(self: Path, mode: int = 0o777, *args: bool, **kwargs: bool) -> None:
        if self.name != "raced":
            return real_mkdir(self, mode, *args, **kwargs)
        real_mkdir(self, 0o755)  # a concurrent process creates it first
        raise FileExistsError(errno.EEXIST, "File exists", str(self))

    monkeypatch.setattr(Path, "mkdir", beaten_to_it)
    store_module._ensure_private_dir(tmp_path / "raced")
    assert (tmp_path / "raced").is_dir()
    assert _mode(tmp_path / "raced") == 0o755, "someone else's directory is left alone"

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(StateError, match=r"cannot create .*denied: Permission denied"):
        store_module._ensure_private_dir(tmp_path / "denied")


def test_file_swapped_after_inspection_is_still_refused_before_any_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    _foreign_database(path)
    before = sha256_of(path)
    # Pretend the inspection saw a blank database: the second check must catch the foreign one.
    monkeypatch.setattr(store_module, "_inspect", lambda *_: store_module._Inspection(True, None))
    with pytest.raises(StateError, match="another application"):
        open_state(path)
    assert sha256_of(path) == before
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_parent_that_is_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(StateError, match="blocker"):
        open_state(tmp_path / "blocker" / "state.db")


# --------------------------------------------------------------------------------------------
# Files that are not a state database: refused, named, and left byte-for-byte unchanged
# --------------------------------------------------------------------------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))


def _sqlite_header_then_garbage(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    data[100:] = random.Random(3).randbytes(len(data) - 100)
    path.write_bytes(bytes(data))


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _short_header(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00abc")


def _foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
    conn.commit()
    conn.close()


def _foreign_wal_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE _migrations (version INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO _migrations VALUES (1)")
    conn.commit()
    conn.close()


def _other_application_id(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.commit()
    conn.close()


def _our_id_without_marker(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()


def _newer_schema(path: Path) -> None:
    with open_state(path) as store, store.transaction():
        store.execute(
            "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
            [LATEST_VERSION + 5, "from the future", "2030-01-01T00:00:00.000000+00:00"],
        )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_random_bytes, "is not an artenic-opt state database (file is not SQLite)"),
        (_short_header, "is not an artenic-opt state database (file is not SQLite)"),
        (_sqlite_header_then_garbage, "is not an artenic-opt state database (unreadable"),
        (_empty_file, "is not an artenic-opt state database (empty file)"),
        (_foreign_database, "(a SQLite database of another application)"),
        (_foreign_wal_database, "(a SQLite database of another application)"),
        (_other_application_id, "(a SQLite database of another application)"),
        (_our_id_without_marker, "(the _migrations table is missing)"),
        (_newer_schema, f"has state schema version {LATEST_VERSION + 5}, newer than"),
    ],
    ids=[
        "random-bytes",
        "short-header",
        "garbage-after-header",
        "empty-file",
        "foreign-sqlite",
        "foreign-wal-sqlite",
        "other-application-id",
        "marker-missing",
        "newer-schema",
    ],
)
@pytest.mark.parametrize("how", ["default", "readonly", "no-create"])
def test_unusable_file_is_refused_and_left_unchanged(
    tmp_path: Path, make: object, expected: str, how: str
) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    path = folder / "state.db"
    make(path)  # type: ignore[operator]
    before = sha256_of(path)
    size = path.stat().st_size
    with pytest.raises(StateError) as info:
        open_state(path, readonly=how == "readonly", create=how != "no-create")
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message
    assert info.value.exit_code is ExitCode.USAGE
    assert sha256_of(path) == before
    assert path.stat().st_size == size
    # Nothing new beside it either (a WAL-mode file may get SQLite's -wal/-shm companions).
    assert sorted(folder.iterdir()) == sorted([path, *_side_files(path)])


def test_a_main_file_left_mid_checkpoint_opens_with_its_wal(tmp_path: Path) -> None:
    """A crash (or a full disk) while the WAL was folded back leaves a main file that is only
    valid with its WAL. It must open, not be called "not a state database" for ever."""
    live = tmp_path / "live" / "state.db"
    with open_state(live) as store:
        for index in range(5):
            save_recommendation(store, make_advice(f"rec-{index}"))
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("VACUUM")  # rewrites every page, all of them into the WAL
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    # A snapshot while the connection is open: the files a crash would leave behind.
    for suffix in ("", "-wal"):
        (crashed / f"state.db{suffix}").write_bytes(Path(f"{live}{suffix}").read_bytes())
    conn.close()
    path = crashed / "state.db"
    page = 4096
    data = bytearray(path.read_bytes())
    assert len(data) > 2 * page
    data[page:] = bytes(len(data) - page)  # every page but the first: half-written junk
    path.write_bytes(bytes(data))
    with (
        closing(sqlite3.connect(path.absolute().as_uri() + "?mode=ro&immutable=1", uri=True)) as c,
        pytest.raises(sqlite3.DatabaseError),
    ):
        c.execute("SELECT count(*) FROM recommendations").fetchone()  # alone, it is broken
    with open_state(path) as store:
        assert count_recommendations(store) == 5
    # The open folded the WAL back: the main file is whole again on its own.
    with closing(sqlite3.connect(path.absolute().as_uri() + "?mode=ro&immutable=1", uri=True)) as c:
        assert c.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 5


def test_a_broken_main_file_without_a_wal_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with open_state(path) as store:
        save_recommendation(store, make_advice())
    data = bytearray(path.read_bytes())
    data[4096:] = bytes(len(data) - 4096)
    path.write_bytes(bytes(data))
    Path(f"{path}-wal").write_bytes(b"")  # an empty WAL holds nothing to rescue it
    with pytest.raises(StateError, match="not an artenic-opt state database"):
        open_state(path)


def test_not_sqlite_files_get_no_side_files(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    path = folder / "state.db"
    _random_bytes(path)
    with pytest.raises(StateError):
        open_state(path)
    assert list(folder.iterdir()) == [path]


def test_directory_at_state_path(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.mkdir()
    with pytest.raises(StateError, match=r"state\.db is not an artenic-opt .*not a regular file"):
        open_state(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with open_state(path):
        pass
    os.chmod(path, 0)
    try:
        with pytest.raises(StateError, match="cannot be read"):
            open_state(path)
    finally:
        os.chmod(path, 0o600)


def test_newer_schema_message_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _newer_schema(path)
    with pytest.raises(StateError, match="upgrade artenic-opt"):
        open_state(path)


# --------------------------------------------------------------------------------------------
# Read-only stores, closing
# --------------------------------------------------------------------------------------------


def test_readonly_store_reads_but_refuses_writes(state_path: Path) -> None:
    with open_state(state_path) as store:
        save_recommendation(store, make_advice())
    before = sha256_of(state_path)
    with open_state(state_path, readonly=True) as ro:
        assert ro.readonly
        assert "ro" in repr(ro)
        assert count_recommendations(ro) == 1
        with pytest.raises(StateError, match="open read-only"):
            set_meta(ro, "k", "v")
    assert sha256_of(state_path) == before


def test_closed_store_raises_state_error(state_path: Path) -> None:
    store = open_state(state_path)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StateError, match="is closed"):
        count_recommendations(store)
    with pytest.raises(StateError, match="is closed"):
        _ = store.db


def test_write_outside_transaction_is_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match=r"inside store\.transaction\(\)"):
        store.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
    with pytest.raises(StateError, match=r"inside store\.transaction\(\)"):
        store.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("a", "b")])
    assert get_meta(store, "a") is None


def test_sql_errors_become_state_errors_naming_the_path(store: StateStore) -> None:
    with pytest.raises(StateError, match=r"state\.db: state database error: no such table"):
        store.query("SELECT * FROM nowhere")
    with pytest.raises(StateError, match="no such table"):
        store.scalar("SELECT x FROM nowhere")
    with pytest.raises(StateError, match="FOREIGN KEY constraint failed"), store.transaction():
        store.execute(
            "INSERT INTO dataset_files (dataset_id, path, size_bytes) VALUES ('none', 'a', 1)"
        )
    with pytest.raises(StateError, match="UNIQUE constraint failed"), store.transaction():
        store.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("k", "1"), ("k", "2")])
    assert get_meta(store, "k") is None


def test_raw_sqlite_error_from_sqlite_utils_is_translated(store: StateStore) -> None:
    with pytest.raises(StateError, match=r"NOT NULL constraint failed: meta\.value"):
        store.insert("meta", {"key": "k", "value": None})
    assert store.insert("meta", {"key": "k", "value": "v"}) >= 1
    with pytest.raises(StateError, match="state database error"), store.transaction():
        store.db.table("meta").insert({"key": None, "value": None})


# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------


class BoomError(Exception):
    pass


def test_exception_inside_transaction_leaves_nothing(store: StateStore) -> None:
    with pytest.raises(BoomError), store.transaction():
        set_meta(store, "a", "1")
        save_recommendation(store, make_advice("rec-x"))
        assert store.in_transaction
        raise BoomError
    assert not store.in_transaction
    assert get_meta(store, "a") is None
    assert count_recommendations(store) == 0
    assert store.scalar("SELECT count(*) FROM recommendation_candidates") == 0


def test_nested_transaction_failure_rolls_back_only_the_inner_block(store: StateStore) -> None:
    with store.transaction():
        set_meta(store, "outer", "kept")
        try:
            with store.transaction():
                set_meta(store, "inner", "lost")
                raise BoomError
        except BoomError:
            pass
        set_meta(store, "after", "kept")
    assert get_meta(store, "outer") == "kept"
    assert get_meta(store, "inner") is None
    assert get_meta(store, "after") == "kept"


def test_nested_success_commits_with_the_outer_block(store: StateStore) -> None:
    with pytest.raises(BoomError), store.transaction():
        with store.transaction():
            set_meta(store, "inner", "x")
        raise BoomError
    assert get_meta(store, "inner") is None


def test_transaction_yields_the_store(store: StateStore) -> None:
    with store.transaction() as tx:
        assert tx is store
        tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
    assert get_meta(store, "k") == "v"


def test_threads_share_one_store(store: StateStore) -> None:
    def write(worker: int) -> None:
        for i in range(25):
            save_recommendation(store, make_advice(f"t{worker}-{i}", candidates=2))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count_recommendations(store) == 100


# --------------------------------------------------------------------------------------------
# Locking between connections
# --------------------------------------------------------------------------------------------


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_writer_waits_for_the_lock(state_path: Path) -> None:
    with open_state(state_path):
        pass
    holder = _hold_write_lock(state_path)
    releaser = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    releaser.start()
    try:
        with open_state(state_path, busy_timeout_s=5) as store:
            started = time.monotonic()
            set_meta(store, "k", "v")
            assert time.monotonic() - started >= 0.2
            assert get_meta(store, "k") == "v"
    finally:
        releaser.join()
        holder.close()


def test_busy_without_busy_handler_is_retried_with_backoff(state_path: Path) -> None:
    with open_state(state_path):
        pass
    holder = _hold_write_lock(state_path)
    releaser = threading.Timer(0.25, holder.execute, args=("COMMIT",))
    with open_state(state_path, busy_timeout_s=5) as store:
        # With SQLite's own busy handler off, BEGIN fails at once and only our retry loop waits.
        store.db.conn.execute("PRAGMA busy_timeout = 0")
        releaser.start()
        try:
            set_meta(store, "k", "v")
        finally:
            releaser.join()
            holder.close()
        assert get_meta(store, "k") == "v"


def test_lock_held_too_long_is_a_clear_error(state_path: Path) -> None:
    with open_state(state_path):
        pass
    holder = _hold_write_lock(state_path)
    try:
        with open_state(state_path, busy_timeout_s=0.2) as store:
            with pytest.raises(StateError, match="is locked by another process") as info:
                set_meta(store, "k", "v")
            assert str(state_path) in str(info.value)
            assert not store.in_transaction
    finally:
        holder.close()
    with open_state(state_path) as store:
        assert get_meta(store, "k") is None


def test_busy_error_detection_without_error_code() -> None:
    assert store_module._is_busy(sqlite3.OperationalError("database is locked"))
    assert not store_module._is_busy(sqlite3.OperationalError("no such table: x"))


def test_a_newer_schema_still_in_the_wal_is_refused_read_only(tmp_path: Path) -> None:
    """The open check reads the main file; a migration by a newer artenic-opt may sit in the WAL
    only (a copy taken while that version ran). A reader must not treat such a state as its own."""
    live = tmp_path / "live" / "state.db"
    open_state(live).close()
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(
        "INSERT INTO _migrations (version, name, applied_at) VALUES (?, 'future', '2030-01-01')",
        [LATEST_VERSION + 1],
    )
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal"):
        (copy / f"state.db{suffix}").write_bytes(Path(f"{live}{suffix}").read_bytes())
    conn.close()
    with pytest.raises(StateError, match=f"schema version {LATEST_VERSION + 1}, newer than"):
        open_state(copy / "state.db", readonly=True)
    with pytest.raises(StateError, match="newer than"):
        open_state(copy / "state.db")  # the writable open checks under its own connection
