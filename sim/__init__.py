"""prisonsim: an abstract, non-operational agent-based model of an external assault and an
internal uprising at a schematic detention facility, for policy experiments.

Data flows one way: scenario -> model -> outcomes -> experiment runner -> results store ->
analysis -> figures and report. The model (``sim.model``, ``sim.model.rules``, ``sim.model.layout``)
does no file I/O and imports nothing from plotting or UI code.
"""

__version__ = "0.1.0"
