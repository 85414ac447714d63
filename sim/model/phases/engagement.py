"""Phase 5, ``engagement``: attrition between opposing agents in contact, resolved at once.

Sides: authority (guards on post or responding at ``rules.guard_strength``, engaged
responders at ``strength_responder``) and the uprising (rioters at ``strength_inmate``, the
active external force at ``strength_external``, both raised by ``control_point_bonus`` per
control point held). Every agent's hazard is ``rules.attrition_hazard`` over the 3x3
neighbourhood, all computed from the state at the start of the phase before any change;
once air support is on, every active member of the external force also faces
``air_support_rate`` (a model-level effect; no contact needed). A
guard overcome by the uprising's inmates is taken hostage (captured) with probability
``guard_capture_share``, else incapacitated; one overcome by the external force is
incapacitated. The share of a guard's opponents that are inmates is their share of the
uprising's strength around him.
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import cell_sums
from sim.model.states import External, Guard, Inmate, Responder
from sim.model.streams import Draw
from sim.model.world import World


def run(w: World) -> None:
    p = w.p
    sums = cell_sums(w)
    a_s, a_n, u_s, u_n, i_s = sums.near(
        ["auth_strength", "auth_count", "upr_strength", "upr_count", "inmate_strength"], 1, w
    )
    g, r, ex, im = w.guards, w.responders, w.external, w.inmates
    rate = p["attrition_rate"]
    g_on = np.flatnonzero(w.guards_active() & w.unchanged(g))
    r_on = np.flatnonzero((r.state == Responder.ENGAGED) & w.unchanged(r))
    e_on = np.flatnonzero(w.external_active() & w.unchanged(ex))
    i_on = np.flatnonzero((im.state == Inmate.RIOTING) & w.unchanged(im))
    hits = {}
    for name, group, idx, enemy, own, factor in (
        ("guards", g, g_on, u_s, a_n, 1.0),
        ("responders", r, r_on, u_s, a_n, 1.0),
        ("external", ex, e_on, a_s, u_n, 1.0),
        ("inmates", im, i_on, a_s, u_n, 1.0),
    ):
        pos = group.pos[idx]
        hazard = rules.attrition_hazard(enemy[pos], own[pos], rate) * factor
        hits[name] = idx[w.uniform(Draw.ATTRITION, group.uid[idx]) < w.probability(hazard)]
    if w.air_support and len(e_on):
        struck = w.uniform(Draw.AIR_STRIKE, ex.uid[e_on]) < w.probability(p["air_support_rate"])
        hits["external"] = np.union1d(hits["external"], e_on[struck])
    gh = hits["guards"]
    gpos = g.pos[gh]
    by_inmates = i_s[gpos] / np.maximum(u_s[gpos], 1e-12)
    captured = w.uniform(Draw.GUARD_CAPTURE, g.uid[gh]) < by_inmates * p["guard_capture_share"]
    g.state[gh] = np.where(captured, Guard.CAPTURED, Guard.INCAPACITATED)
    r.state[hits["responders"]] = Responder.INCAPACITATED
    ex.state[hits["external"]] = External.INCAPACITATED
    im.state[hits["inmates"]] = Inmate.INCAPACITATED
    for name, group in (("guards", g), ("responders", r), ("external", ex), ("inmates", im)):
        w.mark_changed(group, hits[name])
