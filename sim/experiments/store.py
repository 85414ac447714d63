"""The results store: the sweep's schema, on the common store of :mod:`~sim.experiments.storage`.

The only code that turns the contract (:mod:`sim.experiments.contract`) into rows and
back. Besides ``provenance`` and ``sessions`` a results file has:

* ``points`` (fixed, written when the store is made): point_id, arm (its label),
  point_values (JSON: the varied levers, then uncertainties), sample (JSON: the sampler's
  row of a Sobol or Morris design, else NULL);
* ``runs``: point_id, replicate, seed, one REAL column per recorded outcome (NaN stored
  as NULL), steps, elapsed_s, finished_at, checksum of the results (:func:`_run_checksum`);
* ``series``: point_id, replicate, t_h and series_values (JSON), checksum;
* ``failures``: point_id, replicate, seed, error (one line), traceback, finished_at,
  checksum.

Provenance holds the :class:`ExperimentSpec` as JSON (``spec``, its points in
``points``), its hash (``spec_hash``: what decides the results, see :func:`spec_hash`) and
the experiment file's path. Runs are keyed by (point_id, replicate), so a result is
stored once only. A store of an earlier schema is refused in one line saying how to run
the sweep again.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.contract import (
    DesignSpec,
    ExperimentSpec,
    Factor,
    Point,
    Provenance,
    Results,
    RunKey,
    RunRecord,
    StoreStatus,
    StoreSummary,
)
from sim.experiments.outputs import check_output_file, starts_with
from sim.experiments.seeds import content_digest
from sim.experiments.storage import (
    Schema,
    SQLiteStore,
    StoreError,
    checked_rows,
    digest,
    fixed_damage,
    integrity_damage,
    json_checksum,
    now_iso,
    provenance_value,
    read_provenance,
    read_sessions,
    reading,
    remove_store,
    text,
)
from sim.model.params import PARAMS


def _remake(path: Path, provenance: Mapping[str, Any]) -> str:
    experiment = provenance.get("experiment_path") or "EXPERIMENT.yaml"
    return f"run the sweep again: prisonsim sweep {experiment} --out NEW.db"


RESULTS = Schema(
    format="prisonsim-results",
    version=3,  # 3: the typed spec in provenance; 2: checksums on runs and series
    what="results file",
    fixed=("points",),
    remake=_remake,
    resume="prisonsim resume {path}",
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------- the spec as JSON
def _factor_data(f: Factor) -> dict[str, Any]:
    if f.discrete:
        return {"name": f.name, "role": f.role, "values": list(f.values)}
    out = {"name": f.name, "role": f.role, "distribution": f.distribution}
    return out | {"low": f.low, "high": f.high, "mean": f.mean, "sd": f.sd, "mode": f.mode}


def spec_data(spec: ExperimentSpec) -> dict[str, Any]:
    """The spec as JSON-able data, without its points (stored in their own table)."""
    d = spec.design
    return {
        "name": spec.name,
        "question": spec.question,
        "description": spec.description,
        "scenario": spec.scenario,
        "compare_with_reported": spec.compare_with_reported,
        "base_params": dict(spec.base_params),
        "constants": dict(spec.constants),
        "levers": [_factor_data(f) for f in spec.levers],
        "uncertainties": [_factor_data(f) for f in spec.uncertainties],
        "design": {
            "type": d.type,
            "samples": d.samples,
            "levels": d.levels,
            "second_order": d.second_order,
            "points": None if d.points is None else [dict(p) for p in d.points],
        },
        "replicates": spec.replicates,
        "master_seed": spec.master_seed,
        "outcomes": list(spec.outcomes),
        "series_every_h": spec.series_every_h,
        "reference_arm": spec.reference_arm,
        "calibration": spec.calibration,
    }


def spec_hash(spec: ExperimentSpec) -> str:
    """SHA-256 of what decides the results: the spec but its name, question,
    description and reference arm (see :func:`~sim.experiments.seeds.content_digest`)."""
    text_only = ("name", "question", "description", "reference_arm")
    return content_digest({k: v for k, v in spec_data(spec).items() if k not in text_only})


def _factor(data: Mapping[str, Any]) -> Factor:
    values = data.get("values")
    rest = {k: v for k, v in data.items() if k != "values"}
    return Factor(**rest, values=None if values is None else tuple(values))


def spec_from_data(
    data: Mapping[str, Any], points: tuple[Point, ...], source: str | None
) -> ExperimentSpec:
    """The inverse of :func:`spec_data`, with the stored points."""
    d = dict(data["design"])
    if d["points"] is not None:
        d["points"] = tuple(d["points"])
    fields = {k: v for k, v in data.items() if k not in ("design", "levers", "uncertainties")}
    return ExperimentSpec(
        **fields | {"outcomes": tuple(data["outcomes"])},
        design=DesignSpec(**d),
        levers=tuple(_factor(f) for f in data["levers"]),
        uncertainties=tuple(_factor(f) for f in data["uncertainties"]),
        points=points,
        source=source,
    )


def _point_row(p: Point) -> tuple:
    sample = None if p.sample is None else json.dumps(list(p.sample))
    return (p.point_id, p.arm, json.dumps(p.values), sample)


def _point(row: tuple, levers: set[str] | None) -> Point:
    """A stored point; ``levers`` names its levers (None: the parameters of role lever)."""
    point_id, _, values, sample = row
    values = json.loads(values)
    is_lever = {n: (PARAMS[n].role == "lever" if levers is None else n in levers) for n in values}
    return Point(
        point_id,
        {n: v for n, v in values.items() if is_lever[n]},
        {n: v for n, v in values.items() if not is_lever[n]},
        None if sample is None else tuple(json.loads(sample)),
    )


def read_spec(con: sqlite3.Connection) -> ExperimentSpec:
    """The stored spec with its points."""
    data = json.loads(provenance_value(con, "spec"))
    levers = None if data["design"]["type"] == "points" else {f["name"] for f in data["levers"]}
    rows = con.execute("SELECT point_id, arm, point_values, sample FROM points ORDER BY point_id")
    points = tuple(_point(row, levers) for row in rows)
    source = json.loads(provenance_value(con, "experiment_path"))
    return spec_from_data(data, points, source)


# ----------------------------------------------------------------------------- checksums
def _run_checksum(key: RunKey, outcomes: list[Any], steps: Any) -> str:
    """Checksum of a stored run: :func:`json_checksum` of point_id, replicate, seed, the
    outcome values and steps."""
    return json_checksum(key.point_id, key.replicate, key.seed, outcomes, steps)


def _failure_checksum(key: RunKey, error: bytes, trace: bytes) -> str:
    """Checksum of a stored failure: its key and seed (JSON), error line and traceback,
    joined by NUL bytes."""
    head = json.dumps([key.point_id, key.replicate, key.seed]).encode()
    return digest(head + b"\x00" + error + b"\x00" + trace)


def _series_checksum(t_h: bytes, values: bytes) -> str:
    """Checksum of a stored series: its two JSON texts (UTF-8) joined by a NUL byte."""
    return digest(t_h + b"\x00" + values)


def _as_stored(value: Any) -> float | None:
    """An outcome as SQLite's REAL column keeps it (NaN is stored as NULL)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


