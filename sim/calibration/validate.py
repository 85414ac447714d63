"""Validation of a calibration and the files it writes.

Two sets of fresh runs (their seeds are digests of (master seed, -100 or -101, 0, index),
so none was used in the calibration, whose keys have generations -1 and up):

* the *calibrated scenario*: the posterior's central point, ``n`` seeds;
* the *posterior predictive*: ``n`` parameter sets resampled from the posterior, one run
  each, so the spread includes the parameters' uncertainty.

Both go through the sweep executor. The page (:mod:`sim.calibration.page`) shows every
target against its reported range and the share of runs inside it, the tallies against
the reported points, the posterior and the predictions. The calibrated scenario file holds
the base scenario's parameters with the central point in place of the calibrated ones, and
its provenance (calibration file, its SHA-256, date, code version and commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.calibration import figures
from sim.calibration.abc import evaluation_seed, targets_of
from sim.calibration.config import CalibrationSpec
from sim.calibration.page import PREDICTIONS, Validation, build_page
from sim.calibration.posterior import central_point, correlations, resample, summary
from sim.calibration.run import SERIES_EVERY_H, outcomes_needed, statistics_of, tally_frame
from sim.calibration.targets import TALLY_SERIES
from sim.config.loading import load_mapping


def validation_runs(
    spec: CalibrationSpec, param_sets: Sequence[dict[str, Any]], set_id: int, backend: Any
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """One run per parameter set (seed: digest of (master seed, set_id, 0, index)):
    (one row of target statistics and predictions per run, each run's tally series)."""
    from sim.experiments.executors import evaluate

    targets = targets_of(spec)
    base = dict(spec.scenario.params)
    records = evaluate(
        [
            (base | dict(p), evaluation_seed(spec.master_seed, (set_id, 0, i)))
            for i, p in enumerate(param_sets)
        ],
        outcomes=tuple(dict.fromkeys([*outcomes_needed(targets), *PREDICTIONS])),
        series_every_h=SERIES_EVERY_H,
        backend=backend,
    )
    ok = [r for r in records if r.ok]
    rows = [statistics_of(r, targets) | {o: r.outcomes[o] for o in PREDICTIONS} for r in ok]
    return pd.DataFrame(rows), [tally_frame(r, targets) for r in ok]


def validate(
    spec: CalibrationSpec, posterior: pd.DataFrame, n: int, backend: Any
) -> tuple[list[Validation], dict[str, list[pd.DataFrame]]]:
    """The two validation sets (see the module docstring)."""
    central = central_point(posterior, spec.priors)
    draws = resample(posterior, n, spec.master_seed).to_dict("records")
    sets = {
        f"calibrated scenario, {n} fresh seeds": [central] * n,
        f"posterior predictive, {n} draws": draws,
    }
    runs, series = [], {}
    for set_id, (label, params) in zip((-100, -101), sets.items(), strict=True):
        stats, s = validation_runs(spec, params, set_id, backend)
        runs.append(Validation(label, stats))
        series[label] = s
    return runs, series


def validation_figures(
    spec: CalibrationSpec,
    posterior: pd.DataFrame,
    runs: Sequence[Validation],
    series: dict[str, list[pd.DataFrame]],
) -> list[tuple[str, bytes]]:
    """(alt text, PNG) of: targets against ranges, tallies against reports, posterior pairs."""
    targets = targets_of(spec)
    out = [
        (
            "Each target's runs against its reported range",
            _png(figures.targets_against_ranges({v.label: v.stats for v in runs}, targets)),
        )
    ]
    if targets.tallies:
        last = max(h for _, t in targets.tallies for h in t.hours)
        hours = np.arange(0.0, last + 24.0, 1.0)
        first = runs[0].label
        columns = {o: TALLY_SERIES[o] for o, _ in targets.tallies}
        curves = figures.tally_curves(series[first], columns, hours)
        out.append(
            (
                "Running tallies against the reported points",
                _png(figures.tallies_against_reports(curves, hours, targets)),
            )
        )
    out.append(("Posterior pairs", _png(figures.posterior_pairs(posterior, spec.priors))))
    return out


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def write_page(
    path: Path,
    spec: CalibrationSpec,
    posterior: pd.DataFrame,
    method: dict[str, Any],
    runs: Sequence[Validation],
    series: dict[str, list[pd.DataFrame]],
    provenance: dict[str, Any],
) -> list[tuple[str, bytes]]:
    """Write the validation page; returns its figures (to be saved beside it)."""
    pngs = validation_figures(spec, posterior, runs, series)
    text = build_page(
        spec,
        targets_of(spec),
        method,
        summary(posterior, spec.priors),
        correlations(posterior, spec.priors),
        central_point(posterior, spec.priors),
        runs,
        pngs,
        provenance,
    )
    path.write_text(text)
    return pngs


def calibrated_scenario_text(
    spec: CalibrationSpec,
    posterior: pd.DataFrame,
    posterior_file: str,
    calibration_sha: str,
    code: tuple[str | None, bool | None],
) -> str:
    """The calibrated scenario file: the base file's parameters with the central point in
    place of each calibrated one (with its 90 % interval), and provenance (including the
    file of posterior samples written beside it). ``code`` is the (git commit, dirty) the
    calibration ran with, as its store recorded it when it started: asked at the end, git
    would see the files the calibration itself has just written."""
    from sim import __version__

    raw, _ = load_mapping(spec.scenario.path, "a scenario file")
    params = dict(raw.get("params") or {})
    table = summary(posterior, spec.priors).set_index("parameter")
    for name, value in central_point(posterior, spec.priors).items():
        q5, q95 = table.loc[name, "q5"], table.loc[name, "q95"]
        params[name] = {
            "value": value,
            "source": "calibration",
            "note": f"posterior median; 90 % interval {q5:.4g} to {q95:.4g}",
        }
    commit, dirty = code
    doc = {
        "name": f"{spec.scenario.name}_calibrated",
        "description": f"{spec.scenario.description.strip()} Calibrated by {spec.name}: the "
        "posterior's central point (weighted median of each calibrated parameter).",
        "compare_with_reported": bool(spec.scenario.compare_with_reported),
        "provenance": {
            "written_by": "prisonsim calibrate",
            "calibration_file": Path(spec.path).name,
            "calibration_sha256": calibration_sha,
            "posterior_samples": posterior_file,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "code_version": __version__,
            "git_commit": f"{commit or 'unknown'}{'+dirty' if dirty else ''}",
        },
        "params": params,
    }
    header = "# Written by 'prisonsim calibrate'; do not edit by hand: re-run the calibration.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=92, allow_unicode=True)
