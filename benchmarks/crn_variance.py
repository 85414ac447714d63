"""How much common random numbers sharpen paired comparisons of policy arms.

For single-lever changes at teaching and at Ghwayran scale, runs arm A and arm B on the
same seeds (paired) and arm B again on other seeds (unpaired, independent), and prints

    ratio = Var(y_B(s) - y_A(s)) / Var(y_B(s') - y_A(s))

for ``left_custody`` (and the other outcomes with ``--all-outcomes``): the variance of the
paired difference over that of the unpaired one. 1 means pairing does not help; 0 means the
arms differ only where the lever acts. Issue 9's target is at most 0.3 at both scales.
The unpaired variance is estimated as Var(y_A) + Var(y_B) (independent seeds).

    python benchmarks/crn_variance.py [--seeds 200] [--workers 2] [--scales teaching ghwayran]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import time

import numpy as np

from sim.config.scenario import load_scenario
from sim.model import run_replicate

SCENARIOS = {"teaching": "teaching_small", "ghwayran": "ghwayran_2022"}
CHANGES = [
    ("guards 3 -> 4 per 100", {"guards_per_100_inmates": 3.0}, {"guards_per_100_inmates": 4.0}),
    (
        "warning 0 -> 6 h acted on",
        {"warning_acted_on": 1.0, "warning_lead_time_h": 0.0},
        {"warning_acted_on": 1.0, "warning_lead_time_h": 6.0},
    ),
    ("responder delay 3 -> 2 h", {"responder_delay_h": 3.0}, {"responder_delay_h": 2.0}),
]
UNPAIRED_OFFSET = 1_000_000


def _outcomes(job: tuple[dict, int]) -> dict[str, float]:
    params, seed = job
    return run_replicate(params, seed).outcomes


def measure(scale: str, seeds: int, workers: int) -> list[tuple[str, dict[str, float]]]:
    """(change label, outcome -> variance ratio) for every change at one scale."""
    base = dict(load_scenario(SCENARIOS[scale]).params)
    rows = []
    with cf.ProcessPoolExecutor(workers) as pool:
        for label, a, b in CHANGES:
            jobs = [(base | a, s) for s in range(seeds)]
            jobs += [(base | b, s) for s in range(seeds)]
            jobs += [(base | b, UNPAIRED_OFFSET + s) for s in range(seeds)]
            outs = list(pool.map(_outcomes, jobs, chunksize=4))
            arm_a, arm_b, arm_b_other = outs[:seeds], outs[seeds : 2 * seeds], outs[2 * seeds :]
            ratios = {}
            for name in arm_a[0]:
                ya = np.array([o[name] for o in arm_a])
                yb = np.array([o[name] for o in arm_b])
                yo = np.array([o[name] for o in arm_b_other])
                unpaired = ya.var(ddof=1) + yo.var(ddof=1)
                ratios[name] = (yb - ya).var(ddof=1) / unpaired if unpaired > 0 else float("nan")
            rows.append((label, ratios))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scales", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--all-outcomes", action="store_true")
    args = ap.parse_args()
    print(f"paired / unpaired variance of the difference, {args.seeds} seeds per arm")
    for scale in args.scales:
        t0 = time.perf_counter()
        for label, ratios in measure(scale, args.seeds, args.workers):
            shown = ratios if args.all_outcomes else {"left_custody": ratios["left_custody"]}
            text = ", ".join(f"{k} {v:.2f}" for k, v in shown.items())
            print(f"  {scale:<9} {label:<26} {text}")
        print(f"  ({scale}: {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
