"""Phase 2, ``external_force``: its fixed, simple schedule (approach, breach, open, hold,
withdraw). Nothing in the model or its experiments changes or optimises this behaviour.

Withdrawal: every active agent withdraws (leaves the model) ``external_hold_h`` hours after
the event's start, or once ``external_withdraw_loss_share`` of the force's members are
incapacitated: the force counts its own losses, not members who never came in.

Breach: an agent outside whose next cell on its field is intact perimeter is breaching; a
perimeter cell with n agents breaching it is breached at ``rules.breach_hazard`` (a full
team of ``breach_team_size`` works at the full rate, so a larger force acts by attacking
more cells). Opening: an agent inside standing at its goal (a yard cell touching a closed
block that holds inmates) opens that block. Once no such block is left, agents inside
hold their ground and agents still outside come in to hold.
"""

from __future__ import annotations

import numpy as np

from sim.model import rules
from sim.model.phases.common import external_outside, next_cells, refresh_structure_fields
from sim.model.states import External
from sim.model.streams import Draw
from sim.model.world import World


def run(w: World) -> None:
    ex = w.external
    active = w.external_active()
    if not active.any():
        return
    if _withdraws(w):
        idx = np.flatnonzero(active)
        ex.state[idx] = External.WITHDRAWN
        w.mark_changed(ex, idx)
        return
    refresh_structure_fields(w)
    _breach(w)
    _open_blocks(w)
    if not w.closed_occupied_blocks().any():
        ex.state[ex.state == External.INSIDE] = External.HOLDING


def _withdraws(w: World) -> bool:
    p = w.p
    if (w.tick - 1) * w.tick_h >= p["external_hold_h"] - 1e-9:
        return True
    lost = int((w.external.state == External.INCAPACITATED).sum())
    return lost >= p["external_withdraw_loss_share"] * w.external_initial > 0


def _breach(w: World) -> None:
    ex, p = w.external, w.p
    outside = np.flatnonzero(external_outside(w))
    if not len(outside):
        return
    nxt = next_cells(w, ex, outside, "ext_next")
    at_wall = w.fields["intact_wall"][nxt] & (nxt != ex.pos[outside])
    ex.state[outside] = np.where(at_wall, External.BREACHING, External.APPROACHING)
    if not at_wall.any():
        return
    n_at = np.bincount(nxt[at_wall], minlength=w.layout.n_cells)
    cells = np.flatnonzero(n_at)
    hazard = rules.breach_hazard(
        n_at[cells], w.integrity[cells], p["breach_rate"], p["breach_team_size"]
    )
    opened = cells[w.uniform(Draw.BREACH, cells) < w.probability(hazard)]
    if len(opened):
        w.breached[opened] = True
        w.structure_dirty = True


def _open_blocks(w: World) -> None:
    ex = w.external
    inside = np.flatnonzero(ex.state == External.INSIDE)
    if not len(inside):
        return
    at_goal = inside[w.fields["ext"][ex.pos[inside]] == 0]
    closed = w.closed_occupied_blocks()
    for block in np.unique(w.adjacent_block[ex.pos[at_goal]]):
        if block >= 0 and closed[block]:
            w.open_block(int(block))
