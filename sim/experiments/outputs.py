"""Where commands may write: checked before anything runs, so that no command can
destroy a results store or a file it did not make.

* A file is written only where nothing is, or over an earlier output of the same kind
  (an earlier export, say); never over an SQLite database (a results store or another),
  never over the command's own input.
* A directory of outputs (``run --out``, ``report --out``) is used only if it is new,
  empty, or holds an earlier output of the same command (recognised by its main file).
* The nearest existing parent must be a directory this process can write.

Each refusal is a :class:`OutputError`: one line naming the path and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from sim.config.loading import UserError

SQLITE_MAGIC = b"SQLite format 3\x00"


class OutputError(UserError):
    """An output path that must not or cannot be written."""


def check_writable_place(path: Path, option: str) -> None:
    """Refuse ``path`` if it is empty, or if its nearest existing parent is not a
    directory this process can write (a read-only filesystem, a file in the way)."""
    if not str(path).strip():
        raise OutputError(f"{option}: an empty path; give a file or directory name")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write in {parent} (read-only?)")


def check_output_file(
    path: Path,
    option: str,
    *,
    earlier_output: Callable[[Path], bool] = lambda p: False,
    inputs: Iterable[Path] = (),
) -> None:
    """Refuse to write file ``path`` unless it is new or ``earlier_output(path)`` says it
    holds an earlier output of the same kind; never a directory, an SQLite file or one of
    ``inputs``."""
    check_writable_place(path, option)
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not path.exists():
        return
    if any(_same_file(path, i) for i in inputs):
        raise OutputError(f"{option} {path}: is the input itself; give another file name")
    if is_sqlite_file(path):
        raise OutputError(
            f"{option} {path}: is an SQLite database (a results store?); it is never "
            "written over: give another file name"
        )
    if not earlier_output(path):
        raise OutputError(
            f"{option} {path}: exists and was not written by this command; give another "
            "file name or remove it first"
        )
    if not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: cannot be written (read-only?)")


def check_output_dir(path: Path, option: str, main_file: str, is_ours: Callable[[Path], bool]):
    """Refuse directory ``path`` unless it is new, empty, or holds an earlier output of
    the same command (``path/main_file`` exists and ``is_ours`` of it)."""
    check_writable_place(path, option)
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputError(f"{option} {path}: is a file, not a directory")
    main = path / main_file
    if any(path.iterdir()) and not (main.is_file() and is_ours(main)):
        raise OutputError(
            f"{option} {path}: a directory that is neither empty nor an earlier output of "
            f"this command (no {main_file} of prisonsim's); give a new or empty directory"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write in it (read-only?)")


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts like an SQLite database (a results store or any other)."""
    return starts_with(path, SQLITE_MAGIC)


def starts_with(path: Path, prefix: bytes) -> bool:
    """Whether file ``path`` starts with ``prefix`` (False if it cannot be read)."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(prefix)) == prefix
    except OSError:
        return False


def contains(path: Path, marker: bytes, within: int = 4096) -> bool:
    """Whether ``marker`` is in the first ``within`` bytes of file ``path``."""
    try:
        with path.open("rb") as fh:
            return marker in fh.read(within)
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and Path(b).exists() and a.samefile(b)
    except OSError:
        return False
