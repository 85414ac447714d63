"""The results store: one SQLite file per experiment.

Only the coordinating process writes, one transaction per small batch of finished results
(:class:`BatchWriter`: what arrived in the last second), in WAL mode with
``synchronous=FULL``: a sweep killed at any
moment leaves every committed run intact and nothing half-written, and ``resume``
continues from what is stored. Runs are keyed by (point_id, replicate), so a result can be
stored once only.

Tables:

* ``provenance`` (key, JSON value): format marker, schema version, experiment name and
  path, resolved config and its hash, master seed, design problem (Sobol/Morris);
* ``sessions``: one row per ``sweep``/``resume`` (command line, git commit and dirty flag,
  package versions, executor, workers, start and end times, status, coordinator pid and
  host: a second coordinator on a live store is refused);
* ``points``: design points (point_id, arm, JSON values of the varied factors, sampler row);
* ``runs``: point_id, replicate, seed, one REAL column per recorded outcome, steps,
  elapsed_s, finished_at, checksum (of the results: see :func:`run_checksum`);
* ``series``: one row per run with its time series as JSON columns (t_h, values) and
  their checksum (:func:`series_checksum`);
* ``failures``: point_id, replicate, seed, error (one line), traceback, checksum.

The design (``points``) and provenance are checked by ``design_checksum`` in provenance.

:func:`load_results` turns a store into a :class:`sim.experiments.results.Results`; it is the only
thing the analysis and report layers call. Files are opened read-only until they are known
to be prisonsim stores: a damaged or foreign file is never changed. Every reader checks the
checksums of what it reads (:func:`load_results`; :func:`verify` for ``status`` and
``resume`` also runs SQLite's ``integrity_check``), so a damaged row is reported as such,
never passed on.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.loading import UserError
from sim.experiments.outputs import SQLITE_MAGIC, check_output_file, starts_with
from sim.experiments.results import Results

FORMAT = "prisonsim-results"
SCHEMA_VERSION = 2  # 2: checksums on runs and series
_SQLITE_MAGIC = SQLITE_MAGIC


class StoreError(UserError):
    """A store file that is missing, damaged, foreign or does not fit the request."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def run_checksum(key: tuple[int, int], seed: int, outcomes: list[Any], steps: Any) -> str:
    """Checksum of a stored run's results: the first 16 hex digits of the SHA-256 of
    ``[point_id, replicate, seed, [outcome values], steps]`` as JSON (floats as their
    shortest repr, which SQLite's REAL keeps exactly)."""
    text = json.dumps([*key, seed, outcomes, steps], separators=(",", ":"))
    return _digest(text.encode())


def failure_checksum(key: tuple[int, int], seed: int, error: bytes, trace: bytes) -> str:
    """Checksum of a stored failure: SHA-256 (first 16 hex digits) of its key, seed,
    error line and traceback."""
    return _digest(json.dumps([*key, seed]).encode() + b"\x00" + error + b"\x00" + trace)


def design_checksum(con: sqlite3.Connection) -> str:
    """Checksum of what a store is asked to hold, written once when it is made: every
    provenance entry (but this one) and every design point, as stored."""
    con.text_factory = bytes
    try:
        parts = [
            b"=".join(row)
            for row in con.execute(
                "SELECT key, value FROM provenance WHERE key != 'design_checksum' ORDER BY key"
            )
        ]
        parts += [
            b"\x1f".join([str(pid).encode(), arm, values, sample or b""])
            for pid, arm, values, sample in con.execute(
                "SELECT point_id, arm, point_values, sample FROM points ORDER BY point_id"
            )
        ]
    finally:
        con.text_factory = str
    return _digest(b"\x1e".join(parts))


def series_checksum(t_h: bytes, values: bytes) -> str:
    """Checksum of a stored series: the first 16 hex digits of the SHA-256 of its two
    JSON texts, as stored (UTF-8), joined by a NUL byte."""
    return _digest(t_h + b"\x00" + values)


def now_iso() -> str:
    """Current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on."""
    from importlib import metadata

    from sim import __version__

    out = {"python": sys.version.split()[0], "prisonsim": __version__}
    for pkg in ("mesa", "numpy", "scipy", "pandas", "SALib", "dask", "distributed"):
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


