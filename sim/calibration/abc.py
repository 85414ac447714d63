"""ABC-SMC with pyabc, deterministic and resumable.

pyabc (Klinger, Rickert and Hasenauer 2018, *Bioinformatics* 34(20)) runs the sequential
Monte Carlo: proposals from the last generation's weighted particles through a multivariate
normal kernel, importance weights prior / proposal, and a threshold that falls to a
quantile of the last generation's distances each generation. This module supplies what it
needs to fit the model to reported ranges (:class:`Simulator`, :class:`RangeDistance`) and
a sampler that makes the result independent of how the work is spread
(:class:`DeterministicSampler`): evaluations come in fixed batches, evaluation (generation,
batch, index) draws its proposal and its run's seed from a digest of (master seed,
generation, batch, index), and particles are accepted in index order until the population
is full. Proposals are made in the coordinator, model runs on any backend (the two-pass
:class:`Simulator`). So the same file and seed give the same posterior on any number of
workers, and a calibration killed at any moment and resumed from its stored evaluations and
pyabc's history gives the same posterior as an uninterrupted one.

The proposal is pyabc's multivariate normal kernel around each particle with twice the
weighted covariance of the last generation (Beaumont, Cornuet, Marin and Robert 2009,
*Biometrika* 96(4)), not a bandwidth rule: with 18 parameters and 200 particles, a
rule-of-thumb bandwidth gives a ragged proposal whose importance weights collapse onto a
handful of particles (an effective sample size of 1.5 in 200 was measured), while the wider
kernel keeps the weights even at the cost of a lower acceptance rate.

Parameters are calibrated on the unit cube (each prior maps [0, 1] onto its range, linear
or log), so all dimensions have the same scale, which keeps the kernel's covariance well
conditioned. The prior is uniform on the cube, so a particle's weight is 1 / (the
proposal's density): with the wide kernel the proposal is smooth and the weights even
(in a synthetic 10-parameter test the effective sample size stayed near 160 of 200 where a
bandwidth rule gave 30 to 60, and a logistic prior on the logit scale under 10).
:class:`CubeKernel` draws its proposals in batches and keeps the first inside the cube
(pyabc's own one-at-a-time retries took as long as the model runs in 18 dimensions); that
truncation changes the proposal's density by a constant factor only, which the weights'
normalisation removes.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sim.calibration.config import CalibrationSpec, Prior
from sim.calibration.targets import Targets, distance, load_targets
from sim.model.params import PARAMS

EvalKey = tuple[int, int, int]
"""(generation, batch, index) of one evaluation."""


def targets_of(spec: CalibrationSpec) -> Targets:
    return load_targets(
        list(spec.range_keys), list(spec.tally_keys), spec.tally_tolerance, spec.reported
    )


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
    """pyabc's model, in two passes (see :func:`make_sampler`).

    pyabc proposes a particle and calls the model in one go (``simulate_one``). To run the
    model elsewhere, each evaluation is done twice in the coordinator from the same seed:
    first in *propose* mode (the proposal is recorded, the statistics are NaN and the
    particle is discarded), then, once the run is back, in *replay* mode (the proposal is
    drawn again, identically, and the run's statistics are returned).
    """

    def __init__(self, names: Sequence[str]):
        self.names = tuple(names)
        self.proposed: dict[str, float] | None = None
        self.replay: dict[str, float] | None = None

    def __call__(self, unit: dict[str, float]) -> dict[str, float]:
        self.proposed = {k: float(v) for k, v in unit.items()}
        if self.replay is None:
            return dict.fromkeys(self.names, math.nan)
        return dict(self.replay)


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


RunBatch = Callable[[list[EvalKey], list[dict[str, float]]], list[dict[str, float] | None]]
"""Runs the model for evaluations (keys, unit-cube points) and returns each one's
statistics, or None for a run that failed (a failed run is a rejected particle)."""


def _draw(simulator: Simulator, simulate_one: Callable[[], Any], seed: int, replay: Any) -> Any:
    """One pass of one evaluation: seed pyabc's generator, propose, return the particle."""
    simulator.replay = replay
    np.random.seed(seed % 2**32)  # noqa: NPY002 (pyabc proposes from the global generator)
    return simulate_one()


def make_sampler(master_seed: int, batch: int, simulator: Simulator, run_batch: RunBatch) -> Any:
    """A pyabc sampler that evaluates fixed batches of keys (generation, batch, index) in
    order, proposing in the coordinator and running the model through ``run_batch``."""
    from pyabc.sampler import Sampler

    def evaluate(simulate_one: Callable[[], Any], keys: list[EvalKey]) -> list[Any]:
        seeds = [evaluation_seed(master_seed, k) for k in keys]
        units = []
        for seed in seeds:
            _draw(simulator, simulate_one, seed, None)
            units.append(simulator.proposed)
        stats = run_batch(keys, units)
        nan = dict.fromkeys(simulator.names, math.nan)
        return [
            _draw(simulator, simulate_one, seed, s if s is not None else nan)
            for seed, s in zip(seeds, stats, strict=True)
        ]

    class DeterministicSampler(Sampler):
        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, **_: Any):
            sample = self._create_empty_sample()
            done, b = 0, 0
            while sample.n_accepted < n and done < max_eval:
                for particle in evaluate(simulate_one, [(int(t), b, i) for i in range(batch)]):
                    sample.append(particle)
                    done += 1
                    if sample.n_accepted >= n:
                        break
                b += 1
            self.nr_evaluations_ = done
            sample.ok = sample.n_accepted >= n
            return sample

    return DeterministicSampler()


