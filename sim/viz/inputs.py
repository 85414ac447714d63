"""The demo's inputs, generated from :data:`sim.model.params.PARAMS` (style point 1).

:func:`slider_specs` turns every lever and uncertainty declaration into a Mesa SolaraViz
user-input dict (label with unit, min/max = the declared bounds, the scenario's value as
the start value; switches as checkboxes). :class:`DemoModel` is the model the demo builds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from sim.analysis.plots import short
from sim.config.scenario import Scenario, load_scenario
from sim.model import FacilityModel
from sim.model.params import PARAMS, Param, Role

DEFAULT_SCENARIO = "teaching_small"
DEFAULT_SEED = 1
SEED_RANGE = (0, 99)
SLIDER_ROLES: tuple[Role, ...] = ("lever", "uncertainty")


def nice_step(lo: float, hi: float) -> float:
    """The largest power of ten that divides the range into at least 100 slider steps."""
    span = hi - lo
    if span <= 0:
        return 1.0
    return 10.0 ** math.floor(math.log10(span / 100))


def slider_label(p: Param) -> str:
    """``Warning lead time (h)``: readable name and unit, short enough for a sidebar.

    A share reads ``(0-1)``; a unit that names the quantity (``guards/100 inmates``)
    replaces the name.
    """
    if "/" in p.unit and not p.unit.startswith("1/"):
        return p.unit.replace("/", " per ").capitalize()
    unit = {"share": "0-1", "inmates (design)": "inmates, design"}.get(p.unit, p.unit)
    return f"{short(p.name)} ({unit})" if unit else short(p.name)


def input_spec(p: Param, value: Any) -> dict[str, Any]:
    """One SolaraViz user-input dict for parameter ``p`` starting at ``value``."""
    if p.kind == "bool":
        return {"type": "Checkbox", "value": bool(value), "label": slider_label(p)}
    lo, hi = p.bounds
    if p.kind == "int":
        return {
            "type": "SliderInt",
            "value": int(value),
            "label": slider_label(p),
            "min": int(lo),
            "max": int(hi),
            "step": 1,
        }
    return {
        "type": "SliderFloat",
        "value": float(value),
        "label": slider_label(p),
        "min": float(lo),
        "max": float(hi),
        "step": nice_step(lo, hi),
    }


def slider_specs(
    values: Mapping[str, Any] | None = None, roles: Iterable[Role] = SLIDER_ROLES
) -> dict[str, dict[str, Any]]:
    """User inputs for every parameter of ``roles`` (levers first), in declaration order.

    ``values`` gives start values (e.g. a scenario's resolved parameters); a parameter
    missing from it starts at its declared default.
    """
    values = values or {}
    out: dict[str, dict[str, Any]] = {}
    for role in roles:
        for p in PARAMS.values():
            if p.role == role:
                out[p.name] = input_spec(p, values.get(p.name, p.default))
    return out


def seed_spec(value: int = DEFAULT_SEED) -> dict[str, Any]:
    """The seed input: the same seed and parameters give the same run."""
    lo, hi = SEED_RANGE
    return {
        "type": "SliderInt",
        "value": int(value),
        "label": "Seed",
        "min": lo,
        "max": hi,
        "step": 1,
    }


def model_params(scenario: Scenario, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """SolaraViz ``model_params``: seed and slider inputs, plus the scenario's other
    overrides (settings such as ``housing_blocks``) as fixed values."""
    sliders = slider_specs(scenario.params)
    fixed = {k: v for k, v in scenario.overrides.items() if k not in sliders}
    return {"seed": seed_spec(seed), **sliders, **fixed}


def initial_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments SolaraViz passes on Reset before any slider is moved."""
    return {
        k: (v["value"] if isinstance(v, dict) and "type" in v else v) for k, v in params.items()
    }


def load_demo_scenario(name_or_file: str | None = None) -> Scenario:
    """The scenario the demo starts from (``teaching_small`` unless named)."""
    return load_scenario(name_or_file or DEFAULT_SCENARIO)


def fit_joint(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Make independent slider values jointly valid; return them and a note per change.

    Origin shares must sum to at most 1 (``sim.model.params.check_joint``): if the iraqi and
    third-country sliders together exceed 1, the third-country share is lowered.
    """
    fitted = dict(params)
    notes: list[str] = []
    iraqi = fitted.get("iraqi_share", PARAMS["iraqi_share"].default)
    third = fitted.get("third_country_share", PARAMS["third_country_share"].default)
    if iraqi + third > 1.0:
        fitted["third_country_share"] = round(1.0 - iraqi, 10)
        notes.append(
            f"third-country share lowered from {third:g} to {1.0 - iraqi:g} so that the "
            "origin shares sum to at most 1"
        )
    return fitted, notes


class DemoModel(FacilityModel):
    """:class:`~sim.model.FacilityModel` built from slider values made jointly valid.

    Attributes:
        seed: the seed it was built with (shown in the UI and reused by the comparison).
        notes: adjustments :func:`fit_joint` made to the requested values.
    """

    def __init__(self, *, seed: int | None = None, collect_every_steps: int = 1, **kwargs: Any):
        fitted, notes = fit_joint(kwargs)
        super().__init__(seed=seed, collect_every_steps=collect_every_steps, **fitted)
        self.seed = seed
        self.notes = notes