# ----------------------------------------------------------------------------- checking
def check_store_file(path: str | Path) -> None:
    """Raise :class:`StoreError` unless ``path`` is a prisonsim store; never writes to it."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such results file")
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a results file")
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise StoreError(
            f"{path}: not a prisonsim results file (not an SQLite database); left unchanged"
        )
    try:
        with closing(connect_readonly(path)) as con:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "provenance" not in tables:
                raise StoreError(
                    f"{path}: an SQLite file but not a prisonsim results file "
                    "(no provenance table); left unchanged"
                )
            row = con.execute("SELECT value FROM provenance WHERE key='format'").fetchone()
            fmt = json.loads(row[0]) if row else None
            if fmt != FORMAT:
                raise StoreError(
                    f"{path}: an SQLite file but not a prisonsim results file "
                    f"(format {fmt!r}); left unchanged"
                )
            row = con.execute("SELECT value FROM provenance WHERE key='schema_version'")
            version = json.loads(row.fetchone()[0])
            if version != SCHEMA_VERSION:
                raise StoreError(
                    f"{path}: results schema version {version}, this prisonsim "
                    f"reads {SCHEMA_VERSION}: run the sweep again with this version"
                )
            ok = con.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise StoreError(f"{path}: results file is damaged ({ok}); left unchanged")
    except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
        raise StoreError(
            f"{path}: results file is damaged or unreadable ({exc}); left unchanged"
        ) from None


@contextmanager
def _damage_is_store_error(path: str | Path) -> Iterator[None]:
    """Turn what damage makes a reader meet (SQLite errors, undecodable JSON, missing
    keys) into one :class:`StoreError` line."""
    try:
        yield
    except (sqlite3.DatabaseError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(
            f"{path}: results file is damaged or unreadable ({type(exc).__name__}: {exc}); "
            "left unchanged"
        ) from None


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


def verify(path: str | Path) -> list[str]:
    """Damage in a store (checked first with :func:`check_store_file`), one line each:
    SQLite's ``integrity_check``, then every run and series row decoded and checked
    against its checksum. An empty list: intact."""
    path = Path(path)
    with _damage_is_store_error(path), closing(connect_readonly(path)) as con:
        check = [r[0] for r in con.execute("PRAGMA integrity_check(10)")]
        if check != ["ok"]:
            return [f"{path}: damaged: {c}" for c in check]
        design_ok = _design_intact(con)
        outcomes = json.loads(_prov(con, "config"))["outcomes"]
        bad_runs = [key for key, _ in _checked_runs(con, outcomes) if key is not None]
        bad_series = [key for key, *_ in _checked_series(con) if key is not None]
        bad_failures = [key for key, _ in _checked_failures(con) if key is not None]
    lines = [] if design_ok else [f"{path}: damaged: its design or provenance fails its checksum"]
    for what, bad in (("run", bad_runs), ("series", bad_series), ("failure", bad_failures)):
        if bad:
            first = ", ".join(f"point {p} replicate {r}" for p, r in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            lines.append(
                f"{path}: damaged: {len(bad)} stored {what} rows fail their checksum "
                f"({first}{more}); left unchanged"
            )
    return lines


# ----------------------------------------------------------------------------- the store
@dataclass
class StoreSummary:
    """Counts and identity of a store, for ``status`` and messages."""

    name: str
    path: str
    expected_runs: int
    runs: int
    failures: int
    config_hash: str
    experiment_path: str | None

    @property
    def remaining(self) -> int:
        return self.expected_runs - self.runs - self.failures


class Store:
    """Read-write access to a results file, for the coordinating process only."""

    def __init__(self, path: Path, con: sqlite3.Connection, outcomes: list[str]):
        self.path = path
        self.con = con
        self.outcomes = outcomes
        self.session_id: int | None = None
        cols = ", ".join(_q(o) for o in outcomes)
        marks = ", ".join("?" for _ in outcomes)
        self._insert_run = (
            f"INSERT OR IGNORE INTO runs (point_id, replicate, seed, {cols}, steps, elapsed_s,"
            f" finished_at, checksum) VALUES (?, ?, ?, {marks}, ?, ?, ?, ?)"
        )

    # -- creating and opening
    @classmethod
    def create(cls, path: str | Path, experiment: Any, *, journal: str = "wal") -> Store:
        """Write a new store for ``experiment`` (a :class:`sim.experiments.loader.Experiment`).

        The file is built under a temporary name and renamed into place, so a store either
        exists complete with its design or not at all.
        """
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise StoreError(f"{path}: already exists; a new store is never written over a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with closing(sqlite3.connect(tmp)) as con:
                _create_schema(con, experiment)
                con.commit()
            _place(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return cls.open(path, journal=journal)

    @classmethod
    def open(cls, path: str | Path, *, journal: str = "wal") -> Store:
        """Open an existing store for writing (after checking it, read-only)."""
        path = Path(path)
        check_store_file(path)
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
        mode = con.execute(f"PRAGMA journal_mode={'WAL' if journal == 'wal' else 'DELETE'}")
        mode.fetchone()
        con.execute("PRAGMA synchronous=FULL")
        outcomes = json.loads(_prov(con, "config"))["outcomes"]
        return cls(path, con, outcomes)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading
    def done_keys(self) -> set[tuple[int, int]]:
        """(point_id, replicate) of every stored run and failure: what a resume skips."""
        keys = set(self.con.execute("SELECT point_id, replicate FROM runs"))
        return keys | set(self.con.execute("SELECT point_id, replicate FROM failures"))

    def summary(self) -> StoreSummary:
        return _summary(self.con, self.path)

    def failures(self) -> list[tuple[int, int, int, str]]:
        """(point_id, replicate, seed, error) of every stored failure."""
        return _failures(self.con)

    def first_commit(self) -> str | None:
        """The git commit of the session that started this store."""
        row = self.con.execute("SELECT git_commit FROM sessions ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    # -- writing (each call is one transaction)
    def write_results(self, results: Iterable[Mapping[str, Any]]) -> None:
        """Store finished runs and failures in one transaction."""
        stamp = now_iso()
        runs, series, failures, cleared = [], [], [], []
        for r in results:
            key = (r["point_id"], r["replicate"])
            if r.get("error") is None:
                outs = [_as_stored(r["outcomes"].get(o)) for o in self.outcomes]
                steps = None if r.get("steps") is None else int(r["steps"])
                check = run_checksum(key, r["seed"], outs, steps)
                runs.append((*key, r["seed"], *outs, steps, r.get("elapsed_s"), stamp, check))
                cleared.append(key)
                if r.get("series") is not None:
                    t_h = json.dumps(r["series"]["t_h"], allow_nan=False)
                    values = json.dumps(r["series"]["values"], allow_nan=False)
                    check = series_checksum(t_h.encode(), values.encode())
                    series.append((*key, t_h, values, check))
            else:
                error, trace = str(r["error"]), str(r.get("traceback") or "")
                check = failure_checksum(key, r["seed"], error.encode(), trace.encode())
                failures.append((*key, r["seed"], error, trace, stamp, check))
        with self.con:
            self.con.execute("BEGIN IMMEDIATE")
            if cleared:
                self.con.executemany(
                    "DELETE FROM failures WHERE point_id=? AND replicate=?", cleared
                )
            self.con.executemany(self._insert_run, runs)
            self.con.executemany("INSERT OR IGNORE INTO series VALUES (?, ?, ?, ?, ?)", series)
            self.con.executemany(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)", failures
            )

    def forget_failures(self) -> int:
        """Delete stored failures so that they are run again; returns how many."""
        with self.con:
            self.con.execute("BEGIN IMMEDIATE")
            return self.con.execute("DELETE FROM failures").rowcount

    def begin_session(self, command: str, command_line: str, executor: str, workers: int) -> None:
        """Record the start of a sweep or resume (provenance of who ran what, when)."""
        commit, dirty = git_state()
        host = socket.gethostname()
        with self.con:
            self.con.execute("BEGIN IMMEDIATE")  # check and claim in one transaction
            live = _live_coordinator(self.con, self.path)
            if live:
                raise StoreError(live)
            # Sessions of this host still marked running have lost their coordinator.
            self.con.execute(
                "UPDATE sessions SET status='killed' WHERE status='running' AND host=?", (host,)
            )
            cur = self.con.execute(
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
        if self.session_id is None:
            return
        with self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.execute(
                "UPDATE sessions SET finished_at=?, status=? WHERE id=?",
                (now_iso(), status, self.session_id),
            )


def _as_stored(value: Any) -> float | None:
    """An outcome as SQLite's REAL column keeps it (NaN is stored as NULL)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


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


