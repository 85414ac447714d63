"""End to end: experiment file -> sweep (real engine, real store) -> report.

Each stage is tested alone elsewhere; this checks that they agree with each other, e.g.
that the sensitivity analysis accepts what the runner stored (whole-number parameters are
sampled continuously and rounded when run).
"""

from __future__ import annotations

import pytest
from conftest import ROOT, prisonsim

DESIGNS = {
    "sobol": "{type: sobol, samples: 8}",
    "morris": "{type: morris, samples: 4, levels: 4}",
}


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_sensitivity_sweep_reports_indices(tmp_path, design):
    exp = tmp_path / f"sens_{design}.yaml"
    exp.write_text(
        f"name: sens_{design}\nquestion: Which conditions matter?\nscenario: teaching_small\n"
        "uncertainties:\n  attackers: {low: 10, high: 30}\n  hardened_share: {}\n"
        f"design: {DESIGNS[design]}\nreplicates: 1\nmaster_seed: 3\n"
        "outcomes: [left_custody, hours_to_control]\n"
    )
    db = tmp_path / f"sens_{design}.db"
    r = prisonsim("sweep", str(exp), "--workers", "2", "--out", str(db), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    report = tmp_path / f"sens_{design}_report"
    html = (report / "report.html").read_text()
    assert f"No {design} indices" not in html, html[html.find("No ") : html.find("No ") + 300]
    assert (report / f"{design}_indices.png").exists(), sorted(p.name for p in report.iterdir())
