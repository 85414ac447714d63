"""What several phases need: per-cell sums of the two sides, and the distance fields.

These are the numpy engine's helpers; each phase module calls them on the current state
(state changes between phases, so sums are taken when a phase starts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model import rules
from sim.model.fields import INF, best_neighbours
from sim.model.layout import Zone
from sim.model.states import External, Guard, Inmate, Responder
from sim.model.world import World

CONTAINABLE = (Inmate.AGITATED, Inmate.UNCONTROLLED, Inmate.RIOTING, Inmate.FLEEING)
"""Inmate states that authority in contact can contain."""

WALL_COST = 25.0
"""Cost, in cells of open ground, of entering an intact perimeter cell on the external
force's field: it leads the force to the perimeter where its path is shortest (a breach is
worth a detour of up to 25 cells). Fixed: only the field's shape depends on it."""


COUNTS = ("guards", "responders", "external", "rioters", "able", "targets")
"""Per-cell head counts every side sum is made of: active guards, engaged responders, the
active external force, rioters, inmates who could riot (confined, agitated, out of control,
rioting), inmates who could be contained (agitated, out of control, rioting, fleeing)."""


@dataclass
class CellSums:
    """Per-cell head counts (:data:`COUNTS`), and strengths derived from them.

    Neighbourhood sums add up head counts (exact in any order) and weigh them afterwards,
    so the compiled engine, which sums counts differently, gets the same numbers.
    """

    counts: np.ndarray  # (len(COUNTS), n_cells), float64 holding whole numbers
    guard: float  # strength of a guard
    responder: float
    inmate: float  # of a rioter, with the control-point bonus
    external: float  # of an external-force agent, with the control-point bonus

    def at_cell(self, names: list[str]) -> list[np.ndarray]:
        """The named quantities on each cell itself."""
        return [self._derive(n, self.counts) for n in names]

    def near(self, names: list[str], radius: int, w: World) -> list[np.ndarray]:
        """The named quantities summed over each cell's (2r+1)^2 neighbourhood."""
        L = w.layout
        boxed = rules.box_sum(self.counts.reshape(len(COUNTS), L.height, -1), radius)
        flat = boxed.reshape(len(COUNTS), -1)
        return [self._derive(n, flat) for n in names]

    def _derive(self, name: str, c: np.ndarray) -> np.ndarray:
        g, r, e, riot, able, targets = c
        formulas = {
            "auth_strength": lambda: g * self.guard + r * self.responder,
            "auth_count": lambda: g + r,
            "resp_strength": lambda: r * self.responder,
            "upr_strength": lambda: riot * self.inmate + e * self.external,
            "upr_count": lambda: riot + e,
            "inmate_strength": lambda: riot * self.inmate,
            "rioters": lambda: riot,
            "inmates": lambda: able,
            "targets": lambda: targets,
        }
        return formulas[name]()


def total_strengths(w: World) -> tuple[float, float]:
    """(authority, uprising) strength over the whole grid: active guards and engaged
    responders; rioters and the active external force with the control-point bonus."""
    p = w.p
    authority = w.guard_strength * float(w.guards_active().sum()) + p["strength_responder"] * float(
        (w.responders.state == Responder.ENGAGED).sum()
    )
    uprising = uprising_bonus(w) * (
        p["strength_inmate"] * float((w.inmates.state == Inmate.RIOTING).sum())
        + p["strength_external"] * float(w.external_active().sum())
    )
    return authority, uprising


def uprising_bonus(w: World) -> float:
    """``1 + control_point_bonus x control points held``."""
    return 1.0 + w.p["control_point_bonus"] * float(w.cp_held.sum())


def cell_sums(w: World) -> CellSums:
    """Head counts per cell now, with the strengths that weigh them."""
    p, n = w.p, w.layout.n_cells
    g, r, ex, im = w.guards, w.responders, w.external, w.inmates
    able = im.in_state(Inmate.CONFINED, Inmate.AGITATED, Inmate.UNCONTROLLED, Inmate.RIOTING)
    positions = (
        g.pos[w.guards_active()],
        r.pos[r.state == Responder.ENGAGED],
        ex.pos[w.external_active()],
        im.pos[im.state == Inmate.RIOTING],
        im.pos[able],
        im.pos[im.in_state(*CONTAINABLE)],
    )
    counts = np.stack([np.bincount(cells, minlength=n) for cells in positions]).astype(float)
    bonus = uprising_bonus(w)
    return CellSums(
        counts,
        w.guard_strength,
        p["strength_responder"],
        p["strength_inmate"] * bonus,
        p["strength_external"] * bonus,
    )