class BatchWriter:
    """Collects results and stores them in one transaction at most every ``every_s``.

    Each commit costs an fsync (``synchronous=FULL``); batching keeps that a small share of
    the run time even for runs of a few milliseconds. A crash loses at most the results of
    the last ``every_s`` (they are run again on resume), never a committed one.
    """

    def __init__(self, store: Store, every_s: float = 1.0, max_results: int = 1000):
        self.store, self.every_s, self.max_results = store, every_s, max_results
        self.pending: list[Mapping[str, Any]] = []
        self.last = time.monotonic()

    def add(self, results: Iterable[Mapping[str, Any]]) -> None:
        self.pending.extend(results)
        if time.monotonic() - self.last >= self.every_s or len(self.pending) >= self.max_results:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.write_results(self.pending)
            self.pending = []
        self.last = time.monotonic()


def _live_coordinator(con: sqlite3.Connection, path: Path) -> str | None:
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


def remove_store(path: str | Path) -> None:
    """Delete the store ``path`` (with its -wal and -shm) for ``sweep --overwrite``;
    refused for a file that is not a prisonsim store or that a live coordinator holds."""
    path = Path(path)
    check_store_file(path)
    with _damage_is_store_error(path), closing(connect_readonly(path)) as con:
        live = _live_coordinator(con, path)
    if live:
        raise StoreError(live)
    for suffix in ("-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class StoreStatus:
    """What ``prisonsim status`` shows: counts, the question, sessions and failures."""

    summary: StoreSummary
    question: str
    sessions: list[dict[str, Any]]
    failures: list[tuple[int, int, int, str]]


def _failures(con: sqlite3.Connection) -> list[tuple[int, int, int, str]]:
    return con.execute(
        "SELECT point_id, replicate, seed, error FROM failures ORDER BY point_id, replicate"
    ).fetchall()


def read_status(path: str | Path) -> StoreStatus:
    """Progress of a store, read-only (after :func:`check_store_file`)."""
    path = Path(path)
    check_store_file(path)
    with _damage_is_store_error(path), closing(connect_readonly(path)) as con:
        con.row_factory = sqlite3.Row
        sessions = [
            dict(r)
            for r in con.execute(
                "SELECT id, command, started_at, finished_at, status, workers, executor, "
                "git_commit, git_dirty FROM sessions ORDER BY id"
            )
        ]
        con.row_factory = None
        question = json.loads(_prov(con, "config"))["question"]
        return StoreStatus(_summary(con, path), question, sessions, _failures(con))


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


def _prov(con: sqlite3.Connection, key: str) -> str:
    row = con.execute("SELECT value FROM provenance WHERE key=?", (key,)).fetchone()
    if row is None:
        raise StoreError(f"results file lacks provenance {key!r}")
    return row[0]


def _create_schema(con: sqlite3.Connection, exp: Any) -> None:
    outcome_cols = "".join(f", {_q(o)} REAL" for o in exp.outcomes)
    con.executescript(f"""
        CREATE TABLE provenance (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT, command_line TEXT,
            started_at TEXT, finished_at TEXT, git_commit TEXT, git_dirty INTEGER,
            package_versions TEXT, executor TEXT, workers INTEGER, status TEXT,
            pid INTEGER, host TEXT);
        CREATE TABLE points (
            point_id INTEGER PRIMARY KEY, arm TEXT NOT NULL, point_values TEXT NOT NULL,
            sample TEXT);
        CREATE TABLE runs (
            point_id INTEGER NOT NULL REFERENCES points, replicate INTEGER NOT NULL,
            seed INTEGER NOT NULL{outcome_cols}, steps INTEGER, elapsed_s REAL,
            finished_at TEXT, checksum TEXT NOT NULL, PRIMARY KEY (point_id, replicate));
        CREATE TABLE series (
            point_id INTEGER NOT NULL, replicate INTEGER NOT NULL, t_h TEXT NOT NULL,
            series_values TEXT NOT NULL, checksum TEXT NOT NULL,
            PRIMARY KEY (point_id, replicate));
        CREATE TABLE failures (
            point_id INTEGER NOT NULL, replicate INTEGER NOT NULL, seed INTEGER NOT NULL,
            error TEXT, traceback TEXT, finished_at TEXT, checksum TEXT NOT NULL,
            PRIMARY KEY (point_id, replicate));
    """)
    prov = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "experiment_name": exp.name,
        "experiment_path": str(Path(exp.path).resolve()) if exp.path else None,
        "config": exp.config(),
        "config_hash": exp.config_hash(),
        "master_seed": exp.master_seed,
        "expected_runs": exp.expected_runs,
        "levers": exp.lever_names,
        "uncertainties": exp.uncertainty_names,
        "problem": exp.problem,
        "created_at": now_iso(),
    }
    con.executemany(
        "INSERT INTO provenance VALUES (?, ?)",
        [(k, json.dumps(v, allow_nan=False)) for k, v in prov.items()],
    )
    samples = exp.samples
    con.executemany(
        "INSERT INTO points VALUES (?, ?, ?, ?)",
        [
            (
                p.point_id,
                p.arm,
                json.dumps(p.values),
                json.dumps(samples[p.point_id].tolist()) if samples is not None else None,
            )
            for p in exp.points
        ],
    )
    con.execute(
        "INSERT INTO provenance VALUES ('design_checksum', ?)", (json.dumps(design_checksum(con)),)
    )


