"""Random numbers keyed by purpose, agent and time: common random numbers by construction.

Every random decision of the model has its own stream (:class:`Draw`), and every agent
its own slot in it: the uniform an agent draws for a decision at a tick is a hash of
(run seed, decision, tick, agent id), whatever other agents do. Two policy arms that
differ in one lever therefore make the same draws everywhere the lever does not act, and
paired comparisons stay paired (the design of Starsim's common random numbers: Kerr et
al. 2024, "Common random numbers for agent-based models", arXiv 2409.02086).

The hash is splitmix64's finaliser (Steele, Lea and Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA; constants from Vigna's reference code), a
bijective 64-bit mixer: ``u = (mix(key(seed, decision, tick) xor id * K) >> 11) / 2**53``.
Stream keys are computed once per (decision, tick) in Python integers; the per-agent part
is vectorised (numpy wraps uint64 arithmetic modulo 2**64, as the compiled engine does).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
ID_SPREAD = 0xD6E8FEB86659FD93
"""Odd multiplier that spreads consecutive agent ids over the 64-bit space."""
UNIT = 2.0**-53

GROUP_SHIFT = 24
"""Agent ids are ``group << GROUP_SHIFT | index``: unique across the four groups."""


class Draw(IntEnum):
    """One stream per random decision (the values are part of the model: never reuse one)."""

    HARDENED = 1
    REPATRIATION = 2
    MINOR_ORIGIN = 3
    INMATE_CELL = 4
    GRIEVANCE = 5
    RISK_AVERSION = 6
    GUARD_POST = 7
    GUARD_BLOCK = 8
    GUARD_CELL = 9
    INITIAL_RISE = 10
    BREACH = 11
    RIOT = 12
    SEIZE = 13
    FLEE = 14
    CONTAIN = 15
    SEARCH = 16
    HOSTAGE_HARM = 17
    ATTRITION = 18
    GUARD_CAPTURE = 19
    MOVE_CHOICE = 20
    MOVE_PRIORITY = 21
    SEARCH_TO_HORIZON = 22
    AIR_STRIKE = 23


class Group(IntEnum):
    INMATE = 0
    GUARD = 1
    RESPONDER = 2
    EXTERNAL = 3


def mix(x: int) -> int:
    """splitmix64's output function on a Python int (taken modulo 2**64)."""
    z = (x + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def stream_key(seed: int, draw: int, tick: int) -> int:
    """The key of one decision's stream at one tick: ``mix(mix(mix(seed) ^ draw) ^ tick)``."""
    return mix(mix(mix(seed & MASK64) ^ int(draw)) ^ (tick & MASK64))


def mix_array(x: np.ndarray) -> np.ndarray:
    """:func:`mix` on a uint64 array (wrapping arithmetic)."""
    z = x + np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def uniforms(key: int, ids: np.ndarray) -> np.ndarray:
    """One uniform in [0, 1) per id: ``(mix(key ^ id * ID_SPREAD) >> 11) * 2**-53``."""
    z = mix_array(np.uint64(key) ^ (np.asarray(ids, dtype=np.uint64) * np.uint64(ID_SPREAD)))
    return (z >> np.uint64(11)).astype(np.float64) * UNIT


def agent_ids(group: Group, n: int, start: int = 0) -> np.ndarray:
    """Ids ``group << GROUP_SHIFT | i`` for i in [start, start + n)."""
    return (int(group) << GROUP_SHIFT) + np.arange(start, start + n, dtype=np.int64)


class Streams:
    """The keyed uniforms of one run: ``streams.uniform(Draw.RIOT, tick, ids)``."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._keys: dict[tuple[int, int], int] = {}

    def key(self, draw: Draw, tick: int) -> int:
        k = (int(draw), int(tick))
        key = self._keys.get(k)
        if key is None:
            if len(self._keys) > 4096:
                self._keys.clear()
            key = self._keys[k] = stream_key(self.seed, draw, tick)
        return key

    def uniform(self, draw: Draw, tick: int, ids: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1) for ``ids`` in the stream of ``draw`` at ``tick``."""
        return uniforms(self.key(draw, tick), ids)

    def bernoulli(self, draw: Draw, tick: int, ids: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``uniform < p`` per id (``p`` broadcast against ``ids``)."""
        return self.uniform(draw, tick, ids) < p
