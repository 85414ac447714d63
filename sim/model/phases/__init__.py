"""The seven phases of a tick, in order (brief section 3): one module each, each a
``run(world)`` function that reads and writes a :class:`~sim.model.world.World`.

The same names are used in the code, ``docs/odd.md`` and the demo's labels.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.model.phases import (
    bookkeeping,
    engagement,
    events,
    external_force,
    movement,
    response,
    uprising,
)
from sim.model.world import World

PHASES: tuple[str, ...] = (
    "events",
    "external_force",
    "uprising",
    "response",
    "engagement",
    "movement",
    "bookkeeping",
)
"""The phases of a tick, in order."""

PHASE_FUNCTIONS: dict[str, Callable[[World], None]] = {
    "events": events.run,
    "external_force": external_force.run,
    "uprising": uprising.run,
    "response": response.run,
    "engagement": engagement.run,
    "movement": movement.run,
    "bookkeeping": bookkeeping.run,
}


def run_tick(w: World) -> None:
    """Advance the clock by one tick and run every phase on it."""
    w.tick += 1
    for name in PHASES:
        PHASE_FUNCTIONS[name](w)
