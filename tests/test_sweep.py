"""Sweeps end to end through ``python -m sim``: identical stores whatever the executor and
worker count, failures recorded without stopping the sweep, SIGKILL then resume losing and
duplicating nothing, and clear refusals for changed configs and bad arguments."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DIE_AT_H, RAISE_AT_H, cli_env, prisonsim
from processes import live_processes

from sim.analysis import report
from sim.cli import main
from sim.cli.sweep import Progress
from sim.experiments.contract import RunKey, RunRecord
from sim.experiments.store import load_results, read_status, read_summary, verify

FAULTS = cli_env(PRISONSIM_RUN_FUNCTION="conftest:fault_run")


def contents(db: Path) -> dict[str, str]:
    """Everything a sweep stores but timings and tracebacks, as text (read through the
    store's API, in key order: completion order must not matter)."""
    res = load_results(db)
    return {
        "runs": res.runs.to_csv(index=False),
        "series": res.series.to_csv(index=False),
        "failures": res.failures.drop(columns="traceback").to_csv(index=False),
        "points": repr(res.spec.points),
    }


def sessions(db: Path) -> list[tuple[int, str]]:
    return [(s.id, s.status) for s in read_status(db).sessions]


def test_same_store_with_one_two_workers_and_dask(make_experiment, tmp_path):
    exp = make_experiment(lead="[0, 24, 48]", samples=3, replicates=2)
    stores = {}
    for label, args in (
        ("1", ["--workers", "1"]),
        ("2", ["--workers", "2"]),
        ("dask", ["--workers", "2", "--executor", "dask"]),
    ):
        db = tmp_path / f"w{label}.db"
        done = prisonsim("sweep", str(exp), "--out", str(db), "--no-report", *args, cwd=tmp_path)
        assert done.returncode == 0, (label, done.stdout, done.stderr)
        assert "18 of 18 runs stored" in done.stdout, done.stdout
        stores[label] = contents(db)
    res = load_results(tmp_path / "w1.db")
    assert (
        len(res.runs) == 18
        and res.series[["point_id", "replicate"]].drop_duplicates().shape[0] == 18
    ), res.series
    for label in ("2", "dask"):
        for name, rows in stores[label].items():
            assert rows == stores["1"][name], f"{name} differ between 1 worker and {label}"


@pytest.mark.parametrize(
    "executor, chunk",
    # Chunks of 3 are the harder local case (runs share a worker with a killer); Dask
    # restarts a killed worker slowly (about 90 s): the other two are slow tests.
    [
        pytest.param("local", "1", marks=pytest.mark.slow),
        ("local", "3"),
        pytest.param("dask", "3", marks=pytest.mark.slow),
    ],
    ids=["local-chunks-of-1", "local-chunks-of-3", "dask-chunks-of-3"],
)
def test_failing_runs_are_recorded_and_the_rest_go_on(executor, chunk, make_experiment, tmp_path):
    """A worker's death costs only the run that caused it. Deterministic: the runs at
    17 h kill their worker, whenever they run; with chunks of 3, runs share a chunk (and a
    worker) with a killer, before and after it, and must be stored all the same."""
    exp = make_experiment(lead=f"[0, {DIE_AT_H:g}, {RAISE_AT_H:g}]", samples=2, replicates=2)
    db = tmp_path / "f.db"
    done = prisonsim(
        "sweep",
        str(exp),
        "--out",
        str(db),
        "--workers",
        "2",
        "--executor",
        executor,
        "--chunk-size",
        chunk,
        cwd=tmp_path,
        env=FAULTS,
    )
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "4 of 12 runs stored" in done.stdout and "8 failed" in done.stdout, done.stdout
    assert "injected failure" in done.stdout and "WorkerLost" in done.stdout, done.stdout
    res = load_results(db)
    lead = res.failures["warning_lead_time_h"]
    raised, died = res.failures[lead == RAISE_AT_H], res.failures[lead == DIE_AT_H]
    assert len(raised) == 4 and raised["error"].str.contains("RuntimeError: injected").all()
    assert raised["traceback"].str.contains("Traceback").all(), raised["traceback"]
    assert raised["traceback"].str.contains("fault_run").all(), raised["traceback"]
    assert len(died) == 4 and died["error"].str.startswith("WorkerLost").all(), died
    assert list(res.runs["warning_lead_time_h"]) == [0] * 4, res.runs
    status = prisonsim("status", str(db), cwd=tmp_path)
    assert status.returncode == 0 and status.stdout.count("failed: point") == 8, status.stdout
    again = prisonsim("resume", str(db), "--workers", "1", cwd=tmp_path, env=FAULTS)
    assert again.returncode == 1 and "nothing to run" in again.stderr, again.stderr
    assert read_summary(db).runs == 4, "resume changed the stored runs"


def _start(args: list[str], cwd: Path, sleep: float = 0.0) -> subprocess.Popen:
    """Start ``python -m sim ARGS`` in its own process group, each run costing ``sleep``."""
    env = cli_env(PRISONSIM_RUN_FUNCTION="conftest:fault_run", PRISONSIM_TEST_SLEEP=str(sleep))
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stored_runs(db: Path) -> int:
    """Runs committed to ``db``, read read-only (while a sweep runs)."""
    return read_summary(db).runs


def _group_gone(pgid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow  # ~30 s: a reference sweep, three killed ones and a final resume
def test_sigkill_then_resume_loses_and_duplicates_nothing(make_experiment, tmp_path):
    exp = make_experiment(lead="[0, 24, 48]", samples=6, replicates=4)  # 72 runs
    ref = tmp_path / "ref.db"
    done = _start(["sweep", str(exp), "--out", str(ref), "--workers", "2", "--no-report"], tmp_path)
    assert done.wait(240) == 0, "uninterrupted sweep failed"
    expected = contents(ref)
    assert len(load_results(ref).runs) == 72, expected["runs"][:300]

    db = tmp_path / "killed.db"
    rng = random.Random(20220120)
    kills = []  # (what the kill waited for, runs stored after it)
    # The first kill comes at a random moment early on (often before the store exists);
    # later ones once a random share of the runs is stored, plus a random delay, so they
    # land mid-sweep however fast the machine is.
    for share in [None, *(rng.uniform(0.2, 0.8) for _ in range(3))]:
        args = ["resume", str(db)] if db.exists() else ["sweep", str(exp), "--out", str(db)]
        proc = _start(
            [*args, "--workers", "2", "--chunk-size", "3", "--no-report"], tmp_path, sleep=0.1
        )
        if share is None:
            wait_for = f"{rng.uniform(0.5, 3.0):.2f} s"
            time.sleep(float(wait_for.split()[0]))
        else:
            before = stored_runs(db) if db.exists() else 0
            target = before + share * (72 - before)
            wait_for = f"{target:.0f} stored"
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if db.exists() and stored_runs(db) >= target:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        kills.append((wait_for, stored_runs(db) if db.exists() else None))
        assert _group_gone(proc.pid, 10), f"workers outlived their killed coordinator {kills}"
    assert any(0 < n < 72 for _, n in kills if n is not None), f"no kill mid-sweep {kills}"
    damage = verify(db)
    assert not damage, f"{damage} after kills {kills}"
    final = _start(["resume", str(db), "--workers", "2", "--no-report"], tmp_path)
    assert final.wait(240) == 0, f"final resume failed after kills {kills}"
    got = contents(db)
    for name in expected:
        assert got[name] == expected[name], f"{name} differ from an uninterrupted run {kills}"
    ended = [(s.command, s.status) for s in read_status(db).sessions]
    assert ("resume", "finished") in ended, ended
    assert any(status == "killed" for _, status in ended), f"kills not noted: {ended}"


STOPS = [
    (signal.SIGINT, "coordinator"),
    (signal.SIGTERM, "coordinator"),
    (signal.SIGINT, "group"),
    (signal.SIGTERM, "group"),
]


def _stop_mid_sweep(args: list[str], db: Path, cwd: Path, sig: int, target: str) -> list:
    """Start a sweep or resume, wait until it has stored a run and more are in flight,
    send ``sig`` to the coordinator or its whole group; return the sessions."""
    proc = _start([*args, "--workers", "2", "--chunk-size", "2", "--no-report"], cwd, sleep=0.3)
    before = stored_runs(db) if db.exists() else 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if db.exists() and stored_runs(db) > before:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before the signal could be sent"
    if target == "group":
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    code = proc.wait(60)  # a hang detector; bench: benchmarks/failure_paths.py --only signals
    assert code == 128 + sig, (code, sig)
    deadline = time.monotonic() + 30
    while live_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not live_processes(proc.pid), f"processes left behind: {live_processes(proc.pid)}"
    return sessions(db)


@pytest.mark.parametrize(
    "sig, target",
    [pytest.param(*STOPS[0], id="SIGINT-coordinator")]
    + [pytest.param(*s, id=f"{s[0].name}-{s[1]}", marks=pytest.mark.slow) for s in STOPS[1:]],
)
def test_a_stop_signal_stops_cleanly_and_resume_completes_the_sweep(
    sig, target, make_experiment, tmp_path
):
    """SIGINT or SIGTERM to the coordinator alone (what timeout and batch schedulers send)
    or to its whole group (Ctrl-C): it stops with runs in flight, leaves no process,
    marks the session interrupted, stores nothing twice; resume gives the same store as
    an uninterrupted sweep."""
    exp = make_experiment(lead="[0, 24]", samples=3, replicates=3)  # 18 runs
    ref = tmp_path / "ref.db"
    done = _start(["sweep", str(exp), "--out", str(ref), "--workers", "2", "--no-report"], tmp_path)
    assert done.wait(240) == 0, "uninterrupted sweep failed"
    db = tmp_path / "stopped.db"
    ended = _stop_mid_sweep(["sweep", str(exp), "--out", str(db)], db, tmp_path, sig, target)
    assert ended == [(1, "interrupted")], ended
    assert 0 < stored_runs(db) < 18, stored_runs(db)
    assert read_summary(db).failures == 0, "a stopped run was stored as failed"
    ended = _stop_mid_sweep(["resume", str(db)], db, tmp_path, sig, target)
    assert ended == [(1, "interrupted"), (2, "interrupted")], ended
    final = _start(["resume", str(db), "--workers", "2", "--no-report"], tmp_path)
    assert final.wait(240) == 0, "final resume failed"
    got, expected = contents(db), contents(ref)
    for name in expected:
        assert got[name] == expected[name], f"{name} differ from an uninterrupted sweep"


def test_overwrite_of_a_store_a_live_coordinator_writes_is_refused(make_experiment, tmp_path):
    db = tmp_path / "live.db"
    exp = make_experiment(replicates=4)
    proc = _start(["sweep", str(exp), "--out", str(db), "--workers", "1"], tmp_path, sleep=0.5)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (db.exists() and stored_runs(db) > 0):
            time.sleep(0.1)
        inode = db.stat().st_ino
        done = prisonsim("sweep", str(exp), "--out", str(db), "--overwrite", cwd=tmp_path)
        assert proc.poll() is None, "the first sweep ended before the test could overlap it"
        assert done.returncode == 2, (done.returncode, done.stderr)
        assert f"being written by another prisonsim (pid {proc.pid}" in done.stderr, done.stderr
        assert db.stat().st_ino == inode and stored_runs(db) > 0, "the live store was replaced"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def test_a_second_coordinator_on_a_live_store_is_refused(make_experiment, tmp_path, capsys):
    db = tmp_path / "live.db"
    exp = make_experiment(replicates=4)
    proc = _start(["sweep", str(exp), "--out", str(db), "--workers", "1"], tmp_path, sleep=0.5)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            db.exists() and any(status == "running" for _, status in sessions(db))
        ):
            time.sleep(0.2)
        assert proc.poll() is None, "the first sweep ended before the test could overlap it"
        assert main(["resume", str(db), "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert f"being written by another prisonsim (pid {proc.pid}" in err, err
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def test_resume_refuses_a_changed_experiment_and_sweep_an_existing_store(
    make_experiment, tmp_path, capsys
):
    exp = make_experiment(replicates=1)
    db = tmp_path / "c.db"
    assert main(["sweep", str(exp), "--out", str(db), "--workers", "1", "--no-report"]) == 0
    before = db.read_bytes()
    assert main(["sweep", str(exp), "--out", str(db)]) == 2
    assert "already exists (6 of 6 runs stored)" in capsys.readouterr().err
    exp.write_text(exp.read_text().replace("replicates: 1", "replicates: 2"))
    assert main(["resume", str(db)]) == 2
    err = capsys.readouterr().err
    assert "has changed since" in err and "refusing" in err, err
    assert db.read_bytes() == before, "a refused resume changed the store"


def test_report_hook_runs_after_a_successful_sweep(make_experiment, tmp_path, capsys, monkeypatch):
    calls = []

    def write_report(db, out_dir):
        calls.append((Path(db), Path(out_dir)))
        return Path(out_dir) / "index.html"

    monkeypatch.setattr(report, "write_report", write_report)
    db = tmp_path / "r.db"
    assert (
        main(["sweep", str(make_experiment(replicates=1)), "--out", str(db), "--workers", "1"]) == 0
    )
    assert calls == [(db, tmp_path / "r_report")], calls
    assert "report: " in capsys.readouterr().out
    assert main(["resume", str(db), "--no-report"]) == 0 and len(calls) == 1, calls


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workers", "0"], "'0' is not allowed; give a whole number from 1 to"),
        (["--executor", "dsk"], "executor 'dsk' is not known (did you mean 'dask'?)"),
        (["--scheduler", "tcp://localhost:1"], "--scheduler needs --executor dask"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(args, message, make_experiment, capsys):
    exp = make_experiment()
    try:
        code = main(["sweep", str(exp), *args])
    except SystemExit as exc:  # argparse's own errors exit directly
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, (code, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err


def test_progress_prints_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    prog = Progress("demo", total=10, every_s=0.0, stream=out)
    key = RunKey(0, 0, 1)
    prog.update([RunRecord(key)] * 4 + [RunRecord.failed(key, "ValueError: x")])
    prog.close()
    line = out.getvalue().strip()
    assert line.startswith("demo: 5/10 runs (50%), 1 failed,") and "ETA" in line, line


def test_evaluate_returns_records_in_order_with_the_sweeps_failure_handling(
    teaching_params, monkeypatch
):
    """``executors.evaluate`` (a calibration's entry point): one record per (params,
    seed) in the order given; a run that raises or kills its worker twice comes back as
    a failure and the others go on; equal inputs give equal outcomes."""
    from sim.experiments.executors import evaluate

    monkeypatch.setenv("PRISONSIM_RUN_FUNCTION", "conftest:fault_run")
    base = {**teaching_params, "horizon_h": 6.0}
    leads = [0.0, RAISE_AT_H, 24.0, DIE_AT_H, 0.0]
    runs = [({**base, "warning_lead_time_h": lead}, 11) for lead in leads]
    records = evaluate(runs, outcomes=["left_custody", "at_large"], workers=2, chunk_size=2)
    assert [r.key.point_id for r in records] == [0, 1, 2, 3, 4], records
    assert [r.ok for r in records] == [True, False, True, False, True], records
    assert records[1].error.startswith("RuntimeError: injected failure"), records[1]
    assert records[3].error.startswith("WorkerLost"), records[3]
    assert records[0].outcomes == records[4].outcomes, (records[0], records[4])
    assert set(records[2].outcomes) == {"left_custody", "at_large"}, records[2]
    assert all(r.key.seed == 11 for r in records), records
