"""The README's test command is the one CI runs, word for word."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    lines = (ROOT / "README.md").read_text().splitlines()
    hits = [ln for ln in lines if "pytest" in ln and ln.startswith("python -m pip install")]
    assert len(hits) == 1, f"expected one test command in README.md, found {hits}"
    return hits[0].strip()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_test_command() in ci.splitlines(), (_readme_test_command(), ci)


def test_readme_first_section_states_scope():
    text = (ROOT / "README.md").read_text()
    first = text.split("\n## ")[1]
    for phrase in ("non-operational", "schematic", "fixed and simple", "aggregate"):
        assert phrase in first, phrase


def test_ci_runs_the_command_inside_a_fresh_virtualenv():
    """Nothing installed by hand on the machine may hide a missing dependency."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    command = lines.index(_readme_test_command())
    made = [i for i, ln in enumerate(lines) if "-m venv" in ln and not ln.startswith("#")]
    activated = [i for i, ln in enumerate(lines) if ln.startswith("source") and "activate" in ln]
    assert made and activated, "CI must make and activate a fresh virtualenv"
    assert made[0] < activated[0] < command, (made, activated, command)
