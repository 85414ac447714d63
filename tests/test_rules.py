"""Each rule at its boundary values (style.md point 6)."""

import itertools
import math

import numpy as np
import pytest

from sim.model import rules
from sim.model.fields import GridGraph, best_neighbours, choose_next
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


def test_effective_grievance_clips_and_counts_crowding_both_ways():
    g = rules.effective_grievance(
        np.array([0.1, 0.9, 0.2, 0.2]),
        np.array([1.0, 3.0, 0.5, 1.5]),
        np.array([0, 1, 0, 0]),
        0.3,
        0.4,
    )
    assert g[0] == pytest.approx(0.1), g  # at design occupancy: grievance as drawn
    assert g[1] == 1.0, g  # clipped at 1
    assert g[2] == pytest.approx(0.2 - 0.15), g  # room to spare lowers it
    assert g[3] == pytest.approx(0.2 + 0.15), g  # overcrowding raises it


def test_warning_preparation_builds_up_and_saturates():
    assert rules.warning_preparation(1.0, 0.0, 12.0) == 0.0
    assert rules.warning_preparation(0.0, 72.0, 12.0) == 0.0
    assert rules.warning_preparation(1.0, 12.0, 12.0) == pytest.approx(1 - math.exp(-1))
    assert rules.warning_preparation(0.5, 12.0, 12.0) == pytest.approx(0.5 * (1 - math.exp(-1)))
    leads = [0, 3, 6, 12, 24, 48, 72]
    preps = [rules.warning_preparation(1.0, lead, 12.0) for lead in leads]
    assert all(b > a for a, b in itertools.pairwise(preps)), preps  # never flat
    assert preps[-1] < 1.0


def test_guard_readiness_and_responder_arrival():
    assert rules.guard_readiness(0.4, 0.0) == 0.4
    assert rules.guard_readiness(0.4, 1.0) == pytest.approx(1.0)
    assert rules.guard_readiness(0.4, 0.5) == pytest.approx(0.7)
    assert rules.responder_arrival_h(3.0, 0.0) == 3.0
    assert rules.responder_arrival_h(3.0, 0.5) == pytest.approx(1.5)
    assert rules.responder_arrival_h(3.0, 1.0) == 0.0
    assert rules.guard_strength(0.0, 1.0) == pytest.approx(0.5)
    assert rules.guard_strength(1.0, 1.0) == pytest.approx(1.0)


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
    z, one = np.zeros(3), np.ones(3)
    assert np.all(rules.riot_hazard(z, 5.0) == 0)
    assert np.all(rules.block_seizure_hazard(z, one, 5.0) == 0)
    assert rules.block_seizure_hazard(np.array([1e9]), np.array([0.0]), 2.0)[0] == pytest.approx(
        2.0
    )
    assert np.all(rules.attrition_hazard(z, one, 1.0) == 0)
    assert np.all(rules.breach_hazard(np.array([5.0]), np.array([1.0]), 0.9, 10) == 0)
    assert np.all(rules.contain_hazard(z, one, one, 1.0) == 0)
    assert np.all(rules.flee_hazard(one, 1.0, 0.0) == 0)  # fully risk-averse
    assert np.all(rules.flee_hazard(z, 1.0, 1.0) == 0)  # closed cordon
    assert np.all(rules.flee_hazard(z, 1.0, 0.0, 0.0) == 0)  # passive inmates with factor 0


def test_surrender_needs_authority_in_view_and_grows_with_time():
    never = rules.surrender_hazard(np.zeros(1), np.array([0.3]), np.array([100.0]), 1.0, 24.0)
    assert never[0] == 0.0, "no surrender where no authority is in view"
    lone = rules.surrender_hazard(np.array([2.0]), np.array([0.0]), np.zeros(1), 0.1, 24.0)
    crowd = rules.surrender_hazard(np.array([2.0]), np.array([6.0]), np.zeros(1), 0.1, 24.0)
    assert lone[0] == pytest.approx(0.1) and crowd[0] == pytest.approx(0.1 * 0.25)
    tired = rules.surrender_hazard(np.array([2.0]), np.array([0.0]), np.array([24.0]), 0.1, 24.0)
    assert tired[0] == pytest.approx(0.2)
    holdout = rules.surrender_hazard(np.array([2.0]), np.zeros(1), np.zeros(1), 0.1, 24.0, 0.25)
    assert holdout[0] == pytest.approx(0.025)


def test_a_siege_is_a_floor_under_the_pressure_to_surrender():
    siege = rules.siege_pressure(300.0, 100.0, 0.9, 0.2)
    assert siege == pytest.approx(0.2 * 0.9 * 0.75)
    assert rules.siege_pressure(0.0, 100.0, 0.9, 0.2) == 0.0, "no siege without authority"
    alone = rules.surrender_hazard(np.zeros(1), np.array([5.0]), np.zeros(1), 0.1, 24.0, 1.0, siege)
    assert alone[0] == pytest.approx(0.1 * siege), "besieged, with no authority in view"
    facing = rules.surrender_hazard(
        np.array([2.0]), np.zeros(1), np.zeros(1), 0.1, 24.0, 1.0, siege
    )
    assert facing[0] == pytest.approx(0.1), "authority in view weighs more than the siege"


