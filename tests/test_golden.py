"""Results change only on purpose (style.md point 15): outcomes of fixed cases against the
golden file written by ``python benchmarks/regenerate_golden.py``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from sim.config.scenario import load_scenario
from sim.model import run_replicate

GOLDEN = Path(__file__).resolve().parent / "golden" / "outcomes.json"
CASES = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['scenario']}-{c['seed']}-{len(c['set'])}" for c in CASES]
)
def test_outcomes_match_the_golden_file(case):
    params = load_scenario(case["scenario"], case["set"]).params
    got = run_replicate(params, case["seed"]).outcomes
    assert set(got) == set(case["outcomes"]), "outcomes registered or removed: regenerate"
    changed = {
        name: (want, got[name])
        for name, want in case["outcomes"].items()
        if not math.isclose(got[name], want, rel_tol=1e-9, abs_tol=1e-9)
    }
    assert not changed, (
        f"results changed {changed}; if on purpose, run python benchmarks/regenerate_golden.py "
        "and say why in the commit"
    )
