"""Analysis tables checked against known answers, on stores made from experiment files
(see ``stores.py``: the real loader and store, a formula in place of the model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stores import (
    decaying_series,
    policy_file,
    policy_response,
    sensitivity_file,
    store_results,
)

from sim.analysis import tables as analysis
from sim.experiments.contract import RunKey, Series
from sim.model.params import PARAMS


# ----------------------------------------------------------------------------- intervals
def test_bootstrap_interval_covers_known_mean_about_95_percent():
    rng = np.random.default_rng(42)
    datasets, n, mu = 400, 30, 5.0
    low, high = analysis.percentile_interval(rng.normal(mu, 2.0, size=(datasets, n)))
    covered = ((low <= mu) & (mu <= high)).mean()
    assert 0.91 <= covered <= 0.98, f"coverage {covered:.3f} of {datasets} intervals"


def test_single_replicate_gives_no_interval_and_says_so(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=1))
    table = analysis.summarise(res)
    assert table["ci_low"].isna().all(), table[["arm", "ci_low"]]
    assert (table["note"] == "1 replicate: no interval").all(), table["note"].unique()


EFFECT = {0: 0.0, 24: -10.0, 48: 5.0}


def _effect_plus_shared_noise(values, key):
    """y = the arm's effect + noise drawn from the seed alone (shared by the arms)."""
    noise = np.random.default_rng(key.seed).normal(0, 50)
    return {o: EFFECT[values["warning_lead_time_h"]] + noise for o in ("left_custody",)}


def test_paired_differences_pair_on_seed_and_cancel_shared_noise(tmp_path):
    path = policy_file(tmp_path, replicates=20, outcomes=["left_custody"])
    res = store_results(path, respond=_effect_plus_shared_noise)
    diff = analysis.paired_differences(res)
    got = diff.set_index("arm")["mean"].to_dict()
    assert diff["reference"].eq("warning_lead_time_h=0").all(), diff["reference"].unique()
    assert got == pytest.approx({"warning_lead_time_h=24": -10.0, "warning_lead_time_h=48": 5.0})
    assert diff["ci_high"].sub(diff["ci_low"]).max() < 1e-9, diff[["ci_low", "ci_high"]]
    assert diff.set_index("arm").loc["warning_lead_time_h=24", "share_lower"] == 1.0


def test_paired_differences_report_arms_without_common_seeds(tmp_path):
    path = policy_file(tmp_path, {"warning_lead_time_h": [0, 24]}, replicates=2)
    res = store_results(path, fail=[(0, 1), (1, 0)])  # the arms finished other replicates
    diff = analysis.paired_differences(res, outcomes=["left_custody"])
    row = diff.iloc[0]
    assert row["n"] == 0 and "no run shares a seed" in row["note"], row.to_dict()


def test_reference_arm_comes_from_the_experiment_file(tmp_path):
    path = policy_file(
        tmp_path, replicates=2, reference_arm={"warning_lead_time_h": 24}, outcomes=["at_large"]
    )
    res = store_results(path)
    assert res.spec.reference_arm == "warning_lead_time_h=24"
    assert analysis.reference_arm(res) == "warning_lead_time_h=24"
    diff = analysis.paired_differences(res)
    assert set(diff["arm"]) == {"warning_lead_time_h=0", "warning_lead_time_h=48"}, diff


def test_summary_lists_arms_in_design_order_with_lever_values(tmp_path):
    res = store_results(policy_file(tmp_path, {"warning_lead_time_h": [48, 0, 24]}, replicates=4))
    table = analysis.summarise(res)
    first = table[table["outcome"] == "left_custody"]
    assert list(first["warning_lead_time_h"]) == [48, 0, 24], first
    assert analysis.reference_arm(res) == "warning_lead_time_h=48"


def test_response_bins_a_continuous_lever(tmp_path):
    path = policy_file(
        tmp_path,
        {"warning_lead_time_h": {"low": 0, "high": 72}},
        replicates=1,
        design={"type": "latin_hypercube", "samples": 500},
        outcomes=["left_custody"],
    )
    res = store_results(path, respond=lambda v, k: {"left_custody": 2 * v["warning_lead_time_h"]})
    curve = analysis.response(res, "warning_lead_time_h")
    assert curve["binned"].all() and len(curve) == analysis.N_BINS, curve
    assert np.allclose(curve["mean"], 2 * curve["x"]), curve[["x", "mean"]]


def test_completeness_names_missing_arms_and_failures(tmp_path):
    path = policy_file(tmp_path, replicates=3)
    res = store_results(path, fail=[(2, 0), (2, 1), (2, 2), (1, 0)])
    info = analysis.completeness(res)
    assert info["missing_arms"] == ["warning_lead_time_h=48"], info["missing_arms"]
    assert (info["completed"], info["failed"], info["expected"]) == (5, 4, 9), info
    assert info["min_replicates"] == 2, info["arms"]


def test_distributions_share_inside_reported_range(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=20))
    assert res.spec.compare_with_reported, "ghwayran_2022 is at the reported scale"
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


