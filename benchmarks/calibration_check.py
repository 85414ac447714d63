"""Ghwayran scenario at its defaults over seeds 1-20, against the reported ranges.

Prints median, mean and range of each reported outcome and how many replicates fall in
the reported low-high range (``sim/data/ghwayran_reported.yaml``). Used for the
"Calibration and honesty" table of docs/odd.md.

    python benchmarks/calibration_check.py
"""

from pathlib import Path

import numpy as np
import yaml

from sim.config.scenario import load_scenario
from sim.model import run_replicate

rep = yaml.safe_load(open(Path(__file__).parents[1] / "sim/data/ghwayran_reported.yaml"))[
    "outcomes"
]
s = load_scenario("ghwayran_2022")
outs = [run_replicate(s.params, seed).outcomes for seed in range(1, 21)]
for k, rk in (
    ("left_custody", "left_custody"),
    ("recaptured_outside", "recaptured_outside"),
    ("at_large", "at_large_after_weeks"),
    ("surrendered_inside", "surrendered_inside"),
    ("hours_to_control", None),
    ("deaths_guards", None),
    ("deaths_inmates", None),
    ("deaths_external", None),
    ("deaths_responders", None),
):
    v = np.array([o[k] for o in outs])
    inr = ""
    if rk:
        lo, hi = rep[rk]["low"], rep[rk]["high"]
        inr = f", in range {((v >= lo) & (v <= hi)).sum()}/20 (reported {lo}-{hi})"
    stats = f"median {np.median(v):.0f}, mean {v.mean():.0f}, range {v.min():.0f}-{v.max():.0f}"
    print(f"{k}: {stats}{inr}")
