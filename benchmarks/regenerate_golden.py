"""Rewrite the golden file of outcomes (``tests/golden/outcomes.json``).

``tests/test_golden.py`` runs the same (scenario, seed, overrides) cases and compares every
outcome with this file, so any change of results fails a test until it is made on purpose:
run this script, look at the printed differences, and commit the new file with a message
that says why the numbers changed.

    python benchmarks/regenerate_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.config.scenario import load_scenario
from sim.model import run_replicate

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "outcomes.json"
CASES = [
    ("teaching_small", 1, {}),
    ("teaching_small", 2, {"warning_lead_time_h": 6.0, "warning_acted_on": 1.0}),
    ("teaching_small", 3, {"attackers": 0}),
    ("teaching_small", 4, {"step_minutes": 5.0, "separate_minors": True}),
    ("ghwayran_2022", 1, {}),
]


def compute() -> list[dict]:
    """The golden cases with their outcomes (compiled engine)."""
    out = []
    for scenario, seed, overrides in CASES:
        params = load_scenario(scenario, overrides).params
        outcomes = run_replicate(params, seed).outcomes
        out.append({"scenario": scenario, "seed": seed, "set": overrides, "outcomes": outcomes})
    return out


def main() -> None:
    new = compute()
    old = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else []
    for case in new:
        match = [
            c
            for c in old
            if (c["scenario"], c["seed"], c["set"]) == (case["scenario"], case["seed"], case["set"])
        ]
        for name, value in case["outcomes"].items():
            before = match[0]["outcomes"].get(name) if match else None
            if before != value:
                where = f"{case['scenario']} seed {case['seed']} {case['set']}"
                print(f"{where}: {name} {before} -> {value}")
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(new, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
