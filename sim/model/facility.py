"""The facility model: a ``mesa.Model`` whose agents live in numpy arrays.

The model only wires things together: a :class:`~sim.model.world.World` holds the cells,
the four agent groups (inmates, guards, responders, the external force) and the clock; a
tick runs the seven phases of :data:`~sim.model.phases.PHASES` in order, one module each
(:mod:`sim.model.phases`); outcomes are registered in :mod:`sim.model.outcomes`. A Mesa
step is one reporting interval of ``step_minutes``, cut into ticks of at most one cell of
movement each. The model does no I/O and imports nothing from plotting or UI code.

Mesa integration: ``seed=``, ``steps``, ``running``, ``run_model()`` and a ``DataCollector``
of model-level counts behave as Mesa users expect. All randomness comes from keyed streams
derived from the seed (:mod:`sim.model.streams`); Mesa's own ``self.rng`` is not used by
the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.model.outcomes import compute_outcomes
from sim.model.params import resolve
from sim.model.phases import PHASES, run_tick
from sim.model.phases.bookkeeping import search_to_horizon
from sim.model.states import External, Guard, Inmate, Responder, series_names
from sim.model.streams import MASK64
from sim.model.world import World

__all__ = ["ENGINES", "PHASES", "FacilityModel", "RunOutput", "run_replicate"]

ENGINES = ("compiled", "numpy")
DEFAULT_ENGINE = "compiled"


def _compiled_engine(world: World) -> Any:
    from sim.model.compiled import CompiledEngine  # numba is imported on first use only

    return CompiledEngine(world)


@dataclass
class RunOutput:
    """What one replicate returns.

    outcomes: registered outcome name -> value (``sim.model.outcomes.OUTCOMES``).
    series: DataFrame indexed by ``t_h`` (hours) with one column per name of
        ``sim.model.states.series_names()``, or None if not asked for.
    steps: reporting steps taken.
    """

    outcomes: dict[str, float]
    series: pd.DataFrame | None
    steps: int


class FacilityModel(mesa.Model):
    """External assault plus internal uprising at a schematic facility.

    Args:
        seed: the run's seed (a plain int below 2**63); every random decision is a keyed
            draw from it. Without one, a seed is drawn from Mesa's generator.
        collect_every_steps: DataCollector interval in steps (0: only the final state).
        engine: ``"compiled"`` (numba kernels, the default) or ``"numpy"`` (the vectorised
            reference the compiled phases mirror; same draws, same numbers).
        **kwargs: parameter values by name (``sim.model.params.PARAMS``); the rest take
            their defaults.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        collect_every_steps: int = 1,
        engine: str = DEFAULT_ENGINE,
        **kwargs: Any,
    ):
        super().__init__(seed=seed)
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
        p = resolve(kwargs)
        self.p = p
        run_seed = int(seed) if seed is not None else int(self.rng.integers(0, 2**63))
        self.world = World(p, run_seed & MASK64)
        self.engine = engine
        self._compiled = _compiled_engine(self.world) if engine == "compiled" else None
        self.dt_h = p["step_minutes"] / 60.0
        self.max_steps = math.ceil(self.world.max_ticks / self.world.ticks_per_step)
        self.collect_every_steps = int(collect_every_steps)
        self.counts: dict[str, float] = {}
        self._count()
        self.datacollector = mesa.DataCollector(
            model_reporters={n: _reporter(n) for n in ["t_h", *series_names()]}
        )
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ what users read
    layout = property(lambda self: self.world.layout)
    inmates = property(lambda self: self.world.inmates)
    guards = property(lambda self: self.world.guards)
    responders = property(lambda self: self.world.responders)
    external = property(lambda self: self.world.external)
    held = property(lambda self: self.world.held)
    breached = property(lambda self: self.world.breached)
    block_open = property(lambda self: self.world.block_open)

    @property
    def t_h(self) -> float:
        """Simulated hours since the event began."""
        return self.world.t_h

    # ------------------------------------------------------------------ stepping
    def _wrapped_step(self, *args: Any, **kwargs: Any) -> None:
        """Mesa's step wrapper (it counts ``steps``), skipped once the run has ended.

        A finished model never steps past its end: Mesa's SolaraViz steps a model over its
        render interval without checking ``running``, and ``steps`` must stay the end time.
        """
        if self.running:
            super()._wrapped_step(*args, **kwargs)

    def step(self) -> None:
        """One reporting step: ``ticks_per_step`` ticks of the seven phases, fewer if the
        run ends inside the step."""
        w = self.world
        if self._compiled is not None:
            self._compiled.run(w.ticks_per_step)
        else:
            for _ in range(w.ticks_per_step):
                run_tick(w)
                if w.finished:
                    break
        if w.finished:
            self.running = False
        every = self.collect_every_steps
        if not self.running or (every and self.steps % every == 0):
            self._count()
            self.datacollector.collect(self)
        if w.finished and w.control_restored:
            search_to_horizon(w)  # after the last counts: the series show the simulated run

    def _count(self) -> None:
        """Per-state counts and the held share, for the DataCollector and the demo."""
        w, c = self.world, self.counts
        c["t_h"] = w.t_h
        for prefix, arr, states in (
            ("inmates", w.inmates, Inmate),
            ("guards", w.guards, Guard),
            ("responders", w.responders, Responder),
            ("external", w.external, External),
        ):
            counts = np.bincount(arr.state, minlength=len(states))
            for s in states:
                c[f"{prefix}_{s.name.lower()}"] = int(counts[s])
        c["share_held"] = float(w.held[w.is_interior].sum() / w.n_interior)
        c["breaches"] = int(w.breached.sum())

    # ------------------------------------------------------------------ results
    def outcomes(self) -> dict[str, float]:
        """Every registered outcome of the current state (``sim.model.outcomes``)."""
        return compute_outcomes(self.world)

    def series_frame(self) -> pd.DataFrame:
        """The DataCollector's model variables indexed by ``t_h``."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.drop_duplicates("t_h", keep="last").set_index("t_h")


def _reporter(name: str):
    return lambda m: m.counts[name]


def run_replicate(
    params: Mapping[str, Any] | None,
    seed: int,
    *,
    series_every_h: float | None = None,
    engine: str = DEFAULT_ENGINE,
) -> RunOutput:
    """Build a model from ``params`` (overrides of the defaults), run it to the end.

    Deterministic in (params, seed). ``series_every_h`` asks for the time series sampled
    at that interval (rounded to whole reporting steps).
    """
    values = resolve(params)
    dt_h = values["step_minutes"] / 60.0
    every = max(1, round(series_every_h / dt_h)) if series_every_h else 0
    model = FacilityModel(seed=int(seed), collect_every_steps=every, engine=engine, **values)
    model.run_model()
    series = model.series_frame() if series_every_h else None
    return RunOutput(outcomes=model.outcomes(), series=series, steps=model.steps)
