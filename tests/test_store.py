"""The results store: what load_results gives the analysis layer, exports, and that a
damaged or foreign file is refused with a clear message and left byte-for-byte alone."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest
from conftest import ROOT, prisonsim
from stores import sensitivity_file, store_results

from sim.cli import main
from sim.experiments.contract import RunRecord, Series
from sim.experiments.loader import load_experiment
from sim.experiments.store import ResultsStore, StoreError, load_results, read_status, spec_hash

OLD_STORE = ROOT / "tests" / "data" / "results_v2.db"  # written by prisonsim before issue 10


def _record(key, outcomes, error=None):
    if error is not None:
        return RunRecord.failed(key, error, "Traceback: boom")
    values = {o: float(key.point_id + key.replicate) for o in outcomes}
    series = Series((0.0, 1.0), {"a": (1.0, 2.0), "b": (3.0, 4.0)})
    return RunRecord(key, values, steps=5, series=series, elapsed_s=0.01)


@pytest.fixture
def stored(make_experiment, tmp_path):
    spec = load_experiment(make_experiment(lead="[0, 24]", samples=2, replicates=2))
    db = tmp_path / "s.db"
    with ResultsStore.create(db, spec) as store:
        store.begin_session("sweep", "prisonsim sweep tiny.yaml", "local", 1)
        keys = spec.run_keys()
        store.write_records([_record(k, spec.outcomes) for k in keys[:-1]])
        store.write_records([_record(keys[-1], spec.outcomes, error="ValueError: x")])
        store.end_session("finished")
    return spec, db


def test_load_results_follows_the_results_contract(stored):
    spec, db = stored
    res = load_results(db)
    assert res.spec == spec, "the stored experiment differs from the one loaded"
    cols = ["point_id", "arm", "replicate", "seed", "warning_lead_time_h", "attackers"]
    assert list(res.runs.columns) == [*cols, *spec.outcomes], list(res.runs.columns)
    assert list(res.failures.columns) == [*cols, "error", "traceback"], res.failures.columns
    assert (len(res.runs), len(res.failures), res.expected_runs) == (7, 1, 8)
    assert res.levers == ["warning_lead_time_h"] and res.uncertainties == ["attackers"], (
        res.levers,
        res.uncertainties,
    )
    assert set(res.runs["arm"]) == {"warning_lead_time_h=0", "warning_lead_time_h=24"}
    assert res.arms == {
        "warning_lead_time_h=0": {"warning_lead_time_h": 0.0},
        "warning_lead_time_h=24": {"warning_lead_time_h": 24.0},
    }, res.arms
    seeds = {(k.point_id, k.replicate): k.seed for k in spec.run_keys()}
    got = {(r.point_id, r.replicate): r.seed for r in res.runs.itertuples()}
    assert all(seeds[k] == v for k, v in got.items()), "stored seeds differ from derived"
    series_cols = ["point_id", "arm", "replicate", "t_h", "variable", "value"]
    assert list(res.series.columns) == series_cols, list(res.series.columns)
    assert len(res.series) == 7 * 4, len(res.series)
    prov = res.provenance
    assert prov.spec_hash == spec_hash(spec) and prov.experiment_path == spec.source, prov
    session = prov.last_session
    assert (session.command, session.status, session.executor) == ("sweep", "finished", "local")
    assert session.package_versions["numpy"] and session.started_at <= session.finished_at
    assert res.design_samples is None and res.problem is None
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_arms_share_seeds_across_levers(stored):
    """Common random numbers: every arm meets the same seeds."""
    _, db = stored
    res = load_results(db)
    runs = pd.concat([res.runs, res.failures])
    seeds = runs.groupby("arm")["seed"].apply(lambda s: tuple(sorted(s)))
    assert seeds.nunique() == 1 and len(seeds) == 2, seeds.to_dict()


def test_status_reads_sessions_and_failures_through_the_store(stored):
    _, db = stored
    status = read_status(db)
    assert (status.summary.runs, status.summary.failures, status.summary.remaining) == (7, 1, 0)
    assert [f.error for f in status.failures] == ["ValueError: x"], status.failures
    assert [s.status for s in status.sessions] == ["finished"], status.sessions


def test_export_writes_parquet_and_csv(stored, tmp_path):
    _, db = stored
    out = tmp_path / "exp" / "runs.parquet"
    done = prisonsim("export", str(db), "--format", "parquet", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out)
    assert len(runs) == 7 and "left_custody" in runs, runs.columns
    assert (tmp_path / "exp" / "runs.series.parquet").exists(), done.stdout
    done = prisonsim("export", str(db), "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "s.csv").exists(), done.stdout + done.stderr
    assert len(pd.read_csv(tmp_path / "s.failures.csv")) == 1


def test_sensitivity_designs_come_back_with_their_samples(tmp_path):
    ranges = {"attackers": {}, "hardened_share": {}, "breach_rate": {}}
    design = {"type": "sobol", "samples": 8, "second_order": True}
    res = store_results(sensitivity_file(tmp_path, ranges, design))
    assert res.design_samples.shape == (8 * (2 * 3 + 2), 3), res.design_samples.shape
    assert res.problem["names"] == list(res.design_samples.columns), res.problem
    assert res.spec.design.second_order and res.spec.design.salib_options() == {
        "calc_second_order": True
    }
    whole = res.runs.groupby("point_id")["attackers"].first()
    assert (whole == res.design_samples["attackers"].round()).all(), "ints not rounded"


def test_a_store_of_an_earlier_schema_is_refused_in_one_line(tmp_path, capsys):
    db = tmp_path / "old.db"
    shutil.copy(OLD_STORE, db)
    before = db.read_bytes()
    for args in (["status", str(db)], ["report", str(db)], ["resume", str(db)]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "written by an earlier prisonsim (results file schema 2" in err, err
        assert "run the sweep again: prisonsim sweep" in err and "old_store.yaml" in err, err
    with pytest.raises(StoreError, match="earlier prisonsim"):
        load_results(db)
    assert db.read_bytes() == before, "a refused store was changed"


GARBAGE = b"this is not a database\n" * 50


def _foreign_sqlite(path):
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES (1)")
    con.close()


@pytest.mark.parametrize("kind", ["garbage", "foreign_sqlite", "empty"])
def test_damaged_or_foreign_files_are_refused_and_left_unchanged(
    kind, tmp_path, capsys, make_experiment
):
    path = tmp_path / "thing.db"
    if kind == "garbage":
        path.write_bytes(GARBAGE)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        _foreign_sqlite(path)
    before = path.read_bytes()
    exp_path = make_experiment()
    for args in (
        ["status", str(path)],
        ["resume", str(path)],
        ["export", str(path), "--format", "csv"],
        ["sweep", str(exp_path), "--out", str(path)],
        ["sweep", str(exp_path), "--out", str(path), "--overwrite"],
    ):
        code = main(args)  # the CLI in-process: the same code path, without start-up
        err = capsys.readouterr().err
        assert code == 2, (args, code, err)
        assert "not a prisonsim results file" in err, (args, err)
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert path.read_bytes() == before, f"{args[0]} changed the {kind} file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("thing")) == [
        "thing.db"
    ], list(tmp_path.iterdir())
    with pytest.raises(StoreError):
        load_results(path)
