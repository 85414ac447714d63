"""TEMPORARY STUB (being replaced by the real engine in the same session).

Public API that the runner relies on: ``run_replicate(params, seed, series_every_h=None)``
returning a :class:`RunOutput`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.outcomes import OUTCOMES
from sim.params import resolve
from sim.states import series_names


@dataclass
class RunOutput:
    """What one replicate returns.

    outcomes: registered outcome name -> value.
    series: DataFrame indexed by ``t_h`` (hours) with one column per series name
        (``sim.states.series_names()``), sampled every ``series_every_h``; None if not asked.
    steps: model steps taken.
    """

    outcomes: dict[str, float]
    series: pd.DataFrame | None
    steps: int


def run_replicate(
    params: Mapping[str, Any] | None, seed: int, *, series_every_h: float | None = None
) -> RunOutput:
    values = resolve(params)
    rng = np.random.default_rng(seed)
    outcomes = {n: float(rng.poisson(100) * (1 + values["attackers"] / 1000)) for n in OUTCOMES}
    series = None
    if series_every_h:
        t = np.arange(0, 48 + 1e-9, series_every_h)
        series = pd.DataFrame(
            {n: rng.poisson(50, len(t)).astype(float) for n in series_names()},
            index=pd.Index(t, name="t_h"),
        )
    return RunOutput(outcomes=outcomes, series=series, steps=192)
