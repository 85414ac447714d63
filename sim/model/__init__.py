"""The model: parameters, states, the schematic layout, rules, the facility model and its
outcomes. It does no file I/O and imports nothing from the rest of ``sim``."""

from sim.model.facility import PHASES, FacilityModel, RunOutput, run_replicate

__all__ = ["PHASES", "FacilityModel", "RunOutput", "run_replicate"]
