"""The in-memory form of a results store: what analysis and reports receive.

``sim.experiments.store`` builds a :class:`Results` from an SQLite file
(``load_results``); analysis, plots and reports take a :class:`Results` and never touch a
live model or the database directly. Tests build one from plain DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Results:
    """Tidy tables of one experiment.

    Attributes:
        experiment: the resolved experiment config (name, question, design, base scenario,
            constants, levers, uncertainties, replicates, master_seed, outcomes, ...).
        runs: one row per finished run. Columns: ``point_id`` (int), ``arm`` (str, a label
            of the lever values, e.g. ``"warning_lead_time_h=24"``; ``"base"`` when no lever
            varies), ``replicate`` (int), ``seed`` (int), then one column per varied lever
            and uncertainty (its value at that point), then one column per recorded outcome.
        series: long time-series table with columns ``point_id``, ``arm``, ``replicate``,
            ``t_h``, ``variable``, ``value``; empty when the experiment recorded none.
        failures: one row per failed run: ``point_id``, ``arm``, ``replicate``, ``seed``,
            ``error`` (one line), ``traceback``.
        provenance: config_hash, master_seed, package_versions (dict), git_commit,
            git_dirty, command_line, started_at, finished_at (ISO 8601), ...
        expected_runs: design points x replicates.
        levers, uncertainties, outcomes: names of the varied levers, the varied
            uncertainties and the recorded outcomes, in design order.
        design_samples: for ``sobol``/``morris`` designs, the sample matrix in design order
            (one row per point, columns = ``problem['names']``), needed by SALib's analysers;
            None for other designs.
        problem: the SALib problem dict (``names``, ``bounds``, ``num_vars``) for those designs.
    """

    experiment: dict[str, Any]
    runs: pd.DataFrame
    series: pd.DataFrame
    failures: pd.DataFrame
    provenance: dict[str, Any]
    expected_runs: int
    levers: list[str] = field(default_factory=list)
    uncertainties: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    design_samples: pd.DataFrame | None = None
    problem: dict[str, Any] | None = None

    @property
    def completed_runs(self) -> int:
        return len(self.runs)

    @property
    def complete(self) -> bool:
        return self.completed_runs + len(self.failures) >= self.expected_runs
