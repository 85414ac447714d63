"""Shared fixtures: small, fast scenarios for behaviour tests."""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario


@pytest.fixture(scope="session")
def teaching_params() -> dict:
    """The teaching scenario's resolved parameters."""
    return dict(load_scenario("teaching_small").params)
