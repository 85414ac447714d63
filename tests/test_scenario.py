"""Scenarios and parameter declarations: shipped files load, bad files are rejected clearly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from sim.config.loading import ConfigError
from sim.config.scenario import SCENARIO_DIR, load_scenario
from sim.model import run_replicate
from sim.model.params import PARAMS, defaults, resolve

REPORTED = yaml.safe_load(
    (Path(__file__).parents[1] / "sim/data/ghwayran_reported.yaml").read_text()
)
SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))


def test_declarations_are_consistent():
    for p in PARAMS.values():
        assert p.in_bounds(p.default), f"{p.name}: default {p.default} outside {p.bounds}"
        if p.plausible:
            lo, hi = p.plausible
            assert p.bounds[0] <= lo < hi <= p.bounds[1], f"{p.name}: plausible {p.plausible}"
        assert p.help and p.role in ("lever", "uncertainty", "setting"), p.name
        for key in p.source:
            assert key == "event" or key in REPORTED["sources"], f"{p.name}: unknown source {key}"
    assert resolve({}) == defaults()


def test_brief_names_exist():
    levers = {
        "warning_lead_time_h",
        "warning_acted_on",
        "repatriation_share",
        "guards_per_100_inmates",
        "responder_delay_h",
        "responder_size",
        "perimeter_integrity",
        "separate_minors",
        "capacity",
    }
    assert levers == {n for n, p in PARAMS.items() if p.role == "lever"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_load_and_run(path):
    s = load_scenario(path)
    for name, keys in s.sources.items():
        for key in keys:
            # "calibration": a value written by `prisonsim calibrate` (provenance in the file)
            calibrated = key == "calibration" and s.path and "calibrated" in str(s.path)
            assert key == "event" or calibrated or key in REPORTED["sources"], (path.name, name)
    out = run_replicate({**s.params, "horizon_h": 6.0}, seed=1)
    assert out.steps <= 24 and set(out.outcomes) >= {"left_custody", "hours_to_control"}


def test_ghwayran_uses_central_reported_values():
    s = load_scenario("ghwayran_2022")
    pop = REPORTED["population_before"]
    assert s.params["inmates_adult"] == pop["adults"]["central"]
    assert s.params["inmates_minor"] == pop["minors"]["central"]
    assert s.params["attackers"] == REPORTED["external_force"]["attackers"]["central"]
    assert s.params["capacity"] == pop["design_capacity"]["value"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_bad_scenario_one_line_per_mistake(tmp_path):
    path = _write(
        tmp_path,
        """\
        name: bad
        params:
          atackers: 10
          guards_per_100_inmates: 50
          separate_minors: maybe
          capacity: {value: 100, sauce: X}
        colour: red
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 5, lines
    text = str(err.value)
    assert f"{path}:3: params.atackers: unknown key (did you mean 'attackers'?)" in text
    assert (
        f"{path}:4: params.guards_per_100_inmates: 50 is out of range; allowed: 0.5 to 20" in text
    )
    assert f"{path}:5: params.separate_minors: expected true or false" in text
    assert f"{path}:6: params.capacity.sauce: unknown key" in text
    assert f"{path}:7: colour: unknown key" in text


def test_joint_constraint_and_overrides(tmp_path):
    path = _write(
        tmp_path,
        """\
        name: shares
        params: {iraqi_share: 0.7, third_country_share: 0.5}
        """,
    )
    with pytest.raises(ConfigError, match="iraqi_share \\+ third_country_share must be at most 1"):
        load_scenario(path)
    with pytest.raises(ConfigError, match="--set: attackers: -3 is out of range"):
        load_scenario("teaching_small", {"attackers": -3})
    assert load_scenario("teaching_small", {"attackers": 5}).params["attackers"] == 5


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=":3: not valid YAML"):
        load_scenario(_write(tmp_path, "name: x\nparams: [1, 2\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_scenario(_write(tmp_path, "- 1\n- 2\n"))


def test_empty_value_is_a_clear_mistake(tmp_path):
    with pytest.raises(
        ConfigError, match=r":3: params\.attackers: expected a whole number, got None"
    ):
        load_scenario(_write(tmp_path, "name: x\nparams:\n  attackers:\n"))
