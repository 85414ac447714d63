"""Pictures of a live model: the facility map and the DataCollector charts.

Built from the model's arrays (its agents are numpy rows, not Mesa Agent objects) with
matplotlib ``Figure`` objects, never ``pyplot`` (as in :mod:`sim.analysis.plots`). Inmate-state
colours are those of :data:`sim.analysis.plots.INMATE_STATES`, so the demo and the reports agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.plots import INMATE_STATES, styled
from sim.model import FacilityModel
from sim.model.layout import Zone
from sim.model.states import External, Guard, Inmate, Responder

ZONES: dict[Zone, tuple[str, str]] = {
    Zone.CORDON: ("cordon edge (reaching it = escaped)", "#cfc6b4"),
    Zone.TOWN: ("surroundings", "#ece6d8"),
    Zone.PERIMETER: ("perimeter wall", "#5a5a5a"),
    Zone.GATE: ("gate", "#8a6d4b"),
    Zone.YARD: ("yard", "#f7f7f2"),
    Zone.BLOCK: ("housing block", "#c8d3de"),
    Zone.MINORS: ("minors' wing", "#ddd0e6"),
    Zone.CONTROL: ("control point", "#9cc5bb"),
}
"""Zone -> (legend text, muted colour)."""

BREACHED = ("breached wall", "#e8b77f")
HELD = ("held by the uprising (no inmate there now)", "#f3c9ce")
EMPTY_STATE_PRIORITY = (
    Inmate.RIOTING,
    Inmate.FLEEING,
    Inmate.AGITATED,
    Inmate.INCAPACITATED,
    Inmate.ESCAPED,
    Inmate.RECAPTURED,
    Inmate.SURRENDERED,
    Inmate.CONFINED,
)
"""Tie-break between states with equal counts in one cell: the more eventful first."""


@dataclass(frozen=True)
class MarkerGroup:
    """Agents of another group drawn as one marker per cell they occupy."""

    text: str
    group: str  # attribute of the model: guards, responders, external
    states: tuple[int, ...]
    marker: str
    colour: str


MARKERS: tuple[MarkerGroup, ...] = (
    MarkerGroup(
        "guards (on post or responding)",
        "guards",
        (Guard.ON_POST, Guard.RESPONDING),
        "s",
        "#1d6fb8",
    ),
    MarkerGroup("guards, captured", "guards", (Guard.OVERWHELMED,), "s", "#b9c7d6"),
    MarkerGroup("responders (arrived)", "responders", (Responder.ENGAGED,), "^", "#1b5e20"),
    MarkerGroup(
        "external force (active)",
        "external",
        (External.APPROACHING, External.BREACHING, External.INSIDE, External.HOLDING),
        "X",
        "#111111",
    ),
)

_STATE_RGB = np.array([to_rgb(INMATE_STATES[f"inmates_{s.name.lower()}"][1]) for s in Inmate])
_ZONE_RGB = np.array([to_rgb(ZONES[z][1]) for z in Zone])
_PRIORITY = np.zeros(len(Inmate))
_PRIORITY[list(EMPTY_STATE_PRIORITY)] = np.arange(len(Inmate))[::-1]


def dominant_inmate_state(model: FacilityModel) -> np.ndarray:
    """Per cell (flat), the most common inmate state there; -1 where no inmate is."""
    im, n_cells, n_states = model.inmates, model.layout.n_cells, len(Inmate)
    counts = np.bincount(im.pos * n_states + im.state, minlength=n_cells * n_states)
    counts = counts.reshape(n_cells, n_states)
    score = np.where(counts > 0, counts * n_states + _PRIORITY, -1)
    return np.where(counts.sum(axis=1) > 0, score.argmax(axis=1), -1)


def facility_image(model: FacilityModel) -> np.ndarray:
    """RGB image (height, width, 3), floats in 0-1, one pixel per cell.

    Ground in muted zone colours (breached wall and cells held by the uprising marked);
    a cell with inmates takes the colour of their most common state.
    """
    rgb = _ZONE_RGB[model.layout.zone].copy()
    rgb[model.is_wall & model.breached] = to_rgb(BREACHED[1])
    rgb[model.held] = to_rgb(HELD[1])
    dominant = dominant_inmate_state(model)
    present = dominant >= 0
    rgb[present] = _STATE_RGB[dominant[present]]
    return rgb.reshape(model.layout.height, model.layout.width, 3)


def marker_cells(model: FacilityModel, group: MarkerGroup) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the cells holding at least one agent of ``group``."""
    arr = getattr(model, group.group)
    cells = np.unique(arr.pos[np.isin(arr.state, group.states)])
    return model.layout.xy(cells)


