"""Agent states (brief section 2), as small integer codes stored in numpy arrays.

The names here are the ones used in the code, the docs, the time series and the demo.
"""

from __future__ import annotations

from enum import IntEnum


class Inmate(IntEnum):
    CONFINED = 0  # under authority control, calm
    AGITATED = 1  # under control, but grievance outweighs perceived risk (Epstein's "active")
    UNCONTROLLED = 2  # out of authority control inside the perimeter, not rioting
    RIOTING = 3
    FLEEING = 4
    ESCAPED = 5  # beyond the cordon edge, at large
    RECAPTURED = 6  # caught after leaving custody
    SURRENDERED = 7  # retaken inside the perimeter after being out of control
    INCAPACITATED = 8


class Guard(IntEnum):
    ON_POST = 0
    RESPONDING = 1
    CAPTURED = 2  # held by the uprising (a hostage)
    INCAPACITATED = 3


class Responder(IntEnum):
    STAGED = 0  # not yet arrived
    ENGAGED = 1
    INCAPACITATED = 2


class External(IntEnum):
    APPROACHING = 0
    BREACHING = 1
    INSIDE = 2
    HOLDING = 3
    WITHDRAWN = 4
    INCAPACITATED = 5


class Origin(IntEnum):
    SYRIAN = 0
    IRAQI = 1
    THIRD_COUNTRY = 2


EXTERNAL_ACTIVE = (External.APPROACHING, External.BREACHING, External.INSIDE, External.HOLDING)
"""External-force states that count as present and fighting."""

GUARD_ACTIVE = (Guard.ON_POST, Guard.RESPONDING)
"""Guard states on the authority side."""

INMATE_OUT_OF_CONTROL_INSIDE = (Inmate.UNCONTROLLED, Inmate.RIOTING)
"""Inmate states that a retaking of the facility turns into ``SURRENDERED``."""


def series_names() -> list[str]:
    """Names of the per-step count series, e.g. ``inmates_rioting``, ``guards_on_post``."""
    names = [f"inmates_{s.name.lower()}" for s in Inmate]
    names += [f"guards_{s.name.lower()}" for s in Guard]
    names += [f"responders_{s.name.lower()}" for s in Responder]
    names += [f"external_{s.name.lower()}" for s in External]
    names += ["share_held", "breaches"]
    return names
