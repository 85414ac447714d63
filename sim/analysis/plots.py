"""Figures drawn from the tidy tables of :mod:`sim.analysis.tables` (matplotlib, no pyplot state).

Each function returns a :class:`matplotlib.figure.Figure` built directly (not through
``pyplot``), so nothing depends on an interactive backend and figures are freed when
dropped; :func:`png_bytes` renders one with Agg. Axis labels come from the declarations:
parameters from :data:`sim.model.params.PARAMS`, outcomes from :data:`sim.model.outcomes.OUTCOMES`,
so every axis carries its unit.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis.tables import reported_range
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS

STYLE = {
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
COLORS = list(matplotlib.colormaps["tab10"].colors)
MAX_ARMS_DRAWN = 25  # more arms than this in a paired-difference plot: the largest shown
MAX_FAN_ARMS = 4


def styled(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure builder under the house rcParams."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------- labels
_SERIES_UNITS = {"share_held": "share of interior cells", "breaches": "count"}


def unit(name: str) -> str:
    """Unit of a parameter, outcome or series variable ('' if it has none)."""
    if name in OUTCOMES:
        return OUTCOMES[name].unit
    if name in PARAMS:
        return PARAMS[name].unit
    if name in _SERIES_UNITS:
        return _SERIES_UNITS[name]
    if name.split("_")[0] in ("inmates", "guards", "responders", "external"):
        return "persons"
    return ""


def short(name: str) -> str:
    """Readable name: ``warning_lead_time_h`` -> ``Warning lead time``."""
    base = name[:-2] if name.endswith("_h") and name in PARAMS else name
    if base.startswith("deaths_"):
        return f"Deaths: {base[7:].replace('_', ' ')}"
    text = base.replace("_", " ")
    return text[:1].upper() + text[1:]


PROPER_WORDS = frozenset({"Iraqi"})
"""First words of names that keep their capital inside a sentence."""


def in_sentence(name: str) -> str:
    """:func:`short` for use inside a sentence: ``left custody``, but ``Iraqi share``."""
    text = short(name)
    return text if text.split(" ", 1)[0] in PROPER_WORDS else text[:1].lower() + text[1:]


def label(name: str, *, mean: bool = False) -> str:
    """Axis label with unit: ``Warning lead time (h)``; a 0/1 outcome's mean is a share."""
    u = unit(name)
    if u == "0/1":
        u = "share of runs" if mean else "0 = no, 1 = yes"
    if u == "share":
        u = "share, 0-1"
    return f"{short(name)} ({u})" if u else short(name)


def fmt(value: float) -> str:
    """Compact number: 3 significant digits, no scientific notation below 1e6."""
    if value is None or not np.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def value_text(name: str, value: Any) -> str:
    """A lever value with its unit: ``24 h``, ``yes``/``no`` for switches."""
    p = PARAMS.get(name)
    if isinstance(value, bool | np.bool_) or (p is not None and p.kind == "bool"):
        truth = value if not isinstance(value, str) else value.lower() == "true"
        return "yes" if bool(truth) else "no"
    try:
        number = fmt(float(value))
    except (TypeError, ValueError):
        return str(value)
    u = unit(name)
    return number if u in ("", "share", "0/1") else f"{number} {u}"


def arm_text(levers: Mapping[str, Any]) -> str:
    """Readable name of a policy arm from its lever values (``base`` when none varies).

    ``{warning_lead_time_h: 24}`` -> ``Warning lead time 24 h``; a unit that names the
    quantity stands alone: ``{guards_per_100_inmates: 4}`` -> ``4 guards/100 inmates``.
    """
    parts = []
    for key, val in levers.items():
        shown = value_text(key, val)
        parts.append(shown if "/" in unit(key) else f"{short(key)} {shown}")
    return "; ".join(parts) or "base"


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (Agg)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _panels(
    n: int, ncols: int = 3, size: tuple[float, float] = (4.3, 3.3)
) -> tuple[Figure, list[Axes]]:
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _row_panels(
    rows: int, n: int, width: float = 5.4, per_row: float = 0.42
) -> tuple[Figure, list[Axes], np.ndarray]:
    """Panels (2 columns) for ``n`` outcomes whose y axis lists ``rows`` items top-down.

    Returns the figure, the axes and the y position of each item (first item on top).
    """
    height = max(2.8, per_row * rows + 1.4)
    fig, axes = _panels(n, ncols=2 if n > 1 else 1, size=(width, height))
    return fig, axes, np.arange(rows)[::-1]