def _checked_runs(
    con: sqlite3.Connection, outcomes: list[str]
) -> Iterable[tuple[tuple[int, int] | None, tuple]]:
    """(None, row) for every intact run, (key, ()) for one failing its checksum; rows are
    (point_id, replicate, seed, outcome values..., steps) in (point_id, replicate) order."""
    cols = "".join(f", {_q(o)}" for o in outcomes)
    con.text_factory = bytes  # damaged text must not stop the reading
    try:
        cursor = con.execute(
            f"SELECT point_id, replicate, seed{cols}, steps, checksum FROM runs "
            "ORDER BY point_id, replicate"
        )
        for *row, check in cursor:
            key = (row[0], row[1])
            try:
                ok = run_checksum(key, row[2], row[3:-1], row[-1]) == check.decode("ascii")
            except (TypeError, ValueError, AttributeError):
                ok = False
            yield (None, tuple(row)) if ok else (key, ())
    finally:
        con.text_factory = str


def _checked_series(con: sqlite3.Connection) -> Iterable[tuple[tuple[int, int] | None, Any]]:
    """(None, point_id, replicate, t_h list, values dict) for every intact series,
    (key, None, None, None, None) for one failing its checksum or not decoding."""
    con.text_factory = bytes
    try:
        cursor = con.execute(
            "SELECT point_id, replicate, CAST(t_h AS BLOB), CAST(series_values AS BLOB), "
            "checksum FROM series ORDER BY point_id, replicate"
        )
        for pid, rep, t_h, values, check in cursor:
            try:
                if series_checksum(t_h, values) != check.decode("ascii"):
                    raise ValueError("checksum")
                yield None, pid, rep, json.loads(t_h), json.loads(values)
            except (TypeError, ValueError, AttributeError):
                yield (pid, rep), None, None, None, None
    finally:
        con.text_factory = str


