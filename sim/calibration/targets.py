"""What a calibration compares: summary statistics of a run, and their distance to the
reported ranges and tallies.

Ranges. Each reported figure is a contested range (the sources disagree), so a run that
falls anywhere inside it fits it perfectly: its term of the distance is zero inside and
grows with the shortfall outside, in units of the range's width,
``max(0, low - y, y - high) / (high - low)``.

Tallies. A running count reported on successive days fits when the simulated count at
each point is within a factor ``tolerance`` of the report: the term is
``max(0, |ln((y + 1) / (z + 1))| - ln(tolerance)) / ln(tolerance)``.

The distance is the sum of the terms: zero exactly when a run is inside every range and
within the tolerance of every tally point, so ABC with epsilon going to zero conditions on
"looks like what was reported" and nothing more precise than the reports allow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.config.reported import ReportedRange, Tally, reported_range, reported_tally
from sim.model.outcomes import OUTCOMES

TALLY_SERIES = {
    "recaptured_outside": "inmates_recaptured",
    "surrendered_inside": "inmates_surrendered",
}
"""The count series each tallied outcome is read from."""


@dataclass(frozen=True)
class Targets:
    """The reported figures a calibration fits, by outcome name."""

    ranges: tuple[tuple[str, ReportedRange], ...]
    tallies: tuple[tuple[str, Tally], ...]
    tolerance: float = 2.0

    @property
    def names(self) -> list[str]:
        """Summary statistic names, in order: outcomes, then tally points."""
        return [o for o, _ in self.ranges] + [
            tally_name(o, h) for o, t in self.tallies for h in t.hours
        ]


def tally_name(outcome: str, hours: float) -> str:
    return f"{outcome}@{hours:g}h"


def outcome_for_reported_key(key: str) -> str:
    """The registered outcome compared with ``outcomes.<key>`` of the data file."""
    for name, spec in OUTCOMES.items():
        if spec.reported_key == key:
            return name
    raise KeyError(key)


def load_targets(
    range_keys: list[str],
    tally_keys: list[str],
    tolerance: float,
    data: dict[str, Any] | None = None,
) -> Targets:
    """Targets from reported keys (``outcomes.<key>`` and ``tallies.<key>`` of ``data``,
    by default the project's data file)."""
    ranges = []
    for key in range_keys:
        r = reported_range(key, data)
        if r is None:
            raise KeyError(key)
        ranges.append((outcome_for_reported_key(key), r))
    tallies = []
    for key in tally_keys:
        t = reported_tally(key, data)
        if t is None or key not in TALLY_SERIES:
            raise KeyError(key)
        tallies.append((key, t))
    return Targets(tuple(ranges), tuple(tallies), float(tolerance))


def summary_statistics(
    outcomes: Mapping[str, float], series: pd.DataFrame | None, targets: Targets
) -> dict[str, float]:
    """The run's value of every target: outcomes, and tally counts at each reported time
    (the last count at or before it; a run that ended earlier keeps its final count)."""
    stats = {name: float(outcomes[name]) for name, _ in targets.ranges}
    for outcome, tally in targets.tallies:
        column = series[TALLY_SERIES[outcome]] if series is not None else None
        for hours in tally.hours:
            if column is None:
                value = float(outcomes[outcome])
            else:
                upto = column[column.index <= hours + 1e-9]
                value = float(upto.iloc[-1]) if len(upto) else 0.0
            stats[tally_name(outcome, hours)] = value
    return stats


def distance_terms(stats: Mapping[str, float], targets: Targets) -> dict[str, float]:
    """Each target's term of the distance (zero when it fits; see the module docstring)."""
    terms = {}
    for name, r in targets.ranges:
        y = stats[name]
        terms[name] = max(0.0, r.low - y, y - r.high) / (r.high - r.low)
    log_tol = math.log(targets.tolerance)
    for outcome, tally in targets.tallies:
        for hours, z in zip(tally.hours, tally.values, strict=True):
            name = tally_name(outcome, hours)
            miss = abs(math.log((stats[name] + 1.0) / (z + 1.0))) - log_tol
            terms[name] = max(0.0, miss) / log_tol
    return terms


def distance(stats: Mapping[str, float], targets: Targets) -> float:
    """Sum of :func:`distance_terms`: 0 exactly when every target fits."""
    return float(sum(distance_terms(stats, targets).values()))
