"""Tidy analysis tables from a :class:`~sim.experiments.contract.Results` (never from a live model).

Every function takes a ``Results`` (or its ``runs``/``series`` tables) and returns a
long ("tidy") pandas DataFrame: one row per (group, outcome[, statistic]). Plots and the
HTML report draw from these tables only.

Intervals
---------
Per-group means carry a **percentile bootstrap** interval over replicates: with the
``n`` values ``x_1..x_n`` of a group, draw ``B`` resamples of size ``n`` with replacement,
take each resample's mean ``m_b = (1/n) sum_i w_bi x_i`` (``w_b`` the multinomial counts
of the resample), and report the ``(1-level)/2`` and ``(1+level)/2`` quantiles of
``m_1..m_B``. The resamples are drawn once per group size from a seeded generator and
reused for every group and outcome of that size: one matrix product does them all, and
because arm ``a`` and arm ``b`` are resampled at the same replicate positions the
intervals are those of a paired bootstrap under common random numbers. A group with fewer
than 2 values gets no interval (``ci_low``/``ci_high`` are NaN and ``note`` says why).

Paired differences pair runs **on seed**: under common random numbers a run of arm ``a``
and a run of the reference arm with the same seed share (uncertainty values, replicate),
so ``d = y_a - y_ref`` removes the noise both share. The table reports ``mean(d)`` with its
bootstrap interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.contract import Results

DEFAULT_BOOT = 2000
DEFAULT_SEED = 20220120
LEVEL = 0.95
# More distinct lever values than this and a response curve bins the lever (equal counts).
MAX_LEVELS = 12
N_BINS = 10


# ----------------------------------------------------------------------------- bootstrap
def _weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Resample counts, shape (n_boot, n): ``w[b, i]`` = times value i is drawn in resample b.

    Equivalent to Multinomial(n, 1/n) per row, drawn as ``n`` uniform indices per resample
    and counted with one ``bincount`` (much faster than ``Generator.multinomial`` for large n).
    """
    rng = np.random.default_rng([seed, n])
    idx = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def bootstrap_means(
    matrix: np.ndarray, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Bootstrap means of each row of ``matrix`` (shape (g, n)): returns (g, n_boot).

    ``m[g, b] = (1/n) * sum_i w[b, i] * x[g, i]`` with ``w[b]`` ~ Multinomial(n, 1/n).
    """
    matrix = np.asarray(matrix, dtype=float)
    n = matrix.shape[1]
    return matrix @ _weights(n, n_boot, seed).T / n


def percentile_interval(
    matrix: np.ndarray, level: float = LEVEL, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean of each row of ``matrix`` (g, n).

    Returns (low, high), each of shape (g,): the ``(1-level)/2`` and ``(1+level)/2``
    quantiles of the bootstrap means. Rows with n < 2 give NaN.
    """
    matrix = np.asarray(matrix, dtype=float)
    g, n = matrix.shape
    if n < 2:
        nan = np.full(g, np.nan)
        return nan, nan.copy()
    means = bootstrap_means(matrix, n_boot, seed)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=1)
    return low, high


def _group_stats(
    long: pd.DataFrame, keys: list[str], level: float, n_boot: int, seed: int
) -> pd.DataFrame:
    """Mean, sd, median, n and bootstrap interval of ``value`` per ``keys`` group.

    ``long`` has the key columns and ``value`` (NaNs already dropped); rows of a group must
    be in replicate/seed order (positions are paired across groups of equal size).
    """
    if long.empty:
        cols = [*keys, "n", "mean", "sd", "median", "ci_low", "ci_high", "note"]
        return pd.DataFrame(columns=cols)
    grouped = long.groupby(keys, sort=False, dropna=False)["value"]
    stats = grouped.agg(n="size", mean="mean", sd="std", median="median").reset_index()
    stats["ci_low"] = np.nan
    stats["ci_high"] = np.nan
    pos = grouped.cumcount().to_numpy()
    gid = grouped.ngroup().to_numpy()
    sizes = stats["n"].to_numpy()
    values = long["value"].to_numpy(dtype=float)
    for n in np.unique(sizes):
        if n < 2:
            continue
        members = np.flatnonzero(sizes == n)
        mat = np.full((len(members), n), np.nan)
        row_of = np.full(len(stats), -1)
        row_of[members] = np.arange(len(members))
        take = row_of[gid] >= 0
        mat[row_of[gid[take]], pos[take]] = values[take]
        low, high = percentile_interval(mat, level, n_boot, seed)
        stats.loc[members, "ci_low"] = low
        stats.loc[members, "ci_high"] = high
    stats["n"] = stats["n"].astype(int)
    stats["note"] = np.where(
        stats["n"] < 2,
        np.where(stats["n"] == 1, "1 replicate: no interval", "no runs"),
        "",
    )
    return stats


