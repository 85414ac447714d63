"""The experiment report: one self-contained HTML file plus PNG figures and CSV tables.

:func:`build_report` takes a :class:`~sim.experiments.results.Results` and writes, into ``out_dir``:

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.analysis import plots
from sim.analysis import tables as analysis
from sim.experiments.results import Results

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


@dataclass
class _Section:
    title: str
    html: str = ""


@dataclass
class _Report:
    out: Path
    figures: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # name, title, b64, caption
    notes: list[str] = field(default_factory=list)  # warnings shown near the top
    tables: list[tuple[str, str, pd.DataFrame | None, str, int]] = field(default_factory=list)

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
) -> pd.DataFrame:
    """One row per ``row`` value, one column per outcome (labelled with its unit)."""
    if frame.empty:
        return frame
    cells = frame.assign(_cell=frame.apply(cell, axis=1))
    wide = cells.pivot(index=row, columns="outcome", values="_cell")
    wide = wide.reindex(index=list(order or dict.fromkeys(frame[row])), columns=outcomes)
    wide.columns = [plots.label(o, mean=True) for o in outcomes]
    wide.index = [plots.arm_text(a) if row in ("arm",) else plots.label(a) for a in wide.index]
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


def _reported_wide(dist: pd.DataFrame, outcomes: list[str], arms: list[str]) -> pd.DataFrame | None:
    """Rows: arms; cells: share of runs inside the reported range and the median run."""
    with_range = [o for o in outcomes if analysis.reported_range(o) is not None]
    if not with_range or dist.empty:
        return None

    def cell(row: pd.Series) -> str:
        return f"{100 * row['share_in_reported']:.0f}% inside (median {plots.fmt(row['q50'])})"

    wide = _wide(dist[dist["outcome"].isin(with_range)], "arm", with_range, cell, arms)
    wide.columns = [wide.columns[0]] + [
        f"{plots.short(o)}: reported {plots.fmt(r['low'])}-{plots.fmt(r['high'])}"
        for o in with_range
        for r in [analysis.reported_range(o)]
    ]
    return wide


def _dl(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in items)
    return f"<table class='kv'>{rows}</table>"


def _varied_values(results: Results, name: str) -> str:
    col = results.runs[name] if name in results.runs else pd.Series(dtype=float)
    vals = col.dropna().unique()
    if len(vals) == 0:
        spec = (
            (results.experiment.get("levers") or {})
            if isinstance(results.experiment.get("levers"), dict)
            else {}
        )
        return str(spec.get(name, "not yet run"))
    if len(vals) <= 8:
        return ", ".join(plots.value_text(name, v) for v in sorted(vals))
    return (
        f"{len(vals)} values from {plots.value_text(name, min(vals))} "
        f"to {plots.value_text(name, max(vals))}"
    )


# ----------------------------------------------------------------------------- sections
def _unrun_lever_values(results: Results) -> dict[str, list[Any]]:
    """Planned lever values (``experiment['levers']`` lists) that no finished run has."""
    spec = results.experiment.get("levers")
    if not isinstance(spec, dict) or results.runs.empty:
        return {}
    out = {}
    for lever, planned in spec.items():
        if not isinstance(planned, list | tuple) or lever not in results.runs:
            continue
        have = results.runs[lever].dropna().unique().tolist()
        absent = [v for v in planned if not any(_same(v, h) for h in have)]
        if absent:
            out[lever] = absent
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a))))
    except (TypeError, ValueError):
        return str(a) == str(b)


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
        names = ", ".join(plots.arm_text(a) for a in info["missing_arms"][:10])
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


def _design_section(results: Results) -> str:
    exp = results.experiment
    design = dict(exp.get("design") or {})
    kind = design.pop("type", "?")
    items: list[tuple[str, Any]] = [("Design", kind)]
    if design:
        items.append(("Design options", ", ".join(f"{k}={v}" for k, v in design.items())))
    items.append(("Base scenario", exp.get("scenario", "?")))
    for lever in results.levers:
        items.append((f"Lever: {plots.label(lever)}", _varied_values(results, lever)))
    for unc in results.uncertainties:
        items.append((f"Uncertainty: {plots.label(unc)}", _varied_values(results, unc)))
    if not results.levers:
        items.append(("Levers", "none varied (one arm: 'base')"))
    items += [
        ("Replicates per design point", exp.get("replicates", "?")),
        ("Master seed", exp.get("master_seed", "?")),
        ("Planned runs", results.expected_runs),
        ("Outcomes recorded", ", ".join(plots.label(o) for o in results.outcomes)),
    ]
    constants = exp.get("constants")
    if constants:
        items.append(("Held constant", ", ".join(f"{k}={v}" for k, v in constants.items())))
    return _dl(items)


def _provenance(results: Results, info: dict[str, Any], n_boot: int, seed: int) -> str:
    prov = dict(results.provenance or {})
    versions = prov.pop("package_versions", None) or {}
    items: list[tuple[str, Any]] = [
        ("Config hash", prov.pop("config_hash", "unknown")),
        ("Master seed", prov.pop("master_seed", results.experiment.get("master_seed", "?"))),
        (
            "Git commit",
            f"{prov.pop('git_commit', 'unknown')}"
            f"{' (uncommitted changes)' if prov.pop('git_dirty', False) else ''}",
        ),
        (
            "Runs",
            f"{info['completed']} finished, {info['failed']} failed, "
            f"{info['pending']} pending, {info['expected']} planned",
        ),
    ]
    items += [(k.replace("_", " ").capitalize(), v) for k, v in prov.items() if v is not None]
    items.append(
        ("Package versions", ", ".join(f"{k} {v}" for k, v in versions.items()) or "not recorded")
    )
    items.append(
        (
            "Report",
            f"prisonsim {__version__}, generated "
            f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; "
            f"bootstrap {n_boot} resamples, seed {seed}",
        )
    )
    return _dl(items)


def _failures(results: Results) -> str:
    fails = results.failures
    if fails.empty:
        return "<p>No run failed.</p>"
    grouped = (
        fails.assign(error=fails["error"].astype(str).str.slice(0, 200))
        .groupby("error", sort=False)
        .agg(
            runs=("arm", "size"),
            arms=(
                "arm",
                lambda s: ", ".join(plots.arm_text(a) for a in list(dict.fromkeys(s))[:5]),
            ),
        )
        .reset_index()
        .sort_values("runs", ascending=False)
    )
    return _html_table(grouped[["runs", "error", "arms"]])


# ----------------------------------------------------------------------------- figures
def _draw(results: Results, rep: _Report, info: dict[str, Any], n_boot: int, seed: int) -> None:
    outcomes = [o for o in results.outcomes if o in results.runs.columns]
    runs = results.runs
    arms = [a for a in analysis.arm_order(results) if a in set(runs["arm"])]
    kind = (results.experiment.get("design") or {}).get("type", "")
    levers = [lv for lv in results.levers if lv in runs and runs[lv].nunique() > 1]
    boot = {"n_boot": n_boot, "seed": seed}

    summary = analysis.summarise(results, **boot)
    rep.table(
        "summary_by_arm",
        "Summary by arm",
        summary,
        "Mean over finished runs per arm with a 95% percentile-bootstrap interval "
        "over replicates (and uncertainty points).",
        _wide(summary, "arm", outcomes, order=arms) if len(arms) <= MAX_WIDE_ROWS else None,
    )
    if len(arms) > MAX_TABLE_ROWS // max(len(outcomes), 1):
        pooled = analysis.summarise(results, by=(), **boot)
        rep.table(
            "summary_all_runs",
            "Summary over all runs",
            pooled,
            "Pooled over every arm; per-arm rows are in summary_by_arm.csv.",
            pd.DataFrame(
                {
                    "outcome": [plots.label(o, mean=True) for o in pooled["outcome"]],
                    "runs": pooled["n"],
                    "mean (95% interval)": pooled.apply(_interval, axis=1),
                    "median": pooled["median"].map(plots.fmt),
                }
            ),
        )

    for lever in levers[:MAX_RESPONSE_LEVERS]:
        table = analysis.response(results, lever, outcomes, **boot)
        rep.table(f"response_{lever}", f"Response to {plots.short(lever).lower()}", table)
        others = [lv for lv in levers if lv != lever]
        pooled = (
            f" Averaged over {', '.join(plots.short(o).lower() for o in others)}." if others else ""
        )
        rep.figure(
            f"response_{lever}",
            f"Response to {plots.label(lever)}",
            lambda t=table, lv=lever: plots.response_curves(t, lv, outcomes),
            f"Line: mean outcome; band: 95% percentile-bootstrap interval over replicates.{pooled}",
        )

    reference = analysis.reference_arm(results)
    if 2 <= len(arms) <= MAX_PAIRED_ARMS and reference is not None:
        diff = analysis.paired_differences(results, reference, outcomes, **boot)
        if (diff["n"] > 0).any():
            rep.table(
                "paired_differences",
                "Paired differences vs the reference arm",
                diff,
                f"Reference: {plots.arm_text(reference)}. Runs paired on seed (common "
                "random numbers); cell: mean of (arm - reference) with its 95% interval. "
                "The CSV adds share_lower, the share of pairs where the arm is lower.",
                _wide(diff, "arm", outcomes, order=[a for a in arms if a != reference])
                if len(arms) <= MAX_WIDE_ROWS
                else None,
            )
            rep.figure(
                "paired_differences",
                "Paired differences vs the reference arm",
                lambda: plots.paired_differences(diff, outcomes),
                "Mean of (arm - reference) over runs sharing a seed, with a 95% "
                "bootstrap interval; an interval that crosses the dashed line does "
                "not separate the arm from the reference.",
            )
        else:
            rep.notes.append("No paired differences: no two arms share a seed.")

    if len(levers) >= 2:
        x, y = levers[0], levers[1]
        table = analysis.grid(results, x, y, outcomes, **boot)
        rep.table("grid", f"Grid of {plots.short(x).lower()} by {plots.short(y).lower()}", table)
        rest = levers[2:]
        rep.figure(
            "heatmap",
            "Two-lever grid",
            lambda: plots.heatmaps(table, x, y, outcomes),
            "Cell: mean outcome; grey: no finished run."
            + (
                f" Averaged over {', '.join(plots.short(r).lower() for r in rest)}." if rest else ""
            ),
        )

    if kind in ("sobol", "morris"):
        try:
            if kind == "sobol":
                table = analysis.sobol_indices(results, outcomes, seed=seed)
                draw = lambda: plots.sobol_bars(table, outcomes)  # noqa: E731
                cap = (
                    "S1: share of variance from the parameter alone; ST: including its "
                    "interactions. Replicates averaged per design point first. "
                    "Indices lie between 0 and 1 when resolved; values outside that, or "
                    "intervals wider than the bars, mean too few samples for that outcome "
                    "or run-to-run noise dominating it."
                )
                unresolved = analysis.unresolved_sobol_outcomes(table)
                if unresolved:
                    rep.notes.append(
                        "Sobol indices are unresolved (a total index above 1) for "
                        f"{', '.join(plots.short(o) for o in unresolved)}: raise the design's "
                        "samples or the replicates before reading them."
                    )
            else:
                table = analysis.morris_indices(results, outcomes, seed=seed)
                draw = lambda: plots.morris_bars(table, outcomes)  # noqa: E731
                cap = (
                    "μ*: mean absolute elementary effect (importance); σ: their spread "
                    "(interactions or non-linearity)."
                )
            note = next((n for n in table["note"] if n), "")
            rep.table(
                f"{kind}_indices",
                f"{kind.capitalize()} sensitivity indices",
                table,
                note,
                _sensitivity_wide(table, kind, outcomes),
            )
            rep.figure(
                f"{kind}_indices", f"{kind.capitalize()} sensitivity", draw, f"{cap} {note}".strip()
            )
        except analysis.SensitivityError as exc:
            rep.notes.append(f"No {kind} indices: {exc}.")

    dist = analysis.distributions(results, outcomes)
    compare = analysis.compares_with_reported(results)
    if compare:
        rep.table(
            "distributions",
            "Outcome distributions per arm",
            dist,
            "Share of runs inside the reported low-high range, with the median run. The CSV "
            "has run-level quantiles of every outcome.",
            _reported_wide(dist, outcomes, arms) if len(arms) <= MAX_WIDE_ROWS else None,
        )
        rep.figure(
            "distributions",
            "Outcome distributions vs reported ranges",
            lambda: plots.distributions(runs, outcomes, arms),
            "Reported ranges are spreads across public claims, not measurements; "
            "a simulated outcome outside them is a calibration question.",
        )
    else:
        scenario = results.experiment.get("scenario", "the base scenario")
        rep.notes.append(
            f"Reported ranges are not drawn: the base scenario ({scenario}) is not at the "
            "scale of the reported event. Outcomes are compared between arms only."
        )
        rep.table(
            "distributions",
            "Outcome distributions per arm",
            dist,
            "Run-level quantiles of every outcome per arm (in the CSV).",
            None,
        )
        rep.figure(
            "distributions",
            "Outcome distributions",
            lambda: plots.distributions(runs, outcomes, arms, show_reported=False),
            "Box = 25-75% of runs, whiskers = 5-95%, dot = mean.",
        )

    if results.series is not None and not results.series.empty:
        present = list(dict.fromkeys(results.series["variable"]))
        variables = [v for v in FAN_VARIABLES if v in present] or present[:4]
        fan_arms = (
            arms
            if len(arms) <= plots.MAX_FAN_ARMS
            else [
                arms[round(i)]
                for i in pd.Series(range(plots.MAX_FAN_ARMS))
                * (len(arms) - 1)
                / (plots.MAX_FAN_ARMS - 1)
            ]
        )
        bands = analysis.series_bands(results, variables)
        rep.table("series_bands", "Time-series quantile bands", bands)
        shown = (
            ""
            if fan_arms == arms
            else (f" {len(fan_arms)} of {len(arms)} arms shown (first, last and evenly between).")
        )
        rep.figure(
            "fan_charts",
            "Time series per arm",
            lambda: plots.fan_charts(bands, variables, fan_arms),
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
.scope{font-size:.85em;color:#555;border-top:1px solid #ddd;margin-top:2em;padding-top:.5em}
"""


