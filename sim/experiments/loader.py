"""Experiment files: strict loading, designs and the list of runs.

An experiment file is an overlay on a scenario, in the vocabulary of EMA Workbench and
NetLogo BehaviorSpace (a list is swept, a scalar is held)::

    # Question: how do escapes change with the warning lead time?
    name: warning_lead_time
    question: How do escapes change with the warning lead time?
    scenario: teaching_small          # path (relative to this file) or shipped name
    constants: {warning_acted_on: 1.0}
    levers:                           # policy choices (role 'lever' only)
      warning_lead_time_h: [0, 6, 24, 72]
    uncertainties:                    # outside conditions (role 'uncertainty' only)
      attackers: {low: 10, high: 30}
      hardened_share: {}              # {}: the parameter's plausible range
    design: {type: latin_hypercube, samples: 8}
    replicates: 5
    master_seed: 20220120
    outcomes: [left_custody, at_large]   # default: every registered outcome
    series_every_h: 1                    # optional time series

A factor (lever or uncertainty) is one of: a list of values; a range ``{low, high}``
(optionally ``levels: N`` to make it discrete); ``{}`` (the plausible range); for
uncertainties only, a distribution ``{distribution: normal, mean, sd}`` (truncated to the
parameter's bounds, or to ``low``/``high``) or ``{distribution: triangular, low, mode,
high}``; or a scalar, which is held like a constant.

Designs:

* ``full_factorial``: every combination of the factors' discrete values.
* ``latin_hypercube``: the continuous factors sampled jointly (``samples`` rows, scipy's
  ``qmc.LatinHypercube``), crossed with every combination of the discrete ones, so each
  policy arm meets the same sampled conditions.
* ``sobol`` / ``morris``: SALib's samplers over the continuous factors (the sensitivity
  problem); every sample row is one point. ``samples`` is SALib's N (a power of 2 for
  Sobol; the number of trajectories for Morris); ``levels`` is Morris' grid levels.
* ``points``: an explicit list of points (``design.points``), each a mapping of lever
  and uncertainty values; omitted names keep the base value.

Mistakes are collected and raised together as one :class:`~sim.config.loading.ConfigError`,
one line per mistake with file, line, field, allowed values and "did you mean".
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.config.loading import (
    ConfigError,
    LineMap,
    Problem,
    closest,
    did_you_mean,
    line_of,
    load_mapping,
    resolve_shipped,
    shipped_names,
    unknown_key_message,
    validation_problems,
)
from sim.config.scenario import (
    SCENARIO_DIR,
    Scenario,
    check_params,
    load_scenario,
    resolve_scenario_path,
)
from sim.experiments.seeds import SEED_LIMIT, content_digest, derive_seed
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS, UNCERTAINTIES, Param, check_joint, defaults

DESIGN_TYPES = ("full_factorial", "latin_hypercube", "sobol", "morris", "points")
DISTRIBUTIONS = ("uniform", "normal", "triangular")
EXPERIMENT_DIR = Path(__file__).resolve().parents[2] / "experiments"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# Size limits, checked before anything is sampled or run (by validate as well as sweep).
MAX_REPLICATES = 10_000
MAX_SAMPLES = 100_000  # design.samples (LHS rows; SALib's N)
MAX_LEVELS = 1_000  # levels of one range, and Morris grid levels
MAX_POINTS = 100_000  # design points
MAX_RUNS = 1_000_000  # design points x replicates


# ----------------------------------------------------------------------------- file shape
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _DesignFile(_Strict):
    type: str
    samples: int | None = None
    levels: int | None = None
    second_order: bool = False
    points: list[dict[str, Any]] | None = None


class _ExperimentFile(_Strict):
    name: str
    question: str
    description: str = ""
    scenario: str
    constants: dict[str, Any] = {}
    levers: dict[str, Any] = {}
    uncertainties: dict[str, Any] = {}
    design: _DesignFile
    replicates: int
    master_seed: int
    outcomes: list[str] | None = None
    series_every_h: float | None = None


EXPERIMENT_KEYS = frozenset(_ExperimentFile.model_fields)


class _FactorFile(_Strict):
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    distribution: str = "uniform"
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None


# ----------------------------------------------------------------------------- factors
@dataclass(frozen=True)
class Factor:
    """One varied lever or uncertainty: discrete values, or a continuous distribution."""

    name: str
    role: str
    values: tuple[Any, ...] | None = None
    distribution: str = "uniform"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None

    @property
    def discrete(self) -> bool:
        return self.values is not None

    def to_config(self) -> dict[str, Any]:
        """The resolved spec, as stored in the results file and hashed."""
        if self.discrete:
            return {"values": list(self.values)}
        spec: dict[str, Any] = {
            "distribution": self.distribution,
            "low": self.low,
            "high": self.high,
        }
        if self.distribution == "normal":
            spec |= {"mean": self.mean, "sd": self.sd}
        if self.distribution == "triangular":
            spec["mode"] = self.mode
        return spec

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples to this factor's values (inverse CDF)."""
        from scipy import stats

        lo, hi = float(self.low), float(self.high)
        if self.distribution == "uniform":
            return lo + u * (hi - lo)
        if self.distribution == "triangular":
            c = (float(self.mode) - lo) / (hi - lo)
            return stats.triang.ppf(u, c, loc=lo, scale=hi - lo)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)


