"""The compiled engine's view of a :class:`~sim.model.world.World`: named tuples of the
same arrays (no copies), a parameter vector and a few constants.

Numba compiles functions over these tuples; every array is the World's own, so the
compiled phases and the numpy phases read and write one state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.layout import Zone
from sim.model.streams import mix
from sim.model.world import World

PARAM_NAMES = (
    "step_minutes",
    "horizon_h",
    "move_cells_per_h",
    "vision_cells",
    "arrest_k",
    "crowding_gain",
    "disturbance_gain",
    "agitation_threshold",
    "riot_contagion_rate",
    "flee_rate",
    "passive_flee_factor",
    "block_seizure_rate",
    "calm_period_h",
    "contain_rate",
    "surrender_rate",
    "surrender_fatigue_h",
    "siege_pressure_share",
    "hardened_surrender_factor",
    "cordon_max",
    "cordon_responders_per_cell",
    "cordon_build_h",
    "at_large_recapture_rate",
    "search_decay_h",
    "air_support_h",
    "air_support_rate",
    "assault_superiority",
    "breach_rate",
    "breach_team_size",
    "external_hold_h",
    "external_withdraw_loss_share",
    "strength_inmate",
    "strength_external",
    "strength_responder",
    "control_point_bonus",
    "guard_capture_share",
    "hostage_harm_rate",
    "initial_rioter_share",
    "attrition_rate",
)
"""Parameters the compiled phases read, in the order of the vector they get."""

P = {name: i for i, name in enumerate(PARAM_NAMES)}


class Grid(NamedTuple):
    neighbours: np.ndarray  # (n, 8) int32, -1 off the grid
    block: np.ndarray  # int16: block or wing index, -1 elsewhere
    is_interior: np.ndarray
    is_outside: np.ndarray
    is_wall: np.ndarray
    is_cordon: np.ndarray
    is_gate: np.ndarray
    yard_or_control: np.ndarray
    zone_of: np.ndarray  # int64: zone (blocks, wing, yard) or -1
    adjacent_block: np.ndarray  # int16
    cordon_ring: np.ndarray
    control_cells: np.ndarray  # int64


class Cells(NamedTuple):
    integrity: np.ndarray
    breached: np.ndarray
    block_open: np.ndarray
    held_until: np.ndarray
    cp_held: np.ndarray
    block_occupancy: np.ndarray


class Inmates(NamedTuple):
    state: np.ndarray
    pos: np.ndarray
    uid: np.ndarray
    last_change: np.ndarray
    credit: np.ndarray
    hardened: np.ndarray
    minor: np.ndarray
    grievance: np.ndarray
    risk_aversion: np.ndarray
    left_custody: np.ndarray
    calm_until: np.ndarray
    riot_since: np.ndarray
    escaped_at: np.ndarray


class Agents(NamedTuple):
    """Guards, responders or the external force (responders also use ``arrival_tick``)."""

    state: np.ndarray
    pos: np.ndarray
    uid: np.ndarray
    last_change: np.ndarray
    credit: np.ndarray
    arrival_tick: np.ndarray


class Fields(NamedTuple):
    """Distance fields, and what the authority fields were last computed from (they are
    recomputed only when their goals or ground change)."""

    flee: np.ndarray
    cp: np.ndarray
    ext: np.ndarray
    guard: np.ndarray
    responder: np.ndarray
    intact: np.ndarray
    last_guard_goal: np.ndarray
    last_guard_ground: np.ndarray
    last_resp_goal: np.ndarray
    last_resp_ground: np.ndarray
    computed: np.ndarray  # [guard field, responder field] computed at least once
    heap_cells: np.ndarray
    heap_keys: np.ndarray


class Consts(NamedTuple):
    """Constants of the run (floats and ints) and the mixed seed."""

    tick_h: float
    guard_strength: float
    width: int
    height: int
    n_blocks: int
    n_zones: int
    n_interior: int
    n_wall: int
    cell_capacity: int
    max_ticks: int
    external_initial: int
    first_arrival_tick: int
    seed_mixed: np.uint64


def pack(w: World) -> tuple:
    """(grid, cells, inmates, guards, responders, external, fields, consts, params) of ``w``."""
    L, n = w.layout, w.layout.n_cells
    grid = Grid(
        L.neighbours,
        L.block,
        w.is_interior,
        w.is_outside,
        w.is_wall,
        w.is_cordon,
        L.zone == Zone.GATE,
        np.isin(L.zone, (Zone.YARD, Zone.CONTROL)),
        w.zone_of.astype(np.int64),
        w.adjacent_block,
        w.cordon_ring,
        L.control_cells.astype(np.int64),
    )
    cells = Cells(w.integrity, w.breached, w.block_open, w.held_until, w.cp_held, w.block_occupancy)
    im = w.inmates
    inmates = Inmates(*(getattr(im, f) for f in Inmates._fields))
    none = np.zeros(0, dtype=np.int64)
    groups = [
        Agents(g.state, g.pos, g.uid, g.last_change, g.credit, getattr(g, "arrival_tick", none))
        for g in (w.guards, w.responders, w.external)
    ]
    heap = 8 * n + 16
    fields = Fields(
        *(np.full(n, np.inf) for _ in range(5)),
        *(np.zeros(n, dtype=bool) for _ in range(5)),
        np.zeros(2, dtype=bool),
        np.zeros(heap, dtype=np.int64),
        np.zeros(heap),
    )
    consts = Consts(
        float(w.tick_h),
        float(w.guard_strength),
        int(L.width),
        int(L.height),
        int(L.n_blocks),
        int(w.n_zones),
        int(w.n_interior),
        int(w.n_wall),
        int(w.cell_capacity),
        int(w.max_ticks),
        int(w.external_initial),
        int(w.first_arrival_tick),
        np.uint64(mix(w.streams.seed)),
    )
    params = np.array([float(w.p[name]) for name in PARAM_NAMES])
    return (grid, cells, inmates, *groups, fields, consts, params)
