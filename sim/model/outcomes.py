"""Outcomes, registered once by name (brief section 4).

Each :class:`Outcome` has a name, unit, a one-line definition (printed in reports and the
demo), the function computing it from a finished run, and where the reported data has a
comparable range, the key of that range in ``sim/data/ghwayran_reported.yaml`` (under
``outcomes``). Outcomes read a run through :class:`FinalState`, a small declared interface,
never the model's internals. Data collection, experiment files, the store and reports
refer to outcomes by these names only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.model.states import External, Guard, Inmate, Responder


class FinalState(Protocol):
    """What outcomes may read of a finished run."""

    inmate_state: np.ndarray
    inmate_left_custody: np.ndarray
    guard_state: np.ndarray
    responder_state: np.ndarray
    external_state: np.ndarray
    minors_exposed_h: float
    hours_to_control: float
    control_restored: bool
    peak_share_held: float
    peak_guards_captured: int


@dataclass(frozen=True)
class Outcome:
    name: str
    unit: str
    description: str
    compute: Callable[[FinalState], float]
    reported_key: str | None = None


def _count(arr: np.ndarray, *states: int) -> float:
    return float(np.isin(arr, states).sum())


_OUTCOMES = [
    Outcome(
        "left_custody",
        "persons",
        "Detainees who got beyond the perimeter at any time, whatever became of them after.",
        lambda s: float(s.inmate_left_custody.sum()),
        "left_custody",
    ),
    Outcome(
        "recaptured_outside",
        "persons",
        "Detainees caught after leaving custody, up to the end of the horizon (14 days).",
        lambda s: _count(s.inmate_state, Inmate.RECAPTURED),
        "recaptured_outside",
    ),
    Outcome(
        "at_large",
        "persons",
        "Detainees who left custody and are still free at the end of the horizon.",
        lambda s: float(
            (
                s.inmate_left_custody & np.isin(s.inmate_state, (Inmate.FLEEING, Inmate.ESCAPED))
            ).sum()
        ),
        "at_large_after_weeks",
    ),
    Outcome(
        "surrendered_inside",
        "persons",
        "Detainees retaken inside the perimeter after being out of control (rioting, or in "
        "a block the uprising or the external force opened), as the reports count them.",
        lambda s: _count(s.inmate_state, Inmate.SURRENDERED),
        "surrendered_inside",
    ),
    Outcome(
        "deaths_guards",
        "persons",
        "Guards killed or incapacitated (in fighting, or while held hostage).",
        lambda s: _count(s.guard_state, Guard.INCAPACITATED),
    ),
    Outcome(
        "deaths_responders",
        "persons",
        "Reinforcements killed or incapacitated.",
        lambda s: _count(s.responder_state, Responder.INCAPACITATED),
    ),
    Outcome(
        "deaths_authority",
        "persons",
        "Guards and reinforcements killed or incapacitated together, as the reports count "
        "the facility's staff and the responding forces.",
        lambda s: (
            _count(s.guard_state, Guard.INCAPACITATED)
            + _count(s.responder_state, Responder.INCAPACITATED)
        ),
        "deaths_authority",
    ),
    Outcome(
        "deaths_inmates",
        "persons",
        "Detainees killed or incapacitated.",
        lambda s: _count(s.inmate_state, Inmate.INCAPACITATED),
    ),
    Outcome(
        "deaths_external",
        "persons",
        "Members of the external force killed or incapacitated.",
        lambda s: _count(s.external_state, External.INCAPACITATED),
    ),
    Outcome(
        "deaths_insurgent",
        "persons",
        "Detainees and external force killed or incapacitated together, as the reports "
        "count them (the sources do not split the two).",
        lambda s: (
            _count(s.inmate_state, Inmate.INCAPACITATED)
            + _count(s.external_state, External.INCAPACITATED)
        ),
        "deaths_insurgent",
    ),
    Outcome(
        "guards_captured_peak",
        "persons",
        "Most guards held hostage by the uprising at one time.",
        lambda s: float(s.peak_guards_captured),
    ),
    Outcome(
        "guards_captured_end",
        "persons",
        "Guards still held hostage when the run ended.",
        lambda s: _count(s.guard_state, Guard.CAPTURED),
    ),
    Outcome(
        "minors_exposed",
        "minor-hours",
        "Sum over time of minors present in a contested zone (their wing, a block or the "
        "yard with an uprising or external-force agent in it), in hours.",
        lambda s: float(s.minors_exposed_h),
    ),
    Outcome(
        "hours_to_control",
        "h",
        "Hours until no rioting or fleeing detainee is inside the perimeter and no member of "
        "the external force is active; the horizon if control is never restored (censored).",
        lambda s: float(s.hours_to_control),
    ),
    Outcome(
        "control_restored",
        "0/1",
        "1 if control was restored before the horizon, else 0.",
        lambda s: float(s.control_restored),
    ),
    Outcome(
        "peak_share_held",
        "share",
        "Largest share of the facility's interior cells held by the uprising at one time.",
        lambda s: float(s.peak_share_held),
    ),
]

OUTCOMES: dict[str, Outcome] = {o.name: o for o in _OUTCOMES}


def compute_outcomes(state: FinalState, names: list[str] | None = None) -> dict[str, float]:
    """Every (or the named) registered outcome of a finished run, by name."""
    chosen = names if names is not None else list(OUTCOMES)
    return {n: OUTCOMES[n].compute(state) for n in chosen}
