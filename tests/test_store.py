"""The results store: what load_results gives the analysis layer, exports, and that a
damaged or foreign file is refused with a clear message and left byte-for-byte alone."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import prisonsim

from sim.cli import main
from sim.experiments.loader import load_experiment
from sim.experiments.store import Store, StoreError, load_results


def _fake_result(task, outcomes, error=None):
    rec = {
        "point_id": task.point_id,
        "replicate": task.replicate,
        "seed": task.seed,
        "error": error,
        "traceback": "Traceback: boom" if error else None,
        "outcomes": {o: float(task.point_id + task.replicate) for o in outcomes},
        "steps": 5,
        "elapsed_s": 0.01,
    }
    if error is None:
        rec["series"] = {"t_h": [0.0, 1.0], "values": {"a": [1.0, 2.0], "b": [3.0, 4.0]}}
    return rec


@pytest.fixture
def stored(make_experiment, tmp_path):
    exp = load_experiment(make_experiment(lead="[0, 24]", samples=2, replicates=2))
    db = tmp_path / "s.db"
    with Store.create(db, exp) as store:
        store.begin_session("sweep", "prisonsim sweep tiny.yaml", "local", 1)
        tasks = exp.tasks()
        store.write_results([_fake_result(t, exp.outcomes) for t in tasks[:-1]])
        store.write_results([_fake_result(tasks[-1], exp.outcomes, error="ValueError: x")])
        store.end_session("finished")
    return exp, db


def test_load_results_follows_the_results_contract(stored):
    exp, db = stored
    res = load_results(db)
    cols = [
        "point_id",
        "arm",
        "replicate",
        "seed",
        "warning_lead_time_h",
        "attackers",
        *exp.outcomes,
    ]
    assert list(res.runs.columns) == cols, list(res.runs.columns)
    assert len(res.runs) == exp.expected_runs - 1 and len(res.failures) == 1, (
        len(res.runs),
        len(res.failures),
    )
    assert res.complete and res.expected_runs == 8, (res.complete, res.expected_runs)
    assert res.levers == ["warning_lead_time_h"] and res.uncertainties == ["attackers"], (
        res.levers,
        res.uncertainties,
    )
    assert set(res.runs["arm"]) == {"warning_lead_time_h=0", "warning_lead_time_h=24"}
    seeds = {(t.point_id, t.replicate): t.seed for t in exp.tasks()}
    got = {(r.point_id, r.replicate): r.seed for r in res.runs.itertuples()}
    assert all(seeds[k] == v for k, v in got.items()), "stored seeds differ from derived"
    assert list(res.series.columns) == [
        "point_id",
        "arm",
        "replicate",
        "t_h",
        "variable",
        "value",
    ], list(res.series.columns)
    assert len(res.series) == 7 * 4, len(res.series)
    assert list(res.failures.columns) == [
        "point_id",
        "arm",
        "replicate",
        "seed",
        "error",
        "traceback",
    ], list(res.failures.columns)
    prov = res.provenance
    for key in (
        "config_hash",
        "master_seed",
        "package_versions",
        "git_commit",
        "git_dirty",
        "command_line",
        "started_at",
        "finished_at",
    ):
        assert key in prov, f"provenance lacks {key}: {sorted(prov)}"
    assert prov["config_hash"] == exp.config_hash() and prov["master_seed"] == 11, prov
    assert res.experiment["replicates"] == 2 and res.design_samples is None, res.experiment
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


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


def test_sensitivity_designs_can_be_analysed_from_the_store(tmp_path):
    from SALib.analyze import sobol

    exp = load_experiment("sensitivity_sobol")
    db = tmp_path / "sob.db"
    with Store.create(db, exp) as store:
        rng = np.random.default_rng(0)
        store.write_results(
            [
                _fake_result(t, exp.outcomes)
                | {"outcomes": {o: float(rng.random()) for o in exp.outcomes}}
                for t in exp.tasks()
            ]
        )
    res = load_results(db)
    assert res.design_samples.shape == (len(exp.points), 8), res.design_samples.shape
    assert res.problem["names"] == list(res.design_samples.columns), res.problem
    y = res.runs.groupby("point_id")["left_custody"].mean().to_numpy()
    si = sobol.analyze(res.problem, y, calc_second_order=False)
    assert len(si["S1"]) == 8, si


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
