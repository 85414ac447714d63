"""Blocks, held ground and distance fields (``sim.model.world`` and ``phases.common``
mirrored)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.compiled.core import distance, distance_unit, distance_unit_until
from sim.model.compiled.sums import (
    AGITATED,
    C_EXTERNAL,
    C_RIOTERS,
    CAPTURED,
    CONFINED,
    FLEEING,
    K_INMATE,
    UNCONTROLLED,
    inmate_present,
    recount,
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
def open_block(b, grid, cells, inmates, scalars, counts):
    """``World.open_block``: its controlled inmates are out of control from now (the head
    counts ``counts`` kept current)."""
    if cells.block_open[b]:
        return
    cells.block_open[b] = True
    scalars[_DIRTY] = 1.0
    tick = int(scalars[_TICK])
    for i in range(inmates.state.shape[0]):
        s = inmates.state[i]
        if grid.block[inmates.pos[i]] == b and (s == CONFINED or s == AGITATED):
            recount(counts, K_INMATE, s, UNCONTROLLED, inmates.pos[i], inmates.pos[i])
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
def contested_zones(grid, upr, n_zones):
    contested = np.zeros(n_zones, dtype=np.bool_)
    for c in range(upr.shape[0]):
        if upr[c] > 0 and grid.zone_of[c] >= 0:
            contested[grid.zone_of[c]] = True
    return contested


@njit(cache=True)
def refresh_authority_fields(
    grid, cells, inmates, guards, fields, consts, scalars, guard_cells, resp_cells, counts
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
    upr = counts[C_RIOTERS] + counts[C_EXTERNAL]  # the uprising's presence, kept current
    alarm, uncontrolled = _trouble_heads(inmates, guards, n)
    contested = contested_zones(grid, upr, consts.n_zones)
    t_h = scalars[_TICK] * consts.tick_h
    assault = scalars[_ASSAULT] != 0.0
    guard_cost, resp_cost = np.empty(n), np.empty(n)
    guard_goal, resp_goal = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    guard_same, resp_same = fields.computed[0], fields.computed[1]
    held_until, breached, zone_of = cells.held_until, cells.breached, grid.zone_of
    is_wall, is_gate, is_outside = grid.is_wall, grid.is_gate, grid.is_outside
    is_cordon, cordon_ring = grid.is_cordon, grid.cordon_ring
    for c in range(n):
        z = zone_of[c]
        retakable = uncontrolled[c] and (z < 0 or not contested[max(z, 0)])
        t = (upr[c] > 0 or alarm[c] or held_until[c] > t_h) and not is_cordon[c]
        passable = not (is_wall[c] and not breached[c]) or is_gate[c]
        inside = passable and not is_outside[c]
        guard_cost[c] = 1.0 if inside else INF
        guard_goal[c] = t and inside
        t = t or (retakable and not is_cordon[c])
        if assault:
            resp_cost[c] = 1.0 if passable else INF
            resp_goal[c] = t
        else:
            resp_cost[c] = 1.0 if is_outside[c] else INF
            resp_goal[c] = cordon_ring[c] or (t and is_outside[c])
        guard_same = guard_same and _unchanged(
            c, guard_cost, guard_goal, fields.last_guard_ground, fields.last_guard_goal
        )
        resp_same = resp_same and _unchanged(
            c, resp_cost, resp_goal, fields.last_resp_ground, fields.last_resp_goal
        )
    if need_guard:
        last = (fields.last_guard_ground, fields.last_guard_goal)
        _bring_up_to_date(guard_same, guard_cost, guard_goal, last, guard_cells, grid, fields, 0)
    if need_resp:
        last = (fields.last_resp_ground, fields.last_resp_goal)
        _bring_up_to_date(resp_same, resp_cost, resp_goal, last, resp_cells, grid, fields, 1)


@njit(cache=True)
def _bring_up_to_date(same, cost, goal, last, needed, grid, fields, slot):
    """Keep the ground and goals of authority field ``slot`` (0 guards, 1 responders) and,
    unless they are ``same`` as those it was last computed from, compute it at the
    ``needed`` cells."""
    _remember(cost, goal, last[0], last[1])
    if not same:
        dist = fields.guard if slot == 0 else fields.responder
        fields.computed[slot] = distance_unit_until(
            cost, np.flatnonzero(goal), grid.neighbours, dist, fields.heap_cells, needed
        )


@njit(cache=True)
def _trouble_heads(inmates, guards, n):
    """Per cell: whether anyone flees or a guard is held there (``alarm``), and whether an
    uncontrolled inmate is there; one pass over the inmates."""
    alarm = np.zeros(n, dtype=np.bool_)
    uncontrolled = np.zeros(n, dtype=np.bool_)
    state, pos = inmates.state, inmates.pos
    for i in range(state.shape[0]):
        s = state[i]
        if s == FLEEING:
            alarm[pos[i]] = True
        elif s == UNCONTROLLED:
            uncontrolled[pos[i]] = True
    for i in range(guards.state.shape[0]):
        if guards.state[i] == CAPTURED:
            alarm[guards.pos[i]] = True
    return alarm, uncontrolled


@njit(cache=True, inline="always")
def _unchanged(c, cost, goal, last_ground, last_goal):
    """Whether cell ``c``'s ground and goal are those a field was last computed from."""
    return np.isfinite(cost[c]) == last_ground[c] and goal[c] == last_goal[c]


@njit(cache=True)
def _remember(cost, goal, last_ground, last_goal):
    """Keep the ground and goals a field is computed from (see :func:`_unchanged`)."""
    for c in range(cost.shape[0]):
        last_ground[c] = np.isfinite(cost[c])
        last_goal[c] = goal[c]
