"""Experiment files: strict loading into an :class:`~sim.experiments.contract.ExperimentSpec`.

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
    reference_arm: {warning_lead_time_h: 0}   # optional; default: the first arm

A factor (lever or uncertainty) is one of: a list of values; a range ``{low, high}``
(optionally ``levels: N`` to make it discrete); ``{}`` (the plausible range); for
uncertainties only, a distribution ``{distribution: normal, mean, sd}`` (truncated to the
parameter's bounds, or to ``low``/``high``) or ``{distribution: triangular, low, mode,
high}``; or a scalar, which is held like a constant.

Designs (built by :mod:`sim.experiments.design`): ``full_factorial``,
``latin_hypercube`` (``samples`` rows), ``sobol`` (``samples``: SALib's N, a power of 2;
``second_order: true`` for second-order indices), ``morris`` (``samples``: trajectories;
``levels``: grid levels, 4 by default), ``points`` (``design.points``, a list of
points) and ``posterior``: with ``uncertainties: {from_calibration: FILE}`` (the posterior
samples ``prisonsim calibrate`` writes beside a calibrated scenario, a path relative to
the experiment file or in ``scenarios/``), ``samples`` draws of the calibrated
parameters, each crossed with every arm, so the policy question is answered under the
calibration's uncertainty.

Mistakes are collected and raised together as one :class:`~sim.config.loading.ConfigError`,
one line per mistake with file, line, field, allowed values and "did you mean".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.config.loading import (
    NAME_RE,
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
    out_of_range,
    resolve_scenario_path,
)
from sim.experiments.contract import (
    DEFAULT_MORRIS_LEVELS,
    DESIGN_TYPES,
    DISTRIBUTIONS,
    DesignSpec,
    ExperimentSpec,
    Factor,
    Point,
    arm_label,
)
from sim.experiments.design import (
    MAX_LEVELS,
    MAX_SAMPLES,
    as_param_value,
    build_points,
    posterior_draws,
)
from sim.experiments.seeds import SEED_RANGE, seed_in_range
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS, defaults

EXPERIMENT_DIR = Path(__file__).resolve().parents[2] / "experiments"
MAX_REPLICATES = 10_000
SECTIONS = {"lever": "levers", "uncertainty": "uncertainties"}


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
    reference_arm: dict[str, Any] | None = None


EXPERIMENT_KEYS = frozenset(_ExperimentFile.model_fields)


class _FactorFile(_Strict):
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    distribution: str = "uniform"
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None


class _Checker:
    """Collects the problems of one file, each with its line."""

    def __init__(self, file: str, lines: LineMap):
        self.file, self.lines = file, lines
        self.problems: list[Problem] = list(getattr(lines, "problems", []))

    def add(self, field: str, message: str, loc: Sequence[str] | None = None) -> None:
        where = loc if loc is not None else field.replace("[", ".").replace("]", "").split(".")
        self.problems.append(Problem(self.file, line_of(self.lines, where), field, message))

    def extend(self, problems: Sequence[Problem]) -> None:
        self.problems.extend(problems)


# ----------------------------------------------------------------------------- factors
def _parse_factor(name: str, raw: Any, role: str, check: _Checker) -> tuple[Factor | None, Any]:
    """(factor, value held constant) for one entry under ``levers``/``uncertainties``;
    mistakes go to ``check``."""
    section = SECTIONS[role]
    where = f"{section}.{name}"
    if name not in PARAMS:
        check.add(where, unknown_key_message(name, [p for p in PARAMS if PARAMS[p].role == role]))
        return None, None
    p = PARAMS[name]
    if p.role != role:
        home = SECTIONS.get(p.role, "constants")
        extra = " (the external force is never optimised)" if name == "attackers" else ""
        article = {"lever": "a lever", "uncertainty": "an uncertainty", "setting": "a setting"}
        check.add(
            where, f"{name} is {article[p.role]}, not {article[role]}{extra}; put it under {home}"
        )
        return None, None
    if isinstance(raw, bool | int | float):  # a scalar is held
        values, _, problems = check_params({name: raw}, check.file, check.lines, (section,))
        check.extend(problems)
        return None, values.get(name)
    if isinstance(raw, list):
        return _list_factor(name, raw, role, check), None
    if raw is not None and not isinstance(raw, Mapping):
        check.add(where, f"expected a list, a range {{low, high}} or a value; got {raw!r}")
        return None, None
    return _range_factor(name, raw or {}, role, check), None


def _list_factor(name: str, raw: list, role: str, check: _Checker) -> Factor | None:
    section = SECTIONS[role]
    where, before = f"{section}.{name}", len(check.problems)
    values = []
    for i, item in enumerate(raw):
        vals, _, probs = check_params({name: item}, check.file, check.lines, (section,))
        for pr in probs:
            check.add(f"{where}[{i}]", pr.message, (section, name, str(i)))
        if name in vals:
            values.append(vals[name])
    if not raw:
        check.add(where, "empty list: give at least one value")
    if len(set(values)) != len(values):
        check.add(where, f"repeated values in {values}")
    return Factor(name, role, tuple(values)) if len(check.problems) == before else None


def _range_factor(name: str, raw: Mapping, role: str, check: _Checker) -> Factor | None:
    section = SECTIONS[role]
    where, loc, before = f"{section}.{name}", (section, name), len(check.problems)
    try:
        spec = _FactorFile.model_validate(raw)
    except ValidationError as exc:
        check.extend(validation_problems(exc, check.file, check.lines, _FactorFile, loc))
        return None
    p = PARAMS[name]
    if p.kind == "bool":
        check.add(where, f"{name} is true or false: give a list [false, true] or one value")
        return None
    if spec.distribution not in DISTRIBUTIONS:
        check.add(
            where,
            f"distribution {spec.distribution!r} is not known"
            f"{did_you_mean(spec.distribution, DISTRIBUTIONS)}; allowed: "
            f"{', '.join(DISTRIBUTIONS)}",
        )
        return None
    if role == "lever" and spec.distribution != "uniform":
        check.add(where, "levers are choices, not distributions: give a list or {low, high}")
        return None
    lo0, hi0 = p.sweep_range()
    lo = spec.low if spec.low is not None else lo0
    hi = spec.high if spec.high is not None else hi0
    for key, v in (("low", lo), ("high", hi), ("mode", spec.mode), ("mean", spec.mean)):
        if v is not None and not p.in_bounds(v):
            check.add(f"{where}.{key}", out_of_range(p, v), (*loc, key))
    _range_shape_problems(spec, lo, hi, where, check)
    if len(check.problems) > before:
        return None
    if spec.levels is not None:
        grid = np.linspace(lo, hi, spec.levels)
        return Factor(name, role, tuple(dict.fromkeys(as_param_value(name, x) for x in grid)))
    return Factor(
        name, role, None, spec.distribution, float(lo), float(hi), spec.mean, spec.sd, spec.mode
    )


def _range_shape_problems(
    spec: _FactorFile, lo: float, hi: float, where: str, check: _Checker
) -> None:
    if not lo < hi:
        check.add(where, f"low ({lo:g}) must be below high ({hi:g})")
    if spec.distribution == "normal" and (spec.mean is None or spec.sd is None or spec.sd <= 0):
        check.add(where, "normal needs mean and sd > 0")
    if spec.distribution == "triangular" and (spec.mode is None or not lo <= spec.mode <= hi):
        check.add(where, "triangular needs low <= mode <= high")
    if spec.levels is None:
        return
    if spec.distribution != "uniform":
        check.add(where, "levels only apply to {low, high}")
    elif not 2 <= spec.levels <= MAX_LEVELS:
        check.add(f"{where}.levels", f"{spec.levels} is not allowed; allowed: 2 to {MAX_LEVELS:,}")


FROM_CALIBRATION = "from_calibration"


def _factors(
    shape: _ExperimentFile, check: _Checker
) -> tuple[list[Factor], list[Factor], dict[str, Any]]:
    """(levers, uncertainties, values held constant by a scalar entry)."""
    out: dict[str, list[Factor]] = {"lever": [], "uncertainty": []}
    held: dict[str, Any] = {}
    uncertainties = {k: v for k, v in shape.uncertainties.items() if k != FROM_CALIBRATION}
    if FROM_CALIBRATION in shape.uncertainties and uncertainties:
        check.add(
            "uncertainties",
            f"{FROM_CALIBRATION} draws every uncertain condition; list no others beside it "
            f"(here: {', '.join(uncertainties)})",
        )
    for role, section in (("lever", shape.levers), ("uncertainty", uncertainties)):
        for name, raw in section.items():
            factor, value = _parse_factor(name, raw, role, check)
            if name in shape.constants:
                check.add(
                    f"{SECTIONS[role]}.{name}", "also set under constants; give it in one place"
                )
            if factor is not None:
                out[role].append(factor)
            elif value is not None:
                held[name] = value
    return out["lever"], out["uncertainty"], held


# ----------------------------------------------------------------------------- the file
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


def _validate_shape(data: dict[str, Any], check: _Checker) -> _ExperimentFile:
    """The file's shape; its problems go to ``check``.

    Every top-level field with a problem (missing, misspelled, of the wrong type) is
    reported, then left out or replaced by a stand-in, so that the rest of the file is
    still checked. A missing field that a misspelled key already names ("did you mean
    'design'?") is not reported twice.
    """
    try:
        return _ExperimentFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        problems = validation_problems(exc, check.file, check.lines, _ExperimentFile)
    fields = _ExperimentFile.model_fields
    bad = {str(e["loc"][0]) for e in errors if e["loc"]}
    meant = {closest(k, fields) for k in bad if k not in fields}
    check.extend(
        [
            p
            for p, e in zip(problems, errors, strict=True)
            if not (e["type"] == "missing" and len(e["loc"]) == 1 and e["loc"][0] in meant)
        ]
    )
    kept = {k: v for k, v in data.items() if k in fields and k not in bad}
    return _ExperimentFile.model_validate({**_PLACEHOLDERS, **kept})


def _header_problems(shape: _ExperimentFile, check: _Checker) -> tuple[str, ...]:
    """Check name, replicates, master seed, series interval and outcomes; return the
    outcomes to record."""
    if not NAME_RE.match(shape.name):
        check.add(
            "name",
            f"{shape.name!r} must be letters, digits, '_', '-' or '.' (it names the results file)",
        )
    if not 1 <= shape.replicates <= MAX_REPLICATES:
        few = "few" if shape.replicates < 1 else "many"
        check.add(
            "replicates", f"{shape.replicates} is too {few}; allowed: 1 to {MAX_REPLICATES:,}"
        )
    if not seed_in_range(shape.master_seed):
        check.add("master_seed", f"{shape.master_seed} is out of range; allowed: {SEED_RANGE}")
    if shape.series_every_h is not None and shape.series_every_h <= 0:
        check.add("series_every_h", f"{shape.series_every_h:g} must be above 0 h")
    outcomes = shape.outcomes if shape.outcomes is not None else list(OUTCOMES)
    for i, name in enumerate(outcomes):
        if name not in OUTCOMES:
            message = unknown_key_message(name, OUTCOMES).replace("key", "outcome")
            check.add(f"outcomes[{i}]", message)
    if len(set(outcomes)) != len(outcomes) or not outcomes:
        check.add("outcomes", "give each outcome once, at least one")
    return tuple(outcomes)


def _design_spec(d: _DesignFile, check: _Checker) -> DesignSpec | None:
    """The file's design section as a :class:`DesignSpec` (None if its type is unknown);
    a ``points`` design's points are validated here, where their lines are known."""
    if d.type not in DESIGN_TYPES:
        check.add(
            "design.type",
            f"{d.type!r} is not a design{did_you_mean(d.type, DESIGN_TYPES)}; "
            f"allowed: {', '.join(DESIGN_TYPES)}",
        )
        return None
    points = None
    if d.points is not None:
        points = tuple(_design_point(i, pt, check) for i, pt in enumerate(d.points))
    levels = d.levels if d.levels is not None or d.type != "morris" else DEFAULT_MORRIS_LEVELS
    return DesignSpec(d.type, d.samples, levels, d.second_order, points)


def _design_point(i: int, point: Mapping[str, Any], check: _Checker) -> dict[str, Any]:
    allowed = {n for n, p in PARAMS.items() if p.role in SECTIONS}
    for key in point:
        if key not in allowed:
            check.add(f"design.points.{i}.{key}", unknown_key_message(key, allowed))
    given = {k: v for k, v in point.items() if k in allowed}
    values, _, problems = check_params(
        given, check.file, check.lines, prefix=("design", "points", str(i))
    )
    check.extend(problems)
    return values


def _reference_arm(
    raw: Mapping[str, Any] | None, points: Sequence[Point], check: _Checker
) -> str | None:
    """The reference arm's label: the arm whose lever values ``raw`` gives (checked like
    any lever value), else the first arm in design order."""
    arms = list(dict.fromkeys(p.arm for p in points))
    if raw is None:
        return arms[0] if arms else None
    values, _, problems = check_params(raw, check.file, check.lines, prefix=("reference_arm",))
    check.extend(problems)
    if problems:
        return None
    label = arm_label(values)
    matching = [p.arm for p in points if {k: p.levers.get(k) for k in values} == values]
    if label in arms:
        return label
    if len(set(matching)) == 1:
        return matching[0]
    shown = ", ".join(arms[:6]) + (" ..." if len(arms) > 6 else "")
    check.add("reference_arm", f"{label} is not one arm of the design; arms: {shown}")
    return None


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Load and validate an experiment file (or a shipped experiment's bare name)."""
    path = resolve_shipped(path, EXPERIMENT_DIR, "experiment")
    file = str(path)
    data, lines = load_mapping(
        path,
        "an experiment file must be a mapping with name, question, scenario, levers, design, ...",
    )
    check = _Checker(file, lines)
    shape = _validate_shape(data, check)
    outcomes = _header_problems(shape, check)
    scenario = _base_scenario(shape.scenario, path, check)
    constants, _, probs = check_params(shape.constants, file, lines, prefix=("constants",))
    check.extend(probs)
    levers, uncertainties, held = _factors(shape, check)
    constants |= held
    design = _design_spec(shape.design, check)
    if check.problems or design is None:
        raise ConfigError(check.problems)
    base = {**scenario.params, **constants}
    calibration, draws = _calibration_draws(shape, design, path, check)
    points, design_problems = build_points(
        design, levers, uncertainties, base, shape.master_seed, shape.replicates, draws
    )
    for fld, msg in design_problems:
        check.add(fld, msg, ["design", *fld.split(".")[1:]])
    reference = _reference_arm(shape.reference_arm, points, check)
    if check.problems:
        raise ConfigError(check.problems)
    return ExperimentSpec(
        name=shape.name,
        question=shape.question.strip(),
        description=shape.description.strip(),
        scenario=scenario.name,
        compare_with_reported=scenario.compare_with_reported,
        base_params=base,
        constants=constants,
        levers=tuple(levers),
        uncertainties=tuple(uncertainties),
        design=design,
        replicates=shape.replicates,
        master_seed=shape.master_seed,
        outcomes=outcomes,
        series_every_h=shape.series_every_h,
        reference_arm=reference,
        calibration=calibration,
        points=points,
        source=file,
    )


def _calibration_draws(
    shape: _ExperimentFile, design: DesignSpec, experiment: Path, check: _Checker
) -> tuple[str | None, list[dict[str, Any]]]:
    """(the posterior file as given, the design's draws from it) of ``from_calibration``."""
    ref = shape.uncertainties.get(FROM_CALIBRATION)
    if ref is None:
        if design.type == "posterior":
            check.add("design.type", f"posterior needs uncertainties: {{{FROM_CALIBRATION}: FILE}}")
        return None, []
    where = f"uncertainties.{FROM_CALIBRATION}"
    if design.type != "posterior":
        check.add(where, f"draws from a calibration need design: {{type: posterior, samples: N}} "
                  f"(this is {design.type})")  # fmt: skip
        return None, []
    candidates = [experiment.parent / str(ref), SCENARIO_DIR / str(ref)]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        check.add(where, f"{ref!r}: no such file beside the experiment or in scenarios/; give "
                  "the posterior samples 'prisonsim calibrate' wrote")  # fmt: skip
        return None, []
    rows, weights, message = read_posterior_samples(path)
    if message:
        check.add(where, message)
        return None, []
    if not 1 <= (design.samples or 0) <= MAX_SAMPLES:  # the design's checks say why
        return str(ref), []
    return str(ref), posterior_draws(rows, weights, design.samples, shape.master_seed)


def read_posterior_samples(path: Path) -> tuple[list[dict[str, Any]], list[float], str]:
    """(rows of parameter values, weights, problem) of a posterior samples CSV: a column
    per calibrated parameter and ``weight``; values inside each parameter's bounds."""
    import csv

    try:
        with open(path, newline="") as f:
            table = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [], f"{path}: cannot be read ({exc})"
    names = [n for n in (table[0] if table else {}) if n != "weight"]
    unknown = [n for n in names if n not in PARAMS]
    if not table or "weight" not in table[0] or unknown or not names:
        return (
            [],
            [],
            f"{path}: not posterior samples (a column per parameter and 'weight')"
            + (f"; unknown parameters: {', '.join(unknown)}" if unknown else ""),
        )
    rows, weights = [], []
    for i, rec in enumerate(table, start=2):
        try:
            row = {n: PARAMS[n].coerce(float(rec[n])) for n in names}
            weight = float(rec["weight"])
        except (TypeError, ValueError) as exc:
            return [], [], f"{path}:{i}: {exc}"
        bad = [n for n, v in row.items() if not PARAMS[n].in_bounds(v)]
        if bad or not weight >= 0:
            return [], [], f"{path}:{i}: out of range: {', '.join(bad) or 'weight'}"
        rows.append(row)
        weights.append(weight)
    return rows, weights, ""


def _base_scenario(ref: str, experiment: Path, check: _Checker) -> Scenario:
    """The base scenario (a path relative to the experiment file, or a shipped name); with
    problems, the defaults stand in so that the rest is still checked."""
    candidate = experiment.parent / ref
    try:
        path = candidate if candidate.is_file() else resolve_scenario_path(ref)
    except ConfigError:
        shipped = shipped_names(SCENARIO_DIR)
        check.add(
            "scenario",
            f"{ref!r} not found next to the experiment or as a shipped scenario"
            f"{did_you_mean(Path(ref).stem, shipped)}; shipped: {', '.join(shipped)}",
        )
        return Scenario(ref, "", defaults())
    try:
        return load_scenario(path)
    except ConfigError as exc:
        check.extend(exc.problems)
        return Scenario(ref, "", defaults())
