"""Reading a user's text file with one-line errors, and writing a file atomically.

Decisions:

* ``read_text_file`` turns every way a read can fail (missing, a directory, not UTF-8, too large,
  unreadable) into one exception of the caller's class whose message starts with the path and
  names what the file was meant to be, so the CLI prints one line and the right exit code.
  It never reads more than its limit (``MAX_TEXT_BYTES`` unless the caller gives one): a
  device or pipe (``/dev/zero``, a FIFO) has no size to check first, and reading it whole
  would never end.
* ``read_package_data`` reads a file shipped under a package's ``data`` folder through the
  package's loader (``get_data``, as ``pkgutil.get_data`` does), so it works from an unpacked
  or a zipped install alike, without ``importlib.resources``: that module loads ``tempfile``,
  ``zipfile`` and its readers, about 1% of ``recommend``'s instructions for three small files.
* ``atomic_write_text`` writes to a temporary file in the target's folder and renames it over
  the target (``os.replace``), so a reader never sees half a file and a crash leaves the old one.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from artenic_opt.errors import ArtenicOptError, InvalidInputError

#: Most a user's text file may hold (256 MiB): far above any workload, replay, outcomes or
#: offerings file (a replay run is a few hundred bytes), and a bound on what a read can cost.
MAX_TEXT_BYTES = 256 * 1024 * 1024


def read_text_file(
    path: Path,
    *,
    what: str,
    error: type[ArtenicOptError] = InvalidInputError,
    encoding: str = "utf-8",
    max_bytes: int | None = None,
) -> str:
    """The text of ``path`` (universal newlines, as ``Path.read_text``), at most ``max_bytes``
    (default ``MAX_TEXT_BYTES``); any failure raises ``error`` with ``"<path>: <what> ..."``."""
    limit = MAX_TEXT_BYTES if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{path}: {what} is too large ({size} bytes)")
        # Bounded even where the size said nothing (a device or a pipe reports 0).
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise error(f"{path}: {what} is too large (more than {limit} bytes)")
        text = data.decode(encoding)
        return text.replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: {what} is a directory") from None
    except UnicodeDecodeError:
        raise error(f"{path}: {what} is not text (not UTF-8)") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None


def read_package_data(package: str, name: str) -> str:
    """The UTF-8 text of ``data/<name>`` shipped in ``package`` (e.g. ``artenic_opt.catalog``)."""
    spec = importlib.import_module(package).__spec__
    if spec is None or spec.origin is None or spec.loader is None:  # pragma: no cover - a bug
        raise RuntimeError(f"{package} has no loader to read data/{name} with")
    path = os.path.join(os.path.dirname(spec.origin), "data", name)
    data: bytes = spec.loader.get_data(path)  # type: ignore[attr-defined]
    return data.decode("utf-8")


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