def _label_rows(
    ax: Axes, k: int, ypos: np.ndarray, names: list[str], xlabel: str, title: str
) -> None:
    """Row names on the left column only, x label, title, no horizontal grid lines."""
    ax.set_yticks(ypos, names if k % 2 == 0 else [])
    ax.set_ylim(-0.7, len(ypos) - 0.3)  # rows one unit apart, even with two of them
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0)


def _note(ax: Axes, text: str) -> None:
    ax.text(
        0.98,
        0.97,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=8.5,
        color="0.3",
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.8"},
    )


def _tick(name: str, value: Any) -> str:
    """Tick label: the number alone (the axis label carries the unit); yes/no for switches."""
    p = PARAMS.get(name)
    return value_text(name, value) if p is not None and p.kind == "bool" else fmt(float(value))


def _is_bool(name: str, values: pd.Series) -> bool:
    p = PARAMS.get(name)
    return (p is not None and p.kind == "bool") or values.dtype == bool


# ----------------------------------------------------------------------------- curves
@styled
def response_curves(table: pd.DataFrame, lever: str, outcomes: Sequence[str]) -> Figure:
    """Mean of each outcome against one lever, with its 95% interval as a band.

    ``table`` is :func:`sim.analysis.response`. Points without an interval (a single
    replicate) are drawn as markers only and the panel says so.
    """
    fig, axes = _panels(len(outcomes))
    binned = bool(table["binned"].any()) if "binned" in table else False
    for ax, outcome in zip(axes, outcomes, strict=True):
        t = table[table["outcome"] == outcome].sort_values("x")
        x = t["x"].astype(float).to_numpy()
        boolean = _is_bool(lever, t["x"])
        ax.plot(x, t["mean"], "-o", color=COLORS[0], ms=4, lw=1.6, label="mean")
        ok = t["ci_low"].notna().to_numpy()
        if ok.any():
            ax.fill_between(
                x[ok],
                t["ci_low"][ok],
                t["ci_high"][ok],
                color=COLORS[0],
                alpha=0.22,
                lw=0,
                label="95% interval",
            )
        if (~ok).any():
            _note(
                ax,
                "1 replicate: no interval"
                if (t["n"] == 1).all()
                else f"{int((~ok).sum())} point(s) with 1 run: no interval",
            )
        if boolean:
            ax.set_xticks([0, 1], ["no", "yes"])
            ax.set_xlim(-0.3, 1.3)
        ax.set_xlabel(label(lever) + (", binned" if binned else ""))
        ax.set_ylabel(label(outcome, mean=True))
        ax.set_title(short(outcome))
    _legend_below(fig, axes)
    band = ", 95% bootstrap interval" if table["ci_low"].notna().any() else ""
    fig.suptitle(
        f"Response to {short(lever).lower()}: mean over replicates"
        f"{' and uncertainties' if binned else ''}{band}",
        fontsize=11,
    )
    return fig


