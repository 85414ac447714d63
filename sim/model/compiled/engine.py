"""Running a World's ticks with the compiled phases."""

from __future__ import annotations

from sim.model.compiled.phases import run_ticks
from sim.model.compiled.state import pack
from sim.model.world import World


class CompiledEngine:
    """Runs ticks of one World in compiled code (the numba twin of ``phases.run_tick``)."""

    def __init__(self, world: World):
        self.world = world
        world.structure_dirty = True  # the compiled fields start empty
        self._args = pack(world)

    def run(self, n_ticks: int) -> int:
        """Run up to ``n_ticks`` ticks, fewer if the run ends; returns the ticks run."""
        return int(run_ticks(int(n_ticks), *self._args, self.world.scalars))