# ----------------------------------------------------------------------------- writing
class ResultsStore(SQLiteStore):
    """A results file open for writing, by the coordinating process only."""

    schema = RESULTS

    def __init__(self, path: Path, con: sqlite3.Connection, spec: ExperimentSpec):
        super().__init__(path, con)
        self.spec = spec
        cols = ", ".join(_q(o) for o in spec.outcomes)
        marks = ", ".join("?" for _ in spec.outcomes)
        self._insert_run = (
            f"INSERT OR IGNORE INTO runs (point_id, replicate, seed, {cols}, steps, elapsed_s,"
            f" finished_at, checksum) VALUES (?, ?, ?, {marks}, ?, ?, ?, ?)"
        )

    @classmethod
    def create(
        cls, path: str | Path, spec: ExperimentSpec, *, journal: str = "wal"
    ) -> ResultsStore:
        """Write a new results file for ``spec``: it exists complete with its design, or
        not at all."""
        outcome_cols = "".join(f", {_q(o)} REAL" for o in spec.outcomes)
        tables = f"""
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
        """
        provenance = {
            "spec": spec_data(spec),
            "spec_hash": spec_hash(spec),
            "experiment_path": str(Path(spec.source).resolve()) if spec.source else None,
        }

        def fill(con: sqlite3.Connection) -> None:
            rows = [_point_row(p) for p in spec.points]
            con.executemany("INSERT INTO points VALUES (?, ?, ?, ?)", rows)

        cls._make(path, tables, provenance, fill)
        return cls.open(path, journal=journal)

    @classmethod
    def open(cls, path: str | Path, *, journal: str = "wal") -> ResultsStore:
        """Open an existing results file for writing (after checking it, read-only)."""
        path, con = cls._connect(path, journal)
        try:
            spec = read_spec(con)
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
            con.close()
            raise StoreError(f"{path}: results file is damaged ({exc}); left unchanged") from None
        return cls(path, con, spec)

    def done_keys(self) -> set[tuple[int, int]]:
        """(point_id, replicate) of every stored run and failure: what a resume skips."""
        keys = set(self.con.execute("SELECT point_id, replicate FROM runs"))
        return keys | set(self.con.execute("SELECT point_id, replicate FROM failures"))

    def write_records(self, records: Iterable[RunRecord]) -> None:
        """Store finished runs and failures in one transaction."""
        stamp = now_iso()
        runs, series, failures, cleared = [], [], [], []
        for r in records:
            k = r.key
            if r.ok:
                outs = [_as_stored(r.outcomes.get(o)) for o in self.spec.outcomes]
                check = _run_checksum(k, outs, r.steps)
                runs.append(
                    (k.point_id, k.replicate, k.seed, *outs, r.steps, r.elapsed_s, stamp, check)
                )
                cleared.append((k.point_id, k.replicate))
                if r.series is not None:
                    t_h = json.dumps(list(r.series.t_h), allow_nan=False)
                    values = json.dumps({v: list(x) for v, x in r.series.values.items()})
                    check = _series_checksum(t_h.encode(), values.encode())
                    series.append((k.point_id, k.replicate, t_h, values, check))
            else:
                error, trace = str(r.error), str(r.traceback or "")
                check = _failure_checksum(k, error.encode(), trace.encode())
                failures.append((k.point_id, k.replicate, k.seed, error, trace, stamp, check))
        with self.transaction() as con:
            con.executemany("DELETE FROM failures WHERE point_id=? AND replicate=?", cleared)
            con.executemany(self._insert_run, runs)
            con.executemany("INSERT OR IGNORE INTO series VALUES (?, ?, ?, ?, ?)", series)
            con.executemany(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)", failures
            )

    def forget_failures(self) -> int:
        """Delete stored failures so that they are run again; returns how many."""
        with self.transaction() as con:
            return con.execute("DELETE FROM failures").rowcount

    def summary(self) -> StoreSummary:
        return _summary(self.con, self.path, self.spec)

    def failures(self) -> tuple[RunRecord, ...]:
        return _failures(self.con)


