"""What every prisonsim store needs, whatever it holds: safe SQLite files.

A store is one SQLite file, written only by its coordinating process, in WAL mode with
``synchronous=FULL`` and one transaction per batch of results: killed at any moment, it
keeps every committed row and nothing half-written. This module holds what the results
store (:mod:`sim.experiments.store`, the sweep's schema) and any other schema (a
calibration's) share; a schema adds its own tables to two common ones:

* ``provenance`` (key, JSON value): the format marker and schema version (a file of
  another format or version is refused in one line saying how to make it again), what
  the store was made for, and ``fixed_checksum``: the checksum of every provenance entry
  and of the schema's *fixed* tables (its design), written once when the store is made;
* ``sessions``: one row per command that wrote to it (command line, git commit and dirty
  flag, package versions, executor, workers, start and end, status, coordinator pid and
  host): a second coordinator on a store a live one holds is refused.

Files are opened read-only until they are known to be stores of the expected format
(:func:`check_store_file`): a damaged or foreign file is never changed. A new store is
built under a temporary name and linked into place, so it exists complete or not at all.
Readers turn what damage makes them meet into one :class:`StoreError` line
(:func:`reading`); rows carry checksums that readers check (:func:`checked_rows`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from sim.config.loading import UserError
from sim.experiments.contract import Session
from sim.experiments.outputs import SQLITE_MAGIC, OutputError, check_writable_place

T = TypeVar("T")


class StoreError(UserError):
    """A store file that is missing, damaged, foreign or does not fit the request."""


class StoreWriteError(StoreError):
    """A store that cannot be written now (a full disk, say); what it holds is kept."""


@dataclass(frozen=True)
class Schema:
    """What a kind of store is.

    ``format`` and ``version`` are written into provenance and checked on every open;
    ``what`` names the file in messages ("results file"); ``fixed`` lists the tables
    written once, when the store is made (covered with provenance by the fixed checksum);
    ``remake(path, provenance)`` says how to make a store again when its version is an
    earlier one, and ``resume`` how to continue one (``{path}`` is filled in).
    """

    format: str
    version: int
    what: str
    fixed: tuple[str, ...]
    remake: Callable[[Path, Mapping[str, Any]], str]
    resume: str


COMMON_TABLES = """
    CREATE TABLE provenance (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT, command_line TEXT,
        started_at TEXT, finished_at TEXT, git_commit TEXT, git_dirty INTEGER,
        package_versions TEXT, executor TEXT, workers INTEGER, status TEXT,
        pid INTEGER, host TEXT);
