"""`prisonsim calibrate` end to end (issue 11): resumable, and it recovers known values.

Both use the teaching scenario (small and fast). The recovery test generates its reported
ranges from the model itself at a known parameter set, writes them as a data file of the
project's shape, and calibrates against it through the real loader and command.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration.store import read_posterior
from sim.cli import main
from sim.config.scenario import load_scenario
from sim.model import run_replicate

ROOT = Path(__file__).resolve().parents[1]

SMALL = """\
name: small_calibration
scenario: teaching_small
targets:
  ranges: [left_custody, deaths_authority]
  tallies: [recaptured_outside]
parameters:
  flee_rate: {low: 0.01, high: 0.1, reason: test prior}
  attrition_rate: {low: 0.05, high: 0.3, reason: test prior}
  surrender_rate: {low: 0.01, high: 0.2, reason: test prior}
method: {population: 20, max_generations: 4, max_runs: 2000, batch: 8}
master_seed: 7
"""


def _calibrate(config: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "sim", "calibrate", str(config), "--out", str(out),
        "--scenario-out", str(out.with_suffix(".yaml")), "--validation-runs", "4",
        *extra,
    ]  # fmt: skip


def _stored_runs(db: Path) -> int:
    """Runs in ``db`` so far (read-only: connecting must not create the file first)."""
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
            return con.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
    except sqlite3.Error:
        return 0


def _kill_after(cmd: list[str], db: Path, runs: int) -> None:
    """Start ``cmd`` and SIGKILL its process group once ``db`` holds ``runs`` runs."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 600
    while _stored_runs(db) < runs and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the calibration ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_a_calibration_killed_and_resumed_gives_the_same_posterior(tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(SMALL)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    whole = tmp_path / "whole.db"
    subprocess.run(_calibrate(config, whole), env=env, check=True, capture_output=True)
    killed = tmp_path / "killed.db"
    _kill_after(_calibrate(config, killed), killed, runs=60)
    assert _stored_runs(killed) >= 60
    resumed = subprocess.run(_calibrate(config, killed), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    a, _ = read_posterior(whole)
    b, _ = read_posterior(killed)
    pd.testing.assert_frame_equal(a, b)
    assert _stored_runs(whole) == _stored_runs(killed)


def test_a_store_of_another_calibration_file_is_refused(tmp_path, capsys):
    config = tmp_path / "small.yaml"
    config.write_text(SMALL.replace("max_generations: 4", "max_generations: 1"))
    db = tmp_path / "c.db"
    args = _calibrate(config, db)[3:]
    assert main(args) == 0
    config.write_text(SMALL.replace("max_generations: 4", "max_generations: 2"))
    capsys.readouterr()
    before = db.read_bytes()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another version" in err[0] and "--overwrite" in err[0], err
    assert db.read_bytes() == before


KNOWN = {"flee_rate": 0.05, "attrition_rate": 0.15, "surrender_rate": 0.08}


def _synthetic_data(path: Path) -> None:
    """Reported ranges (interquartile) and tallies (medians) of 40 runs at KNOWN."""
    params = dict(load_scenario("teaching_small").params) | KNOWN
    runs = [run_replicate(params, 1000 + s, series_every_h=1.0) for s in range(40)]
    outcomes = {}
    for key in ("left_custody", "deaths_authority", "surrendered_inside"):
        q25, q50, q75 = np.quantile([r.outcomes[key] for r in runs], [0.25, 0.5, 0.75])
        outcomes[key] = {"low": float(q25), "central": float(q50), "high": float(q75 + 1)}
    points = []
    for h in (6.0, 12.0, 24.0):
        values = [r.series["inmates_recaptured"][r.series.index <= h].iloc[-1] for r in runs]
        points.append({"date": f"{h:g} h", "hours_after_start": h,
                       "value": float(np.median(values))})  # fmt: skip
    data = {"outcomes": outcomes, "tallies": {"recaptured_outside": {"points": points}}}
    path.write_text(yaml.safe_dump(data))


@pytest.mark.slow
def test_calibration_recovers_known_parameters(tmp_path):
    _synthetic_data(tmp_path / "synthetic.yaml")
    config = tmp_path / "recover.yaml"
    config.write_text(
        SMALL.replace("small_calibration", "recovery")
        .replace("ranges: [left_custody, deaths_authority]",
                 "ranges: [left_custody, deaths_authority, surrendered_inside]")
        .replace("  tallies:", "  data: synthetic.yaml\n  tallies:")
        .replace("population: 20, max_generations: 4", "population: 100, max_generations: 6")
    )  # fmt: skip
    db = tmp_path / "recover.db"
    assert main(_calibrate(config, db)[3:]) == 0
    summary = pd.read_csv(tmp_path / "recover_posterior_summary.csv").set_index("parameter")
    for name, value in KNOWN.items():
        q5, q95 = summary.loc[name, "q5"], summary.loc[name, "q95"]
        assert q5 <= value <= q95, f"{name}: known {value} outside the 90 % interval {q5}-{q95}"
    prior_width = {"flee_rate": 0.09, "attrition_rate": 0.25, "surrender_rate": 0.19}
    narrowed = [n for n in KNOWN if summary.loc[n, "q95"] - summary.loc[n, "q5"] < 0.9 *
                prior_width[n]]  # fmt: skip
    assert narrowed, "the posterior learned nothing: every interval is as wide as its prior"
