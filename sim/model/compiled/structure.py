"""Blocks, held ground and distance fields (``sim.model.world`` and ``phases.common``
mirrored)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.compiled.core import distance, distance_unit, distance_unit_until
from sim.model.compiled.sums import (
    AGITATED,
    CAPTURED,
    CONFINED,
    FLEEING,
    RIOTING,
    UNCONTROLLED,
    external_active,
    inmate_present,
)
from sim.model.phases.common import WALL_COST
from sim.model.world import Slot

INF = np.inf
_WALL_COST = float(WALL_COST)
_TICK = int(Slot.TICK)
_DIRTY = int(Slot.STRUCTURE_DIRTY)
_GATE_OPEN = int(Slot.GATE_OPEN)
_ASSAULT = int(Slot.ASSAULT)


@njit(cache=True)
def closed_occupied_blocks(grid, cells, inmates, out):
    """``World.closed_occupied_blocks`` into ``out`` (bool per block and the wing)."""
    out[:] = False
    for i in range(inmates.state.shape[0]):
        if inmate_present(inmates.state[i]):
            b = grid.block[inmates.pos[i]]
            if b >= 0:
                out[b] = True
    any_closed = False
    for b in range(out.shape[0]):
        out[b] = out[b] and not cells.block_open[b]
        any_closed = any_closed or out[b]
    return any_closed


@njit(cache=True)
def open_block(b, grid, cells, inmates, scalars):
    """``World.open_block``: its controlled inmates are out of control from now."""
    if cells.block_open[b]:
        return
    cells.block_open[b] = True
    scalars[_DIRTY] = 1.0
    tick = int(scalars[_TICK])
    for i in range(inmates.state.shape[0]):
        s = inmates.state[i]
        if grid.block[inmates.pos[i]] == b and (s == CONFINED or s == AGITATED):
            inmates.state[i] = UNCONTROLLED
            inmates.last_change[i] = tick


@njit(cache=True)
def cell_in_open_block(c, block, block_open):
    """Whether cell ``c`` lies in an opened block (arrays, not tuples: called per agent)."""
    b = block[c]
    return b >= 0 and block_open[b]


@njit(cache=True)
def refresh_structure_fields(grid, cells, inmates, fields, scalars, closed):
    """``phases.common.refresh_structure_fields``: flight, control points, external force."""
    if scalars[_DIRTY] == 0.0:
        return
    n = grid.block.shape[0]
    gate_open = scalars[_GATE_OPEN] != 0.0
    cost = np.empty(n)
    ext_cost = np.empty(n)
    cp_cost = np.empty(n)
    for c in range(n):
        wall_open = (grid.is_wall[c] and cells.breached[c]) or (grid.is_gate[c] and gate_open)
        open_b = cell_in_open_block(c, grid.block, cells.block_open)
        ground = grid.is_outside[c] or grid.yard_or_control[c] or open_b or wall_open
        cost[c] = 1.0 if ground else INF
        cp_cost[c] = 1.0 if ground and grid.is_interior[c] else INF
        intact = grid.is_wall[c] and not wall_open
        fields.intact[c] = intact
        closed_block = grid.block[c] >= 0 and not open_b
        ext_cost[c] = _WALL_COST if intact else (INF if closed_block else 1.0)
    distance_unit(
        cost,
        np.flatnonzero(grid.is_cordon),
        grid.neighbours,
        fields.flee,
        fields.heap_cells,
    )
    free_cps = grid.control_cells[~cells.cp_held]
    distance_unit(cp_cost, free_cps, grid.neighbours, fields.cp, fields.heap_cells)
    goals = external_goals(grid, cells, inmates, closed)
    distance(ext_cost, goals, grid.neighbours, fields.ext, fields.heap_cells, fields.heap_keys)
    scalars[_DIRTY] = 0.0


@njit(cache=True)
def external_goals(grid, cells, inmates, closed):
    """``phases.common.external_goals``."""
    if closed_occupied_blocks(grid, cells, inmates, closed):
        ok = np.zeros(grid.block.shape[0], dtype=np.bool_)
        for c in range(ok.shape[0]):
            b = grid.adjacent_block[c]
            ok[c] = b >= 0 and closed[max(b, 0)] and grid.is_interior[c]
        return np.flatnonzero(ok)
    return np.flatnonzero(grid.is_interior)


@njit(cache=True)
def uprising_presence(inmates, external, n):
    upr = np.zeros(n, dtype=np.int64)
    for i in range(inmates.state.shape[0]):
        if inmates.state[i] == RIOTING:
            upr[inmates.pos[i]] += 1
    for i in range(external.state.shape[0]):
        if external_active(external.state[i]):
            upr[external.pos[i]] += 1
    return upr


@njit(cache=True)
def contested_zones(grid, upr, n_zones):
    contested = np.zeros(n_zones, dtype=np.bool_)
    for c in range(upr.shape[0]):
        if upr[c] > 0 and grid.zone_of[c] >= 0:
            contested[grid.zone_of[c]] = True
    return contested


@njit(cache=True)
def refresh_authority_fields(
    grid, cells, inmates, guards, external, fields, consts, scalars, guard_cells, resp_cells
):
    """``phases.common.refresh_authority_fields``: toward trouble, for guards and responders.

    Each field is brought up to date only at the cells a mover of its kind reads this tick
    (``guard_cells``, ``resp_cells``: the cells of those who earned a hop and their
    neighbours, with repeats; empty when none moves). A field skipped, or computed only
    as far as those cells, is recomputed when next needed; a whole one is kept with the
    inputs it was computed from, and reused while they do not change."""
    need_guard, need_resp = guard_cells.shape[0] > 0, resp_cells.shape[0] > 0
    if not (need_guard or need_resp):
        return
    n = grid.block.shape[0]
    t_h = scalars[_TICK] * consts.tick_h
    upr = uprising_presence(inmates, external, n)
    contested = contested_zones(grid, upr, consts.n_zones)
    trouble = upr > 0
    retakable = np.zeros(n, dtype=np.bool_)
    state, pos, zone_of = inmates.state, inmates.pos, grid.zone_of
    for i in range(state.shape[0]):
        s = state[i]
        if s == FLEEING:
            trouble[pos[i]] = True
        elif s == UNCONTROLLED:
            z = zone_of[pos[i]]
            if z < 0 or not contested[max(z, 0)]:
                retakable[pos[i]] = True
    for i in range(guards.state.shape[0]):
        if guards.state[i] == CAPTURED:
            trouble[guards.pos[i]] = True
    assault = scalars[_ASSAULT] != 0.0
    guard_cost = np.empty(n)
    resp_cost = np.empty(n)
    guard_goal = np.zeros(n, dtype=np.bool_)
    resp_goal = np.zeros(n, dtype=np.bool_)
    held_until, breached = cells.held_until, cells.breached
    is_wall, is_gate, is_outside = grid.is_wall, grid.is_gate, grid.is_outside
    is_cordon, cordon_ring = grid.is_cordon, grid.cordon_ring
    for c in range(n):
        t = (trouble[c] or held_until[c] > t_h) and not is_cordon[c]
        passable = not (is_wall[c] and not breached[c]) or is_gate[c]
        inside = passable and not is_outside[c]
        guard_cost[c] = 1.0 if inside else INF
        guard_goal[c] = t and inside
        t = t or (retakable[c] and not is_cordon[c])
        if assault:
            resp_cost[c] = 1.0 if passable else INF
            resp_goal[c] = t
        else:
            resp_cost[c] = 1.0 if is_outside[c] else INF
            resp_goal[c] = cordon_ring[c] or (t and is_outside[c])
    if need_guard:
        last = (fields.last_guard_ground, fields.last_guard_goal)
        _recompute_if_changed(
            guard_cost, guard_goal, last, fields.guard, guard_cells, grid, fields, 0
        )
    if need_resp:
        last = (fields.last_resp_ground, fields.last_resp_goal)
        _recompute_if_changed(
            resp_cost, resp_goal, last, fields.responder, resp_cells, grid, fields, 1
        )


@njit(cache=True)
def _recompute_if_changed(cost, goal, last, dist, needed, grid, fields, slot):
    """A unit-cost field toward ``goal`` at the ``needed`` cells, recomputed unless it is
    whole and its goals and ground are those it was computed from (the result would be the
    same); ``slot`` is its flag in ``fields.computed``: whole and current."""
    last_ground, last_goal = last
    same = fields.computed[slot]
    for c in range(cost.shape[0]):
        ground = np.isfinite(cost[c])
        if ground != last_ground[c] or goal[c] != last_goal[c]:
            same = False
        last_ground[c] = ground
        last_goal[c] = goal[c]
    if not same:
        fields.computed[slot] = distance_unit_until(
            cost, np.flatnonzero(goal), grid.neighbours, dist, fields.heap_cells, needed
        )
