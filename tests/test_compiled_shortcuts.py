"""The exact shortcuts of the compiled engine skip only draws that cannot succeed: the
bound a fugitive's draw is compared with first is at least its chance of recapture."""

import numpy as np
import pytest

from sim.model import rules
from sim.model.compiled.phases import search_bound


def test_search_bound_is_at_least_every_fugitives_chance():
    rng = np.random.default_rng(7)
    for _ in range(200):
        rate, decay = rng.uniform(0, 1), rng.uniform(1, 336)
        dt = rng.choice([1 / 60, 0.1, 0.25, 1.0])
        t1 = rng.uniform(dt, 2000)
        starts = np.r_[rng.uniform(0, t1, 50), t1 - dt, t1 - dt / 2, 0.0, t1]
        integral = rules.search_hazard_integral(starts, t1 - dt, t1, rate, decay)
        chance = -np.expm1(-integral)
        bound = search_bound(t1 - dt, t1, rate, decay)
        assert (integral <= bound).all() and (chance <= bound).all()


def test_a_field_stopped_at_the_needed_cells_has_the_whole_fields_values_there():
    from sim.config.scenario import load_scenario
    from sim.model import FacilityModel
    from sim.model.compiled.core import distance_unit, distance_unit_until

    params = load_scenario("ghwayran_2022").params
    neighbours = FacilityModel(seed=0, **params).world.graph.neighbours
    n = neighbours.shape[0]
    rng = np.random.default_rng(11)
    queue = np.zeros(8 * n + 16, dtype=np.int64)
    stopped_early = 0
    for _ in range(60):
        cost = np.where(rng.random(n) < rng.uniform(0.05, 0.5), np.inf, 1.0)
        goals = rng.choice(n, size=rng.integers(1, 40), replace=False)
        whole = np.empty(n)
        distance_unit(cost, goals, neighbours, whole, queue)
        needed = rng.choice(n, size=rng.integers(1, 60))
        part = np.empty(n)
        is_whole = distance_unit_until(cost, goals, neighbours, part, queue, needed)
        np.testing.assert_array_equal(part[needed], whole[needed])
        if is_whole:
            np.testing.assert_array_equal(part, whole)
        stopped_early += not is_whole
    assert stopped_early > 10  # the shortcut is taken, not only the whole search
    assert distance_unit_until(cost, goals, neighbours, part, queue, needed[:0])
    np.testing.assert_array_equal(part, whole)


@pytest.mark.parametrize(
    "scenario, ticks, to_the_end", [("teaching_small", 800, True), ("ghwayran_2022", 160, False)]
)
def test_the_head_counts_are_kept_current_through_every_phase(scenario, ticks, to_the_end):
    """The compiled phases count heads once and then follow every change of state or cell
    (``recount``): the counts are checked against a fresh count after every phase, and the
    contact sums ``response`` keeps for ``engagement`` after ``response``, tick by tick, in
    both scenarios (the teaching run to its end, when control is restored)."""
    from sim.config.scenario import load_scenario
    from sim.model import FacilityModel
    from sim.model.compiled import phases as ph
    from sim.model.compiled.sums import N_COUNTS, box_counts, cell_counts

    contact = [ph.C_GUARDS, ph.C_RESPONDERS, ph.C_EXTERNAL, ph.C_RIOTERS]
    model = FacilityModel(seed=3, engine="compiled", **load_scenario(scenario).params)
    grid, cells, inmates, guards, resp, ext, fields, consts, params = model._compiled._args
    agents = (inmates, guards, resp, ext)
    scalars = model.world.scalars
    counts, near1, near_v, fresh, fresh1 = np.zeros((5, N_COUNTS, grid.block.shape[0]), int)
    closed = np.zeros(cells.block_open.shape[0], dtype=bool)

    def check(after: str) -> None:
        cell_counts(*agents, fresh)
        np.testing.assert_array_equal(counts, fresh, err_msg=f"{scenario}: after {after}")

    cell_counts(*agents, counts)
    for _ in range(ticks):
        scalars[ph.TICK] += 1.0
        ph.events(cells, *agents, consts, params, scalars, counts)
        check("events")
        args = (fields, consts, params, scalars, closed, counts)
        ph.external_force(grid, cells, inmates, ext, *args)
        check("external_force")
        ph.uprising(
            grid,
            cells,
            inmates,
            guards,
            ext,
            fields,
            consts,
            params,
            scalars,
            counts,
            near_v,
            closed,
        )
        check("uprising")
        ph.response(grid, cells, *agents, consts, params, scalars, counts, near1, near_v)
        check("response")
        box_counts(fresh, tuple(contact), consts.width, consts.height, 1, fresh1)
        np.testing.assert_array_equal(near1[contact], fresh1[contact])
        ph.engagement(cells, *agents, consts, params, scalars, counts, near1)
        check("engagement")
        ph.movement(grid, cells, *agents, *args)
        check("movement")
        ph.bookkeeping(grid, cells, inmates, guards, ext, consts, params, scalars, counts)
        check("bookkeeping")
        if scalars[ph.FINISHED]:
            break
    assert bool(scalars[ph.FINISHED]) == to_the_end
