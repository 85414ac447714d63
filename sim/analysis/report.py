"""The experiment report: one self-contained HTML file plus PNG figures and CSV tables.

:func:`build_report` takes a :class:`~sim.experiments.contract.Results` and writes, into
``out_dir``:

* ``report.html``: the experiment's question, its design, how complete the store is,
  the figures (embedded as base64 PNG, so the file opens anywhere offline), summary
  tables and a provenance block;
* one ``.png`` per figure and one ``.csv`` per table (full precision).

Which figures appear follows the shape of the experiment: one or more varied levers give
response curves and paired differences against the reference arm; two levers a heatmap;
``sobol``/``morris`` designs sensitivity bars; every report has outcome distributions
against the reported ranges, and fan charts when the store holds time series. A partly
finished store, failures, arms without runs and single replicates are stated in the report
rather than hidden or drawn as misleading bands.

:func:`write_report` is the same from a store file (``sim.experiments.store.load_results``).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.analysis import plots
from sim.analysis import tables as analysis
from sim.analysis.findings import (
    Findings,
    constant_outcomes,
    findings,
    identical_groups,
    sensitivity_findings,
)
from sim.experiments.contract import SENSITIVITY_DESIGNS, Factor, Results, Session
from sim.experiments.store import load_results
from sim.model.outcomes import OUTCOMES

log = logging.getLogger(__name__)

FAN_VARIABLES = [
    "share_held",
    "inmates_rioting",
    "inmates_fleeing",
    "inmates_escaped",
    "guards_captured",
    "external_holding",
]
MAX_TABLE_ROWS = 60  # longer tables: HTML shows the first rows, the CSV has them all
MAX_PAIRED_ARMS = 200
MAX_WIDE_ROWS = 40  # more arms than this: per-arm tables are only in the CSVs
MAX_RESPONSE_LEVERS = 3
HEADLINE = ("left_custody", "deaths_authority", "deaths_insurgent", "hours_to_control")
"""Outcomes of the first page's figure, when recorded (else the first four)."""


@dataclass
class _Report:
    out: Path
    figures: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # name, title, b64, caption
    notes: list[str] = field(default_factory=list)  # warnings shown near the top
    tables: list[tuple[str, str, pd.DataFrame | None, str, int]] = field(default_factory=list)
    paired: tuple[pd.DataFrame, str] | None = None  # paired differences and their reference
    sensitivity: tuple[str, pd.DataFrame] | None = None  # design kind, its indices

    def figure(self, name: str, title: str, draw: Callable[[], Any], caption: str = "") -> None:
        """Draw, save ``name.png`` and keep it for the HTML; a failure becomes a note."""
        try:
            made = draw()
        except Exception as exc:  # a broken figure must not cost the whole report
            log.warning("figure %s failed:\n%s", name, traceback.format_exc())
            self.notes.append(f"Figure '{title}' could not be drawn: {type(exc).__name__}: {exc}")
            return
        fig, extra = made if isinstance(made, tuple) else (made, [])
        png = plots.png_bytes(fig)
        (self.out / f"{name}.png").write_bytes(png)
        caption = " ".join([caption, *extra]).strip()
        self.figures.append((name, title, base64.b64encode(png).decode("ascii"), caption))

    def table(
        self,
        name: str,
        title: str,
        frame: pd.DataFrame,
        caption: str = "",
        shown: pd.DataFrame | None = None,
    ) -> None:
        """Write ``name.csv`` (full, long form); ``shown`` is the reader's version for the
        HTML (None: the table is only listed as a CSV)."""
        frame.to_csv(self.out / f"{name}.csv", index=False)
        self.tables.append((name, title, shown, caption, len(frame)))


# ----------------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for HTML with compact numbers (labels are made readable by the builders)."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(plots.fmt)
    return shown.fillna("")


def _html_table(frame: pd.DataFrame) -> str:
    body = _display(frame.head(MAX_TABLE_ROWS)).to_html(
        index=False, escape=True, border=0, classes="data"
    )
    if len(frame) > MAX_TABLE_ROWS:
        body += f"<p class='small'>First {MAX_TABLE_ROWS} of {len(frame)} rows shown.</p>"
    return body


def _interval(row: pd.Series) -> str:
    """``mean (low to high)``, or the row's note when it has no interval."""
    if row["n"] == 0 or pd.isna(row["mean"]):
        return row.get("note") or "no runs"
    if pd.isna(row["ci_low"]):
        return f"{plots.fmt(row['mean'])} ({row['note'] or 'no interval'})"
    return f"{plots.fmt(row['mean'])} ({plots.fmt(row['ci_low'])} to {plots.fmt(row['ci_high'])})"


