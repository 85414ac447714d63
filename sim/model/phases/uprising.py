"""Phase 3, ``uprising``: agitation, joining the riot, seizing blocks, starting to flee.

Eligibility is read from the states at the start of the phase, and an inmate changes state
at most once a tick, so no chain (rise, seize, flee) happens inside one tick.

1. Agitation (Epstein 2002): an inmate under control (confined or agitated) and not in a
   calm period is agitated iff ``G_eff - R * P > T`` (``rules.effective_grievance``,
   ``rules.arrest_probability`` with authority and rioters within ``vision_cells``,
   ``rules.is_agitated``).
2. Joining: an inmate agitated at the start of the phase, or out of control and passing the
   same rule, joins the riot at ``rules.riot_hazard`` (the share of rioters within vision).
3. Seizure: rioters in a closed block open it at ``rules.block_seizure_hazard``; its
   controlled inmates are out of control from then on.
4. Flight: a rioter, or an inmate out of control, on a cell with a way out to the cordon
   edge starts fleeing at ``rules.flee_hazard`` (``passive_flee_factor`` for non-rioters),
   lowered by the reinforcements' cordon.
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import cell_sums, refresh_structure_fields
from sim.model.states import External, Guard, Inmate
from sim.model.streams import Draw
from sim.model.world import World

FACILITY_DISTURBANCE = 0.5
"""Disturbance D of an inmate still in a closed block once the perimeter is breached or
the external force is inside: half that of being out of control (D = 1). Fixed: its
weight is set by ``disturbance_gain``."""


def run(w: World) -> None:
    im, p = w.inmates, w.p
    sums = cell_sums(w)
    auth_v, riot_v, inmates_v = sums.near(
        ["auth_strength", "rioters", "inmates"], int(p["vision_cells"]), w
    )
    start = im.state.copy()
    unchanged = w.unchanged(im)
    t0 = (w.tick - 1) * w.tick_h
    controlled = np.flatnonzero(
        np.isin(start, (Inmate.CONFINED, Inmate.AGITATED)) & unchanged & (im.calm_until <= t0)
    )
    agitated = _willing(w, controlled, auth_v, riot_v)
    im.state[controlled] = np.where(agitated, Inmate.AGITATED, Inmate.CONFINED)
    _join(w, start, unchanged, auth_v, riot_v, inmates_v, t0)
    _seize_blocks(w, start)
    _flee(w, start)


def _willing(w: World, idx: np.ndarray, auth_v: np.ndarray, riot_v: np.ndarray) -> np.ndarray:
    """Epstein's rule for inmates ``idx``: grievance, raised by crowding and disturbance,
    beats risk aversion times the perceived risk of being stopped."""
    im, p, L = w.inmates, w.p, w.layout
    pos = im.pos[idx]
    block = L.block[pos]
    occupancy = np.where(block >= 0, w.block_occupancy[np.maximum(block, 0)], 1.0)
    g_eff = rules.effective_grievance(
        im.grievance[idx],
        occupancy,
        _disturbance(w, idx),
        p["crowding_gain"],
        p["disturbance_gain"],
    )
    arrest = rules.arrest_probability(auth_v[pos], riot_v[pos], p["arrest_k"])
    return rules.is_agitated(g_eff, im.risk_aversion[idx], arrest, p["agitation_threshold"])


def _disturbance(w: World, idx: np.ndarray) -> np.ndarray:
    """D per inmate: 1 out of control (an opened block, the yard, any state but confined or
    agitated); FACILITY_DISTURBANCE in a closed block once the facility is under attack."""
    im = w.inmates
    pos = im.pos[idx]
    out_of_control = (
        ~np.isin(im.state[idx], (Inmate.CONFINED, Inmate.AGITATED))
        | w.cell_in_open_block(pos)
        | (w.layout.block[pos] < 0)
    )
    attacked = w.breached.any() or w.external.in_state(External.INSIDE, External.HOLDING).any()
    return np.where(out_of_control, 1.0, FACILITY_DISTURBANCE if attacked else 0.0)


def _join(w, start, unchanged, auth_v, riot_v, inmates_v, t0: float) -> None:
    im, p = w.inmates, w.p
    was_agitated = np.flatnonzero((start == Inmate.AGITATED) & unchanged)
    loose = np.flatnonzero((start == Inmate.UNCONTROLLED) & unchanged)
    loose = loose[_willing(w, loose, auth_v, riot_v)]
    idx = np.r_[was_agitated, loose]
    if not len(idx):
        return
    pos = im.pos[idx]
    share = riot_v[pos] / np.maximum(inmates_v[pos], 1.0)
    hazard = rules.riot_hazard(share, p["riot_contagion_rate"])
    joins = idx[w.uniform(Draw.RIOT, im.uid[idx]) < w.probability(hazard)]
    im.state[joins] = Inmate.RIOTING
    im.riot_since[joins] = t0
    w.mark_changed(im, joins)


def _seize_blocks(w: World, start: np.ndarray) -> None:
    im, g, L, p = w.inmates, w.guards, w.layout, w.p
    closed = np.flatnonzero(~w.block_open)
    rioting = start == Inmate.RIOTING
    if not len(closed) or not rioting.any():
        return
    nb = L.n_blocks + 1
    rioters = np.bincount(L.block[im.pos[rioting]] + 1, minlength=nb + 1)[1:]
    on = g.in_state(Guard.ON_POST, Guard.RESPONDING)
    guards = np.bincount(L.block[g.pos[on]] + 1, minlength=nb + 1)[1:]
    hazard = rules.block_seizure_hazard(
        p["strength_inmate"] * rioters[closed],
        guards[closed] * w.guard_strength,
        p["block_seizure_rate"],
    )
    seized = closed[w.uniform(Draw.SEIZE, closed) < w.probability(hazard)]
    for block in seized:
        w.open_block(int(block))


def _flee(w: World, start: np.ndarray) -> None:
    im, p = w.inmates, w.p
    idx = np.flatnonzero(np.isin(start, (Inmate.RIOTING, Inmate.UNCONTROLLED)) & w.unchanged(im))
    if not len(idx):
        return
    refresh_structure_fields(w)
    idx = idx[np.isfinite(w.fields["flee"][im.pos[idx]])]
    factor = np.where(start[idx] == Inmate.RIOTING, 1.0, p["passive_flee_factor"])
    hazard = rules.flee_hazard(im.risk_aversion[idx], p["flee_rate"], w.cordon, factor)
    flee = idx[w.uniform(Draw.FLEE, im.uid[idx]) < w.probability(hazard)]
    im.state[flee] = Inmate.FLEEING
    w.mark_changed(im, flee)