def legend_handles() -> list[tuple[str, list]]:
    """(title, handles) of the map's three legends: ground, inmates, other agents."""
    ground = [Patch(facecolor=c, edgecolor="#999", label=t) for t, c in ZONES.values()]
    ground += [Patch(facecolor=c, edgecolor="#999", label=t) for t, c in (BREACHED, HELD)]
    inmates = [Patch(facecolor=c, edgecolor="#999", label=t) for t, c in INMATE_STATES.values()]
    others = [
        Line2D([], [], ls="", marker=g.marker, ms=7, mfc=g.colour, mec="#555", label=g.text)
        for g in MARKERS
    ]
    return [
        ("Ground", ground),
        ("Inmates: cell colour = most common state", inmates),
        ("Other agents: a marker = present in the cell", others),
    ]


def draw_facility(ax, model: FacilityModel, *, marker_size: float = 46) -> None:
    """The facility map on ``ax``: image, agent markers, compass note, no axes."""
    ax.imshow(facility_image(model), interpolation="nearest")
    for g in MARKERS:
        x, y = marker_cells(model, g)
        ax.scatter(x, y, s=marker_size, marker=g.marker, c=g.colour, edgecolors="white", lw=0.6)
    ax.set_xlim(-0.5, model.layout.width - 0.5)
    ax.set_ylim(model.layout.height - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)


def time_text(model: FacilityModel) -> str:
    """``3.5 h after the start (step 14)``."""
    return f"{model.t_h:.2f} h after the start (step {model.steps})".replace(".00 h", " h")


CAPTION = (
    "External force arrives at the top (north) edge; reinforcements at the bottom (gate side)."
)


@styled
def facility_figure(model: FacilityModel, title: str = "", *, legend: bool = True) -> Figure:
    """The map, a caption, and (unless ``legend=False``) its three legends below."""
    h, w = model.layout.height, model.layout.width
    map_w, pad_top, caption_h = 6.4, 0.4, 0.3
    map_h = map_w * h / w
    legend_h = 1.95 if legend else 0.0
    total_h = pad_top + map_h + caption_h + legend_h
    fig = Figure(figsize=(map_w + 0.3, total_h))
    bottom = (legend_h + caption_h) / total_h
    ax = fig.add_axes((0.02, bottom, 0.96, map_h / total_h))
    draw_facility(ax, model)
    ax.set_title(title or time_text(model), fontsize=11)
    fig.text(0.5, bottom - 0.01, CAPTION, ha="center", va="top", fontsize=8, color="#444")
    if legend:
        _add_legends(fig, legend_h / total_h)
    return fig


def _add_legends(fig: Figure, top: float) -> None:
    """The three legends side by side, their tops at figure height ``top`` (0-1)."""
    for (text, handles), x in zip(legend_handles(), (0.0, 0.36, 0.68), strict=True):
        fig.legend(
            handles=handles,
            title=text.replace(": ", ":\n"),
            loc="upper left",
            bbox_to_anchor=(x, top),
            frameon=False,
            fontsize=7.5,
            title_fontsize=8,
            alignment="left",
            handlelength=1.2,
        )


@styled
def legend_figure() -> Figure:
    """The map's legends alone (for views that show several maps)."""
    fig = Figure(figsize=(6.7, 1.95))
    _add_legends(fig, 1.0)
    return fig


def _time_chart(series: pd.DataFrame, height: float, title: str, ylabel: str):
    """A figure with one axis over simulated hours: (figure, axis, hours)."""
    fig = Figure(figsize=(5.6, height), layout="constrained")
    ax = fig.subplots()
    t = series.index.to_numpy()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("hours since the event began (h)")
    ax.set_xlim(0, max(1.0, float(t[-1]) if len(t) else 1.0))
    return fig, ax, t


@styled
def inmate_chart(series: pd.DataFrame) -> Figure:
    """Inmates by state over simulated hours (``series`` indexed by ``t_h``)."""
    fig, ax, t = _time_chart(series, 3.1, "Inmates by state", "inmates (persons)")
    for col, (text, colour) in INMATE_STATES.items():
        ax.plot(t, series[col], label=text, color=colour, lw=1.6, drawstyle="steps-post")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7.5)
    return fig


@styled
def held_chart(series: pd.DataFrame) -> Figure:
    """Share of the facility's interior held by the uprising over simulated hours."""
    title = "Share of the facility held by the uprising"
    fig, ax, t = _time_chart(series, 2.2, title, "share of interior\ncells (0-1)")
    ax.fill_between(t, series["share_held"], step="post", color="#d1495b", alpha=0.25, lw=0)
    ax.plot(t, series["share_held"], color="#d1495b", lw=1.6, drawstyle="steps-post")
    ax.set_ylim(0, 1)
    return fig


def live_series(model: FacilityModel) -> pd.DataFrame:
    """The DataCollector's series so far, indexed by ``t_h`` (hours)."""
    return model.series_frame()


def counts_rows(models: Sequence[FacilityModel], names: Sequence[str]) -> list[list[float]]:
    """``model.counts[name]`` for each name (rows) and model (columns)."""
    return [[float(m.counts[n]) for m in models] for n in names]
