"""The compiled engine is the same model as the numpy engine (issue 9).

The compiled phases mirror the numpy phases operation for operation and draw the same keyed
numbers, so the two engines give identical trajectories; the kernels' building blocks are
checked against the rules they mirror at their boundary values. A slow test compares the
two engines' outcome distributions over 200 seeds of each shipped scenario.
"""

from __future__ import annotations

import concurrent.futures as cf
import math

import numpy as np
import pytest
from scipy import stats

from sim.config.scenario import load_scenario
from sim.model import FacilityModel, rules, run_replicate, streams
from sim.model.compiled import core
from sim.model.compiled.sums import box_counts
from sim.model.fields import GridGraph, best_neighbours, choose_next
from sim.model.layout import moore_neighbours
from sim.model.outcomes import OUTCOMES


def _trajectory(params, seed, engine):
    model = FacilityModel(seed=seed, engine=engine, **params)
    model.run_model()
    return model.datacollector.get_model_vars_dataframe(), model.outcomes()


@pytest.mark.parametrize("seed", range(4))
def test_engines_give_identical_trajectories(teaching_params, seed):
    a, out_a = _trajectory(teaching_params, seed, "numpy")
    b, out_b = _trajectory(teaching_params, seed, "compiled")
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = (a.to_numpy() != b.to_numpy()).any(axis=1)
    assert not diff.any(), f"first differing step {int(np.argmax(diff))}: {a.columns.tolist()}"
    assert out_a == out_b


def test_engines_agree_under_other_levers(teaching_params):
    params = {
        **teaching_params,
        "warning_lead_time_h": 6.0,
        "warning_acted_on": 1.0,
        "repatriation_share": 0.5,
        "separate_minors": True,
        "step_minutes": 5.0,
        "perimeter_integrity": 0.9,
        "cordon_build_h": 12.0,
        "siege_pressure_share": 0.2,
    }
    assert _trajectory(params, 11, "numpy")[1] == _trajectory(params, 11, "compiled")[1]


def test_unknown_engine_is_refused(teaching_params):
    with pytest.raises(ValueError, match="engine"):
        FacilityModel(seed=1, engine="fortran", **teaching_params)


# ----------------------------------------------------------------------------- kernels vs rules
def test_keyed_uniforms_are_the_same_numbers():
    seed = 2**63 - 7
    for draw, tick in ((streams.Draw.RIOT, 1), (streams.Draw.SEARCH_TO_HORIZON, 0), (3, 10**6)):
        key = streams.stream_key(seed, draw, tick)
        kc = core.stream_key(np.uint64(streams.mix(seed)), int(draw), tick)
        assert int(kc) == key
        ids = np.array([0, 1, 2**20, (3 << 24) + 5, 2**31 - 1])
        expected = streams.uniforms(key, ids)
        assert [core.uniform(kc, int(i)) for i in ids] == expected.tolist()
        assert ((expected >= 0) & (expected < 1)).all()


@pytest.mark.parametrize("hazard,dt", [(0.0, 0.125), (-1.0, 0.125), (1e6, 1.0), (0.3, 0.125)])
def test_probability_kernel_matches_the_rule(hazard, dt):
    assert core.probability(hazard, dt) == float(rules.hazard_to_probability(hazard, dt))


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_box_counts_match_the_rule_at_the_edges(radius):
    rng = np.random.default_rng(radius)
    width, height = 9, 7
    counts = rng.integers(0, 4, size=(6, width * height))
    out = np.zeros_like(counts)
    box_counts(counts, (0, 1, 2, 3, 4, 5), width, height, radius, out)
    expected = rules.box_sum(counts.reshape(6, height, width).astype(float), radius)
    np.testing.assert_array_equal(out, expected.reshape(6, -1))


