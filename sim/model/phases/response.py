"""Phase 4, ``response``: guards respond; authority contains, retakes and searches.

1. Guards on post with an uprising agent within ``vision_cells`` start responding.
2. Containment (``rules.contain_hazard``: authority against uprising strength in the 3x3
   neighbourhood, shared among the inmates there who could be contained): an agitated
   inmate under control is calmed (confined, and calm for ``calm_period_h``); a rioter is
   retaken (surrendered); an inmate out of control who does not riot is retaken only by
   reinforcements (the guards on duty are a custodial force, too few to retake an opened
   block) and only in a zone (block, wing, yard) with no uprising agent left in it, since a
   zone the uprising holds must be retaken first; a fleeing inmate is retaken inside the
   perimeter or recaptured outside it. Outside the perimeter only responders act: guards
   hold the facility.
3. Surrender: a rioter also gives up at ``rules.surrender_hazard``: pressure from authority
   within vision against the uprising there, rising with the hours spent rioting, lower for
   hardened rioters; zero where no authority is within vision, except that a rioter inside
   the perimeter feels at least the siege's pressure (``rules.siege_pressure``: the
   cordon and the balance of the whole grid, weighed by ``siege_pressure_share``).
4. Search: an escaped inmate is recaptured at a hazard that starts at
   ``at_large_recapture_rate`` when the search for it starts (its escape, or the first
   reinforcements' arrival if later) and decays with ``search_decay_h``
   (``rules.search_hazard_integral``).
5. Captured guards: freed where authority stands on their cell and no uprising agent is in
   contact; otherwise harmed at ``hostage_harm_rate``.
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import (
    cell_sums,
    contested_zones,
    total_strengths,
    uprising_presence,
)
from sim.model.states import Guard, Inmate
from sim.model.streams import Draw
from sim.model.world import World


def run(w: World) -> None:
    sums = cell_sums(w)
    vision = int(w.p["vision_cells"])
    auth1, upr1, resp1, targets1 = sums.near(
        ["auth_strength", "upr_strength", "resp_strength", "targets"], 1, w
    )
    auth_v, upr_v, uprc_v = sums.near(["auth_strength", "upr_strength", "upr_count"], vision, w)
    g = w.guards
    alerted = np.flatnonzero((g.state == Guard.ON_POST) & (uprc_v[g.pos] > 0))
    g.state[alerted] = Guard.RESPONDING
    _contain(w, auth1, upr1, resp1, targets1, auth_v, upr_v)
    _search(w)
    _hostages(w, sums.at_cell(["auth_count"])[0], sums.near(["upr_count"], 1, w)[0])


def _contain(w, auth1, upr1, resp1, targets1, auth_v, upr_v) -> None:
    im, p = w.inmates, w.p
    idx = np.flatnonzero(
        im.in_state(Inmate.AGITATED, Inmate.UNCONTROLLED, Inmate.RIOTING, Inmate.FLEEING)
        & w.unchanged(im)
    )
    if not len(idx):
        return
    pos, state = im.pos[idx], im.state[idx]
    outside = w.is_outside[pos]
    by_responders = outside | (state == Inmate.UNCONTROLLED)
    authority = np.where(by_responders, resp1[pos], auth1[pos])
    hazard = rules.contain_hazard(authority, upr1[pos], targets1[pos], p["contain_rate"])
    zone = w.zone_of[pos]
    held_zone = contested_zones(w, uprising_presence(w))[np.maximum(zone, 0)] & (zone >= 0)
    hazard = np.where((state == Inmate.UNCONTROLLED) & held_zone, 0.0, hazard)
    rioting = state == Inmate.RIOTING
    t0 = (w.tick - 1) * w.tick_h
    siege = rules.siege_pressure(*total_strengths(w), w.cordon, p["siege_pressure_share"])
    surrender = rules.surrender_hazard(
        auth_v[pos],
        upr_v[pos],
        np.where(rioting, t0 - im.riot_since[idx], 0.0),
        p["surrender_rate"],
        p["surrender_fatigue_h"],
        np.where(im.hardened[idx], p["hardened_surrender_factor"], 1.0),
        np.where(outside, 0.0, siege),
    )
    hazard = hazard + np.where(rioting, surrender, 0.0)
    caught = w.uniform(Draw.CONTAIN, im.uid[idx]) < w.probability(hazard)
    new = np.where(
        state == Inmate.AGITATED,
        Inmate.CONFINED,
        np.where(outside, Inmate.RECAPTURED, Inmate.SURRENDERED),
    )
    hit = idx[caught]
    im.state[hit] = new[caught]
    calmed = hit[new[caught] == Inmate.CONFINED]
    im.calm_until[calmed] = w.t_h + p["calm_period_h"]
    w.mark_changed(im, hit)


def search_start_h(w: World, idx: np.ndarray) -> np.ndarray:
    """When the search for escaped inmates ``idx`` starts: their escape, or the first
    reinforcements' arrival if that is later (no search before anyone can search)."""
    arrival_h = (w.first_arrival_tick - 1) * w.tick_h
    return np.maximum(w.inmates.escaped_at[idx], arrival_h)


def _search(w: World) -> None:
    im, p = w.inmates, w.p
    idx = np.flatnonzero((im.state == Inmate.ESCAPED) & w.unchanged(im))
    if not len(idx):
        return
    t1 = w.t_h
    integral = rules.search_hazard_integral(
        search_start_h(w, idx), t1 - w.tick_h, t1, p["at_large_recapture_rate"], p["search_decay_h"]
    )
    caught = idx[w.uniform(Draw.SEARCH, im.uid[idx]) < -np.expm1(-integral)]
    im.state[caught] = Inmate.RECAPTURED
    w.mark_changed(im, caught)


def _hostages(w: World, auth_here: np.ndarray, upr1_count: np.ndarray) -> None:
    g = w.guards
    held = np.flatnonzero((g.state == Guard.CAPTURED) & w.unchanged(g))
    if not len(held):
        return
    pos = g.pos[held]
    freed = (auth_here[pos] > 0) & (upr1_count[pos] == 0)
    g.state[held[freed]] = Guard.RESPONDING
    w.mark_changed(g, held[freed])
    rest = held[~freed]
    harmed = rest[
        w.uniform(Draw.HOSTAGE_HARM, g.uid[rest]) < w.probability(w.p["hostage_harm_rate"])
    ]
    g.state[harmed] = Guard.INCAPACITATED
    w.mark_changed(g, harmed)
