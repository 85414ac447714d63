"""A factory of synthetic :class:`Results` (no model, no store) and checks of the factory.

``make_results`` mimics what the runner stores: arms from a grid of lever values, common
random numbers (a run's seed depends only on its uncertainty point and replicate, never on
the arm), optional time series and failures. The benchmark imports it too.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.experiments.results import Results

OUTCOMES = ["left_custody", "deaths_guards", "hours_to_control", "peak_share_held"]
SERIES = ["inmates_rioting", "guards_on_post", "share_held"]


def arm_label(values: Mapping[str, object]) -> str:
    if not values:
        return "base"
    return ", ".join(
        f"{k}={v:g}" if not isinstance(v, bool) else f"{k}={v}" for k, v in values.items()
    )


def outcome_values(
    lever_values: Mapping[str, float], unc: Mapping[str, float], noise: np.ndarray
) -> dict[str, float]:
    """Smooth, known responses: more warning -> fewer escapes and faster control."""
    w = float(lever_values.get("warning_lead_time_h", 0.0))
    g = float(lever_values.get("guards_per_100_inmates", 3.0))
    a = float(unc.get("attackers", 200.0))
    return {
        "left_custody": max(0.0, 600 - 5 * w - 30 * g + a + 80 * noise[0]),
        "deaths_guards": max(0.0, 40 - 0.3 * w + 0.05 * a + 6 * noise[1]),
        "hours_to_control": max(1.0, 150 - 1.2 * w - 5 * g + 20 * noise[2]),
        "peak_share_held": float(np.clip(0.5 - 0.004 * w - 0.02 * g + 0.1 * noise[3], 0, 1)),
    }


def make_results(
    levers: Mapping[str, Sequence] | None = None,
    replicates: int = 10,
    uncertainty_points: int = 1,
    outcomes: Sequence[str] = tuple(OUTCOMES),
    series_times: Sequence[float] | None = None,
    fail: Sequence[tuple[int, int]] = (),
    drop_points: Sequence[int] = (),
    design: str = "full_factorial",
    seed: int = 1,
) -> Results:
    """Results of a synthetic full-factorial experiment.

    ``fail`` lists (point_id, replicate) runs recorded as failures; ``drop_points`` lists
    point_ids never run (a partly finished store).
    """
    levers = dict(levers if levers is not None else {"warning_lead_time_h": [0, 24, 48]})
    rng = np.random.default_rng(seed)
    unc_values = rng.uniform(100, 300, uncertainty_points)
    combos = list(itertools.product(*levers.values())) if levers else [()]
    rows, fails, series = [], [], []
    point_id = 0
    failed = set(fail)
    for combo in combos:
        lv = dict(zip(levers, combo, strict=True))
        for u, a in enumerate(unc_values):
            for r in range(replicates):
                run_seed = 1000 * u + r + 7  # CRN: independent of the arm
                base = {
                    "point_id": point_id,
                    "arm": arm_label(lv),
                    "replicate": r,
                    "seed": run_seed,
                    **lv,
                }
                if uncertainty_points > 1:
                    base["attackers"] = a
                if point_id in drop_points:
                    continue
                if (point_id, r) in failed:
                    fails.append(
                        {
                            **{k: base[k] for k in ("point_id", "arm", "replicate", "seed")},
                            "error": "ValueError: synthetic failure",
                            "traceback": "Traceback ...\nValueError: synthetic failure",
                        }
                    )
                    continue
                noise = np.random.default_rng(run_seed).standard_normal(
                    4
                ) + 0.3 * np.random.default_rng([run_seed, point_id]).standard_normal(4)
                vals = outcome_values(lv, {"attackers": a}, noise)
                rows.append({**base, **{o: vals[o] for o in outcomes}})
                if series_times is not None:
                    t = np.asarray(series_times, float)
                    peak = vals["peak_share_held"]
                    curve = peak * np.exp(-t / max(vals["hours_to_control"] / 3, 1e-3))
                    for v, scale in zip(SERIES, (1000.0, 50.0, 1.0), strict=True):
                        series.append(
                            pd.DataFrame(
                                {
                                    "point_id": point_id,
                                    "arm": base["arm"],
                                    "replicate": r,
                                    "t_h": t,
                                    "variable": v,
                                    "value": scale
                                    * (curve if v != "guards_on_post" else 1 - curve),
                                }
                            )
                        )
            point_id += 1
    runs = pd.DataFrame(rows)
    series_df = (
        pd.concat(series, ignore_index=True)
        if series
        else pd.DataFrame(columns=["point_id", "arm", "replicate", "t_h", "variable", "value"])
    )
    failures = pd.DataFrame(
        fails, columns=["point_id", "arm", "replicate", "seed", "error", "traceback"]
    )
    experiment = {
        "name": "synthetic",
        "question": "Does a longer warning lead time reduce escapes?",
        "design": {"type": design},
        "scenario": "ghwayran_2022",
        "compare_with_reported": True,
        "replicates": replicates,
        "master_seed": seed,
        "levers": {k: list(v) for k, v in levers.items()},
    }
    provenance = {
        "config_hash": "abc123",
        "master_seed": seed,
        "git_commit": "deadbeef",
        "git_dirty": False,
        "package_versions": {"numpy": np.__version__},
        "started_at": "2025-01-01T00:00:00",
        "finished_at": None,
    }
    return Results(
        experiment=experiment,
        runs=runs,
        series=series_df,
        failures=failures,
        provenance=provenance,
        expected_runs=len(combos) * uncertainty_points * replicates,
        levers=list(levers),
        uncertainties=["attackers"] if uncertainty_points > 1 else [],
        outcomes=list(outcomes),
    )


def test_factory_uses_common_random_numbers():
    res = make_results(replicates=5)
    seeds = res.runs.groupby("arm")["seed"].apply(lambda s: tuple(sorted(s)))
    assert seeds.nunique() == 1, f"arms should share seeds, got {seeds.to_dict()}"
    assert res.complete and res.completed_runs == 15, res.completed_runs


def test_factory_records_failures_and_missing_points():
    res = make_results(replicates=3, fail=[(1, 0)], drop_points=[2])
    assert len(res.failures) == 1, res.failures
    assert res.completed_runs == 5, res.completed_runs
    assert not res.complete


SA_NAMES = ["attackers", "breach_rate", "agitation_threshold", "warning_lead_time_h"]


def make_sensitivity_results(
    design: str = "sobol", n: int = 256, replicates: int = 1, seed: int = 3
) -> Results:
    """Results of a synthetic ``sobol`` (Saltelli, first+total order) or ``morris`` design.

    Outcomes are smooth known functions of the scaled inputs, so the attackers and
    warning terms dominate; replicates add small seeded noise.
    """
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    from sim.model.params import PARAMS

    bounds = [list(PARAMS[n_].sweep_range()) for n_ in SA_NAMES]
    problem = {"num_vars": len(SA_NAMES), "names": list(SA_NAMES), "bounds": bounds}
    if design == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
        options = {"type": "sobol", "n": n, "calc_second_order": False}
    else:
        x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
        options = {"type": "morris", "trajectories": n, "num_levels": 4}
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    z = (x - lo) / (hi - lo)
    pts = np.arange(len(x))
    frames = []
    for r in range(replicates):
        eps = np.random.default_rng([seed, r]).standard_normal((len(x), len(OUTCOMES)))
        y = {
            "left_custody": 200 + 400 * z[:, 0] + 150 * z[:, 1] * z[:, 0] - 250 * z[:, 3],
            "deaths_guards": 10 + 30 * z[:, 0] + 5 * np.sin(6 * z[:, 2]),
            "hours_to_control": 60 + 80 * z[:, 2] ** 2 + 40 * z[:, 0] - 30 * z[:, 3],
            "peak_share_held": 0.2 + 0.3 * z[:, 2] * z[:, 1],
        }
        frame = pd.DataFrame(
            {
                "point_id": pts,
                "arm": "base",
                "replicate": r,
                "seed": pts * 100 + r,
                **{n_: x[:, i] for i, n_ in enumerate(SA_NAMES)},
            }
        )
        for k, o in enumerate(OUTCOMES):
            frame[o] = y[o] + 0.01 * np.abs(y[o]).mean() * eps[:, k] * (replicates > 1)
        frames.append(frame)
    runs = pd.concat(frames, ignore_index=True)
    return Results(
        experiment={
            "name": f"synthetic_{design}",
            "question": "Which conditions matter most?",
            "design": options,
            "scenario": "ghwayran_2022",
            "replicates": replicates,
            "master_seed": seed,
        },
        runs=runs,
        series=pd.DataFrame(),
        failures=pd.DataFrame(
            columns=["point_id", "arm", "replicate", "seed", "error", "traceback"]
        ),
        provenance={"config_hash": "f00", "master_seed": seed},
        expected_runs=len(runs),
        levers=["warning_lead_time_h"],
        uncertainties=SA_NAMES[:3],
        outcomes=list(OUTCOMES),
        design_samples=pd.DataFrame(x, columns=SA_NAMES),
        problem=problem,
    )