# ----------------------------------------------------------------------------- reading
def _summary(con: sqlite3.Connection, path: Path, spec: ExperimentSpec) -> StoreSummary:
    return StoreSummary(
        name=spec.name,
        path=str(path),
        expected_runs=spec.expected_runs,
        runs=con.execute("SELECT COUNT(*) FROM runs").fetchone()[0],
        failures=con.execute("SELECT COUNT(*) FROM failures").fetchone()[0],
        spec_hash=json.loads(provenance_value(con, "spec_hash")),
        experiment_path=spec.source,
    )


def _failures(con: sqlite3.Connection) -> tuple[RunRecord, ...]:
    rows = con.execute(
        "SELECT point_id, replicate, seed, error FROM failures ORDER BY point_id, replicate"
    )
    return tuple(RunRecord.failed(RunKey(*row[:3]), row[3] or "") for row in rows)


def read_summary(path: str | Path) -> StoreSummary:
    """Counts of a results file, read-only."""
    with reading(path, RESULTS) as con:
        return _summary(con, Path(path), read_spec(con))


def read_status(path: str | Path) -> StoreStatus:
    """Progress of a results file, read-only: counts, question, sessions, failures."""
    with reading(path, RESULTS) as con:
        spec = read_spec(con)
        summary = _summary(con, Path(path), spec)
        return StoreStatus(summary, spec.question, read_sessions(con), _failures(con))


def _decode_run(outcomes: int) -> Any:
    def decode(row: tuple) -> tuple:
        *values, check = row
        key = RunKey(*values[:3])
        if _run_checksum(key, values[3:-1], values[-1]) != check.decode("ascii"):
            raise ValueError("checksum")
        return tuple(values[: 3 + outcomes])

    return decode


def _decode_series(row: tuple) -> tuple:
    pid, rep, t_h, values, check = row
    if _series_checksum(t_h, values) != check.decode("ascii"):
        raise ValueError("checksum")
    return pid, rep, json.loads(t_h), json.loads(values)


def _decode_failure(row: tuple) -> tuple:
    pid, rep, seed, error, trace, check = row
    if _failure_checksum(RunKey(pid, rep, seed), error, trace) != check.decode("ascii"):
        raise ValueError("checksum")
    return pid, rep, seed, text(error), text(trace)


def _checked(con: sqlite3.Connection, outcomes: tuple[str, ...]) -> dict[str, list]:
    """Every run, series and failure row, decoded and checked against its checksum:
    ``{table: [(key, decoded row or None if damaged)]}``."""
    cols = "".join(f", {_q(o)}" for o in outcomes)
    queries = {
        "run": (
            f"SELECT point_id, replicate, seed{cols}, steps, checksum FROM runs "
            "ORDER BY point_id, replicate",
            _decode_run(len(outcomes)),
        ),
        "series": (
            "SELECT point_id, replicate, CAST(t_h AS BLOB), CAST(series_values AS BLOB), "
            "checksum FROM series ORDER BY point_id, replicate",
            _decode_series,
        ),
        "failure": (
            "SELECT point_id, replicate, seed, error, traceback, checksum FROM failures "
            "ORDER BY point_id, replicate",
            _decode_failure,
        ),
    }
    return {
        table: [((row[0], row[1]), decoded) for row, decoded in checked_rows(con, sql, decode)]
        for table, (sql, decode) in queries.items()
    }


