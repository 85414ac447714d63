"""Designs: from an experiment's factors and :class:`DesignSpec` to its design points.

Every design is built the same way: the combinations of the discrete factors' values,
crossed with rows of conditions (:func:`crossed`), so that each policy arm meets the same
conditions and common random numbers pair them:

* ``full_factorial``: one empty row (only the discrete combinations);
* ``latin_hypercube``: ``samples`` rows of the continuous factors, sampled jointly
  (scipy's ``qmc.LatinHypercube``);
* ``sobol`` / ``morris``: SALib's samplers over the continuous factors (no discrete ones),
  each row one point, with the sampler's row kept for the analysis;
* ``points``: the explicit points of the file (omitted names keep the base value);
* ``posterior``: ``samples`` draws from a calibration's posterior (``uncertainties:
  {from_calibration: FILE}``; :func:`posterior_draws`), each a row of the calibrated
  parameters' values, crossed with the lever arms; the seeds are keyed by the rows'
  content as for any other design.

Samplers work on the unit cube and map each column through the factor's inverse CDF
(:meth:`Factor.from_unit`); whole-number parameters are rounded when the point is made.
Checks return ``(field, message)`` pairs; the loader adds the file and line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.experiments.contract import SENSITIVITY_DESIGNS, DesignSpec, Factor, Point
from sim.model.params import PARAMS, check_joint

MAX_SAMPLES = 100_000  # design.samples (LHS rows; SALib's N)
MAX_LEVELS = 1_000  # levels of one range, and Morris grid levels
MAX_POINTS = 100_000  # design points
MAX_RUNS = 1_000_000  # design points x replicates

FieldProblem = tuple[str, str]


def as_param_value(name: str, x: Any) -> Any:
    """A sampled number as parameter ``name``'s kind (whole numbers rounded and clipped
    to the bounds, numpy scalars made plain Python values)."""
    p = PARAMS[name]
    if p.kind == "int":
        lo, hi = p.bounds
        return int(min(max(round(float(x)), lo), hi))
    return p.coerce(x.item() if isinstance(x, np.generic) else x)


def point_count(design: DesignSpec, continuous: int, discrete: Sequence[Factor]) -> int:
    """Design points before they are built: Latin hypercube, the discrete combinations
    times ``samples``; Sobol', N (D + 2), or N (2D + 2) with second order; Morris,
    N (D + 1); D the number of ranges (SALib's sample sizes)."""
    combos = math.prod(len(f.values) for f in discrete)
    n = design.samples or 1
    if design.type in SENSITIVITY_DESIGNS:
        return n * design.block_size(continuous)
    if (design.type == "latin_hypercube" and continuous) or design.type == "posterior":
        return n * combos
    if design.type == "points":
        return len(design.points or ())
    return combos


def size_problems(
    design: DesignSpec, continuous: int, discrete: Sequence[Factor], replicates: int
) -> list[FieldProblem]:
    """A design too large to build, checked before anything is sampled."""
    out = []
    if design.samples is not None and design.samples > MAX_SAMPLES:
        out.append(
            ("design.samples", f"{design.samples:,} is too many; allowed: up to {MAX_SAMPLES:,}")
        )
    if design.levels is not None and design.levels > MAX_LEVELS:
        out.append(
            ("design.levels", f"{design.levels:,} is too many; allowed: up to {MAX_LEVELS:,}")
        )
    if out:
        return out
    points = point_count(design, continuous, discrete)
    if points > MAX_POINTS:
        return [("design", f"{points:,} design points; allowed: up to {MAX_POINTS:,}")]
    if points * replicates > MAX_RUNS:
        return [
            (
                "design",
                f"{points:,} points x {replicates:,} replicates = {points * replicates:,} "
                f"runs; allowed: up to {MAX_RUNS:,}",
            )
        ]
    return []


def option_problems(design: DesignSpec, factors: Sequence[Factor]) -> list[FieldProblem]:
    """Options and factors that do not fit the design's type."""
    out: list[FieldProblem] = []
    discrete = [f for f in factors if f.discrete]
    continuous = [f for f in factors if not f.discrete]
    kind = design.type
    if kind != "points" and design.points is not None:
        out.append(("design.points", f"only the 'points' design takes points (this is {kind})"))
    if kind in ("full_factorial", "points") and design.samples is not None:
        out.append(("design.samples", f"{kind} takes no samples"))
    if kind != "sobol" and design.second_order:
        out.append(("design.second_order", f"only sobol takes second_order (this is {kind})"))
    if kind != "morris" and design.levels is not None:
        out.append(
            ("design.levels", "only morris takes levels (for a range use {low, high, levels})")
        )
    if kind == "full_factorial":
        out += [
            (
                "design.type",
                f"{f.name} is a range; full_factorial needs a list of values "
                "or {low, high, levels: N}",
            )
            for f in continuous
        ]
    elif kind == "latin_hypercube" and continuous and (design.samples or 0) < 1:
        out.append(("design.samples", "latin_hypercube needs samples: N (1 or more)"))
    elif kind == "posterior":
        if (design.samples or 0) < 1:
            out.append(("design.samples", "posterior needs samples: N (draws, 1 or more)"))
        out += [
            (
                "design.type",
                f"{f.name} is a range; the posterior design draws the conditions, its "
                "levers need lists of values",
            )
            for f in continuous
        ]
    elif kind in SENSITIVITY_DESIGNS:
        out += _sensitivity_problems(design, discrete, continuous)
    elif kind == "points":
        if factors:
            out.append(
                (
                    "design.type",
                    "the points design lists its points under design.points; "
                    "leave levers and uncertainties empty",
                )
            )
        if not design.points:
            out.append(("design.points", "the points design needs a list of points"))
    return out


def _sensitivity_problems(
    design: DesignSpec, discrete: Sequence[Factor], continuous: Sequence[Factor]
) -> list[FieldProblem]:
    kind, n = design.type, design.samples
    out = [
        (
            "design.type",
            f"{f.name} has a list of values; {kind} samples ranges: give "
            "{low, high} or move it to constants",
        )
        for f in discrete
    ]
    if not continuous:
        out.append(("design.type", f"{kind} needs at least one range to sample"))
    if n is None or n < 2:
        out.append(("design.samples", f"{kind} needs samples: N (2 or more)"))
    elif kind == "sobol" and n & (n - 1):
        out.append(
            (
                "design.samples",
                f"{n} is not a power of 2 (Sobol' sequences need one); "
                f"try {1 << (n - 1).bit_length()}",
            )
        )
    if kind == "morris":
        out += [
            (
                "design.type",
                f"{f.name}: morris samples a grid over {{low, high}}; "
                "distributions are not supported",
            )
            for f in continuous
            if f.distribution != "uniform"
        ]
        levels = design.salib_options()["num_levels"]
        if levels < 2 or levels % 2:
            out.append(("design.levels", f"{levels} is not allowed; use an even number >= 2"))
    return out


def unit_samples(design: DesignSpec, dimensions: int, seed: int) -> np.ndarray | None:
    """The sampler's rows on the unit cube (None when the design samples nothing)."""
    if not dimensions or design.type not in ("latin_hypercube", *SENSITIVITY_DESIGNS):
        return None
    if design.type == "latin_hypercube":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=dimensions, rng=seed).random(design.samples)
    problem = {"num_vars": dimensions, "bounds": [[0.0, 1.0]] * dimensions}
    problem["names"] = [f"x{i}" for i in range(dimensions)]
    if design.type == "sobol":
        from SALib.sample import sobol as sampler
    else:
        from SALib.sample import morris as sampler
    unit = sampler.sample(problem, design.samples, seed=seed, **design.salib_options())
    return np.clip(unit, 0.0, 1.0)


