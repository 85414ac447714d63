"""The HTML report and ``prisonsim report``: what a reader sees, including bad news."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from test_analysis_synthetic import make_results, make_sensitivity_results

from sim.analysis.report import build_report, default_out_dir
from sim.cli import main

FAST = {"n_boot": 300}


def _html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>"), text[:80]
    return text


def _embedded(text: str) -> int:
    return len(re.findall(r"src='data:image/png;base64,[A-Za-z0-9+/=]{100,}'", text))


def test_one_lever_report_has_question_figures_tables_and_provenance(tmp_path):
    res = make_results(replicates=6, series_times=[0, 12, 24])
    path = build_report(res, tmp_path, **FAST)
    text = _html(path)
    assert res.experiment["question"] in text
    names = {p.name for p in tmp_path.glob("*.png")}
    want = {
        "response_warning_lead_time_h.png",
        "paired_differences.png",
        "distributions.png",
        "fan_charts.png",
    }
    assert want <= names, names
    assert _embedded(text) == len(names), (_embedded(text), names)
    assert {"summary_by_arm.csv", "paired_differences.csv"} <= {
        p.name for p in tmp_path.glob("*.csv")
    }
    for key in ("abc123", "deadbeef", "Master seed", "Complete: 18 of 18"):
        assert key in text, key
    assert "outcomes.left_custody" in text and "HST" in text, "reported range not cited"


def test_two_levers_draw_a_heatmap(tmp_path):
    res = make_results(
        levers={"warning_lead_time_h": [0, 24], "separate_minors": [False, True]}, replicates=4
    )
    build_report(res, tmp_path, **FAST)
    assert (tmp_path / "heatmap.png").is_file(), sorted(p.name for p in tmp_path.iterdir())


def test_partial_store_with_failures_and_missing_arm_says_so(tmp_path):
    res = make_results(replicates=4, fail=[(2, r) for r in range(4)] + [(0, 1)], drop_points=[1])
    text = _html(build_report(res, tmp_path, **FAST))
    assert "PARTIAL: 3 of 12 planned runs finished (25%), 4 still pending" in text, re.findall(
        r"<p class='status[^>]*>[^<]*", text
    )
    assert "5 run(s) failed" in text
    assert "Arms with no finished run (absent from figures): Warning lead time 48 h" in text
    assert "planned value(s) with no finished run: 24 h, 48 h" in text
    assert "ValueError: synthetic failure" in text
    assert (tmp_path / "failures.csv").is_file()


def test_single_replicate_report_says_no_interval(tmp_path):
    text = _html(build_report(make_results(replicates=1), tmp_path, **FAST))
    assert "1 replicate: no interval" in text, "single replicate not stated"
    assert "nan" not in re.sub(r"<img[^>]*>", "", text).lower().split("provenance")[0]


def test_empty_store_gives_a_report_without_figures(tmp_path):
    res = make_results(replicates=2, drop_points=[0, 1, 2])
    text = _html(build_report(res, tmp_path, **FAST))
    assert "0 of 6 planned runs finished" in text and "No figures" in text


def test_sobol_report_and_a_partial_sobol_store(tmp_path):
    res = make_sensitivity_results("sobol", n=64)
    text = _html(build_report(res, tmp_path / "full", **FAST))
    assert (tmp_path / "full" / "sobol_indices.png").is_file()
    assert "S1" in text and "ST" in text
    res.runs = res.runs[res.runs["point_id"] >= 6]  # first base sample incomplete
    text = _html(build_report(res, tmp_path / "part", **FAST))
    assert "63 of 64 base samples complete" in text, "partial Sobol design not stated"


def test_morris_report(tmp_path):
    res = make_sensitivity_results("morris", n=10)
    text = _html(build_report(res, tmp_path, **FAST))
    assert (tmp_path / "morris_indices.png").is_file() and "μ*" in text


# ----------------------------------------------------------------------------- CLI
def test_cli_missing_store_is_one_line_exit_2(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.sqlite")])
    err = capsys.readouterr().err
    assert code == 2, code
    assert err.count("\n") == 1 and "no such results store" in err, err


def test_cli_directory_is_not_a_store(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_cli_writes_next_to_the_store_by_default(tmp_path, monkeypatch, capsys):
    db = tmp_path / "warning.sqlite"
    db.write_bytes(b"")
    fake = types.ModuleType("sim.experiments.store")
    fake.load_results = lambda path: make_results(replicates=3)
    monkeypatch.setitem(sys.modules, "sim.experiments.store", fake)
    assert main(["report", str(db)]) == 0
    out = default_out_dir(db)
    assert out == tmp_path / "warning_report", out
    assert (out / "report.html").is_file(), sorted(p.name for p in out.iterdir())
    assert str(out / "report.html") in capsys.readouterr().out


def test_cli_out_option(tmp_path, monkeypatch):
    db = tmp_path / "x.sqlite"
    db.write_bytes(b"")
    fake = types.ModuleType("sim.experiments.store")
    fake.load_results = lambda path: make_results(replicates=2)
    monkeypatch.setitem(sys.modules, "sim.experiments.store", fake)
    assert main(["report", str(db), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.html").is_file()


@pytest.mark.parametrize("argv", [["report"], ["report", "a", "b"]])
def test_cli_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2, exc.value.code


def test_scenario_not_at_the_reported_scale_is_not_set_against_reported_ranges(tmp_path):
    """A teaching-scale store must not be drawn against the event's reported ranges."""
    from sim.analysis import tables as analysis

    results = make_results()
    results.experiment["compare_with_reported"] = False
    results.experiment["scenario"] = "teaching_small"
    dist = analysis.distributions(results)
    assert dist["share_in_reported"].isna().all(), dist["share_in_reported"].unique()
    html = _html(build_report(results, tmp_path / "rep"))
    assert "Reported ranges are not drawn: the base scenario (teaching_small)" in html
    assert "reported range 140" not in html