def _html(
    results: Results, rep: _Report, info: dict[str, Any], head: str, n_boot: int, seed: int
) -> str:
    exp = results.experiment
    name = exp.get("name", "experiment")
    partial = "partial" if info["completed"] + info["failed"] < info["expected"] else ""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>prisonsim report: {_esc(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Experiment report: {_esc(name)}</h1>",
        f"<p class='question'><b>Question.</b> {_esc(exp.get('question') or 'not stated')}</p>",
        f"<p class='status {partial}'>{_esc(head)}</p>",
    ]
    if rep.notes:
        parts.append(
            "<ul>" + "".join(f"<li class='warn'>{_esc(n)}</li>" for n in rep.notes) + "</ul>"
        )
    parts += ["<h2>Design</h2>", _design_section(results), "<h2>Figures</h2>"]
    if not rep.figures:
        parts.append("<p>No figures: the store has no finished run yet.</p>")
    for fname, title, b64, caption in rep.figures:
        parts.append(
            f"<figure id='{_esc(fname)}'><h3>{_esc(title)}</h3>"
            f"<img alt='{_esc(title)}' src='data:image/png;base64,{b64}'>"
            f"<figcaption>{_esc(caption)} <span class='small'>({_esc(fname)}.png)</span>"
            "</figcaption></figure>"
        )
    parts.append("<h2>Tables</h2>")
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
    parts += [
        "<h2>Failures</h2>",
        _failures(results),
        "<h2>Provenance</h2>",
        _provenance(results, info, n_boot, seed),
        "<p class='scope'>prisonsim is an abstract, non-operational model of a schematic "
        "facility; its outputs are aggregate counts and durations for comparing policy "
        "levers, not predictions of any real event.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


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
        _draw(results, rep, info, n_boot, seed)
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
    """Load a results store (``sim.experiments.store.load_results``) and build its report.

    Raises :class:`sim.config.loading.ConfigError` if ``db_path`` is not a readable file,
    :class:`sim.experiments.store.StoreError` if it is not an intact results store, and
    :class:`sim.experiments.outputs.OutputError` if ``out_dir`` may not be written.
    """
    from sim.config.loading import ConfigError, Problem

    db = Path(db_path)
    if not db.is_file():
        what = "is a directory, not a results store" if db.is_dir() else "no such results store"
        raise ConfigError([Problem(str(db), None, "", what)])
    from sim.experiments.store import load_results  # lazy: the store module is optional here

    out = Path(out_dir) if out_dir is not None else default_out_dir(db)
    check_report_dir(out)
    results = load_results(db)
    return build_report(results, out)