def _value(p: Param, x: Any) -> Any:
    """A sampled number as the parameter's kind (ints rounded, clipped to bounds)."""
    if p.kind == "int":
        lo, hi = p.bounds
        return int(min(max(round(float(x)), lo), hi))
    return p.coerce(x.item() if isinstance(x, np.generic) else x)


def _parse_factor(
    name: str, raw: Any, role: str, file: str, lines: LineMap
) -> tuple[Factor | None, Any, list[Problem]]:
    """(factor, held constant, problems) for one entry under ``levers``/``uncertainties``."""
    section = "levers" if role == "lever" else "uncertainties"
    loc = (section, name)
    where = ".".join(loc)
    line = line_of(lines, loc)

    def bad(msg: str) -> tuple[None, None, list[Problem]]:
        return None, None, [Problem(file, line, where, msg)]

    if name not in PARAMS:
        return bad(unknown_key_message(name, [p for p in PARAMS if PARAMS[p].role == role]))
    p = PARAMS[name]
    if p.role != role:
        home = {"lever": "levers", "uncertainty": "uncertainties"}.get(p.role, "constants")
        extra = " (the external force is never optimised)" if name == "attackers" else ""
        article = {"lever": "a lever", "uncertainty": "an uncertainty", "setting": "a setting"}
        return bad(f"{name} is {article[p.role]}, not {article[role]}{extra}; put it under {home}")
    if raw is None:
        raw = {}
    if isinstance(raw, bool | int | float):  # a scalar is held
        _, _, problems = check_params({name: raw}, file, lines, prefix=(section,))
        return None, (p.coerce(raw) if not problems else None), problems
    if isinstance(raw, list):
        values, problems = [], []
        for i, item in enumerate(raw):
            vals, _, probs = check_params({name: item}, file, lines, prefix=(section,))
            for pr in probs:
                problems.append(
                    Problem(file, line_of(lines, (*loc, str(i))), f"{where}[{i}]", pr.message)
                )
            if name in vals:
                values.append(vals[name])
        if not raw:
            problems.append(Problem(file, line, where, "empty list: give at least one value"))
        if len(set(values)) != len(values):
            problems.append(Problem(file, line, where, f"repeated values in {values}"))
        return (Factor(name, role, tuple(values)) if not problems else None), None, problems
    if not isinstance(raw, Mapping):
        return bad(f"expected a list, a range {{low, high}} or a value; got {raw!r}")
    try:
        spec = _FactorFile.model_validate(raw)
    except ValidationError as exc:
        return None, None, validation_problems(exc, file, lines, _FactorFile, loc)
    if p.kind == "bool":
        return bad(f"{name} is true or false: give a list [false, true] or one value")
    if spec.distribution not in DISTRIBUTIONS:
        return bad(
            f"distribution {spec.distribution!r} is not known"
            f"{did_you_mean(spec.distribution, DISTRIBUTIONS)}; allowed: "
            f"{', '.join(DISTRIBUTIONS)}"
        )
    if role == "lever" and spec.distribution != "uniform":
        return bad("levers are choices, not distributions: give a list or {low, high}")
    lo0, hi0 = p.sweep_range()
    lo = spec.low if spec.low is not None else lo0
    hi = spec.high if spec.high is not None else hi0
    problems = []
    for key, v in (("low", lo), ("high", hi), ("mode", spec.mode), ("mean", spec.mean)):
        if v is not None and not p.in_bounds(v):
            problems.append(
                Problem(
                    file,
                    line_of(lines, (*loc, key)),
                    f"{where}.{key}",
                    f"{v:g} is out of range; allowed: {p.describe_range()}",
                )
            )
    if not lo < hi:
        problems.append(Problem(file, line, where, f"low ({lo:g}) must be below high ({hi:g})"))
    if spec.distribution == "normal" and (spec.mean is None or spec.sd is None or spec.sd <= 0):
        problems.append(Problem(file, line, where, "normal needs mean and sd > 0"))
    if spec.distribution == "triangular" and (spec.mode is None or not lo <= spec.mode <= hi):
        problems.append(Problem(file, line, where, "triangular needs low <= mode <= high"))
    if spec.levels is not None:
        if spec.distribution != "uniform":
            problems.append(Problem(file, line, where, "levels only apply to {low, high}"))
        elif not 2 <= spec.levels <= MAX_LEVELS:
            problems.append(
                Problem(
                    file,
                    line_of(lines, (*loc, "levels")),
                    f"{where}.levels",
                    f"{spec.levels} is not allowed; allowed: 2 to {MAX_LEVELS:,}",
                )
            )
    if problems:
        return None, None, problems
    if spec.levels is not None:
        values = tuple(dict.fromkeys(_value(p, x) for x in np.linspace(lo, hi, spec.levels)))
        return Factor(name, role, values), None, []
    return (
        Factor(
            name, role, None, spec.distribution, float(lo), float(hi), spec.mean, spec.sd, spec.mode
        ),
        None,
        [],
    )


