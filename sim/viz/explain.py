"""The words on the demo's pages, computed from a model (no UI library).

Everything a number on the page depends on is read from the model: its time, its
counts (``model.counts``), its outcomes (``model.outcomes()``) and the outcome
registry (:data:`sim.model.outcomes.OUTCOMES`), never typed in here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sim.analysis.plots import short
from sim.model import PHASES, FacilityModel
from sim.model.outcomes import OUTCOMES

INTRO = (
    "An abstract model of an external assault on a detention facility combined with an "
    "uprising inside it. The facility is a schematic grid, not a real site; agents are "
    "coloured cells and symbols that change state by chance, and the outputs are totals. "
    "Press ▶ Play to watch one run; then change a lever on the left (staffing, "
    "reinforcement time, a warning acted on), press Reset, and compare. <i>Many runs</i> "
    "shows how much runs vary by chance; <i>Compare two policies</i> runs two settings "
    "with the same random numbers."
)
"""The page's first paragraph: what the model is and what a class can try."""

MAIN_OUTCOMES = (
    "left_custody",
    "at_large",
    "recaptured_outside",
    "surrendered_inside",
    "deaths_inmates",
    "minors_exposed",
    "hours_to_control",
    "peak_share_held",
)
"""Outcomes shown first (those not registered are skipped)."""


def main_outcomes() -> list[str]:
    """The registered outcomes of :data:`MAIN_OUTCOMES`, in that order."""
    return [n for n in MAIN_OUTCOMES if n in OUTCOMES]


def phases_text(step_minutes: float) -> str:
    """``Each step (15 simulated minutes) runs, in order: events → external force → ...``."""
    names = " → ".join(p.replace("_", " ") for p in PHASES)
    return f"Each step ({step_minutes:g} simulated minutes) runs, in order: {names}."


def clock(hours: float) -> str:
    """``3 h 15 min``, ``45 min``, ``25 h 30 min``; days from 48 h on: ``3 d 4 h``."""
    minutes = round(hours * 60)
    d, rest = divmod(minutes, 24 * 60) if minutes >= 48 * 60 else (0, minutes)
    h, m = divmod(rest, 60)
    parts = [f"{d} d"] if d else []
    if h or (d and m):
        parts.append(f"{h} h")
    if m or not parts:
        parts.append(f"{m} min")
    return " ".join(parts)


DECIMALS = 3


def exact(value: float) -> str:
    """A number as it is, to three decimals at most, so that a difference can be checked.

    ``806.5`` stays ``806.5`` (not ``807``), ``0.17714`` is ``0.177``, ``-3`` is ``−3``.
    """
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:,.{DECIMALS}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−") if text != "-0" else "0"


def _count(counts: Mapping[str, float], *names: str) -> float:
    return float(sum(counts.get(f"inmates_{n}", 0) for n in names))


def stage(model: FacilityModel) -> str:
    """Where the event stands, from the counts: the latest of the stages reached.

    External force approaching; perimeter breached; reinforcements arrived; ended
    (control restored, or the horizon reached).
    """
    c = model.counts
    if not model.running:
        restored = model.outcomes().get("control_restored", 1.0) >= 1.0
        return "ended: control restored" if restored else "ended: time horizon reached"
    if any(v for k, v in c.items() if k.startswith("responders_") and k.endswith("engaged")):
        return "reinforcements arrived"
    if c.get("breaches", 0):
        return "perimeter breached"
    if c.get("t_h", 0) == 0 and model.steps == 0:
        return "start"
    return "external force approaching"


def situation(model: FacilityModel) -> str:
    """One line of what is happening now, from ``model.counts``."""
    c = model.counts
    parts = [
        f"rioting {_count(c, 'rioting'):.0f}",
        f"fleeing {_count(c, 'fleeing'):.0f}",
        f"escaped {_count(c, 'escaped'):.0f}",
    ]
    if "share_held" in c:
        parts.append(f"facility held by the uprising {100 * float(c['share_held']):.0f}%")
    return " · ".join(parts)


def horizon_note(model: FacilityModel) -> str:
    """Why the outcomes differ from the map's last counts, computed from both; '' if equal.

    The run stops when control is restored; the outcomes look ahead to the horizon, with
    people still outside recaptured at the search's rate over the remaining time.
    """
    if model.running:
        return ""
    out, c = model.outcomes(), model.counts
    recaptured_now = _count(c, "recaptured")
    recaptured_end = out.get("recaptured_outside", recaptured_now)
    at_large_end = out.get("at_large", _count(c, "escaped"))
    if recaptured_end == recaptured_now:
        return ""
    horizon_h = float(model.p.get("horizon_h", 0))
    return (
        f"The map and charts stop at {clock(model.t_h)}, when the run ended, showing "
        f"{exact(recaptured_now)} recaptured and {exact(_count(c, 'escaped'))} escaped; the "
        f"outcomes are measured at the {horizon_text(horizon_h)} horizon, after the search that "
        f"continues once control is restored, so {exact(recaptured_end - recaptured_now)} "
        f"more are recaptured by then ({exact(recaptured_end)} recaptured outside, "
        f"{exact(at_large_end)} still at large)."
    )


def horizon_text(hours: float) -> str:
    """``14-day`` for whole days, else the clock text."""
    return f"{hours / 24:g}-day" if hours % 24 == 0 else clock(hours)


def outcome_rows(model: FacilityModel) -> list[tuple[str, str, str, str]]:
    """(name, value, unit, one-line definition) for every registered outcome."""
    values = model.outcomes()
    rows = []
    for name, spec in OUTCOMES.items():
        if name in values:
            value, unit = exact(values[name]), spec.unit
            if unit == "0/1":
                value, unit = ("yes" if values[name] else "no"), ""
            rows.append((short(name), value, unit, spec.description))
    return rows


def end_banner(model: FacilityModel) -> str:
    """``Run ended after 25 h 30 min (step 102): control restored.``"""
    return f"Run ended after {clock(model.t_h)} (step {model.steps}): {stage(model)[7:]}."
