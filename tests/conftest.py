"""Shared fixtures: the teaching scenario's parameters, and helpers for the experiment,
store and sweep tests.

``fault_run`` is a run function for ``PRISONSIM_RUN_FUNCTION=conftest:fault_run``
(workers import it with ``tests/`` on PYTHONPATH): it wraps the real ``run_replicate``
and, keyed by the lever ``warning_lead_time_h``, raises (13 h) or kills its worker
process (17 h); ``PRISONSIM_TEST_SLEEP`` adds a fixed cost per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from sim.config.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
RAISE_AT_H, DIE_AT_H = 13.0, 17.0


def fault_run(params, seed, *, series_every_h=None):
    from sim.model import run_replicate

    time.sleep(float(os.environ.get("PRISONSIM_TEST_SLEEP", "0")))
    if params["warning_lead_time_h"] == RAISE_AT_H:
        raise RuntimeError(f"injected failure at seed {seed}")
    if params["warning_lead_time_h"] == DIE_AT_H:
        os._exit(3)
    return run_replicate(params, seed, series_every_h=series_every_h)


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    env.update(extra)
    return env


def prisonsim(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run ``python -m sim ARGS`` and return the finished process (text output); the
    timeout only catches a hang (a busy 2-core machine can take minutes for a sweep)."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


EXPERIMENT = """\
name: {name}
question: Does the runner store what it runs?
scenario: teaching_small
constants: {{warning_acted_on: 1.0}}
levers:
  warning_lead_time_h: {lead}
uncertainties:
  attackers: {{low: 10, high: 30}}
design: {{type: latin_hypercube, samples: {samples}}}
replicates: {replicates}
master_seed: 11
outcomes: [left_custody, at_large, hours_to_control]
series_every_h: {series}
"""


@pytest.fixture
def make_experiment(tmp_path):
    """Write a small teaching-scale experiment file and return its path."""

    def make(name="tiny", lead="[0, 24]", samples=3, replicates=2, series="6", text=None) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            text
            or EXPERIMENT.format(
                name=name, lead=lead, samples=samples, replicates=replicates, series=series
            )
        )
        return path

    return make


@pytest.fixture(scope="session")
def teaching_params() -> dict:
    """The teaching scenario's resolved parameters."""
    return dict(load_scenario("teaching_small").params)


def property_settings(examples: int, *, derandomize: bool = True) -> settings:
    """Hypothesis settings of the property tests: ``examples`` examples, no deadline
    (a busy machine), no example database (nothing written into the checkout)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