# ----------------------------------------------------------------------------- experiment
@dataclass(frozen=True)
class Point:
    """One design point: the values of the varied factors and its arm label."""

    point_id: int
    values: dict[str, Any]
    arm: str


@dataclass(frozen=True)
class Task:
    """One run to do: a design point's replicate with its derived seed."""

    point_id: int
    replicate: int
    seed: int


@dataclass
class Experiment:
    """A validated experiment: base parameters, factors, design, replicates, outcomes."""

    name: str
    question: str
    description: str
    path: str | None
    scenario: str
    base_params: dict[str, Any]
    constants: dict[str, Any]
    levers: list[Factor]
    uncertainties: list[Factor]
    design: dict[str, Any]
    replicates: int
    master_seed: int
    outcomes: list[str]
    series_every_h: float | None = None
    points: list[Point] = field(default_factory=list)
    samples: np.ndarray | None = None
    problem: dict[str, Any] | None = None
    compare_with_reported: bool = False

    @property
    def lever_names(self) -> list[str]:
        return _ordered(self.points, "lever")

    @property
    def uncertainty_names(self) -> list[str]:
        return _ordered(self.points, "uncertainty")

    @property
    def expected_runs(self) -> int:
        return len(self.points) * self.replicates

    def config(self) -> dict[str, Any]:
        """Everything that decides the results, as plain JSON-able data."""
        return {
            "name": self.name,
            "question": self.question,
            "scenario": self.scenario,
            "base_params": self.base_params,
            "constants": self.constants,
            "levers": {f.name: f.to_config() for f in self.levers},
            "uncertainties": {f.name: f.to_config() for f in self.uncertainties},
            "design": self.design,
            "replicates": self.replicates,
            "master_seed": self.master_seed,
            "outcomes": self.outcomes,
            "series_every_h": self.series_every_h,
            "compare_with_reported": self.compare_with_reported,
        }

    def config_hash(self) -> str:
        """SHA-256 of the result-deciding config (not the question or description text)."""
        cfg = {k: v for k, v in self.config().items() if k not in ("question", "name")}
        return content_digest(cfg)

    def point_params(self, point: Point) -> dict[str, Any]:
        """The full parameter dict of one point."""
        return self.base_params | point.values

    def tasks(self) -> list[Task]:
        """Every run of the experiment, in design order, each with its seed."""
        out = []
        for point in self.points:
            params = self.point_params(point)
            unc = {n: params[n] for n in UNCERTAINTIES}
            out += [
                Task(point.point_id, r, derive_seed(self.master_seed, unc, r))
                for r in range(self.replicates)
            ]
        return out


