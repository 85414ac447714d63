"""Calibration files: strict loading into a typed :class:`CalibrationSpec`.

A calibration file names a scenario, the uncertain parameters to calibrate (each with a
prior and the reason for it), the reported targets by their keys in the data file, the
method's settings and a master seed::

    name: ghwayran_calibration
    scenario: ghwayran_2022
    targets:
      ranges: [left_custody, deaths_authority]      # keys under `outcomes` of the data
      tallies: [surrendered_inside]                  # keys under `tallies`
      tally_tolerance: 2.0                           # a tally point fits within this factor
      data: synthetic.yaml     # optional: another data file of the same shape (tests)
    parameters:
      flee_rate: {low: 0.01, high: 0.1, reason: "..."}
      at_large_recapture_rate: {low: 0.005, high: 0.05, scale: log, reason: "..."}
    method: {population: 250, max_generations: 10, quantile: 0.5, max_runs: 8000}
    master_seed: 20220120

Priors are uniform on ``[low, high]`` (``scale: linear``, the default) or on the log of
the value (``scale: log``); the bounds must lie inside the parameter's declared bounds.
Every mistake is reported in one pass, one line each (file, line, field, allowed values).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.config.loading import (
    NAME_RE,
    ConfigError,
    Problem,
    line_of,
    load_mapping,
    resolve_shipped,
    unknown_key_message,
    validation_problems,
)
from sim.config.reported import reported_data
from sim.config.scenario import Scenario, load_scenario
from sim.model.params import PARAMS

CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibrations"
MAX_POPULATION = 5000
MAX_RUNS = 1_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _PriorFile(_Strict):
    low: float | int
    high: float | int
    scale: Literal["linear", "log"] = "linear"
    reason: str


class _TargetsFile(_Strict):
    ranges: list[str] = []
    tallies: list[str] = []
    tally_tolerance: float | int = 2.0
    data: str | None = None


class _MethodFile(_Strict):
    population: int = 250
    max_generations: int = 10
    quantile: float = 0.5
    min_epsilon: float | int = 0.0
    max_runs: int = 8000
    batch: int = 40


class _CalibrationFile(_Strict):
    name: str
    question: str = ""
    scenario: str
    targets: _TargetsFile
    parameters: dict[str, _PriorFile]
    method: _MethodFile = _MethodFile()
    master_seed: int


@dataclass(frozen=True)
class Prior:
    """A uniform prior on ``[low, high]`` of a parameter, or on its log (``scale: log``)."""

    name: str
    low: float
    high: float
    scale: str
    reason: str

    def from_unit(self, u: float) -> float:
        """The parameter value at ``u`` in [0, 1] (u clipped)."""
        u = min(max(u, 0.0), 1.0)
        if self.scale == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value: float) -> float:
        if self.scale == "log":
            return (math.log(value) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class MethodSpec:
    """ABC-SMC settings: particles per generation, at most this many generations, the
    quantile of the last generation's distances that sets the next threshold, the threshold
    at which to stop, the model-run budget, and runs per batch of the sampler."""

    population: int
    max_generations: int
    quantile: float
    min_epsilon: float
    max_runs: int
    batch: int


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration file."""

    name: str
    question: str
    path: str
    scenario: Scenario
    range_keys: tuple[str, ...]
    tally_keys: tuple[str, ...]
    tally_tolerance: float
    reported: dict[str, Any] | None  # another data file's contents (None: the project's)
    priors: tuple[Prior, ...]
    method: MethodSpec
    master_seed: int

    def config(self) -> dict[str, Any]:
        """Everything that decides the results, as plain JSON-able data."""
        return {
            "name": self.name,
            "scenario": self.scenario.name,
            "base_params": dict(self.scenario.params),
            "targets": {
                "ranges": list(self.range_keys),
                "tallies": list(self.tally_keys),
                "tally_tolerance": self.tally_tolerance,
                "data": self.reported,
            },
            "priors": {
                p.name: {"low": p.low, "high": p.high, "scale": p.scale, "reason": p.reason}
                for p in self.priors
            },
            "method": asdict(self.method),
            "master_seed": self.master_seed,
        }


