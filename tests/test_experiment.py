"""Experiment files: shipped ones load, designs have the right shape, seeds are keyed by
content and shared across arms, and mistakes come back one line each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, prisonsim

from sim.config.loading import ConfigError
from sim.experiments.loader import load_experiment
from sim.experiments.seeds import derive_seed

SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiments_load_and_state_their_question(path: Path):
    exp = load_experiment(path)
    first = path.read_text().splitlines()[0]
    assert first.startswith("# Question:"), f"{path.name} starts with {first!r}"
    assert exp.points and exp.question.strip(), f"{path.name}: {len(exp.points)} points"
    assert exp.name == path.stem, f"{path.name} is named {exp.name!r}"


def test_the_policy_questions_are_all_shipped():
    names = {p.stem for p in SHIPPED}
    wanted = {
        "warning_lead_time",
        "repatriation",
        "warning_x_repatriation",
        "staffing_response",
        "sensitivity_sobol",
        "sensitivity_morris",
    }
    assert wanted <= names, f"missing {wanted - names}"


def test_latin_hypercube_crosses_every_arm_with_the_same_conditions(make_experiment):
    exp = load_experiment(make_experiment(lead="[0, 24, 48]", samples=4, replicates=3))
    assert len(exp.points) == 12, f"{len(exp.points)} points, expected 3 arms x 4 samples"
    by_arm: dict[str, list] = {}
    for p in exp.points:
        by_arm.setdefault(p.arm, []).append(p.values["attackers"])
    assert len(set(map(tuple, by_arm.values()))) == 1, f"arms see different samples {by_arm}"
    assert all(isinstance(v, int) for v in by_arm["warning_lead_time_h=0"]), by_arm


def test_seeds_are_common_across_arms_and_differ_across_replicates(make_experiment):
    exp = load_experiment(make_experiment(lead="[0, 24]", samples=3, replicates=3))
    seeds = {
        (p.arm, p.values["attackers"], t.replicate): t.seed
        for t in exp.run_keys()
        for p in [exp.points[t.point_id]]
    }
    for (arm, att, rep), seed in seeds.items():
        other = seeds[
            ("warning_lead_time_h=24" if arm.endswith("=0") else "warning_lead_time_h=0", att, rep)
        ]
        assert seed == other, f"arm {arm} attackers={att} replicate {rep}: {seed} vs {other}"
    all_seeds = [t.seed for t in exp.run_keys()]
    assert len(set(all_seeds)) == len(all_seeds) // 2, "replicates or samples share seeds"
    assert all(type(s) is int and 0 <= s < 2**63 for s in all_seeds), all_seeds[:3]


def test_seeds_are_keyed_by_content_not_position(make_experiment):
    a = load_experiment(make_experiment(name="a", lead="[0, 24]", samples=3))
    b = load_experiment(make_experiment(name="b", lead="[48, 24, 0]", samples=3))
    key = {
        (a.points[t.point_id].arm, a.points[t.point_id].values["attackers"], t.replicate): t.seed
        for t in a.run_keys()
    }
    for t in b.run_keys():
        p = b.points[t.point_id]
        k = (p.arm, p.values["attackers"], t.replicate)
        if k in key:
            assert key[k] == t.seed, f"{k}: seed {t.seed} moved from {key[k]} with position"
    assert derive_seed(1, {"x": 1}, 0) != derive_seed(2, {"x": 1}, 0), "master seed ignored"


def test_sobol_and_morris_designs_have_salib_sizes(make_experiment):
    common = """name: {n}
question: q
scenario: teaching_small
uncertainties:
  attackers: {{low: 10, high: 30}}
  hardened_share: {{}}
  attrition_rate: {{distribution: {dist}, low: 0.05, high: 0.3, mode: 0.1}}
design: {design}
replicates: 1
master_seed: 3
"""
    sob = load_experiment(
        make_experiment(
            name="s",
            text=common.format(n="s", dist="triangular", design="{type: sobol, samples: 8}"),
        )
    )
    assert len(sob.points) == 8 * (3 + 2), f"{len(sob.points)} Sobol points"
    samples = np.array([p.sample for p in sob.points])
    problem = sob.sensitivity_problem
    assert samples.shape == (40, 3) and problem["names"][0] == "attackers", problem
    mor = load_experiment(
        make_experiment(
            name="m",
            text=common.format(
                n="m", dist="uniform", design="{type: morris, samples: 5, levels: 4}"
            ),
        )
    )
    assert len(mor.points) == 5 * (3 + 1), f"{len(mor.points)} Morris points"
    lo, hi = mor.sensitivity_problem["bounds"][1]
    column = np.array([p.sample[1] for p in mor.points])
    assert np.all((column >= lo) & (column <= hi)), column


def test_full_factorial_and_points_designs(make_experiment):
    text = """name: ff
