"""A schematic facility on a grid, built from a few scenario numbers. Never a real site.

The grid is a rectangle of cells, from the outside in:

* ``CORDON``: the outermost ring; an inmate who reaches it has left the area (escaped);
* ``TOWN``: ``town_depth_cells`` of surroundings between the cordon edge and the perimeter;
* ``PERIMETER``: a one-cell ring with an integrity value; one ``GATE`` cell in the middle
  of the south wall;
* ``YARD``: open interior ground, ``yard_margin_cells`` wide around and between buildings;
* ``BLOCK``: ``housing_blocks`` equal rectangles in a row, sized so that each holds its
  share of ``layout_capacity`` at ``persons_per_cell`` occupants per cell (the drawn size
  is a setting of its own: the ``capacity`` lever changes crowding, not the geometry);
* ``MINORS``: a separate, smaller wing at the east end of the row, sized for the minors;
* ``CONTROL``: two control points (control-room / store analogues) in the yard south of
  the row, near the gate.

Everything is a deterministic function of the numbers: the same numbers give the same grid.
Cells are addressed by a flat index ``y * width + x``; ``neighbours`` gives each cell's eight
Moore neighbours (``-1`` off the grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Zone(IntEnum):
    TOWN = 0
    CORDON = 1
    PERIMETER = 2
    YARD = 3
    BLOCK = 4
    MINORS = 5
    CONTROL = 6
    GATE = 7


INTERIOR_ZONES = (Zone.YARD, Zone.BLOCK, Zone.MINORS, Zone.CONTROL)
OUTSIDE_ZONES = (Zone.TOWN, Zone.CORDON)


@dataclass(frozen=True)
class Layout:
    """The grid and its derived lookup arrays (all flat, one entry per cell)."""

    width: int
    height: int
    zone: np.ndarray  # int8 Zone per cell
    block: np.ndarray  # int16: housing block index, n_blocks for the minors' wing, -1 else
    n_blocks: int  # adult housing blocks (the minors' wing is block index n_blocks)
    block_cells: tuple[np.ndarray, ...]  # flat cell indices of each block, minors last
    neighbours: np.ndarray  # (n_cells, 8) int32, -1 off-grid
    gate_cell: int
    control_cells: np.ndarray
    north_cordon_cells: np.ndarray  # where the external force arrives
    south_cordon_cells: np.ndarray  # where reinforcements arrive (the gate side)

    @property
    def n_cells(self) -> int:
        return self.width * self.height

    @property
    def interior(self) -> np.ndarray:
        """Boolean mask of cells inside the perimeter."""
        return np.isin(self.zone, INTERIOR_ZONES)

    @property
    def outside(self) -> np.ndarray:
        """Boolean mask of cells beyond the perimeter (town and cordon edge)."""
        return np.isin(self.zone, OUTSIDE_ZONES)

    def xy(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return cells % self.width, cells // self.width


def _rect_dims(n_cells: int) -> tuple[int, int]:
    """Width and height of the most nearly square rectangle with at least ``n_cells``."""
    w = max(1, math.ceil(math.sqrt(n_cells)))
    h = max(1, math.ceil(n_cells / w))
    return w, h


def moore_neighbours(width: int, height: int) -> np.ndarray:
    """(width*height, 8) flat indices of each cell's Moore neighbours, -1 off the grid."""
    ys, xs = np.divmod(np.arange(width * height), width)
    out = np.empty((width * height, 8), dtype=np.int32)
    offsets = [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]
    for k, (dx, dy) in enumerate(offsets):
        nx, ny = xs + dx, ys + dy
        ok = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        out[:, k] = np.where(ok, ny * width + nx, -1)
    return out


def build_layout(
    *,
    capacity: int,
    housing_blocks: int,
    persons_per_cell: int,
    minors_capacity: int,
    yard_margin_cells: int,
    town_depth_cells: int,
) -> Layout:
    """Lay out the schematic facility from its numbers (see the module docstring).

    Block size: ``ceil(capacity / housing_blocks / persons_per_cell)`` cells each; minors'
    wing: ``ceil(max(minors_capacity, 1) / persons_per_cell)`` cells.
    """
    m = yard_margin_cells
    per_block = math.ceil(capacity / housing_blocks / persons_per_cell)
    dims = [_rect_dims(per_block)] * housing_blocks
    dims.append(_rect_dims(math.ceil(max(minors_capacity, 1) / persons_per_cell)))
    row_h = max(h for _, h in dims)
    inner_w = m + sum(w + m for w, _ in dims)
    inner_h = m + row_h + m + 1 + m  # buildings, yard, control-point row, yard
    edge = 1 + town_depth_cells  # cordon ring + town depth
    width = inner_w + 2 + 2 * edge
    height = inner_h + 2 + 2 * edge
    grid = np.full((height, width), Zone.TOWN, dtype=np.int8)
    block = np.full((height, width), -1, dtype=np.int16)
    grid[0, :] = grid[-1, :] = grid[:, 0] = grid[:, -1] = Zone.CORDON
    x0, y0 = edge, edge  # perimeter's top-left corner
    x1, y1 = x0 + inner_w + 1, y0 + inner_h + 1  # bottom-right corner
    grid[y0 : y1 + 1, x0 : x1 + 1] = Zone.PERIMETER
    grid[y0 + 1 : y1, x0 + 1 : x1] = Zone.YARD
    x = x0 + 1 + m
    top = y0 + 1 + m
    for b, (w, h) in enumerate(dims):
        zone = Zone.MINORS if b == housing_blocks else Zone.BLOCK
        grid[top : top + h, x : x + w] = zone
        block[top : top + h, x : x + w] = b
        x += w + m
    gate_x = (x0 + x1) // 2
    grid[y1, gate_x] = Zone.GATE
    control_y = top + row_h + m
    control_xs = [gate_x - 1, gate_x + 1]
    for cx in control_xs:
        grid[control_y, cx] = Zone.CONTROL
    flat_block = block.ravel()
    block_cells = tuple(np.flatnonzero(flat_block == b) for b in range(housing_blocks + 1))
    row = np.arange(width)
    inner_cols = row[(row > x0) & (row < x1)]
    return Layout(
        width=width,
        height=height,
        zone=grid.ravel(),
        block=flat_block,
        n_blocks=housing_blocks,
        block_cells=block_cells,
        neighbours=moore_neighbours(width, height),
        gate_cell=int(y1 * width + gate_x),
        control_cells=np.array([control_y * width + cx for cx in control_xs], dtype=np.int64),
        north_cordon_cells=inner_cols.astype(np.int64),
        south_cordon_cells=((height - 1) * width + inner_cols).astype(np.int64),
    )


def layout_from_params(params: dict) -> Layout:
    """The layout for a resolved parameter dict."""
    return build_layout(
        capacity=int(params["layout_capacity"]),
        housing_blocks=int(params["housing_blocks"]),
        persons_per_cell=int(params["persons_per_cell"]),
        minors_capacity=int(params["inmates_minor"]),
        yard_margin_cells=int(params["yard_margin_cells"]),
        town_depth_cells=int(params["town_depth_cells"]),
    )