def _design_intact(con: sqlite3.Connection) -> bool:
    try:
        return json.loads(_prov(con, "design_checksum")) == design_checksum(con)
    except (StoreError, ValueError, TypeError):
        return False


def _checked_failures(con: sqlite3.Connection) -> Iterable[tuple[tuple[int, int] | None, tuple]]:
    """(None, (point_id, replicate, seed, error, traceback)) for every intact failure,
    (key, ()) for one failing its checksum."""
    con.text_factory = bytes
    try:
        cursor = con.execute(
            "SELECT point_id, replicate, seed, error, traceback, checksum FROM failures "
            "ORDER BY point_id, replicate"
        )
        for pid, rep, seed, error, trace, check in cursor:
            try:
                ok = failure_checksum((pid, rep), seed, error, trace) == check.decode("ascii")
                row = (pid, rep, seed, error.decode(), trace.decode())
            except (TypeError, ValueError, AttributeError):
                ok = False
            yield (None, row) if ok else ((pid, rep), ())
    finally:
        con.text_factory = str


def _summary(con: sqlite3.Connection, path: Path) -> StoreSummary:
    def prov(key: str) -> Any:
        return json.loads(_prov(con, key))

    return StoreSummary(
        name=prov("experiment_name"),
        path=str(path),
        expected_runs=int(prov("expected_runs")),
        runs=con.execute("SELECT COUNT(*) FROM runs").fetchone()[0],
        failures=con.execute("SELECT COUNT(*) FROM failures").fetchone()[0],
        config_hash=prov("config_hash"),
        experiment_path=prov("experiment_path"),
    )


