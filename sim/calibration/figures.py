"""Figures of a calibration: simulated outcomes against the reported ranges, the simulated
tallies against the reported ones, and the posterior's pairs.

Each takes plain tables (no store, no model) and returns a matplotlib Figure in the house
style of :mod:`sim.analysis.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.plots import label, short, styled
from sim.calibration.config import Prior
from sim.calibration.posterior import WEIGHT
from sim.calibration.targets import Targets, tally_name

SIMULATED = "#2d3047"
REPORTED = "#d1495b"


@styled
def targets_against_ranges(runs: dict[str, pd.DataFrame], targets: Targets) -> Figure:
    """One panel per reported range: each run set's outcomes as a box over dots, the
    reported range shaded, its central value marked; the title gives the share inside."""
    n = len(targets.ranges)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.3 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    names = list(runs)
    for ax, (outcome, r) in zip(axes, targets.ranges, strict=False):
        ax.axhspan(r.low, r.high, color=REPORTED, alpha=0.12, label="reported range")
        if r.central is not None:
            ax.axhline(r.central, color=REPORTED, lw=1.5, ls="--", label="reported central")
        shares = []
        for i, name in enumerate(names):
            v = runs[name][outcome].to_numpy(dtype=float)
            jitter = (np.arange(len(v)) % 21 - 10) / 60
            ax.plot(i + jitter, v, "o", ms=2.2, alpha=0.35, color=SIMULATED)
            ax.boxplot(v, positions=[i], widths=0.5, showfliers=False)
            shares.append(f"{np.mean((v >= r.low) & (v <= r.high)):.0%}")
        ax.set_xticks(range(len(names)), [n.replace(", ", ",\n") for n in names], fontsize=8)
        ax.set_ylabel(label(outcome))
        ax.set_title(f"{short(outcome)}: inside {' / '.join(shares)}", fontsize=10)
    for ax in axes[n:]:
        ax.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
    fig.suptitle("Simulated outcomes against the reported ranges", fontsize=11)
    return fig


@styled
def tallies_against_reports(
    curves: dict[str, np.ndarray], hours: np.ndarray, targets: Targets
) -> Figure:
    """One panel per tally: the simulated running count over time (median, 50 % and 90 %
    bands over runs) and the reported points with their tolerance (a factor either way)."""
    n = len(targets.tallies)
    fig = Figure(figsize=(5.2 * n, 3.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False).ravel()
    tol = targets.tolerance
    for ax, (outcome, tally) in zip(axes, targets.tallies, strict=True):
        c = curves[outcome]
        q = np.nanquantile(c, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        ax.fill_between(hours, q[0], q[4], color=SIMULATED, alpha=0.12, label="simulated, 90 %")
        ax.fill_between(hours, q[1], q[3], color=SIMULATED, alpha=0.25, label="simulated, 50 %")
        ax.plot(hours, q[2], color=SIMULATED, lw=1.8, label="simulated, median")
        z = np.array(tally.values)
        ax.errorbar(
            tally.hours,
            z,
            yerr=[z - z / tol, z * tol - z],
            fmt="o",
            color=REPORTED,
            capsize=3,
            label=f"reported (within x{tol:g})",
        )
        ax.set_xlim(0, max(max(tally.hours) + 24, 24))
        ax.set_xlabel("time since the event began (h)")
        ax.set_ylabel(f"{short(outcome)}, running count (persons)")
        span = f"{tally.dates[0]} to {tally.dates[-1]}" if tally.dates else ""
        ax.set_title(f"{short(outcome)}: reported tally, {span}", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False)
    return fig


@styled
def posterior_pairs(posterior: pd.DataFrame, priors: Sequence[Prior]) -> Figure:
    """Pairs of the posterior: weighted histograms on the diagonal, the particles below it
    (darker for larger weights), on each parameter's prior range."""
    k = len(priors)
    size = max(1.05, 14 / k)
    fig = Figure(figsize=(size * k, size * k), layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    w = posterior[WEIGHT].to_numpy()
    alpha = 0.15 + 0.85 * w / w.max()
    for i, pi in enumerate(priors):
        for j, pj in enumerate(priors):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(
                    posterior[pi.name], bins=15, range=(pi.low, pi.high), weights=w, color=SIMULATED
                )
            else:
                ax.scatter(
                    posterior[pj.name],
                    posterior[pi.name],
                    s=3,
                    c=SIMULATED,
                    alpha=alpha,
                    linewidths=0,
                )
                ax.set_ylim(pi.low, pi.high)
            ax.set_xlim(pj.low, pj.high)
            ax.tick_params(labelsize=5, length=2)
            if i == k - 1:
                ax.set_xlabel(short(pj.name), fontsize=6)
            if j == 0 and i > 0:
                ax.set_ylabel(short(pi.name), fontsize=6)
    fig.suptitle("Posterior: pairs of calibrated parameters (prior ranges as axes)", fontsize=11)
    return fig


def tally_curves(
    series: Sequence[pd.DataFrame], outcome_series: dict[str, str], hours: np.ndarray
) -> dict[str, np.ndarray]:
    """Running counts of each tallied outcome on a common hourly grid, one row per run (a
    run that ended keeps its last count)."""
    out = {}
    for outcome, column in outcome_series.items():
        rows = []
        for s in series:
            values = s[column].reindex(s.index.union(hours)).ffill().reindex(hours)
            rows.append(values.fillna(0.0).to_numpy(dtype=float))
        out[outcome] = np.array(rows)
    return out


__all__ = [
    "posterior_pairs",
    "tallies_against_reports",
    "tally_curves",
    "tally_name",
    "targets_against_ranges",
]
