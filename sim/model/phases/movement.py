"""Phase 6, ``movement``: at most one cell a tick down distance fields, in crowded space.

Who moves, and toward what: fleeing inmates toward the cordon edge (crossing the perimeter
marks them as having left custody; reaching the edge makes them escaped); hardened rioters
toward control points the uprising does not hold; the external force along its field,
never into intact perimeter; responding guards toward trouble inside the perimeter (they
hold the facility); engaged responders toward trouble anywhere while on the assault, or
along the cordon outside while they hold it (``events``: ``assault_superiority``).
Speed: every agent earns ``move_cells_per_h x tick`` cells of movement a tick and hops
when it has earned one.

Crowding: a cell holds at most ``cell_crowding_limit x persons_per_cell`` agents of all
groups. Movers pick among equally good next cells with their own keyed uniform; where more
movers want a cell than it has room for (counted before anyone moves), those with the
lowest keyed priority get in and the others wait a tick.
"""

from __future__ import annotations

import numpy as np

from sim.model.phases.common import next_cells, refresh_authority_fields, refresh_structure_fields
from sim.model.states import External, Guard, Inmate, Responder
from sim.model.streams import Draw
from sim.model.world import World


def run(w: World) -> None:
    refresh_structure_fields(w)
    refresh_authority_fields(w)
    im, g, r, ex = w.inmates, w.guards, w.responders, w.external
    movers = [
        (im, im.state == Inmate.FLEEING, "flee_next"),
        (im, (im.state == Inmate.RIOTING) & im.hardened, "cp_next"),
        (ex, ex.in_state(External.APPROACHING, External.INSIDE), "ext_next"),
        (g, g.state == Guard.RESPONDING, "guard_next"),
        (r, r.state == Responder.ENGAGED, "responder_next"),
    ]
    step = w.p["move_cells_per_h"] * w.tick_h
    plans = []
    for group, moving, field in movers:
        group.credit[~_any_mover(group, movers)] = 0.0
        idx = np.flatnonzero(moving)
        group.credit[idx] = np.minimum(group.credit[idx] + step, 1.0 + step)
        ready = idx[group.credit[idx] >= 1.0 - 1e-9]
        if len(ready):
            plans.append((group, ready, next_cells(w, group, ready, field)))
    if plans:
        _move(w, plans)


def _any_mover(group, movers) -> np.ndarray:
    mask = np.zeros(len(group), dtype=bool)
    for g, moving, _ in movers:
        if g is group:
            mask |= moving
    return mask


def _allowed(w: World, group, idx: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Real moves only, and never the external force into intact perimeter (its field
    leads there to breach it)."""
    ok = nxt != group.pos[idx]
    if group is w.external:
        ok &= ~w.fields["intact_wall"][nxt]
    return ok


def _move(w: World, plans) -> None:
    """Resolve every planned hop at once against the crowding limit, then apply them."""
    groups, idxs, targets, prio = [], [], [], []
    for group, idx, nxt in plans:
        ok = _allowed(w, group, idx, nxt)
        groups.append(np.full(int(ok.sum()), len(groups)))
        idxs.append(idx[ok])
        targets.append(nxt[ok])
        prio.append(w.uniform(Draw.MOVE_PRIORITY, group.uid[idx[ok]]))
    which, idx, target, pr = (np.concatenate(a) for a in (groups, idxs, targets, prio))
    free = np.maximum(w.cell_capacity - w.occupancy(), 0)
    order = np.argsort(target + pr, kind="stable")  # by target cell, then keyed priority
    t_sorted = target[order]
    first = np.searchsorted(t_sorted, t_sorted, side="left")
    rank = np.arange(len(order)) - first
    accepted = np.zeros(len(order), dtype=bool)
    accepted[order] = rank < free[t_sorted]
    for k, (group, _, _) in enumerate(plans):
        sel = accepted & (which == k)
        moved = idx[sel]
        group.pos[moved] = target[sel]
        group.credit[moved] -= 1.0
    _arrive(w)


def _arrive(w: World) -> None:
    """Consequences of where agents now stand: custody left, escapes, the force inside."""
    im, ex = w.inmates, w.external
    fleeing = np.flatnonzero(im.state == Inmate.FLEEING)
    pos = im.pos[fleeing]
    im.left_custody[fleeing[w.is_outside[pos]]] = True
    escaped = fleeing[w.is_cordon[pos]]
    im.state[escaped] = Inmate.ESCAPED
    im.escaped_at[escaped] = w.t_h
    w.mark_changed(im, escaped)
    entered = np.flatnonzero((ex.state == External.APPROACHING) & w.is_interior[ex.pos])
    ex.state[entered] = External.INSIDE
