"""The seven phases of a tick, compiled (``sim.model.phases`` mirrored one to one).

Each function here computes what its numpy twin computes, with the same keyed draws and
the same floating-point operations in the same order; ``tests/test_engines.py`` runs both
engines side by side. Decisions within a phase are taken from the state at its start and
applied afterwards, as in the numpy engine.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.model.compiled.core import INF, choose_next_dist, probability, stream_key, uniform
from sim.model.compiled.state import P
from sim.model.compiled.structure import (
    closed_occupied_blocks,
    contested_zones,
    open_block,
    refresh_authority_fields,
    refresh_structure_fields,
)
from sim.model.compiled.sums import (
    AGITATED,
    APPROACHING,
    BREACHING,
    C_ABLE,
    C_EXTERNAL,
    C_GUARDS,
    C_RESPONDERS,
    C_RIOTERS,
    C_TARGETS,
    CAPTURED,
    CONFINED,
    ENGAGED,
    FLEEING,
    HOLDING,
    INSIDE,
    K_EXTERNAL,
    K_GUARD,
    K_INMATE,
    K_RESPONDER,
    N_COUNTS,
    ON_POST,
    RESPONDING,
    RIOTING,
    UNCONTROLLED,
    auth_count,
    auth_strength,
    box_counts,
    cell_counts,
    external_active,
    guard_active,
    inmate_present,
    recount,
    shift_box,
    upr_count,
    upr_strength,
    uprising_bonus,
    weights,
)
from sim.model.phases.events import ASSAULT_HOLD_RATIO
from sim.model.phases.uprising import FACILITY_DISTURBANCE
from sim.model.population import HARDENED_RISK_AVERSION_FACTOR  # noqa: F401 (documented link)
from sim.model.states import External, Guard, Inmate, Responder
from sim.model.streams import Draw
from sim.model.world import HELD_MEMORY_H, Slot

ESCAPED, RECAPTURED = int(Inmate.ESCAPED), int(Inmate.RECAPTURED)
SURRENDERED, I_INCAP = int(Inmate.SURRENDERED), int(Inmate.INCAPACITATED)
G_INCAP = int(Guard.INCAPACITATED)
STAGED, R_INCAP = int(Responder.STAGED), int(Responder.INCAPACITATED)
WITHDRAWN, E_INCAP = int(External.WITHDRAWN), int(External.INCAPACITATED)
_ASSAULT_HOLD = float(ASSAULT_HOLD_RATIO)
_DISTURBANCE = float(FACILITY_DISTURBANCE)
_HELD_MEMORY = float(HELD_MEMORY_H)
TICK, ASSAULT, AIR, CORDON = (
    int(Slot.TICK),
    int(Slot.ASSAULT),
    int(Slot.AIR_SUPPORT),
    int(Slot.CORDON),
)
GATE_OPEN, DIRTY = int(Slot.GATE_OPEN), int(Slot.STRUCTURE_DIRTY)
MINORS, PEAK_HELD, PEAK_CAPTURED = (
    int(Slot.MINORS_EXPOSED_H),
    int(Slot.PEAK_SHARE_HELD),
    int(Slot.PEAK_GUARDS_CAPTURED),
)
HOURS, RESTORED, FINISHED = (
    int(Slot.HOURS_TO_CONTROL),
    int(Slot.CONTROL_RESTORED),
    int(Slot.FINISHED),
)
D_INITIAL_RISE, D_BREACH, D_RIOT = int(Draw.INITIAL_RISE), int(Draw.BREACH), int(Draw.RIOT)
D_SEIZE, D_FLEE, D_CONTAIN = int(Draw.SEIZE), int(Draw.FLEE), int(Draw.CONTAIN)
D_SEARCH, D_HOSTAGE, D_ATTRITION = int(Draw.SEARCH), int(Draw.HOSTAGE_HARM), int(Draw.ATTRITION)
D_CAPTURE, D_CHOICE, D_PRIORITY = (
    int(Draw.GUARD_CAPTURE),
    int(Draw.MOVE_CHOICE),
    int(Draw.MOVE_PRIORITY),
)
D_TO_HORIZON, D_AIR = int(Draw.SEARCH_TO_HORIZON), int(Draw.AIR_STRIKE)
P_VISION, P_ARREST_K = P["vision_cells"], P["arrest_k"]
P_CROWDING, P_DISTURBANCE, P_THRESHOLD = (
    P["crowding_gain"],
    P["disturbance_gain"],
    P["agitation_threshold"],
)
P_AIR_SUPPORT_H = P["air_support_h"]
P_AIR_SUPPORT_RATE = P["air_support_rate"]
P_ASSAULT_SUPERIORITY = P["assault_superiority"]
P_AT_LARGE_RECAPTURE_RATE = P["at_large_recapture_rate"]
P_ATTRITION_RATE = P["attrition_rate"]
P_BLOCK_SEIZURE_RATE = P["block_seizure_rate"]
P_BREACH_RATE = P["breach_rate"]
P_BREACH_TEAM_SIZE = P["breach_team_size"]
P_CALM_PERIOD_H = P["calm_period_h"]
P_CONTAIN_RATE = P["contain_rate"]
P_CORDON_MAX = P["cordon_max"]
P_CORDON_RESPONDERS_PER_CELL = P["cordon_responders_per_cell"]
P_CORDON_BUILD_H = P["cordon_build_h"]
P_SIEGE_PRESSURE_SHARE = P["siege_pressure_share"]
P_EXTERNAL_HOLD_H = P["external_hold_h"]
P_EXTERNAL_WITHDRAW_LOSS_SHARE = P["external_withdraw_loss_share"]
P_FLEE_RATE = P["flee_rate"]
P_GUARD_CAPTURE_SHARE = P["guard_capture_share"]
P_HARDENED_SURRENDER_FACTOR = P["hardened_surrender_factor"]
P_HORIZON_H = P["horizon_h"]
P_HOSTAGE_HARM_RATE = P["hostage_harm_rate"]
P_INITIAL_RIOTER_SHARE = P["initial_rioter_share"]
P_MOVE_CELLS_PER_H = P["move_cells_per_h"]
P_PASSIVE_FLEE_FACTOR = P["passive_flee_factor"]
P_RIOT_CONTAGION_RATE = P["riot_contagion_rate"]
P_SEARCH_DECAY_H = P["search_decay_h"]
P_STRENGTH_EXTERNAL = P["strength_external"]
P_STRENGTH_INMATE = P["strength_inmate"]
P_STRENGTH_RESPONDER = P["strength_responder"]
P_SURRENDER_FATIGUE_H = P["surrender_fatigue_h"]
P_SURRENDER_RATE = P["surrender_rate"]


@njit(cache=True)
def key(consts, draw, tick):
    return stream_key(consts.seed_mixed, draw, tick)


@njit(cache=True)
def tick_start_h(scalars, consts):
    return (scalars[TICK] - 1.0) * consts.tick_h


# ----------------------------------------------------------------------------- events
@njit(cache=True)
def total_strengths(cells, inmates, guards, responders, external, consts, params):
    n_guards = 0
    for s in guards.state:
        if guard_active(s):
            n_guards += 1
    n_resp = 0
    for s in responders.state:
        if s == ENGAGED:
            n_resp += 1
    n_riot = 0
    for s in inmates.state:
        if s == RIOTING:
            n_riot += 1
    n_ext = 0
    for s in external.state:
        if external_active(s):
            n_ext += 1
    authority = consts.guard_strength * float(n_guards) + params[P_STRENGTH_RESPONDER] * float(
        n_resp
    )
    uprising = uprising_bonus(cells.cp_held, params) * (
        params[P_STRENGTH_INMATE] * float(n_riot) + params[P_STRENGTH_EXTERNAL] * float(n_ext)
    )
    return authority, uprising


@njit(cache=True)
def events(cells, inmates, guards, responders, external, consts, params, scalars, counts):
    tick = int(scalars[TICK])
    if tick == 1:
        k = key(consts, D_INITIAL_RISE, tick)
        share = params[P_INITIAL_RIOTER_SHARE]
        for i in range(inmates.state.shape[0]):
            if inmates.hardened[i] and inmates.state[i] == CONFINED:
                if uniform(k, inmates.uid[i]) < share:
                    c = inmates.pos[i]
                    recount(counts, K_INMATE, CONFINED, RIOTING, c, c)
                    inmates.state[i] = RIOTING
                    inmates.riot_since[i] = 0.0
                    inmates.last_change[i] = tick
    engaged = 0
    for i in range(responders.state.shape[0]):
        if responders.state[i] == STAGED and responders.arrival_tick[i] <= tick:
            c = responders.pos[i]
            recount(counts, K_RESPONDER, STAGED, ENGAGED, c, c)
            responders.state[i] = ENGAGED
            responders.last_change[i] = tick
        if responders.state[i] == ENGAGED:
            engaged += 1
    on = tick_start_h(scalars, consts) >= params[P_AIR_SUPPORT_H] - 1e-9
    scalars[AIR] = 1.0 if on else 0.0
    authority, uprising = total_strengths(
        cells, inmates, guards, responders, external, consts, params
    )
    if scalars[ASSAULT] != 0.0:
        assault = authority >= _ASSAULT_HOLD * uprising
    else:
        assault = authority >= params[P_ASSAULT_SUPERIORITY] * uprising and authority > 0
    scalars[ASSAULT] = 1.0 if assault else 0.0
    scalars[CORDON] = cordon_closure(
        engaged,
        consts.n_wall,
        params[P_CORDON_RESPONDERS_PER_CELL],
        params[P_CORDON_MAX],
        tick_start_h(scalars, consts),
        params[P_CORDON_BUILD_H],
    )


@njit(cache=True)
def cordon_closure(engaged, perimeter_cells, per_cell, c_max, hours, build_h):
    """Mirrors ``rules.cordon_closure``."""
    manned = c_max * -math.expm1(-engaged / (perimeter_cells * per_cell))
    if build_h <= 0.0:
        return manned
    return manned * -math.expm1(-hours / build_h)


# ----------------------------------------------------------------------------- external force
@njit(cache=True)
def external_force(grid, cells, inmates, external, fields, consts, params, scalars, closed, counts):
    n_active = 0
    lost = 0
    for s in external.state:
        if external_active(s):
            n_active += 1
        elif s == E_INCAP:
            lost += 1
    if n_active == 0:
        return
    tick = int(scalars[TICK])
    limit = params[P_EXTERNAL_WITHDRAW_LOSS_SHARE] * consts.external_initial
    hold = tick_start_h(scalars, consts) >= params[P_EXTERNAL_HOLD_H] - 1e-9
    if hold or (lost >= limit and limit > 0):
        for i in range(external.state.shape[0]):
            if external_active(external.state[i]):
                c = external.pos[i]
                recount(counts, K_EXTERNAL, external.state[i], WITHDRAWN, c, c)
                external.state[i] = WITHDRAWN
                external.last_change[i] = tick
        return
    refresh_structure_fields(grid, cells, inmates, fields, scalars, closed)
    _breach(grid, cells, external, fields, consts, params, scalars)
    _open_blocks(grid, cells, inmates, external, fields, scalars, closed, counts)
    if not closed_occupied_blocks(grid, cells, inmates, closed):
        for i in range(external.state.shape[0]):
            if external.state[i] == INSIDE:
                external.state[i] = HOLDING


@njit(cache=True)
def _breach(grid, cells, external, fields, consts, params, scalars):
    tick = int(scalars[TICK])
    kc = key(consts, D_CHOICE, tick)
    n = grid.block.shape[0]
    n_at = np.zeros(n, dtype=np.int64)
    any_at = False
    for i in range(external.state.shape[0]):
        s = external.state[i]
        if s != APPROACHING and s != BREACHING:
            continue
        pos = external.pos[i]
        nxt = choose_next_dist(pos, fields.ext, grid.neighbours, uniform(kc, external.uid[i]))
        at_wall = fields.intact[nxt] and nxt != pos
        external.state[i] = BREACHING if at_wall else APPROACHING
        if at_wall:
            n_at[nxt] += 1
            any_at = True
    if not any_at:
        return
    kb = key(consts, D_BREACH, tick)
    rate, team = params[P_BREACH_RATE], params[P_BREACH_TEAM_SIZE]
    for c in range(n):
        if n_at[c] == 0:
            continue
        hazard = rate * (1.0 - cells.integrity[c]) * min(1.0, n_at[c] / team)
        if uniform(kb, c) < probability(hazard, consts.tick_h):
            cells.breached[c] = True
            scalars[DIRTY] = 1.0


@njit(cache=True)
def _open_blocks(grid, cells, inmates, external, fields, scalars, closed, counts):
    closed_occupied_blocks(grid, cells, inmates, closed)
    wanted = np.zeros(closed.shape[0], dtype=np.bool_)
    for i in range(external.state.shape[0]):
        if external.state[i] == INSIDE and fields.ext[external.pos[i]] == 0:
            b = grid.adjacent_block[external.pos[i]]
            if b >= 0:
                wanted[b] = True
    for b in range(wanted.shape[0]):
        if wanted[b] and closed[b]:
            open_block(b, grid, cells, inmates, scalars, counts)


# ----------------------------------------------------------------------------- uprising
@njit(cache=True)
def _willing(state, block, block_open, occupancy, grievance, risk, auth, riot, attacked, params):
    """``uprising._willing`` for one inmate, from scalars (no arrays: called per inmate)."""
    out_of_control = not (state == CONFINED or state == AGITATED) or (block >= 0 and block_open)
    out_of_control = out_of_control or block < 0
    disturbance = 1.0 if out_of_control else (_DISTURBANCE if attacked else 0.0)
    raised = grievance + params[P_CROWDING] * (occupancy - 1.0)
    g_eff = min(max(raised + params[P_DISTURBANCE] * disturbance, 0.0), 1.0)
    arrest = 0.0  # no authority in view: no risk (the numpy engine's expm1(-0) is 0 too)
    if auth != 0.0:
        arrest = -math.expm1(-params[P_ARREST_K] * auth / (riot + 1.0))
    return g_eff - risk * arrest > params[P_THRESHOLD]


@njit(cache=True)
def _willing_at(i, inmates, block, block_open, occupancy_of, attacked, auth_v, riot_v, params):
    c = inmates.pos[i]
    b = block[c]
    return _willing(
        inmates.state[i],
        b,
        block_open[max(b, 0)],
        occupancy_of[max(b, 0)] if b >= 0 else 1.0,
        inmates.grievance[i],
        inmates.risk_aversion[i],
        auth_v[c],
        riot_v[c],
        attacked,
        params,
    )


@njit(cache=True)
def _attacked(cells, external):
    for v in cells.breached:
        if v:
            return True
    for s in external.state:
        if s == INSIDE or s == HOLDING:
            return True
    return False


@njit(cache=True)
def uprising(
    grid,
    cells,
    inmates,
    guards,
    external,
    fields,
    consts,
    params,
    scalars,
    counts,
    near_v,
    closed,
):
    """Agitation, joining the riot, block seizure and flight (``counts``: the head counts
    of the moment, kept current)."""
    which = (C_GUARDS, C_RESPONDERS, C_RIOTERS, C_ABLE)
    box_counts(counts, which, consts.width, consts.height, int(params[P_VISION]), near_v)
    w = weights(cells.cp_held, consts, params)
    n = counts.shape[1]
    auth_v = np.empty(n)
    for c in range(n):
        auth_v[c] = auth_strength(c, near_v, w)
    riot_v = near_v[C_RIOTERS].astype(np.float64)
    inm_v = near_v[C_ABLE].astype(np.float64)
    tick = int(scalars[TICK])
    t0 = tick_start_h(scalars, consts)
    start = inmates.state.copy()
    unchanged = inmates.last_change < tick
    attacked = _attacked(cells, external)
    block, block_open, occupancy_of = grid.block, cells.block_open, cells.block_occupancy
    for i in range(start.shape[0]):
        s = start[i]
        if (s == CONFINED or s == AGITATED) and unchanged[i] and inmates.calm_until[i] <= t0:
            agitated = _willing_at(
                i, inmates, block, block_open, occupancy_of, attacked, auth_v, riot_v, params
            )
            new = AGITATED if agitated else CONFINED
            recount(counts, K_INMATE, s, new, inmates.pos[i], inmates.pos[i])
            inmates.state[i] = new
    kr = key(consts, D_RIOT, tick)
    rate = params[P_RIOT_CONTAGION_RATE]
    joins = np.zeros(start.shape[0], dtype=np.bool_)
    p_join_max = probability(rate, consts.tick_h)  # the share of rioters is at most 1
    for i in range(start.shape[0]):
        if not unchanged[i]:
            continue
        if start[i] != AGITATED and start[i] != UNCONTROLLED:
            continue
        c = inmates.pos[i]
        if riot_v[c] == 0.0:
            continue  # no rioter in view: a hazard of 0 (no draw can succeed)
        u = uniform(kr, inmates.uid[i])  # keyed: drawing it first changes no other draw
        if u >= p_join_max:
            continue  # above the largest probability anyone has this tick (exact shortcut)
        if start[i] == UNCONTROLLED and not _willing_at(
            i, inmates, block, block_open, occupancy_of, attacked, auth_v, riot_v, params
        ):
            continue
        share = riot_v[c] / max(inm_v[c], 1.0)
        joins[i] = u < probability(rate * share, consts.tick_h)
    for i in np.flatnonzero(joins):
        recount(counts, K_INMATE, inmates.state[i], RIOTING, inmates.pos[i], inmates.pos[i])
        inmates.state[i] = RIOTING
        inmates.riot_since[i] = t0
        inmates.last_change[i] = tick
    _seize_blocks(grid, cells, inmates, guards, consts, params, scalars, start, counts)
    _flee(grid, cells, inmates, fields, consts, params, scalars, start, closed, counts)


@njit(cache=True)
def _seize_blocks(grid, cells, inmates, guards, consts, params, scalars, start, counts):
    nb = cells.block_open.shape[0]
    if cells.block_open.all():
        return  # nothing left to seize (most of a run): skip counting the rioters
    rioters = np.zeros(nb, dtype=np.int64)
    any_riot = False
    for i in range(start.shape[0]):
        if start[i] == RIOTING:
            any_riot = True
            b = grid.block[inmates.pos[i]]
            if b >= 0:
                rioters[b] += 1
    if not any_riot:
        return
    on = np.zeros(nb, dtype=np.int64)
    for i in range(guards.state.shape[0]):
        if guard_active(guards.state[i]):
            b = grid.block[guards.pos[i]]
            if b >= 0:
                on[b] += 1
    tick = int(scalars[TICK])
    k = key(consts, D_SEIZE, tick)
    rate, s_inmate = params[P_BLOCK_SEIZURE_RATE], params[P_STRENGTH_INMATE]
    seized = np.zeros(nb, dtype=np.bool_)
    for b in range(nb):
        if cells.block_open[b]:
            continue
        x = s_inmate * rioters[b] / (on[b] * consts.guard_strength + 1.0)
        hazard = rate * x / (1.0 + x)
        seized[b] = uniform(k, b) < probability(hazard, consts.tick_h)
    for b in range(nb):
        if seized[b]:
            open_block(b, grid, cells, inmates, scalars, counts)


@njit(cache=True)
def _flee(grid, cells, inmates, fields, consts, params, scalars, start, closed, counts):
    tick = int(scalars[TICK])
    any_eligible = False
    for i in range(start.shape[0]):
        if (start[i] == RIOTING or start[i] == UNCONTROLLED) and inmates.last_change[i] < tick:
            any_eligible = True
            break
    if not any_eligible:
        return
    refresh_structure_fields(grid, cells, inmates, fields, scalars, closed)
    k = key(consts, D_FLEE, tick)
    rate, passive = params[P_FLEE_RATE], params[P_PASSIVE_FLEE_FACTOR]
    cordon = scalars[CORDON]
    flee = np.zeros(start.shape[0], dtype=np.bool_)
    p_max = probability(rate * (1.0 - cordon) * max(passive, 1.0), consts.tick_h)
    for i in range(start.shape[0]):
        s = start[i]
        if not (s == RIOTING or s == UNCONTROLLED) or inmates.last_change[i] >= tick:
            continue
        if not np.isfinite(fields.flee[inmates.pos[i]]):
            continue
        u = uniform(k, inmates.uid[i])
        if u >= p_max:
            continue  # above the largest probability anyone has this tick (exact shortcut)
        factor = 1.0 if s == RIOTING else passive
        hazard = rate * (1.0 - inmates.risk_aversion[i]) * (1.0 - cordon) * factor
        flee[i] = u < probability(hazard, consts.tick_h)
    for i in np.flatnonzero(flee):
        recount(counts, K_INMATE, inmates.state[i], FLEEING, inmates.pos[i], inmates.pos[i])
        inmates.state[i] = FLEEING
        inmates.last_change[i] = tick


# ----------------------------------------------------------------------------- response
@njit(cache=True)
def response(
    grid,
    cells,
    inmates,
    guards,
    responders,
    external,
    consts,
    params,
    scalars,
    counts,
    near1,
    near_v,
):
    """Guards called out, retaking and surrender, the search outside, hostages
    (``counts``: the head counts of the moment, kept current)."""
    # Within vision only the rioters and the external force: the guards and responders in
    # view are those ``uprising`` summed (it moves no one and changes no guard or responder).
    vision = int(params[P_VISION])
    width, height = consts.width, consts.height
    box_counts(counts, (C_EXTERNAL, C_RIOTERS), width, height, 1, near1, vision, near_v)
    box_counts(counts, (C_GUARDS, C_RESPONDERS, C_TARGETS), width, height, 1, near1)
    tick = int(scalars[TICK])
    for i in range(guards.state.shape[0]):
        if guards.state[i] == ON_POST and upr_count(guards.pos[i], near_v) > 0:
            guards.state[i] = RESPONDING
    w = weights(cells.cp_held, consts, params)
    share, siege = params[P_SIEGE_PRESSURE_SHARE], 0.0
    if share > 0.0:  # counting the two sides costs a pass over every agent: only if used
        authority, uprising = total_strengths(
            cells, inmates, guards, responders, external, consts, params
        )
        siege = siege_pressure(authority, uprising, scalars[CORDON], share)
    rioters_out = _contain(grid, inmates, consts, params, scalars, counts, near1, near_v, w, siege)
    _search(inmates, consts, params, scalars)
    released = _hostages(guards, consts, params, scalars, counts, near1, tick)
    # Keep the contact counts (guards, responders, external force, rioters within one cell)
    # current for ``engagement``: only these two changes of this phase touch them.
    for c in rioters_out:
        shift_box(near1, C_RIOTERS, c, -1, width, height, 1)
    for c in released:
        recount(counts, K_GUARD, CAPTURED, RESPONDING, c, c)
        shift_box(near1, C_GUARDS, c, 1, width, height, 1)


@njit(cache=True)
def _contain(grid, inmates, consts, params, scalars, counts, near1, near_v, w, siege):
    """Retaking and surrender; returns the cells of the rioters it took out."""
    tick = int(scalars[TICK])
    t0 = tick_start_h(scalars, consts)
    # The uprising's presence per cell: its rioters plus the external force, as counted
    # at the start of this phase (nothing has changed them before this point).
    presence = counts[C_RIOTERS] + counts[C_EXTERNAL]
    contested = contested_zones(grid, presence, consts.n_zones)
    k = key(consts, D_CONTAIN, tick)
    rate, rate_s = params[P_CONTAIN_RATE], params[P_SURRENDER_RATE]
    fatigue, hard = params[P_SURRENDER_FATIGUE_H], params[P_HARDENED_SURRENDER_FACTOR]
    new = np.full(inmates.state.shape[0], -1, dtype=np.int64)
    for i in range(inmates.state.shape[0]):
        s = inmates.state[i]
        if not (s == AGITATED or s == UNCONTROLLED or s == RIOTING or s == FLEEING):
            continue
        if inmates.last_change[i] >= tick:
            continue
        c = inmates.pos[i]
        z = grid.zone_of[c]
        if s == UNCONTROLLED and z >= 0 and contested[z]:
            continue  # a zone the uprising holds: no retaking (a hazard of 0)
        outside = grid.is_outside[c]
        if outside or s == UNCONTROLLED:  # retaking is the reinforcements' work
            authority = float(near1[C_RESPONDERS, c]) * w[1]
        else:
            authority = auth_strength(c, near1, w)
        targets = float(near1[C_TARGETS, c])
        hazard = rate * authority / (upr_strength(c, near1, w) + max(targets, 1.0))
        if s == RIOTING:
            a, u = auth_strength(c, near_v, w), upr_strength(c, near_v, w)
            pressure = a / max(a + u, 1e-12) if a > 0 else 0.0
            if not outside:
                pressure = max(pressure, siege)
            factor = hard if inmates.hardened[i] else 1.0
            hours = t0 - inmates.riot_since[i]
            hazard = hazard + rate_s * pressure * (1.0 + hours / fatigue) * factor
        if hazard > 0.0 and uniform(k, inmates.uid[i]) < probability(hazard, consts.tick_h):
            if s == AGITATED:
                new[i] = CONFINED
            else:
                new[i] = RECAPTURED if outside else SURRENDERED
    t_h = scalars[TICK] * consts.tick_h
    calm = params[P_CALM_PERIOD_H]
    changed = np.flatnonzero(new >= 0)
    rioters_out = np.empty(changed.shape[0], dtype=np.int64)
    n_out = 0
    for i in changed:
        if inmates.state[i] == RIOTING:
            rioters_out[n_out] = inmates.pos[i]
            n_out += 1
        recount(counts, K_INMATE, inmates.state[i], new[i], inmates.pos[i], inmates.pos[i])
        inmates.state[i] = new[i]
        inmates.last_change[i] = tick
        if new[i] == CONFINED:
            inmates.calm_until[i] = t_h + calm
    return rioters_out[:n_out]


@njit(cache=True)
def siege_pressure(authority_total, uprising_total, cordon, share):
    """Mirrors ``rules.siege_pressure``."""
    if authority_total <= 0.0:
        return 0.0
    return share * cordon * authority_total / (authority_total + uprising_total)


@njit(cache=True)
def search_start_h(escaped_at, arrival_h):
    """``response.search_start_h`` for one fugitive."""
    return max(escaped_at, arrival_h)


@njit(cache=True)
def search_integral(start, t0, t1, rate, decay):
    """``rules.search_hazard_integral`` for one fugitive."""
    a = max(t0 - start, 0.0)
    b = max(t1 - start, 0.0)
    return rate * decay * (math.exp(-a / decay) - math.exp(-b / decay))


@njit(cache=True)
def search_bound(t0, t1, rate, decay):
    """At least :func:`search_integral` over [t0, t1] whatever the start, and so at least the
    chance of recapture (1 - e^-x <= x): the hazard never exceeds ``rate``, so the integral
    is at most rate (t1 - t0); the margin covers the rounding of the exponentials and
    differences (of order 1e-16 relative to t1 and decay)."""
    return rate * ((t1 - t0) + 1e-9 * (1.0 + abs(t1) + decay))


@njit(cache=True)
def _search(inmates, consts, params, scalars):
    tick = int(scalars[TICK])
    t1 = scalars[TICK] * consts.tick_h
    k = key(consts, D_SEARCH, tick)
    rate, decay = params[P_AT_LARGE_RECAPTURE_RATE], params[P_SEARCH_DECAY_H]
    arrival_h = (consts.first_arrival_tick - 1) * consts.tick_h
    bound = search_bound(t1 - consts.tick_h, t1, rate, decay)
    for i in range(inmates.state.shape[0]):
        if inmates.state[i] != ESCAPED or inmates.last_change[i] >= tick:
            continue
        u = uniform(k, inmates.uid[i])
        if u >= bound:
            continue  # above any fugitive's chance this tick (exact shortcut)
        start = search_start_h(inmates.escaped_at[i], arrival_h)
        integral = search_integral(start, t1 - consts.tick_h, t1, rate, decay)
        if u < -math.expm1(-integral):
            inmates.state[i] = RECAPTURED
            inmates.last_change[i] = tick


@njit(cache=True)
def _hostages(guards, consts, params, scalars, counts, near1, tick):
    """Hostages freed or harmed; returns the cells of those freed, for the caller to
    recount after this loop (its decisions read the head counts of the phase's start)."""
    k = key(consts, D_HOSTAGE, tick)
    harm = probability(params[P_HOSTAGE_HARM_RATE], consts.tick_h)
    released = np.empty(guards.state.shape[0], dtype=np.int64)
    n_released = 0
    for i in range(guards.state.shape[0]):
        if guards.state[i] != CAPTURED or guards.last_change[i] >= tick:
            continue
        c = guards.pos[i]
        if auth_count(c, counts) > 0 and upr_count(c, near1) == 0:
            guards.state[i] = RESPONDING
            guards.last_change[i] = tick
            released[n_released] = c
            n_released += 1
        elif uniform(k, guards.uid[i]) < harm:
            guards.state[i] = G_INCAP
            guards.last_change[i] = tick
    return released[:n_released]


# ----------------------------------------------------------------------------- engagement
@njit(cache=True)
def engagement(
    cells, inmates, guards, responders, external, consts, params, scalars, counts, near1
):
    """Attrition in contact, from the contact counts ``response`` leaves in ``near1``."""
    a_s, a_n, u_s, u_n, i_s = _contact_sums(cells, consts, params, near1)
    tick = int(scalars[TICK])
    k = key(consts, D_ATTRITION, tick)
    rate, dt = params[P_ATTRITION_RATE], consts.tick_h
    g_hit = _hits(guards, 0, u_s, a_n, rate, k, dt, tick)
    r_hit = _hits(responders, 1, u_s, a_n, rate, k, dt, tick)
    e_hit = _hits(external, 2, a_s, u_n, rate, k, dt, tick)
    i_hit = _hits(inmates, 3, a_s, u_n, rate, k, dt, tick)
    if scalars[AIR] != 0.0:
        ka = key(consts, D_AIR, tick)
        p_air = probability(params[P_AIR_SUPPORT_RATE], dt)
        for i in range(external.state.shape[0]):
            if external_active(external.state[i]) and external.last_change[i] < tick:
                if uniform(ka, external.uid[i]) < p_air:
                    e_hit[i] = True
    kc = key(consts, D_CAPTURE, tick)
    share = params[P_GUARD_CAPTURE_SHARE]
    for i in np.flatnonzero(g_hit):
        c = guards.pos[i]
        by_inmates = i_s[c] / max(u_s[c], 1e-12)
        captured = uniform(kc, guards.uid[i]) < by_inmates * share
        new = CAPTURED if captured else G_INCAP
        recount(counts, K_GUARD, guards.state[i], new, c, c)
        guards.state[i] = new
        guards.last_change[i] = tick
    _set_state(responders, K_RESPONDER, r_hit, R_INCAP, tick, counts)
    _set_state(external, K_EXTERNAL, e_hit, E_INCAP, tick, counts)
    _set_state(inmates, K_INMATE, i_hit, I_INCAP, tick, counts)


@njit(cache=True)
def _contact_sums(cells, consts, params, near1):
    """Per cell, over its 3x3 neighbourhood: authority strength and count, uprising strength
    and count, and the rioters' part of the uprising's strength.

    ``near1`` holds the guards, responders, external force and rioters within one cell as
    they are now: ``response`` sums them at its start and follows its own changes of them,
    and nothing between the two phases changes an agent's state or cell."""
    w = weights(cells.cp_held, consts, params)
    n = near1.shape[1]
    a_s, a_n, u_s, u_n, i_s = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for c in range(n):
        a_s[c] = auth_strength(c, near1, w)
        a_n[c] = auth_count(c, near1)
        u_s[c] = upr_strength(c, near1, w)
        u_n[c] = upr_count(c, near1)
        i_s[c] = float(near1[C_RIOTERS, c]) * w[2]
    return a_s, a_n, u_s, u_n, i_s


@njit(cache=True)
def _set_state(group, kind, chosen, state, tick, counts):
    for i in np.flatnonzero(chosen):
        recount(counts, kind, group.state[i], state, group.pos[i], group.pos[i])
        group.state[i] = state
        group.last_change[i] = tick


@njit(cache=True)
def _on_side(kind, state):
    if kind == 0:
        return guard_active(state)
    if kind == 1:
        return state == ENGAGED
    if kind == 2:
        return external_active(state)
    return state == RIOTING


@njit(cache=True)
def _hits(group, kind, enemy, own, rate, k, dt, tick):
    """Agents of one group hit this tick: ``rules.attrition_hazard`` against keyed draws."""
    state, pos, uid, last_change = group.state, group.pos, group.uid, group.last_change
    hit = np.zeros(state.shape[0], dtype=np.bool_)
    for i in range(state.shape[0]):
        if not _on_side(kind, state[i]) or last_change[i] >= tick:
            continue
        c = pos[i]
        if enemy[c] == 0.0:
            continue  # no opponent in contact
        hazard = rate * enemy[c] / max(own[c], 1.0) * 1.0
        hit[i] = uniform(k, uid[i]) < probability(hazard, dt)
    return hit


# ----------------------------------------------------------------------------- movement
@njit(cache=True)
def _earn(credit, i, moving, step):
    """Earn movement credit while moving (capped), lose it when not; whether agent ``i``
    has earned a hop."""
    if not moving:
        credit[i] = 0.0
        return False
    credit[i] = min(credit[i] + step, 1.0 + step)
    return credit[i] >= 1.0 - 1e-9


@njit(cache=True)
def _ready_inmates(inmates, step, flee_ready, seek_ready):
    """Movement credit of the inmates; the fleeing and the hardened rioters who earned a hop
    into ``flee_ready`` and ``seek_ready``, in index order. Returns both counts."""
    state, hardened, credit = inmates.state, inmates.hardened, inmates.credit
    n_flee = n_seek = 0
    for i in range(state.shape[0]):
        flee = state[i] == FLEEING
        seek = state[i] == RIOTING and hardened[i]
        if not _earn(credit, i, flee or seek, step):
            continue
        if flee:
            flee_ready[n_flee] = i
            n_flee += 1
        else:
            seek_ready[n_seek] = i
            n_seek += 1
    return n_flee, n_seek


@njit(cache=True)
def _ready_agents(kind, group, step, ready):
    """Movement credit of the external force (kind 2: approaching or inside), guards (3:
    responding) or responders (4: engaged); those who earned a hop into ``ready``."""
    state, credit = group.state, group.credit
    n_ready = 0
    for i in range(state.shape[0]):
        s = state[i]
        if kind == 2:
            moving = s == APPROACHING or s == INSIDE
        elif kind == 3:
            moving = s == RESPONDING
        else:
            moving = s == ENGAGED
        if _earn(credit, i, moving, step):
            ready[n_ready] = i
            n_ready += 1
    return n_ready


@njit(cache=True)
def _plan(kind, ready, group, dist, neighbours, intact, keys, plan, m):
    """Append the hops of the ``ready`` movers of one kind to ``plan`` (index, kind, target,
    priority) from position ``m``; returns the new length."""
    pos, uid = group.pos, group.uid
    out_idx, out_kind, out_target, out_prio = plan
    kc, kp = keys
    for i in ready:
        own = dist[pos[i]]
        if not (0.0 < own < INF):
            continue  # at a goal or cut off: no neighbour is nearer (no draw needed)
        nxt = choose_next_dist(pos[i], dist, neighbours, uniform(kc, uid[i]))
        if nxt == pos[i] or (kind == 2 and intact[nxt]):
            continue
        out_idx[m] = i
        out_kind[m] = kind
        out_target[m] = nxt
        out_prio[m] = uniform(kp, uid[i])
        m += 1
    return m


@njit(cache=True)
def occupancy(n, inmates, guards, responders, external):
    occ = np.zeros(n, dtype=np.int64)
    for i in range(inmates.state.shape[0]):
        if inmate_present(inmates.state[i]):
            occ[inmates.pos[i]] += 1
    for i in range(guards.state.shape[0]):
        if guards.state[i] != G_INCAP:
            occ[guards.pos[i]] += 1
    for i in range(responders.state.shape[0]):
        if responders.state[i] == ENGAGED:
            occ[responders.pos[i]] += 1
    for i in range(external.state.shape[0]):
        if external_active(external.state[i]):
            occ[external.pos[i]] += 1
    return occ


@njit(cache=True)
def movement(
    grid,
    cells,
    inmates,
    guards,
    responders,
    external,
    fields,
    consts,
    params,
    scalars,
    closed,
    counts,
):
    tick = int(scalars[TICK])
    keys = (key(consts, D_CHOICE, tick), key(consts, D_PRIORITY, tick))
    step = params[P_MOVE_CELLS_PER_H] * consts.tick_h
    n_inmates = inmates.state.shape[0]
    total = n_inmates + external.state.shape[0] + guards.state.shape[0]
    total += responders.state.shape[0]
    plan = (
        np.empty(total, dtype=np.int64),  # agent index
        np.empty(total, dtype=np.int64),  # mover kind
        np.empty(total, dtype=np.int64),  # target cell
        np.empty(total),  # keyed priority
    )
    # Who earned a hop first (it reads no field), so only the fields they use are updated.
    flee_ready = np.empty(n_inmates, dtype=np.int64)
    seek_ready = np.empty(n_inmates, dtype=np.int64)
    n_flee, n_seek = _ready_inmates(inmates, step, flee_ready, seek_ready)
    ext_ready = np.empty(external.state.shape[0], dtype=np.int64)
    n_ext = _ready_agents(2, external, step, ext_ready)
    guard_ready = np.empty(guards.state.shape[0], dtype=np.int64)
    n_guard = _ready_agents(3, guards, step, guard_ready)
    resp_ready = np.empty(responders.state.shape[0], dtype=np.int64)
    n_resp = _ready_agents(4, responders, step, resp_ready)
    refresh_structure_fields(grid, cells, inmates, fields, scalars, closed)
    nb = grid.neighbours
    guard_cells = _read_cells(guards.pos, guard_ready[:n_guard], nb)
    resp_cells = _read_cells(responders.pos, resp_ready[:n_resp], nb)
    refresh_authority_fields(
        grid, cells, inmates, guards, fields, consts, scalars, guard_cells, resp_cells, counts
    )
    intact = fields.intact
    m = _plan(0, flee_ready[:n_flee], inmates, fields.flee, nb, intact, keys, plan, 0)
    m = _plan(1, seek_ready[:n_seek], inmates, fields.cp, nb, intact, keys, plan, m)
    m = _plan(2, ext_ready[:n_ext], external, fields.ext, nb, intact, keys, plan, m)
    m = _plan(3, guard_ready[:n_guard], guards, fields.guard, nb, intact, keys, plan, m)
    m = _plan(4, resp_ready[:n_resp], responders, fields.responder, nb, intact, keys, plan, m)
    if m > 0:
        idx, kind, target, prio = plan[0][:m], plan[1][:m], plan[2][:m], plan[3][:m]
        n = grid.block.shape[0]
        movers = (inmates, guards, responders, external)
        _resolve(n, consts.cell_capacity, movers, idx, kind, target, prio, counts)
    _arrive(grid, inmates, external, scalars, consts, counts)


@njit(cache=True)
def _read_cells(pos, ready, neighbours):
    """The cells whose distances the ``ready`` movers read: each one's cell and neighbours
    (with repeats; -1 for no neighbour left out)."""
    out = np.empty(ready.shape[0] * (neighbours.shape[1] + 1), dtype=np.int64)
    k = 0
    for i in ready:
        c = pos[i]
        out[k] = c
        k += 1
        for j in range(neighbours.shape[1]):
            if neighbours[c, j] >= 0:
                out[k] = neighbours[c, j]
                k += 1
    return out[:k]


@njit(cache=True)
def _resolve(n, capacity, movers, idx, kind, target, prio, counts):
    """Accept hops in order of (target cell, keyed priority) while the target has room."""
    inmates, guards, responders, external = movers
    free = np.maximum(capacity - occupancy(n, inmates, guards, responders, external), 0)
    order = np.argsort(target + prio, kind="mergesort")
    taken = np.zeros(n, dtype=np.int64)
    for j in order:
        t = target[j]
        if taken[t] >= free[t]:
            continue
        taken[t] += 1
        i, k = idx[j], kind[j]
        if k <= 1:
            _hop(inmates, K_INMATE, i, t, counts)
        elif k == 2:
            _hop(external, K_EXTERNAL, i, t, counts)
        elif k == 3:
            _hop(guards, K_GUARD, i, t, counts)
        else:
            _hop(responders, K_RESPONDER, i, t, counts)


@njit(cache=True)
def _hop(group, kind, i, target, counts):
    """Agent ``i`` of a group moves to ``target``, paying one hop of its credit."""
    recount(counts, kind, group.state[i], group.state[i], group.pos[i], target)
    group.pos[i] = target
    group.credit[i] -= 1.0


@njit(cache=True)
def _arrive(grid, inmates, external, scalars, consts, counts):
    tick = int(scalars[TICK])
    t_h = scalars[TICK] * consts.tick_h
    for i in range(inmates.state.shape[0]):
        if inmates.state[i] != FLEEING:
            continue
        c = inmates.pos[i]
        if grid.is_outside[c]:
            inmates.left_custody[i] = True
        if grid.is_cordon[c]:
            recount(counts, K_INMATE, FLEEING, ESCAPED, c, c)
            inmates.state[i] = ESCAPED
            inmates.escaped_at[i] = t_h
            inmates.last_change[i] = tick
    for i in range(external.state.shape[0]):
        if external.state[i] == APPROACHING and grid.is_interior[external.pos[i]]:
            external.state[i] = INSIDE


# ----------------------------------------------------------------------------- bookkeeping
@njit(cache=True)
def bookkeeping(grid, cells, inmates, guards, external, consts, params, scalars, counts):
    n = grid.block.shape[0]
    upr = counts[C_RIOTERS] + counts[C_EXTERNAL]  # ``uprising_presence``, kept current
    auth = counts[C_GUARDS] + counts[C_RESPONDERS]
    t = scalars[TICK] * consts.tick_h
    held_interior = 0
    for c in range(n):
        if upr[c] > 0 and auth[c] == 0 and grid.is_interior[c]:
            cells.held_until[c] = t + _HELD_MEMORY
        if auth[c] > 0 and upr[c] == 0:
            cells.held_until[c] = -np.inf
        if grid.is_interior[c] and cells.held_until[c] > t:
            held_interior += 1
    changed = False
    any_held = False
    for j in range(grid.control_cells.shape[0]):
        h = cells.held_until[grid.control_cells[j]] > t
        changed = changed or h != cells.cp_held[j]
        cells.cp_held[j] = h
        any_held = any_held or h
    if changed:
        scalars[GATE_OPEN] = 1.0 if any_held else 0.0
        scalars[DIRTY] = 1.0
    scalars[MINORS] += _minors_exposed(grid, inmates, upr, consts) * consts.tick_h
    scalars[PEAK_HELD] = max(scalars[PEAK_HELD], held_interior / consts.n_interior)
    captured = 0
    for s in guards.state:
        if s == CAPTURED:
            captured += 1
    scalars[PEAK_CAPTURED] = max(scalars[PEAK_CAPTURED], float(captured))
    if _control_restored(grid, inmates, external):
        scalars[RESTORED] = 1.0
        scalars[HOURS] = t
        restore_control(grid, inmates, t, counts)
        scalars[FINISHED] = 1.0
    elif scalars[TICK] >= consts.max_ticks:
        scalars[FINISHED] = 1.0


@njit(cache=True)
def _minors_exposed(grid, inmates, upr, consts):
    contested = contested_zones(grid, upr, consts.n_zones)
    count = 0
    for i in range(inmates.state.shape[0]):
        if inmates.minor[i] and inmate_present(inmates.state[i]):
            z = grid.zone_of[inmates.pos[i]]
            if z >= 0 and contested[z]:
                count += 1
    return count


@njit(cache=True)
def _control_restored(grid, inmates, external):
    for i in range(inmates.state.shape[0]):
        s = inmates.state[i]
        if (s == RIOTING or s == FLEEING) and not grid.is_outside[inmates.pos[i]]:
            return False
    for s in external.state:
        if external_active(s):
            return False
    return True


@njit(cache=True)
def restore_control(grid, inmates, t, counts):
    """``bookkeeping.restore_control``: retake those inside, count those outside as escaped."""
    for i in range(inmates.state.shape[0]):
        s, c = inmates.state[i], inmates.pos[i]
        if s == UNCONTROLLED:
            recount(counts, K_INMATE, s, SURRENDERED, c, c)
            inmates.state[i] = SURRENDERED
        elif s == FLEEING and grid.is_outside[c]:
            recount(counts, K_INMATE, s, ESCAPED, c, c)
            inmates.state[i] = ESCAPED
            inmates.escaped_at[i] = t


# ----------------------------------------------------------------------------- a tick
@njit(cache=True)
def run_ticks(
    n_ticks, grid, cells, inmates, guards, responders, external, fields, consts, params, scalars
):
    """Run up to ``n_ticks`` ticks of the seven phases; stop early when the run ends.
    Returns the ticks run."""
    n = grid.block.shape[0]
    counts = np.zeros((N_COUNTS, n), dtype=np.int64)
    near1 = np.zeros((N_COUNTS, n), dtype=np.int64)
    near_v = np.zeros((N_COUNTS, n), dtype=np.int64)
    closed = np.zeros(cells.block_open.shape[0], dtype=np.bool_)
    # Counted once here, then kept current by every change of state or cell (``recount``).
    cell_counts(inmates, guards, responders, external, counts)
    done = 0
    for _ in range(n_ticks):
        scalars[TICK] += 1.0
        events(cells, inmates, guards, responders, external, consts, params, scalars, counts)
        external_force(
            grid, cells, inmates, external, fields, consts, params, scalars, closed, counts
        )
        uprising(
            grid,
            cells,
            inmates,
            guards,
            external,
            fields,
            consts,
            params,
            scalars,
            counts,
            near_v,
            closed,
        )
        response(
            grid,
            cells,
            inmates,
            guards,
            responders,
            external,
            consts,
            params,
            scalars,
            counts,
            near1,
            near_v,
        )
        engagement(
            cells, inmates, guards, responders, external, consts, params, scalars, counts, near1
        )
        movement(
            grid,
            cells,
            inmates,
            guards,
            responders,
            external,
            fields,
            consts,
            params,
            scalars,
            closed,
            counts,
        )
        bookkeeping(grid, cells, inmates, guards, external, consts, params, scalars, counts)
        done += 1
        if scalars[FINISHED] != 0.0:
            break
    return done
