"""Distance fields on the grid, and one step down them.

Agents move toward goals by following a distance field: every cell holds the cost of the
cheapest path to the nearest goal cell, and an agent steps to the neighbour with the
lowest value. Costs are per cell entered: 1 for open ground, ``inf`` for cells a group
cannot enter, and for the external force a high finite cost for an intact perimeter cell
(so its field leads to the perimeter where the path to its goal is shortest, and a breach
opens the way). Fields are computed in C by ``scipy.sparse.csgraph.dijkstra`` on the
reversed grid graph, so recomputing one costs well under a millisecond at Ghwayran scale.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

INF = np.inf


class GridGraph:
    """The Moore-neighbour graph of a layout, kept as flat edge arrays."""

    def __init__(self, neighbours: np.ndarray):
        n_cells = neighbours.shape[0]
        src = np.repeat(np.arange(n_cells, dtype=np.int32), neighbours.shape[1])
        dst = neighbours.ravel()
        keep = dst >= 0
        self.n_cells = n_cells
        self.src = src[keep]  # a move from src ...
        self.dst = dst[keep]  # ... into dst
        self.neighbours = neighbours
        self._graphs: dict[bytes, csr_matrix] = {}

    def _reversed_graph(self, cost: np.ndarray) -> csr_matrix:
        """The reversed, cost-weighted graph; cached per cost array (fields are often
        recomputed for new goals on unchanged ground)."""
        key = cost.tobytes()
        graph = self._graphs.get(key)
        if graph is None:
            enterable = np.isfinite(cost[self.dst]) & np.isfinite(cost[self.src])
            # An edge v -> u of weight cost(v) for every move u -> v.
            w = cost[self.dst[enterable]]
            graph = csr_matrix(
                (w, (self.dst[enterable], self.src[enterable])),
                shape=(self.n_cells, self.n_cells),
            )
            if len(self._graphs) >= 16:
                self._graphs.clear()
            self._graphs[key] = graph
        return graph

    def distance(self, cost: np.ndarray, goals: np.ndarray) -> np.ndarray:
        """Cost of the cheapest path from every cell to the nearest of ``goals``.

        ``cost[c]`` is the cost of entering cell c (``inf``: cannot enter). The distance
        of a cell that cannot enter any neighbour toward a goal is ``inf``. Formula:
        d(goal) = 0; d(u) = min over neighbours v of cost(v) + d(v).
        """
        if len(goals) == 0:
            return np.full(self.n_cells, INF)
        graph = self._reversed_graph(cost)
        return dijkstra(graph, directed=True, indices=np.asarray(goals), min_only=True)

    def next_hop(self, dist: np.ndarray) -> np.ndarray:
        """For every cell, the neighbour with the lowest distance, or itself if none is lower.

        A cell with infinite distance (one the group cannot enter or leave toward a goal,
        e.g. a closed block) keeps its agents where they are. Ties go to the first neighbour
        in the fixed order of ``moore_neighbours``, so movement is deterministic given the
        field.
        """
        padded = np.append(dist, INF)  # index -1 -> INF
        nd = padded[self.neighbours]
        best = np.argmin(nd, axis=1)
        idx = np.arange(self.n_cells)
        hop = self.neighbours[idx, best]
        stay = ~(nd[idx, best] < dist) | ~np.isfinite(dist)
        hop[stay] = idx[stay]
        return hop


def advance(pos: np.ndarray, hop: np.ndarray, steps: int) -> np.ndarray:
    """Positions after ``steps`` moves along a next-hop table."""
    for _ in range(steps):
        pos = hop[pos]
    return pos
