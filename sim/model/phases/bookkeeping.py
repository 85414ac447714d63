"""Phase 7, ``bookkeeping``: held ground, the gate, minors' exposure, peaks, the end check.

Held cells: an interior cell where uprising agents (rioters, the active external force)
stand and no authority does is held until ``HELD_MEMORY_H`` after the last of them left,
and released at once when authority stands on it with no uprising agent. The gate opens
while the uprising holds a control point. Minors present in a zone (their block or wing,
or the yard as a whole) with an uprising agent in it add the tick's hours each to
``minors_exposed``.

End check: control is restored when no rioting or fleeing inmate is inside the perimeter
and no external-force agent is active. The run then ends: inmates still out of control
inside are retaken (surrendered) and those fleeing outside count as escaped from now. The
search for every escaped inmate is then carried to the horizon in closed form
(:func:`search_to_horizon`, called by the model after it has recorded the final counts).
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import contested_zones
from sim.model.phases.response import search_start_h
from sim.model.states import Guard, Inmate, Responder
from sim.model.streams import Draw
from sim.model.world import HELD_MEMORY_H, World


def run(w: World) -> None:
    upr, auth = _presence(w)
    t = w.t_h
    interior = w.is_interior
    w.held_until[(upr > 0) & (auth == 0) & interior] = t + HELD_MEMORY_H
    w.held_until[(auth > 0) & (upr == 0)] = -np.inf
    held = w.held
    cp_held = held[w.layout.control_cells]
    if (cp_held != w.cp_held).any():
        w.cp_held[:] = cp_held
        w.gate_open = bool(cp_held.any())
        w.structure_dirty = True
    w.minors_exposed_h += _minors_in_contested_zones(w, upr) * w.tick_h
    w.peak_share_held = max(w.peak_share_held, held[interior].sum() / w.n_interior)
    captured = int((w.guards.state == Guard.CAPTURED).sum())
    w.peak_guards_captured = max(w.peak_guards_captured, captured)
    if _control_restored(w):
        w.control_restored = True
        w.hours_to_control = t
        restore_control(w)
        w.finished = True
    elif w.tick >= w.max_ticks:
        w.finished = True


def _presence(w: World) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: uprising agents (rioters, active external force) and authority agents
    (active guards, engaged responders)."""
    n = w.layout.n_cells
    im, g, r, ex = w.inmates, w.guards, w.responders, w.external
    upr = np.bincount(im.pos[im.state == Inmate.RIOTING], minlength=n) + np.bincount(
        ex.pos[w.external_active()], minlength=n
    )
    auth = np.bincount(g.pos[w.guards_active()], minlength=n) + np.bincount(
        r.pos[r.state == Responder.ENGAGED], minlength=n
    )
    return upr, auth


def _minors_in_contested_zones(w: World, upr: np.ndarray) -> int:
    im = w.inmates
    if not im.minor.any():
        return 0
    contested = contested_zones(w, upr)
    z = w.zone_of[im.pos[im.minor & w.inmates_present()]]
    return int(contested[z[z >= 0]].sum())


def _control_restored(w: World) -> bool:
    im = w.inmates
    inside = im.in_state(Inmate.RIOTING, Inmate.FLEEING) & ~w.is_outside[im.pos]
    return not inside.any() and not w.external_active().any()


def restore_control(w: World) -> None:
    """The end of the run, at the moment control is restored: inmates still out of control
    inside are retaken, and those fleeing outside count as escaped from now."""
    im = w.inmates
    loose = np.flatnonzero(im.state == Inmate.UNCONTROLLED)
    im.state[loose] = Inmate.SURRENDERED
    outside = np.flatnonzero((im.state == Inmate.FLEEING) & w.is_outside[im.pos])
    im.state[outside] = Inmate.ESCAPED
    im.escaped_at[outside] = w.t_h


def search_to_horizon(w: World) -> None:
    """After control is restored: the search for every escaped inmate, carried from the end
    of the run to the horizon in closed form (``rules.search_hazard_integral`` from when its
    search starts). Not part of the simulated trajectory: outcomes count these recaptures,
    the time series do not. Both engines call this same function."""
    im, p = w.inmates, w.p
    escaped = np.flatnonzero(im.state == Inmate.ESCAPED)
    integral = rules.search_hazard_integral(
        search_start_h(w, escaped),
        w.t_h,
        p["horizon_h"],
        p["at_large_recapture_rate"],
        p["search_decay_h"],
    )
    u = w.uniform(Draw.SEARCH_TO_HORIZON, im.uid[escaped], tick=0)
    caught = escaped[u < -np.expm1(-integral)]
    im.state[caught] = Inmate.RECAPTURED
