"""ABC-SMC with pyabc, deterministic and resumable.

pyabc (Klinger, Rickert and Hasenauer 2018, *Bioinformatics* 34(20)) runs the sequential
Monte Carlo: proposals from the last generation's weighted particles through a multivariate
normal kernel, importance weights prior / proposal, and a threshold that falls to a
quantile of the last generation's distances each generation. This module supplies what it
needs to fit the model to reported ranges (:class:`Simulator`, :class:`RangeDistance`) and
a sampler that makes the result independent of how the work is spread
(:class:`DeterministicSampler`): evaluations come in fixed batches, evaluation (generation,
batch, index) draws its proposal and its run's seed from a generator seeded by a digest of
(master seed, generation, batch, index), and particles are accepted in index order until
the population is full. So the same file and seed give the same posterior on any number of
workers, and a calibration killed at any moment and resumed from its stored evaluations and
pyabc's history gives the same posterior as an uninterrupted one.

Parameters are calibrated on the unit cube (each prior maps [0, 1] onto its range, linear
or log): all dimensions then have similar scales, which keeps the proposal kernel's
covariance well conditioned.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.calibration.config import CalibrationSpec, Prior
from sim.calibration.targets import Targets, distance, load_targets, summary_statistics
from sim.model.params import PARAMS

SERIES_EVERY_H = 1.0
"""Time-series interval of a calibration run: hourly counts to read the tallies from."""

EvalKey = tuple[int, int, int]
"""(generation, batch, index) of one evaluation."""


def targets_of(spec: CalibrationSpec) -> Targets:
    return load_targets(list(spec.range_keys), list(spec.tally_keys), spec.tally_tolerance)


def evaluation_seed(master_seed: int, key: EvalKey) -> int:
    """The seed of one evaluation: a digest of (master seed, generation, batch, index)."""
    text = f"{master_seed}:{key[0]}:{key[1]}:{key[2]}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") >> 1


def model_values(priors: Sequence[Prior], unit: dict[str, float]) -> dict[str, Any]:
    """Parameter values of a point of the unit cube (whole numbers rounded)."""
    out: dict[str, Any] = {}
    for prior in priors:
        value = prior.from_unit(float(unit[prior.name]))
        out[prior.name] = round(value) if PARAMS[prior.name].kind == "int" else value
    return out


class Simulator:
    """pyabc's model: unit-cube parameters in, summary statistics of one run out.

    The run's seed is drawn from numpy's global generator, which the sampler seeds per
    evaluation; a run that raises gives NaN statistics (rejected, never a crash).
    """

    def __init__(self, base_params: dict[str, Any], priors: Sequence[Prior], targets: Targets):
        self.base_params, self.priors, self.targets = dict(base_params), tuple(priors), targets

    def __call__(self, unit: dict[str, float]) -> dict[str, float]:
        from sim.model import run_replicate

        # pyabc draws its proposals from numpy's global generator, which the sampler seeds
        # per evaluation; the run's seed comes from the same, seeded, stream.
        seed = int(np.random.randint(0, 2**62, dtype=np.int64))  # noqa: NPY002
        params = self.base_params | model_values(self.priors, unit)
        try:
            out = run_replicate(params, seed, series_every_h=SERIES_EVERY_H)
        except Exception:  # a failing run is a rejected particle, not a failed calibration
            return dict.fromkeys(self.targets.names, math.nan)
        return summary_statistics(out.outcomes, out.series, self.targets)


class RangeDistance:
    """pyabc's distance: :func:`sim.calibration.targets.distance` (the observed point pyabc
    passes is not used: the targets are ranges); NaN statistics are infinitely far."""

    def __init__(self, targets: Targets):
        self.targets = targets

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None) -> float:
        if any(not math.isfinite(v) for v in x.values()):
            return math.inf
        return distance(x, self.targets)


def central_point(targets: Targets) -> dict[str, float]:
    """The reported central values, recorded with pyabc's history as its 'observation'."""
    point = {
        name: (r.central if r.central is not None else (r.low + r.high) / 2)
        for name, r in targets.ranges
    }
    for outcome, tally in targets.tallies:
        for hours, value in zip(tally.hours, tally.values, strict=True):
            point[f"{outcome}@{hours:g}h"] = value
    return point


def _evaluate(simulate_one: Callable[[], Any], seed: int) -> Any:
    """One evaluation: seed numpy's global generator, let pyabc propose and simulate."""
    np.random.seed(seed % 2**32)  # noqa: NPY002 (pyabc proposes from the global generator)
    return simulate_one()


def make_sampler(
    master_seed: int,
    batch: int,
    evaluate_batch: Callable[[bytes, list[EvalKey], list[int]], list[Any]],
) -> Any:
    """A pyabc sampler that evaluates fixed batches through ``evaluate_batch`` (which runs
    them anywhere, stores them, and returns the particles in key order)."""
    import cloudpickle
    from pyabc.sampler import Sampler

    class DeterministicSampler(Sampler):
        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, **_: Any):
            blob = cloudpickle.dumps(simulate_one)
            sample = self._create_empty_sample()
            done, b = 0, 0
            while sample.n_accepted < n and done < max_eval:
                keys = [(int(t), b, i) for i in range(batch)]
                seeds = [evaluation_seed(master_seed, k) for k in keys]
                for particle in evaluate_batch(blob, keys, seeds):
                    sample.append(particle)
                    done += 1
                    if sample.n_accepted >= n:
                        break
                b += 1
            self.nr_evaluations_ = done
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return DeterministicSampler()


def evaluate_blob(blob: bytes, seeds: Sequence[int]) -> list[Any]:
    """Run evaluations of one pickled ``simulate_one`` (in a worker), one per seed."""
    import cloudpickle

    simulate_one = cloudpickle.loads(blob)
    return [_evaluate(simulate_one, seed) for seed in seeds]


def run_abc(
    spec: CalibrationSpec,
    history_path: str,
    evaluate_batch: Callable[[bytes, list[EvalKey], list[int]], list[Any]],
    resume: bool,
) -> Any:
    """Run (or resume) the ABC-SMC of ``spec``; returns pyabc's History."""
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    targets = targets_of(spec)
    prior = pyabc.Distribution(**{p.name: pyabc.RV("uniform", 0.0, 1.0) for p in spec.priors})
    m = spec.method
    abc = pyabc.ABCSMC(
        Simulator(spec.scenario.params, spec.priors, targets),
        prior,
        RangeDistance(targets),
        population_size=m.population,
        sampler=make_sampler(spec.master_seed, m.batch, evaluate_batch),
        eps=pyabc.QuantileEpsilon(alpha=m.quantile),
    )
    db = f"sqlite:///{history_path}"
    if resume:
        abc.load(db, 1)
    else:
        abc.new(db, central_point(targets))
    return abc.run(
        minimum_epsilon=m.min_epsilon,
        max_nr_populations=m.max_generations,
        max_total_nr_simulations=m.max_runs,
    )