question: q
scenario: teaching_small
levers:
  warning_lead_time_h: [0, 12]
  separate_minors: [false, true]
uncertainties:
  attackers: {low: 10, high: 30, levels: 3}
design: {type: full_factorial}
replicates: 2
master_seed: 5
"""
    exp = load_experiment(make_experiment(name="ff", text=text))
    assert len(exp.points) == 12 and exp.expected_runs == 24, len(exp.points)
    assert exp.points[1].arm == "warning_lead_time_h=0, separate_minors=false", exp.points[1]
    pts = load_experiment(
        make_experiment(
            name="pts",
            text="""name: pts
question: q
scenario: teaching_small
design:
  type: points
  points:
    - {responder_delay_h: 1, attackers: 20}
    - {responder_delay_h: 6}
replicates: 1
master_seed: 5
""",
        )
    )
    assert [p.values for p in pts.points] == [
        {"responder_delay_h": 1.0, "attackers": 20},
        {"responder_delay_h": 6.0, "attackers": 20},
    ], pts.points


BAD = """\
name: bad one
question: q
scenario: teaching_smal
constants: {warning_acted_onn: 1}
levers:
  attackers: [10, 20]
  warning_lead_time_h: [0, 500]
uncertainties:
  hardened_share: {low: 0.6, high: 0.2}
design: {type: sobl}
replicates: 0
master_seed: 1
outcomes: [left_custdy]
"""


def test_a_bad_experiment_gives_one_line_per_mistake(make_experiment):
    path = make_experiment(name="bad", text=BAD)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    text = str(info.value)
    expected = [
        ":1: name:",
        ":3: scenario:",
        "did you mean 'teaching_small'",
        ":4: constants.warning_acted_onn:",
        "did you mean 'warning_acted_on'",
        ":6: levers.attackers: attackers is an uncertainty, not a lever",
        ":7: levers.warning_lead_time_h[1]: 500",
        "is out of range; allowed: 0 to 168 h",
        ":9: uncertainties.hardened_share: low (0.6) must be below high (0.2)",
        ":10: design.type:",
        "did you mean 'sobol'",
        ":11: replicates:",
        ":13: outcomes[0]:",
        "did you mean 'left_custody'",
    ]
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"
    assert len(info.value.problems) == 9, text


def test_unknown_top_level_key_and_bad_design_options(make_experiment):
    path = make_experiment(name="typo", text=BAD.replace("name: bad one", "nme: x"))
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert "nme: unknown key (did you mean 'name'?)" in str(info.value), str(info.value)
    path = make_experiment(lead="[0, 24]", samples=3)
    path.write_text(path.read_text().replace("latin_hypercube, samples: 3", "sobol, samples: 6"))
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert "warning_lead_time_h has a list of values; sobol samples ranges" in msg, msg
    assert "6 is not a power of 2" in msg, msg
    path.write_text(path.read_text().replace("sobol, samples: 6", "morris, second_order: true"))
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert ":9: design.second_order: only sobol takes second_order (this is morris)" in str(
        info.value
    ), str(info.value)


def test_cli_reports_bad_experiment_without_traceback(make_experiment, tmp_path):
    path = make_experiment(name="bad", text=BAD)
    done = prisonsim("sweep", str(path), cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 9 and all(ln.startswith("prisonsim sweep: error: ") for ln in lines), (
        done.stderr
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "results").exists(), "a store was created for a bad experiment"


def test_missing_fields_do_not_hide_other_mistakes(tmp_path):
    """Every mistake in one pass, even when required fields are missing."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: x\nscenario: teaching_small\nlevers:\n  attackers: [1, 2]\n"
        "  warning_lead_tme_h: [0, 3]\ndesign: {type: latin_hyper}\nreplicates: 0\n"
    )
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert len(err.value.problems) == 6, text
    for fragment in (
        ":1: question: required field is missing",
        ":1: master_seed: required field is missing",
        ":7: replicates: 0 is too few",
        ":4: levers.attackers: attackers is an uncertainty, not a lever",
        ":5: levers.warning_lead_tme_h: unknown key (did you mean 'warning_lead_time_h'?)",
        ":6: design.type: 'latin_hyper' is not a design (did you mean 'latin_hypercube'?)",
    ):
        assert fragment in text, (fragment, text)
