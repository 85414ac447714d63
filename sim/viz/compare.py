"""Same-seed side-by-side comparison of two policies (common random numbers).

Both arms start from the same parameters and the same seed; only the lever values given
for each arm differ. They step together, so at every moment the two facilities show the
same simulated time. Two arms with identical levers give identical counts (the "worlds"
test of style point 11); a changed lever changes the draws that follow it, so differences
are the policy's effect plus the noise it sets off, not two unrelated runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.model.outcomes import OUTCOMES
from sim.model.params import LEVERS
from sim.model.states import series_names
from sim.viz.inputs import DemoModel


def shown_counts() -> list[str]:
    """Rows of the live comparison table: every inmate state, then the held share.

    Generated from :func:`sim.model.states.series_names`, so a new state gets a row.
    """
    names = series_names()
    return [n for n in names if n.startswith("inmates_")] + [
        n for n in ("share_held", "breaches") if n in names
    ]


def lever_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """The lever entries of a parameter mapping."""
    return {k: params[k] for k in LEVERS if k in params}


@dataclass
class PolicyComparison:
    """Two models, policy A and policy B, with the same base parameters and seed."""

    base: dict[str, Any]
    seed: int
    policy_a: dict[str, Any]
    policy_b: dict[str, Any]
    models: tuple[DemoModel, DemoModel] = field(init=False)

    def __post_init__(self) -> None:
        unknown = set(self.policy_a) | set(self.policy_b)
        unknown -= set(LEVERS)
        if unknown:
            raise KeyError(f"not levers: {sorted(unknown)}")
        self.models = tuple(  # type: ignore[assignment]
            DemoModel(seed=self.seed, **{**self.base, **policy})
            for policy in (self.policy_a, self.policy_b)
        )

    @property
    def running(self) -> bool:
        """True while either arm is still running."""
        return any(m.running for m in self.models)

    @property
    def steps(self) -> int:
        return max(m.steps for m in self.models)

    def step(self, n: int = 1) -> None:
        """Advance both arms ``n`` steps together (an arm that has finished stays put)."""
        for _ in range(n):
            for m in self.models:
                if m.running:
                    m.step()

    def step_hours(self, hours: float) -> None:
        """Advance both arms by ``hours`` of simulated time."""
        self.step(max(1, round(hours / self.models[0].dt_h)))

    def run_to_end(self) -> None:
        """Step both arms until neither is running."""
        while self.running:
            self.step()

    def count_rows(self) -> list[tuple[str, float, float]]:
        """(name, A, B) for :func:`shown_counts` at the current step."""
        a, b = self.models
        return [(n, float(a.counts[n]), float(b.counts[n])) for n in shown_counts()]

    def outcome_rows(self) -> list[tuple[str, float, float]]:
        """(outcome name, A, B) for every registered outcome, once both arms finished."""
        if self.running:
            return []
        a, b = (m.outcomes() for m in self.models)
        return [(n, a[n], b[n]) for n in OUTCOMES if n in a and n in b]
