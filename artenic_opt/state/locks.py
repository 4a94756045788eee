"""Cross-process locks kept beside the state file.

``retrain_lock`` makes sure only one retrain of a state runs at a time, whether the retrains come
from two threads of ``serve``, two ``serve`` worker processes or a CLI ``retrain`` next to a
server: the second one finds the lock taken and returns at once instead of training a second
model version. ``retrain_running`` tells ``status`` whether somebody holds it.

Decisions:

* ``fcntl.flock`` on ``<state>.retrain.lock`` (mode 0600). The kernel drops the lock when its
  holder exits or crashes, so a killed retrain never leaves a stale lock behind, and the lock
  file's content means nothing (it is never deleted, to avoid the unlink/lock race).
* flock locks belong to open file descriptions, so two threads of one process that each open
  the file exclude each other exactly as two processes do.
* Where ``fcntl`` does not exist (Windows), a process-wide ``threading.Lock`` per path stands in:
  threads of one server still exclude each other; separate processes do not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_fallback_locks: dict[Path, threading.Lock] = {}
_fallback_guard = threading.Lock()


def retrain_lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".retrain.lock")


@contextmanager
def retrain_lock(state_path: Path) -> Iterator[bool]:
    """Try to take the retrain lock of ``state_path`` without waiting; yield whether it was."""
    path = retrain_lock_path(state_path)
    if fcntl is None:  # pragma: no cover - Windows
        with _fallback_guard:
            lock = _fallback_locks.setdefault(path, threading.Lock())
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def retrain_running(state_path: Path) -> bool:
    """Whether a retrain of ``state_path`` holds the lock now (looking never creates the file)."""
    path = retrain_lock_path(state_path)
    if fcntl is None:  # pragma: no cover - Windows
        lock = _fallback_locks.get(path)
        return lock is not None and lock.locked()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
