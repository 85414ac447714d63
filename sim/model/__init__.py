"""The model: parameters, states, the schematic layout, keyed random streams, rules, the
seven phases, the facility model and its outcomes. It does no file I/O and imports nothing
from the rest of ``sim``."""

from sim.model.facility import FacilityModel, RunOutput, run_replicate
from sim.model.phases import PHASES

__all__ = ["PHASES", "FacilityModel", "RunOutput", "run_replicate"]
