"""Run a calibration: ABC-SMC proposals in this process, model runs on the sweep backends,
every run stored as it arrives (:mod:`sim.calibration.store`).

The model runs go through :func:`sim.experiments.executors.evaluate`, the loop sweeps use,
so a calibration has their guarantees: local processes or Dask, a failing run recorded (a
rejected particle) while the rest go on, workers stopped cleanly on a signal. Runs already
in the store are read back, not run again, which is what makes a resumed calibration give
the same posterior as an uninterrupted one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.calibration.abc import (
    EvalKey,
    effective_sample_size,
    evaluation_seed,
    model_values,
    run_abc,
    targets_of,
)
from sim.calibration.config import CalibrationSpec
from sim.calibration.posterior import from_unit_frame
from sim.calibration.store import CalibrationStore, Evaluation, history_path
from sim.calibration.targets import TALLY_SERIES, Targets, summary_statistics
from sim.experiments.contract import RunRecord

SERIES_EVERY_H = 1.0
"""Series interval of a calibration run (h): hourly counts to read the tallies from."""


@dataclass(frozen=True)
class CalibrationResult:
    """What a finished calibration gives: the posterior and how it was reached."""

    posterior: pd.DataFrame
    generations: pd.DataFrame  # pyabc's populations: t, epsilon, samples, particles
    effective_sample_size: float  # of the final generation's weights (Kish)
    runs: int  # model runs stored (this and earlier sessions)
    runs_this_session: int
    elapsed_s: float


def outcomes_needed(targets: Targets) -> tuple[str, ...]:
    names = [name for name, _ in targets.ranges] + [o for o, _ in targets.tallies]
    return tuple(dict.fromkeys(names))


def statistics_of(record: RunRecord, targets: Targets) -> dict[str, float] | None:
    """A run record's summary statistics (None for a failed run)."""
    if not record.ok:
        return None
    return summary_statistics(record.outcomes, tally_frame(record, targets), targets)


def tally_frame(record: RunRecord, targets: Targets) -> pd.DataFrame | None:
    """The count series the tallies are read from, as a frame indexed by hours."""
    if record.series is None or not targets.tallies:
        return None
    wanted = {TALLY_SERIES[o] for o, _ in targets.tallies}
    values = {c: list(v) for c, v in record.series.values.items() if c in wanted}
    return pd.DataFrame(values, index=list(record.series.t_h))


class BatchRunner:
    """The ``run_batch`` of :func:`sim.calibration.abc.make_sampler`: reads stored runs,
    runs the others on ``backend`` and stores them, and reports progress."""

    def __init__(
        self,
        spec: CalibrationSpec,
        store: CalibrationStore,
        backend: Any,
        progress: Callable[[str], None],
    ):
        self.spec, self.store, self.backend = spec, store, backend
        self.targets = targets_of(spec)
        self.progress = progress
        self.ran = 0
        self.t0 = time.monotonic()

    def __call__(self, keys: list[EvalKey], units: list[dict[str, float]]) -> list[Any]:
        stored = self.store.evaluations(keys)
        todo = [(k, u) for k, u in zip(keys, units, strict=True) if k not in stored]
        if todo:
            new = self._run(todo)
            self.store.add_evaluations(new)
            stored.update({e.key: e for e in new})
            self.ran += len(new)
        self._report(keys[0][0])
        return [stored[k].stats for k in keys]

    def _run(self, todo: list[tuple[EvalKey, dict[str, float]]]) -> list[Evaluation]:
        from sim.experiments.executors import evaluate

        params = [model_values(self.spec.priors, u) for _, u in todo]
        seeds = [evaluation_seed(self.spec.master_seed, k) for k, _ in todo]
        base = dict(self.spec.scenario.params)
        records = evaluate(
            [(base | p, s) for p, s in zip(params, seeds, strict=True)],
            outcomes=outcomes_needed(self.targets),
            series_every_h=SERIES_EVERY_H if self.targets.tallies else None,
            backend=self.backend,
        )
        return [
            Evaluation(k, s, p, statistics_of(r, self.targets), r.error)
            for (k, _), s, p, r in zip(todo, seeds, params, records, strict=True)
        ]

    def _report(self, generation: int) -> None:
        stored, failed = self.store.count()
        minutes = (time.monotonic() - self.t0) / 60
        stage = "initial sample" if generation < 0 else f"generation {generation}"
        self.progress(
            f"{self.spec.name}: {stage}, {stored} runs stored "
            f"({self.ran} this session, {failed} failed), {minutes:.1f} min"
        )


def calibrate(
    spec: CalibrationSpec,
    store: CalibrationStore,
    backend: Any,
    resume: bool,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> CalibrationResult:
    """Run (or resume) ``spec``'s calibration into ``store`` (opened, claimed) on
    ``backend``; the posterior is written to the store when it ends."""
    runner = BatchRunner(spec, store, backend, progress)
    finished = store.status().get("state") == "finished"
    store.set_status(state="running" if not finished else "finished")
    history = run_abc(spec, str(history_path(store.path)), runner, resume, finished)
    unit, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = from_unit_frame(unit, weights, spec.priors)
    store.write_posterior(posterior)
    elapsed = time.monotonic() - runner.t0
    runs, _ = store.count()
    store.set_status(state="finished", generations=int(history.max_t) + 1)
    return CalibrationResult(
        posterior,
        history.get_all_populations(),
        effective_sample_size(weights),
        runs,
        runner.ran,
        elapsed,
    )