def test_distance_kernels_match_the_field():
    rng = np.random.default_rng(0)
    w, h = 20, 15
    nb = moore_neighbours(w, h)
    graph = GridGraph(nb)
    heap_cells, heap_keys = np.zeros(8 * w * h + 16, np.int64), np.zeros(8 * w * h + 16)
    dist = np.empty(w * h)
    goals = np.array([5, 77, 200])
    walls = np.where(rng.random(w * h) < 0.2, np.inf, np.where(rng.random(w * h) < 0.1, 25.0, 1.0))
    core.distance(walls, goals, nb, dist, heap_cells, heap_keys)
    np.testing.assert_array_equal(dist, graph.distance(walls, goals))
    unit = np.where(np.isinf(walls), np.inf, 1.0)
    core.distance_unit(unit, goals, nb, dist, heap_cells)
    expected = graph.distance(unit, goals)
    np.testing.assert_array_equal(dist, expected)
    best = best_neighbours(expected, nb)
    u = rng.random(w * h)
    table = choose_next(np.arange(w * h), best, nb, u)
    kernel = [core.choose_next_dist(c, expected, nb, u[c]) for c in range(w * h)]
    assert kernel == table.tolist()
    assert core.choose_next_dist(5, expected, nb, 0.99) == 5  # a goal stays put


@pytest.mark.parametrize("start,t0,t1", [(10.0, 0.0, 10.0), (0.0, 5.0, 6.0), (3.0, 0.0, 336.0)])
def test_search_kernel_matches_the_rule(start, t0, t1):
    from sim.model.compiled.phases import search_integral

    expected = rules.search_hazard_integral(np.array([start]), t0, t1, 0.02, 24.0)[0]
    assert math.isclose(search_integral(start, t0, t1, 0.02, 24.0), expected, rel_tol=1e-15)


@pytest.mark.parametrize(
    "engaged,hours,build_h", [(0, 5.0, 12.0), (150, 0.0, 12.0), (150, 12.0, 12.0), (900, 9.0, 0.0)]
)
def test_cordon_kernel_matches_the_rule(engaged, hours, build_h):
    from sim.model.compiled.phases import cordon_closure

    expected = rules.cordon_closure(engaged, 100, 1.5, 0.9, hours, build_h)
    assert math.isclose(cordon_closure(engaged, 100, 1.5, 0.9, hours, build_h), expected)


@pytest.mark.parametrize("authority,uprising", [(0.0, 50.0), (120.0, 0.0), (300.0, 100.0)])
def test_siege_kernel_matches_the_rule(authority, uprising):
    from sim.model.compiled.phases import siege_pressure

    expected = rules.siege_pressure(authority, uprising, 0.85, 0.2)
    assert siege_pressure(authority, uprising, 0.85, 0.2) == expected


# ----------------------------------------------------------------------------- distributions
def _outcomes(job):
    params, seed, engine = job
    return run_replicate(params, seed, engine=engine).outcomes


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["teaching_small", "ghwayran_2022"])
def test_engines_have_the_same_outcome_distributions(scenario):
    """200 seeds per engine: two-sample KS p > 0.01 and means within their 99 % intervals."""
    params = load_scenario(scenario).params
    seeds = range(200)
    with cf.ProcessPoolExecutor(2) as pool:
        res = {
            engine: list(pool.map(_outcomes, [(params, s, engine) for s in seeds], chunksize=5))
            for engine in ("numpy", "compiled")
        }
    for name in OUTCOMES:
        a = np.array([o[name] for o in res["numpy"]])
        b = np.array([o[name] for o in res["compiled"]])
        if np.ptp(np.r_[a, b]) == 0:
            continue
        p = stats.ks_2samp(a, b).pvalue
        se = math.hypot(a.std(ddof=1), b.std(ddof=1)) / math.sqrt(len(seeds))
        assert p > 0.01, f"{scenario} {name}: KS p = {p:.3g}"
        assert abs(a.mean() - b.mean()) <= 2.576 * se + 1e-12, (name, a.mean(), b.mean(), se)
