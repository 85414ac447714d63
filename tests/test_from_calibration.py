"""Experiments that draw their conditions from a calibration's posterior (issue 11).

Built from the shipped files: the main job (experiments/warning_lead_time.yaml) draws from
the posterior samples `prisonsim calibrate` wrote beside the calibrated scenario.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from sim.cli import main
from sim.config.loading import ConfigError
from sim.experiments.loader import load_experiment, read_posterior_samples

ROOT = Path(__file__).resolve().parents[1]
MAIN_JOB = ROOT / "experiments" / "warning_lead_time.yaml"
POSTERIOR = ROOT / "scenarios" / "ghwayran_2022_calibrated_posterior.csv"


def test_the_main_job_draws_its_conditions_from_the_shipped_posterior():
    spec = load_experiment(MAIN_JOB)
    assert spec.design.type == "posterior"
    assert spec.calibration == POSTERIOR.name
    rows, _, problem = read_posterior_samples(POSTERIOR)
    assert not problem
    calibrated = set(rows[0])
    arms = spec.arms
    per_arm = spec.design.samples
    assert spec.expected_runs == len(arms) * per_arm * spec.replicates
    for point in spec.points:
        assert set(point.uncertainties) == calibrated
        assert point.uncertainties in rows  # every condition is one of the posterior's samples
    # Every arm meets the same draws with the same seeds (common random numbers).
    keys = spec.run_keys()
    by_arm: dict[str, list] = {}
    for point in spec.points:
        seeds = [k.seed for k in keys if k.point_id == point.point_id]
        by_arm.setdefault(point.arm, []).append((tuple(sorted(point.uncertainties.items())), seeds))
    first, *others = by_arm.values()
    assert all(o == first for o in others)


def test_draws_follow_the_weights():
    rows, weights, _ = read_posterior_samples(POSTERIOR)
    from sim.experiments.design import posterior_draws

    draws = posterior_draws(rows, weights, 2000, seed=1)
    counts = Counter(rows.index(d) for d in draws)
    total = sum(weights)
    for i, w in enumerate(weights):  # systematic resampling: floor or ceil of n x weight
        assert abs(counts.get(i, 0) - 2000 * w / total) <= 1.0 + 1e-9


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("type: posterior", "type: latin_hypercube"), "need design: {type: posterior"),
        (("from_calibration: ghwayran_2022_calibrated_posterior.csv",
          "from_calibration: nowhere.csv"), "no such file"),
        (("  from_calibration:", "  attackers: {}\n  from_calibration:"), "list no others"),
        (("samples: 8 ", "samples: 1000000000000 "), "is too many"),  # not drawn first
    ],
)  # fmt: skip
def test_mistakes_in_from_calibration_are_one_line_each(tmp_path, capsys, edit, expected):
    text = MAIN_JOB.read_text().replace(*edit)
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    shutil.copy(POSTERIOR, tmp_path / POSTERIOR.name)
    with pytest.raises(ConfigError):
        load_experiment(path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0] and str(path) in err[0], err


def test_a_damaged_posterior_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(MAIN_JOB.read_text())
    lines = POSTERIOR.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[0], "-5", 1)  # a value below its bounds
    (tmp_path / POSTERIOR.name).write_text("\n".join(lines) + "\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{POSTERIOR.name}:4: out of range" in err[0], err
