"""The facility model: a ``mesa.Model`` whose agents live in numpy arrays.

Four agent groups (inmates, guards, responders, the external force) are each an
:class:`AgentArrays`: one array per attribute, one row per agent. A step of
``step_minutes`` runs the seven phases of :data:`PHASES` in order (brief section 3; the
same names in the docs and the demo). Every rule is a function in :mod:`sim.model.rules`; this
module wires rules to state. It does no I/O and imports nothing from plotting or UI code.

Mesa integration: seeding (``seed=``, ``self.rng``), ``steps``, ``running``,
``run_model()`` and a ``DataCollector`` of model-level counts behave as Mesa users expect.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model import rules
from sim.model.fields import INF, GridGraph, advance
from sim.model.layout import Layout, Zone, layout_from_params
from sim.model.outcomes import compute_outcomes
from sim.model.params import resolve
from sim.model.states import External, Guard, Inmate, Origin, Responder, series_names

PHASES: tuple[str, ...] = (
    "events",
    "external_force",
    "uprising",
    "response",
    "engagement",
    "movement",
    "bookkeeping",
)
"""The step's phases, in order (brief section 3)."""

WALL_COST = 25.0
"""Cost, in cells of open ground, of entering an intact perimeter cell on the external
force's field: it leads the force to the perimeter where its path is shortest."""

_EXTERNAL_ACTIVE = (External.APPROACHING, External.BREACHING, External.INSIDE, External.HOLDING)


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
        return _state_table(states)[self.state]


@dataclass
class RunOutput:
    """What one replicate returns.

    outcomes: registered outcome name -> value (``sim.model.outcomes.OUTCOMES``).
    series: DataFrame indexed by ``t_h`` (hours) with one column per name of
        ``sim.model.states.series_names()``, or None if not asked for.
    steps: model steps taken.
    """

    outcomes: dict[str, float]
    series: pd.DataFrame | None
    steps: int


