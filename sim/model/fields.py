"""Distance fields on the grid, and the choice of a next cell down them.

Agents move toward goals by following a distance field: every cell holds the cost of the
cheapest path to the nearest goal cell, and an agent steps to a neighbour with the lowest
value. Costs are per cell entered: 1 for open ground, ``inf`` for cells a group cannot
enter, and for the external force a high finite cost for an intact perimeter cell (so its
field leads to the perimeter where the path to its goal is shortest, and a breach opens
the way). Fields are computed in C by ``scipy.sparse.csgraph.dijkstra`` on the reversed
grid graph.

Where several neighbours are equally good, the agent picks one of them with its own keyed
uniform (:mod:`sim.model.streams`), so a crowd spreads over equally good cells instead of
following one fixed tie-break into a single file.
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

        ``cost[c]`` is the cost of entering cell c (``inf``: cannot enter); a cell that
        cannot be entered cannot be left either. Formula: d(goal) = 0; d(u) = min over
        neighbours v of cost(v) + d(v); ``inf`` where no goal can be reached.
        """
        if len(goals) == 0:
            return np.full(self.n_cells, INF)
        graph = self._reversed_graph(cost)
        return dijkstra(graph, directed=True, indices=np.asarray(goals), min_only=True)


def best_neighbours(dist: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """(n_cells, 8) mask of each cell's neighbours on a shortest path down ``dist``.

    A neighbour qualifies when its distance is the lowest among the cell's neighbours and
    strictly below the cell's own finite distance; a cell at a goal, or with no finite
    distance, has none (its agents stay).
    """
    padded = np.append(dist, INF)  # index -1 (off the grid) -> INF
    nd = padded[neighbours]
    lowest = nd.min(axis=1)
    useful = np.isfinite(dist) & (lowest < dist)
    return (nd == lowest[:, None]) & useful[:, None]


def choose_next(
    cells: np.ndarray, mask: np.ndarray, neighbours: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Next cell of agents standing on ``cells``: one of the qualifying neighbours in
    ``mask``, the k-th with k = floor(u x count); the agent's own cell when none qualify.

    ``u`` are the agents' uniforms for this choice (one each).
    """
    rows = mask[cells]
    count = rows.sum(axis=1)
    k = np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
    # Position of the k-th True in each row: first index where the running count exceeds k.
    slot = np.argmax(np.cumsum(rows, axis=1) > k[:, None], axis=1)
    nxt = neighbours[cells, slot]
    return np.where(count > 0, nxt, cells)
