"""The demo's inputs, generated from :data:`sim.model.params.PARAMS` (style point 1).

Every lever and uncertainty becomes an :class:`InputSpec`: a label with its unit, a slider
over the parameter's *plausible* range (scaled to the scenario when the scenario is smaller
than the event, so its values do not sit at the far end) and a number box that accepts
anything within the hard bounds. :class:`DemoModel` is the model the demo builds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.analysis.plots import short, value_text
from sim.config.scenario import Scenario, load_scenario
from sim.model import FacilityModel
from sim.model.params import PARAMS, Param, Role, check_joint, defaults

DEFAULT_SCENARIO = "teaching_small"
SEED_SLIDER = (0, 99)
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


def slider_range(p: Param, value: float) -> tuple[float, float]:
    """The slider's range for ``p`` when the scenario sets it to ``value``.

    The plausible range (the hard bounds if none is declared) when it holds ``value``.
    Otherwise the scenario is at another scale than the event (``teaching_small`` has 40
    responders where the event had hundreds): the plausible range times
    ``value / default``, clipped to the bounds, so the scenario's value sits inside it
    (40 responders: 10 to 100). Whole numbers for integer parameters.
    """
    lo, hi = p.sweep_range()
    if not lo <= value <= hi:
        scale = value / p.default if p.default and value > 0 else 0.0
        if scale > 0 and lo * scale <= value <= hi * scale:
            lo, hi = lo * scale, hi * scale
        lo, hi = min(lo, value), max(hi, value)
    lo, hi = max(lo, p.bounds[0]), min(hi, p.bounds[1])
    if p.kind == "int":
        return float(math.floor(lo)), float(math.ceil(hi))
    return float(lo), float(hi)


@dataclass(frozen=True)
class InputSpec:
    """One input of the settings panel: a switch, or a slider with a number box."""

    name: str
    label: str
    kind: str  # float, int or bool
    role: str
    start: float | int | bool  # the scenario's value
    slider: tuple[float, float]  # slider range; typed values may go to ``bounds``
    step: float
    bounds: tuple[float, float]
    help: str

    def allowed(self) -> str:
        """``0.5 to 20 guards/100 inmates``: the values a typed number may take."""
        return PARAMS[self.name].describe_range()

    def parse(self, text: str) -> tuple[float | int | None, str]:
        """A typed value and '' if valid; else None and one line saying what is allowed."""
        try:
            number = float(str(text).strip().replace(",", ""))
        except ValueError:
            return None, f"not a number; allowed: {self.allowed()}"
        if self.kind == "int":
            if not number.is_integer():
                return None, f"a whole number is needed; allowed: {self.allowed()}"
            number = int(number)
        lo, hi = self.bounds
        if not lo <= number <= hi:
            return None, f"out of range; allowed: {self.allowed()}"
        return number, ""


def input_spec(p: Param, value: Any) -> InputSpec:
    """The input for parameter ``p`` starting at the scenario's ``value``."""
    if p.kind == "bool":
        return InputSpec(
            p.name, slider_label(p), "bool", p.role, bool(value), (0, 1), 1, (0, 1), p.help
        )
    lo, hi = slider_range(p, float(value))
    step = 1.0 if p.kind == "int" else nice_step(lo, hi)
    start = int(value) if p.kind == "int" else float(value)
    return InputSpec(
        p.name, slider_label(p), p.kind, p.role, start, (lo, hi), step, p.bounds, p.help
    )


def input_specs(
    values: Mapping[str, Any] | None = None, roles: Iterable[Role] = SLIDER_ROLES
) -> dict[str, InputSpec]:
    """Inputs for every parameter of ``roles`` (levers first), in declaration order.

    ``values`` gives start values (e.g. a scenario's resolved parameters); a parameter
    missing from it starts at its declared default.
    """
    values = values or {}
    out: dict[str, InputSpec] = {}
    for role in roles:
        for p in PARAMS.values():
            if p.role == role:
                out[p.name] = input_spec(p, values.get(p.name, p.default))
    return out


def bare_value(name: str, value: Any) -> str:
    """A value without its unit (the label carries it): ``3``, ``0.5``, ``yes``."""
    if name in PARAMS and PARAMS[name].kind == "bool":
        return value_text(name, value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_text(name: str, value: Any) -> str:
    """``Guards per 100 inmates: 8``: the label (with its unit) and the bare value."""
    title = "Seed" if name == "seed" else slider_label(PARAMS[name])
    return f"{title}: {bare_value(name, value)}"


def changed_values(applied: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """``Guards per 100 inmates: 3 → 8`` for every entry of ``wanted`` that differs."""
    out = []
    for name, new in wanted.items():
        old = applied.get(name)
        if old != new:
            out.append(f"{setting_text(name, old)} → {bare_value(name, new)}")
    return out


def load_demo_scenario(name_or_file: str | None = None) -> Scenario:
    """The scenario the demo starts from (``teaching_small`` unless named)."""
    return load_scenario(name_or_file or DEFAULT_SCENARIO)


def fit_joint(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Make independent slider values jointly valid; return them and a note per change.

    The one joint constraint, :func:`sim.model.params.check_joint` (origin shares sum to
    at most 1): when the values break it, the third-country share is lowered to fit.
    """
    fitted = dict(params)
    values = {**defaults(), **fitted}
    try:
        check_joint(values)
    except ValueError:
        third = values["third_country_share"]
        fitted["third_country_share"] = round(1.0 - values["iraqi_share"], 10)
        note = (
            f"third-country share lowered from {third:g} to "
            f"{fitted['third_country_share']:g} so that the origin shares sum to at most 1"
        )
        return fitted, [note]
    return fitted, []


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
