"""Who is where at the start of a run (ODD section 5), from the parameters and keyed draws.

Every random choice here draws from the run's keyed streams with the agent's own id
(:mod:`sim.model.streams`), so an agent is the same person in every policy arm: the same
adult is hardened, has the same grievance and sits in the same cell whatever the staffing,
and repatriation removes nested sets (those removed at a share of 0.25 are among those
removed at 0.5).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.states import External, Guard, Inmate, Origin, Responder
from sim.model.streams import Draw, Group, agent_ids

if TYPE_CHECKING:
    from sim.model.world import AgentArrays, World

HARDENED_RISK_AVERSION_FACTOR = 0.5
"""Risk aversion of a hardened inmate is its uniform draw times this: hardened detainees
weigh the risk of being stopped at half the weight others do (assumption, as in the first
version; calibration acts through ``hardened_share`` and ``hardened_grievance`` instead)."""

GATE_POST_SHARE = 0.1
"""Expected share of guards posted at the gate (assumption; no public figure)."""

CONTROL_POST_SHARE = 0.1
"""Expected share of guards posted at the two control points (assumption)."""

MINOR_ID_OFFSET = 1 << 20
"""Minors' ids start here, so the number of adults does not shift the minors' draws."""

SECOND_GROUP_ID_OFFSET = 1 << 20
"""Ids of the second reinforcement group start here (same reason)."""


def _arrays(**arrays: np.ndarray) -> AgentArrays:
    from sim.model.world import AgentArrays

    return AgentArrays(**arrays)


def _origin_probs(p: dict) -> np.ndarray:
    iraqi, third = p["iraqi_share"], p["third_country_share"]
    return np.array([1.0 - iraqi - third, iraqi, third])


def _adult_origins(n_adult: int, p: dict) -> np.ndarray:
    """Origins in exact proportions by id: syrian, then iraqi, then third-country."""
    n_iraqi = round(n_adult * p["iraqi_share"])
    n_third = round(n_adult * p["third_country_share"])
    return np.repeat(
        np.array([Origin.SYRIAN, Origin.IRAQI, Origin.THIRD_COUNTRY], dtype=np.int8),
        [n_adult - n_iraqi - n_third, n_iraqi, n_third],
    )


def _repatriated(w: World, ids: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Mask of adults removed beforehand: in each foreign group, the ``repatriation_count``
    with the smallest keyed uniforms (so larger shares remove supersets)."""
    removed = np.zeros(len(ids), dtype=bool)
    u = w.uniform(Draw.REPATRIATION, ids, tick=0)
    for group in (Origin.IRAQI, Origin.THIRD_COUNTRY):
        members = np.flatnonzero(origin == group)
        k = rules.repatriation_count(len(members), w.p["repatriation_share"])
        removed[members[np.argsort(u[members], kind="stable")[:k]]] = True
    return removed


def create_inmates(w: World) -> AgentArrays:
    """Adults and minors present at the start (ODD section 5, steps 3-7)."""
    p, L = w.p, w.layout
    n_adult = int(p["inmates_adult"])
    adult_ids = agent_ids(Group.INMATE, n_adult)
    origin = _adult_origins(n_adult, p)
    foreign = origin != Origin.SYRIAN
    p_syr, p_for = rules.hardened_probabilities(
        p["hardened_share"], float(foreign.mean()) if n_adult else 0.0, p["foreign_hardened_ratio"]
    )
    hardened = w.uniform(Draw.HARDENED, adult_ids, tick=0) < np.where(foreign, p_for, p_syr)
    block = np.arange(n_adult) % L.n_blocks  # even over blocks, by id
    keep = ~_repatriated(w, adult_ids, origin)
    n_minor = 0 if p["separate_minors"] else int(p["inmates_minor"])
    minor_ids = agent_ids(Group.INMATE, n_minor, start=MINOR_ID_OFFSET)
    cdf = np.cumsum(_origin_probs(p))
    u_origin = w.uniform(Draw.MINOR_ORIGIN, minor_ids, tick=0)
    minor_origin = np.minimum(np.searchsorted(cdf, u_origin, side="right"), 2).astype(np.int8)
    ids = np.r_[adult_ids[keep], minor_ids]
    n = len(ids)
    origin = np.r_[origin[keep], minor_origin]
    minor = np.r_[np.zeros(int(keep.sum()), bool), np.ones(n_minor, bool)]
    hardened = np.r_[hardened[keep], np.zeros(n_minor, bool)]
    block = np.r_[block[keep], np.full(n_minor, L.n_blocks)]
    pos = _cells_in_blocks(w, ids, block)
    grievance = (
        w.uniform(Draw.GRIEVANCE, ids, tick=0) * (1 - p["legitimacy"])
        + hardened * p["hardened_grievance"]
        + ((origin != Origin.SYRIAN) & ~minor) * p["foreign_grievance"]
    )
    risk = w.uniform(Draw.RISK_AVERSION, ids, tick=0) * np.where(
        hardened, HARDENED_RISK_AVERSION_FACTOR, 1.0
    )
    return _arrays(
        state=np.full(n, Inmate.CONFINED, dtype=np.int8),
        pos=pos,
        uid=ids,
        origin=origin,
        minor=minor,
        hardened=hardened,
        grievance=grievance,
        risk_aversion=risk,
        left_custody=np.zeros(n, dtype=bool),
        calm_until=np.full(n, -np.inf),
        riot_since=np.full(n, np.nan),
        escaped_at=np.full(n, np.nan),
        last_change=np.zeros(n, dtype=np.int64),
        credit=np.zeros(n),
    )