class FacilityModel(mesa.Model):
    """External assault plus internal uprising at a schematic facility.

    Args:
        seed: seed for Mesa's generators; all randomness comes from ``self.rng``.
        collect_every_steps: DataCollector interval in steps (0: only the final state).
        **kwargs: parameter values by name (``sim.model.params.PARAMS``); the rest take defaults.
    """

    def __init__(self, *, seed: int | None = None, collect_every_steps: int = 1, **kwargs: Any):
        super().__init__(seed=seed)
        p = resolve(kwargs)
        self.p = p
        self.dt_h = p["step_minutes"] / 60.0
        self.max_steps = math.ceil(p["horizon_h"] / self.dt_h)
        self.collect_every_steps = int(collect_every_steps)
        self.layout: Layout = layout_from_params(p)
        self.graph = GridGraph(self.layout.neighbours)
        L = self.layout
        self.zone = L.zone
        self.is_interior = L.interior
        self.is_outside = L.outside
        self.is_wall = np.isin(L.zone, (Zone.PERIMETER, Zone.GATE))
        self.n_interior = int(self.is_interior.sum())
        self.adjacent_block = self._adjacent_block()
        # Cell state.
        self.integrity = np.where(self.is_wall, p["perimeter_integrity"], 1.0)
        self.breached = np.zeros(L.n_cells, dtype=bool)
        self.block_open = np.zeros(L.n_blocks + 1, dtype=bool)
        self.held = np.zeros(L.n_cells, dtype=bool)
        self.gate_open = False
        # Levers acting through warnings.
        self.readiness = rules.guard_readiness(
            p["base_readiness"], p["warning_acted_on"], p["warning_lead_time_h"]
        )
        self.responder_arrival_h = rules.responder_arrival_h(
            p["responder_delay_h"], p["warning_acted_on"], p["warning_lead_time_h"]
        )
        self.inmates = self._create_inmates()
        self.block_occupancy = self._block_occupancy()
        self.guards = self._create_guards()
        self.responders = self._create_responders()
        r = self.responders
        self.first_arrival_step = int(r.arrival_step.min()) if len(r) else self.max_steps + 1
        self.external = self._create_external()
        # Run state and outcome accumulators.
        self.air_support = False
        self.minors_exposed_h = 0.0
        self.peak_share_held = 0.0
        self.hours_to_control = float(p["horizon_h"])
        self.control_restored = False
        self._structure_dirty = True
        self._trouble_due = 0
        self.counts: dict[str, float] = {}
        self._count()
        self.datacollector = mesa.DataCollector(
            model_reporters={n: _reporter(n) for n in ["t_h", *series_names()]}
        )
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up

    def _adjacent_block(self) -> np.ndarray:
        """For each yard cell, the index of a block it touches (-1 if none)."""
        L = self.layout
        padded = np.append(L.block, -1)
        nb = padded[L.neighbours]
        touching = np.where(nb >= 0, nb, -1).max(axis=1)
        return np.where(L.block < 0, touching, -1).astype(np.int16)

    def _create_inmates(self) -> AgentArrays:
        """Population before the event (brief section 2), after repatriation and separation.

        Adults: origins in exact proportions (round(n * share)); hardened drawn per origin
        (``rules.hardened_probabilities``); then ``repatriation_share`` of the iraqi and of
        the third-country adults are removed (``rules.repatriation_count``). Minors are not
        hardened and are absent if ``separate_minors``. Grievance = U(0,1) x (1 -
        legitimacy) + hardened_grievance if hardened; risk aversion = U(0,1), halved if
        hardened.
        """
        p, rng, L = self.p, self.rng, self.layout
        n_adult = int(p["inmates_adult"])
        n_iraqi = round(n_adult * p["iraqi_share"])
        n_third = round(n_adult * p["third_country_share"])
        origin = np.repeat(
            np.array([Origin.SYRIAN, Origin.IRAQI, Origin.THIRD_COUNTRY], dtype=np.int8),
            [n_adult - n_iraqi - n_third, n_iraqi, n_third],
        )
        foreign_share = (n_iraqi + n_third) / n_adult if n_adult else 0.0
        p_syr, p_for = rules.hardened_probabilities(
            p["hardened_share"], foreign_share, p["foreign_hardened_ratio"]
        )
        hardened = rng.random(n_adult) < np.where(origin == Origin.SYRIAN, p_syr, p_for)
        keep = np.ones(n_adult, dtype=bool)
        for group, size in ((Origin.IRAQI, n_iraqi), (Origin.THIRD_COUNTRY, n_third)):
            members = np.flatnonzero(origin == group)
            removed = rng.choice(
                members, rules.repatriation_count(size, p["repatriation_share"]), replace=False
            )
            keep[removed] = False
        origin, hardened = origin[keep], hardened[keep]
        n_minor = 0 if p["separate_minors"] else int(p["inmates_minor"])
        minor_origin = rng.choice(
            np.array([Origin.SYRIAN, Origin.IRAQI, Origin.THIRD_COUNTRY], dtype=np.int8),
            n_minor,
            p=_origin_probs(p),
        )
        n_kept = len(origin)
        n = n_kept + n_minor
        minor = np.r_[np.zeros(n_kept, bool), np.ones(n_minor, bool)]
        hardened = np.r_[hardened, np.zeros(n_minor, bool)]
        # Adults spread evenly over the housing blocks, minors in their wing.
        block_of = np.r_[np.arange(n_kept) % L.n_blocks, np.full(n_minor, L.n_blocks)]
        rng.shuffle(block_of[:n_kept])
        pos = np.empty(n, dtype=np.int64)
        for b, cells in enumerate(L.block_cells):
            members = np.flatnonzero(block_of == b)
            pos[members] = cells[rng.integers(0, len(cells), len(members))]
        grievance = rng.random(n) * (1 - p["legitimacy"]) + hardened * p["hardened_grievance"]
        risk_aversion = rng.random(n) * np.where(hardened, 0.5, 1.0)
        return AgentArrays(
            state=np.full(n, Inmate.CONFINED, dtype=np.int8),
            pos=pos,
            origin=np.r_[origin, minor_origin].astype(np.int8),
            minor=minor,
            hardened=hardened,
            grievance=grievance,
            risk_aversion=risk_aversion,
            left_custody=np.zeros(n, dtype=bool),
        )

    def _block_occupancy(self) -> np.ndarray:
        """Occupants / design capacity of each block: ``capacity / housing_blocks`` for
        adult blocks (the declared figure, not the grid's rounded-up size); the minors'
        wing against its built size."""
        L, p = self.layout, self.p
        occupants = np.bincount(L.block[self.inmates.pos], minlength=L.n_blocks + 1)
        design = np.full(L.n_blocks + 1, p["capacity"] / L.n_blocks, dtype=float)
        design[L.n_blocks] = len(L.block_cells[L.n_blocks]) * p["persons_per_cell"]
        return occupants / design

    def _create_guards(self) -> AgentArrays:
        """Guards = max(1, round(guards_per_100_inmates x present / 100)).

        Posts: 10% at the gate, 10% at the control points, the rest in the blocks in
        proportion to their occupants, at random cells. Readiness from the warning lever.
        """
        L, rng = self.layout, self.rng
        n = max(1, round(self.p["guards_per_100_inmates"] * len(self.inmates) / 100))
        n_gate = round(0.1 * n)
        n_control = round(0.1 * n)
        n_blocks = n - n_gate - n_control
        occupants = np.bincount(L.block[self.inmates.pos], minlength=L.n_blocks + 1)
        weights = occupants / max(occupants.sum(), 1)
        per_block = rng.multinomial(n_blocks, weights) if occupants.sum() else np.zeros(0, int)
        posts = [np.full(n_gate, L.gate_cell), L.control_cells[np.arange(n_control) % 2]]
        posts += [
            cells[rng.integers(0, len(cells), k)]
            for cells, k in zip(L.block_cells, per_block, strict=False)
        ]
        pos = np.concatenate(posts).astype(np.int64)
        if len(pos) < n:  # no inmates: everyone guards the gate
            pos = np.r_[pos, np.full(n - len(pos), L.gate_cell)]
        return AgentArrays(
            state=np.full(n, Guard.ON_POST, dtype=np.int8),
            pos=pos,
            post=pos.copy(),
            readiness=np.full(n, self.readiness),
        )

    def _create_responders(self) -> AgentArrays:
        """Two reinforcement groups arriving at the south cordon edge (the gate side)."""
        p = self.p
        sizes = [int(p["responder_size"]), int(p["ground_support_size"])]
        arrival_h = [self.responder_arrival_h, p["ground_support_h"]]
        arrival_step = np.concatenate(
            [
                np.full(k, max(1, math.ceil(h / self.dt_h)))
                for k, h in zip(sizes, arrival_h, strict=True)
            ]
        ).astype(np.int64)
        return AgentArrays(
            state=np.full(len(arrival_step), Responder.STAGED, dtype=np.int8),
            pos=_spread(self.layout.south_cordon_cells, len(arrival_step)),
            arrival_step=arrival_step,
            group=np.repeat([0, 1], sizes).astype(np.int8),
        )

    def _create_external(self) -> AgentArrays:
        """The external force arrives at the north cordon edge in the first step."""
        n = int(self.p["attackers"])
        return AgentArrays(
            state=np.full(n, External.APPROACHING, dtype=np.int8),
            pos=_spread(self.layout.north_cordon_cells, n),
            arrival_step=np.ones(n, dtype=np.int64),
        )

    # ------------------------------------------------------------------ stepping

    def _wrapped_step(self, *args: Any, **kwargs: Any) -> None:
        """Mesa's step wrapper (it counts ``steps``), skipped once the run has ended.

        A finished model never steps past its end: Mesa's SolaraViz steps a model over its
        render interval without checking ``running``, and ``steps`` must stay the end time.
        """
        if self.running:
            super()._wrapped_step(*args, **kwargs)

    def step(self) -> None:
        """One step: the seven phases of :data:`PHASES`, in order."""
        for phase in PHASES:
            getattr(self, f"phase_{phase}")()

    @property
    def t_h(self) -> float:
        return self.steps * self.dt_h

    def phase_events(self) -> None:
        """Scheduled events: the simultaneous uprising, arrivals, air support.

        At the first step ``initial_rioter_share`` of hardened confined inmates rise.
        Reinforcements become engaged at their arrival step (the first group earlier by the
        warning lead time acted on). Air support switches on at ``air_support_h``.
        Warning readiness was applied to the guards when the model was built.
        """
        if self.steps == 1:
            im = self.inmates
            candidates = im.hardened & (im.state == Inmate.CONFINED)
            rise = candidates & rules.draw(
                self.rng, np.full(len(im), self.p["initial_rioter_share"])
            )
            im.state[rise] = Inmate.RIOTING
        r = self.responders
        arriving = (r.state == Responder.STAGED) & (r.arrival_step <= self.steps)
        if arriving.any():
            r.state[arriving] = Responder.ENGAGED
            self._trouble_due = self.steps
        self.air_support = self.t_h >= self.p["air_support_h"]

    def phase_external_force(self) -> None:
        """The external force's fixed behaviour: approach, breach, open blocks, hold, withdraw.

        Agents follow their distance field toward the nearest closed block. An agent whose
        next cell is intact perimeter is breaching; each such cell is breached with
        probability from ``rules.breach_hazard``. An agent standing next to a closed block
        opens it. With no closed block left, agents inside hold and agents still outside
        the perimeter withdraw (their goal is gone). All withdraw (leave the model)
        ``external_hold_h`` after the event's start or when fewer than
        ``external_withdraw_share`` of them remain active.
        """
        ex = self.external
        if len(ex) == 0:
            return
        active = ex.in_state(*_EXTERNAL_ACTIVE)
        if not active.any():
            return
        if (
            self.t_h >= self.p["external_hold_h"]
            or active.mean() < self.p["external_withdraw_share"]
        ):
            ex.state[active] = External.WITHDRAWN
            self._trouble_due = self.steps
            return
        self._refresh_fields()
        hop = self.ext_hop[ex.pos]
        moving = active & ex.in_state(External.APPROACHING, External.BREACHING)
        at_wall = moving & self.intact_wall[hop]
        ex.state[at_wall] = External.BREACHING
        ex.state[moving & ~at_wall] = External.APPROACHING
        if at_wall.any():
            n_at = np.bincount(hop[at_wall], minlength=self.layout.n_cells)
            cells = np.flatnonzero(n_at)
            hazard = rules.breach_hazard(
                n_at[cells], self.integrity[cells], self.p["breach_probability"]
            )
            opened = cells[rules.draw(self.rng, rules.hazard_to_probability(hazard, self.dt_h))]
            if len(opened):
                self.breached[opened] = True
                self._structure_dirty = True
        inside = active & ex.in_state(External.INSIDE)
        at_goal = inside & (self.ext_dist[ex.pos] == 0)
        if at_goal.any():
            blocks = np.unique(self.adjacent_block[ex.pos[at_goal]])
            blocks = blocks[blocks >= 0]
            if len(blocks) and not self.block_open[blocks].all():
                self.block_open[blocks] = True
                self._structure_dirty = True
        if self.block_open.all():
            ex.state[inside] = External.HOLDING
            outside = active & ex.in_state(External.APPROACHING, External.BREACHING)
            ex.state[outside] = External.WITHDRAWN

    def phase_uprising(self) -> None:
        """Agitation (Epstein), riot contagion, block seizure and the start of flight.

        For confined and agitated inmates: agitated iff ``G_eff - R * P > T``
        (``rules.effective_grievance``, ``rules.arrest_probability``, ``rules.is_agitated``),
        with authority and rioters counted within ``vision_cells``. Agitated inmates join
        the riot at ``rules.riot_hazard``. Rioters open their closed block at
        ``rules.block_seizure_hazard``. Rioters with a way out start fleeing at
        ``rules.flee_hazard``, reduced by the reinforcements' cordon (``rules.cordon_closure``).
        """
        im, p, L = self.inmates, self.p, self.layout
        maps = self._cell_maps()
        near = rules.box_sum(maps[["auth_strength", "rioters", "inmates"]], int(p["vision_cells"]))
        auth_v, rioters_v, inmates_v = (near[i].ravel() for i in range(3))
        disturbance = self._disturbance()
        calm = im.in_state(Inmate.CONFINED, Inmate.AGITATED)
        idx = np.flatnonzero(calm)
        pos = im.pos[idx]
        block = L.block[pos]
        occupancy = np.where(block >= 0, self.block_occupancy[block], 0.0)
        g_eff = rules.effective_grievance(
            im.grievance[idx],
            occupancy,
            disturbance[idx],
            p["crowding_gain"],
            p["disturbance_gain"],
        )
        arrest_p = rules.arrest_probability(auth_v[pos], rioters_v[pos], p["arrest_k"])
        agitated = rules.is_agitated(
            g_eff, im.risk_aversion[idx], arrest_p, p["agitation_threshold"]
        )
        share = rioters_v[pos] / np.maximum(inmates_v[pos], 1.0)
        hazard = rules.riot_hazard(share, disturbance[idx], p["riot_contagion_rate"])
        riots = agitated & rules.draw(self.rng, rules.hazard_to_probability(hazard, self.dt_h))
        im.state[idx] = np.where(
            riots, Inmate.RIOTING, np.where(agitated, Inmate.AGITATED, Inmate.CONFINED)
        )
        self._seize_blocks()
        rioting = np.flatnonzero(im.state == Inmate.RIOTING)
        if len(rioting):
            self._refresh_fields()
            way_out = np.isfinite(self.flee_dist[im.pos[rioting]])
            cordon = rules.cordon_closure(
                int((self.responders.state == Responder.ENGAGED).sum()),
                int(self.is_wall.sum()),
                p["cordon_responders_per_cell"],
                p["cordon_max"],
            )
            hazard = rules.flee_hazard(im.risk_aversion[rioting], p["flee_rate"], cordon)
            flee = way_out & rules.draw(self.rng, rules.hazard_to_probability(hazard, self.dt_h))
            im.state[rioting[flee]] = Inmate.FLEEING

    def _seize_blocks(self) -> None:
        im, L = self.inmates, self.layout
        closed = np.flatnonzero(~self.block_open)
        if len(closed) == 0:
            return
        rioting = im.state == Inmate.RIOTING
        if not rioting.any():
            return
        nb = L.n_blocks + 1
        rioters = np.bincount(L.block[im.pos[rioting]] + 1, minlength=nb + 1)[1:]
        g = self.guards
        on = g.in_state(Guard.ON_POST, Guard.RESPONDING)
        auth = np.bincount(
            L.block[g.pos[on]] + 1, weights=self._guard_weight(on), minlength=nb + 1
        )[1:]
        hazard = rules.block_seizure_hazard(
            self.p["strength_inmate"] * rioters[closed], auth[closed], self.p["block_seizure_rate"]
        )
        seized = closed[rules.draw(self.rng, rules.hazard_to_probability(hazard, self.dt_h))]
        if len(seized):
            self.block_open[seized] = True
            self._structure_dirty = True

    def phase_response(self) -> None:
        """Guards and responders contain, recapture and free captured colleagues.

        Guards on post with trouble within vision start responding. Agitated, rioting and
        fleeing inmates are contained at ``rules.contain_hazard`` (authority vs uprising in
        the 3x3 neighbourhood): agitated ones calm down, rioters and fleeing inmates inside
        the perimeter surrender, those outside are recaptured. Rioters also surrender at
        ``rules.surrender_hazard``. Once reinforcements have arrived, inmates in the town
        are recaptured at ``town_search_rate`` and those beyond the cordon at
        ``at_large_recapture_rate``. Captured guards are freed where authority is present
        and no uprising is.
        """
        im, p, g = self.inmates, self.p, self.guards
        maps = self._cell_maps()
        near1 = rules.box_sum(maps[["auth_strength", "upr_strength"]], 1)
        auth1, upr1 = near1[0].ravel(), near1[1].ravel()
        upr_v = rules.box_sum(maps[["upr_count"]], int(p["vision_cells"]))[0].ravel()
        alerted = (g.state == Guard.ON_POST) & (upr_v[g.pos] > 0)
        g.state[alerted] = Guard.RESPONDING
        active = im.in_state(Inmate.AGITATED, Inmate.RIOTING, Inmate.FLEEING)
        idx = np.flatnonzero(active)
        pos = im.pos[idx]
        hazard = rules.contain_hazard(auth1[pos], upr1[pos], p["contain_rate"])
        rioting = im.state[idx] == Inmate.RIOTING
        hazard = hazard + np.where(
            rioting,
            rules.surrender_hazard(auth1[pos] / (upr1[pos] + 1.0), p["surrender_rate"]),
            0.0,
        )
        caught = rules.draw(self.rng, rules.hazard_to_probability(hazard, self.dt_h))
        outside = self.is_outside[pos]
        new = np.where(
            im.state[idx] == Inmate.AGITATED,
            Inmate.CONFINED,
            np.where(outside, Inmate.RECAPTURED, Inmate.SURRENDERED),
        )
        im.state[idx[caught]] = new[caught]
        if self.steps >= self.first_arrival_step:
            town = (im.state == Inmate.FLEEING) & self.is_outside[im.pos]
            self._recapture(town, p["town_search_rate"])
            self._recapture(im.state == Inmate.ESCAPED, p["at_large_recapture_rate"])
        r = self.responders
        resp_here = np.bincount(r.pos[r.state == Responder.ENGAGED], minlength=self.layout.n_cells)
        captured = g.state == Guard.OVERWHELMED
        freed = captured & (resp_here[g.pos] > 0) & (maps["upr_count"].ravel()[g.pos] == 0)
        g.state[freed] = Guard.RESPONDING

    def _recapture(self, mask: np.ndarray, rate: float) -> None:
        idx = np.flatnonzero(mask)
        hit = rules.draw(self.rng, np.full(len(idx), rules.hazard_to_probability(rate, self.dt_h)))
        self.inmates.state[idx[hit]] = Inmate.RECAPTURED

    def phase_engagement(self) -> None:
        """Stochastic attrition between opposing agents in contact, resolved simultaneously.

        Sides: authority (guards on post or responding, weighted 0.5 x (1 + readiness);
        engaged responders, ``strength_responder``) and the uprising (rioters,
        ``strength_inmate``; active external force, ``strength_external``; both raised by
        ``control_point_bonus`` per control point held). Each agent's hazard is
        ``rules.attrition_hazard`` over the 3x3 neighbourhood, all computed before any state
        changes; the external force's is multiplied by ``air_support_factor`` once air
        support is on. A guard who is hit is captured (overwhelmed) rather than
        incapacitated with probability equal to the inmates' share of the opposing
        strength around him (the rest of the hits come from the external force).
        """
        p = self.p
        maps = self._cell_maps()
        near = rules.box_sum(
            maps[["auth_strength", "auth_count", "upr_strength", "upr_count", "inmate_strength"]], 1
        )
        a_s, a_n, u_s, u_n, i_s = (near[i].ravel() for i in range(5))
        rate = p["attrition_rate"]
        g, r, ex, im = self.guards, self.responders, self.external, self.inmates
        g_on = np.flatnonzero(g.in_state(Guard.ON_POST, Guard.RESPONDING))
        r_on = np.flatnonzero(r.state == Responder.ENGAGED)
        e_on = np.flatnonzero(ex.in_state(*_EXTERNAL_ACTIVE))
        i_on = np.flatnonzero(im.state == Inmate.RIOTING)
        air = p["air_support_factor"] if self.air_support else 1.0
        hazards = [
            rules.attrition_hazard(u_s[g.pos[g_on]], a_n[g.pos[g_on]], rate),
            rules.attrition_hazard(u_s[r.pos[r_on]], a_n[r.pos[r_on]], rate),
            rules.attrition_hazard(a_s[ex.pos[e_on]], u_n[ex.pos[e_on]], rate) * air,
            rules.attrition_hazard(a_s[im.pos[i_on]], u_n[im.pos[i_on]], rate),
        ]
        hits = [rules.draw(self.rng, rules.hazard_to_probability(h, self.dt_h)) for h in hazards]
        gpos = g.pos[g_on]
        inmate_share = i_s[gpos] / np.maximum(u_s[gpos], 1e-12)
        captured = rules.draw(self.rng, inmate_share)
        g.state[g_on[hits[0]]] = np.where(captured[hits[0]], Guard.OVERWHELMED, Guard.INCAPACITATED)
        r.state[r_on[hits[1]]] = Responder.INCAPACITATED
        ex.state[e_on[hits[2]]] = External.INCAPACITATED
        im.state[i_on[hits[3]]] = Inmate.INCAPACITATED

    def phase_movement(self) -> None:
        """Movement down distance fields, ``moves_per_step`` cells a step.

        Fleeing inmates toward the cordon edge (crossing the perimeter marks them as having
        left custody; reaching the edge makes them escaped); hardened rioters toward control
        points the uprising does not hold; the external force along its field (never into
        intact perimeter); responding guards and engaged responders toward trouble (a field
        refreshed every simulated hour and after arrivals).
        """
        im, ex, L = self.inmates, self.external, self.layout
        k = int(self.p["moves_per_step"])
        self._refresh_fields()
        fleeing = np.flatnonzero(im.state == Inmate.FLEEING)
        if len(fleeing):
            pos = advance(im.pos[fleeing], self.flee_hop, k)
            im.pos[fleeing] = pos
            im.left_custody[fleeing[self.is_outside[pos]]] = True
            im.state[fleeing[L.zone[pos] == Zone.CORDON]] = Inmate.ESCAPED
        seekers = np.flatnonzero((im.state == Inmate.RIOTING) & im.hardened)
        if len(seekers):
            im.pos[seekers] = advance(im.pos[seekers], self.cp_hop, k)
        moving = np.flatnonzero(ex.in_state(External.APPROACHING, External.INSIDE))
        if len(moving):
            pos = ex.pos[moving]
            for _ in range(k):
                nxt = self.ext_hop[pos]
                pos = np.where(self.intact_wall[nxt], pos, nxt)
            ex.pos[moving] = pos
            entered = moving[self.is_interior[pos]]
            ex.state[entered[ex.state[entered] == External.APPROACHING]] = External.INSIDE
        g, r = self.guards, self.responders
        g_mov = np.flatnonzero(g.state == Guard.RESPONDING)
        r_mov = np.flatnonzero(r.state == Responder.ENGAGED)
        if len(g_mov) or len(r_mov):
            if self.steps >= self._trouble_due:
                self._refresh_trouble()
            g.pos[g_mov] = advance(g.pos[g_mov], self.trouble_hop, k)
            r.pos[r_mov] = advance(r.pos[r_mov], self.trouble_hop, k)

    def phase_bookkeeping(self) -> None:
        """Held cells, gate status, minors' exposure, counts, and the end check.

        A cell is held by the uprising when it has uprising agents and no authority, and
        released when the reverse holds. The gate opens while the uprising holds a control
        point. Minors in a zone (block, wing or yard) with rioters or external-force agents
        add ``dt`` hours each to ``minors_exposed``. Control is restored when no rioting or
        fleeing inmate and no active external-force agent remains inside the perimeter or
        approaching it; the run then ends, and the town search's effect on those still
        outside until the horizon is drawn in closed form (``rules.survival``).
        """
        upr, auth = self._presence()
        self.held |= (upr > 0) & (auth == 0) & self.is_interior
        self.held &= ~((auth > 0) & (upr == 0))
        gate_open = bool(self.held[self.layout.control_cells].any())
        if gate_open != self.gate_open:
            self.gate_open = gate_open
            self._structure_dirty = True
        self.minors_exposed_h += self._minors_in_contested_zones(upr) * self.dt_h
        self.peak_share_held = max(self.peak_share_held, self.held.sum() / self.n_interior)
        im = self.inmates
        inside_uprising = im.in_state(Inmate.RIOTING, Inmate.FLEEING) & ~self.is_outside[im.pos]
        restored = not inside_uprising.any() and not self.external.in_state(*_EXTERNAL_ACTIVE).any()
        if restored or self.steps >= self.max_steps:
            self.running = False
        if not self.running or (
            self.collect_every_steps and self.steps % self.collect_every_steps == 0
        ):
            self._count()
            self.datacollector.collect(self)
        if restored:  # after collecting: the series shows the simulated trajectory only
            self.control_restored = True
            self.hours_to_control = self.t_h
            self._resolve_remaining_search()

    # ------------------------------------------------------------------ helpers

    def _guard_weight(self, mask: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + self.guards.readiness[mask])

    def _cell_maps(self) -> _Maps:
        """Per-cell sums of each side's strength and numbers, as (height, width) images.

        One ``bincount`` per agent group over the key ``cell * n_states + state`` gives a
        (cells, states) count table; every map is a weighted sum of its columns.
        """
        L, p = self.layout, self.p
        n = L.n_cells
        g, r, ex, im = self.guards, self.responders, self.external, self.inmates
        inm = _state_counts(im, n, len(Inmate))
        ext = _state_counts(ex, n, len(External))[:, list(_EXTERNAL_ACTIVE)].sum(axis=1)
        resp = _state_counts(r, n, len(Responder))[:, Responder.ENGAGED]
        g_on = g.in_state(Guard.ON_POST, Guard.RESPONDING)
        guards = np.bincount(g.pos[g_on], minlength=n)
        guard_strength = np.bincount(g.pos[g_on], self._guard_weight(g_on), n)
        bonus = 1.0 + p["control_point_bonus"] * self.held[L.control_cells].sum()
        rioters = inm[:, Inmate.RIOTING]
        inmate_strength = rioters * (p["strength_inmate"] * bonus)
        stacked = np.empty((7, n))
        stacked[0] = guard_strength + resp * p["strength_responder"]
        stacked[1] = guards + resp
        stacked[2] = inmate_strength + ext * (p["strength_external"] * bonus)
        stacked[3] = rioters + ext
        stacked[4] = inmate_strength
        stacked[5] = rioters
        stacked[6] = inm[:, Inmate.CONFINED] + inm[:, Inmate.AGITATED] + rioters
        return _Maps(stacked.reshape(7, L.height, L.width))

    def _presence(self) -> tuple[np.ndarray, np.ndarray]:
        """Per cell (flat): uprising agents (rioters, active external force) and authority
        agents (active guards, engaged responders)."""
        n = self.layout.n_cells
        g, r, ex, im = self.guards, self.responders, self.external, self.inmates
        upr = np.bincount(im.pos[im.state == Inmate.RIOTING], minlength=n) + np.bincount(
            ex.pos[ex.in_state(*_EXTERNAL_ACTIVE)], minlength=n
        )
        auth = np.bincount(
            g.pos[g.in_state(Guard.ON_POST, Guard.RESPONDING)], minlength=n
        ) + np.bincount(r.pos[r.state == Responder.ENGAGED], minlength=n)
        return upr, auth

    def _disturbance(self) -> np.ndarray:
        """Per inmate: 1 in an opened block or in the yard, 0.5 anywhere once the external
        force is inside or the perimeter is breached, else 0."""
        im, L = self.inmates, self.layout
        block = L.block[im.pos]
        opened = np.where(block >= 0, self.block_open[np.maximum(block, 0)], True)
        facility = (
            0.5
            if (
                self.breached.any()
                or self.external.in_state(External.INSIDE, External.HOLDING).any()
            )
            else 0.0
        )
        return np.where(opened, 1.0, facility)

    def _minors_in_contested_zones(self, upr_count: np.ndarray) -> int:
        L, im = self.layout, self.inmates
        if not im.minor.any():
            return 0
        zone_of = np.where(L.block >= 0, L.block, np.where(self.is_interior, L.n_blocks + 1, -1))
        contested = np.zeros(L.n_blocks + 2, dtype=bool)
        cells = np.flatnonzero(upr_count)
        zones = zone_of[cells]
        contested[zones[zones >= 0]] = True
        present = im.minor & ~im.in_state(Inmate.ESCAPED, Inmate.RECAPTURED, Inmate.INCAPACITATED)
        z = zone_of[im.pos[present]]
        return int(contested[z[z >= 0]].sum())

    def _refresh_fields(self) -> None:
        """Recompute the structure-dependent fields after a breach, opening or gate change."""
        if not self._structure_dirty:
            return
        L = self.layout
        open_block = np.where(L.block >= 0, self.block_open[np.maximum(L.block, 0)], False)
        closed_block = (L.block >= 0) & ~open_block
        gate = (L.zone == Zone.GATE) & self.gate_open
        wall_open = (self.is_wall & self.breached) | gate
        ground = (
            self.is_outside | np.isin(L.zone, (Zone.YARD, Zone.CONTROL)) | open_block | wall_open
        )
        inmate_cost = np.where(ground, 1.0, INF)
        self.flee_dist = self.graph.distance(inmate_cost, np.flatnonzero(L.zone == Zone.CORDON))
        self.flee_hop = self.graph.next_hop(self.flee_dist)
        interior_ground = np.where(ground & self.is_interior, 1.0, INF)
        free_cp = L.control_cells[~self.held[L.control_cells]]
        self.cp_hop = self.graph.next_hop(self.graph.distance(interior_ground, free_cp))
        self.intact_wall = self.is_wall & ~wall_open
        ext_cost = np.where(self.intact_wall, WALL_COST, np.where(closed_block, INF, 1.0))
        goals = np.flatnonzero(
            (self.adjacent_block >= 0)
            & ~self.block_open[np.maximum(self.adjacent_block, 0)]
            & self.is_interior
        )
        self.ext_dist = self.graph.distance(ext_cost, goals)
        self.ext_hop = self.graph.next_hop(self.ext_dist)
        self._structure_dirty = False
        self._trouble_due = self.steps

    def _refresh_trouble(self) -> None:
        """Field toward trouble (rioters, fleeing inmates, the active external force) for
        guards and responders, who pass everything but intact perimeter."""
        im, ex, L = self.inmates, self.external, self.layout
        trouble = np.r_[
            im.pos[im.in_state(Inmate.RIOTING, Inmate.FLEEING)],
            ex.pos[ex.in_state(*_EXTERNAL_ACTIVE)],
        ]
        wall_open = (self.is_wall & self.breached) | (L.zone == Zone.GATE)
        cost = np.where(self.is_wall & ~wall_open, INF, 1.0)
        self.trouble_hop = self.graph.next_hop(self.graph.distance(cost, np.unique(trouble)))
        self._trouble_due = self.steps + max(1, round(1.0 / self.dt_h))

    def _resolve_remaining_search(self) -> None:
        """Recaptures from control until the horizon for inmates still outside, drawn at once."""
        im = self.inmates
        remaining_h = self.p["horizon_h"] - self.t_h
        for mask, rate in (
            ((im.state == Inmate.FLEEING) & self.is_outside[im.pos], self.p["town_search_rate"]),
            (im.state == Inmate.ESCAPED, self.p["at_large_recapture_rate"]),
        ):
            idx = np.flatnonzero(mask)
            caught = rules.draw(
                self.rng, np.full(len(idx), 1.0 - rules.survival(rate, remaining_h))
            )
            im.state[idx[caught]] = Inmate.RECAPTURED

    def _count(self) -> None:
        """Per-state counts and the held share, for the DataCollector and the demo."""
        c = self.counts
        c["t_h"] = self.t_h
        for prefix, arr, states in (
            ("inmates", self.inmates, Inmate),
            ("guards", self.guards, Guard),
            ("responders", self.responders, Responder),
            ("external", self.external, External),
        ):
            counts = np.bincount(arr.state, minlength=len(states))
            for s in states:
                c[f"{prefix}_{s.name.lower()}"] = int(counts[s])
        c["share_held"] = float(self.held.sum() / self.n_interior)
        c["breaches"] = int(self.breached.sum())

    # ------------------------------------------------------------------ results

    def outcomes(self) -> dict[str, float]:
        """Every registered outcome of the current state (``sim.model.outcomes``)."""
        return compute_outcomes(self)

    def series_frame(self) -> pd.DataFrame:
        """The DataCollector's model variables indexed by ``t_h``."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.drop_duplicates("t_h", keep="last").set_index("t_h")


class _Maps:
    """Named (height, width) count maps; indexing by a list gives a stacked array."""

    NAMES = (
        "auth_strength",
        "auth_count",
        "upr_strength",
        "upr_count",
        "inmate_strength",
        "rioters",
        "inmates",
    )

    def __init__(self, stacked: np.ndarray):
        self._stacked = stacked
        self._index = {n: i for i, n in enumerate(self.NAMES)}

    def __getitem__(self, key: str | list[str]) -> np.ndarray:
        if isinstance(key, str):
            return self._stacked[self._index[key]]
        return self._stacked[[self._index[k] for k in key]]


def _state_counts(group: AgentArrays, n_cells: int, n_states: int) -> np.ndarray:
    """(n_cells, n_states) table: agents of ``group`` per cell and state."""
    key = group.pos * n_states + group.state
    return np.bincount(key, minlength=n_cells * n_states).reshape(n_cells, n_states)


@functools.cache
def _state_table(states: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(16, dtype=bool)
    table[list(states)] = True
    return table


def _reporter(name: str):
    return lambda m: m.counts[name]


def _spread(cells: np.ndarray, n: int) -> np.ndarray:
    """``n`` positions spread evenly along a row of cells (deterministic)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return cells[np.linspace(0, len(cells) - 1, n).round().astype(int)].astype(np.int64)


def _origin_probs(p: Mapping[str, Any]) -> np.ndarray:
    iraqi, third = p["iraqi_share"], p["third_country_share"]
    return np.array([1.0 - iraqi - third, iraqi, third])


def run_replicate(
    params: Mapping[str, Any] | None, seed: int, *, series_every_h: float | None = None
) -> RunOutput:
    """Build a model from ``params`` (overrides of the defaults), run it to the end.

    Deterministic in (params, seed). ``series_every_h`` asks for the time series sampled
    at that interval (rounded to whole steps).
    """
    values = resolve(params)
    dt_h = values["step_minutes"] / 60.0
    every = max(1, round(series_every_h / dt_h)) if series_every_h else 0
    model = FacilityModel(seed=int(seed), collect_every_steps=every, **values)
    model.run_model()
    series = model.series_frame() if series_every_h else None
    return RunOutput(outcomes=model.outcomes(), series=series, steps=model.steps)