@styled
def paired_differences(
    diff: pd.DataFrame, outcomes: Sequence[str], names: Mapping[str, str] | None = None
) -> Figure:
    """Mean paired difference (arm - reference) per arm, with 95% interval, per outcome.

    ``diff`` is :func:`sim.analysis.paired_differences`; ``names`` gives arms' readable
    names by label. A dashed line marks no difference.
    """
    names = names or {}
    reference = str(diff["reference"].iloc[0]) if len(diff) else "?"
    arms = list(dict.fromkeys(diff["arm"]))
    shown = arms[:MAX_ARMS_DRAWN]
    fig, axes, ypos = _row_panels(len(shown), len(outcomes), width=5.6, per_row=0.32)
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        t = diff[diff["outcome"] == outcome].set_index("arm").reindex(shown)
        mean = t["mean"].to_numpy(float)
        lo, hi = t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float)
        has = np.isfinite(lo)
        ax.axvline(0, color="0.35", ls="--", lw=1)
        ax.errorbar(
            mean[has],
            ypos[has],
            xerr=[mean[has] - lo[has], hi[has] - mean[has]],
            fmt="o",
            color=COLORS[0],
            ms=5,
            capsize=3,
            label="mean, 95% interval",
        )
        ax.plot(
            mean[~has],
            ypos[~has],
            "o",
            mfc="white",
            color=COLORS[0],
            ms=5,
            label="no interval (1 pair)" if (~has & np.isfinite(mean)).any() else None,
        )
        for y in ypos[~np.isfinite(mean)]:
            ax.text(0, y, " no paired runs", va="center", fontsize=8, color="0.4")
        _label_rows(
            ax,
            k,
            ypos,
            [names.get(a, a) for a in shown],
            f"Difference in {short(outcome).lower()} ({unit(outcome)})",
            short(outcome),
        )
    _legend_below(fig, axes)
    extra = f"; first {len(shown)} of {len(arms)} arms" if len(arms) > len(shown) else ""
    fig.suptitle(
        f"Paired difference vs reference arm ({names.get(reference, reference)}), "
        f"same seeds{extra}",
        fontsize=11,
    )
    return fig


