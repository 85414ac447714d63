"""The typed contract between the stages: experiment -> design -> runs -> store -> analysis.

Every stage hands the next one these frozen dataclasses, never a bare dict:

* the loader (:mod:`sim.experiments.loader`) produces an :class:`ExperimentSpec`: its
  :class:`Factor` s, its :class:`DesignSpec` and the design's :class:`Point` s;
* the sweep (:mod:`sim.experiments.sweep`) turns a spec into runs, each keyed by a
  :class:`RunKey` (point, replicate, seed), and gets back one :class:`RunRecord` per run
  (its outcomes, steps, series and time, or its failure);
* the store (:mod:`sim.experiments.store`) is the only code that serialises these and the
  only code that speaks SQL; it gives readers a :class:`Results` (the spec as stored, tidy
  tables of runs, series and failures, and the :class:`Provenance`), a
  :class:`StoreSummary` or a :class:`StoreStatus`;
* analysis, report and CLI read those, and nothing else.

Names are the experiment file's names everywhere (``levels``, ``second_order``); the one
place they meet SALib's keyword names is :meth:`DesignSpec.salib_options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from sim.experiments.seeds import derive_seed
from sim.model.params import UNCERTAINTIES

DesignType = Literal["full_factorial", "latin_hypercube", "sobol", "morris", "points", "posterior"]
DESIGN_TYPES: tuple[str, ...] = get_args(DesignType)
SENSITIVITY_DESIGNS = ("sobol", "morris")
DEFAULT_MORRIS_LEVELS = 4
DISTRIBUTIONS = ("uniform", "normal", "triangular")
Role = Literal["lever", "uncertainty"]


# ----------------------------------------------------------------------------- the experiment
@dataclass(frozen=True)
class Factor:
    """One varied lever or uncertainty: discrete ``values``, or a continuous distribution
    (``uniform`` or ``triangular`` over ``low``-``high``, or ``normal`` with ``mean`` and
    ``sd`` truncated to ``low``-``high``)."""

    name: str
    role: Role
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

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval samples to this factor's values (inverse CDF):
        uniform ``low + u (high - low)``; triangular and truncated normal by scipy's ppf."""
        from scipy import stats

        lo, hi = float(self.low), float(self.high)
        if self.distribution == "uniform":
            return lo + u * (hi - lo)
        if self.distribution == "triangular":
            c = (float(self.mode) - lo) / (hi - lo)
            return stats.triang.ppf(u, c, loc=lo, scale=hi - lo)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)


@dataclass(frozen=True)
class DesignSpec:
    """How the factors become design points.

    ``samples``: Latin hypercube rows, or SALib's N (Sobol' base samples, a power of 2;
    Morris trajectories). ``levels``: Morris grid levels (the loader makes it
    :data:`DEFAULT_MORRIS_LEVELS` when the file gives none).
    ``second_order``: Sobol' with second-order indices (N (2D + 2) points instead of
    N (D + 2)). ``points``: the ``points`` design's explicit points, each a mapping of
    lever and uncertainty values (validated; omitted names keep the base value).
    """

    type: DesignType
    samples: int | None = None
    levels: int | None = None
    second_order: bool = False
    points: tuple[Mapping[str, Any], ...] | None = None

    def salib_options(self) -> dict[str, Any]:
        """Keyword arguments shared by SALib's sampler and analyser of this design: the
        one place where the file's names meet SALib's (``second_order`` is
        ``calc_second_order``, ``levels`` is ``num_levels``)."""
        if self.type == "sobol":
            return {"calc_second_order": self.second_order}
        if self.type == "morris":
            return {"num_levels": self.levels}
        return {}

    def block_size(self, factors: int) -> int:
        """Consecutive points that belong together in a sensitivity design: a Saltelli
        base sample (D + 2 points, 2D + 2 with second order) or a Morris trajectory
        (D + 1), D the number of factors; 1 for other designs."""
        if self.type == "sobol":
            return (2 * factors + 2) if self.second_order else factors + 2
        if self.type == "morris":
            return factors + 1
        return 1

    def options(self) -> dict[str, Any]:
        """The options a file gave beyond the type (for display): samples, levels,
        second_order."""
        out: dict[str, Any] = {}
        if self.samples is not None:
            out["samples"] = self.samples
        if self.type == "morris":
            out["levels"] = self.levels
        if self.type == "sobol":
            out["second_order"] = self.second_order
        return out


