"""The validation page of a calibration: one self-contained HTML file with its figures.

Built from plain tables (the posterior, its summaries, the validation runs), never from a
live model or a store. It answers, in this order: what was fitted and how; does the
calibrated scenario look like what was reported (the share of runs inside each reported
range, the tallies against the reported points); what the posterior is (with each prior's
reason); what it predicts that was not fitted; and where the results came from.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.plots import fmt, short
from sim.calibration.config import CalibrationSpec
from sim.calibration.targets import Targets, tally_name
from sim.config.reported import source_text
from sim.model.outcomes import OUTCOMES

PREDICTIONS = ("hours_to_control", "minors_exposed", "guards_captured_peak", "peak_share_held")
"""Outcomes not fitted, reported as predictions of the calibrated scenario."""

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:.6em 0 1.2em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right;font-size:.9em}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:.9em}.ok{color:#1b7f3b}.miss{color:#b3261e}
"""


@dataclass(frozen=True)
class Validation:
    """What the page shows of the validation runs."""

    label: str  # e.g. "calibrated scenario, 200 fresh seeds"
    stats: pd.DataFrame  # one row per run: every target statistic and outcome


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="")


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<p><img alt="{_esc(alt)}" src="data:image/png;base64,{data}"></p>'


def _range_rows(targets: Targets, runs: Sequence[Validation]) -> pd.DataFrame:
    rows = []
    for outcome, r in targets.ranges:
        row = {
            "outcome": short(outcome),
            "reported low - central - high": f"{fmt(r.low)} - {fmt(r.central or np.nan)} - "
            f"{fmt(r.high)}",
            "sources": ", ".join(r.sources),
        }
        for v in runs:
            x = v.stats[outcome].to_numpy(dtype=float)
            q = np.quantile(x, [0.05, 0.5, 0.95])
            inside = np.mean((x >= r.low) & (x <= r.high))
            row[f"{v.label}: median [5-95 %]"] = f"{fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}]"
            row[f"{v.label}: share inside"] = f"{inside:.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


def _tally_rows(targets: Targets, runs: Sequence[Validation]) -> pd.DataFrame:
    rows, tol = [], targets.tolerance
    for outcome, t in targets.tallies:
        for date, hours, z in zip(t.dates, t.hours, t.values, strict=True):
            row = {
                "tally": short(outcome),
                "date (hours after start)": f"{date} ({hours:g} h)",
                "reported": fmt(z),
                f"fits within x{tol:g}": f"{fmt(z / tol)}-{fmt(z * tol)}",
            }
            for v in runs:
                med = float(np.median(v.stats[tally_name(outcome, hours)]))
                ok = z / tol <= med <= z * tol
                row[f"{v.label}: median"] = f"{fmt(med)} ({'within' if ok else 'outside'})"
            rows.append(row)
    return pd.DataFrame(rows)


def _posterior_rows(
    spec: CalibrationSpec, summary: pd.DataFrame, central: Mapping[str, Any]
) -> pd.DataFrame:
    s = summary.set_index("parameter")
    rows = []
    for p in spec.priors:
        rows.append(
            {
                "parameter": p.name,
                "prior": f"{fmt(p.low)} to {fmt(p.high)}" + (" (log)" if p.scale == "log" else ""),
                "posterior median [5-95 %]": f"{fmt(s.loc[p.name, 'median'])} "
                f"[{fmt(s.loc[p.name, 'q5'])}-{fmt(s.loc[p.name, 'q95'])}]",
                "in the calibrated scenario": fmt(float(central[p.name])),
                "reason for the prior": p.reason,
            }
        )
    return pd.DataFrame(rows)


def _strong_correlations(corr: pd.DataFrame, threshold: float = 0.3) -> pd.DataFrame:
    names = list(corr.index)
    rows = [
        {"parameters": f"{a} - {b}", "weighted correlation": f"{corr.loc[a, b]:+.2f}"}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if np.isfinite(corr.loc[a, b]) and abs(corr.loc[a, b]) >= threshold
    ]
    rows.sort(key=lambda r: -abs(float(r["weighted correlation"])))
    return pd.DataFrame(rows or [{"parameters": "none above 0.3", "weighted correlation": ""}])


def _prediction_rows(runs: Sequence[Validation]) -> pd.DataFrame:
    rows = []
    for name in PREDICTIONS:
        row = {
            "outcome": short(name),
            "unit": OUTCOMES[name].unit,
            "definition": OUTCOMES[name].description,
        }
        for v in runs:
            q = np.quantile(v.stats[name].to_numpy(dtype=float), [0.05, 0.5, 0.95])
            row[f"{v.label}: median [5-95 %]"] = f"{fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}]"
        rows.append(row)
    return pd.DataFrame(rows)


def build_page(
    spec: CalibrationSpec,
    targets: Targets,
    method: Mapping[str, Any],
    summary: pd.DataFrame,
    corr: pd.DataFrame,
    central: Mapping[str, Any],
    runs: Sequence[Validation],
    figures: Sequence[tuple[str, bytes]],
    provenance: Mapping[str, Any],
) -> str:
    """The page's HTML text (figures embedded, so the file opens anywhere offline)."""
    sources = sorted(
        {k for _, r in targets.ranges for k in r.sources}
        | {k for _, t in targets.tallies for k in t.sources}
    )
    parts = [
        f"<h1>Calibration: {_esc(spec.name)}</h1>",
        f"<p>{_esc(spec.question)}</p>" if spec.question else "",
        "<h2>What was fitted, and how</h2>",
        f"<p>Scenario <b>{_esc(spec.scenario.name)}</b>; {len(spec.priors)} uncertain "
        "parameters with uniform priors; targets: the reported ranges below (a run fits a "
        "range anywhere inside it) and the tallies within a factor of "
        f"{targets.tolerance:g}. Method: ABC-SMC (pyabc), {method['generations']} "
        f"generations of {spec.method.population} particles, {method['runs']:,} model runs, "
        f"final threshold {method['epsilon']:.3g} (0 means every particle is inside every "
        f"range and tolerance); the final weights' effective sample size is "
        f"{method['ess']:.0f} of {spec.method.population} (intervals below rest on it).</p>",
        "<h2>Does the calibrated scenario look like what was reported?</h2>",
        _table(_range_rows(targets, runs)),
        _table(_tally_rows(targets, runs)),
        *(_img(png, alt) for alt, png in figures),
        "<h2>Posterior</h2>",
        _table(_posterior_rows(spec, summary, central)),
        "<h3>Correlated parameters</h3>",
        _table(_strong_correlations(corr)),
        "<h2>Predictions (not fitted)</h2>",
        '<p class="note">Outcomes the calibration did not use, as the calibrated scenario '
        "predicts them; nothing was tuned to them.</p>",
        _table(_prediction_rows(runs)),
        "<h2>Sources</h2><ul>",
        *(f"<li><b>{_esc(k)}</b>: {_esc(source_text(k))}</li>" for k in sources),
        "</ul><h2>Provenance</h2>",
        _table(pd.DataFrame([{"item": k, "value": str(v)} for k, v in provenance.items()])),
    ]
    body = "\n".join(p for p in parts if p)
    title = f"Calibration: {_esc(spec.name)}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
