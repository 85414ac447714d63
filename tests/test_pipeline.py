"""End to end: experiment file -> ``prisonsim sweep`` (real engine, real store) ->
``prisonsim report``, and the report's sensitivity indices against SALib run directly.

Each stage is tested alone elsewhere; this checks that they agree with each other: the
design the report analyses is the one the file asked for (a first-order Sobol' design
whose 5N rows happen to divide by 2D + 2 is not analysed as second order; Morris uses
the file's levels), and whole-number parameters, sampled continuously and rounded when
run, do not stop the analysis.
"""

from __future__ import annotations

import html as html_lib
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, prisonsim
from SALib.analyze import morris, sobol
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from sim.analysis import plots
from sim.analysis.tables import DEFAULT_SEED
from sim.experiments.store import load_results
from sim.model.params import PARAMS

FACTORS = {"attackers": (10, 30), "hardened_share": None, "agitation_threshold": None}
DESIGNS = {
    "sobol": ("{type: sobol, samples: 8}", {"calc_second_order": False}),  # 40 rows
    "morris": ("{type: morris, samples: 4, levels: 6}", {"num_levels": 6}),
}
OUTCOMES = ["left_custody", "deaths_inmates", "peak_share_held", "hours_to_control"]


def _experiment(tmp_path, design: str):
    ranges = "".join(
        f"  {n}: {{low: {r[0]}, high: {r[1]}}}\n" if r else f"  {n}: {{}}\n"
        for n, r in FACTORS.items()
    )
    path = tmp_path / f"sens_{design}.yaml"
    path.write_text(
        f"name: sens_{design}\nquestion: Which conditions matter?\nscenario: teaching_small\n"
        f"constants: {{horizon_h: 24}}\nuncertainties:\n{ranges}"
        f"design: {DESIGNS[design][0]}\nreplicates: 1\nmaster_seed: 3\n"
        f"outcomes: [{', '.join(OUTCOMES)}]\n"
    )
    return path


def _direct(design: str, runs: pd.DataFrame) -> dict[str, dict]:
    """SALib on its own: its sampler's rows for the file's problem, and its analyser on
    the outcomes of those rows (the report's resamples, level and seed)."""
    names = list(FACTORS)
    bounds = [list(r or PARAMS[n].sweep_range()) for n, r in FACTORS.items()]
    problem = {"num_vars": 3, "names": names, "bounds": bounds}
    options = DESIGNS[design][1]
    if design == "sobol":
        x = sobol_sample.sample(problem, 8, seed=3, **options)
    else:
        x = morris_sample.sample(problem, 4, seed=3, **options)
    assert np.allclose(runs.groupby("point_id")["attackers"].first(), np.round(x[:, 0]))
    out = {}
    for o in OUTCOMES:
        y = runs.groupby("point_id")[o].mean().to_numpy()
        common = {"num_resamples": 200, "conf_level": 0.95, "seed": DEFAULT_SEED, **options}
        if np.var(y) == 0:
            continue  # the report gives no index for a constant outcome
        if design == "sobol":
            out[o] = sobol.analyze(problem, y, **common)
        else:
            out[o] = morris.analyze(problem, x, y, **common)
    return out


# Morris needs more model runs than Sobol for the same checks: its cases are slow tests.
DESIGNS_SOBOL_BY_DEFAULT = [
    pytest.param(d, marks=pytest.mark.slow) if d == "morris" else d for d in sorted(DESIGNS)
]


@pytest.mark.parametrize("design", DESIGNS_SOBOL_BY_DEFAULT)
def test_report_indices_equal_salib_run_directly(tmp_path, design):
    exp = _experiment(tmp_path, design)
    db = tmp_path / f"sens_{design}.db"
    r = prisonsim("sweep", str(exp), "--workers", "2", "--out", str(db), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    r = prisonsim("report", str(db), "--out", str(tmp_path / "report"), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    report = tmp_path / "report"
    html = (report / "report.html").read_text()
    assert f"No {design} indices" not in html, html[html.find("No ") : html.find("No ") + 300]
    assert (report / f"{design}_indices.png").exists(), sorted(p.name for p in report.iterdir())
    table = pd.read_csv(report / f"{design}_indices.csv")
    direct = _direct(design, load_results(db).runs)
    assert direct, "every outcome was constant: nothing to compare"
    for outcome, si in direct.items():
        got = table[table["outcome"] == outcome]
        assert list(dict.fromkeys(got["parameter"])) == list(FACTORS), got
        if design == "sobol":
            for index in ("S1", "ST"):
                rows = got[got["index"] == index]
                assert np.allclose(rows["value"], si[index], rtol=1e-9), (outcome, index)
                assert np.allclose(rows["conf"], si[f"{index}_conf"], rtol=1e-9), outcome
        else:
            for stat in ("mu", "mu_star", "sigma", "mu_star_conf"):
                assert np.allclose(got[stat], si[stat], rtol=1e-9), (outcome, stat)


def _finding_items(html: str) -> list[str]:
    section = html[html.index("<section class='findings'>") :]
    section = section[: section.index("</section>")]
    return [html_lib.unescape(i) for i in re.findall(r"<li>(.*?)</li>", section, re.S)]


def _expected_order(design: str, rows: pd.DataFrame) -> list[str] | None:
    """Levers the findings should name for one outcome, in order (None: unresolved)."""
    if design == "sobol":
        if (rows.loc[rows["index"] == "ST", "value"] > 1).any():
            return None
        rows, value = rows[rows["index"] == "S1"], "value"
    else:
        value = "mu_star"
    named = rows[rows["ci_low"] > 0].sort_values(value, ascending=False, kind="stable")
    return [plots.short(p).lower() for p in named["parameter"]]


@pytest.mark.parametrize("design", DESIGNS_SOBOL_BY_DEFAULT)
def test_a_sensitivity_report_says_in_words_which_levers_move_each_outcome(tmp_path, design):
    exp = _experiment(tmp_path, design)
    exp.write_text(exp.read_text().replace("samples: 8", "samples: 64"))  # resolves some
    db = tmp_path / f"sens_{design}.db"
    assert prisonsim("sweep", str(exp), "--out", str(db), cwd=ROOT).returncode == 0
    r = prisonsim("report", str(db), "--out", str(tmp_path / "report"), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    items = _finding_items((tmp_path / "report" / "report.html").read_text())
    table = pd.read_csv(tmp_path / "report" / f"{design}_indices.csv")
    checked = 0
    for outcome, rows in table.groupby("outcome", sort=False):
        item = next(i for i in items if i.startswith(f"{plots.short(outcome)}:"))
        value = "value" if design == "sobol" else "mu_star"
        if rows[value].isna().all():
            assert "no index" in item, item
            continue
        order = _expected_order(design, rows)
        if order is None:
            assert "unresolved" in item, item
        elif not order:
            assert "distinguishable from 0 with these" in item, item
        else:
            named = item.split("not distinguishable")[0]
            places = [named.index(f"{lever} (") for lever in order]
            assert places == sorted(places), (item, order)
            others = set(plots.short(p).lower() for p in FACTORS) - set(order)
            assert not any(f"{o} (" in named for o in others), (item, order)
            checked += 1
    assert checked, f"no outcome had a lever to name: {items}"
