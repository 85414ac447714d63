"""The single-run CLI as a user meets it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prisonsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_run_writes_identical_bytes_for_same_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, "5"), (b, "5"), (c, "6")):
        r = prisonsim("run", "teaching_small", "--seed", seed, "--out", str(out))
        assert r.returncode == 0, r.stderr
    assert "left_custody" in r.stdout and "hours_to_control" in r.stdout
    for name in ("outcomes.json", "series.csv", "states.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "outcomes.json").read_bytes() != (c / "outcomes.json").read_bytes()
    data = json.loads((a / "outcomes.json").read_text())
    assert data["seed"] == 5 and data["params"]["attackers"] == 20
    assert (a / "states.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_with_set_override(tmp_path):
    r = prisonsim(
        "run",
        "teaching_small",
        "--set",
        "attackers=0",
        "--set",
        "initial_rioter_share=0",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "outcomes.json").read_text())
    assert data["outcomes"]["left_custody"] == 0


def _assert_clean_error(r: subprocess.CompletedProcess, *fragments: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    for f in fragments:
        assert f in r.stderr, r.stderr


def test_bad_cli_input_exits_2_without_traceback(tmp_path):
    _assert_clean_error(
        prisonsim("run", "teaching_small", "--set", "atackers=3"),
        "--set: atackers: unknown key (did you mean 'attackers'?)",
    )
    _assert_clean_error(
        prisonsim("run", "teaching_small", "--set", "attackers"), "expected key=value"
    )
    _assert_clean_error(prisonsim("run", "teaching_small", "--seed", "-1"), "--seed")
    _assert_clean_error(prisonsim("run", "teaching_small", "--seed", "x"), "--seed")
    _assert_clean_error(prisonsim("run", "no_such_scenario"), "no_such_scenario: file not found")
    _assert_clean_error(prisonsim("frobnicate"), "invalid choice")


def test_validate(tmp_path):
    ok = prisonsim("validate", "scenarios/ghwayran_2022.yaml")
    assert ok.returncode == 0 and "ok" in ok.stdout, ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparams:\n  horizon_h: 999\n")
    _assert_clean_error(
        prisonsim("validate", str(bad)),
        f"{bad}:3: params.horizon_h: 999 is out of range; allowed: 1 to 336 h",
    )


def test_params_lists_every_parameter():
    from sim.model.params import PARAMS

    r = prisonsim("params")
    assert r.returncode == 0
    for name in PARAMS:
        assert name in r.stdout, name
    md = prisonsim("params", "--role", "lever", "--format", "markdown")
    assert md.stdout.count("| lever |") == 9, md.stdout


def test_output_piped_into_a_closed_reader_is_not_an_error():
    r = subprocess.run(
        f"{sys.executable} -m sim params | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout.startswith("warning_lead_time_h"), r.stdout