def _cells_in_blocks(w: World, ids: np.ndarray, block: np.ndarray) -> np.ndarray:
    """A keyed, uniformly random cell of each agent's block."""
    cells_of = w.layout.block_cells
    u = w.uniform(Draw.INMATE_CELL, ids, tick=0)
    pos = np.empty(len(ids), dtype=np.int64)
    for b, cells in enumerate(cells_of):
        members = np.flatnonzero(block == b)
        pos[members] = cells[(u[members] * len(cells)).astype(np.int64)]
    return pos


def block_occupancy(w: World) -> np.ndarray:
    """Occupants / design capacity of each block: ``capacity / housing_blocks`` for adult
    blocks (the declared capacity, not the drawn grid); the wing against its drawn size."""
    L, p = w.layout, w.p
    occupants = np.bincount(L.block[w.inmates.pos], minlength=L.n_blocks + 1)
    design = np.full(L.n_blocks + 1, p["capacity"] / L.n_blocks, dtype=float)
    design[L.n_blocks] = len(L.block_cells[L.n_blocks]) * p["persons_per_cell"]
    return occupants / design


def create_guards(w: World) -> AgentArrays:
    """Guards = max(1, round(guards_per_100_inmates x present / 100)), on post.

    Each guard's post is its own keyed draw: the gate with probability GATE_POST_SHARE, a
    control point with CONTROL_POST_SHARE, else a block chosen in proportion to its
    occupants, at a random cell. Adding guards therefore adds posts without moving the
    others (common random numbers across staffing levels).
    """
    L, im = w.layout, w.inmates
    n = max(1, round(w.p["guards_per_100_inmates"] * len(im) / 100))
    ids = agent_ids(Group.GUARD, n)
    u_post = w.uniform(Draw.GUARD_POST, ids, tick=0)
    u_block = w.uniform(Draw.GUARD_BLOCK, ids, tick=0)
    u_cell = w.uniform(Draw.GUARD_CELL, ids, tick=0)
    occupants = np.bincount(L.block[im.pos], minlength=L.n_blocks + 1).astype(float)
    pos = np.full(n, L.gate_cell, dtype=np.int64)
    at_cp = (u_post >= GATE_POST_SHARE) & (u_post < GATE_POST_SHARE + CONTROL_POST_SHARE)
    cps = L.control_cells
    pos[at_cp] = cps[(u_cell[at_cp] * len(cps)).astype(np.int64)]
    in_block = (u_post >= GATE_POST_SHARE + CONTROL_POST_SHARE) & (occupants.sum() > 0)
    if in_block.any():
        cdf = np.cumsum(occupants) / occupants.sum()
        block = np.minimum(np.searchsorted(cdf, u_block[in_block], side="right"), len(cdf) - 1)
        for b in np.unique(block):
            cells = L.block_cells[b]
            sel = np.flatnonzero(in_block)[block == b]
            pos[sel] = cells[(u_cell[sel] * len(cells)).astype(np.int64)]
    return _arrays(
        state=np.full(n, Guard.ON_POST, dtype=np.int8),
        pos=pos,
        post=pos.copy(),
        uid=ids,
        last_change=np.zeros(n, dtype=np.int64),
        credit=np.zeros(n),
    )


def _spread(cells: np.ndarray, n: int) -> np.ndarray:
    """``n`` positions spread evenly along a row of cells (deterministic)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return cells[np.linspace(0, len(cells) - 1, n).round().astype(int)].astype(np.int64)


def create_responders(w: World) -> AgentArrays:
    """Two reinforcement groups staged at the south cordon edge (the gate side).

    Group 0 (``responder_size``) arrives at the warning-adjusted ``responder_arrival_h``,
    group 1 (``ground_support_size``) at ``ground_support_h``; an agent arriving at hour h
    is engaged from tick ``max(1, ceil(h / tick))``.
    """
    p = w.p
    sizes = [int(p["responder_size"]), int(p["ground_support_size"])]
    arrival_h = [w.responder_arrival_h, p["ground_support_h"]]
    arrival_tick = np.concatenate(
        [
            np.full(k, max(1, math.ceil(h / w.tick_h - 1e-9)))
            for k, h in zip(sizes, arrival_h, strict=True)
        ]
    ).astype(np.int64)
    ids = np.r_[
        agent_ids(Group.RESPONDER, sizes[0]),
        agent_ids(Group.RESPONDER, sizes[1], start=SECOND_GROUP_ID_OFFSET),
    ]
    n = len(ids)
    return _arrays(
        state=np.full(n, Responder.STAGED, dtype=np.int8),
        pos=_spread(w.layout.south_cordon_cells, n),
        uid=ids,
        arrival_tick=arrival_tick,
        group=np.repeat([0, 1], sizes).astype(np.int8),
        last_change=np.zeros(n, dtype=np.int64),
        credit=np.zeros(n),
    )


def create_external(w: World) -> AgentArrays:
    """The external force, spread along the north cordon edge, approaching from tick 1."""
    n = int(w.p["attackers"])
    return _arrays(
        state=np.full(n, External.APPROACHING, dtype=np.int8),
        pos=_spread(w.layout.north_cordon_cells, n),
        uid=agent_ids(Group.EXTERNAL, n),
        last_change=np.zeros(n, dtype=np.int64),
        credit=np.zeros(n),
    )
