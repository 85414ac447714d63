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


# ----------------------------------------------------------------------------- two policies
def run_pairs(
    params_a: Mapping[str, Any],
    params_b: Mapping[str, Any],
    seeds: Sequence[int],
    on_progress: Callable[[int], None] = lambda done: None,
    stop: Callable[[], bool] = lambda: False,
) -> pd.DataFrame:
    """Policies A and B on the same seeds: one row per (seed, arm), arm ``A`` or ``B``.

    The same seed gives both the same conditions and random numbers (common random
    numbers), so B - A for one seed is the policy's effect in that history plus the noise
    the change sets off. ``on_progress(done)`` counts seeds with both arms run; ``stop()``
    is checked before each seed, and the pairs finished so far are returned.
    """
    fitted = [fit_joint(p)[0] for p in (params_a, params_b)]
    rows = []
    for done, seed in enumerate(seeds, start=1):
        if stop():
            break
        for arm, params in zip("AB", fitted, strict=True):
            rows.append(
                {"seed": int(seed), "arm": arm, **run_replicate(params, int(seed)).outcomes}
            )
        on_progress(done)
    return pd.DataFrame(rows)


def paired_differences(pairs: pd.DataFrame, outcome: str) -> np.ndarray:
    """B - A of ``outcome`` for each seed that has both arms, in seed order."""
    wide = pairs.pivot(index="seed", columns="arm", values=outcome).dropna()
    return (wide["B"] - wide["A"]).to_numpy(dtype=float)


def pair_rows(pairs: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    """Per outcome: name with unit, mean of A, of B, of B - A with about 95 % of its
    uncertainty (mean +- 1.96 standard errors over the seeds), and in how many seeds
    B was lower, the same, higher (exact numbers)."""
    rows = []
    for name in outcomes:
        d = paired_differences(pairs, name)
        mean_arm = pairs.groupby("arm")[name].mean()
        half = 1.96 * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        rows.append(
            [
                label(name),
                exact(float(mean_arm.get("A", np.nan))),
                exact(float(mean_arm.get("B", np.nan))),
                f"{exact(float(d.mean()))} ({exact(float(d.mean() - half))} to "
                f"{exact(float(d.mean() + half))})",
                f"{int((d < 0).sum())} / {int((d == 0).sum())} / {int((d > 0).sum())}",
            ]
        )
    return rows


def difference_svg(pairs: pd.DataFrame, outcome: str) -> str:
    """One outcome's B - A over the seeds as a dot histogram, with the line of no
    difference (0) and the mean dashed."""
    return dot_plot_svg(
        paired_differences(pairs, outcome),
        title=f"{short(outcome)}: B − A",
        xlabel=unit(outcome),
        band=Band(0.0, 0.0, "no difference (B = A)"),
        css_class="prisonsim-dots prisonsim-pair-dots",
    )