def test_series_bands_order_quantiles(tmp_path):
    path = policy_file(tmp_path, replicates=8, series_every_h=6)
    res = store_results(path, series=decaying_series(6, 3))
    bands = analysis.series_bands(res)
    assert (bands["q5"] <= bands["q50"]).all() and (bands["q50"] <= bands["q95"]).all()
    assert set(bands["n"]) == {8}, bands["n"].unique()
    assert sorted(set(bands["t_h"])) == [0, 6, 12], bands["t_h"].unique()


def test_series_bands_carry_ended_runs_forward_on_the_grid(tmp_path):
    """Two runs, one ending early at an off-grid time: the late band must rest on both runs
    (no dip to the survivor alone), and off-grid samples must not appear as times."""
    path = policy_file(tmp_path, {}, replicates=2, series_every_h=1)
    shapes = {0: ((0.0, 1.0, 1.5), (10.0, 20.0, 30.0)), 1: ((0, 1, 2, 3), (10, 22, 40, 50))}

    def series(key, outcomes):
        t, x = shapes[key.replicate]  # replicate 0 ends at 1.5 h with 30
        return Series(tuple(map(float, t)), {"x": tuple(map(float, x))})

    bands = analysis.series_bands(store_results(path, series=series)).set_index("t_h")
    assert list(bands.index) == [0.0, 1.0, 2.0, 3.0], list(bands.index)
    assert (bands["n"] == 2).all(), bands["n"].tolist()
    assert bands.loc[3.0, "q50"] == pytest.approx(40.0), bands.loc[3.0].to_dict()  # (30+50)/2


# ----------------------------------------------------------------------------- sensitivity
ISHIGAMI = {"S1": [0.3139, 0.4424, 0.0], "ST": [0.5576, 0.4424, 0.2437]}
ISHI_RANGES = {
    "hardened_share": {"low": 0.1, "high": 0.5},
    "breach_rate": {"low": 0.1, "high": 0.6},
    "agitation_threshold": {"low": 0.05, "high": 0.2},
}


def _ishigami(values, key):
    """Ishigami's function of the three ranges, each mapped linearly onto [-pi, pi];
    replicates scatter symmetrically (+-0.5) around it."""
    x = [
        -np.pi + 2 * np.pi * (values[n] - r["low"]) / (r["high"] - r["low"])
        for n, r in ISHI_RANGES.items()
    ]
    y = np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])
    return {"left_custody": y + (0.5 if key.replicate % 2 else -0.5)}


def test_sobol_indices_of_ishigami_contain_the_analytic_values(tmp_path):
    path = sensitivity_file(
        tmp_path, ISHI_RANGES, {"type": "sobol", "samples": 4096}, replicates=2,
        outcomes=["left_custody"], master_seed=11,
    )  # fmt: skip
    table = analysis.sobol_indices(store_results(path, respond=_ishigami), seed=5)
    for idx, truth in ISHIGAMI.items():
        rows = table[table["index"] == idx].set_index("parameter").loc[list(ISHI_RANGES)]
        inside = (rows["ci_low"] <= truth) & (np.array(truth) <= rows["ci_high"])
        assert inside.all(), f"{idx}: truth {truth} vs\n{rows[['value', 'ci_low', 'ci_high']]}"


def test_sobol_uses_only_complete_blocks_of_a_partial_store(tmp_path):
    design = {"type": "sobol", "samples": 256, "second_order": True}
    path = sensitivity_file(tmp_path, ISHI_RANGES, design, outcomes=["left_custody"])
    res = store_results(path, respond=_ishigami, skip=[17])  # in base sample 2 of 8 points
    table = analysis.sobol_indices(res)
    assert (table["base_samples"] == 255).all(), table["base_samples"].unique()
    assert table["note"].str.contains("255 of 256").all(), table["note"].unique()


def test_sensitivity_indices_need_a_sensitivity_design(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=2))
    with pytest.raises(analysis.SensitivityError, match="full_factorial, not sobol or morris"):
        analysis.sobol_indices(res)


def test_morris_mu_star_of_a_linear_function_is_its_slopes(tmp_path):
    ranges = {"hardened_share": {}, "breach_rate": {}, "attrition_rate": {}}
    path = sensitivity_file(
        tmp_path, ranges, {"type": "morris", "samples": 40, "levels": 6},
        outcomes=["left_custody"],
    )  # fmt: skip

    def linear(values, key):
        z = [(values[n] - lo) / (hi - lo) for n in ranges for lo, hi in [PARAMS[n].sweep_range()]]
        return {"left_custody": 3 * z[0] - 2 * z[1] + 0 * z[2]}

    res = store_results(path, respond=linear)
    table = analysis.morris_indices(res).set_index("parameter")
    # SALib's elementary effects are per unit of the scaled [0, 1] input: slope x range.
    assert np.allclose(table["mu_star"], [3, 2, 0]), table["mu_star"]
    assert np.allclose(table["sigma"], 0, atol=1e-9), table["sigma"]


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


def test_policy_response_is_what_the_store_holds(tmp_path):
    """The factory's own check: stored outcomes are the formula of each run's values."""
    res = store_results(policy_file(tmp_path, replicates=2, conditions=3))
    row = res.runs.iloc[4]
    key = RunKey(int(row["point_id"]), int(row["replicate"]), int(row["seed"]))
    want = policy_response(row.to_dict(), key)
    assert row["left_custody"] == pytest.approx(want["left_custody"]), (row, want)
