"""Phase 1, ``events``: the simultaneous rising, arrivals, air support and the cordon.

In the first tick, each hardened confined adult rises (becomes rioting) with probability
``initial_rioter_share``: the internal uprising that began with the assault. Staged
responders whose arrival tick has come become engaged. Air support is on from
``air_support_h``. The cordon's closure (``rules.cordon_closure``) follows the engaged
responders and the hours the curfew has had to organise (``cordon_build_h``). Assault or
cordon: the reinforcements go into the facility once the authority side's total strength
is at least ``assault_superiority`` times the uprising's, and fall back to the cordon if it
drops below ``ASSAULT_HOLD_RATIO`` times it. The warning's effects (readiness, earlier
reinforcements) were applied when the run was built.
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import total_strengths
from sim.model.states import Inmate, Responder
from sim.model.streams import Draw
from sim.model.world import World

ASSAULT_HOLD_RATIO = 1.0
"""Once on the assault, reinforcements fall back to the cordon only when the authority
side's strength drops below the uprising's (a hysteresis below ``assault_superiority``, so
they do not go in and out from one tick to the next)."""


def run(w: World) -> None:
    p = w.p
    if w.tick == 1:
        im = w.inmates
        cand = np.flatnonzero(im.hardened & (im.state == Inmate.CONFINED))
        rise = cand[w.uniform(Draw.INITIAL_RISE, im.uid[cand]) < p["initial_rioter_share"]]
        im.state[rise] = Inmate.RIOTING
        im.riot_since[rise] = 0.0
        w.mark_changed(im, rise)
    r = w.responders
    arriving = np.flatnonzero((r.state == Responder.STAGED) & (r.arrival_tick <= w.tick))
    r.state[arriving] = Responder.ENGAGED
    w.mark_changed(r, arriving)
    w.air_support = (w.tick - 1) * w.tick_h >= p["air_support_h"] - 1e-9
    authority, uprising = total_strengths(w)
    if w.assault:
        w.assault = authority >= ASSAULT_HOLD_RATIO * uprising
    else:
        w.assault = authority >= p["assault_superiority"] * uprising and authority > 0
    engaged = int((r.state == Responder.ENGAGED).sum())
    w.cordon = float(
        rules.cordon_closure(
            engaged,
            w.n_wall,
            p["cordon_responders_per_cell"],
            p["cordon_max"],
            (w.tick - 1) * w.tick_h,
            p["cordon_build_h"],
        )
    )
