"""Results stores made the way a sweep makes them, for the analysis, plot and report tests.

An experiment file (YAML, written to a temporary directory) goes through the real loader
(:func:`~sim.experiments.loader.load_experiment`); its runs go into a real results store
through the store's API (:class:`~sim.experiments.store.ResultsStore`, the sweep's own
writer) and come back through :func:`~sim.experiments.store.load_results`, the analysis's
only input. Only the model is replaced: a run's outcomes are a known formula of its
parameter values and seed, so that tests know the answers.

``policy_file`` writes a policy experiment (levers crossed with sampled conditions);
``sensitivity_file`` a Sobol or Morris design over named ranges; ``store_results`` runs
one into a store, with chosen runs failed, skipped (still pending) or given series.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.experiments.contract import ExperimentSpec, Results, RunKey, RunRecord, Series
from sim.experiments.loader import load_experiment
from sim.experiments.store import ResultsStore, load_results

OUTCOMES = ["left_custody", "deaths_guards", "hours_to_control", "peak_share_held"]
SERIES = ["inmates_rioting", "guards_on_post", "share_held"]
Respond = Callable[[Mapping[str, Any], RunKey], Mapping[str, float]]
MakeSeries = Callable[[RunKey, Mapping[str, float]], Series]

_names = (f"e{i}" for i in itertools.count())  # a fresh file name per experiment


def write_experiment(directory: Path, fields: Mapping[str, Any]) -> Path:
    """Write ``fields`` as an experiment file (its name made unique) and return its path."""
    name = next(_names)
    path = Path(directory) / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **fields}, sort_keys=False))
    return path


def policy_file(
    directory: Path,
    levers: Mapping[str, Sequence] | None = None,
    *,
    replicates: int = 10,
    conditions: int = 1,
    series_every_h: float | None = None,
    scenario: str = "ghwayran_2022",
    **fields: Any,
) -> Path:
    """A policy experiment: every combination of the lever values (default: warning lead
    time 0, 24, 48 h), crossed with ``conditions`` Latin-hypercube samples of the
    attackers (1: none, the scenario's value; a full factorial design). ``fields``
    add to or replace the file's fields."""
    levers = {"warning_lead_time_h": [0, 24, 48]} if levers is None else levers
    sampled = conditions > 1
    design = {"type": "latin_hypercube", "samples": conditions} if sampled else {}
    body = {
        "question": "Does a longer warning lead time reduce escapes?",
        "scenario": scenario,
        "levers": {k: v if isinstance(v, dict) else list(v) for k, v in levers.items()},
        "uncertainties": {"attackers": {"low": 100, "high": 300}} if sampled else {},
        "design": design or {"type": "full_factorial"},
        "replicates": replicates,
        "master_seed": 1,
        "outcomes": OUTCOMES,
    }
    if series_every_h is not None:
        body["series_every_h"] = series_every_h
    return write_experiment(directory, {**body, **fields})


def sensitivity_file(
    directory: Path,
    ranges: Mapping[str, Mapping[str, float]],
    design: Mapping[str, Any],
    *,
    replicates: int = 1,
    outcomes: Sequence[str] = OUTCOMES,
    master_seed: int = 3,
) -> Path:
    """A Sobol or Morris experiment over ``ranges`` (lever or uncertainty names, each
    ``{}`` for its plausible range or ``{low, high}``), at the event's scale."""
    from sim.model.params import PARAMS

    return write_experiment(
        directory,
        {
            "question": "Which conditions matter most?",
            "scenario": "ghwayran_2022",
            "levers": {n: dict(r) for n, r in ranges.items() if PARAMS[n].role == "lever"},
            "uncertainties": {
                n: dict(r) for n, r in ranges.items() if PARAMS[n].role == "uncertainty"
            },
            "design": dict(design),
            "replicates": replicates,
            "master_seed": master_seed,
            "outcomes": list(outcomes),
        },
    )


def policy_response(values: Mapping[str, Any], key: RunKey) -> dict[str, float]:
    """Smooth, known responses: more warning and more guards, fewer escapes and faster
    control; noise shared by runs with the same seed (common random numbers) plus a
    little of the point's own."""
    w = float(values.get("warning_lead_time_h", 0.0))
    g = float(values.get("guards_per_100_inmates", 3.0))
    a = float(values.get("attackers", 200.0))
    noise = np.random.default_rng(key.seed).standard_normal(4)
    noise += 0.3 * np.random.default_rng([key.seed, key.point_id]).standard_normal(4)
    return {
        "left_custody": max(0.0, 600 - 5 * w - 30 * g + a + 80 * noise[0]),
        "deaths_guards": max(0.0, 40 - 0.3 * w + 0.05 * a + 6 * noise[1]),
        "hours_to_control": max(1.0, 150 - 1.2 * w - 5 * g + 20 * noise[2]),
        "peak_share_held": float(np.clip(0.5 - 0.004 * w - 0.02 * g + 0.1 * noise[3], 0, 1)),
    }


def decaying_series(every_h: float, length: int) -> MakeSeries:
    """Series of ``length`` samples, ``every_h`` apart, decaying from the run's peak
    share held at a pace set by its hours to control."""

    def make(key: RunKey, outcomes: Mapping[str, float]) -> Series:
        t = np.arange(length) * every_h
        pace = max(outcomes["hours_to_control"] / 3, 1e-3)
        curve = outcomes["peak_share_held"] * np.exp(-t / pace)
        scaled = {"inmates_rioting": 1000 * curve, "guards_on_post": 50 * (1 - curve)}
        scaled["share_held"] = curve
        return Series(tuple(map(float, t)), {v: tuple(map(float, scaled[v])) for v in SERIES})

    return make


def store_results(
    experiment: Path,
    *,
    respond: Respond = policy_response,
    fail: Collection[tuple[int, int]] = (),
    skip: Collection[int] = (),
    series: MakeSeries | None = None,
    db: Path | None = None,
) -> Results:
    """Run ``experiment`` (loaded by the real loader) into a results store beside it and
    read it back: each run's outcomes are ``respond(values, key)``, with ``values`` its
    full parameter set; runs ``(point_id, replicate)`` in ``fail`` are stored as failures
    and points in ``skip`` are left pending; ``series(key, outcomes)`` gives a run's
    series."""
    spec = load_experiment(experiment)
    db = db or experiment.with_suffix(".db")
    with ResultsStore.create(db, spec) as store:
        store.begin_session("sweep", f"prisonsim sweep {experiment}", "local", 1)
        store.write_records(_records(spec, respond, fail, skip, series))
        store.end_session("finished")
    return load_results(db)


def _records(
    spec: ExperimentSpec,
    respond: Respond,
    fail: Collection[tuple[int, int]],
    skip: Collection[int],
    series: MakeSeries | None,
) -> list[RunRecord]:
    records = []
    points = {p.point_id: p for p in spec.points}
    for key in spec.run_keys():
        if key.point_id in skip:
            continue
        if (key.point_id, key.replicate) in fail:
            records.append(RunRecord.failed(key, "ValueError: synthetic failure", "Traceback"))
            continue
        outcomes = dict(respond(spec.point_params(points[key.point_id]), key))
        made = series(key, outcomes) if series else None
        records.append(RunRecord(key, outcomes, steps=10, series=made, elapsed_s=0.01))
    return records