def _long(runs: pd.DataFrame, keys: list[str], outcomes: Sequence[str]) -> pd.DataFrame:
    """Melt ``runs`` to (keys..., outcome, value), dropping NaN values, in seed order."""
    order = [c for c in ("seed", "replicate") if c in runs.columns]
    frame = runs.sort_values(order, kind="stable") if order else runs
    long = frame.melt(
        id_vars=keys, value_vars=list(outcomes), var_name="outcome", value_name="value"
    )
    return long.dropna(subset=["value"])


def _stats_by(
    runs: pd.DataFrame,
    keys: list[str],
    outcomes: Sequence[str],
    level: float,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """:func:`_group_stats` of every outcome of ``runs`` per ``keys`` group."""
    return _group_stats(_long(runs, keys, outcomes), [*keys, "outcome"], level, n_boot, seed)


def _ordered(table: pd.DataFrame, outcomes: Sequence[str], arms: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by outcome (given order), then arm (design order)."""
    rank = {
        "outcome": {o: i for i, o in enumerate(outcomes)},
        "arm": {a: i for i, a in enumerate(arms)},
    }
    table = table.sort_values(["outcome", "arm"], key=lambda c: c.map(rank[c.name]), kind="stable")
    return table.reset_index(drop=True)


def _sorted_by(table: pd.DataFrame, outcomes: Sequence[str], keys: list[str]) -> pd.DataFrame:
    """Rows sorted by outcome (given order), then by the value columns ``keys``."""
    rank = {o: i for i, o in enumerate(outcomes)}
    table = table.assign(_rank=table["outcome"].map(rank)).sort_values(["_rank", *keys])
    return table.drop(columns="_rank").reset_index(drop=True)


# ----------------------------------------------------------------------------- summaries
def arm_order(results: Results) -> list[str]:
    """Arms with a finished or failed run, in design order."""
    present = set(results.runs["arm"]) | set(results.failures["arm"])
    return [arm for arm in results.arms if arm in present]


def reference_arm(results: Results) -> str | None:
    """The arm others are compared with: the experiment's ``reference_arm`` (by default
    its first arm) if it has finished runs, else the first arm in design order that has."""
    ref = results.spec.reference_arm
    done = set(results.runs["arm"]) if len(results.runs) else set()
    if ref in done:
        return str(ref)
    for arm in arm_order(results):
        if arm in done:
            return arm
    return None


def summarise(
    results: Results,
    by: Sequence[str] = ("arm",),
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Per-group summary of each outcome: n, mean, sd, median and a bootstrap interval.

    Columns: ``*by, outcome, n, mean, sd, median, ci_low, ci_high, note``. Groups are
    pooled over everything not in ``by`` (e.g. over uncertainties and replicates). When
    ``by`` is ``("arm",)`` the lever columns are added back so the table can be plotted.
    """
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    keys = list(by)
    stats = _stats_by(results.runs, keys, outcomes, level, n_boot, seed)
    if keys == ["arm"] and results.levers and len(results.runs):
        levers = [c for c in results.levers if c in results.runs.columns]
        lever_vals = results.runs.groupby("arm", sort=False)[levers].first().reset_index()
        stats = stats.merge(lever_vals, on="arm", how="left")
        stats = stats[["arm", *levers, *[c for c in stats.columns if c not in ("arm", *levers)]]]
    if keys == ["arm"]:
        stats = _ordered(stats, outcomes, arm_order(results))
    return stats


def lever_axis(runs: pd.DataFrame, lever: str, max_levels: int = MAX_LEVELS) -> pd.Series:
    """x position of each run on a lever's response curve.

    The lever's own value when it takes at most ``max_levels`` distinct values; otherwise
    the mean lever value of the run's equal-count bin (``N_BINS`` quantile bins), so a
    Latin hypercube gives a binned response curve instead of one point per run.
    """
    col = runs[lever]
    if col.dtype == bool or col.nunique() <= max_levels:
        return col
    bins = pd.qcut(col.astype(float), N_BINS, duplicates="drop")
    return col.astype(float).groupby(bins, observed=True).transform("mean")


def response(
    results: Results,
    lever: str,
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Mean outcome at each value (or bin) of one lever, pooled over everything else.

    Columns: ``lever, x, outcome, n, mean, sd, median, ci_low, ci_high, note, binned``.
    """
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    runs = results.runs.copy()
    runs["x"] = lever_axis(runs, lever)
    binned = not runs["x"].equals(runs[lever])
    stats = _stats_by(runs, ["x"], outcomes, level, n_boot, seed)
    stats.insert(0, "lever", lever)
    stats["binned"] = binned
    return _sorted_by(stats, outcomes, ["x"])


def paired_differences(
    results: Results,
    reference: str | None = None,
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Mean paired difference ``arm - reference`` of each outcome, paired on seed.

    For each arm ``a`` and outcome ``y``: the pairs are the seeds run in both ``a`` and the
    reference; ``d_s = y_a(s) - y_ref(s)``; the table gives ``n`` pairs, ``mean`` (mean of
    d), ``sd``, ``median``, a bootstrap interval of the mean, and ``share_lower`` (share of
    pairs with d < 0). Columns: ``arm, reference, outcome, n, mean, sd, median, ci_low,
    ci_high, share_lower, note``. Arms with no common seed get ``n = 0`` and a note.
    """
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    reference = reference or reference_arm(results)
    cols = [
        "arm",
        "reference",
        "outcome",
        "n",
        "mean",
        "sd",
        "median",
        "ci_low",
        "ci_high",
        "share_lower",
        "note",
    ]
    if reference is None or results.runs.empty:
        return pd.DataFrame(columns=cols)
    runs = results.runs
    ref = runs.loc[runs["arm"] == reference, ["seed", *outcomes]].drop_duplicates("seed")
    others = runs.loc[runs["arm"] != reference, ["arm", "seed", *outcomes]]
    paired = others.merge(ref, on="seed", suffixes=("", "__ref"))
    diff = paired[["arm", "seed"]].copy()
    for o in outcomes:
        diff[o] = paired[o] - paired[f"{o}__ref"]
    long = _long(diff, ["arm"], outcomes)
    stats = _group_stats(long, ["arm", "outcome"], level, n_boot, seed)
    lower = long.assign(lower=long["value"] < 0).groupby(["arm", "outcome"])["lower"].mean()
    stats = stats.merge(lower.rename("share_lower").reset_index(), on=["arm", "outcome"])
    stats["note"] = stats["note"].str.replace("replicate", "pair")
    arms = [a for a in arm_order(results) if a != reference]
    missing = [
        {"arm": a, "outcome": o, "n": 0, "note": "no run shares a seed with the reference"}
        for a in arms
        for o in outcomes
        if not ((stats["arm"] == a) & (stats["outcome"] == o)).any()
    ]
    if missing:
        stats = pd.concat([stats, pd.DataFrame(missing)], ignore_index=True)
    stats["reference"] = reference
    return _ordered(stats, outcomes, arms)[cols]


def grid(
    results: Results,
    x: str,
    y: str,
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    n_boot: int = DEFAULT_BOOT,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Two-lever grid: :func:`summarise` by the levers ``x`` and ``y`` (pooled over the rest).

    Columns: ``x, y`` (named after the levers), ``outcome, n, mean, ..., note``.
    """
    runs = results.runs.copy()
    runs[x] = lever_axis(runs, x)
    runs[y] = lever_axis(runs, y)
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    return _sorted_by(_stats_by(runs, [x, y], outcomes, level, n_boot, seed), outcomes, [x, y])


# ----------------------------------------------------------------------------- distributions
@lru_cache(maxsize=1)
def reported_data() -> dict[str, Any]:
    """``sim/data/ghwayran_reported.yaml`` as a dict (read once)."""
    import yaml

    text = resources.files("sim").joinpath("data/ghwayran_reported.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _sources(entry: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def add(value: Any) -> None:
        for key in [value] if isinstance(value, str) else list(value or []):
            if key not in found:
                found.append(str(key))

    add(entry.get("source"))
    for claim in entry.get("claims", []) or []:
        if isinstance(claim, dict):
            add(claim.get("source"))
    return found


def reported_range(outcome: str) -> dict[str, Any] | None:
    """The reported low-high range of an outcome, or None if it has none.

    Returns ``{"key", "low", "central", "high", "sources"}`` from
    ``outcomes.<OUTCOMES[outcome].reported_key>`` of the reported-data file; ``sources``
    lists the source keys of the claims behind the range.
    """
    from sim.model.outcomes import OUTCOMES

    spec = OUTCOMES.get(outcome)
    if spec is None or not spec.reported_key:
        return None
    entry = (reported_data().get("outcomes") or {}).get(spec.reported_key)
    if not isinstance(entry, dict) or "low" not in entry or "high" not in entry:
        return None
    return {
        "key": spec.reported_key,
        "low": float(entry["low"]),
        "central": float(entry["central"]) if "central" in entry else None,
        "high": float(entry["high"]),
        "sources": _sources(entry),
    }


QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def compares_with_reported(results: Results) -> bool:
    """Whether the experiment's base scenario is at the scale of the reported event
    (``compare_with_reported: true`` in the scenario file), so that its outcomes may be
    set against the reported ranges."""
    return results.spec.compare_with_reported


def distributions(
    results: Results, outcomes: Sequence[str] | None = None, by: Sequence[str] = ("arm",)
) -> pd.DataFrame:
    """Quantiles of each outcome's run-level distribution per group, with the reported range.

    Columns: ``*by, outcome, n, mean, q0, q5, q25, q50, q75, q95, q100, reported_low,
    reported_high, share_in_reported`` (share of runs with low <= y <= high; NaN when the
    outcome has no reported range or the scenario is not comparable with the reported
    event, see :func:`compares_with_reported`).
    """
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    keys = list(by)
    long = _long(results.runs, keys, outcomes)
    grouped = long.groupby([*keys, "outcome"], sort=False)["value"]
    q = grouped.quantile(list(QUANTILES)).unstack()
    q.columns = [f"q{round(c * 100)}" for c in q.columns]
    table = grouped.agg(n="size", mean="mean").join(q).reset_index()
    compare = compares_with_reported(results)
    ranges = {o: (reported_range(o) if compare else None) or {} for o in outcomes}
    lows = {o: r.get("low", np.nan) for o, r in ranges.items()}
    highs = {o: r.get("high", np.nan) for o, r in ranges.items()}
    table["reported_low"] = table["outcome"].map(lows).astype(float)
    table["reported_high"] = table["outcome"].map(highs).astype(float)
    lo = long["outcome"].map(lows).astype(float)
    hi = long["outcome"].map(highs).astype(float)
    inside = ((long["value"] >= lo) & (long["value"] <= hi)).where(lo.notna())
    share = inside.groupby([long[k] for k in keys] + [long["outcome"]], sort=False).mean()
    table = table.merge(share.rename("share_in_reported").reset_index(), on=[*keys, "outcome"])
    return table


def series_bands(
    results: Results,
    variables: Sequence[str] | None = None,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> pd.DataFrame:
    """Quantile bands of each time series per arm and time, across replicates.

    Runs are put on the experiment's regular sampling grid (``series_every_h``): a run that
    ended earlier (control restored) keeps its final state to the end of the arm's longest
    run, since nothing changes after the end; its last, off-grid sample is used for that
    and then dropped. Every band at every time therefore rests on all of the arm's runs.

    Columns: ``arm, variable, t_h, n, q5, q25, q50, q75, q95`` (``n`` runs at that time).
    """
    series = results.series
    if series is None or series.empty:
        return pd.DataFrame(columns=["arm", "variable", "t_h", "n"])
    if variables is not None:
        series = series[series["variable"].isin(list(variables))]
    step = results.spec.series_every_h or _grid_step(series["t_h"])
    names = [f"q{round(q * 100)}" for q in quantiles]
    parts = []
    for (arm, variable), frame in series.groupby(["arm", "variable"], sort=True):
        wide = frame.pivot_table(
            index=["point_id", "replicate"], columns="t_h", values="value", aggfunc="last"
        )
        wide = wide.sort_index(axis=1).ffill(axis=1)
        t = wide.columns.to_numpy(dtype=float)
        on_grid = np.isclose(t / step, np.round(t / step))
        values = wide.to_numpy(dtype=float)[:, on_grid]
        band = pd.DataFrame(np.nanquantile(values, list(quantiles), axis=0).T, columns=names)
        band.insert(0, "n", np.isfinite(values).sum(axis=0))
        band.insert(0, "t_h", t[on_grid])
        band.insert(0, "variable", variable)
        band.insert(0, "arm", arm)
        parts.append(band)
    return pd.concat(parts, ignore_index=True)


def _grid_step(t_h: pd.Series) -> float:
    """The most common positive spacing of sampling times (when the config does not say)."""
    diffs = np.diff(np.unique(t_h.to_numpy(dtype=float)))
    diffs = diffs[diffs > 0]
    return float(pd.Series(diffs.round(9)).mode().iloc[0]) if len(diffs) else 1.0


# ----------------------------------------------------------------------------- sensitivity
class SensitivityError(ValueError):
    """The store cannot give sensitivity indices (wrong design, misaligned or too few runs)."""


def point_means(results: Results, outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """Outcomes averaged over replicates per design point, indexed by ``point_id``."""
    outcomes = list(outcomes if outcomes is not None else results.outcomes)
    return results.runs.groupby("point_id")[outcomes].mean()


@dataclass(frozen=True)
class _SensitivityInput:
    """What SALib's analysers get from a store: the problem, the design's options, the
    sampler's rows of the complete blocks (in design order) and the outcomes averaged
    per point of those rows; ``blocks`` and ``of`` count the complete and planned
    blocks."""

    problem: dict[str, Any]
    options: dict[str, Any]
    x: np.ndarray
    y: pd.DataFrame
    blocks: int
    of: int


def _sensitivity_input(
    results: Results, outcomes: Sequence[str] | None, what: str
) -> _SensitivityInput:
    """The complete blocks of a Sobol or Morris design (Saltelli base samples of D + 2
    points, or 2D + 2 with second order; Morris trajectories of D + 1): dropping an
    incomplete block leaves a valid, smaller design. Raises :class:`SensitivityError`
    for another design or fewer than two complete blocks."""
    design, problem, samples = results.spec.design, results.problem, results.design_samples
    if problem is None or samples is None:
        raise SensitivityError(f"the design is {design.type}, not sobol or morris")
    means = point_means(results, outcomes)
    block = design.block_size(problem["num_vars"])
    have = samples.index.isin(means.index).reshape(-1, block).all(axis=1)
    rows = np.flatnonzero(np.repeat(have, block))
    if have.sum() < 2:
        raise SensitivityError(f"{what}: {int(have.sum())} of {len(have)} finished")
    return _SensitivityInput(
        problem=problem,
        options=design.salib_options(),
        x=samples.to_numpy(float)[rows],
        y=means.loc[samples.index[rows]],
        blocks=int(have.sum()),
        of=len(have),
    )


def _coverage_note(inp: _SensitivityInput, what: str) -> str:
    return "" if inp.blocks == inp.of else f"{inp.blocks} of {inp.of} {what} complete"


def sobol_indices(
    results: Results,
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    num_resamples: int = 200,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Sobol first-order (S1) and total (ST) indices of each outcome, via SALib.

    Replicates are averaged per design point first; only complete Saltelli base samples
    are used; second-order terms are computed when the design has them (``second_order``)
    but not tabled. Intervals are SALib's: ``index +- conf`` with ``conf = z_{(1+level)/2}
    * sd(bootstrap estimates)``. Columns: ``outcome, parameter, index (S1|ST), value,
    conf, ci_low, ci_high, base_samples, note``.
    """
    from SALib.analyze import sobol

    inp = _sensitivity_input(results, outcomes, "Sobol indices need complete base samples")
    note = _coverage_note(inp, "base samples")
    names = inp.problem["names"]
    rows = []
    for o in inp.y.columns:
        y = inp.y[o].to_numpy(float)
        if not np.isfinite(y).all() or np.var(y) == 0:
            rows += [
                dict(
                    outcome=o, parameter=p, index=idx, note="outcome constant or missing: no index"
                )
                for idx in ("S1", "ST")
                for p in names
            ]
            continue
        with warnings.catch_warnings():  # a constant bootstrap resample of a small
            # design: the intervals show it; the outcome itself is checked above
            warnings.filterwarnings("ignore", message="Constant values encountered")
            res = sobol.analyze(
                inp.problem, y, num_resamples=num_resamples, conf_level=level, seed=seed,
                **inp.options,
            )  # fmt: skip
        rows += [
            dict(outcome=o, parameter=p, index=idx, value=res[idx][k], conf=res[f"{idx}_conf"][k])
            for idx in ("S1", "ST")
            for k, p in enumerate(names)
        ]
    table = pd.DataFrame(rows).reindex(columns=SOBOL_COLUMNS)
    table["note"] = table["note"].astype(object).fillna(note)
    table["ci_low"] = table["value"] - table["conf"]
    table["ci_high"] = table["value"] + table["conf"]
    table["base_samples"] = inp.blocks
    return table.astype({c: float for c in ("value", "conf", "ci_low", "ci_high")})


SOBOL_COLUMNS = [
    *("outcome", "parameter", "index", "value", "conf"),
    *("ci_low", "ci_high", "base_samples", "note"),
]
MORRIS_COLUMNS = [
    *("outcome", "parameter", "mu", "mu_star", "mu_star_conf"),
    *("ci_low", "ci_high", "sigma", "trajectories", "note"),
]


def unresolved_sobol_outcomes(table: pd.DataFrame) -> list[str]:
    """Outcomes whose total Sobol index exceeds 1 for some parameter: with S_T bounded by
    1 in theory, that shows the sample is too small or noise dominates the outcome."""
    st = table[(table["index"] == "ST") & table["value"].notna()]
    return list(dict.fromkeys(st.loc[st["value"] > 1.0, "outcome"]))


def morris_indices(
    results: Results,
    outcomes: Sequence[str] | None = None,
    *,
    level: float = LEVEL,
    num_resamples: int = 200,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Morris elementary-effect statistics of each outcome, via SALib.

    ``mu_star = mean |EE|`` (with SALib's bootstrap interval ``+- mu_star_conf``),
    ``sigma = sd(EE)``, ``mu = mean EE``, on the design's grid ``levels``. Replicates
    averaged per point first; only complete trajectories (D+1 consecutive points) are
    used. Columns: ``outcome, parameter, mu, mu_star, mu_star_conf, ci_low, ci_high,
    sigma, trajectories, note``.
    """
    from SALib.analyze import morris

    inp = _sensitivity_input(results, outcomes, "Morris needs complete trajectories")
    note = _coverage_note(inp, "trajectories")
    names = inp.problem["names"]
    rows = []
    for o in inp.y.columns:
        y = inp.y[o].to_numpy(float)
        if not np.isfinite(y).all():
            rows += [dict(outcome=o, parameter=p, note="outcome missing: no index") for p in names]
            continue
        res = morris.analyze(
            inp.problem,
            inp.x,
            y,
            num_resamples=num_resamples,
            conf_level=level,
            seed=seed,
            **inp.options,
        )
        stats = ("mu", "mu_star", "mu_star_conf", "sigma")
        rows += [
            dict(outcome=o, parameter=p, **{c: float(res[c][k]) for c in stats})
            for k, p in enumerate(names)
        ]
    table = pd.DataFrame(rows).reindex(columns=MORRIS_COLUMNS)
    table["note"] = table["note"].astype(object).fillna(note)
    table["ci_low"] = table["mu_star"] - table["mu_star_conf"]
    table["ci_high"] = table["mu_star"] + table["mu_star_conf"]
    table["trajectories"] = inp.blocks
    return table.astype({c: float for c in ("mu", "mu_star", "mu_star_conf", "sigma")})


# ----------------------------------------------------------------------------- completeness
def completeness(results: Results) -> dict[str, Any]:
    """How finished the store is: counts, per-arm replicates, arms missing or short.

    Keys: ``completed``, ``failed``, ``expected``, ``pending``, ``share_done``,
    ``replicates`` (planned per point), ``arms`` (DataFrame: arm, done, failed, points),
    ``missing_arms`` (arms with failures but no finished run), ``min_replicates`` (fewest
    finished runs in any arm with runs).
    """
    runs, fails = results.runs, results.failures
    done = len(runs)
    failed = len(fails)
    expected = int(results.expected_runs)
    reps = results.spec.replicates
    arms = pd.DataFrame({"arm": arm_order(results)})
    counts = runs.groupby("arm").size().rename("done") if done else pd.Series(name="done")
    fcounts = fails.groupby("arm").size().rename("failed") if failed else pd.Series(name="failed")
    arms = arms.merge(counts, left_on="arm", right_index=True, how="left")
    arms = arms.merge(fcounts, left_on="arm", right_index=True, how="left")
    arms[["done", "failed"]] = arms[["done", "failed"]].fillna(0).astype(int)
    missing = arms.loc[arms["done"] == 0, "arm"].tolist()
    with_runs = arms.loc[arms["done"] > 0, "done"]
    return {
        "completed": done,
        "failed": failed,
        "expected": expected,
        "pending": max(expected - done - failed, 0),
        "share_done": done / expected if expected else float("nan"),
        "replicates": reps,
        "arms": arms,
        "missing_arms": missing,
        "min_replicates": int(with_runs.min()) if len(with_runs) else 0,
    }
