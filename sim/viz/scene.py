"""What the facility map shows, computed from a model's arrays (no drawing library).

:func:`facility_rgb` gives one RGB pixel per grid cell (ground colour, breached wall, held
cells, and the most common inmate state where inmates are); :func:`markers` gives the cells
holding guards, reinforcements and the external force. The browser page draws these as SVG
(:mod:`sim.viz.svg`) and ``prisonsim animate`` with matplotlib (:mod:`sim.viz.animation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from matplotlib.colors import to_rgb

from sim.model import FacilityModel
from sim.model.layout import Zone
from sim.viz.palette import (
    BREACHED,
    HELD,
    MARKER_GROUPS,
    Look,
    inmate_priority,
    inmate_rgb,
    marker_looks,
    rgb_table,
    zone_looks,
)


@cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    zones = rgb_table(zone_looks(), max(int(z) for z in Zone) + 1)
    return zones, inmate_rgb(), inmate_priority()


def dominant_inmate_state(model: FacilityModel) -> np.ndarray:
    """Per cell (flat), the most common inmate state there; -1 where no inmate is.

    Ties go to the more eventful state (:data:`sim.viz.palette.INMATE_PRIORITY`).
    """
    _, _, rank = _tables()
    n_states = len(rank)
    im, n_cells = model.inmates, model.layout.width * model.layout.height
    counts = np.bincount(im.pos * n_states + im.state, minlength=n_cells * n_states)
    counts = counts.reshape(n_cells, n_states)
    score = np.where(counts > 0, counts * (2 * n_states + 2) + rank, -1)
    return np.where(counts.sum(axis=1) > 0, score.argmax(axis=1), -1)


def facility_rgb(model: FacilityModel) -> np.ndarray:
    """(height, width, 3) floats in 0-1, one pixel per cell.

    Ground in muted zone colours; a breached wall cell and a cell held by the uprising
    are marked; a cell with inmates takes the colour of their most common state.
    """
    zones, states, _ = _tables()
    layout = model.layout
    rgb = zones[layout.zone].copy()
    breached = getattr(model, "breached", None)
    if breached is not None:
        wall = np.isin(layout.zone, (Zone.PERIMETER, Zone.GATE))
        rgb[wall & breached] = to_rgb(BREACHED[1])
    rgb[model.held] = to_rgb(HELD[1])
    dominant = dominant_inmate_state(model)
    present = dominant >= 0
    rgb[present] = states[dominant[present]]
    return rgb.reshape(layout.height, layout.width, 3)


@dataclass(frozen=True)
class MarkerCells:
    """The cells (x, y) where at least one agent shown with ``look`` stands."""

    look: Look
    x: np.ndarray
    y: np.ndarray


def markers(model: FacilityModel) -> list[MarkerCells]:
    """Marker cells of every drawn state of guards, reinforcements and external force.

    States sharing a look (e.g. guards on post and responding) are merged.
    """
    width = model.layout.width
    found: dict[Look, np.ndarray] = {}
    for group in MARKER_GROUPS:
        agents = getattr(model, group.attribute)
        for code, look in marker_looks(group).items():
            cells = agents.pos[agents.state == code]
            found[look] = np.union1d(found.get(look, np.zeros(0, dtype=np.int64)), cells)
    return [MarkerCells(look, cells % width, cells // width) for look, cells in found.items()]
