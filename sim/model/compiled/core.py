"""Compiled building blocks: keyed uniforms, hazards, neighbourhood sums, distance fields.

Each function mirrors one of the numpy engine's and computes the same numbers in the same
order of floating-point operations, so the two engines agree draw for draw
(``tests/test_engines.py``). Compiled once per machine and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.model.streams import GOLDEN, ID_SPREAD, MIX1, MIX2

_GOLDEN = np.uint64(GOLDEN)
_MIX1 = np.uint64(MIX1)
_MIX2 = np.uint64(MIX2)
_SPREAD = np.uint64(ID_SPREAD)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
UNIT = 2.0**-53
INF = np.inf


@njit(cache=True, inline="always")
def mix(x):
    """splitmix64's output function (``sim.model.streams.mix``) on a uint64."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_key(seed_mixed, draw, tick):
    """``sim.model.streams.stream_key`` given ``mix(seed)``: mix(mix(mix(seed) ^ draw) ^ tick)."""
    return mix(mix(seed_mixed ^ np.uint64(draw)) ^ np.uint64(tick))


@njit(cache=True, inline="always")
def uniform(key, agent_id):
    """``sim.model.streams.uniforms`` for one id."""
    z = mix(np.uint64(key) ^ (np.uint64(agent_id) * _SPREAD))
    return float(z >> _S11) * UNIT


@njit(cache=True, inline="always")
def probability(hazard, dt):
    """``rules.hazard_to_probability``: 1 - exp(-max(h, 0) dt)."""
    return -math.expm1(-max(hazard, 0.0) * dt)


@njit(cache=True)
def distance(cost, goals, neighbours, dist, heap_cells, heap_keys):
    """``fields.GridGraph.distance``: cheapest path cost to the nearest goal, into ``dist``.

    Dijkstra with a binary heap. A move u -> v costs ``cost[v]``; a cell of infinite cost
    can be neither entered nor left (a goal of infinite cost gets 0 and spreads nothing).
    """
    n = cost.shape[0]
    dist[:] = INF
    size = 0
    for g in goals:
        if dist[g] > 0.0:
            dist[g] = 0.0
            size = _push(heap_cells, heap_keys, size, g, 0.0)
    while size > 0:
        v = heap_cells[0]
        dv = heap_keys[0]
        size = _pop(heap_cells, heap_keys, size)
        if dv > dist[v] or not np.isfinite(cost[v]):
            continue
        step = cost[v]
        for j in range(neighbours.shape[1]):
            u = neighbours[v, j]
            if u < 0 or not np.isfinite(cost[u]):
                continue
            nd = dv + step
            if nd < dist[u]:
                dist[u] = nd
                size = _push(heap_cells, heap_keys, size, u, nd)
    return n


@njit(cache=True)
def distance_unit(cost, goals, neighbours, dist, queue):
    """:func:`distance` when every enterable cell costs 1: breadth-first search, O(cells)."""
    distance_unit_until(cost, goals, neighbours, dist, queue, np.zeros(0, dtype=np.int64))


@njit(cache=True)
def distance_unit_until(cost, goals, neighbours, dist, queue, needed):
    """:func:`distance_unit`, stopped as soon as every cell of ``needed`` (with repeats;
    empty: none, so the whole field) has its distance. Returns whether the field is whole.

    In a breadth-first search a cell's first distance is its final one, so the distances
    of the needed cells are those of the whole field; cells not reached when it stops keep
    infinity, so only the needed cells may be read. A needed cell that cannot be entered
    and is not a goal keeps infinity in the whole field too, so it is not waited for.
    """
    dist[:] = INF
    head = 0
    tail = 0
    for g in goals:
        if dist[g] > 0.0:
            dist[g] = 0.0
            queue[tail] = g
            tail += 1
    waiting = 0
    for c in needed:
        if np.isfinite(cost[c]) and dist[c] == INF:
            dist[c] = -1.0  # a mark: waited for, not yet reached
            waiting += 1
    if needed.shape[0] == 0:
        waiting = -1  # the whole field
    while head < tail and waiting != 0:
        v = queue[head]
        head += 1
        if not np.isfinite(cost[v]):
            continue
        nd = dist[v] + 1.0
        for j in range(neighbours.shape[1]):
            u = neighbours[v, j]
            if u < 0 or not np.isfinite(cost[u]):
                continue
            if dist[u] < 0.0:
                waiting -= 1
            elif not nd < dist[u]:
                continue
            dist[u] = nd
            queue[tail] = u
            tail += 1
    for c in needed:
        if dist[c] < 0.0:
            dist[c] = INF  # waited for but unreachable: the whole field's value
    return head >= tail


@njit(cache=True, inline="always")
def _push(cells, keys, size, cell, key):
    i = size
    cells[i] = cell
    keys[i] = key
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= keys[i]:
            break
        cells[parent], cells[i] = cells[i], cells[parent]
        keys[parent], keys[i] = keys[i], keys[parent]
        i = parent
    return size + 1


@njit(cache=True, inline="always")
def _pop(cells, keys, size):
    size -= 1
    cells[0] = cells[size]
    keys[0] = keys[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        cells[child], cells[i] = cells[i], cells[child]
        keys[child], keys[i] = keys[i], keys[child]
        i = child
    return size


@njit(cache=True)
def choose_next_dist(cell, dist, neighbours, u):
    """:func:`choose_next` on :func:`best_neighbours` of ``dist``, for one cell only."""
    own = dist[cell]
    if not np.isfinite(own):
        return cell
    lowest = INF
    for j in range(neighbours.shape[1]):
        v = neighbours[cell, j]
        if v >= 0 and dist[v] < lowest:
            lowest = dist[v]
    if not lowest < own:
        return cell
    count = 0
    for j in range(neighbours.shape[1]):
        v = neighbours[cell, j]
        if v >= 0 and dist[v] == lowest:
            count += 1
    k = min(int(u * count), count - 1)
    for j in range(neighbours.shape[1]):
        v = neighbours[cell, j]
        if v >= 0 and dist[v] == lowest:
            if k == 0:
                return v
            k -= 1
    return cell
