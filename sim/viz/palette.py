"""Colours, labels and map symbols for every state, generated from the model's enums.

The state enums of :mod:`sim.model.states` grow and change: every table here is built by
iterating over them, with known names getting chosen colours and labels (inmate colours are
those of :data:`sim.analysis.plots.INMATE_STATES`, so the demo and the reports agree) and
any other name a fallback colour and a label made from its name. A new state therefore
shows up on the map, in the legend and in the charts instead of breaking the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from matplotlib.colors import to_rgb

from sim.analysis.plots import INMATE_STATES
from sim.model.layout import Zone
from sim.model.states import External, Guard, Inmate, Responder

FALLBACK_COLOURS = (
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#ff7f0e",
    "#8c564b",
    "#7f7f7f",
    "#1f77b4",
    "#2ca02c",
)
"""Colours for states this module does not know by name, taken in enum order."""

ZONE_LOOK: dict[str, tuple[str, str]] = {
    "town": ("surroundings", "#ece6d8"),
    "cordon": ("cordon edge (reaching it = escaped)", "#cfc6b4"),
    "perimeter": ("perimeter wall", "#5a5a5a"),
    "gate": ("gate", "#8a6d4b"),
    "yard": ("yard", "#f7f7f2"),
    "block": ("housing block", "#c8d3de"),
    "minors": ("minors' wing", "#ddd0e6"),
    "control": ("control point", "#9cc5bb"),
}
"""Zone name -> (legend text, muted ground colour)."""

BREACHED = ("breached wall", "#e8b77f")
HELD = ("held by the uprising (no inmate there)", "#f3c9ce")

INMATE_PRIORITY = (
    "rioting",
    "fleeing",
    "agitated",
    "incapacitated",
    "escaped",
    "recaptured",
    "surrendered",
    "confined",
)
"""Tie-break between states with equal counts in a cell: the more eventful first.
A state not listed ranks after the listed eventful states and before ``confined``."""

HIDDEN_STATES = frozenset({"incapacitated", "staged", "withdrawn"})
"""States of guards, responders and the external force not drawn on the map (not there)."""


@dataclass(frozen=True)
class Look:
    """How one state is shown: legend text, colour and (for markers) the symbol."""

    text: str
    colour: str
    marker: str = ""


@dataclass(frozen=True)
class MarkerGroup:
    """An agent group drawn as markers: its model attribute, enum and symbol."""

    attribute: str  # guards, responders, external
    states: type[IntEnum]
    marker: str  # "square", "triangle" or "cross"
    noun: str


MARKER_GROUPS: tuple[MarkerGroup, ...] = (
    MarkerGroup("guards", Guard, "square", "guards"),
    MarkerGroup("responders", Responder, "triangle", "reinforcements"),
    MarkerGroup("external", External, "cross", "external force"),
)

_ACTIVE_EXTERNAL = Look("external force (active)", "#111111")
_KNOWN_MARKERS: dict[tuple[str, str], Look] = {
    ("guards", "on_post"): Look("guards (on post or responding)", "#1d6fb8"),
    ("guards", "responding"): Look("guards (on post or responding)", "#1d6fb8"),
    ("guards", "overwhelmed"): Look("guards, captured", "#9db4cc"),
    ("guards", "captured"): Look("guards, captured", "#9db4cc"),
    ("responders", "engaged"): Look("reinforcements (arrived)", "#1b5e20"),
    ("external", "approaching"): _ACTIVE_EXTERNAL,
    ("external", "breaching"): _ACTIVE_EXTERNAL,
    ("external", "inside"): _ACTIVE_EXTERNAL,
    ("external", "holding"): _ACTIVE_EXTERNAL,
}


def state_name(state: IntEnum) -> str:
    """``Inmate.RIOTING`` -> ``rioting`` (the name used in series and docs)."""
    return state.name.lower()


def _fallback(index: int) -> str:
    return FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)]


def inmate_looks() -> dict[str, Look]:
    """Series name (``inmates_rioting``) -> look, for every member of :class:`Inmate`."""
    looks, unknown = {}, 0
    for s in Inmate:
        key = f"inmates_{state_name(s)}"
        if key in INMATE_STATES:
            text, colour = INMATE_STATES[key]
        else:
            text, colour = state_name(s).replace("_", " "), _fallback(unknown)
            unknown += 1
        looks[key] = Look(text, colour)
    return looks


def marker_looks(group: MarkerGroup) -> dict[int, Look]:
    """State code -> look for the states of ``group`` drawn on the map."""
    looks, unknown = {}, 0
    for s in group.states:
        name = state_name(s)
        if name in HIDDEN_STATES:
            continue
        look = _KNOWN_MARKERS.get((group.attribute, name))
        if look is None:
            look = Look(f"{group.noun}, {name.replace('_', ' ')}", _fallback(3 + unknown))
            unknown += 1
        looks[int(s)] = Look(look.text, look.colour, group.marker)
    return looks


def marker_legend() -> list[Look]:
    """One entry per distinct (text, colour, marker) over all marker groups, in order."""
    seen: dict[tuple[str, str, str], Look] = {}
    for group in MARKER_GROUPS:
        for look in marker_looks(group).values():
            seen.setdefault((look.text, look.colour, look.marker), look)
    return list(seen.values())


def zone_looks() -> dict[int, Look]:
    """Zone code -> ground look, for every member of :class:`Zone`."""
    looks = {}
    for i, z in enumerate(Zone):
        text, colour = ZONE_LOOK.get(state_name(z), (state_name(z), _fallback(i)))
        looks[int(z)] = Look(text, colour)
    return looks


def ground_legend() -> list[Look]:
    """The ground entries of the legend: zones, then breached wall and held cells."""
    return [*zone_looks().values(), Look(*BREACHED), Look(*HELD)]


def rgb_table(looks: dict[int, Look], size: int) -> np.ndarray:
    """(size, 3) float RGB per code; codes without a look are white."""
    table = np.ones((size, 3))
    for code, look in looks.items():
        table[code] = to_rgb(look.colour)
    return table


def inmate_rgb() -> np.ndarray:
    """(len(Inmate), 3) RGB of each inmate state, indexed by state code."""
    looks = inmate_looks()
    return rgb_table({int(s): looks[f"inmates_{state_name(s)}"] for s in Inmate}, len(Inmate))


def inmate_priority() -> np.ndarray:
    """Per inmate state code, a rank: higher wins a tie in a cell (see INMATE_PRIORITY)."""
    n = len(Inmate)
    rank = np.zeros(max(int(s) for s in Inmate) + 1)
    for s in Inmate:
        name = state_name(s)
        if name in INMATE_PRIORITY:
            rank[int(s)] = n + len(INMATE_PRIORITY) - INMATE_PRIORITY.index(name)
        else:
            rank[int(s)] = n + 1.5  # unknown: above confined, below the listed others
    return rank
