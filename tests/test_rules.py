"""Each rule at its boundary values (style.md point 6)."""

import math

import numpy as np
import pytest

from sim.model import rules
from sim.model.fields import GridGraph
from sim.model.layout import moore_neighbours


def test_hazard_to_probability_boundaries():
    assert rules.hazard_to_probability(0.0, 0.25) == 0.0
    assert rules.hazard_to_probability(-1.0, 0.25) == 0.0
    assert rules.hazard_to_probability(1e6, 1.0) == pytest.approx(1.0)
    assert rules.hazard_to_probability(1.0, 1.0) == pytest.approx(1 - math.exp(-1))


def test_box_sum_matches_brute_force_and_clips_at_edges():
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 5, size=(2, 7, 9)).astype(float)
    for r in (1, 2, 3):
        got = rules.box_sum(maps, r)
        want = np.zeros_like(maps)
        for y in range(7):
            for x in range(9):
                want[:, y, x] = maps[:, max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].sum(
                    axis=(1, 2)
                )
        np.testing.assert_array_equal(got, want, err_msg=f"radius {r}")


def test_arrest_probability_continuous_ratio():
    assert rules.arrest_probability(np.array([0.0]), np.array([5.0]), 2.3)[0] == 0.0
    # C/A = 2/3 (2 guards, 2 rioters + self): NetLogo's floor gives 0, Mesa's round 0.9.
    p = rules.arrest_probability(np.array([2.0]), np.array([2.0]), 2.3)[0]
    assert p == pytest.approx(1 - math.exp(-2.3 * 2 / 3)), p
    ps = rules.arrest_probability(np.array([0.0, 1, 2, 4]), np.zeros(4), 2.3)
    assert np.all(np.diff(ps) > 0), ps


def test_is_agitated_is_strict_at_threshold():
    g, r, p = np.array([0.3]), np.array([0.5]), np.array([0.4])
    assert not rules.is_agitated(g, r, p, threshold=0.1)[0]  # 0.3 - 0.2 == 0.1
    assert rules.is_agitated(g, r, p, threshold=0.0999)[0]


def test_effective_grievance_clips_and_ignores_undercrowding():
    g = rules.effective_grievance(
        np.array([0.1, 0.9]), np.array([0.5, 3.0]), np.array([0, 1]), 0.3, 0.4
    )
    assert g[0] == pytest.approx(0.1), g
    assert g[1] == 1.0, g


def test_guard_readiness_and_responder_arrival():
    assert rules.guard_readiness(0.4, 0.0, 48) == 0.4
    assert rules.guard_readiness(0.4, 1.0, 0) == 0.4
    assert rules.guard_readiness(0.4, 1.0, 24) == pytest.approx(1.0)
    assert rules.guard_readiness(0.4, 1.0, 72) == pytest.approx(1.0)
    assert rules.guard_readiness(0.4, 0.5, 12) == pytest.approx(0.4 + 0.6 * 0.25)
    assert rules.responder_arrival_h(3.0, 1.0, 24) == 0.0
    assert rules.responder_arrival_h(3.0, 0.5, 2) == pytest.approx(2.0)
    assert rules.responder_arrival_h(3.0, 0.0, 24) == 3.0


@pytest.mark.parametrize("share,foreign,odds", [(0.25, 0.5, 1.5), (0.1, 0.3, 3.0), (0.6, 0.2, 0.5)])
def test_hardened_probabilities_hit_share_and_odds(share, foreign, odds):
    ps, pf = rules.hardened_probabilities(share, foreign, odds)
    assert (1 - foreign) * ps + foreign * pf == pytest.approx(share, abs=1e-9)
    ratio = (pf / (1 - pf)) / (ps / (1 - ps))
    assert ratio == pytest.approx(odds, rel=1e-6), (ps, pf, ratio)


def test_hardened_probabilities_extremes():
    assert rules.hardened_probabilities(0.0, 0.5, 2.0) == (0.0, 0.0)
    assert rules.hardened_probabilities(1.0, 0.5, 2.0) == (1.0, 1.0)
    ps, pf = rules.hardened_probabilities(0.3, 0.5, 1.0)
    assert ps == pytest.approx(pf) == pytest.approx(0.3)


def test_repatriation_count():
    assert rules.repatriation_count(1110, 0.0) == 0
    assert rules.repatriation_count(1110, 1.0) == 1110
    assert rules.repatriation_count(1110, 0.5) == 555


def test_hazards_vanish_without_their_cause():
    z = np.zeros(3)
    assert np.all(rules.riot_hazard(z, z, 5.0) == 0)
    assert np.all(rules.block_seizure_hazard(z, np.ones(3), 5.0) == 0)
    assert rules.block_seizure_hazard(np.array([1e9]), np.array([0.0]), 2.0)[0] == pytest.approx(
        2.0
    )
    assert np.all(rules.attrition_hazard(z, np.ones(3), 1.0) == 0)
    assert np.all(rules.breach_hazard(np.array([5.0]), np.array([1.0]), 0.9) == 0)
    assert np.all(rules.contain_hazard(z, np.ones(3), 1.0) == 0)
    assert np.all(rules.flee_hazard(np.ones(3), 1.0, 0.0) == 0)  # fully risk-averse
    assert np.all(rules.flee_hazard(np.zeros(3), 1.0, 1.0) == 0)  # closed cordon


def test_cordon_closure_bounds():
    assert rules.cordon_closure(0, 100, 1.5, 0.9) == 0.0
    assert rules.cordon_closure(75, 100, 1.5, 0.9) == pytest.approx(0.45)
    assert rules.cordon_closure(10_000, 100, 1.5, 0.9) == pytest.approx(0.9)


def test_survival():
    assert rules.survival(0.1, 0) == 1.0
    assert rules.survival(0.1, 10) == pytest.approx(math.exp(-1))


def test_distance_field_walls_and_unreachable_cells():
    # 5x5 grid, a wall across row 2 except column 4; goal at the top-left corner.
    w = h = 5
    graph = GridGraph(moore_neighbours(w, h))
    cost = np.ones(w * h)
    cost[2 * w : 2 * w + 4] = np.inf
    dist = graph.distance(cost, np.array([0]))
    assert dist[0] == 0
    assert dist[4 * w + 0] == 8, dist.reshape(h, w)  # around the wall's open end
    hop = graph.next_hop(dist)
    assert hop[0] == 0  # the goal stays put
    assert dist[hop[4 * w]] < dist[4 * w]
    closed = cost.copy()
    closed[2 * w + 4] = np.inf
    dist2 = graph.distance(closed, np.array([0]))
    assert np.isinf(dist2[4 * w]), "a cell behind a closed wall must be unreachable"
    assert graph.next_hop(dist2)[4 * w] == 4 * w