def test_containment_is_shared_among_the_inmates_in_contact():
    one = rules.contain_hazard(np.array([2.0]), np.zeros(1), np.array([1.0]), 0.5)[0]
    many = rules.contain_hazard(np.array([2.0]), np.zeros(1), np.array([10.0]), 0.5)[0]
    assert one == pytest.approx(1.0) and many == pytest.approx(0.1)  # 1 person/h either way
    resisted = rules.contain_hazard(np.array([2.0]), np.array([3.0]), np.array([1.0]), 0.5)[0]
    assert resisted == pytest.approx(0.25)


def test_breach_hazard_saturates_at_a_full_team():
    n = np.array([1.0, 5.0, 10.0, 50.0])
    h = rules.breach_hazard(n, np.full(4, 0.5), 0.4, 10)
    np.testing.assert_allclose(h, [0.02, 0.1, 0.2, 0.2])


def test_cordon_closure_bounds():
    assert rules.cordon_closure(0, 100, 1.5, 0.9) == 0.0
    assert rules.cordon_closure(150, 100, 1.5, 0.9) == pytest.approx(0.9 * (1 - math.exp(-1)))
    assert rules.cordon_closure(100_000, 100, 1.5, 0.9) == pytest.approx(0.9)
    assert rules.cordon_closure(300, 100, 1.5, 0.9) > rules.cordon_closure(150, 100, 1.5, 0.9)


def test_cordon_closure_builds_with_time():
    manned = rules.cordon_closure(150, 100, 1.5, 0.9)
    assert rules.cordon_closure(150, 100, 1.5, 0.9, hours=0.0, build_h=12.0) == 0.0
    at_build = rules.cordon_closure(150, 100, 1.5, 0.9, hours=12.0, build_h=12.0)
    assert at_build == pytest.approx(manned * (1 - math.exp(-1)))
    assert rules.cordon_closure(150, 100, 1.5, 0.9, 1000.0, 12.0) == pytest.approx(manned)
    assert rules.cordon_closure(150, 100, 1.5, 0.9, 5.0, 0.0) == manned


def test_search_integral_decays_and_starts_at_the_search():
    start = np.array([10.0])
    assert rules.search_hazard_integral(start, 0.0, 10.0, 0.02, 24.0)[0] == 0.0  # not yet
    whole = rules.search_hazard_integral(start, 0.0, 1e6, 0.02, 24.0)[0]
    assert whole == pytest.approx(0.02 * 24.0)  # eventual recapture 1 - exp(-rate x decay)
    first_72 = rules.search_hazard_integral(start, 10.0, 82.0, 0.02, 24.0)[0]
    assert first_72 == pytest.approx(0.48 * (1 - math.exp(-3)))
    halves = [
        rules.search_hazard_integral(start, a, b, 0.02, 24.0)[0] for a, b in ((0, 40), (40, 100))
    ]
    assert sum(halves) == pytest.approx(rules.search_hazard_integral(start, 0, 100, 0.02, 24.0)[0])


def test_distance_field_walls_and_unreachable_cells():
    # 5x5 grid, a wall across row 2 except column 4; goal at the top-left corner.
    w = h = 5
    graph = GridGraph(moore_neighbours(w, h))
    cost = np.ones(w * h)
    cost[2 * w : 2 * w + 4] = np.inf
    dist = graph.distance(cost, np.array([0]))
    assert dist[0] == 0
    assert dist[4 * w + 0] == 8, dist.reshape(h, w)  # around the wall's open end
    best = best_neighbours(dist, graph.neighbours)
    assert not best[0].any()  # the goal stays put
    nxt = choose_next(np.array([4 * w]), best, graph.neighbours, np.array([0.5]))[0]
    assert dist[nxt] < dist[4 * w]
    closed = cost.copy()
    closed[2 * w + 4] = np.inf
    dist2 = graph.distance(closed, np.array([0]))
    assert np.isinf(dist2[4 * w]), "a cell behind a closed wall must be unreachable"
    best2 = best_neighbours(dist2, graph.neighbours)
    assert choose_next(np.array([4 * w]), best2, graph.neighbours, np.array([0.5]))[0] == 4 * w


def test_movers_spread_over_equally_good_cells():
    """Ties are broken by each agent's own draw, not by a fixed neighbour order."""
    w = h = 7
    graph = GridGraph(moore_neighbours(w, h))
    dist = graph.distance(np.ones(w * h), np.arange(w))  # the top row is the goal
    best = best_neighbours(dist, graph.neighbours)
    start = np.full(300, 6 * w + 3)  # everyone at the bottom middle
    nxt = choose_next(start, best, graph.neighbours, np.random.default_rng(0).random(300))
    assert set(nxt.tolist()) == {5 * w + 2, 5 * w + 3, 5 * w + 4}, set(nxt.tolist())
