"""Calibration files, targets and the range distance (issue 11)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.config import load_calibration
from sim.calibration.posterior import central_point, from_unit_frame, resample, weighted_quantile
from sim.calibration.targets import distance, distance_terms, load_targets, summary_statistics
from sim.config.loading import ConfigError
from sim.config.reported import reported_range, reported_tally


@pytest.fixture(scope="module")
def targets():
    return load_targets(["left_custody", "deaths_authority"], ["surrendered_inside"], tolerance=2.0)


def test_shipped_calibration_loads_with_a_reason_for_every_prior():
    spec = load_calibration("ghwayran_2022")
    assert spec.scenario.name == "ghwayran_2022"
    assert len(spec.priors) >= 10
    assert all(len(p.reason) > 20 for p in spec.priors), [p.name for p in spec.priors]
    attackers = next(p for p in spec.priors if p.name == "attackers")
    reported = reported_range("left_custody")
    assert reported is not None
    assert (attackers.low, attackers.high) == (100, 300)  # the reported low-high, from the data


def test_the_distance_is_zero_exactly_inside_every_range_and_tally_factor(targets):
    inside = {"left_custody": 450.0, "deaths_authority": 140.0}
    tally = reported_tally("surrendered_inside")
    for hours, value in zip(tally.hours, tally.values, strict=True):
        inside[f"surrendered_inside@{hours:g}h"] = value * 1.9  # within a factor of 2
    assert distance(inside, targets) == 0.0
    outside = dict(inside, left_custody=800 + 0.5 * (800 - 140))  # half a range width above
    assert distance(outside, targets) == pytest.approx(0.5)
    far = dict(
        inside, **{"surrendered_inside@96h": 301 * 8 - 1}
    )  # (y+1) = 8 (z+1): two factors past
    assert distance_terms(far, targets)["surrendered_inside@96h"] == pytest.approx(2.0)


def test_tally_statistics_read_the_series_at_the_reported_hours(targets):
    t = np.arange(0, 101, 1.0)
    series = pd.DataFrame({"inmates_surrendered": t * 10, "inmates_recaptured": t}, index=t)
    stats = summary_statistics(
        {"left_custody": 1.0, "deaths_authority": 2.0, "surrendered_inside": 1234.0},
        series,
        targets,
    )
    assert stats["surrendered_inside@96h"] == 960.0
    assert stats["surrendered_inside@120h"] == 1000.0  # the run ended at 100 h: its last count


def test_bad_calibration_files_give_one_line_each(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nscenario: teaching_small\n"
        "targets: {ranges: [left_custdy], tallies: [nope], tally_tolerance: 1}\n"
        "parameters:\n"
        "  flee_rat: {low: 0.1, high: 0.2, reason: because it is so}\n"
        "  attackers: {low: 50, high: 9000, reason: ''}\n"
        "  separate_minors: {low: 0, high: 1, reason: a yes or no cannot be calibrated}\n"
        "method: {population: 1, quantile: 1.5}\n"
        "master_seed: 1\n"
    )
    with pytest.raises(ConfigError) as err:
        load_calibration(bad)
    text = str(err.value)
    for expected in (
        "did you mean 'left_custody'",
        "targets.tallies.0",
        "tally_tolerance",
        "did you mean 'flee_rate'",
        "parameters.attackers.high",
        "parameters.attackers.reason",
        "separate_minors",
        "method.population",
        "method.quantile",
    ):
        assert expected in text, (expected, text)
    assert all(line.startswith(str(bad)) for line in text.splitlines()), text


def test_posterior_central_point_and_resampling_follow_the_weights():
    spec = load_calibration("ghwayran_2022")
    priors = [p for p in spec.priors if p.name in ("attackers", "flee_rate")]
    unit = pd.DataFrame({"attackers": [0.0, 0.5, 1.0], "flee_rate": [0.1, 0.2, 0.9]})
    post = from_unit_frame(unit, np.array([0.1, 0.8, 0.1]), priors)
    assert post["attackers"].tolist() == [100, 200, 300]
    center = central_point(post, priors)
    assert center["attackers"] == 200 and isinstance(center["attackers"], int)
    draws = resample(post, 1000, seed=3)
    assert abs((draws["attackers"] == 200).mean() - 0.8) < 0.01
    v = np.array([1.0, 2.0, 3.0])
    assert weighted_quantile(v, np.array([1, 1, 1]), 0.5) == 2.0
    assert math.isclose(weighted_quantile(v, np.array([0, 0, 1.0]), 0.5), 3.0)


@pytest.mark.parametrize("dirty", [False, True])
def test_the_calibrated_scenario_holds_the_central_point_and_the_code_it_ran_with(dirty):
    """The provenance's commit is the one the calibration started from (given by the
    store), not git's state after the command has written its own outputs."""
    import yaml

    from sim.calibration.validate import calibrated_scenario_text
    from sim.config.scenario import SCENARIO_DIR

    spec = load_calibration("ghwayran_2022")
    post = pd.read_csv(SCENARIO_DIR / "ghwayran_2022_calibrated_posterior.csv")
    text = calibrated_scenario_text(spec, post, "p.csv", "abc", ("0123abcd", dirty))
    doc = yaml.safe_load(text)
    assert doc["provenance"]["git_commit"] == "0123abcd" + ("+dirty" if dirty else "")
    assert doc["provenance"]["calibration_sha256"] == "abc"
    for name, value in central_point(post, spec.priors).items():
        assert doc["params"][name]["value"] == value, name