def cube_kernel(scaling: float) -> Any:
    """pyabc's multivariate normal kernel, drawing inside the unit cube (see the module
    docstring); its covariance is ``scaling`` x the last generation's weighted one."""
    import pyabc
    from pyabc.parameters import Parameter

    class CubeKernel(pyabc.MultivariateNormalTransition):
        batch = 512

        def rvs_single(self) -> Parameter:
            zero = np.zeros(self.cov.shape[0])
            for _ in range(10_000):
                idx = np.random.choice(self._range, size=self.batch, p=self.w)  # noqa: NPY002
                draws = self._X_arr[idx] + np.random.multivariate_normal(  # noqa: NPY002
                    zero, self.cov, size=self.batch
                )
                inside = np.all((draws >= 0.0) & (draws <= 1.0), axis=1)
                if inside.any():
                    first = draws[np.argmax(inside)]
                    return Parameter(dict(zip(self.X.columns, first, strict=True)))
            raise RuntimeError("no proposal inside the unit cube in 5 million draws")

    return CubeKernel(scaling=scaling, bandwidth_selector=_unit_bandwidth)


def _unit_bandwidth(n: float, d: int) -> float:
    """Bandwidth factor 1: the kernel's covariance is ``scaling`` x the weighted one."""
    return 1.0


KERNEL_SCALING = 2.0
"""Kernel covariance as a multiple of the last generation's (Beaumont et al. 2009)."""


def effective_sample_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size of importance weights: ``(sum w)^2 / sum w^2``."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2))


def run_abc(
    spec: CalibrationSpec, history_path: str, run_batch: RunBatch, resume: bool, finished: bool
) -> Any:
    """Run (or resume) the ABC-SMC of ``spec``; returns pyabc's History.

    Resumed, it continues after the last generation in the history, up to
    ``max_generations`` in all (pyabc counts ``max_nr_populations`` from where it
    resumes); a ``finished`` calibration is not run again.
    """
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    targets = targets_of(spec)
    prior = pyabc.Distribution(**{p.name: pyabc.RV("uniform", 0.0, 1.0) for p in spec.priors})
    m = spec.method
    simulator = Simulator(targets.names)
    abc = pyabc.ABCSMC(
        simulator,
        prior,
        RangeDistance(targets),
        population_size=m.population,
        transitions=cube_kernel(KERNEL_SCALING),
        sampler=make_sampler(spec.master_seed, m.batch, simulator, run_batch),
        eps=pyabc.QuantileEpsilon(alpha=m.quantile),
    )
    db = f"sqlite:///{history_path}"
    if resume:
        abc.load(db, 1)
    else:
        abc.new(db, central_point(targets))
    remaining = m.max_generations - (abc.history.max_t + 1)
    if finished or remaining <= 0:
        return abc.history
    return abc.run(
        minimum_epsilon=m.min_epsilon,
        max_nr_populations=remaining,
        max_total_nr_simulations=m.max_runs,
    )