def arm_label(levers: Mapping[str, Any]) -> str:
    """The key of a policy arm, ``name=value, ...`` over its lever values (``"base"``
    when no lever varies). A key for grouping and storing, never parsed back: readers get
    an arm's lever values from :attr:`ExperimentSpec.arms`."""
    parts = []
    for name, v in levers.items():
        text = ("true" if v else "false") if isinstance(v, bool) else format(v, ".6g")
        parts.append(f"{name}={text}")
    return ", ".join(parts) or "base"


@dataclass(frozen=True)
class Point:
    """One design point: the varied levers' and uncertainties' values, and for Sobol and
    Morris designs the sampler's row (continuous values before whole numbers are
    rounded), in the order of :attr:`ExperimentSpec.sensitivity_problem` names."""

    point_id: int
    levers: Mapping[str, Any]
    uncertainties: Mapping[str, Any]
    sample: tuple[float, ...] | None = None

    @property
    def values(self) -> dict[str, Any]:
        return {**self.levers, **self.uncertainties}

    @property
    def arm(self) -> str:
        return arm_label(self.levers)


@dataclass(frozen=True)
class RunKey:
    """Which run: a design point's replicate, and its seed (derived from the content of
    the point's uncertainties, the replicate and the master seed: see ``seeds``)."""

    point_id: int
    replicate: int
    seed: int


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment as loaded and validated: what decides its results, and its design.

    ``base_params`` is every parameter's value before the design varies some (scenario,
    then ``constants``); ``reference_arm`` the label of the arm others are compared
    with; ``source`` the file it came from (not part of its content).
    """

    name: str
    question: str
    scenario: str
    base_params: Mapping[str, Any]
    design: DesignSpec
    replicates: int
    master_seed: int
    outcomes: tuple[str, ...]
    points: tuple[Point, ...]
    description: str = ""
    compare_with_reported: bool = False
    constants: Mapping[str, Any] = field(default_factory=dict)
    levers: tuple[Factor, ...] = ()
    uncertainties: tuple[Factor, ...] = ()
    series_every_h: float | None = None
    reference_arm: str | None = None
    calibration: str | None = None  # posterior samples the conditions were drawn from
    source: str | None = field(default=None, compare=False)

    @property
    def lever_names(self) -> list[str]:
        """The varied levers, in design order."""
        return list(self.points[0].levers) if self.points else []

    @property
    def uncertainty_names(self) -> list[str]:
        """The varied uncertainties, in design order."""
        return list(self.points[0].uncertainties) if self.points else []

    @property
    def expected_runs(self) -> int:
        return len(self.points) * self.replicates

    @property
    def arms(self) -> dict[str, dict[str, Any]]:
        """Every arm's label and lever values, in design order (by first point)."""
        out: dict[str, dict[str, Any]] = {}
        for p in self.points:
            out.setdefault(p.arm, dict(p.levers))
        return out

    @property
    def continuous_factors(self) -> list[Factor]:
        return [f for f in (*self.levers, *self.uncertainties) if not f.discrete]

    @property
    def sensitivity_problem(self) -> dict[str, Any] | None:
        """SALib's problem (``num_vars``, ``names``, ``bounds``, ``dists``) for Sobol and
        Morris designs: the continuous factors, in the order of each point's sample."""
        if self.design.type not in SENSITIVITY_DESIGNS:
            return None
        factors = self.continuous_factors
        return {
            "num_vars": len(factors),
            "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors],
            "dists": [f.distribution for f in factors],
        }

    def point_params(self, point: Point) -> dict[str, Any]:
        """The full parameter set of one point."""
        return {**self.base_params, **point.values}

    def run_keys(self) -> list[RunKey]:
        """Every run of the experiment in design order, each with its seed: one stream
        per (values of every uncertainty at the point, replicate), the same in every arm
        (common random numbers)."""
        keys = []
        for point in self.points:
            params = self.point_params(point)
            names = sorted({*UNCERTAINTIES, *point.uncertainties})
            conditions = {n: params[n] for n in names}
            keys += [
                RunKey(point.point_id, r, derive_seed(self.master_seed, conditions, r))
                for r in range(self.replicates)
            ]
        return keys