def _wide(
    frame: pd.DataFrame,
    row: str,
    outcomes: list[str],
    cell: Callable[[pd.Series], str] = _interval,
    order: list[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per ``row`` value, one column per outcome (labelled with its unit); an arm
    row is shown by its name in ``names``."""
    if frame.empty:
        return frame
    cells = frame.assign(_cell=frame.apply(cell, axis=1))
    wide = cells.pivot(index=row, columns="outcome", values="_cell")
    wide = wide.reindex(index=list(order or dict.fromkeys(frame[row])), columns=outcomes)
    wide.columns = [plots.label(o, mean=True) for o in outcomes]
    wide.index = [(names or {}).get(a, a) if row == "arm" else plots.label(a) for a in wide.index]
    return wide.rename_axis(row.replace("_", " ")).reset_index().fillna("")


def _sensitivity_wide(table: pd.DataFrame, kind: str, outcomes: list[str]) -> pd.DataFrame:
    """Rows: parameters; cells: ``S1 a +- c; ST b +- d`` or ``mu* a +- c; sigma s``."""
    pm = "\u00b1"

    def cell(rows: pd.DataFrame) -> str:
        if kind == "sobol":
            got = rows.set_index("index")
            return "; ".join(
                f"{i} {plots.fmt(got.loc[i, 'value'])} {pm} {plots.fmt(got.loc[i, 'conf'])}"
                for i in ("S1", "ST")
                if i in got.index
            )
        r = rows.iloc[0]
        return (
            f"\u03bc* {plots.fmt(r['mu_star'])} {pm} {plots.fmt(r['mu_star_conf'])}; "
            f"\u03c3 {plots.fmt(r['sigma'])}"
        )

    cells = table.groupby(["parameter", "outcome"], sort=False).apply(cell, include_groups=False)
    wide = cells.unstack("outcome").reindex(
        index=list(dict.fromkeys(table["parameter"])), columns=outcomes
    )
    wide.columns = [plots.short(o) for o in outcomes]
    wide.index = [plots.label(p) for p in wide.index]
    return wide.rename_axis("parameter").reset_index().fillna("")


def _reported_wide(
    dist: pd.DataFrame, outcomes: list[str], arms: list[str], names: Mapping[str, str]
) -> pd.DataFrame | None:
    """Rows: arms; cells: share of runs inside the reported range and the median run."""
    with_range = [o for o in outcomes if analysis.reported_range(o) is not None]
    if not with_range or dist.empty:
        return None

    def cell(row: pd.Series) -> str:
        return f"{100 * row['share_in_reported']:.0f}% inside (median {plots.fmt(row['q50'])})"

    wide = _wide(dist[dist["outcome"].isin(with_range)], "arm", with_range, cell, arms, names)
    wide.columns = [wide.columns[0]] + [
        f"{plots.short(o)}: reported {plots.fmt(r['low'])}-{plots.fmt(r['high'])}"
        for o in with_range
        for r in [analysis.reported_range(o)]
    ]
    return wide


def _dl(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in items)
    return f"<table class='kv'>{rows}</table>"


def _planned_values(factor: Factor) -> str:
    """A factor as the experiment file planned it: its values, or its distribution."""
    name = factor.name
    if factor.discrete:
        return ", ".join(plots.value_text(name, v) for v in factor.values)
    span = f"{plots.value_text(name, factor.low)} to {plots.value_text(name, factor.high)}"
    return f"{factor.distribution} over {span}"


def _varied_values(results: Results, name: str) -> str:
    """The values a factor took in the finished runs (its plan when none has finished)."""
    vals = results.runs[name].dropna().unique()
    if len(vals) == 0:
        factors = {f.name: f for f in (*results.spec.levers, *results.spec.uncertainties)}
        return f"planned: {_planned_values(factors[name])}" if name in factors else "not yet run"
    if len(vals) <= 8:
        return ", ".join(plots.value_text(name, v) for v in sorted(vals))
    return (
        f"{len(vals)} values from {plots.value_text(name, min(vals))} "
        f"to {plots.value_text(name, max(vals))}"
    )


# ----------------------------------------------------------------------------- sections
def _unrun_lever_values(results: Results) -> dict[str, list[Any]]:
    """Planned values of the discrete levers that no finished run has."""
    if results.runs.empty:
        return {}
    out = {}
    for lever in results.spec.levers:
        if lever.discrete:
            have = set(results.runs[lever.name].dropna())
            absent = [v for v in lever.values if v not in have]
            if absent:
                out[lever.name] = absent
    return out


def _completeness(results: Results, info: dict[str, Any]) -> tuple[str, list[str]]:
    """Headline sentence on how finished the store is, and warnings for the reader."""
    done, failed, expected = info["completed"], info["failed"], info["expected"]
    warnings = []
    if done + failed >= expected:
        head = f"Complete: {done} of {expected} planned runs finished"
    else:
        head = (
            f"PARTIAL: {done} of {expected} planned runs finished "
            f"({100 * info['share_done']:.0f}%), {info['pending']} still pending. "
            "Figures and tables use the finished runs only"
        )
    if failed:
        head += f"; {failed} run(s) failed (listed below)"
        warnings.append(f"{failed} run(s) failed; their arms have fewer replicates than planned.")
    for lever, values in _unrun_lever_values(results).items():
        shown = ", ".join(plots.value_text(lever, v) for v in values)
        warnings.append(f"{plots.short(lever)}: planned value(s) with no finished run: {shown}.")
    if info["missing_arms"]:
        arm_names = _arm_names(results)
        names = ", ".join(arm_names[a] for a in info["missing_arms"][:10])
        more = (
            "" if len(info["missing_arms"]) <= 10 else f" and {len(info['missing_arms']) - 10} more"
        )
        warnings.append(f"Arms with no finished run (absent from figures): {names}{more}.")
    if done and info["min_replicates"] < 2:
        warnings.append(
            "Some arms have 1 replicate: no interval can be given for them "
            "(points drawn without bands, tables say '1 replicate: no interval')."
        )
    elif done and info["replicates"] and info["min_replicates"] < info["replicates"]:
        warnings.append(
            f"Fewest finished runs in an arm: {info['min_replicates']} "
            f"(planned {info['replicates']} per point)."
        )
    return head + ".", warnings


DESIGN_NAMES = {
    "full_factorial": "Full factorial: every combination of the lever values",
    "latin_hypercube": "Latin hypercube sample of the conditions, crossed with every arm",
    "sobol": "Sobol' variance-based sensitivity (Saltelli sample)",
    "morris": "Morris elementary effects (one-at-a-time trajectories)",
    "points": "Explicit design points",
}
OPTION_NAMES = {
    "samples": "Samples (conditions, base samples or trajectories)",
    "levels": "Grid levels per factor",
    "second_order": "Second-order indices",
}


def _option_text(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _design_section(results: Results) -> str:
    spec = results.spec
    options = spec.design.options()
    items: list[tuple[str, Any]] = [
        ("Design", DESIGN_NAMES.get(spec.design.type, spec.design.type))
    ]
    items += [(OPTION_NAMES.get(k, k), _option_text(v)) for k, v in options.items()]
    items.append(("Base scenario", spec.scenario))
    for lever in results.levers:
        items.append((f"Lever: {plots.label(lever)}", _varied_values(results, lever)))
    for unc in results.uncertainties:
        items.append((f"Uncertainty: {plots.label(unc)}", _varied_values(results, unc)))
    if not results.levers:
        items.append(("Levers", "none varied (one arm: 'base')"))
    if spec.reference_arm is not None and len(spec.arms) > 1:
        items.append(("Reference arm", _arm_names(results)[spec.reference_arm]))
    items += [
        ("Replicates per design point", spec.replicates),
        ("Master seed", spec.master_seed),
        ("Planned runs", results.expected_runs),
        ("Outcomes recorded", ", ".join(plots.label(o) for o in results.outcomes)),
    ]
    if spec.constants:
        held = ", ".join(
            f"{plots.short(k)} {plots.value_text(k, v)}" for k, v in spec.constants.items()
        )
        items.append(("Held constant", held))
    return _dl(items)


def _group_label(results: Results, group: list[str]) -> str:
    """One name for arms with identical results: ``Warning lead time 24 h, 48 h, 72 h
    (identical runs)``."""
    levers = [results.arms[a] for a in group]
    keys = list(levers[0])
    if len(keys) == 1:
        values = ", ".join(plots.value_text(keys[0], lv[keys[0]]) for lv in levers)
        return f"{plots.short(keys[0])} {values} (identical runs)"
    return " / ".join(plots.arm_text(lv) for lv in levers) + " (identical runs)"


def _arm_names(results: Results) -> dict[str, str]:
    """Each arm's readable name (from its lever values), by its label."""
    return {arm: plots.arm_text(levers) for arm, levers in results.arms.items()}


def _provenance(results: Results, info: dict[str, Any], n_boot: int, seed: int) -> str:
    """Key facts, the sessions that wrote the store and the package versions, as tables."""
    prov = results.provenance
    items: list[tuple[str, Any]] = [
        ("Config hash", prov.spec_hash),
        ("Master seed", results.spec.master_seed),
        ("Experiment file", prov.experiment_path or "not recorded"),
        ("Store created", prov.created_at),
        (
            "Runs",
            f"{info['completed']} finished, {info['failed']} failed, "
            f"{info['pending']} pending, {info['expected']} planned",
        ),
        (
            "Report",
            f"prisonsim {__version__}, generated "
            f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; "
            f"bootstrap {n_boot} resamples, seed {seed}",
        ),
    ]
    parts = [_dl(items)]
    if prov.sessions:
        sessions = pd.DataFrame([_session_row(s) for s in prov.sessions])
        parts += ["<h3>Sessions that wrote this store</h3>", _html_table(sessions)]
    last = prov.last_session
    versions = last.package_versions if last is not None else {}
    if versions:
        table = pd.DataFrame({"package": list(versions), "version": list(versions.values())})
        parts += ["<h3>Package versions (last session)</h3>", _html_table(table)]
    return "\n".join(parts)


def command_text(command_line: str | None) -> str:
    """A stored command line as a user would type it: ``.../sim/__main__.py sweep x`` or
    ``python -m sim sweep x`` become ``prisonsim sweep x``."""
    words = (command_line or "").split()
    if not words:
        return "not recorded"
    if words[0].endswith(("__main__.py", "prisonsim")):
        return " ".join(["prisonsim", *words[1:]])
    if words[:3][1:] == ["-m", "sim"]:
        return " ".join(["prisonsim", *words[3:]])
    return " ".join(words)


def _session_row(session: Session) -> dict[str, Any]:
    """One row of the sessions table."""
    commit = (session.git_commit or "no git")[:12]
    modified = {True: "modified", False: "clean", None: "unknown"}[session.git_dirty]
    workers = f"{session.workers or '?'} {session.executor or ''}".strip()
    return {
        "session": session.id,
        "command": command_text(session.command_line or session.command),
        "started": session.started_at or "?",
        "ended": session.finished_at or "-",
        "status": session.status,
        "workers": workers,
        "code version": f"{commit} ({modified})",
    }


def _failures(results: Results) -> str:
    fails = results.failures
    if fails.empty:
        return "<p>No run failed.</p>"
    names = _arm_names(results)
    grouped = (
        fails.assign(error=fails["error"].astype(str).str.slice(0, 200))
        .groupby("error", sort=False)
        .agg(
            runs=("arm", "size"),
            arms=("arm", lambda s: ", ".join(names[a] for a in list(dict.fromkeys(s))[:5])),
        )
        .reset_index()
        .sort_values("runs", ascending=False)
    )
    return _html_table(grouped[["runs", "error", "arms"]])


# ----------------------------------------------------------------------------- figures
@dataclass
class _Drawing:
    """What every section of the figures needs: the results, the report being written,
    the outcomes and arms with finished runs (design order), the arms' names, the
    levers that vary among the runs and the bootstrap settings."""

    results: Results
    rep: _Report
    n_boot: int
    seed: int
    outcomes: list[str] = field(init=False)
    arms: list[str] = field(init=False)
    names: dict[str, str] = field(init=False)
    levers: list[str] = field(init=False)

    def __post_init__(self) -> None:
        runs = self.results.runs
        constant = constant_outcomes(runs, self.results.outcomes)
        self.outcomes = [o for o in self.results.outcomes if o not in constant]
        self.outcomes = self.outcomes or list(self.results.outcomes)
        self.names = _arm_names(self.results)
        arms = [a for a in analysis.arm_order(self.results) if a in set(runs["arm"])]
        self.arms = []  # identical arms drawn once, under a combined name
        for group in identical_groups(runs, arms, self.results.outcomes):
            self.arms.append(group[0])
            if len(group) > 1:
                self.names[group[0]] = _group_label(self.results, group)
        self.levers = [lv for lv in self.results.levers if runs[lv].nunique() > 1]

    @property
    def boot(self) -> dict[str, int]:
        return {"n_boot": self.n_boot, "seed": self.seed}

    def wide(self, frame: pd.DataFrame, **kw: Any) -> pd.DataFrame | None:
        """:func:`_wide` by arm, if there are few enough arms to show one row each."""
        if len(self.arms) > MAX_WIDE_ROWS:
            return None
        return _wide(frame, "arm", self.outcomes, names=self.names, **kw)


def _draw(results: Results, rep: _Report, n_boot: int, seed: int) -> None:
    """Every table and figure that the experiment's shape calls for."""
    d = _Drawing(results, rep, n_boot, seed)
    _draw_summaries(d)
    _draw_responses(d)
    _draw_paired(d)
    _draw_grid(d)
    if results.spec.design.type in SENSITIVITY_DESIGNS:
        _draw_sensitivity(d)
    _draw_distributions(d)
    if not results.series.empty:
        _draw_series(d)


def _draw_summaries(d: _Drawing) -> None:
    summary = analysis.summarise(d.results, **d.boot)
    d.rep.table(
        "summary_by_arm",
        "Summary by arm",
        summary,
        "Mean over finished runs per arm (never pooled across arms) with a 95% "
        "percentile-bootstrap interval over replicates and sampled conditions.",
        d.wide(summary, order=d.arms),
    )


def _averaged_over(names: list[str]) -> str:
    return f" Averaged over {', '.join(plots.short(n).lower() for n in names)}." if names else ""


def _draw_responses(d: _Drawing) -> None:
    for lever in d.levers[:MAX_RESPONSE_LEVERS]:
        table = analysis.response(d.results, lever, d.outcomes, **d.boot)
        d.rep.table(f"response_{lever}", f"Response to {plots.short(lever).lower()}", table)
        others = [lv for lv in d.levers if lv != lever]
        d.rep.figure(
            f"response_{lever}",
            f"Response to {plots.label(lever)}",
            lambda t=table, lv=lever: plots.response_curves(t, lv, d.outcomes),
            "Line: mean outcome; band: 95% percentile-bootstrap interval over replicates."
            + _averaged_over(others),
        )


def _draw_paired(d: _Drawing) -> None:
    reference = analysis.reference_arm(d.results)
    if not 2 <= len(d.arms) <= MAX_PAIRED_ARMS or reference is None:
        return
    diff = analysis.paired_differences(d.results, reference, d.outcomes, **d.boot)
    d.rep.paired = (diff, reference)
    if not (diff["n"] > 0).any():
        d.rep.notes.append("No paired differences: no two arms share a seed.")
        return
    d.rep.table(
        "paired_differences",
        "Paired differences vs the reference arm",
        diff,
        f"Reference: {d.names[reference]}. Runs paired on seed (common "
        "random numbers); cell: mean of (arm - reference) with its 95% interval. "
        "The CSV adds share_lower, the share of pairs where the arm is lower.",
        d.wide(diff, order=[a for a in d.arms if a != reference]),
    )
    drawn = diff[diff["arm"].isin(d.arms)]
    headline = [o for o in HEADLINE if o in d.outcomes] or d.outcomes[:4]
    d.rep.figure(
        "key_differences",
        "Key outcomes: paired differences vs the reference arm",
        lambda: plots.paired_differences(drawn, headline, d.names),
        "Mean of (arm - reference) over runs sharing a seed, with a 95% bootstrap "
        "interval; every outcome is in the full figure below.",
    )
    d.rep.figure(
        "paired_differences",
        "Paired differences vs the reference arm",
        lambda: plots.paired_differences(drawn, d.outcomes, d.names),
        "Mean of (arm - reference) over runs sharing a seed, with a 95% "
        "bootstrap interval; an interval that crosses the dashed line does "
        "not separate the arm from the reference.",
    )


def _draw_grid(d: _Drawing) -> None:
    if len(d.levers) < 2:
        return
    x, y = d.levers[0], d.levers[1]
    table = analysis.grid(d.results, x, y, d.outcomes, **d.boot)
    d.rep.table("grid", f"Grid of {plots.short(x).lower()} by {plots.short(y).lower()}", table)
    d.rep.figure(
        "heatmap",
        "Two-lever grid",
        lambda: plots.heatmaps(table, x, y, d.outcomes),
        "Cell: mean outcome; grey: no finished run." + _averaged_over(d.levers[2:]),
    )


SOBOL_CAPTION = (
    "S1: share of variance from the parameter alone; ST: including its interactions. "
    "Replicates averaged per design point first. Indices lie between 0 and 1 when "
    "resolved; values outside that, or intervals wider than the bars, mean too few "
    "samples for that outcome or run-to-run noise dominating it."
)
MORRIS_CAPTION = (
    "μ*: mean absolute elementary effect (importance); σ: their spread "
    "(interactions or non-linearity)."
)


def _draw_sensitivity(d: _Drawing) -> None:
    kind = d.results.spec.design.type
    try:
        if kind == "sobol":
            table = analysis.sobol_indices(d.results, d.outcomes, seed=d.seed)
            draw, cap = (lambda: plots.sobol_bars(table, d.outcomes)), SOBOL_CAPTION
            unresolved = analysis.unresolved_sobol_outcomes(table)
            if unresolved:
                d.rep.notes.append(
                    "Sobol indices are unresolved (a total index above 1) for "
                    f"{', '.join(plots.short(o) for o in unresolved)}: raise the design's "
                    "samples or the replicates before reading them."
                )
        else:
            table = analysis.morris_indices(d.results, d.outcomes, seed=d.seed)
            draw, cap = (lambda: plots.morris_bars(table, d.outcomes)), MORRIS_CAPTION
    except analysis.SensitivityError as exc:
        d.rep.notes.append(f"No {kind} indices: {exc}.")
        return
    d.rep.sensitivity = (kind, table)
    note = next((n for n in table["note"] if n), "")
    title = f"{kind.capitalize()} sensitivity"
    shown = _sensitivity_wide(table, kind, d.outcomes)
    d.rep.table(f"{kind}_indices", f"{title} indices", table, note, shown)
    d.rep.figure(f"{kind}_indices", title, draw, f"{cap} {note}".strip())


def _draw_distributions(d: _Drawing) -> None:
    dist = analysis.distributions(d.results, d.outcomes)
    runs = d.results.runs
    if analysis.compares_with_reported(d.results):
        shown = _reported_wide(dist, d.outcomes, d.arms, d.names)
        d.rep.table(
            "distributions",
            "Outcome distributions per arm",
            dist,
            "Share of runs inside the reported low-high range, with the median run. The CSV "
            "has run-level quantiles of every outcome.",
            shown if len(d.arms) <= MAX_WIDE_ROWS else None,
        )
        d.rep.figure(
            "distributions",
            "Outcome distributions vs reported ranges",
            lambda: plots.distributions(runs, d.outcomes, d.arms, names=d.names),
            "Reported ranges are spreads across public claims, not measurements; "
            "a simulated outcome outside them is a calibration question.",
        )
        return
    d.rep.notes.append(
        f"Reported ranges are not drawn: the base scenario ({d.results.spec.scenario}) is not "
        "at the scale of the reported event. Outcomes are compared between arms only."
    )
    d.rep.table(
        "distributions",
        "Outcome distributions per arm",
        dist,
        "Run-level quantiles of every outcome per arm (in the CSV).",
        None,
    )
    d.rep.figure(
        "distributions",
        "Outcome distributions",
        lambda: plots.distributions(runs, d.outcomes, d.arms, show_reported=False, names=d.names),
        "Box = 25-75% of runs, whiskers = 5-95%, dot = mean.",
    )


def _draw_series(d: _Drawing) -> None:
    present = list(dict.fromkeys(d.results.series["variable"]))
    variables = [v for v in FAN_VARIABLES if v in present] or present[:4]
    arms, most = d.arms, plots.MAX_FAN_ARMS
    if len(arms) > most:  # first, last and evenly between
        arms = [arms[round(i * (len(arms) - 1) / (most - 1))] for i in range(most)]
    bands = analysis.series_bands(d.results, variables)
    d.rep.table("series_bands", "Time-series quantile bands", bands)
    shown = ""
    if arms != d.arms:
        shown = f" {len(arms)} of {len(d.arms)} arms shown (first, last and evenly between)."
    d.rep.figure(
        "fan_charts",
        "Time series per arm",
        lambda: plots.fan_charts(bands, variables, arms, d.names),
        "Quantiles across replicates at each time." + shown,
    )


# ----------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.8em}
.question{font-size:1.15em;background:#f4f6fa;border-left:4px solid #4a6fa5;padding:.6em 1em}
.status{padding:.6em 1em;border-radius:4px;background:#eaf5ea;border:1px solid #b9dcb9}
.status.partial{background:#fff6e0;border-color:#f0c36d}
.warn{color:#7a4b00}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#444;margin-top:.3em}
table.data{border-collapse:collapse;font-size:.82em;margin:.5em 0}
table.data th,table.data td{border-bottom:1px solid #e3e3e3;padding:.2em .6em;text-align:right}
table.data th{background:#f4f4f4}
table.data td:first-child,table.data th:first-child{text-align:left}
table.kv th{text-align:left;padding-right:1.2em;vertical-align:top;font-weight:600}
table.kv td,table.kv th{padding:.15em .4em;font-size:.92em}
.small{font-size:.85em;color:#555}
.findings{background:#fbfbf4;border:1px solid #e2e2c8;padding:.2em 1em .6em;margin:1em 0}
.findings h2{margin-top:.4em;border:0}.findings li{margin:.3em 0}
table.data td{white-space:nowrap}table.data td:nth-child(3){white-space:normal}
@page{size:A4;margin:12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.3}
h1{font-size:14pt;margin:0 0 .2em}.question,.status{padding:.3em .6em;margin:.3em 0}
.findings{padding:0 .6em .3em;margin:.4em 0}.findings h2{font-size:11pt;margin:.3em 0}
.findings li{margin:.1em 0}.findings p.small{margin:.2em 0;font-size:8pt}
.first-page{break-after:page}
figure.key{margin:.3em 0}figure.key h3{display:none}
figure.key img{max-height:120mm;max-width:100%;object-fit:contain}
figure.key figcaption{font-size:7.5pt}
figure{break-inside:avoid}
}
"""


SCOPE = (
    "prisonsim is an agent-based simulation of a combined external assault and internal "
    "uprising at a detention facility, at the scale of public reporting on the January 2022 "
    "attack on Ghwayran prison, Hasakah. It is deliberately abstract: a schematic grid, "
    "never a real site; agents are states and probabilities moving on distance fields, with "
    "no arms, tactics or routes modelled; the external force's behaviour is fixed and simple and "
    "nothing searches for a better attack; experiments vary defensive and policy levers and "
    "outside uncertainties. Its outputs are aggregate counts and durations for comparing "
    "policy levers under the same conditions. They are not forecasts of any real event, and "
    "differences between arms hold within the model's assumptions only."
)


def uncertainty_source(results: Results) -> str:
    """Where the experiment's uncertain conditions come from: a calibration's posterior
    (the spec's ``calibration`` file, when the spec has one) or assumed ranges."""
    calibration = getattr(results.spec, "calibration", None)
    if calibration:
        return f"Uncertainties drawn from the posterior of {calibration}."
    if not results.uncertainties:
        return "No uncertainty is sampled: conditions are the scenario's values."
    return (
        "Uncertainties are drawn from assumed ranges (the experiment file's, or each "
        "parameter's declared plausible range), not from a calibration."
    )


def _findings(
    results: Results,
    rep: _Report,
    diff: pd.DataFrame | None,
    reference: str | None,
    n_boot: int,
    seed: int,
) -> Findings:
    """The findings in words: arm comparisons, or for a one-arm sensitivity design the
    levers that move each outcome."""
    found = findings(results, diff, reference, n_boot=n_boot, seed=seed)
    if rep.sensitivity is None or len(results.arms) > 1:
        return found
    kind, table = rep.sensitivity
    return sensitivity_findings(found, kind, table, list(results.outcomes))


def _findings_html(found: Findings, results: Results) -> str:
    items = "".join(f"<li>{_esc(i)}</li>" for i in found.items)
    remarks = [*found.remarks, uncertainty_source(results)]
    return (
        f"<section class='findings'><h2>What the runs say</h2><p>{_esc(found.lead)}</p>"
        + (f"<ul>{items}</ul>" if items else "")
        + "".join(f"<p class='small'>{_esc(r)}</p>" for r in remarks)
        + "</section>"
    )


def _glossary(results: Results) -> str:
    """One row per outcome recorded: name, unit, definition, and its reported range."""
    rows = []
    for o in results.outcomes:
        reg = OUTCOMES.get(o)
        rng = analysis.reported_range(o) if results.spec.compare_with_reported else None
        if rng is None:
            reported = "none reported" if results.spec.compare_with_reported else "not compared"
        else:
            central = "" if rng["central"] is None else f", central {plots.fmt(rng['central'])}"
            reported = f"{plots.fmt(rng['low'])}-{plots.fmt(rng['high'])}{central}"
        rows.append(
            {
                "outcome": plots.short(o),
                "unit": plots.unit(o) or "-",
                "definition": reg.description if reg else "",
                "reported range": reported,
            }
        )
    return _html_table(pd.DataFrame(rows))


def _figure_html(fname: str, title: str, b64: str, caption: str, cls: str = "") -> str:
    return (
        f"<figure id='{_esc(fname)}' class='{cls}'><h3>{_esc(title)}</h3>"
        f"<img alt='{_esc(title)}' src='data:image/png;base64,{b64}'>"
        f"<figcaption>{_esc(caption)} <span class='small'>({_esc(fname)}.png)</span>"
        "</figcaption></figure>"
    )


KEY_FIGURES = (
    "key_differences",
    "paired_differences",
    "sobol_indices",
    "morris_indices",
    "distributions",
)


def _key_figure(rep: _Report) -> int | None:
    """Index of the figure shown on the first page: paired differences, else the
    sensitivity indices, else the distributions."""
    names = [f[0] for f in rep.figures]
    for want in KEY_FIGURES:
        if want in names:
            return names.index(want)
    return 0 if names else None


def _html(
    results: Results, rep: _Report, info: dict[str, Any], head: str, n_boot: int, seed: int
) -> str:
    name = results.spec.name
    partial = "partial" if info["completed"] + info["failed"] < info["expected"] else ""
    diff, reference = rep.paired or (None, analysis.reference_arm(results))
    key = _key_figure(rep)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>prisonsim report: {_esc(name)}</title><style>{CSS}</style></head><body>",
        "<div class='first-page'>",
        f"<h1>Experiment report: {_esc(name)}</h1>",
        f"<p class='question'><b>Question.</b> {_esc(results.spec.question or 'not stated')}</p>",
        f"<p class='status {partial}'>{_esc(head)}</p>",
        _findings_html(_findings(results, rep, diff, reference, n_boot, seed), results),
    ]
    if key is not None:
        parts.append(_figure_html(*rep.figures[key], cls="key"))
    parts.append("</div>")
    if rep.notes:
        parts.append(
            "<ul>" + "".join(f"<li class='warn'>{_esc(n)}</li>" for n in rep.notes) + "</ul>"
        )
    parts += [
        "<h2>What this model is and is not</h2>",
        f"<p>{_esc(SCOPE)}</p>",
        "<h2>Outcomes</h2>",
        _glossary(results),
        "<h2>Design</h2>",
        _design_section(results),
        "<h2>Figures</h2>",
    ]
    if not rep.figures:
        parts.append("<p>No figures: the store has no finished run yet.</p>")
    parts += [_figure_html(*f) for k, f in enumerate(rep.figures) if k != key]
    parts += _tables_html(rep)
    parts += [
        "<h2>Failures</h2>",
        _failures(results),
        "<h2>Provenance</h2>",
        _provenance(results, info, n_boot, seed),
        "</body></html>",
    ]
    return "\n".join(parts)


def _tables_html(rep: _Report) -> list[str]:
    parts = ["<h2>Tables</h2>"]
    listed = []
    for tname, title, shown, caption, nrows in rep.tables:
        if shown is None:
            listed.append(f"<li>{_esc(tname)}.csv: {_esc(title)} ({nrows} rows)</li>")
            continue
        parts.append(
            f"<h3>{_esc(title)}</h3><p class='small'>{_esc(caption)} "
            f"Full table: {_esc(tname)}.csv.</p>{_html_table(shown)}"
        )
    if listed:
        parts.append(
            "<h3>Other tables (CSV only)</h3><ul class='small'>" + "".join(listed) + "</ul>"
        )
    return parts


# ----------------------------------------------------------------------------- entry points
def build_report(
    results: Results,
    out_dir: str | Path,
    *,
    n_boot: int = analysis.DEFAULT_BOOT,
    seed: int = analysis.DEFAULT_SEED,
) -> Path:
    """Write ``report.html`` (self-contained), figure PNGs and table CSVs into ``out_dir``.

    Returns the path of ``report.html``. Works on a partly finished store: the report
    opens with how many planned runs finished, failed and are pending.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = _Report(out)
    info = analysis.completeness(results)
    head, warnings = _completeness(results, info)
    rep.notes.extend(warnings)
    if info["completed"]:
        _draw(results, rep, n_boot, seed)
    info["arms"].to_csv(out / "completeness_by_arm.csv", index=False)
    if not results.failures.empty:
        results.failures.to_csv(out / "failures.csv", index=False)
    path = out / "report.html"
    path.write_text(_html(results, rep, info, head, n_boot, seed), encoding="utf-8")
    return path


def default_out_dir(db_path: str | Path) -> Path:
    """``<db stem>_report/`` next to the store."""
    db = Path(db_path)
    return db.with_name(f"{db.stem}_report")


REPORT_MARKER = b"<title>prisonsim report: "
"""How an earlier report's report.html begins: a directory holding one may be rewritten."""


def check_report_dir(out_dir: str | Path, option: str = "--out") -> None:
    """Refuse ``out_dir`` unless it is new, empty or an earlier report's directory (see
    :mod:`sim.experiments.outputs`), before anything is computed or written."""
    from sim.experiments.outputs import check_output_dir, contains

    check_output_dir(
        Path(out_dir), option, "report.html", lambda main: contains(main, REPORT_MARKER)
    )


def write_report(db_path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Load a results store (:func:`sim.experiments.store.load_results`) and build its report.

    Raises :class:`sim.config.loading.ConfigError` if ``db_path`` is not a readable file,
    :class:`sim.experiments.store.StoreError` if it is not an intact results store, and
    :class:`sim.experiments.outputs.OutputError` if ``out_dir`` may not be written.
    """
    from sim.config.loading import ConfigError, Problem

    db = Path(db_path)
    if not db.is_file():
        what = "is a directory, not a results store" if db.is_dir() else "no such results store"
        raise ConfigError([Problem(str(db), None, "", what)])
    out = Path(out_dir) if out_dir is not None else default_out_dir(db)
    check_report_dir(out)
    results = load_results(db)
    return build_report(results, out)
