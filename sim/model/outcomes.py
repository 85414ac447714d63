"""Outcomes, registered once by name (brief section 4).

Each :class:`Outcome` has a name, unit, description, the function computing it from a
finished model, and where the reported data has a comparable range, the key of that
range in ``sim/data/ghwayran_reported.yaml`` (under ``outcomes``). Data collection,
experiment files, the store and reports refer to outcomes by these names only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.states import External, Guard, Inmate, Responder

if TYPE_CHECKING:
    from sim.model import FacilityModel


@dataclass(frozen=True)
class Outcome:
    name: str
    unit: str
    description: str
    compute: Callable[[FacilityModel], float]
    reported_key: str | None = None


def _count(arr: np.ndarray, *states: int) -> float:
    return float(np.isin(arr, states).sum())  # once per run: isin is fine here


_OUTCOMES = [
    Outcome(
        "left_custody",
        "persons",
        "Inmates who crossed the perimeter at any time (alive or not, caught or not).",
        lambda m: float(m.inmates.left_custody.sum()),
        "left_custody",
    ),
    Outcome(
        "recaptured_outside",
        "persons",
        "Inmates caught after leaving custody.",
        lambda m: _count(m.inmates.state, Inmate.RECAPTURED),
        "recaptured_outside",
    ),
    Outcome(
        "at_large",
        "persons",
        "Inmates who left custody and are neither caught nor incapacitated at the end.",
        lambda m: float(
            (
                m.inmates.left_custody & np.isin(m.inmates.state, (Inmate.FLEEING, Inmate.ESCAPED))
            ).sum()
        ),
        "at_large_after_weeks",
    ),
    Outcome(
        "surrendered_inside",
        "persons",
        "Inmates who rose or fled but surrendered inside the perimeter.",
        lambda m: _count(m.inmates.state, Inmate.SURRENDERED),
        "surrendered_inside",
    ),
    Outcome(
        "deaths_guards",
        "persons",
        "Guards incapacitated.",
        lambda m: _count(m.guards.state, Guard.INCAPACITATED),
    ),
    Outcome(
        "deaths_responders",
        "persons",
        "Responders incapacitated.",
        lambda m: _count(m.responders.state, Responder.INCAPACITATED),
    ),
    Outcome(
        "deaths_inmates",
        "persons",
        "Inmates incapacitated.",
        lambda m: _count(m.inmates.state, Inmate.INCAPACITATED),
    ),
    Outcome(
        "deaths_external",
        "persons",
        "External-force agents incapacitated.",
        lambda m: _count(m.external.state, External.INCAPACITATED),
    ),
    Outcome(
        "minors_exposed",
        "minor-hours",
        "Sum over time of minors present in a contested zone (one the uprising or the "
        "external force occupies), in hours.",
        lambda m: float(m.minors_exposed_h),
    ),
    Outcome(
        "hours_to_control",
        "h",
        "Hours until no rioting or fleeing inmate remains inside the perimeter and no "
        "external-force agent is active anywhere; the horizon if control is never "
        "restored (censored).",
        lambda m: float(m.hours_to_control),
    ),
    Outcome(
        "control_restored",
        "0/1",
        "1 if control was restored before the horizon.",
        lambda m: float(m.control_restored),
    ),
    Outcome(
        "peak_share_held",
        "share",
        "Largest share of the facility's interior cells held by the uprising.",
        lambda m: float(m.peak_share_held),
    ),
]

OUTCOMES: dict[str, Outcome] = {o.name: o for o in _OUTCOMES}


def compute_outcomes(model: FacilityModel, names: list[str] | None = None) -> dict[str, float]:
    """Every (or the named) registered outcome of a finished model, by name."""
    chosen = names if names is not None else list(OUTCOMES)
    return {n: OUTCOMES[n].compute(model) for n in chosen}