# ----------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Series:
    """A run's time series: sampling times (hours) and one value list per variable."""

    t_h: tuple[float, ...]
    values: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class RunRecord:
    """What one run gave: its outcomes (None where a value is missing), steps, series
    and time, or, when ``error`` is set, its failure (one line) and traceback."""

    key: RunKey
    outcomes: Mapping[str, float | None] = field(default_factory=dict)
    steps: int | None = None
    series: Series | None = None
    elapsed_s: float | None = None
    error: str | None = None
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(
        cls, key: RunKey, error: str, traceback: str = "", elapsed_s: float | None = None
    ) -> RunRecord:
        """A failure record; ``error`` is cut to its first line (500 characters at most)."""
        line = (str(error).splitlines() or [""])[0][:500]
        return cls(key, error=line, traceback=traceback, elapsed_s=elapsed_s)


# ----------------------------------------------------------------------------- reading back
@dataclass(frozen=True)
class Session:
    """One command that wrote to a store (sweep, resume, calibrate): who, when, how."""

    id: int
    command: str
    command_line: str | None
    started_at: str | None
    finished_at: str | None
    status: str
    executor: str | None
    workers: int | None
    git_commit: str | None
    git_dirty: bool | None
    package_versions: Mapping[str, str]
    pid: int | None = None
    host: str | None = None


@dataclass(frozen=True)
class Provenance:
    """Where a store's results come from: the spec's hash, when and from which file the
    store was made, and every session that wrote to it."""

    spec_hash: str
    created_at: str
    experiment_path: str | None
    sessions: tuple[Session, ...] = ()

    @property
    def last_session(self) -> Session | None:
        return self.sessions[-1] if self.sessions else None


@dataclass(frozen=True)
class StoreSummary:
    """Counts and identity of a results store, for ``status`` and messages."""

    name: str
    path: str
    expected_runs: int
    runs: int
    failures: int
    spec_hash: str
    experiment_path: str | None

    @property
    def remaining(self) -> int:
        return self.expected_runs - self.runs - self.failures


@dataclass(frozen=True)
class StoreStatus:
    """What ``prisonsim status`` shows: counts, the question, sessions and failures."""

    summary: StoreSummary
    question: str
    sessions: tuple[Session, ...]
    failures: tuple[RunRecord, ...]


@dataclass(frozen=True)
class Results:
    """One experiment as stored, for analysis and reports.

    Attributes:
        spec: the experiment as stored (its design points included).
        runs: one row per finished run. Columns: ``point_id``, ``arm`` (the arm's label,
            a key: display text comes from :attr:`arms`), ``replicate``, ``seed``, one
            column per varied lever and uncertainty (its value at the point), one column
            per recorded outcome (float; NaN where missing). Ordered by (point_id,
            replicate).
        series: long table ``point_id, arm, replicate, t_h, variable, value``; empty
            when the experiment recorded none.
        failures: one row per failed run: ``point_id, arm, replicate, seed``, the
            point's varied values (as in ``runs``), ``error, traceback``.
        provenance: the spec's hash, the store's creation, its sessions.
    """

    spec: ExperimentSpec
    runs: pd.DataFrame
    series: pd.DataFrame
    failures: pd.DataFrame
    provenance: Provenance

    @property
    def outcomes(self) -> list[str]:
        return list(self.spec.outcomes)

    @property
    def levers(self) -> list[str]:
        return self.spec.lever_names

    @property
    def uncertainties(self) -> list[str]:
        return self.spec.uncertainty_names

    @property
    def expected_runs(self) -> int:
        return self.spec.expected_runs

    @property
    def arms(self) -> dict[str, dict[str, Any]]:
        """Arm label -> its lever values, in design order."""
        return self.spec.arms

    @property
    def problem(self) -> dict[str, Any] | None:
        return self.spec.sensitivity_problem

    @property
    def design_samples(self) -> pd.DataFrame | None:
        """For Sobol and Morris designs, the sampler's rows in design order (index
        ``point_id``, columns the problem's names); None for other designs."""
        problem = self.problem
        if problem is None:
            return None
        rows = [p.sample for p in self.spec.points]
        ids = [p.point_id for p in self.spec.points]
        return pd.DataFrame(rows, columns=problem["names"], index=pd.Index(ids, name="point_id"))
