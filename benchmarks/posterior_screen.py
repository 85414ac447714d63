"""Is there a point of the posterior whose medians sit inside every reported figure? (issue 11)

Runs every particle of a calibrated posterior (``scenarios/<scenario>_calibrated_posterior
.csv``) on ``--seeds`` fresh seeds each (digests of (master seed, -102, 0, run index): none
used in the calibration or its validation) and prints, per particle, the number of
criterion points its medians miss (a range median outside its range, a tally median
outside the factor of the tolerance), the distance of its medians and its runs' mean
distance (``sim.calibration.targets``), best first, and how many particles miss 0, 1, 2...
It answers whether the calibrated scenario's miss is its central point's or the
posterior's. About 0.6 CPU-s a run at Ghwayran scale: 200 particles x 20 seeds is half an
hour on two cores.

With ``--medoid N``, runs instead the weighted medoid of the particles (the one with the
least weighted mean distance to all others on the priors' unit cube: a point the posterior
holds, central in the joint rather than in each margin) on the first N seeds of the
calibrated scenario's validation set, and prints its target medians and misses.

    python benchmarks/posterior_screen.py [--seeds 20] [--workers 2] [--top 10]
    python benchmarks/posterior_screen.py --medoid 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sim.calibration.abc import targets_of
from sim.calibration.config import load_calibration
from sim.calibration.targets import distance, distance_terms
from sim.calibration.validate import validation_runs
from sim.config.scenario import SCENARIO_DIR
from sim.experiments.executors import make_backend
from sim.experiments.loader import read_posterior_samples
from sim.model.compiled import warm_up

SCREEN_SET = -102
"""The seed set of this screen (the validation uses -100 and -101)."""
CALIBRATED_SET = -100
"""The validation's seed set of the calibrated scenario (``sim.calibration.validate``)."""


def weighted_medoid(particles: list[dict], weights: list[float], priors) -> int:
    """Index of the particle with the least weighted mean Euclidean distance to all
    particles, on the unit cube of the priors."""
    x = np.array([[p.to_unit(float(row[p.name])) for p in priors] for row in particles])
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
    return int(np.argmin(d @ np.asarray(weights)))


def medoid_check(spec, particles, weights, n: int, backend) -> None:
    """Print the medians and misses of the weighted medoid on ``n`` validation seeds."""
    targets = targets_of(spec)
    j = weighted_medoid(particles, weights, spec.priors)
    stats, _ = validation_runs(spec, [particles[j]] * n, CALIBRATED_SET, backend)
    if len(stats) != n:
        raise SystemExit(f"{n - len(stats)} runs failed; the medians need them all")
    medians = stats[targets.names].median()
    terms = distance_terms(medians, targets)
    print(f"weighted medoid: particle {j}, {len(stats)} runs on validation seeds")
    for name in targets.names:
        print(f"  {name:32s} median {medians[name]:8.1f}  {'miss' if terms[name] > 0 else ''}")
    print(f"misses: {sum(v > 0 for v in terms.values())}")


def particle_table(stats: pd.DataFrame, seeds: int, targets) -> pd.DataFrame:
    """One row per particle: misses and distance of its medians, mean distance of its runs."""
    rows = []
    for j, runs in stats.groupby(np.arange(len(stats)) // seeds):
        medians = runs[targets.names].median()
        terms = distance_terms(medians, targets)
        rows.append(
            {
                "particle": j,
                "misses": sum(v > 0 for v in terms.values()),
                "missed": ", ".join(k for k, v in terms.items() if v > 0),
                "median_distance": distance(medians, targets),
                "mean_distance": float(
                    np.mean([distance(r, targets) for r in runs[targets.names].to_dict("records")])
                ),
            }
        )
    return pd.DataFrame(rows).sort_values(["misses", "median_distance", "mean_distance"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", default="calibrations/ghwayran_2022.yaml")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--medoid", type=int, default=0, metavar="N")
    args = ap.parse_args()
    spec = load_calibration(args.calibration)
    targets = targets_of(spec)
    path = SCENARIO_DIR / f"{spec.scenario.name}_calibrated_posterior.csv"
    particles, weights, problem = read_posterior_samples(path)
    if problem:
        raise SystemExit(problem)
    warm_up()
    backend = make_backend("local", args.workers)
    if args.medoid:
        try:
            return medoid_check(spec, particles, weights, args.medoid, backend)
        finally:
            backend.close()
    t0 = time.monotonic()
    try:
        params = [p for p in particles for _ in range(args.seeds)]
        stats, _ = validation_runs(spec, params, SCREEN_SET, backend)
    finally:
        backend.close()
    if len(stats) != len(params):
        raise SystemExit(f"{len(params) - len(stats)} runs failed; the table needs them all")
    table = particle_table(stats, args.seeds, targets)
    print(
        f"{spec.name}: {len(particles)} particles x {args.seeds} seeds, "
        f"{(time.monotonic() - t0) / 60:.1f} min"
    )
    print(table.head(args.top).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("particles by criterion points missed:")
    print(table["misses"].value_counts().sort_index().to_string())


if __name__ == "__main__":
    main()