def crossed(discrete: Sequence[Factor], rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every combination of the discrete factors' values with every row of conditions."""
    names = [f.name for f in discrete]
    return [
        {**dict(zip(names, combo, strict=True)), **row}
        for combo in itertools.product(*(f.values for f in discrete))
        for row in rows
    ]


def build_points(
    design: DesignSpec,
    levers: Sequence[Factor],
    uncertainties: Sequence[Factor],
    base_params: Mapping[str, Any],
    master_seed: int,
    replicates: int,
    draws: Sequence[Mapping[str, Any]] = (),
) -> tuple[tuple[Point, ...], list[FieldProblem]]:
    """The design's points, or the problems that keep it from being built (the size
    checks first, then the options, then the joint constraints of every point).
    ``draws`` are the rows of conditions of a ``posterior`` design."""
    factors = [*levers, *uncertainties]
    continuous = [f for f in factors if not f.discrete]
    discrete = [f for f in factors if f.discrete]
    problems = size_problems(design, len(continuous), discrete, replicates)
    problems = problems or option_problems(design, factors)
    if problems:
        return (), problems
    if design.type == "points":
        rows = _explicit_rows(design.points or (), base_params)
        samples = None
    elif design.type == "posterior":  # a lever the file varies overrides its drawn value
        lever_names = {f.name for f in levers}
        conditions = [{n: v for n, v in d.items() if n not in lever_names} for d in draws]
        rows = crossed(discrete, conditions)
        samples = None
    else:
        unit = unit_samples(design, len(continuous), master_seed)
        matrix = (
            np.column_stack([f.from_unit(unit[:, j]) for j, f in enumerate(continuous)])
            if unit is not None
            else np.empty((1, 0))
        )
        sampled = [
            {f.name: as_param_value(f.name, v) for f, v in zip(continuous, row, strict=True)}
            for row in matrix
        ]
        ordered = [f.name for f in factors]
        rows = [{n: r[n] for n in ordered} for r in crossed(discrete, sampled)]
        samples = matrix if design.type in SENSITIVITY_DESIGNS else None
    lever_names = {f.name for f in levers}
    is_lever = (lambda n: PARAMS[n].role == "lever") if design.type == "points" else (
        lambda n: n in lever_names
    )  # fmt: skip
    points = tuple(
        Point(
            i,
            {n: v for n, v in row.items() if is_lever(n)},
            {n: v for n, v in row.items() if not is_lever(n)},
            None if samples is None else tuple(float(x) for x in samples[i]),
        )
        for i, row in enumerate(rows)
    )
    return points, _joint_problems(rows, base_params)


def posterior_draws(
    rows: Sequence[Mapping[str, Any]], weights: Sequence[float], n: int, seed: int
) -> list[dict[str, Any]]:
    """``n`` draws from weighted samples by systematic resampling (Kitagawa 1996): the
    points ``(offset + i) / n``, offset uniform from a generator seeded by ``seed``, read
    through the weights' cumulative distribution. Each sample is drawn about ``n x`` its
    weight times, with less noise than independent draws."""
    w = np.asarray(weights, dtype=float)
    offset = np.random.default_rng(seed).random()
    idx = np.searchsorted(np.cumsum(w) / w.sum(), (offset + np.arange(n)) / n)
    return [dict(rows[i]) for i in np.minimum(idx, len(w) - 1)]


def _explicit_rows(
    points: Sequence[Mapping[str, Any]], base_params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The points design's rows: every name any point sets, levers first; a point that
    omits a name keeps the base value."""
    names = list(dict.fromkeys(k for pt in points for k in pt))
    names.sort(key=lambda n: PARAMS[n].role != "lever")
    return [{n: pt.get(n, base_params[n]) for n in names} for pt in points]


def _joint_problems(
    rows: Sequence[Mapping[str, Any]], base_params: Mapping[str, Any]
) -> list[FieldProblem]:
    bad = []
    for i, row in enumerate(rows):
        try:
            check_joint({**base_params, **row})
        except ValueError as exc:
            bad.append((i, str(exc)))
    if not bad:
        return []
    return [
        (
            "design",
            f"{len(bad)} of {len(rows)} points break a joint constraint, "
            f"e.g. point {bad[0][0]}: {bad[0][1]}",
        )
    ]
