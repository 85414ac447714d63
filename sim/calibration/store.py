"""The calibration store: one SQLite file holding every model run of a calibration.

Tables:

* ``provenance`` (key, JSON value): format marker, schema version, the calibration file's
  text, its SHA-256, the config that decides the results, code version and git commit;
* ``evaluations``: one row per model run, keyed (generation, batch, idx), with its seed,
  its parameter values (JSON), its summary statistics (JSON) or its error;
* ``posterior``: the final generation's particles (parameter values and weight), written
  when the calibration ends;
* ``status`` (key, value): ``running`` / ``finished`` / ``interrupted``, timings.

pyabc's own history (generations, epsilons, particles) sits beside it, in
``<stem>.pyabc.db``. A run is stored in the same transaction as the rest of its batch, so
a calibration killed at any moment loses at most the batch in flight; resumed, it re-reads
stored runs instead of running them again. A second coordinator on the same store is
refused (an exclusive ``flock`` on ``<store>.lock``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.config.loading import UserError
from sim.experiments.storage import git_state

FORMAT = "prisonsim-calibration"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS provenance (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS status (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    generation INTEGER NOT NULL, batch INTEGER NOT NULL, idx INTEGER NOT NULL,
    seed INTEGER NOT NULL, params TEXT NOT NULL, stats TEXT, error TEXT,
    PRIMARY KEY (generation, batch, idx));
CREATE TABLE IF NOT EXISTS posterior (row INTEGER PRIMARY KEY, values_json TEXT NOT NULL);
"""


class CalibrationStoreError(UserError):
    """A calibration store that cannot be used as asked (one line, names the file)."""


@dataclass(frozen=True)
class Evaluation:
    """One stored model run of a calibration."""

    key: tuple[int, int, int]
    seed: int
    params: dict[str, Any]
    stats: dict[str, float] | None
    error: str | None


def history_path(store: Path) -> Path:
    """Where pyabc's history of ``store`` lives."""
    return store.with_name(f"{store.stem}.pyabc.db")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class CalibrationStore:
    """A calibration's runs and provenance (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock_file = None
        self.con: sqlite3.Connection | None = None

    def open(self, create: bool) -> CalibrationStore:
        """Claim the store (refused when another coordinator holds it) and open it."""
        if not create and not self.path.exists():
            raise CalibrationStoreError(f"{self.path}: no such calibration store")
        self._claim()
        self.con = sqlite3.connect(self.path, timeout=30)
        self.con.execute("PRAGMA journal_mode=WAL")
        if create:
            self.con.executescript(_SCHEMA)
        else:
            self._check_format()
        return self

    def _claim(self) -> None:
        lock = self.path.with_name(f"{self.path.name}.lock")
        self._lock_file = open(lock, "a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise CalibrationStoreError(
                f"{self.path}: another calibration is running on this store; wait for it "
                "or give another --out"
            ) from None

    def _check_format(self) -> None:
        try:
            fmt = self.provenance().get("format")
        except sqlite3.DatabaseError:
            fmt = None
        if fmt != FORMAT:
            self.close()
            raise CalibrationStoreError(
                f"{self.path}: not a prisonsim calibration store; left unchanged"
            )

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> CalibrationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ provenance
    def write_provenance(self, calibration_file: str, config: dict[str, Any]) -> None:
        commit, dirty = git_state()
        entries = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "calibration_file": calibration_file,
            "calibration_text": Path(calibration_file).read_text(),
            "calibration_sha256": file_sha256(calibration_file),
            "config": config,
            "code_version": __version__,
            "git_commit": commit,
            "git_dirty": dirty,
        }
        with self.con:
            self.con.executemany(
                "INSERT OR REPLACE INTO provenance VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in entries.items()],
            )

    def provenance(self) -> dict[str, Any]:
        rows = self.con.execute("SELECT key, value FROM provenance").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def set_status(self, **values: Any) -> None:
        with self.con:
            self.con.executemany(
                "INSERT OR REPLACE INTO status VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    def status(self) -> dict[str, Any]:
        rows = self.con.execute("SELECT key, value FROM status").fetchall()
        return {k: json.loads(v) for k, v in rows}

    # ------------------------------------------------------------------ evaluations
    def evaluations(self, keys: Iterable[tuple[int, int, int]]) -> dict[tuple, Evaluation]:
        """The stored runs among ``keys``."""
        out = {}
        for key in keys:
            row = self.con.execute(
                "SELECT seed, params, stats, error FROM evaluations "
                "WHERE generation=? AND batch=? AND idx=?",
                key,
            ).fetchone()
            if row is not None:
                out[key] = _evaluation(key, row)
        return out

    def add_evaluations(self, evaluations: Sequence[Evaluation]) -> None:
        """Store runs, all in one transaction."""
        rows = [
            (
                *e.key,
                e.seed,
                json.dumps(e.params, sort_keys=True),
                None if e.stats is None else json.dumps(e.stats, sort_keys=True),
                e.error,
            )
            for e in evaluations
        ]
        with self.con:
            self.con.executemany(
                "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )

    def count(self) -> tuple[int, int]:
        """(runs stored, runs that failed)."""
        n, failed = self.con.execute("SELECT COUNT(*), COUNT(error) FROM evaluations").fetchone()
        return int(n), int(failed)

    # ------------------------------------------------------------------ posterior
    def write_posterior(self, posterior: pd.DataFrame) -> None:
        rows = [(i, json.dumps(r, sort_keys=True)) for i, r in enumerate(_records(posterior))]
        with self.con:
            self.con.execute("DELETE FROM posterior")
            self.con.executemany("INSERT INTO posterior VALUES (?, ?)", rows)

    def posterior(self) -> pd.DataFrame:
        """The final generation's weighted particles (empty before the calibration ends)."""
        rows = self.con.execute("SELECT values_json FROM posterior ORDER BY row").fetchall()
        return pd.DataFrame([json.loads(r[0]) for r in rows])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def _evaluation(key: tuple[int, int, int], row: tuple) -> Evaluation:
    seed, params, stats, error = row
    return Evaluation(
        key, int(seed), json.loads(params), None if stats is None else json.loads(stats), error
    )


def read_posterior(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(posterior, provenance) of a finished calibration store, for experiments to draw
    their uncertainties from; refused with one line when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationStoreError(f"{path}: no such calibration store")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            prov = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM provenance")}
            rows = con.execute("SELECT values_json FROM posterior ORDER BY row").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        prov, rows = {}, []
    if prov.get("format") != FORMAT:
        raise CalibrationStoreError(f"{path}: not a prisonsim calibration store")
    if not rows:
        raise CalibrationStoreError(
            f"{path}: the calibration has not finished (no posterior); run "
            f"'prisonsim calibrate {prov.get('calibration_file', 'CONFIG')}' to finish it"
        )
    return pd.DataFrame([json.loads(r[0]) for r in rows]), prov


def remove_store(path: Path) -> None:
    """Delete a calibration store, its pyabc history and their SQLite side files."""
    for base in (path, history_path(path)):
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(f"{base}{suffix}")
            if p.exists():
                os.remove(p)
