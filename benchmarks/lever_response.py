"""Does every lever act across its plausible range? (issue 8)

At the Ghwayran scenario, for each lever (and the external force's size, an uncertainty),
runs the two ends of its plausible range on the same seeds (common random numbers) and
prints the mean paired difference of each outcome, high end minus low end, with its 95 %
interval (mean +- 1.96 standard errors of the paired differences). An effect is "beyond
its interval" when the interval excludes 0.

    python benchmarks/lever_response.py [--seeds 50] [--workers 2] [--outcomes ...]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import math
import time

import numpy as np

from sim.config.scenario import load_scenario
from sim.model import run_replicate

WARNED = {"warning_acted_on": 1.0}
CHANGES = [
    (
        "warning_lead_time_h",
        {**WARNED, "warning_lead_time_h": 0.0},
        {**WARNED, "warning_lead_time_h": 72.0},
    ),
    (
        "warning_acted_on",
        {"warning_lead_time_h": 24.0, "warning_acted_on": 0.0},
        {"warning_lead_time_h": 24.0, "warning_acted_on": 1.0},
    ),
    ("repatriation_share", {"repatriation_share": 0.0}, {"repatriation_share": 1.0}),
    ("guards_per_100_inmates", {"guards_per_100_inmates": 1.0}, {"guards_per_100_inmates": 8.0}),
    ("responder_delay_h", {"responder_delay_h": 0.5}, {"responder_delay_h": 12.0}),
    ("responder_size", {"responder_size": 100}, {"responder_size": 1000}),
    ("perimeter_integrity", {"perimeter_integrity": 0.2}, {"perimeter_integrity": 0.9}),
    ("separate_minors", {"separate_minors": False}, {"separate_minors": True}),
    ("capacity", {"capacity": 3000}, {"capacity": 8000}),
    ("attackers (uncertainty)", {"attackers": 100}, {"attackers": 300}),
]
OUTCOMES = [
    "left_custody",
    "deaths_authority",
    "deaths_insurgent",
    "hours_to_control",
    "minors_exposed",
]


def _run(job: tuple[dict, int]) -> dict[str, float]:
    params, seed = job
    return run_replicate(params, seed).outcomes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--outcomes", nargs="+", default=OUTCOMES)
    args = ap.parse_args()
    base = dict(load_scenario("ghwayran_2022").params)
    seeds = range(1, args.seeds + 1)
    t0 = time.perf_counter()
    print(f"ghwayran_2022, {args.seeds} paired seeds; high end - low end, mean [95 % interval]")
    print(f"{'lever (low -> high)':<44}" + "".join(f"{o:>26}" for o in args.outcomes))
    with cf.ProcessPoolExecutor(args.workers) as pool:
        for label, low, high in CHANGES:
            jobs = [(base | low, s) for s in seeds] + [(base | high, s) for s in seeds]
            outs = list(pool.map(_run, jobs, chunksize=4))
            lo, hi = outs[: args.seeds], outs[args.seeds :]
            ends = f"{_ends(low, high)}"
            cells = []
            for name in args.outcomes:
                d = np.array([h[name] - lw[name] for h, lw in zip(hi, lo, strict=True)])
                half = 1.96 * d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else math.nan
                flag = "*" if abs(d.mean()) > half else " "
                cells.append(
                    f"{d.mean():9.1f} [{d.mean() - half:7.1f},{d.mean() + half:7.1f}]{flag}"
                )
            print(f"{label + ' ' + ends:<44}" + "".join(f"{c:>26}" for c in cells))
    print(f"* interval excludes 0.  ({time.perf_counter() - t0:.0f} s)")


def _ends(low: dict, high: dict) -> str:
    changed = [k for k in high if low.get(k) != high[k]]
    return ", ".join(f"{low[k]}->{high[k]}" for k in changed)


if __name__ == "__main__":
    main()