def _ordered(points: Sequence[Point], role: str) -> list[str]:
    names = dict.fromkeys(n for pt in points[:1] for n in pt.values if PARAMS[n].role == role)
    return list(names)


def arm_label(values: Mapping[str, Any]) -> str:
    """Readable label of the lever values in ``values``; ``"base"`` when there are none."""
    parts = []
    for name, v in values.items():
        if PARAMS[name].role != "lever":
            continue
        text = ("true" if v else "false") if isinstance(v, bool) else format(v, ".6g")
        parts.append(f"{name}={text}")
    return ", ".join(parts) or "base"


# Stand-ins for missing required fields, so that the rest of a file is still checked and
# every mistake is reported in one pass (the missing fields themselves are reported).
_PLACEHOLDERS: dict[str, Any] = {
    "name": "unnamed",
    "question": "",
    "scenario": "teaching_small",
    "design": {"type": "full_factorial"},
    "replicates": 1,
    "master_seed": 0,
}


def _validate_shape(
    data: dict[str, Any], file: str, lines: LineMap
) -> tuple[_ExperimentFile, list[Problem]]:
    """The file's shape, and the problems found in it.

    Every top-level field with a problem (missing, misspelled, of the wrong type) is
    reported, then left out or replaced by a stand-in, so that the rest of the file is
    still checked and every mistake is reported in one pass. A missing field that a
    misspelled key already names ("did you mean 'design'?") is not reported twice.
    """
    try:
        return _ExperimentFile.model_validate(data), []
    except ValidationError as exc:
        errors, problems = exc.errors(), validation_problems(exc, file, lines, _ExperimentFile)
    fields = _ExperimentFile.model_fields
    bad = {str(e["loc"][0]) for e in errors if e["loc"]}
    meant = {closest(k, fields) for k in bad if k not in fields}
    problems = [
        p
        for p, e in zip(problems, errors, strict=True)
        if not (e["type"] == "missing" and len(e["loc"]) == 1 and e["loc"][0] in meant)
    ]
    kept = {k: v for k, v in data.items() if k in fields and k not in bad}
    filled = {k: v for k, v in _PLACEHOLDERS.items() if k not in kept} | kept
    return _ExperimentFile.model_validate(filled), problems


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file (or a shipped experiment's bare name)."""
    path = resolve_shipped(path, EXPERIMENT_DIR, "experiment")
    file = str(path)
    data, lines = load_mapping(
        path,
        "an experiment file must be a mapping with name, question, scenario, levers, design, ...",
    )
    shape, shape_problems = _validate_shape(data, file, lines)
    problems = [*lines.problems, *shape_problems]

    def add(field_: str, msg: str, loc: Sequence[str] | None = None) -> None:
        problems.append(Problem(file, line_of(lines, loc or field_.split(".")), field_, msg))

    if not _NAME_RE.match(shape.name):
        add(
            "name",
            f"{shape.name!r} must be letters, digits, '_', '-' or '.' (it names the results file)",
        )
    if not 1 <= shape.replicates <= MAX_REPLICATES:
        few = "few" if shape.replicates < 1 else "many"
        add("replicates", f"{shape.replicates} is too {few}; allowed: 1 to {MAX_REPLICATES:,}")
    if not 0 <= shape.master_seed < SEED_LIMIT:
        add("master_seed", f"{shape.master_seed} is out of range; allowed: 0 to 2**63-1")
    if shape.series_every_h is not None and shape.series_every_h <= 0:
        add("series_every_h", f"{shape.series_every_h:g} must be above 0 h")
    outcomes = shape.outcomes if shape.outcomes is not None else list(OUTCOMES)
    for i, name in enumerate(outcomes):
        if name not in OUTCOMES:
            add(
                f"outcomes[{i}]",
                unknown_key_message(name, OUTCOMES).replace("key", "outcome"),
                ("outcomes", str(i)),
            )
    if len(set(outcomes)) != len(outcomes) or not outcomes:
        add("outcomes", "give each outcome once, at least one")

    scenario, scenario_problems = _base_scenario(shape.scenario, path, file, lines)
    problems += scenario_problems
    constants, _, probs = check_params(shape.constants, file, lines, prefix=("constants",))
    problems += probs
    factors: dict[str, list[Factor]] = {"lever": [], "uncertainty": []}
    for role, section in (("lever", shape.levers), ("uncertainty", shape.uncertainties)):
        for name, raw in section.items():
            factor, held, probs = _parse_factor(name, raw, role, file, lines)
            problems += probs
            if name in shape.constants:
                add(
                    f"{'levers' if role == 'lever' else 'uncertainties'}.{name}",
                    "also set under constants; give it in one place",
                )
            if factor is not None:
                factors[role].append(factor)
            elif held is not None:
                constants[name] = held
    base = scenario.params | constants

    design = shape.design.model_dump(exclude_none=True)
    dtype = shape.design.type
    if dtype not in DESIGN_TYPES:
        add(
            "design.type",
            f"{dtype!r} is not a design{did_you_mean(dtype, DESIGN_TYPES)}; "
            f"allowed: {', '.join(DESIGN_TYPES)}",
        )
    if problems:
        raise ConfigError(problems)
    exp = Experiment(
        name=shape.name,
        question=shape.question.strip(),
        description=shape.description.strip(),
        path=file,
        scenario=scenario.name,
        compare_with_reported=scenario.compare_with_reported,
        base_params=base,
        constants=constants,
        levers=factors["lever"],
        uncertainties=factors["uncertainty"],
        design=design,
        replicates=shape.replicates,
        master_seed=shape.master_seed,
        outcomes=outcomes,
        series_every_h=shape.series_every_h,
    )
    problems += _build_design(exp, shape.design, file, lines)
    if problems:
        raise ConfigError(problems)
    return exp


def _base_scenario(
    ref: str, experiment: Path, file: str, lines: LineMap
) -> tuple[Scenario, list[Problem]]:
    """The base scenario (a path relative to the experiment file, or a shipped name) and
    its problems; with problems, the defaults stand in so that the rest is still checked."""
    candidate = experiment.parent / ref
    try:
        path = candidate if candidate.is_file() else resolve_scenario_path(ref)
    except ConfigError:
        shipped = shipped_names(SCENARIO_DIR)
        msg = (
            f"{ref!r} not found next to the experiment or as a shipped scenario"
            f"{did_you_mean(Path(ref).stem, shipped)}; shipped: {', '.join(shipped)}"
        )
        return Scenario(ref, "", defaults()), [
            Problem(file, line_of(lines, ("scenario",)), "scenario", msg)
        ]
    try:
        return load_scenario(path), []
    except ConfigError as exc:
        return Scenario(ref, "", defaults()), exc.problems


# ----------------------------------------------------------------------------- designs
def _size_problems(
    d: _DesignFile, n_continuous: int, discrete: Sequence[Factor], replicates: int
) -> list[tuple[str, str]]:
    """(field, message) for a design too large to build: checked before sampling.

    Points: full factorial, the product of the discrete factors' value counts; Latin
    hypercube, that times ``samples``; Sobol', N (D + 2), or N (2D + 2) with second-order
    indices; Morris, N (D + 1); D the number of ranges (SALib's sample sizes).
    """
    out = []
    if d.samples is not None and d.samples > MAX_SAMPLES:
        out.append(("design.samples", f"{d.samples:,} is too many; allowed: up to {MAX_SAMPLES:,}"))
    if d.type == "morris" and d.levels is not None and d.levels > MAX_LEVELS:
        out.append(("design.levels", f"{d.levels:,} is too many; allowed: up to {MAX_LEVELS:,}"))
    if out:
        return out
    n = d.samples or 1
    per_sample = {
        "sobol": 2 * n_continuous + 2 if d.second_order else n_continuous + 2,
        "morris": n_continuous + 1,
        "latin_hypercube": math.prod(len(f.values) for f in discrete) if n_continuous else 0,
    }
    if d.type in per_sample:
        points = n * per_sample[d.type] or math.prod(len(f.values) for f in discrete)
    elif d.type == "points":
        points = len(d.points or [])
    else:
        points = math.prod(len(f.values) for f in discrete)
    if points > MAX_POINTS:
        out.append(("design", f"{points:,} design points; allowed: up to {MAX_POINTS:,}"))
    elif points * replicates > MAX_RUNS:
        out.append(
            (
                "design",
                f"{points:,} points x {replicates:,} replicates = {points * replicates:,} "
                f"runs; allowed: up to {MAX_RUNS:,}",
            )
        )
    return out


def _build_design(exp: Experiment, d: _DesignFile, file: str, lines: LineMap) -> list[Problem]:
    """Fill ``exp.points`` (and samples/problem for sensitivity designs); return problems."""
    problems: list[Problem] = []

    def add(fld: str, msg: str) -> None:
        problems.append(Problem(file, line_of(lines, ("design", *fld.split(".")[1:])), fld, msg))

    factors = exp.levers + exp.uncertainties
    discrete = [f for f in factors if f.discrete]
    continuous = [f for f in factors if not f.discrete]
    names_c = [f.name for f in continuous]
    unit: np.ndarray | None = None
    for fld, msg in _size_problems(d, len(continuous), discrete, exp.replicates):
        add(fld, msg)
    if problems:
        return problems
    if d.type != "points" and d.points is not None:
        add("design.points", f"only the 'points' design takes points (this is {d.type})")
    if d.type in ("full_factorial", "points") and d.samples is not None:
        add("design.samples", f"{d.type} takes no samples")
    if d.type != "morris" and d.levels is not None:
        add("design.levels", "only morris takes levels (for a range use {low, high, levels})")

    if d.type == "full_factorial":
        for f in continuous:
            add(
                "design.type",
                f"{f.name} is a range; full_factorial needs a list of values "
                "or {low, high, levels: N}",
            )
    elif d.type == "latin_hypercube":
        if continuous and (d.samples is None or d.samples < 1):
            add("design.samples", "latin_hypercube needs samples: N (1 or more)")
        elif continuous:
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(continuous), rng=exp.master_seed).random(d.samples)
    elif d.type in ("sobol", "morris"):
        for f in discrete:
            add(
                "design.type",
                f"{f.name} has a list of values; {d.type} samples ranges: give "
                "{low, high} or move it to constants",
            )
        if len(continuous) < 2:
            add("design.type", f"{d.type} needs at least two ranges to compare")
        n = d.samples
        if n is None or n < 2:
            add("design.samples", f"{d.type} needs samples: N (2 or more)")
        elif d.type == "sobol" and n & (n - 1):
            add(
                "design.samples",
                f"{n} is not a power of 2 (Sobol' sequences need one); "
                f"try {1 << (n - 1).bit_length()}",
            )
        if d.type == "morris":
            for f in continuous:
                if f.distribution != "uniform":
                    add(
                        "design.type",
                        f"{f.name}: morris samples a grid over {{low, high}}; "
                        "distributions are not supported",
                    )
            levels = d.levels if d.levels is not None else 4
            if levels < 2 or levels % 2:
                add("design.levels", f"{levels} is not allowed; use an even number >= 2")
        if not problems:
            unit_problem = {
                "num_vars": len(continuous),
                "names": names_c,
                "bounds": [[0.0, 1.0]] * len(continuous),
            }
            if d.type == "sobol":
                from SALib.sample import sobol

                unit = sobol.sample(
                    unit_problem, n, calc_second_order=d.second_order, seed=exp.master_seed
                )
            else:
                from SALib.sample import morris

                unit = morris.sample(
                    unit_problem, n, num_levels=d.levels or 4, seed=exp.master_seed
                )
            unit = np.clip(unit, 0.0, 1.0)
    elif d.type == "points":
        if factors:
            add(
                "design.type",
                "the points design lists its points under design.points; "
                "leave levers and uncertainties empty",
            )
        if not d.points:
            add("design.points", "the points design needs a list of points")
    if problems:
        return problems

    rows: list[dict[str, Any]] = []
    if d.type == "points":
        allowed = {n for n, p in PARAMS.items() if p.role in ("lever", "uncertainty")}
        names = list(dict.fromkeys(k for pt in d.points for k in pt))
        names = [n for n in names if n in allowed and PARAMS[n].role == "lever"] + [
            n for n in names if n in allowed and PARAMS[n].role == "uncertainty"
        ]
        for i, pt in enumerate(d.points):
            for key in pt:
                if key not in allowed:
                    add(f"design.points.{i}.{key}", unknown_key_message(key, allowed))
            vals, _, probs = check_params(
                {k: v for k, v in pt.items() if k in allowed},
                file,
                lines,
                prefix=("design", "points", str(i)),
            )
            problems += probs
            rows.append({n: vals.get(n, exp.base_params[n]) for n in names})
    else:
        combos = list(itertools.product(*(f.values for f in discrete)))
        samples = (
            [dict()]
            if unit is None
            else [
                {
                    f.name: _value(PARAMS[f.name], f.from_unit(unit[i : i + 1, j])[0])
                    for j, f in enumerate(continuous)
                }
                for i in range(unit.shape[0])
            ]
        )
        for combo in combos:
            fixed = dict(zip([f.name for f in discrete], combo, strict=True))
            for s in samples:
                merged = fixed | s
                rows.append({f.name: merged[f.name] for f in factors})
    bad = []
    for i, row in enumerate(rows):
        try:
            check_joint(exp.base_params | row)
        except ValueError as exc:
            bad.append((i, str(exc)))
    if bad:
        problems.append(
            Problem(
                file,
                line_of(lines, ("design",)),
                "design",
                f"{len(bad)} of {len(rows)} points break a joint constraint, "
                f"e.g. point {bad[0][0]}: {bad[0][1]}",
            )
        )
    exp.points = [Point(i, row, arm_label(row)) for i, row in enumerate(rows)]
    if d.type in ("sobol", "morris") and unit is not None:
        exp.samples = np.column_stack([f.from_unit(unit[:, j]) for j, f in enumerate(continuous)])
        exp.problem = {
            "num_vars": len(continuous),
            "names": names_c,
            "bounds": [[f.low, f.high] for f in continuous],
            "dists": [f.distribution for f in continuous],
        }
    return problems
