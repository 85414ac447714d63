"""Wall time of building a report from a 10,000-run store (target: under a minute, 2 cores).

    PYTHONPATH=. python benchmarks/bench_report.py [--repeats 3] [--db STORE.sqlite]

Makes two stores the way the tests do (``tests/stores.py``: experiment files through the
real loader, records through the real store, a formula in place of the model), reads
each back with ``load_results`` and times ``sim.analysis.report.build_report`` on it,
printing the median of ``--repeats`` runs:

* ``factorial``: 5 x 4 lever grid x 500 replicates = 10,000 runs, 10 outcomes, and time
  series of 6 variables every 12 h over 14 days (1.74 M series rows);
* ``sobol``: a Saltelli design of 4 parameters (N = 2,048, first and total order) =
  12,288 runs.

With ``--db`` it also times ``sim.analysis.report.write_report`` on a store of your own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from stores import policy_file, sensitivity_file, store_results

from sim.analysis.report import FAN_VARIABLES, build_report, write_report
from sim.experiments.contract import Results, RunKey, Series
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS

OUTCOME_NAMES = [o for o in OUTCOMES if o != "control_restored"][:10]
SERIES_TIMES = tuple(np.arange(0, 337, 12.0))


def _drive(values: Mapping[str, Any], names: list[str]) -> float:
    """Policy strength 0-1: the mean of the named parameters, each scaled to its range."""
    z = [(values[n] - lo) / (hi - lo) for n in names for lo, hi in [PARAMS[n].sweep_range()]]
    return float(np.mean(z))


def _respond(names: list[str]) -> Any:
    """Positive outcomes that fall as the drive of ``names`` rises, with seeded noise."""

    def respond(values: Mapping[str, Any], key: RunKey) -> dict[str, float]:
        drive = _drive(values, names)
        noise = np.random.default_rng([key.seed, key.point_id]).normal(size=len(OUTCOME_NAMES))
        return {
            o: abs(100 * (k + 1) * (1.2 - drive) + 10 * (k + 1) * noise[k])
            for k, o in enumerate(OUTCOME_NAMES)
        }

    return respond


def _series(key: RunKey, outcomes: Mapping[str, float]) -> Series:
    t = np.asarray(SERIES_TIMES)
    decay = np.exp(-t * outcomes[OUTCOME_NAMES[0]] / 4800)
    scales = dict(zip(FAN_VARIABLES, (1, 800, 300, 200, 50, 100), strict=True))
    return Series(SERIES_TIMES, {v: tuple(map(float, decay * s)) for v, s in scales.items()})


def factorial_results(directory: Path, replicates: int = 500) -> Results:
    levers = {"warning_lead_time_h": [0, 12, 24, 48, 72], "guards_per_100_inmates": [2, 3, 4, 6]}
    path = policy_file(
        directory, levers, replicates=replicates, series_every_h=12, outcomes=OUTCOME_NAMES
    )
    return store_results(path, respond=_respond(list(levers)), series=_series)


def sobol_results(directory: Path, n: int = 2048) -> Results:
    names = ["warning_lead_time_h", "attackers", "breach_rate", "agitation_threshold"]
    design = {"type": "sobol", "samples": n}
    path = sensitivity_file(directory, {p: {} for p in names}, design, outcomes=OUTCOME_NAMES)
    return store_results(path, respond=_respond(names))


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
            res = make(Path(tmp))
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
