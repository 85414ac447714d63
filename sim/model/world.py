"""The state of one run: the grid's cells, the four agent groups and the clock.

A :class:`World` is what the phases (:mod:`sim.model.phases`) read and write. Agents live
in :class:`AgentArrays` (one array per attribute, one row per agent). Time advances in
ticks: a reporting step of ``step_minutes`` is cut into ticks of at most
``1 / move_cells_per_h`` hours, so no agent moves more than one cell between two contact
checks and results do not depend on the reporting step (docs/odd.md, section 2).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

import numpy as np

from sim.model import rules
from sim.model.fields import GridGraph
from sim.model.layout import Layout, Zone, layout_from_params
from sim.model.states import EXTERNAL_ACTIVE, GUARD_ACTIVE, Guard, Inmate, Responder
from sim.model.streams import Streams

HELD_MEMORY_H = 0.5
"""Hours a cell stays held by the uprising after its last uprising agent left it (unless
authority arrives first). Shorter than an hour, so a cell nobody of the uprising has
stood on for an hour is never held; long enough that a rioter stepping aside for one tick
does not release it."""


class Slot(IntEnum):
    """Places of the run's scalar state in ``World.scalars`` (shared with the compiled
    engine, which reads and writes the same array)."""

    TICK = 0
    ASSAULT = 1
    AIR_SUPPORT = 2
    CORDON = 3
    GATE_OPEN = 4
    STRUCTURE_DIRTY = 5
    MINORS_EXPOSED_H = 6
    PEAK_SHARE_HELD = 7
    PEAK_GUARDS_CAPTURED = 8
    HOURS_TO_CONTROL = 9
    CONTROL_RESTORED = 10
    FINISHED = 11


class _Scalar:
    """An attribute of :class:`World` kept in its ``scalars`` array."""

    def __init__(self, slot: Slot, kind: type):
        self.slot, self.kind = int(slot), kind

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return self.kind(obj.scalars[self.slot])

    def __set__(self, obj: Any, value: Any) -> None:
        obj.scalars[self.slot] = float(value)


class AgentArrays:
    """Attributes of one agent group as equal-length numpy arrays (a struct of arrays)."""

    def __init__(self, **arrays: np.ndarray):
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise ValueError(f"attribute arrays differ in length: {lengths}")
        self.__dict__.update(arrays)
        self._names = tuple(arrays)

    def __len__(self) -> int:
        return len(getattr(self, self._names[0]))

    def in_state(self, *states: int) -> np.ndarray:
        """Boolean mask of agents in any of ``states`` (a table lookup, faster than isin)."""
        return _state_table(tuple(int(s) for s in states))[self.state]


@functools.cache
def _state_table(states: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(16, dtype=bool)
    table[list(states)] = True
    return table


def tick_length_h(step_minutes: float, move_cells_per_h: float) -> tuple[float, int]:
    """(tick length in hours, ticks per reporting step).

    ``ticks = ceil(step / (1 / speed))``, ``tick = step / ticks``: the longest tick that
    divides the step and lets no agent move more than one cell.
    """
    step_h = step_minutes / 60.0
    ticks = max(1, math.ceil(step_h * move_cells_per_h - 1e-9))
    return step_h / ticks, ticks


class World:
    """Cells, agents and clock of one run (no I/O; randomness only from ``streams``)."""

    tick = _Scalar(Slot.TICK, int)
    assault = _Scalar(Slot.ASSAULT, bool)
    air_support = _Scalar(Slot.AIR_SUPPORT, bool)
    cordon = _Scalar(Slot.CORDON, float)
    gate_open = _Scalar(Slot.GATE_OPEN, bool)
    structure_dirty = _Scalar(Slot.STRUCTURE_DIRTY, bool)
    minors_exposed_h = _Scalar(Slot.MINORS_EXPOSED_H, float)
    peak_share_held = _Scalar(Slot.PEAK_SHARE_HELD, float)
    peak_guards_captured = _Scalar(Slot.PEAK_GUARDS_CAPTURED, int)
    hours_to_control = _Scalar(Slot.HOURS_TO_CONTROL, float)
    control_restored = _Scalar(Slot.CONTROL_RESTORED, bool)
    finished = _Scalar(Slot.FINISHED, bool)

    def __init__(self, params: Mapping[str, Any], seed: int):
        from sim.model import population  # population builds on World's helpers

        self.scalars = np.zeros(len(Slot))
        p = self.p = dict(params)
        self.streams = Streams(seed)
        self.layout: Layout = layout_from_params(p)
        L = self.layout
        self.graph = GridGraph(L.neighbours)
        self.zone = L.zone
        self.is_interior = L.interior
        self.is_outside = L.outside
        self.is_wall = np.isin(L.zone, (Zone.PERIMETER, Zone.GATE))
        self.is_cordon = L.zone == Zone.CORDON
        self.n_interior = int(self.is_interior.sum())
        self.n_wall = int(self.is_wall.sum())
        self.adjacent_block = _adjacent_block(L)
        # Zones: each block and the wing, then the yard (with the control points) as one.
        self.zone_of = np.where(
            L.block >= 0, L.block, np.where(self.is_interior, L.n_blocks + 1, -1)
        )
        self.n_zones = L.n_blocks + 2
        self.cordon_ring = _cordon_ring(L, self.is_wall, self.is_outside)
        self.cell_capacity = max(1, round(p["cell_crowding_limit"] * p["persons_per_cell"]))
        # Clock.
        self.tick_h, self.ticks_per_step = tick_length_h(p["step_minutes"], p["move_cells_per_h"])
        self.max_ticks = max(1, math.ceil(p["horizon_h"] / self.tick_h - 1e-9))
        self.tick = 0
        # Levers acting through a warning.
        prep = rules.warning_preparation(
            p["warning_acted_on"], p["warning_lead_time_h"], p["warning_build_h"]
        )
        self.readiness = rules.guard_readiness(p["base_readiness"], prep)
        self.guard_strength = float(rules.guard_strength(self.readiness, p["strength_guard"]))
        self.responder_arrival_h = rules.responder_arrival_h(p["responder_delay_h"], prep)
        # Cell state.
        self.integrity = np.where(self.is_wall, p["perimeter_integrity"], 1.0)
        self.breached = np.zeros(L.n_cells, dtype=bool)
        self.block_open = np.zeros(L.n_blocks + 1, dtype=bool)
        self.held_until = np.full(L.n_cells, -np.inf)
        self.gate_open = False
        self.cp_held = np.zeros(len(L.control_cells), dtype=bool)
        # Agents.
        self.inmates = population.create_inmates(self)
        self.block_occupancy = population.block_occupancy(self)
        self.guards = population.create_guards(self)
        self.responders = population.create_responders(self)
        self.external = population.create_external(self)
        self.external_initial = len(self.external)
        arrivals = self.responders.arrival_tick
        self.first_arrival_tick = int(arrivals.min()) if len(arrivals) else self.max_ticks + 1
        # Model-level effects, fields, accumulators.
        self.air_support = False
        self.cordon = 0.0
        self.assault = False
        self.structure_dirty = True
        self.fields: dict[str, np.ndarray] = {}
        self.minors_exposed_h = 0.0
        self.peak_share_held = 0.0
        self.peak_guards_captured = 0
        self.hours_to_control = float(p["horizon_h"])
        self.control_restored = False
        self.finished = False

    # ------------------------------------------------------------------ clock
    @property
    def t_h(self) -> float:
        """Simulated hours at the end of the current tick."""
        return self.tick * self.tick_h

    def uniform(self, draw: int, ids: np.ndarray, tick: int | None = None) -> np.ndarray:
        """Keyed uniforms of ``ids`` for decision ``draw`` at this tick (or ``tick``)."""
        return self.streams.uniform(draw, self.tick if tick is None else tick, ids)

    def probability(self, hazard: np.ndarray | float) -> np.ndarray:
        """Probability of an event within this tick at ``hazard`` per hour."""
        return rules.hazard_to_probability(hazard, self.tick_h)

    # ------------------------------------------------------------------ outcome interface
    # (sim.model.outcomes.FinalState: what outcomes may read of a run)
    @property
    def inmate_state(self) -> np.ndarray:
        return self.inmates.state

    @property
    def inmate_left_custody(self) -> np.ndarray:
        return self.inmates.left_custody

    @property
    def guard_state(self) -> np.ndarray:
        return self.guards.state

    @property
    def responder_state(self) -> np.ndarray:
        return self.responders.state

    @property
    def external_state(self) -> np.ndarray:
        return self.external.state

    # ------------------------------------------------------------------ derived state
    @property
    def held(self) -> np.ndarray:
        """Cells held by the uprising now."""
        return self.held_until > self.t_h

    def inmates_present(self) -> np.ndarray:
        """Inmates on the grid (not yet gone, retaken, escaped or incapacitated)."""
        return self.inmates.in_state(
            Inmate.CONFINED, Inmate.AGITATED, Inmate.UNCONTROLLED, Inmate.RIOTING, Inmate.FLEEING
        )

    def guards_active(self) -> np.ndarray:
        return self.guards.in_state(*GUARD_ACTIVE)

    def external_active(self) -> np.ndarray:
        return self.external.in_state(*EXTERNAL_ACTIVE)

    def occupancy(self) -> np.ndarray:
        """Agents of every group on each cell (what the crowding limit counts)."""
        n = self.layout.n_cells
        im, g, r, ex = self.inmates, self.guards, self.responders, self.external
        return (
            np.bincount(im.pos[self.inmates_present()], minlength=n)
            + np.bincount(g.pos[g.state != Guard.INCAPACITATED], minlength=n)
            + np.bincount(r.pos[r.state == Responder.ENGAGED], minlength=n)
            + np.bincount(ex.pos[self.external_active()], minlength=n)
        )

    def block_of_cells(self, cells: np.ndarray) -> np.ndarray:
        """Housing block (or wing) index of each cell, -1 outside the blocks."""
        return self.layout.block[cells]

    def cell_in_open_block(self, cells: np.ndarray) -> np.ndarray:
        block = self.layout.block[cells]
        return np.where(block >= 0, self.block_open[np.maximum(block, 0)], False)

    def closed_occupied_blocks(self) -> np.ndarray:
        """Blocks (and the wing) still closed with inmates present in them."""
        im = self.inmates
        block = self.layout.block[im.pos[self.inmates_present()]]
        occupied = np.bincount(block[block >= 0], minlength=len(self.block_open)) > 0
        return occupied & ~self.block_open

    def mark_changed(self, group: AgentArrays, idx: np.ndarray) -> None:
        """Record that agents ``idx`` changed state this tick (one change a tick each)."""
        group.last_change[idx] = self.tick

    def unchanged(self, group: AgentArrays) -> np.ndarray:
        """Agents that have not changed state yet this tick."""
        return group.last_change < self.tick

    def open_block(self, block: int) -> None:
        """Open a block or the wing: its controlled inmates are out of control from now."""
        if self.block_open[block]:
            return
        self.block_open[block] = True
        self.structure_dirty = True
        im = self.inmates
        inside = (self.layout.block[im.pos] == block) & im.in_state(
            Inmate.CONFINED, Inmate.AGITATED
        )
        idx = np.flatnonzero(inside)
        im.state[idx] = Inmate.UNCONTROLLED
        self.mark_changed(im, idx)


def _cordon_ring(L: Layout, is_wall: np.ndarray, is_outside: np.ndarray) -> np.ndarray:
    """Outside cells touching the perimeter: where reinforcements hold the cordon."""
    padded = np.append(is_wall, False)
    return is_outside & padded[L.neighbours].any(axis=1)


def _adjacent_block(L: Layout) -> np.ndarray:
    """For each yard cell, the index of a block it touches (-1 if none)."""
    padded = np.append(L.block, -1)
    nb = padded[L.neighbours]
    touching = np.where(nb >= 0, nb, -1).max(axis=1)
    return np.where(L.block < 0, touching, -1).astype(np.int16)