def read_summary(path: str | Path) -> StoreSummary:
    """Counts of a store, read-only."""
    path = Path(path)
    check_store_file(path)
    with _damage_is_store_error(path), closing(connect_readonly(path)) as con:
        return _summary(con, path)


# ----------------------------------------------------------------------------- loading
def load_results(path: str | Path) -> Results:
    """Read a store (read-only) into a :class:`~sim.experiments.results.Results`; see
    :func:`_load_results`. A store damaged anywhere raises :class:`StoreError`."""
    with _damage_is_store_error(path):
        return _load_results(Path(path))


def _load_results(path: Path) -> Results:
    """Read a store (read-only) into a :class:`~sim.experiments.results.Results`.

    ``runs`` is ordered by (point_id, replicate); ``series`` is long
    (point_id, arm, replicate, t_h, variable, value); for Sobol and Morris designs
    ``design_samples`` holds the sampler's matrix in design order (one row per point, the
    values of the continuous factors before integer rounding) and ``problem`` the SALib
    problem dict, so ``SALib.analyze`` can run on the stored outcomes.
    """
    check_store_file(path)
    with closing(connect_readonly(path)) as con:
        prov = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM provenance")}
        config = prov["config"]
        levers, uncs, outcomes = prov["levers"], prov["uncertainties"], config["outcomes"]
        points = pd.read_sql_query(
            "SELECT point_id, arm, point_values, sample FROM points ORDER BY point_id", con
        )
        run_rows = list(_checked_runs(con, outcomes))
        series_raw = list(_checked_series(con))
        failure_rows = list(_checked_failures(con))
        design_ok = _design_intact(con)
        sessions = pd.read_sql_query("SELECT * FROM sessions ORDER BY id", con)
    damaged = [key for key, _ in run_rows + failure_rows if key]
    damaged += [row[0] for row in series_raw if row[0]]
    if not design_ok:
        raise StoreError(f"{path}: damaged: its design or provenance fails its checksum")
    if damaged:
        raise StoreError(
            f"{path}: damaged: {len(damaged)} stored rows fail their checksum (e.g. point "
            f"{damaged[0][0]} replicate {damaged[0][1]}); left unchanged; "
            f"see 'prisonsim status {path}'"
        )
    runs = pd.DataFrame(
        [row[:-1] for _, row in run_rows], columns=["point_id", "replicate", "seed", *outcomes]
    ).astype({"point_id": "int64", "replicate": "int64", "seed": "int64"})
    failures = pd.DataFrame(
        [row for _, row in failure_rows],
        columns=["point_id", "replicate", "seed", "error", "traceback"],
    ).astype({"point_id": "int64", "replicate": "int64", "seed": "int64"})

    values = pd.DataFrame(
        [json.loads(v) for v in points["point_values"]],
        index=points["point_id"],
        columns=[*levers, *uncs],
    )
    arms = points.set_index("point_id")["arm"]
    runs.insert(1, "arm", runs["point_id"].map(arms).astype(str))
    for col in [*levers, *uncs]:
        runs.insert(
            runs.columns.get_loc("seed") + 1 + [*levers, *uncs].index(col),
            col,
            runs["point_id"].map(values[col]).to_numpy(),
        )
    for o in outcomes:
        runs[o] = runs[o].astype(float)
    failures.insert(1, "arm", failures["point_id"].map(arms).astype(str))

    frames = []
    for _, pid, rep, t, values_by_variable in series_raw:
        for var, vals in values_by_variable.items():
            frames.append(
                pd.DataFrame(
                    {"point_id": pid, "replicate": rep, "t_h": t, "variable": var, "value": vals}
                )
            )
    cols = ["point_id", "arm", "replicate", "t_h", "variable", "value"]
    if frames:
        series = pd.concat(frames, ignore_index=True)
        series.insert(1, "arm", series["point_id"].map(arms).astype(str))
        series["value"] = series["value"].astype(float)
    else:
        series = pd.DataFrame({c: pd.Series(dtype=float) for c in cols})

    design_samples = None
    problem = prov.get("problem")
    if problem is not None:
        design_samples = pd.DataFrame(
            [json.loads(s) for s in points["sample"]], columns=problem["names"]
        )
    sess = sessions.to_dict("records")
    last = sess[-1] if sess else {}
    provenance = {
        "config_hash": prov["config_hash"],
        "master_seed": prov["master_seed"],
        "experiment_name": prov["experiment_name"],
        "experiment_path": prov["experiment_path"],
        "created_at": prov["created_at"],
        "package_versions": json.loads(last["package_versions"]) if last else {},
        "git_commit": last.get("git_commit"),
        "git_dirty": None if last.get("git_dirty") is None else bool(last["git_dirty"]),
        "command_line": last.get("command_line"),
        "started_at": sess[0]["started_at"] if sess else None,
        "finished_at": last.get("finished_at"),
        "sessions": sess,
    }
    return Results(
        experiment=config,
        runs=runs,
        series=series,
        failures=failures,
        provenance=provenance,
        expected_runs=int(prov["expected_runs"]),
        levers=list(levers),
        uncertainties=list(uncs),
        outcomes=list(outcomes),
        design_samples=design_samples,
        problem=problem,
    )