def load_calibration(path: str | Path) -> CalibrationSpec:
    """Load and validate a calibration file (or a shipped one's bare name)."""
    path = resolve_shipped(path, CALIBRATION_DIR, "calibration")
    file = str(path)
    data, lines = load_mapping(
        path, "a calibration file must be a mapping with name, scenario, targets, parameters"
    )
    try:
        shape = _CalibrationFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, file, lines, _CalibrationFile)) from None
    problems: list[Problem] = []

    def add(field: str, msg: str) -> None:
        problems.append(Problem(file, line_of(lines, field.split(".")), field, msg))

    if not NAME_RE.match(shape.name):
        add("name", f"{shape.name!r} must be letters, digits, '_', '-' or '.'")
    reported = _reported(path, shape.targets.data)
    _check_targets(shape.targets, reported or reported_data(), add)
    for name, prior in shape.parameters.items():
        _check_prior(name, prior, add, lines, file, problems)
    _check_method(shape.method, add)
    if not 0 <= shape.master_seed < 2**63:
        add("master_seed", f"{shape.master_seed} is out of range; allowed: 0 to 2**63-1")
    if not shape.parameters:
        add("parameters", "give at least one parameter to calibrate")
    scenario = load_scenario(_scenario_path(path, shape.scenario))
    if problems:
        raise ConfigError(problems)
    m = shape.method
    return CalibrationSpec(
        name=shape.name,
        question=shape.question.strip(),
        path=file,
        scenario=scenario,
        range_keys=tuple(shape.targets.ranges),
        tally_keys=tuple(shape.targets.tallies),
        tally_tolerance=float(shape.targets.tally_tolerance),
        reported=reported,
        priors=tuple(
            Prior(n, float(p.low), float(p.high), p.scale, p.reason.strip())
            for n, p in shape.parameters.items()
        ),
        method=MethodSpec(
            m.population, m.max_generations, m.quantile, float(m.min_epsilon), m.max_runs, m.batch
        ),
        master_seed=shape.master_seed,
    )


def _scenario_path(path: Path, scenario: str) -> str | Path:
    beside = path.parent / scenario
    return beside if beside.exists() else scenario


def _reported(path: Path, data_file: str | None) -> dict[str, Any] | None:
    """The contents of ``targets.data`` (relative to the calibration file), if given."""
    if data_file is None:
        return None
    data, _ = load_mapping(path.parent / data_file, "a data file must be a mapping")
    return data


def _check_targets(targets: _TargetsFile, data: dict[str, Any], add) -> None:
    outcomes, tallies = data.get("outcomes") or {}, data.get("tallies") or {}
    for i, key in enumerate(targets.ranges):
        entry = outcomes.get(key)
        if not isinstance(entry, dict) or "low" not in entry:
            valid = [k for k, v in outcomes.items() if isinstance(v, dict) and "low" in v]
            add(f"targets.ranges.{i}", unknown_key_message(key, valid).replace("key", "range"))
    for i, key in enumerate(targets.tallies):
        if key not in tallies:
            add(f"targets.tallies.{i}", unknown_key_message(key, tallies).replace("key", "tally"))
    if not targets.ranges and not targets.tallies:
        add("targets", "give at least one range or tally to fit")
    if not targets.tally_tolerance > 1:
        add("targets.tally_tolerance", f"{targets.tally_tolerance} must be above 1 (a factor)")


def _check_prior(name: str, prior: _PriorFile, add, lines, file, problems) -> None:
    where = f"parameters.{name}"
    if name not in PARAMS:
        problems.append(
            Problem(
                file, line_of(lines, ("parameters", name)), where, unknown_key_message(name, PARAMS)
            )
        )
        return
    p = PARAMS[name]
    if p.kind == "bool":
        add(where, f"{name} is true or false; only numbers can be calibrated")
        return
    lo, hi = p.bounds
    for key, v in (("low", prior.low), ("high", prior.high)):
        if not (math.isfinite(v) and lo <= v <= hi):
            add(f"{where}.{key}", f"{v!r} is out of range; allowed: {p.describe_range()}")
    if not prior.low < prior.high:
        add(where, f"low ({prior.low:g}) must be below high ({prior.high:g})")
    if prior.scale == "log" and prior.low <= 0:
        add(f"{where}.low", "a log-scale prior needs low above 0")
    if not prior.reason.strip():
        add(f"{where}.reason", "say why this prior: its range needs a reason")


def _check_method(m: _MethodFile, add) -> None:
    if not 2 <= m.population <= MAX_POPULATION:
        add("method.population", f"{m.population}; allowed: 2 to {MAX_POPULATION}")
    if not 1 <= m.max_generations <= 100:
        add("method.max_generations", f"{m.max_generations}; allowed: 1 to 100")
    if not 0 < m.quantile < 1:
        add("method.quantile", f"{m.quantile}; allowed: between 0 and 1")
    if not (math.isfinite(m.min_epsilon) and m.min_epsilon >= 0):
        add("method.min_epsilon", f"{m.min_epsilon}; allowed: 0 or more")
    if not m.population <= m.max_runs <= MAX_RUNS:
        add("method.max_runs", f"{m.max_runs}; allowed: population to {MAX_RUNS:,}")
    if not 1 <= m.batch <= 10_000:
        add("method.batch", f"{m.batch}; allowed: 1 to 10000")
