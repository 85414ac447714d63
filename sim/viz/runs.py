"""Many replicates of one setting, for the demo's "Many runs" page (no UI library).

One run is one draw: the same settings with another seed give another history. The page
runs seeds ``1..N`` of the current settings one after another in a background thread
(a teaching run takes about a tenth of a second) and shows each outcome's spread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.plots import label, short, unit
from sim.analysis.tables import reported_range
from sim.model import run_replicate
from sim.viz.explain import exact
from sim.viz.inputs import fit_joint
from sim.viz.svg import Band, dot_plot_svg

DEFAULT_RUNS = 50
MAX_RUNS = 1000


def run_many(
    params: Mapping[str, Any],
    seeds: Sequence[int],
    on_progress: Callable[[int], None] = lambda done: None,
    stop: Callable[[], bool] = lambda: False,
) -> pd.DataFrame:
    """Outcomes of one run per seed (rows; a ``seed`` column), in seed order.

    ``on_progress(done)`` is called after each run; ``stop()`` is checked before each run,
    and the runs finished so far are returned when it says so.
    """
    fitted, _ = fit_joint(params)
    rows = []
    for done, seed in enumerate(seeds, start=1):
        if stop():
            break
        rows.append({"seed": int(seed), **run_replicate(fitted, int(seed)).outcomes})
        on_progress(done)
    return pd.DataFrame(rows)


def summary_rows(runs: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    """Per outcome: name with unit, mean, median, 5-95% range, min-max (exact numbers)."""
    rows = []
    for name in outcomes:
        v = runs[name].to_numpy(dtype=float)
        q05, q50, q95 = np.quantile(v, (0.05, 0.5, 0.95))
        rows.append(
            [
                label(name),
                exact(float(v.mean())),
                exact(float(q50)),
                f"{exact(float(q05))} to {exact(float(q95))}",
                f"{exact(float(v.min()))} to {exact(float(v.max()))}",
            ]
        )
    return rows


def reported_band(outcome: str) -> Band | None:
    """The reported low-high range of ``outcome`` as a shaded band, if it has one."""
    rng = reported_range(outcome)
    if rng is None:
        return None
    return Band(rng["low"], rng["high"], f"reported range {exact(rng['low'])}-{exact(rng['high'])}")


def distribution_svg(
    runs: pd.DataFrame,
    outcome: str,
    *,
    show_reported: bool,
    live_value: float | None = None,
) -> str:
    """One outcome's dot histogram over the runs (one dot per run), mean dashed."""
    band = reported_band(outcome) if show_reported else None
    return dot_plot_svg(
        runs[outcome].to_numpy(dtype=float),
        title=short(outcome),
        xlabel=unit(outcome),
        band=band,
        highlight=live_value,
        highlight_text=f"the live run: {exact(live_value)}" if live_value is not None else "",
    )