"""


# ----------------------------------------------------------------------------- checksums
def digest(data: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()[:16]


def json_checksum(*parts: Any) -> str:
    """:func:`digest` of the compact JSON of ``parts`` (floats as their shortest repr,
    which SQLite's REAL keeps exactly)."""
    return digest(json.dumps(list(parts), separators=(",", ":")).encode())


def fixed_checksum(con: sqlite3.Connection, schema: Schema) -> str:
    """Checksum of what a store was made to hold: every provenance entry (but this one)
    and every row of the schema's fixed tables, as stored."""
    con.text_factory = bytes
    try:
        parts = [
            b"=".join(row)
            for row in con.execute(
                "SELECT key, value FROM provenance WHERE key != 'fixed_checksum' ORDER BY key"
            )
        ]
        for table in schema.fixed:
            for row in con.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                parts.append(b"\x1f".join(_bytes(v) for v in row))
    finally:
        con.text_factory = str
    return digest(b"\x1e".join(parts))


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode()


def fixed_intact(con: sqlite3.Connection, schema: Schema) -> bool:
    try:
        return json.loads(provenance_value(con, "fixed_checksum")) == fixed_checksum(con, schema)
    except (StoreError, ValueError, TypeError):
        return False


def checked_rows(
    con: sqlite3.Connection, sql: str, decode: Callable[[tuple], T]
) -> Iterator[tuple[tuple, T | None]]:
    """``(row, decode(row))`` for every row of ``sql``, read as bytes so that damaged
    text cannot stop the reading; ``decode`` raises ``ValueError`` (or ``TypeError``,
    ``AttributeError``) for a row that fails its checksum or does not decode, which is
    then given as ``(row, None)``."""
    con.text_factory = bytes
    try:
        for row in con.execute(sql):
            try:
                yield row, decode(row)
            except (TypeError, ValueError, AttributeError):
                yield row, None
    finally:
        con.text_factory = str


def text(value: bytes | str | None) -> str:
    """A stored text read as bytes (see :func:`checked_rows`), decoded."""
    return value.decode() if isinstance(value, bytes) else (value or "")


# ----------------------------------------------------------------------------- provenance
def now_iso() -> str:
    """Current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on."""
    from importlib import metadata

    from sim import __version__

    out = {"python": sys.version.split()[0], "prisonsim": __version__}
    for pkg in ("mesa", "numpy", "numba", "scipy", "pandas", "SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def git_state() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout holding ``sim``, or (None, None) outside git."""
    root = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def provenance_value(con: sqlite3.Connection, key: str) -> str:
    """The JSON text of provenance entry ``key``."""
    row = con.execute("SELECT value FROM provenance WHERE key=?", (key,)).fetchone()
    if row is None:
        raise StoreError(f"store lacks provenance {key!r}")
    return row[0]


def read_provenance(con: sqlite3.Connection) -> dict[str, Any]:
    """Every provenance entry, decoded."""
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM provenance")}


def read_sessions(con: sqlite3.Connection) -> tuple[Session, ...]:
    """Every session, in order."""
    rows = con.execute(
        "SELECT id, command, command_line, started_at, finished_at, status, executor, "
        "workers, git_commit, git_dirty, package_versions, pid, host FROM sessions ORDER BY id"
    ).fetchall()
    return tuple(
        Session(
            *row[:9],
            git_dirty=None if row[9] is None else bool(row[9]),
            package_versions=json.loads(row[10]) if row[10] else {},
            pid=row[11],
            host=row[12],
        )
        for row in rows
    )


# ----------------------------------------------------------------------------- checking
def check_store_file(path: str | Path, schema: Schema) -> None:
    """Raise :class:`StoreError` unless ``path`` is a store of ``schema``'s format and
    version; never writes to it."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such {schema.what}")
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a {schema.what}")
    foreign = f"{path}: not a prisonsim {schema.what}"
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise StoreError(f"{foreign} (not an SQLite database); left unchanged")
    try:
        with closing(connect_readonly(path)) as con:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "provenance" not in tables:
                raise StoreError(f"{foreign} (no provenance table); left unchanged")
            prov = dict(con.execute("SELECT key, value FROM provenance").fetchall())
            fmt = json.loads(prov["format"]) if "format" in prov else None
            if fmt != schema.format:
                raise StoreError(f"{foreign} (format {fmt!r}); left unchanged")
            _check_version(path, schema, {k: json.loads(v) for k, v in prov.items()})
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise StoreError(f"{path}: {schema.what} is damaged ({ok}); left unchanged")
    except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
        raise StoreError(
            f"{path}: {schema.what} is damaged or unreadable ({exc}); left unchanged"
        ) from None


def _check_version(path: Path, schema: Schema, prov: Mapping[str, Any]) -> None:
    version = prov.get("schema_version")
    if version == schema.version:
        return
    if isinstance(version, int) and version > schema.version:
        raise StoreError(
            f"{path}: written by a newer prisonsim ({schema.what} schema {version}; this "
            f"one reads {schema.version}): upgrade prisonsim to read it; left unchanged"
        )
    raise StoreError(
        f"{path}: written by an earlier prisonsim ({schema.what} schema {version}; this one "
        f"reads {schema.version}) and not readable by this one: {schema.remake(path, prov)}; "
        "left unchanged"
    )


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection (for files already checked with :func:`check_store_file`).

    In a directory this process cannot write (a read-only filesystem, say), SQLite cannot
    make the WAL index it needs to read; the file is then opened as immutable, which is
    safe there because nobody can write it either, unless a write-ahead log holds results
    not yet merged into the file (a killed sweep): that is refused with what to do.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError:
        con.close()
        if os.access(path.resolve().parent, os.W_OK):
            raise
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"{path}: its write-ahead log {wal.name} holds results not yet merged into it "
            "and its directory is read-only; copy the file and its -wal somewhere writable"
        )
    return sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=30)


@contextmanager
def reading(path: str | Path, schema: Schema) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store ``path`` (checked first); what damage makes a
    reader meet (SQLite errors, undecodable JSON, missing keys) becomes one
    :class:`StoreError` line."""
    path = Path(path)
    check_store_file(path, schema)
    try:
        with closing(connect_readonly(path)) as con:
            yield con
    except (sqlite3.DatabaseError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(
            f"{path}: {schema.what} is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "left unchanged"
        ) from None


def integrity_damage(con: sqlite3.Connection, path: Path) -> list[str]:
    """SQLite's ``integrity_check`` of a store, one line per problem."""
    check = [r[0] for r in con.execute("PRAGMA integrity_check(10)")]
    return [] if check == ["ok"] else [f"{path}: damaged: {c}" for c in check]


def fixed_damage(con: sqlite3.Connection, path: Path, schema: Schema) -> list[str]:
    """A line if the store's provenance or fixed tables (its design) fail their checksum."""
    if fixed_intact(con, schema):
        return []
    return [f"{path}: damaged: its design or provenance fails its checksum"]


def check_store_path(path: Path, option: str, schema: Schema) -> None:
    """Refuse a store path that is empty, a directory, in a place that cannot be
    written, or an existing file that is not a store of ``schema`` or cannot be written
    (a foreign or damaged file is never overwritten)."""
    check_writable_place(path, option)
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a {schema.what} name")
    if path.exists():
        check_store_file(path, schema)
        if not os.access(path, os.W_OK):
            raise OutputError(f"{option} {path}: cannot be written (read-only?)")


# ----------------------------------------------------------------------------- sessions
def _coordinator_alive(pid: int) -> bool:
    """Whether ``pid`` on this host is still a running prisonsim coordinator."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # Linux: guard against a reused pid
        try:
            return b"sim" in cmdline.read_bytes()
        except OSError:
            return True
    return True


def live_coordinator(con: sqlite3.Connection, path: Path) -> str | None:
    """Why ``path`` must not be written now (a live coordinator on this host holds it),
    or None."""
    host = socket.gethostname()
    for sid, pid, other in con.execute(
        "SELECT id, pid, host FROM sessions WHERE status='running'"
    ).fetchall():
        if other == host and pid is not None and _coordinator_alive(pid):
            return (
                f"{path} is being written by another prisonsim (pid {pid}, session {sid}); "
                "wait for it to finish or stop it first"
            )
    return None


def remove_store(path: str | Path, schema: Schema) -> None:
    """Delete the store ``path`` (with its -wal and -shm), e.g. for ``--overwrite``;
    refused for a file that is not a store of ``schema`` or that a live coordinator
    holds."""
    path = Path(path)
    with reading(path, schema) as con:
        live = live_coordinator(con, path)
    if live:
        raise StoreError(live)
    for suffix in ("-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ----------------------------------------------------------------------------- the store
class SQLiteStore:
    """Read-write access to a store, for its coordinating process only. A schema
    subclasses it, sets :attr:`schema` and adds its tables and writes."""

    schema: ClassVar[Schema]

    def __init__(self, path: Path, con: sqlite3.Connection):
        self.path = path
        self.con = con
        self.session_id: int | None = None

    @classmethod
    def _make(
        cls,
        path: str | Path,
        tables: str,
        provenance: Mapping[str, Any],
        fill: Callable[[sqlite3.Connection], None],
    ) -> Path:
        """Build a new store file: the common tables and ``tables``, ``provenance``
        (with format, version, creation time and the fixed checksum), and ``fill`` to
        write the fixed tables. Built under a temporary name and linked into place."""
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise StoreError(f"{path}: already exists; a new store is never written over a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        prov = {
            "format": cls.schema.format,
            "schema_version": cls.schema.version,
            "created_at": now_iso(),
            **provenance,
        }
        try:
            with closing(sqlite3.connect(tmp)) as con:
                con.executescript(COMMON_TABLES + tables)
                con.executemany(
                    "INSERT INTO provenance VALUES (?, ?)",
                    [(k, json.dumps(v, allow_nan=False)) for k, v in prov.items()],
                )
                fill(con)
                checksum = json.dumps(fixed_checksum(con, cls.schema))
                con.execute("INSERT INTO provenance VALUES ('fixed_checksum', ?)", (checksum,))
                con.commit()
            _place(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def _connect(cls, path: str | Path, journal: str = "wal") -> tuple[Path, sqlite3.Connection]:
        """Check ``path`` (read-only), then open it for writing; a store that cannot be
        opened so is one :class:`StoreWriteError` line."""
        path = Path(path)
        check_store_file(path, cls.schema)
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            mode = "WAL" if journal == "wal" else "DELETE"
            con.execute(f"PRAGMA journal_mode={mode}").fetchone()
            con.execute("PRAGMA synchronous=FULL")
        except sqlite3.OperationalError as exc:
            con.close()
            raise StoreWriteError(f"{path}: cannot be opened for writing ({exc})") from None
        return path, con

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); a store that cannot be written
        (a full disk, say) raises :class:`StoreWriteError` saying how to continue."""
        try:
            with self.con:
                self.con.execute("BEGIN IMMEDIATE")
                yield self.con
        except sqlite3.OperationalError as exc:
            how = self.schema.resume.format(path=self.path)
            raise StoreWriteError(
                f"{self.path}: cannot write ({exc}); what is stored so far is kept: make "
                f"room, then '{how}'"
            ) from None

    def first_commit(self) -> str | None:
        """The git commit of the session that started this store."""
        row = self.con.execute("SELECT git_commit FROM sessions ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    def begin_session(self, command: str, command_line: str, executor: str, workers: int) -> None:
        """Record the start of a command that writes here; refused while a live
        coordinator holds the store (checked and claimed in one transaction)."""
        commit, dirty = git_state()
        host = socket.gethostname()
        with self.transaction() as con:
            live = live_coordinator(con, self.path)
            if live:
                raise StoreError(live)
            # Sessions of this host still marked running have lost their coordinator.
            con.execute(
                "UPDATE sessions SET status='killed' WHERE status='running' AND host=?", (host,)
            )
            cur = con.execute(
                "INSERT INTO sessions (command, command_line, started_at, git_commit, "
                "git_dirty, package_versions, executor, workers, status, pid, host) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (
                    command,
                    command_line,
                    now_iso(),
                    commit,
                    dirty,
                    json.dumps(package_versions()),
                    executor,
                    workers,
                    os.getpid(),
                    host,
                ),
            )
            self.session_id = cur.lastrowid  # known even if a signal cuts in now

    def end_session(self, status: str) -> None:
        """Record how this session ended (finished, interrupted, stopped)."""
        if self.session_id is None:
            return
        with self.transaction() as con:
            con.execute(
                "UPDATE sessions SET finished_at=?, status=? WHERE id=?",
                (now_iso(), status, self.session_id),
            )

    def write_records(self, records: Iterable[Any]) -> None:
        """Store finished records in one transaction (each schema its own)."""
        raise NotImplementedError


class BatchWriter:
    """Collects records and stores them in one transaction at most every ``every_s``.

    Each commit costs an fsync (``synchronous=FULL``); batching keeps that a small share of
    the run time even for runs of a few milliseconds. A crash loses at most the records of
    the last ``every_s`` (they are run again on resume), never a committed one.
    """

    def __init__(self, store: SQLiteStore, every_s: float = 1.0, max_records: int = 1000):
        self.store, self.every_s, self.max_records = store, every_s, max_records
        self.pending: list[Any] = []
        self.last = time.monotonic()

    def add(self, records: Iterable[Any]) -> None:
        self.pending.extend(records)
        if time.monotonic() - self.last >= self.every_s or len(self.pending) >= self.max_records:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.write_records(self.pending)
            self.pending = []
        self.last = time.monotonic()


def _place(tmp: Path, path: Path) -> None:
    """Give the finished file ``tmp`` its name ``path``; a hard link, unlike a rename,
    never replaces a file made there meanwhile (renamed where links are not supported)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise StoreError(f"{path}: already exists (made by another process)") from None
    except OSError:  # a filesystem without hard links
        if path.exists():
            raise StoreError(f"{path}: already exists (made by another process)") from None
        os.replace(tmp, path)