@styled
def heatmaps(table: pd.DataFrame, x: str, y: str, outcomes: Sequence[str]) -> Figure:
    """Mean of each outcome over a two-lever grid (``sim.analysis.grid``), values printed."""
    fig, axes = _panels(len(outcomes), ncols=2 if len(outcomes) > 1 else 1, size=(5.4, 4.2))
    xs = sorted(table[x].dropna().unique())
    ys = sorted(table[y].dropna().unique())
    for ax, outcome in zip(axes, outcomes, strict=True):
        t = table[table["outcome"] == outcome]
        mat = t.pivot_table(index=y, columns=x, values="mean").reindex(index=ys, columns=xs)
        arr = mat.to_numpy(float)
        masked = np.ma.masked_invalid(arr)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
        im = ax.imshow(masked, origin="lower", aspect="auto", cmap=cmap)
        finite = arr[np.isfinite(arr)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (i, j), v in np.ndenumerate(arr):
            text = fmt(v) if np.isfinite(v) else "no runs"
            color = "white" if np.isfinite(v) and v < mid else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=color)
        ax.set_xticks(range(len(xs)), [_tick(x, v) for v in xs])
        ax.set_yticks(range(len(ys)), [_tick(y, v) for v in ys])
        ax.set_xlabel(label(x))
        ax.set_ylabel(label(y))
        ax.set_title(short(outcome))
        ax.grid(False)
        fig.colorbar(im, ax=ax, label=f"mean ({unit(outcome) or '-'})", shrink=0.9)
    fig.suptitle(f"Mean outcome by {short(x).lower()} and {short(y).lower()}", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- distributions
@styled
def distributions(
    runs: pd.DataFrame,
    outcomes: Sequence[str],
    arms: Sequence[str],
    max_arms: int = 12,
    show_reported: bool = True,
    names: Mapping[str, str] | None = None,
) -> tuple[Figure, list[str]]:
    """Run-level distribution of each outcome, with the reported low-high range shaded
    (unless ``show_reported`` is false: the scenario is not at the reported event's scale);
    ``names`` gives arms' readable names by label.

    Up to ``max_arms`` arms: one box per arm (box = 25-75%, whiskers = 5-95%, dot = mean);
    more: a histogram of all runs. Returns the figure and the caption lines citing the
    reported range and its source keys for each outcome that has one.
    """
    per_arm = 0 < len(arms) <= max_arms
    fig, axes = _panels(
        len(outcomes),
        ncols=2 if len(outcomes) > 1 else 1,
        size=(5.6, max(2.8, 0.45 * len(arms) + 1.4) if per_arm else 3.2),
    )
    captions = []
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        rng = reported_range(outcome) if show_reported else None
        if rng is not None:
            captions.append(_reported_band(ax, outcome, rng))
        if per_arm:
            shown = [(names or {}).get(a, a) for a in arms]
            _arm_boxes(ax, runs, outcome, arms, shown if k % 2 == 0 else [])
            if rng is not None:
                _share_inside(ax, runs, outcome, arms, rng)
        else:
            values = runs[outcome].dropna().to_numpy()
            ax.hist(values, bins=40, color=COLORS[0], alpha=0.7, label="all runs")
            ax.set_ylabel("runs")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(label(outcome))
        ax.set_title(_range_title(outcome, rng, show_reported), fontsize=10)
    _legend_below(fig, axes)
    how = (
        "box 25-75%, whiskers 5-95%, dot = mean"
        if per_arm
        else f"all {len(runs)} runs pooled over {len(arms)} arms"
    )
    shaded = "; shaded: reported range; right: share of runs inside it" if show_reported else ""
    fig.suptitle(f"Outcome distributions per arm ({how}){shaded}", fontsize=11)
    return fig, captions


def _legend_below(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend for the figure, below the panels (never over data): each label once."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(text, handle)
    if seen:
        fig.legend(
            list(seen.values()),
            list(seen),
            loc="outside lower center",
            ncols=min(len(seen), 3),
            frameon=False,
        )


def _range_title(outcome: str, rng: Mapping[str, Any] | None, compared: bool) -> str:
    """Panel title: the outcome, and its reported range or that it has none."""
    if not compared:
        return short(outcome)
    if rng is None:
        return f"{short(outcome)}: no reported range"
    central = "" if rng["central"] is None else f", central {fmt(rng['central'])}"
    return f"{short(outcome)}: reported {fmt(rng['low'])}-{fmt(rng['high'])}{central}"


def _share_inside(
    ax: Axes, runs: pd.DataFrame, outcome: str, arms: Sequence[str], rng: Mapping[str, Any]
) -> None:
    """Right of each arm's box, outside the data: the share of its runs inside the range."""
    pos = np.arange(len(arms))[::-1]
    for y, arm in zip(pos, arms, strict=True):
        values = runs.loc[runs["arm"] == arm, outcome].dropna()
        if len(values):
            inside = ((values >= rng["low"]) & (values <= rng["high"])).mean()
            ax.text(
                1.01,
                y,
                f"{100 * inside:.0f}% in",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=7.5,
                color="0.3",
            )


def _reported_band(ax: Axes, outcome: str, rng: Mapping[str, Any]) -> str:
    """Shade an outcome's reported range (and mark its central value); return the
    caption line citing its source keys."""
    ax.axvspan(
        rng["low"],
        rng["high"],
        color=COLORS[1],
        alpha=0.18,
        lw=0,
        label="reported range (low-high across claims)",
    )
    if rng["central"] is not None:
        ax.axvline(
            rng["central"],
            color=COLORS[1],
            ls="--",
            lw=1.2,
            label="reported central value",
        )
    return (
        f"{short(outcome)}: reported range {fmt(rng['low'])}-{fmt(rng['high'])} "
        f"{unit(outcome)} (outcomes.{rng['key']} in ghwayran_reported.yaml; "
        f"sources: {', '.join(rng['sources'])})."
    )


def _arm_boxes(
    ax: Axes, runs: pd.DataFrame, outcome: str, arms: Sequence[str], ticks: Sequence[str]
) -> None:
    """One box per arm (top to bottom in ``arms`` order), its mean as a dot, "no runs"
    where an arm has none; ``ticks`` labels the rows (empty: unlabelled)."""
    data = [runs.loc[runs["arm"] == a, outcome].dropna().to_numpy() for a in arms]
    pos = np.arange(len(arms))[::-1]
    keep = [i for i, d in enumerate(data) if d.size]
    if keep:
        ax.boxplot(
            [data[i] for i in keep],
            positions=pos[keep],
            orientation="horizontal",
            whis=(5, 95),
            showfliers=False,
            widths=0.55,
            patch_artist=True,
            boxprops={"facecolor": COLORS[0], "alpha": 0.35},
            medianprops={"color": COLORS[0], "lw": 1.5},
        )
        means = [data[i].mean() for i in keep]
        ax.plot(means, pos[keep], "o", color="black", ms=3.5, label="mean")
    for i, d in enumerate(data):
        if d.size == 0:
            ax.text(
                0.02,
                pos[i],
                "no runs",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=8,
                color="0.4",
            )
    ax.set_yticks(pos, list(ticks))
    ax.set_ylim(-0.7, len(arms) - 0.3)
    ax.grid(axis="y", alpha=0)


@styled
def fan_charts(
    bands: pd.DataFrame,
    variables: Sequence[str],
    arms: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Time series per arm: median line, 25-75% band, and 5-95% band when one or two arms.

    ``bands`` is :func:`sim.analysis.series_bands`; at most ``MAX_FAN_ARMS`` arms are
    drawn; ``names`` gives arms' readable names by label.
    """
    shown = list(arms)[:MAX_FAN_ARMS]
    fig, axes = _panels(len(variables), ncols=2 if len(variables) > 1 else 1, size=(5.6, 3.4))
    for ax, var in zip(axes, variables, strict=True):
        single = False
        for i, arm in enumerate(shown):
            t = bands[(bands["variable"] == var) & (bands["arm"] == arm)].sort_values("t_h")
            if t.empty:
                continue
            c = COLORS[i % len(COLORS)]
            ax.plot(t["t_h"], t["q50"], color=c, lw=1.6, label=(names or {}).get(arm, arm))
            if (t["n"] > 1).any():
                ax.fill_between(t["t_h"], t["q25"], t["q75"], color=c, alpha=0.25, lw=0)
                if len(shown) <= 2:
                    ax.fill_between(t["t_h"], t["q5"], t["q95"], color=c, alpha=0.1, lw=0)
            else:
                single = True
        if single:
            _note(ax, "1 replicate: no band")
        ax.set_xlabel("Time since the event began (h)")
        ax.set_ylabel(label(var))
        ax.set_title(short(var))
    if axes:
        fig.legend(
            *axes[0].get_legend_handles_labels(),
            loc="outside lower center",
            ncols=min(len(shown), 2),
            frameon=False,
        )
    bands_text = "25-75% band" + (", light: 5-95%" if len(shown) <= 2 else "")
    fig.suptitle(f"Time series across replicates: line = median, {bands_text}", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- sensitivity
@styled
def sobol_bars(table: pd.DataFrame, outcomes: Sequence[str]) -> Figure:
    """First-order (S1) and total (ST) Sobol indices per parameter, bars with 95% intervals."""
    params = list(dict.fromkeys(table["parameter"]))
    fig, axes, ypos = _row_panels(len(params), len(outcomes))
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        t = table[table["outcome"] == outcome]
        for j, (idx, name) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
            r = t[t["index"] == idx].set_index("parameter").reindex(params)
            ax.barh(
                ypos + (0.2 if j == 0 else -0.2),
                r["value"],
                height=0.38,
                xerr=r["conf"],
                color=COLORS[j],
                alpha=0.85,
                capsize=2.5,
                error_kw={"lw": 1},
                label=name,
            )
        if t["value"].isna().all():
            _note(ax, "no index (outcome constant or missing)")
        ax.axvline(0, color="0.3", lw=0.8)
        _label_rows(
            ax,
            k,
            ypos,
            [label(p) for p in params],
            "Sobol index (share of output variance)",
            short(outcome),
        )
    _legend_below(fig, axes)
    fig.suptitle("Sobol sensitivity indices with 95% bootstrap intervals", fontsize=11)
    return fig


@styled
def morris_bars(table: pd.DataFrame, outcomes: Sequence[str]) -> Figure:
    """Morris mu* (bars, 95% interval) and sigma (diamonds) per parameter, per outcome."""
    params = list(dict.fromkeys(table["parameter"]))
    fig, axes, ypos = _row_panels(len(params), len(outcomes))
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        r = table[table["outcome"] == outcome].set_index("parameter").reindex(params)
        ax.barh(
            ypos,
            r["mu_star"],
            xerr=r["mu_star_conf"],
            height=0.6,
            color=COLORS[0],
            alpha=0.8,
            capsize=2.5,
            error_kw={"lw": 1},
            label="μ* (mean |effect|)",
        )
        ax.plot(r["sigma"], ypos, "D", color=COLORS[3], ms=5, label="σ (spread of effects)")
        _label_rows(
            ax,
            k,
            ypos,
            [label(p) for p in params],
            f"Elementary effect over the full range ({unit(outcome) or '-'})",
            short(outcome),
        )
    _legend_below(fig, axes)
    fig.suptitle("Morris screening: μ* with 95% bootstrap interval, σ", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- single runs
INMATE_STATES = {
    "inmates_confined": ("confined", "#9e9e9e"),
    "inmates_agitated": ("agitated", "#f2b134"),
    "inmates_uncontrolled": ("out of control inside", "#e07a5f"),
    "inmates_rioting": ("rioting", "#d1495b"),
    "inmates_fleeing": ("fleeing", "#8e44ad"),
    "inmates_escaped": ("escaped (beyond cordon)", "#2d3047"),
    "inmates_recaptured": ("recaptured outside", "#00798c"),
    "inmates_surrendered": ("retaken inside", "#66a182"),
    "inmates_incapacitated": ("incapacitated", "#000000"),
}
OTHER_GROUPS = {
    "external_active": ("external force, active", "#d1495b"),
    "responders_engaged": ("responders, engaged", "#00798c"),
    "guards_active": ("guards, on post or responding", "#edae49"),
    "guards_captured": ("guards, held hostage", "#6c757d"),
}


@styled
def state_counts(series: pd.DataFrame, title: str = "") -> Figure:
    """One run over simulated hours: inmates by state (top); the other groups' active
    numbers, with the share of the facility held by the uprising on a second axis (bottom).
    ``series`` is indexed by ``t_h`` with the columns of ``sim.model.states.series_names()``."""
    t = series.index.to_numpy()
    fig = Figure(figsize=(9, 7.6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for col, (text, colour) in INMATE_STATES.items():
        top.plot(t, series[col], label=text, color=colour, lw=1.8)
    top.set_ylabel("inmates (persons)")
    top.legend(loc="center right", frameon=False, ncol=2)
    external = ["external_approaching", "external_breaching", "external_inside", "external_holding"]
    other = {
        "external_active": series[external].sum(axis=1),
        "responders_engaged": series["responders_engaged"],
        "guards_active": series["guards_on_post"] + series["guards_responding"],
        "guards_captured": series["guards_captured"],
    }
    for col, (text, colour) in OTHER_GROUPS.items():
        bottom.plot(t, other[col], label=text, color=colour, lw=1.8)
    bottom.set_ylabel("agents (persons)")
    bottom.set_xlabel("time since the event began (h)")
    share = bottom.twinx()
    share.grid(False)
    share.fill_between(
        t,
        series["share_held"],
        color="#d1495b",
        alpha=0.12,
        step="post",
        label="facility held by the uprising (share)",
    )
    share.set_ylim(0, 1)
    share.set_ylabel("share of facility held")
    lines, labels = bottom.get_legend_handles_labels()
    l2, lab2 = share.get_legend_handles_labels()
    bottom.legend(
        lines + l2,
        labels + lab2,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.28),
        ncol=3,
        frameon=False,
    )
    if title:
        top.set_title(title)
    fig.tight_layout()
    return fig
