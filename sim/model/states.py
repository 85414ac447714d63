"""Agent states (brief section 2), as small integer codes stored in numpy arrays.

The names here are the ones used in the code, the docs, the time series and the demo.
"""

from __future__ import annotations

from enum import IntEnum


class Inmate(IntEnum):
    CONFINED = 0
    AGITATED = 1
    RIOTING = 2
    FLEEING = 3
    ESCAPED = 4  # beyond the cordon edge, at large
    RECAPTURED = 5  # caught after leaving custody
    SURRENDERED = 6  # gave up inside the perimeter
    INCAPACITATED = 7


class Guard(IntEnum):
    ON_POST = 0
    RESPONDING = 1
    OVERWHELMED = 2  # captured by the uprising
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


def series_names() -> list[str]:
    """Names of the per-step count series, e.g. ``inmates_rioting``, ``guards_on_post``."""
    names = [f"inmates_{s.name.lower()}" for s in Inmate]
    names += [f"guards_{s.name.lower()}" for s in Guard]
    names += [f"responders_{s.name.lower()}" for s in Responder]
    names += [f"external_{s.name.lower()}" for s in External]
    names += ["share_held", "breaches"]
    return names
