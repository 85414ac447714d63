"""The reported figures the model is compared with (``sim/data/ghwayran_reported.yaml``).

Reports, calibration and validation read the data file through this module only: reported
ranges of outcomes (low, central, high, with the source keys of their claims) and the
dated running tallies behind two of them. The model itself holds no reported number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class ReportedRange:
    """A reported low-high range of one figure, with its central value and sources."""

    key: str
    low: float
    central: float | None
    high: float
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Tally:
    """A reported running count at dated points (hours after the start of the event)."""

    key: str
    hours: tuple[float, ...]
    values: tuple[float, ...]
    dates: tuple[str, ...]
    sources: tuple[str, ...]


@cache
def reported_data() -> dict[str, Any]:
    """The parsed data file (cached)."""
    text = resources.files("sim").joinpath("data/ghwayran_reported.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (str(value),)


def claim_sources(entry: dict[str, Any]) -> tuple[str, ...]:
    """Source keys of the claims behind a reported entry, in order, without repeats; claims
    the data file marks as excluded from the range are left out."""
    keys: list[str] = []
    for claim in entry.get("claims") or []:
        if "excluded" in str(claim.get("by", "")):
            continue
        keys += [k for k in _as_tuple(claim.get("source")) if k not in keys]
    return tuple(keys) or _as_tuple(entry.get("source"))


def reported_range(key: str, data: dict[str, Any] | None = None) -> ReportedRange | None:
    """The range reported under ``outcomes.<key>`` of ``data`` (default: the project's
    data file), or None if there is none."""
    entry = ((reported_data() if data is None else data).get("outcomes") or {}).get(key)
    if not isinstance(entry, dict) or "low" not in entry or "high" not in entry:
        return None
    central = entry.get("central")
    return ReportedRange(
        key,
        float(entry["low"]),
        None if central is None else float(central),
        float(entry["high"]),
        claim_sources(entry),
    )


def reported_tally(key: str, data: dict[str, Any] | None = None) -> Tally | None:
    """The dated tally reported under ``tallies.<key>`` of ``data`` (default: the
    project's data file), or None if there is none."""
    entry = ((reported_data() if data is None else data).get("tallies") or {}).get(key)
    if not isinstance(entry, dict):
        return None
    points = entry.get("points") or []
    return Tally(
        key,
        tuple(float(p["hours_after_start"]) for p in points),
        tuple(float(p["value"]) for p in points),
        tuple(str(p["date"]) for p in points),
        _as_tuple(entry.get("source")),
    )


def source_text(key: str) -> str:
    """The description or address of a source key."""
    return str((reported_data().get("sources") or {}).get(key, key))
