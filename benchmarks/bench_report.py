"""Wall time of building a report from a 10,000-run store (target: under a minute, 2 cores).

    PYTHONPATH=. python benchmarks/bench_report.py [--repeats 3] [--db STORE.sqlite]

Builds synthetic Results (no model, no store) of two shapes and times
``sim.analysis.report.build_report`` on each, printing the median of ``--repeats`` runs:

* ``factorial``: 5 x 4 lever grid x 500 replicates = 10,000 runs, 10 outcomes, and time
  series of 6 variables every 12 h over 14 days (1.74 M series rows);
* ``sobol``: a Saltelli design of 4 parameters (N = 1,666, first and total order) = 9,996
  runs.

With ``--db`` it also times ``sim.analysis.report.write_report`` on a real store (needs
``sim.experiments.store``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.sample import sobol as sobol_sample

from sim.analysis.report import FAN_VARIABLES, build_report, write_report
from sim.experiments.results import Results
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS

OUTCOME_NAMES = [o for o in OUTCOMES if o != "control_restored"][:10]
SERIES_VARS = FAN_VARIABLES  # the variables the report draws
FAIL_COLS = ["point_id", "arm", "replicate", "seed", "error", "traceback"]


def _outcomes(rng: np.random.Generator, drive: np.ndarray) -> dict[str, np.ndarray]:
    """Positive outcome columns that fall as ``drive`` (0-1, policy strength) rises."""
    n = drive.size
    return {
        o: np.abs(rng.normal(100 * (k + 1) * (1.2 - drive), 10 * (k + 1), n))
        for k, o in enumerate(OUTCOME_NAMES)
    }


def factorial_results(replicates: int = 500, seed: int = 0) -> Results:
    warn = np.array([0.0, 12, 24, 48, 72])
    guards = np.array([2.0, 3, 4, 6])
    w, g, r = (a.ravel() for a in np.meshgrid(warn, guards, np.arange(replicates), indexing="ij"))
    point = np.repeat(np.arange(warn.size * guards.size), replicates)
    arm = np.char.add(
        np.char.add("warning_lead_time_h=", w.astype(int).astype(str)),
        np.char.add(", guards_per_100_inmates=", g.astype(int).astype(str)),
    )
    rng = np.random.default_rng(seed)
    drive = (w / 72 + g / 6) / 2
    runs = pd.DataFrame(
        {
            "point_id": point,
            "arm": arm,
            "replicate": r,
            "seed": r + 10,
            "warning_lead_time_h": w,
            "guards_per_100_inmates": g,
            **_outcomes(rng, drive),
        }
    )
    t = np.arange(0, 337, 12.0)
    n_runs, n_t, n_v = len(runs), t.size, len(SERIES_VARS)
    decay = np.exp(-np.outer(1 + 2 * drive, t) / 48)  # (runs, t)
    values = (
        np.repeat(decay[:, None, :], n_v, axis=1)
        * np.array([1, 800, 300, 200, 50, 100])[None, :, None]
    )
    series = pd.DataFrame(
        {
            "point_id": np.repeat(point, n_v * n_t),
            "arm": np.repeat(arm, n_v * n_t),
            "replicate": np.repeat(r, n_v * n_t),
            "t_h": np.tile(t, n_runs * n_v),
            "variable": np.tile(np.repeat(SERIES_VARS, n_t), n_runs),
            "value": values.ravel() * rng.uniform(0.8, 1.2, n_runs * n_v * n_t),
        }
    )
    return Results(
        experiment={
            "name": "bench_factorial",
            "question": "How do warning and staffing change escapes?",
            "design": {"type": "full_factorial"},
            "scenario": "ghwayran_2022",
            "replicates": replicates,
            "master_seed": seed,
            "levers": {
                "warning_lead_time_h": warn.tolist(),
                "guards_per_100_inmates": guards.tolist(),
            },
        },
        runs=runs,
        series=series,
        failures=pd.DataFrame(columns=FAIL_COLS),
        provenance={"config_hash": "bench", "master_seed": seed},
        expected_runs=len(runs),
        levers=["warning_lead_time_h", "guards_per_100_inmates"],
        outcomes=OUTCOME_NAMES,
    )


def sobol_results(n: int = 1666, seed: int = 0) -> Results:
    names = ["attackers", "breach_rate", "agitation_threshold", "warning_lead_time_h"]
    bounds = [list(PARAMS[p].sweep_range()) for p in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    with warnings.catch_warnings():  # N is not a power of 2: fine for a timing run
        warnings.simplefilter("ignore", UserWarning)
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    lo, hi = np.array(bounds).T
    z = (x - lo) / (hi - lo)
    rng = np.random.default_rng(seed)
    pts = np.arange(len(x))
    runs = pd.DataFrame(
        {
            "point_id": pts,
            "arm": "base",
            "replicate": 0,
            "seed": pts + 1,
            **dict(zip(names, x.T, strict=True)),
            **_outcomes(rng, (z[:, 0] + z[:, 3] * z[:, 1]) / 2),
        }
    )
    return Results(
        experiment={
            "name": "bench_sobol",
            "question": "Which conditions matter most?",
            "design": {"type": "sobol", "calc_second_order": False},
            "scenario": "ghwayran_2022",
            "replicates": 1,
            "master_seed": seed,
        },
        runs=runs,
        series=pd.DataFrame(),
        failures=pd.DataFrame(columns=FAIL_COLS),
        provenance={"config_hash": "bench", "master_seed": seed},
        expected_runs=len(runs),
        levers=["warning_lead_time_h"],
        uncertainties=names[:3],
        outcomes=OUTCOME_NAMES,
        design_samples=pd.DataFrame(x, columns=names),
        problem=problem,
    )


def _time(label: str, work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    print(
        f"{label}: median {med:.1f} s over {repeats} ("
        + ", ".join(f"{t:.1f}" for t in times)
        + ")",
        flush=True,
    )
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None, help="also time a real results store")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("factorial", factorial_results), ("sobol", sobol_results)):
            res = make()
            print(f"{name}: {len(res.runs):,} runs, {len(res.series):,} series rows")
            _time(
                f"build_report[{name}]",
                lambda r=res, n=name: build_report(r, Path(tmp) / n),
                args.repeats,
            )
        if args.db is not None:
            _time(
                f"write_report[{args.db.name}]",
                lambda: write_report(args.db, Path(tmp) / "db"),
                args.repeats,
            )


if __name__ == "__main__":
    main()
