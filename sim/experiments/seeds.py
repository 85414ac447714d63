"""Replicate seeds, derived from content rather than position.

One stream per (design point, replicate) comes from :class:`numpy.random.SeedSequence`
with the experiment's master seed as entropy and, as spawn key, a digest of the point's
*uncertainty* values plus the replicate index. Lever values are deliberately left out:
two policy arms facing the same outside conditions get the same seeds (common random
numbers), so their outcomes can be compared pairwise. Because the key is the content,
adding, removing or reordering design points never changes another point's seeds.

Seeds are plain Python ints below 2**63: Mesa 3.3 rejects numpy integers and SQLite's
INTEGER is signed 64-bit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.config.loading import INT_LIMIT

SEED_LIMIT = INT_LIMIT
"""Seeds lie in [0, 2**63): they are stored as SQLite INTEGERs (signed 64-bit)."""
SEED_RANGE = "0 to 2**63-1"
"""How messages state the allowed seeds."""
DEFAULT_SEED = 1
"""The seed of a single run (``prisonsim run``, ``animate``, the demo) when none is given."""


def seed_in_range(value: int) -> bool:
    """Whether ``value`` is an allowed seed (or master seed): 0 <= value < 2**63."""
    return 0 <= value < SEED_LIMIT


def canonical_json(data: Any) -> str:
    """Stable JSON text of ``data`` (sorted keys, no spaces), used for hashes and keys."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_digest(values: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``values``."""
    return hashlib.sha256(canonical_json(dict(values)).encode()).hexdigest()


def derive_seed(master_seed: int, uncertainty_values: Mapping[str, Any], replicate: int) -> int:
    """The seed of one run: a plain int in [0, 2**63).

    ``uncertainty_values`` are the values of every uncertainty at the design point (not
    the levers), so arms share seeds; ``replicate`` is the replicate index.
    """
    if not seed_in_range(master_seed):
        raise ValueError(f"master_seed {master_seed} is out of range; allowed: {SEED_RANGE}")
    words = [
        int(w)
        for w in np.frombuffer(bytes.fromhex(content_digest(uncertainty_values)), dtype="<u4")[:4]
    ]
    seq = np.random.SeedSequence(entropy=master_seed, spawn_key=(*words, int(replicate)))
    hi, lo = (int(x) for x in seq.generate_state(2, dtype=np.uint32))
    return ((hi << 32) | lo) >> 1