_EXPORT_COLUMNS = ("point_id", "arm", "replicate")  # every exported table starts so


def _earlier_export(target: Path) -> bool:
    """Whether ``target`` holds an earlier export (its columns start as ours do)."""
    if target.suffix == ".csv":
        return starts_with(target, ",".join(_EXPORT_COLUMNS).encode() + b",")
    try:
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(target).names[:3]) == _EXPORT_COLUMNS
    except Exception:  # not a Parquet file at all
        return False


def export(path: str | Path, fmt: str, out: str | Path | None = None) -> list[Path]:
    """Write runs (and series, failures when present) as Parquet or CSV; return paths.

    ``out`` names the runs file; series and failures go beside it as
    ``<stem>.series.<ext>`` and ``<stem>.failures.<ext>``. Every target is checked before
    anything is written: new, or an earlier export (never the store, an SQLite file or
    any other file).
    """
    res = load_results(path)
    ext = {"parquet": "parquet", "csv": "csv"}[fmt]
    runs_path = Path(out) if out is not None else Path(path).with_suffix(f".{ext}")
    stem = runs_path.with_suffix("")
    tables = [
        (table, target)
        for table, target in (
            (res.runs, runs_path),
            (res.series, stem.with_name(f"{stem.name}.series.{ext}")),
            (res.failures, stem.with_name(f"{stem.name}.failures.{ext}")),
        )
        if table is res.runs or not table.empty
    ]
    for _, target in tables:
        check_output_file(target, "--out", earlier_output=_earlier_export, inputs=[Path(path)])
    runs_path.parent.mkdir(parents=True, exist_ok=True)
    for table, target in tables:
        if fmt == "parquet":
            table.to_parquet(target, index=False)
        else:
            table.to_csv(target, index=False)
    return [target for _, target in tables]
