"""Reading a user's text file with one-line errors, and writing a file atomically.

Decisions:

* ``read_text_file`` turns every way a read can fail (missing, a directory, not UTF-8, too large,
  unreadable) into one exception of the caller's class whose message starts with the path and
  names what the file was meant to be, so the CLI prints one line and the right exit code.
* ``atomic_write_text`` writes to a temporary file in the target's folder and renames it over
  the target (``os.replace``), so a reader never sees half a file and a crash leaves the old one.
"""

from __future__ import annotations

import os
from pathlib import Path

from artenic_opt.errors import ArtenicOptError, InvalidInputError


def read_text_file(
    path: Path,
    *,
    what: str,
    error: type[ArtenicOptError] = InvalidInputError,
    encoding: str = "utf-8",
    max_bytes: int | None = None,
) -> str:
    """The text of ``path``; any failure raises ``error`` with ``"<path>: <what> ..."``."""
    try:
        if max_bytes is not None:
            size = path.stat().st_size
            if size > max_bytes:
                raise error(f"{path}: {what} is too large ({size} bytes)")
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: {what} is a directory") from None
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not text (not UTF-8)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None


def atomic_write_text(path: Path, text: str, *, make_parents: bool = False) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only writers need it; kept off the start-up path

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