def verify(path: str | Path) -> list[str]:
    """Damage in a results file, one line each: SQLite's ``integrity_check``, the design
    and provenance checksum, then every run, series and failure row decoded and checked
    against its checksum. An empty list: intact."""
    path = Path(path)
    with reading(path, RESULTS) as con:
        lines = integrity_damage(con, path)
        if lines:
            return lines
        lines = fixed_damage(con, path, RESULTS)
        checked = _checked(con, read_spec(con).outcomes)
    for what, rows in checked.items():
        bad = [key for key, decoded in rows if decoded is None]
        if bad:
            first = ", ".join(f"point {p} replicate {r}" for p, r in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            lines.append(
                f"{path}: damaged: {len(bad)} stored {what} rows fail their checksum "
                f"({first}{more}); left unchanged"
            )
    return lines


def load_results(path: str | Path) -> Results:
    """Read a results file (read-only) into :class:`~sim.experiments.contract.Results`;
    a store damaged anywhere raises :class:`StoreError` (one line)."""
    path = Path(path)
    with reading(path, RESULTS) as con:
        damage = integrity_damage(con, path) or fixed_damage(con, path, RESULTS)
        if damage:
            raise StoreError(damage[0])
        spec = read_spec(con)
        checked = _checked(con, spec.outcomes)
        prov = read_provenance(con)
        sessions = read_sessions(con)
    damaged = [key for rows in checked.values() for key, decoded in rows if decoded is None]
    if damaged:
        raise StoreError(
            f"{path}: damaged: {len(damaged)} stored rows fail their checksum (e.g. point "
            f"{damaged[0][0]} replicate {damaged[0][1]}); left unchanged; "
            f"see 'prisonsim status {path}'"
        )
    provenance = Provenance(prov["spec_hash"], prov["created_at"], spec.source, sessions)
    return Results(
        spec=spec,
        runs=_runs_frame(spec, [row for _, row in checked["run"]]),
        series=_series_frame(spec, [row for _, row in checked["series"]]),
        failures=_failures_frame(spec, [row for _, row in checked["failure"]]),
        provenance=provenance,
    )


_KEY_TYPES = {"point_id": "int64", "replicate": "int64", "seed": "int64"}


def _with_points(frame: pd.DataFrame, spec: ExperimentSpec) -> pd.DataFrame:
    """``frame`` (point_id, replicate, seed, ...) with each row's arm label after
    point_id and its point's varied values after seed."""
    frame = frame.astype(_KEY_TYPES)
    points = {p.point_id: p for p in spec.points}
    frame.insert(1, "arm", [points[i].arm for i in frame["point_id"]])
    for j, name in enumerate([*spec.lever_names, *spec.uncertainty_names]):
        column = [points[i].values[name] for i in frame["point_id"]]
        values = pd.Series(column, index=frame.index, dtype=object).infer_objects()
        frame.insert(4 + j, name, values)
    return frame


def _runs_frame(spec: ExperimentSpec, rows: list[tuple]) -> pd.DataFrame:
    """One row per run: point_id, arm, replicate, seed, the point's varied values, the
    outcomes (float)."""
    runs = pd.DataFrame(rows, columns=["point_id", "replicate", "seed", *spec.outcomes])
    return _with_points(runs.astype({o: float for o in spec.outcomes}), spec)


def _failures_frame(spec: ExperimentSpec, rows: list[tuple]) -> pd.DataFrame:
    """One row per failed run: point_id, arm, replicate, seed, the point's varied
    values, error, traceback."""
    columns = ["point_id", "replicate", "seed", "error", "traceback"]
    return _with_points(pd.DataFrame(rows, columns=columns), spec)


def _series_frame(spec: ExperimentSpec, rows: list[tuple]) -> pd.DataFrame:
    """Long table: point_id, arm, replicate, t_h, variable, value."""
    cols = ["point_id", "arm", "replicate", "t_h", "variable", "value"]
    arms = {p.point_id: p.arm for p in spec.points}
    frames = [
        pd.DataFrame(
            {
                "point_id": pid,
                "arm": arms[pid],
                "replicate": rep,
                "t_h": t,
                "variable": var,
                "value": vals,
            }
        )
        for pid, rep, t, values in rows
        for var, vals in values.items()
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    series = pd.concat(frames, ignore_index=True)
    series["value"] = series["value"].astype(float)
    return series[cols]


def remove_results_store(path: str | Path) -> None:
    """Delete a results file for ``sweep --overwrite`` (see :func:`remove_store`)."""
    remove_store(path, RESULTS)


# ----------------------------------------------------------------------------- export
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
