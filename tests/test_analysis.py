"""Analysis tables checked against known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from test_analysis_synthetic import make_results

from sim.analysis import tables as analysis
from sim.experiments.results import Results


def _results_from(runs: pd.DataFrame, outcomes: list[str], **kw) -> Results:
    empty_fail = pd.DataFrame(
        columns=["point_id", "arm", "replicate", "seed", "error", "traceback"]
    )
    kw.setdefault(
        "experiment",
        {
            "name": "t",
            "question": "q",
            "design": {"type": "points"},
            "replicates": 1,
            "master_seed": 0,
        },
    )
    return Results(
        runs=runs,
        series=pd.DataFrame(),
        failures=kw.pop("failures", empty_fail),
        provenance={},
        expected_runs=kw.pop("expected_runs", len(runs)),
        outcomes=outcomes,
        **kw,
    )


# ----------------------------------------------------------------------------- intervals
def test_bootstrap_interval_covers_known_mean_about_95_percent():
    rng = np.random.default_rng(42)
    datasets, n, mu = 400, 30, 5.0
    values = rng.normal(mu, 2.0, size=(datasets, n))
    runs = pd.DataFrame(
        {
            "point_id": np.repeat(np.arange(datasets), n),
            "arm": np.repeat([f"d{i}" for i in range(datasets)], n),
            "replicate": np.tile(np.arange(n), datasets),
            "seed": np.tile(np.arange(n), datasets),
            "y": values.ravel(),
        }
    )
    table = analysis.summarise(_results_from(runs, ["y"]))
    covered = ((table["ci_low"] <= mu) & (mu <= table["ci_high"])).mean()
    assert 0.91 <= covered <= 0.98, f"coverage {covered:.3f} of {datasets} intervals"
    assert (table["n"] == n).all(), table["n"].unique()


def test_single_replicate_gives_no_interval_and_says_so():
    res = make_results(replicates=1)
    table = analysis.summarise(res)
    assert table["ci_low"].isna().all(), table[["arm", "ci_low"]]
    assert (table["note"] == "1 replicate: no interval").all(), table["note"].unique()


def test_paired_differences_pair_on_seed_and_cancel_shared_noise():
    # y = arm effect + shared noise(seed): paired differences are exact.
    rng = np.random.default_rng(0)
    seeds = np.arange(20)
    noise = rng.normal(0, 50, seeds.size)
    effect = {"a": 0.0, "b": -10.0, "c": 5.0}
    runs = pd.concat(
        [
            pd.DataFrame(
                {"point_id": i, "arm": arm, "replicate": seeds, "seed": seeds, "y": eff + noise}
            )
            for i, (arm, eff) in enumerate(effect.items())
        ]
    )
    runs = runs.sample(frac=1, random_state=1)  # order must not matter
    diff = analysis.paired_differences(_results_from(runs, ["y"]))
    got = diff.set_index("arm")["mean"].to_dict()
    assert diff["reference"].eq("a").all(), diff["reference"].unique()
    assert got == pytest.approx({"b": -10.0, "c": 5.0}), got
    assert diff["ci_high"].sub(diff["ci_low"]).max() < 1e-9, diff[["ci_low", "ci_high"]]
    assert diff.set_index("arm").loc["b", "share_lower"] == 1.0


def test_paired_differences_report_arms_without_common_seeds():
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 1, 1],
            "arm": ["a", "a", "b", "b"],
            "replicate": [0, 1, 0, 1],
            "seed": [1, 2, 3, 4],
            "y": [1.0, 2, 3, 4],
        }
    )
    diff = analysis.paired_differences(_results_from(runs, ["y"]))
    row = diff.iloc[0]
    assert row["n"] == 0 and "no run shares a seed" in row["note"], row.to_dict()


def test_summary_lists_arms_in_design_order_with_lever_values():
    res = make_results(levers={"warning_lead_time_h": [48, 0, 24]}, replicates=4)
    table = analysis.summarise(res)
    first = table[table["outcome"] == "left_custody"]
    assert list(first["warning_lead_time_h"]) == [48, 0, 24], first
    assert analysis.reference_arm(res) == "warning_lead_time_h=48"


def test_response_bins_a_continuous_lever():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 72, 500)
    runs = pd.DataFrame(
        {
            "point_id": np.arange(500),
            "arm": [f"p{i}" for i in range(500)],
            "replicate": 0,
            "seed": np.arange(500),
            "warning_lead_time_h": x,
            "y": 2 * x,
        }
    )
    res = _results_from(runs, ["y"], levers=["warning_lead_time_h"])
    curve = analysis.response(res, "warning_lead_time_h")
    assert curve["binned"].all() and len(curve) == analysis.N_BINS, curve
    assert np.allclose(curve["mean"], 2 * curve["x"]), curve[["x", "mean"]]


def test_completeness_names_missing_arms_and_failures():
    res = make_results(replicates=3, fail=[(2, 0), (2, 1), (2, 2), (1, 0)])
    info = analysis.completeness(res)
    assert info["missing_arms"] == ["warning_lead_time_h=48"], info["missing_arms"]
    assert (info["completed"], info["failed"], info["expected"]) == (5, 4, 9), info
    assert info["min_replicates"] == 2, info["arms"]


def test_distributions_share_inside_reported_range():
    res = make_results(replicates=20)
    table = analysis.distributions(res)
    lc = table[table["outcome"] == "left_custody"]
    assert (lc["reported_low"] == 140).all() and (lc["reported_high"] == 800).all(), lc
    share = lc["share_in_reported"]
    assert share.between(0, 1).all(), share
    assert table.loc[table["outcome"] == "deaths_guards", "share_in_reported"].isna().all()


def test_reported_range_cites_sources():
    rng = analysis.reported_range("left_custody")
    assert rng is not None and rng["low"] < rng["high"], rng
    assert "HST" in rng["sources"], rng["sources"]
    assert analysis.reported_range("deaths_guards") is None


def test_series_bands_order_quantiles():
    res = make_results(replicates=8, series_times=[0, 6, 12])
    bands = analysis.series_bands(res)
    assert (bands["q5"] <= bands["q50"]).all() and (bands["q50"] <= bands["q95"]).all()
    assert set(bands["n"]) == {8}, bands["n"].unique()


# ----------------------------------------------------------------------------- sensitivity
ISHIGAMI = {"S1": [0.3139, 0.4424, 0.0], "ST": [0.5576, 0.4424, 0.2437]}


def _sensitivity_results(
    x: np.ndarray, y: np.ndarray, problem: dict, design: dict, replicates: int = 2
) -> Results:
    """A store of a sobol/morris design: replicates scatter symmetrically around y."""
    names = problem["names"]
    pts = np.arange(len(x))
    frames = []
    for r in range(replicates):
        jitter = (1 if r % 2 else -1) * 0.5 if replicates % 2 == 0 else 0.0
        frames.append(
            pd.DataFrame(
                {
                    "point_id": pts,
                    "arm": "base",
                    "replicate": r,
                    "seed": pts * 10 + r,
                    **dict(zip(names, x.T, strict=True)),
                    "y": y + jitter,
                }
            )
        )
    runs = pd.concat(frames, ignore_index=True)
    samples = pd.DataFrame(x, columns=names)
    return _results_from(
        runs,
        ["y"],
        uncertainties=names,
        design_samples=samples,
        problem=problem,
        experiment={
            "name": "sa",
            "question": "q",
            "design": design,
            "replicates": replicates,
            "master_seed": 0,
        },
        expected_runs=len(runs),
    )


def _ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHI_PROBLEM = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def test_sobol_indices_of_ishigami_contain_the_analytic_values():
    x = sobol_sample.sample(ISHI_PROBLEM, 4096, calc_second_order=False, seed=11)
    res = _sensitivity_results(
        x, _ishigami(x), ISHI_PROBLEM, {"type": "sobol", "calc_second_order": False}
    )
    table = analysis.sobol_indices(res, seed=5)
    for idx, truth in ISHIGAMI.items():
        rows = table[table["index"] == idx].set_index("parameter").loc[ISHI_PROBLEM["names"]]
        inside = (rows["ci_low"] <= truth) & (np.array(truth) <= rows["ci_high"])
        assert inside.all(), f"{idx}: truth {truth} vs\n{rows[['value', 'ci_low', 'ci_high']]}"


def test_sobol_uses_only_complete_blocks_of_a_partial_store():
    x = sobol_sample.sample(ISHI_PROBLEM, 256, calc_second_order=True, seed=2)
    res = _sensitivity_results(x, _ishigami(x), ISHI_PROBLEM, {"type": "sobol"})
    res.runs = res.runs[res.runs["point_id"] != 17]  # point 17 lies in base sample 2
    table = analysis.sobol_indices(res)
    assert (table["base_samples"] == 255).all(), table["base_samples"].unique()
    assert table["note"].str.contains("255 of 256").all(), table["note"].unique()


def test_sobol_refuses_runs_that_do_not_match_the_design():
    x = sobol_sample.sample(ISHI_PROBLEM, 16, calc_second_order=False, seed=2)
    res = _sensitivity_results(x, _ishigami(x), ISHI_PROBLEM, {"type": "sobol"})
    res.design_samples = res.design_samples.iloc[::-1].reset_index(drop=True)
    with pytest.raises(analysis.SensitivityError, match="do not match the design"):
        analysis.sobol_indices(res)


def test_morris_mu_star_of_a_linear_function_is_its_slopes():
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1], [0, 2], [0, 1]]}
    x = morris_sample.sample(problem, 40, num_levels=4, seed=3)
    y = 3 * x[:, 0] - 1 * x[:, 1] + 0 * x[:, 2]
    res = _sensitivity_results(x, y, problem, {"type": "morris", "num_levels": 4})
    table = analysis.morris_indices(res).set_index("parameter")
    # SALib's elementary effects are per unit of the scaled [0, 1] input: slope x range.
    assert np.allclose(table["mu_star"], [3, 2, 0]), table["mu_star"]
    assert np.allclose(table["sigma"], 0, atol=1e-9), table["sigma"]


def test_series_bands_carry_ended_runs_forward_on_the_grid():
    """Two runs, one ending early at an off-grid time: the late band must rest on both runs
    (no dip to the survivor alone), and off-grid samples must not appear as times."""
    rows = [(0, 0.0, 10.0), (0, 1.0, 20.0), (0, 1.5, 30.0)]  # run 0 ends at 1.5 h with 30
    rows += [(1, 0.0, 10.0), (1, 1.0, 22.0), (1, 2.0, 40.0), (1, 3.0, 50.0)]
    series = pd.DataFrame(
        [
            {"point_id": 0, "arm": "base", "replicate": r, "t_h": t, "variable": "x", "value": v}
            for r, t, v in rows
        ]
    )
    results = make_results()
    results.series = series
    results.experiment["series_every_h"] = 1.0
    bands = analysis.series_bands(results).set_index("t_h")
    assert list(bands.index) == [0.0, 1.0, 2.0, 3.0], list(bands.index)
    assert (bands["n"] == 2).all(), bands["n"].tolist()
    assert bands.loc[3.0, "q50"] == pytest.approx(40.0), bands.loc[3.0].to_dict()  # (30+50)/2


def test_unresolved_sobol_outcomes_flags_total_indices_above_one():
    table = pd.DataFrame(
        {
            "outcome": ["a", "a", "b", "b"],
            "parameter": ["x", "x", "x", "x"],
            "index": ["S1", "ST", "S1", "ST"],
            "value": [0.3, 0.5, 0.1, 1.4],
        }
    )
    assert analysis.unresolved_sobol_outcomes(table) == ["b"]
