"""The package layout shows the stages, and data flows one way (README, "How it is built").

Each package of ``sim`` may import only from the packages below it:

    model  <-  config  <-  experiments  <-  analysis  <-  cli, viz

(``calibration`` sits beside ``analysis``). Checked statically on every ``import`` and
``from ... import`` in the source, including imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"

ALLOWED: dict[str, set[str]] = {
    "model": {"model"},
    "config": {"model", "config"},
    "experiments": {"model", "config", "experiments"},
    "analysis": {"model", "config", "experiments", "analysis"},
    "calibration": {"model", "config", "experiments", "analysis", "calibration"},
    "cli": {"model", "config", "experiments", "analysis", "calibration", "cli", "viz"},
    "viz": {"model", "config", "experiments", "analysis", "calibration", "viz"},
}


def _sim_imports(path: Path) -> list[tuple[int, str]]:
    """(line, second component) of every import of ``sim.<package>`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "sim":
                names = [f"sim.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "sim" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def _packages() -> list[str]:
    return sorted(p.name for p in SIM.iterdir() if (p / "__init__.py").exists())


def test_every_package_has_declared_dependencies():
    assert set(_packages()) <= set(ALLOWED), set(_packages()) - set(ALLOWED)


@pytest.mark.parametrize("package", _packages())
def test_package_imports_only_from_the_stages_below(package):
    bad = []
    for path in sorted((SIM / package).rglob("*.py")):
        for line, target in _sim_imports(path):
            if target not in ALLOWED[package] and target != "__version__":
                bad.append(f"{path.relative_to(SIM.parent)}:{line} imports sim.{target}")
    assert not bad, "\n".join(bad)


def test_no_modules_left_at_the_top_of_the_package():
    loose = sorted(p.name for p in SIM.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert not loose, f"modules outside a stage package: {loose}"
