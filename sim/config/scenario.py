"""Scenario files: YAML overlays on the parameter defaults, strictly validated.

A scenario file looks like::

    name: ghwayran_2022
    description: Central reported values.
    params:
      attackers: {value: 200, source: [SDF-GC, SWIKI]}   # value with its source keys
      guards_per_100_inmates: 3.0                        # or a bare value
    compare_with_reported: true   # at the reported event's scale: reports shade its ranges

Unknown keys, wrong types and out-of-range values are all collected and raised together
as one :class:`~sim.config.loading.ConfigError`, one line per mistake naming file, line, field
and the allowed values (with "did you mean" for near-miss names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.config.loading import (
    ConfigError,
    LineMap,
    Problem,
    line_of,
    load_mapping,
    parse_yaml_text,
    resolve_shipped,
    unknown_key_message,
    validation_problems,
)
from sim.model.params import PARAMS, Param, check_joint, defaults

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


class _ScenarioFile(BaseModel):
    """Top-level shape of a scenario file."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    description: str = ""
    compare_with_reported: bool = False
    params: dict[str, Any] = {}
    provenance: dict[str, str] = {}  # who wrote the file, from what (e.g. a calibration)


SCENARIO_KEYS = frozenset(_ScenarioFile.model_fields)


class _SourcedValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    source: str | list[str] | None = None
    note: str | None = None


@dataclass
class Scenario:
    """A validated scenario: the full parameter set and where each value came from."""

    name: str
    description: str
    params: dict[str, float | int | bool]
    overrides: dict[str, float | int | bool] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    path: str | None = None
    compare_with_reported: bool = False


def out_of_range(p: Param, value: Any) -> str:
    """The one wording of a value outside a parameter's bounds."""
    shown = f"{value:g}" if isinstance(value, float) else repr(value)
    return f"{shown} is out of range; allowed: {p.describe_range()}"


def check_params(
    raw: Mapping[str, Any], file: str, lines: LineMap, prefix: tuple[str, ...] = ("params",)
) -> tuple[dict[str, Any], dict[str, list[str]], list[Problem]]:
    """Validate a mapping of parameter overrides (bare values or ``{value, source}``).

    Returns (coerced overrides, source keys per name, problems). Used by scenario and
    experiment loaders and by ``--set``.
    """
    values: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for name, item in raw.items():
        loc = (*prefix, name)
        line = line_of(lines, loc)
        if name not in PARAMS:
            problems.append(Problem(file, line, ".".join(loc), unknown_key_message(name, PARAMS)))
            continue
        if isinstance(item, Mapping):
            try:
                sv = _SourcedValue.model_validate(item)
            except ValidationError as exc:
                problems += validation_problems(exc, file, lines, _SourcedValue, loc)
                continue
            item = sv.value
            if sv.source:
                sources[name] = [sv.source] if isinstance(sv.source, str) else list(sv.source)
        p = PARAMS[name]
        try:
            v = p.coerce(item)
        except (TypeError, ValueError, OverflowError) as exc:
            problems.append(
                Problem(file, line, ".".join(loc), f"{exc}; allowed: {p.describe_range()}")
            )
            continue
        if not p.in_bounds(v):
            problems.append(Problem(file, line, ".".join(loc), out_of_range(p, item)))
            continue
        values[name] = v
    return values, sources, problems


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file, then apply ``overrides`` (e.g. from ``--set``).

    ``path`` may also be a bare name of a shipped scenario (``ghwayran_2022``).
    """
    path = resolve_scenario_path(path)
    file = str(path)
    data, lines = load_mapping(
        path, "a scenario file must be a mapping with 'name', 'description' and 'params'"
    )
    problems: list[Problem] = list(lines.problems)
    try:
        shape = _ScenarioFile.model_validate(data)
        name, description, raw_params = shape.name, shape.description, shape.params
        compare = shape.compare_with_reported
    except ValidationError as exc:
        problems += validation_problems(exc, file, lines, _ScenarioFile)
        name, description = str(data.get("name", "")), str(data.get("description", ""))
        compare = False
        raw_params = data.get("params") if isinstance(data.get("params"), dict) else {}
    values, sources, param_problems = check_params(raw_params, file, lines)
    problems += param_problems
    set_values: dict[str, Any] = {}
    if overrides:
        set_values, _, set_problems = check_params(overrides, "--set", {}, prefix=())
        problems += set_problems
    if problems:
        raise ConfigError(problems)
    try:
        check_joint(defaults() | values | set_values)
    except ValueError as exc:
        raise ConfigError([_joint_problem(exc, values, set_values, file, lines)]) from None
    values |= set_values
    resolved = defaults() | values
    return Scenario(name, description, resolved, values, sources, file, compare)


def _joint_problem(
    exc: ValueError, values: dict[str, Any], set_values: dict[str, Any], file: str, lines: LineMap
) -> Problem:
    """A broken joint constraint, blamed on ``--set`` if the file alone keeps it."""
    try:
        check_joint(defaults() | values)
    except ValueError:
        return Problem(file, line_of(lines, ("params",)), "params", str(exc))
    return Problem("--set", None, ",".join(set_values), str(exc))


def resolve_scenario_path(path: str | Path) -> Path:
    """A path as given, or a shipped scenario's path for a bare name."""
    return resolve_shipped(path, SCENARIO_DIR, "scenario")


def parse_set_options(items: list[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` from ``--set`` into a dict, values parsed as YAML scalars
    (with the same checks as a file: no NaN, infinite or too large numbers, no aliases)."""
    out: dict[str, Any] = {}
    problems = []
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", None, item, "expected key=value"))
            continue
        try:
            out[key.strip()] = parse_yaml_text(text, f"--set {key.strip()}")
        except ConfigError as exc:
            problems += [Problem("--set", None, key.strip(), p.message) for p in exc.problems]
    if problems:
        raise ConfigError(problems)
    return out
