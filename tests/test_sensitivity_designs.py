"""Sensitivity designs from file to indices, over generated designs: Sobol' with and
without second order and Morris with 4, 6 or 8 levels, 1 to 8 factors, several N.

For each, an experiment file goes through the real loader into a real store (a formula in
place of the model, see ``stores.py``), and the test checks, against SALib used directly
and independently of prisonsim's code:

* the stored design round-trips: the spec read back equals the spec loaded, and its
  samples are SALib's own sampler's rows for the same problem, N, options and seed;
* the indices the report uses equal SALib's analysers run on those rows and on the
  outcomes averaged per point (float tolerance only).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import property_settings
from hypothesis import given
from hypothesis import strategies as st
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from stores import sensitivity_file, store_results

from sim.analysis import tables as analysis
from sim.experiments.contract import ExperimentSpec, RunKey
from sim.experiments.loader import load_experiment
from sim.model.params import PARAMS

# Levers first, then uncertainties: the order a spec gives its continuous factors. Whole
# numbers (responder_size, attackers, inmates_minor) are rounded when run, not sampled.
POOL = [
    "warning_lead_time_h",
    "guards_per_100_inmates",
    "responder_delay_h",
    "responder_size",
    "attackers",
    "inmates_minor",
    "hardened_share",
    "breach_rate",
    "agitation_threshold",
    "attrition_rate",
    "initial_rioter_share",
]
OUTCOMES = ["left_custody", "hours_to_control"]


def _respond(values, key: RunKey) -> dict[str, float]:
    """A smooth, interacting function of every factor's scaled value, plus noise from the
    seed (so that replicates differ)."""
    z = [(values[n] - lo) / (hi - lo) for n in POOL for lo, hi in [PARAMS[n].sweep_range()]]
    noise = np.random.default_rng(key.seed).normal(0, 0.05)
    return {
        "left_custody": sum((i + 1) * zi for i, zi in enumerate(z)) + 2 * z[0] * z[-1] + noise,
        "hours_to_control": float(np.sin(3 * sum(z[::2])) + np.cos(2 * sum(z[1::2]))),
    }


def _salib_samples(names: list[str], kind: str, n: int, options: dict, seed: int) -> np.ndarray:
    problem = {"num_vars": len(names), "names": names, "bounds": _bounds(names)}
    sampler = sobol_sample if kind == "sobol" else morris_sample
    return sampler.sample(problem, n, seed=seed, **options)


def _bounds(names: list[str]) -> list[list[float]]:
    return [list(PARAMS[n].sweep_range()) for n in names]


def _point_means(spec: ExperimentSpec) -> dict[str, np.ndarray]:
    """Each outcome averaged over replicates per point, computed from the formula alone."""
    sums = {o: np.zeros(len(spec.points)) for o in OUTCOMES}
    for key in spec.run_keys():
        out = _respond(spec.point_params(spec.points[key.point_id]), key)
        for o in OUTCOMES:
            sums[o][key.point_id] += out[o] / spec.replicates
    return sums


def _check_sobol(res, names, x, y, options):
    table = analysis.sobol_indices(res, seed=analysis.DEFAULT_SEED)
    problem = {"num_vars": len(names), "names": names, "bounds": _bounds(names)}
    for o in OUTCOMES:
        direct = sobol_analyze.analyze(
            problem, y[o], num_resamples=200, conf_level=0.95, seed=analysis.DEFAULT_SEED,
            **options,
        )  # fmt: skip
        for index in ("S1", "ST"):
            got = table[(table["outcome"] == o) & (table["index"] == index)]
            assert list(got["parameter"]) == names, got
            np.testing.assert_allclose(got["value"], direct[index], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(got["conf"], direct[f"{index}_conf"], rtol=1e-9)


def _check_morris(res, names, x, y, options):
    table = analysis.morris_indices(res, seed=analysis.DEFAULT_SEED)
    problem = {"num_vars": len(names), "names": names, "bounds": _bounds(names)}
    for o in OUTCOMES:
        direct = morris_analyze.analyze(
            problem, x, y[o], num_resamples=200, conf_level=0.95, seed=analysis.DEFAULT_SEED,
            **options,
        )  # fmt: skip
        got = table[table["outcome"] == o]
        assert list(got["parameter"]) == names, got
        for stat in ("mu", "mu_star", "sigma", "mu_star_conf"):
            np.testing.assert_allclose(got[stat], direct[stat], rtol=1e-9, atol=1e-12)


DESIGNS = st.one_of(
    st.tuples(st.just("sobol"), st.booleans(), st.sampled_from([2, 4, 8, 16])),
    st.tuples(st.just("morris"), st.sampled_from([4, 6, 8]), st.integers(2, 12)),
)


EDGES = [
    ("sobol", False, 8, 1),
    ("sobol", False, 8, 3),  # 5N rows divide by 2D + 2 = 8: once analysed as second order
    ("sobol", True, 4, 8),
    ("morris", 4, 3, 8),
    ("morris", 6, 4, 3),
    ("morris", 8, 2, 1),
]


@pytest.mark.parametrize("kind, option, n, factors", EDGES)
def test_edge_designs_round_trip_and_match_salib(kind, option, n, factors, tmp_path):
    _check_design(tmp_path, (kind, option, n), POOL[-factors:], replicates=2, master_seed=7)


@property_settings(40)
@given(
    design=DESIGNS,
    chosen=st.sets(st.sampled_from(POOL), min_size=1, max_size=8),
    replicates=st.integers(1, 2),
    master_seed=st.integers(0, 2**31),
)
def test_generated_designs_round_trip_and_match_salib(
    design, chosen, replicates, master_seed, tmp_path_factory
):
    names = [p for p in POOL if p in chosen]
    _check_design(tmp_path_factory.mktemp("design"), design, names, replicates, master_seed)


def _check_design(directory, design, names, replicates, master_seed):
    """Load, store and read back one design; compare it with SALib used directly."""
    kind, option, n = design
    if kind == "sobol":
        options, file_design = {"calc_second_order": option}, {"second_order": option}
    else:
        options, file_design = {"num_levels": option}, {"levels": option}
    path = sensitivity_file(
        directory,
        {name: {} for name in names},
        {"type": kind, "samples": n, **file_design},
        replicates=replicates,
        outcomes=OUTCOMES,
        master_seed=master_seed,
    )
    spec = load_experiment(path)
    res = store_results(path, respond=_respond)
    assert res.spec == spec, "the stored experiment differs from the loaded one"
    assert spec.design.salib_options() == options, spec.design
    x = _salib_samples(names, kind, n, options, master_seed)
    assert res.problem["names"] == names, res.problem
    np.testing.assert_allclose(res.design_samples.to_numpy(), x, rtol=1e-12, atol=1e-12)
    y = _point_means(spec)
    for o in OUTCOMES:
        stored = res.runs.groupby("point_id")[o].mean().to_numpy()
        np.testing.assert_allclose(stored, y[o], rtol=1e-12)
    (_check_sobol if kind == "sobol" else _check_morris)(res, names, x, y, options)
