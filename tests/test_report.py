"""The HTML report and ``prisonsim report``: what a reader sees, including bad news."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from stores import (
    OUTCOMES,
    decaying_series,
    policy_file,
    policy_response,
    sensitivity_file,
    store_results,
)

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
    path = policy_file(tmp_path, replicates=6, series_every_h=12)
    res = store_results(path, series=decaying_series(12, 3))
    out = tmp_path / "report"
    text = _html(build_report(res, out, **FAST))
    assert res.spec.question in text
    names = {p.name for p in out.glob("*.png")}
    want = {
        "response_warning_lead_time_h.png",
        "paired_differences.png",
        "distributions.png",
        "fan_charts.png",
    }
    assert want <= names, names
    assert _embedded(text) == len(names), (_embedded(text), names)
    assert {"summary_by_arm.csv", "paired_differences.csv"} <= {p.name for p in out.glob("*.csv")}
    for key in (res.provenance.spec_hash, "Master seed", "Sessions that wrote this store"):
        assert key in text, key
    for key in ("Complete: 18 of 18", "prisonsim sweep", "What the runs say"):
        assert key in text, key
    assert "Warning lead time 24 h" in text, "arms are not shown by name"
    assert "outcomes.left_custody" in text and "HST" in text, "reported range not cited"


def test_two_levers_draw_a_heatmap(tmp_path):
    levers = {"warning_lead_time_h": [0, 24], "separate_minors": [False, True]}
    res = store_results(policy_file(tmp_path, levers, replicates=4))
    build_report(res, tmp_path / "r", **FAST)
    assert (tmp_path / "r" / "heatmap.png").is_file(), sorted((tmp_path / "r").iterdir())


def test_partial_store_with_failures_and_missing_arm_says_so(tmp_path):
    path = policy_file(tmp_path, replicates=4)
    res = store_results(path, fail=[(2, r) for r in range(4)] + [(0, 1)], skip=[1])
    text = _html(build_report(res, tmp_path / "r", **FAST))
    assert "PARTIAL: 3 of 12 planned runs finished (25%), 4 still pending" in text, re.findall(
        r"<p class='status[^>]*>[^<]*", text
    )
    assert "5 run(s) failed" in text
    assert "Arms with no finished run (absent from figures): Warning lead time 48 h" in text
    assert "planned value(s) with no finished run: 24 h, 48 h" in text
    assert "ValueError: synthetic failure" in text
    assert (tmp_path / "r" / "failures.csv").is_file()


def test_single_replicate_report_says_no_interval(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=1))
    text = _html(build_report(res, tmp_path / "r", **FAST))
    assert "1 replicate: no interval" in text, "single replicate not stated"
    assert "nan" not in re.sub(r"<img[^>]*>", "", text).lower().split("provenance")[0]


def test_empty_store_gives_a_report_without_figures(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=2), skip=[0, 1, 2])
    text = _html(build_report(res, tmp_path / "r", **FAST))
    assert "0 of 6 planned runs finished" in text and "No figures" in text


RANGES = {"attackers": {}, "breach_rate": {}, "agitation_threshold": {}, "warning_lead_time_h": {}}


def test_sobol_report_and_a_partial_sobol_store(tmp_path):
    path = sensitivity_file(tmp_path, RANGES, {"type": "sobol", "samples": 64})
    text = _html(build_report(store_results(path), tmp_path / "full", **FAST))
    assert (tmp_path / "full" / "sobol_indices.png").is_file()
    assert "S1" in text and "ST" in text and "Second-order indices" in text
    res = store_results(path, skip=[0], db=tmp_path / "part.db")  # first base sample
    text = _html(build_report(res, tmp_path / "part", **FAST))
    assert "63 of 64 base samples complete" in text, "partial Sobol design not stated"


def test_morris_report(tmp_path):
    path = sensitivity_file(tmp_path, RANGES, {"type": "morris", "samples": 10, "levels": 6})
    text = _html(build_report(store_results(path), tmp_path / "r", **FAST))
    assert (tmp_path / "r" / "morris_indices.png").is_file() and "μ*" in text
    assert "Grid levels per factor</th><td>6" in text, "the design's levels are not shown"


def _saturating(values, key):
    """Warning beyond 24 h changes nothing (no point-specific noise, so 24 h and 48 h give
    identical runs on each seed); control is restored in every run."""
    capped = {**values, "warning_lead_time_h": min(values["warning_lead_time_h"], 24)}
    out = policy_response(capped, dataclasses.replace(key, point_id=0))
    return {**out, "control_restored": 1.0}


def test_findings_name_identical_arms_constant_outcomes_and_failures(tmp_path):
    outcomes = [*OUTCOMES, "control_restored"]
    path = policy_file(tmp_path, {"warning_lead_time_h": [0, 6, 24, 48]}, outcomes=outcomes)
    res = store_results(path, respond=_saturating, fail=[(1, 3)])
    text = _html(build_report(res, tmp_path / "r", **FAST))
    first = text.split("<h2>What this model is and is not</h2>")[0]
    found = re.search(r"<section class='findings'>.*?</section>", first, re.S)
    assert found, "no findings section on the first page"
    words = html.unescape(found.group(0))
    assert "Compared with Warning lead time 0 h (the reference arm)" in words, words
    assert "Warning lead time 24 h and beyond: against Warning lead time 0 h" in words, words
    assert "Warning lead time 24 h, Warning lead time 48 h gave identical results" in words
    assert "No further change beyond Warning lead time 24 h." in words, words
    assert "saturates" in words, "the mechanism is not named"
    # 5 persons/h x 24 h fewer, the same in every pair (no point-specific noise)
    assert "left custody 120 persons lower (95 % interval 120 to 120)" in words, words
    assert "The same in every run, so not compared or drawn: control restored was 1" in words
    assert "Warning lead time 6 h: 1 run(s) failed" in words, words
    assert "(identical runs)" in text, "identical arms are not drawn under one name"
    summary = text.split("<h3>Summary by arm</h3>")[1].split("</table>")[0]
    assert "Control restored" not in summary, "a constant outcome still has a column"
    assert (
        "uncertainties are drawn from assumed ranges" in words.lower() or "No uncertainty" in words
    )


# ----------------------------------------------------------------------------- CLI
def test_cli_missing_store_is_one_line_exit_2(tmp_path, capsys):
    code = main(["report", str(tmp_path / "nope.sqlite")])
    err = capsys.readouterr().err
    assert code == 2, code
    assert err.count("\n") == 1 and "no such results store" in err, err


def test_cli_directory_is_not_a_store(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_cli_writes_next_to_the_store_by_default(tmp_path, capsys):
    db = tmp_path / "warning.sqlite"
    store_results(policy_file(tmp_path, replicates=3), db=db)
    assert main(["report", str(db)]) == 0
    out = default_out_dir(db)
    assert out == tmp_path / "warning_report", out
    assert (out / "report.html").is_file(), sorted(p.name for p in out.iterdir())
    assert str(out / "report.html") in capsys.readouterr().out


def test_cli_out_option(tmp_path):
    db = tmp_path / "x.sqlite"
    store_results(policy_file(tmp_path, replicates=2), db=db)
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

    results = store_results(policy_file(tmp_path, replicates=3, scenario="teaching_small"))
    assert not results.spec.compare_with_reported
    dist = analysis.distributions(results)
    assert dist["share_in_reported"].isna().all(), dist["share_in_reported"].unique()
    html = _html(build_report(results, tmp_path / "rep"))
    assert "Reported ranges are not drawn: the base scenario (teaching_small)" in html
    assert "reported range 140" not in html
