"""Per-cell head counts and their neighbourhood sums (``phases.common.CellSums`` mirrored).

``cell_counts`` fills a (6, n) int64 array with the counts of ``phases.common.COUNTS``,
and ``recount`` keeps it current as agents change state or cell;
``box_counts`` sums them over square neighbourhoods with a summed-area table (exact for
whole numbers, O(cells) whatever the radius). Strengths are derived from the summed counts
with the same formulas as ``CellSums._derive``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.compiled.state import P
from sim.model.states import External, Guard, Inmate, Responder

C_GUARDS, C_RESPONDERS, C_EXTERNAL, C_RIOTERS, C_ABLE, C_TARGETS = range(6)
N_COUNTS = 6

CONFINED, AGITATED, UNCONTROLLED, RIOTING, FLEEING = (
    int(Inmate.CONFINED),
    int(Inmate.AGITATED),
    int(Inmate.UNCONTROLLED),
    int(Inmate.RIOTING),
    int(Inmate.FLEEING),
)
ON_POST, RESPONDING, CAPTURED = int(Guard.ON_POST), int(Guard.RESPONDING), int(Guard.CAPTURED)
ENGAGED = int(Responder.ENGAGED)
APPROACHING, BREACHING, INSIDE, HOLDING = (
    int(External.APPROACHING),
    int(External.BREACHING),
    int(External.INSIDE),
    int(External.HOLDING),
)
S_CP_BONUS = P["control_point_bonus"]
S_STRENGTH_INMATE = P["strength_inmate"]
S_STRENGTH_EXTERNAL = P["strength_external"]
S_STRENGTH_RESPONDER = P["strength_responder"]


@njit(cache=True, inline="always")
def guard_active(state):
    return state == ON_POST or state == RESPONDING


@njit(cache=True, inline="always")
def external_active(state):
    return state == APPROACHING or state == BREACHING or state == INSIDE or state == HOLDING


@njit(cache=True, inline="always")
def inmate_present(state):
    return state <= FLEEING


@njit(cache=True)
def uprising_bonus(cp_held, params):
    held = 0
    for v in cp_held:
        if v:
            held += 1
    return 1.0 + params[S_CP_BONUS] * float(held)


@njit(cache=True)
def weights(cp_held, consts, params):
    """(guard, responder, rioter, external) strengths, as ``phases.common.cell_sums``."""
    bonus = uprising_bonus(cp_held, params)
    return (
        consts.guard_strength,
        params[S_STRENGTH_RESPONDER],
        params[S_STRENGTH_INMATE] * bonus,
        params[S_STRENGTH_EXTERNAL] * bonus,
    )


@njit(cache=True)
def cell_counts(inmates, guards, responders, external, counts):
    """Fill ``counts`` (6, n) with this moment's head counts per cell."""
    counts[:] = 0
    for i in range(guards.state.shape[0]):
        if guard_active(guards.state[i]):
            counts[C_GUARDS, guards.pos[i]] += 1
    for i in range(responders.state.shape[0]):
        if responders.state[i] == ENGAGED:
            counts[C_RESPONDERS, responders.pos[i]] += 1
    for i in range(external.state.shape[0]):
        if external_active(external.state[i]):
            counts[C_EXTERNAL, external.pos[i]] += 1
    for i in range(inmates.state.shape[0]):
        s = inmates.state[i]
        c = inmates.pos[i]
        if s == RIOTING:
            counts[C_RIOTERS, c] += 1
        if s <= RIOTING:
            counts[C_ABLE, c] += 1
        if s == AGITATED or s == UNCONTROLLED or s == RIOTING or s == FLEEING:
            counts[C_TARGETS, c] += 1


K_INMATE, K_GUARD, K_RESPONDER, K_EXTERNAL = range(4)
"""Kinds of agent, for :func:`maps_of`."""


@njit(cache=True, inline="always")
def maps_of(kind, state):
    """The count maps an agent of this kind and state is counted in, as bits (1 << map)."""
    if kind == K_INMATE:
        bits = 0
        if state == RIOTING:
            bits |= 1 << C_RIOTERS
        if state <= RIOTING:
            bits |= 1 << C_ABLE
        if state == AGITATED or state == UNCONTROLLED or state == RIOTING or state == FLEEING:
            bits |= 1 << C_TARGETS
        return bits
    if kind == K_GUARD:
        return (1 << C_GUARDS) if guard_active(state) else 0
    if kind == K_RESPONDER:
        return (1 << C_RESPONDERS) if state == ENGAGED else 0
    return (1 << C_EXTERNAL) if external_active(state) else 0


@njit(cache=True)
def recount(counts, kind, old_state, new_state, old_cell, new_cell):
    """Keep the head counts ``counts`` (as :func:`cell_counts` fills them) current when an
    agent of this kind changes state, cell or both."""
    before, after = maps_of(kind, old_state), maps_of(kind, new_state)
    if before == after and old_cell == new_cell:
        return
    for m in range(N_COUNTS):
        if before & (1 << m):
            counts[m, old_cell] -= 1
        if after & (1 << m):
            counts[m, new_cell] += 1


@njit(cache=True)
def box_counts(counts, which, width, height, radius, out, radius2=-1, out2=None):
    """Sum the count maps ``which`` over the (2r+1)^2 box around each cell (clipped at the
    edges) into ``out``, and for a second radius into ``out2``: one summed-area table a map,
    exact for whole numbers, O(cells) whatever the radius."""
    sat = np.zeros((height + 1, width + 1), dtype=np.int64)
    for m in which:
        for y in range(height):
            row = 0
            for x in range(width):
                row += counts[m, y * width + x]
                sat[y + 1, x + 1] = sat[y, x + 1] + row
        _query(sat, m, width, height, radius, out)
        if radius2 >= 0 and out2 is not None:
            _query(sat, m, width, height, radius2, out2)


@njit(cache=True)
def shift_box(near, m, c, delta, width, height, radius):
    """Add ``delta`` heads of map ``m`` at cell ``c`` to its box sums ``near`` of this
    ``radius`` (the cells whose box holds ``c``, clipped at the edges)."""
    x, y = c % width, c // width
    for yy in range(max(y - radius, 0), min(y + radius, height - 1) + 1):
        for xx in range(max(x - radius, 0), min(x + radius, width - 1) + 1):
            near[m, yy * width + xx] += delta


@njit(cache=True)
def _query(sat, m, width, height, radius, out):
    for y in range(height):
        y0, y1 = max(y - radius, 0), min(y + radius, height - 1) + 1
        for x in range(width):
            x0, x1 = max(x - radius, 0), min(x + radius, width - 1) + 1
            out[m, y * width + x] = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]


@njit(cache=True)
def auth_strength(c, counts, w):
    return float(counts[C_GUARDS, c]) * w[0] + float(counts[C_RESPONDERS, c]) * w[1]


@njit(cache=True)
def upr_strength(c, counts, w):
    return float(counts[C_RIOTERS, c]) * w[2] + float(counts[C_EXTERNAL, c]) * w[3]


@njit(cache=True)
def upr_count(c, counts):
    return float(counts[C_RIOTERS, c] + counts[C_EXTERNAL, c])


@njit(cache=True)
def auth_count(c, counts):
    return float(counts[C_GUARDS, c] + counts[C_RESPONDERS, c])