# ----------------------------------------------------------------------------- fields
def refresh_structure_fields(w: World) -> None:
    """Fields that change only with the structure (a breach, an opened block, the gate, a
    control point taken or lost): flight, control points, the external force."""
    if not w.structure_dirty:
        return
    L = w.layout
    open_block = w.cell_in_open_block(np.arange(L.n_cells))
    wall_open = (w.is_wall & w.breached) | ((L.zone == Zone.GATE) & w.gate_open)
    ground = w.is_outside | np.isin(L.zone, (Zone.YARD, Zone.CONTROL)) | open_block | wall_open
    flee = w.graph.distance(np.where(ground, 1.0, INF), np.flatnonzero(w.is_cordon))
    free_cps = L.control_cells[~w.cp_held]
    cp = w.graph.distance(np.where(ground & w.is_interior, 1.0, INF), free_cps)
    intact = w.is_wall & ~wall_open
    closed_block = (L.block >= 0) & ~open_block
    ext_cost = np.where(intact, WALL_COST, np.where(closed_block, INF, 1.0))
    ext = w.graph.distance(ext_cost, external_goals(w))
    w.fields.update(
        flee=flee,
        flee_next=best_neighbours(flee, L.neighbours),
        cp_next=best_neighbours(cp, L.neighbours),
        ext=ext,
        ext_next=best_neighbours(ext, L.neighbours),
        intact_wall=intact,
    )
    w.structure_dirty = False


def external_goals(w: World) -> np.ndarray:
    """Yard cells touching a closed block that holds inmates; once none is left, every
    interior cell (the force comes in and holds)."""
    closed = w.closed_occupied_blocks()
    if closed.any():
        touching = w.adjacent_block >= 0
        ok = touching & closed[np.maximum(w.adjacent_block, 0)] & w.is_interior
        return np.flatnonzero(ok)
    return np.flatnonzero(w.is_interior)


def uprising_presence(w: World) -> np.ndarray:
    """Per cell: uprising agents (rioters and the active external force)."""
    n = w.layout.n_cells
    im, ex = w.inmates, w.external
    return np.bincount(im.pos[im.state == Inmate.RIOTING], minlength=n) + np.bincount(
        ex.pos[w.external_active()], minlength=n
    )


def contested_zones(w: World, upr: np.ndarray) -> np.ndarray:
    """Per zone (each block, the wing, the yard): an uprising agent stands in it."""
    contested = np.zeros(w.n_zones, dtype=bool)
    zones = w.zone_of[np.flatnonzero(upr)]
    contested[zones[zones >= 0]] = True
    return contested


def refresh_authority_fields(w: World) -> None:
    """Fields toward trouble, every tick: cells with rioters, the active external force,
    fleeing inmates, captured guards and cells held by the uprising; for responders also
    inmates out of control in zones the uprising has left (those in a zone it still holds
    wait until it is cleared; retaking them is the reinforcements' work, see ``response``).

    Guards pass the interior and the perimeter (the gate always: they hold the keys) and
    go only to trouble there. Responders on the assault pass everything but intact
    perimeter; holding the cordon, they stay outside and go to the ring of town cells along
    the perimeter and to inmates fleeing through the town.
    """
    im, g, L = w.inmates, w.guards, w.layout
    trouble = np.zeros(L.n_cells, dtype=bool)
    upr = uprising_presence(w)
    trouble[upr > 0] = True
    trouble[im.pos[im.state == Inmate.FLEEING]] = True
    trouble[g.pos[g.state == Guard.CAPTURED]] = True
    trouble |= w.held
    trouble &= ~w.is_cordon
    loose = im.pos[im.state == Inmate.UNCONTROLLED]
    zone = w.zone_of[loose]
    retakable = np.zeros(L.n_cells, dtype=bool)
    retakable[loose[~contested_zones(w, upr)[np.maximum(zone, 0)] | (zone < 0)]] = True
    passable = ~(w.is_wall & ~w.breached) | (L.zone == Zone.GATE)
    inside = passable & ~w.is_outside
    guard = w.graph.distance(np.where(inside, 1.0, INF), np.flatnonzero(trouble & inside))
    trouble |= retakable & ~w.is_cordon
    if w.assault:
        resp = w.graph.distance(np.where(passable, 1.0, INF), np.flatnonzero(trouble))
    else:
        goals = w.cordon_ring | (trouble & w.is_outside)
        resp = w.graph.distance(np.where(w.is_outside, 1.0, INF), np.flatnonzero(goals))
    w.fields["guard_next"] = best_neighbours(guard, L.neighbours)
    w.fields["responder_next"] = best_neighbours(resp, L.neighbours)


def external_outside(w: World) -> np.ndarray:
    """External-force agents still outside the perimeter (approaching or breaching)."""
    return w.external.in_state(External.APPROACHING, External.BREACHING)


def next_cells(w: World, group, idx: np.ndarray, field: str) -> np.ndarray:
    """Next cell of agents ``idx`` of ``group`` down the named field's best-neighbour table,
    each choosing among equally good cells with its own keyed uniform (the same draw in
    every phase of a tick)."""
    from sim.model.fields import choose_next
    from sim.model.streams import Draw

    u = w.uniform(Draw.MOVE_CHOICE, group.uid[idx])
    return choose_next(group.pos[idx], w.fields[field], w.layout.neighbours, u)
