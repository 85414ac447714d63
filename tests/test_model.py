"""Properties of the model (style.md point 11): determinism, conservation, mechanisms."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sim.model import PHASES, FacilityModel, run_replicate
from sim.model.states import External, Guard, Inmate, Origin, Responder

SEEDS = range(16)


def _outcomes(params, seeds=SEEDS, **over):
    return [run_replicate({**params, **over}, s).outcomes for s in seeds]


def test_same_seed_identical_other_seed_different(teaching_params):
    a = run_replicate(teaching_params, 7, series_every_h=1)
    b = run_replicate(teaching_params, 7, series_every_h=1)
    c = run_replicate(teaching_params, 8, series_every_h=1)
    assert a.outcomes == b.outcomes
    assert a.series.equals(b.series)
    assert a.outcomes != c.outcomes, (a.outcomes, c.outcomes)


def test_agent_counts_conserved_every_step(teaching_params):
    model = FacilityModel(seed=3, collect_every_steps=1, **teaching_params)
    n = {g: len(getattr(model, g)) for g in ("inmates", "guards", "responders", "external")}
    model.run_model()
    df = model.datacollector.get_model_vars_dataframe()
    for group, states in (
        ("inmates", Inmate),
        ("guards", Guard),
        ("responders", Responder),
        ("external", External),
    ):
        cols = [f"{group}_{s.name.lower()}" for s in states]
        totals = df[cols].sum(axis=1)
        assert (totals == n[group]).all(), f"{group}: {totals.unique()} != {n[group]}"
    assert len(df) == model.steps + 1  # the initial state plus one row a step


def test_mesa_conventions(teaching_params):
    model = FacilityModel(seed=1, **teaching_params)
    assert model.steps == 0 and model.running
    model.step()
    assert model.steps == 1
    assert PHASES == (
        "events",
        "external_force",
        "uprising",
        "response",
        "engagement",
        "movement",
        "bookkeeping",
    )
    with pytest.raises(KeyError):
        FacilityModel(seed=1, not_a_parameter=3)


def test_step_after_the_end_changes_nothing(teaching_params):
    model = FacilityModel(seed=2, **teaching_params)
    model.run_model()
    steps, outcomes, counts = model.steps, model.outcomes(), dict(model.counts)
    rows = len(model.datacollector.get_model_vars_dataframe())
    for _ in range(5):
        model.step()
    assert (model.steps, model.outcomes(), model.counts) == (steps, outcomes, counts)
    assert len(model.datacollector.get_model_vars_dataframe()) == rows


def test_no_external_force_and_no_trigger_nobody_leaves(teaching_params):
    for o in _outcomes(teaching_params, range(8), attackers=0, initial_rioter_share=0.0):
        assert o["left_custody"] == 0, o
        assert o["surrendered_inside"] == 0, o
        assert o["control_restored"] == 1, o


def test_uprising_without_external_force_is_contained_inside(teaching_params):
    """With an internal uprising but no external force, the perimeter stays intact."""
    outs = _outcomes(teaching_params, range(6), attackers=0)
    assert all(o["surrendered_inside"] > 0 for o in outs), outs
    assert sum(o["left_custody"] for o in outs) <= sum(o["surrendered_inside"] for o in outs)


def _paired_not_worse(params, lever, better, worse, outcome="left_custody"):
    """Mean of (outcome at the better lever value - at the worse) must not be above noise
    (two standard errors of the paired differences, common random numbers)."""
    b = np.array([o[outcome] for o in _outcomes(params, SEEDS, **{lever: better})])
    w = np.array([o[outcome] for o in _outcomes(params, SEEDS, **{lever: worse})])
    d = b - w
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert d.mean() <= 2 * se, (
        f"{lever}={better} gave mean {outcome} {b.mean():.1f} vs {w.mean():.1f} at {worse}: "
        f"diff {d.mean():.1f} > 2 SE {2 * se:.1f}"
    )
    return b.mean(), w.mean()


def test_more_guards_never_raise_left_custody(teaching_params):
    _paired_not_worse(teaching_params, "guards_per_100_inmates", 8.0, 1.0)


def test_warning_acted_on_never_raises_left_custody(teaching_params):
    params = {**teaching_params, "warning_acted_on": 1.0}
    better, worse = _paired_not_worse(params, "warning_lead_time_h", 24.0, 0.0)
    assert better < worse, (better, worse)  # and it does help here


def test_shorter_responder_delay_never_raises_left_custody(teaching_params):
    better, worse = _paired_not_worse(teaching_params, "responder_delay_h", 0.5, 12.0)
    assert better < worse, (better, worse)


def test_repatriation_removes_stated_share_of_stated_groups(teaching_params):
    p = {
        **teaching_params,
        "inmates_adult": 1000,
        "inmates_minor": 100,
        "iraqi_share": 0.3,
        "third_country_share": 0.2,
    }
    base = FacilityModel(seed=2, **p)
    rep = FacilityModel(seed=2, **{**p, "repatriation_share": 0.4})

    def adults(m, origin):
        return int(((m.inmates.origin == origin) & ~m.inmates.minor).sum())

    assert adults(base, Origin.IRAQI) == 300 and adults(base, Origin.THIRD_COUNTRY) == 200
    assert adults(rep, Origin.IRAQI) == 300 - 120, adults(rep, Origin.IRAQI)
    assert adults(rep, Origin.THIRD_COUNTRY) == 200 - 80, adults(rep, Origin.THIRD_COUNTRY)
    assert adults(rep, Origin.SYRIAN) == adults(base, Origin.SYRIAN) == 500
    assert len(rep.inmates) == len(base.inmates) - 200
    assert int(rep.inmates.minor.sum()) == 100  # minors are not repatriated by this lever


def test_separating_minors_removes_their_exposure(teaching_params):
    kept = _outcomes(teaching_params, range(4))
    moved = _outcomes(teaching_params, range(4), separate_minors=True)
    assert all(o["minors_exposed"] > 0 for o in kept), [o["minors_exposed"] for o in kept]
    assert all(o["minors_exposed"] == 0 for o in moved), [o["minors_exposed"] for o in moved]
    assert (
        FacilityModel(seed=0, **{**teaching_params, "separate_minors": True}).inmates.minor.sum()
        == 0
    )


def test_policy_arm_equal_to_base_gives_identical_outcomes(teaching_params):
    """Common random numbers: setting a lever to its default changes nothing at all."""
    for s in range(3):
        a = run_replicate(teaching_params, s).outcomes
        b = run_replicate(
            {**teaching_params, "warning_lead_time_h": 0.0, "repatriation_share": 0.0}, s
        ).outcomes
        assert a == b


def test_perimeter_integrity_one_keeps_everyone_inside_before_gates_open(teaching_params):
    """An unbreachable perimeter: flight only through a gate the uprising opened."""
    m = FacilityModel(seed=4, **{**teaching_params, "perimeter_integrity": 1.0})
    m.run_model()
    assert not m.breached.any()


def test_model_imports_no_plotting_or_ui():
    code = (
        "import sys, sim.model, sim.model.outcomes; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'solara') "
        "or (m.startswith('sim.') and not m.startswith('sim.model'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_closed_blocks_hold_their_inmates(teaching_params):
    """Rioters in a block nobody opened stay inside it (regression: next_hop let agents
    on impassable cells step out)."""
    p = {
        **teaching_params,
        "attackers": 0,
        "initial_rioter_share": 1.0,
        "block_seizure_rate": 0.0,
        "responder_size": 0,
        "ground_support_size": 0,
    }
    m = FacilityModel(seed=5, **p)
    start_block = m.layout.block[m.inmates.pos].copy()
    for _ in range(12):
        m.step()
    assert (m.inmates.state == Inmate.RIOTING).sum() > 0
    moved = int((m.layout.block[m.inmates.pos] != start_block).sum())
    assert moved == 0, f"{moved} inmates left a closed block"
    assert not m.inmates.left_custody.any()


@pytest.mark.parametrize("name", ["horizon_h", "attackers"])
def test_a_number_beyond_any_float_is_refused_as_a_bad_value(teaching_params, name):
    """Through the Python API too (the file loaders refuse it before): a ValueError naming
    the value, not an OverflowError from deep in the model."""
    with pytest.raises(ValueError, match=r"too large|outside"):
        FacilityModel(seed=1, **{**teaching_params, name: 10**400})
