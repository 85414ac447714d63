"""The browser demo: its helpers (fast) and the real page in headless Chromium.

The helpers (:mod:`sim.viz.inputs`, :mod:`sim.viz.drawing`, :mod:`sim.viz.compare`)
need only numpy and matplotlib. The browser test starts ``prisonsim demo``'s server
command on a free localhost port and drives Debian's ``/usr/bin/chromium`` with
Playwright; without that browser it is skipped locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim.cli import main
from sim.cli.demo import INSTALL_HINT, server_command, server_env
from sim.config.scenario import load_scenario
from sim.model import PHASES
from sim.model.params import LEVERS, PARAMS, UNCERTAINTIES
from sim.viz.compare import PolicyComparison
from sim.viz.drawing import dominant_inmate_state, facility_figure, facility_image
from sim.viz.inputs import (
    DemoModel,
    fit_joint,
    initial_kwargs,
    model_params,
    slider_specs,
)

COMPARE_PATH = "compare-policies"  # sim.viz.app.COMPARE_PATH (importing the app needs solara)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90
PAGE_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("teaching_small")


# ----------------------------------------------------------------------------- helpers


def test_sliders_cover_every_lever_and_uncertainty_with_declared_bounds(scenario):
    specs = slider_specs(scenario.params)
    assert list(specs) == [*LEVERS, *UNCERTAINTIES], f"slider order: {list(specs)}"
    for name, spec in specs.items():
        p = PARAMS[name]
        assert spec["value"] == scenario.params[name], (name, spec["value"], scenario.params[name])
        words = re.findall(r"[\w-]+", p.unit)
        unit_text = "(0-1)" if p.unit == "share" else (words[-1] if words else "")
        assert unit_text in spec["label"], (name, spec["label"], p.unit)
        if p.kind == "bool":
            assert spec["type"] == "Checkbox", (name, spec)
            continue
        assert (spec["min"], spec["max"]) == p.bounds, (name, spec["min"], spec["max"], p.bounds)
        assert spec["min"] <= spec["value"] <= spec["max"], (name, spec)
        expected_type = "SliderInt" if p.kind == "int" else "SliderFloat"
        assert spec["type"] == expected_type, (name, spec["type"], p.kind)
        assert 0 < spec["step"] <= (p.bounds[1] - p.bounds[0]) / 100 or p.kind == "int", (
            name,
            spec["step"],
        )


def test_sliders_start_at_the_declared_default_without_a_scenario():
    specs = slider_specs()
    wrong = {n: s["value"] for n, s in specs.items() if s["value"] != PARAMS[n].default}
    assert not wrong, f"start values differing from the defaults: {wrong}"


def test_model_params_fix_the_scenarios_settings_and_build_the_scenarios_model(scenario):
    params = model_params(scenario)
    fixed = {k: v for k, v in params.items() if not isinstance(v, dict)}
    expected = {k: v for k, v in scenario.overrides.items() if PARAMS[k].role == "setting"}
    assert fixed == expected and "housing_blocks" in fixed, (fixed, expected)
    model = DemoModel(**initial_kwargs(params))
    differing = {k: (model.p[k], v) for k, v in scenario.params.items() if model.p[k] != v}
    assert not differing, f"model vs scenario values: {differing}"


def test_jointly_invalid_slider_values_are_fitted_with_a_note():
    fitted, notes = fit_joint({"iraqi_share": 0.7, "third_country_share": 0.5})
    assert fitted["third_country_share"] == pytest.approx(0.3), fitted
    assert len(notes) == 1 and "third-country" in notes[0], notes
    assert fit_joint({"iraqi_share": 0.3, "third_country_share": 0.2}) == (
        {"iraqi_share": 0.3, "third_country_share": 0.2},
        [],
    )


def test_facility_image_has_the_grids_shape_and_colours_inmate_cells(scenario):
    model = DemoModel(seed=3, **scenario.params)
    model.step()
    image = facility_image(model)
    h, w = model.layout.height, model.layout.width
    assert image.shape == (h, w, 3), f"image {image.shape} vs grid {(h, w)}"
    assert image.min() >= 0 and image.max() <= 1, (image.min(), image.max())
    dominant = dominant_inmate_state(model)
    occupied = np.unique(model.inmates.pos)
    assert (dominant[occupied] >= 0).all() and (np.delete(dominant, occupied) == -1).all()
    fig = facility_figure(model)
    assert len(fig.legends) == 3, f"legends: {len(fig.legends)}"


def test_comparison_of_identical_policies_gives_identical_counts(scenario):
    levers = {"guards_per_100_inmates": 5.0, "warning_lead_time_h": 12.0}
    cmp = PolicyComparison(dict(scenario.params), 11, levers, dict(levers))
    assert cmp.models[0].seed == cmp.models[1].seed == 11
    cmp.step(30)
    a, b = cmp.models
    assert a.steps == b.steps == 30, (a.steps, b.steps)
    assert a.counts == b.counts, f"A {a.counts} vs B {b.counts}"
    cmp.run_to_end()
    rows = cmp.outcome_rows()
    assert rows and all(x == y for _, x, y in rows), rows


def test_comparison_arms_differ_only_in_their_levers_and_step_together(scenario):
    cmp = PolicyComparison(
        dict(scenario.params), 11, {"guards_per_100_inmates": 2.0}, {"guards_per_100_inmates": 10.0}
    )
    a, b = cmp.models
    diff = {k for k in a.p if a.p[k] != b.p[k]}
    assert diff == {"guards_per_100_inmates"}, diff
    assert len(b.guards) > len(a.guards), (len(a.guards), len(b.guards))
    cmp.step_hours(2.0)
    assert a.steps == b.steps == 8, (a.steps, b.steps)
    with pytest.raises(KeyError, match="not levers"):
        PolicyComparison(dict(scenario.params), 1, {"attackers": 5}, {})


def test_demo_without_the_extra_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr("sim.cli.demo.missing_packages", lambda: ["solara"])
    assert main(["demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and INSTALL_HINT in err[0], err


def test_demo_with_a_bad_scenario_exits_2(monkeypatch, capsys):
    monkeypatch.setattr("sim.cli.demo.missing_packages", list)
    assert main(["demo", "--scenario", "no_such_scenario"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err


def test_server_env_turns_telemetry_off_and_makes_sim_importable():
    env = server_env("teaching_small", base={})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false", env
    assert Path(env["PYTHONPATH"].split(os.pathsep)[0], "sim", "viz", "app.py").exists(), env


# ----------------------------------------------------------------------------- browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"demo server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"demo server not up after {SERVER_START_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def demo_server(tmp_path):
    """The demo's server command on a free port; always stopped afterwards.

    The browser is checked first: without Chromium the test is skipped (failed under CI)
    before a server is started.
    """
    _chromium_or_skip()
    pytest.importorskip("solara", reason=INSTALL_HINT)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            server_command("127.0.0.1", port),
            env=server_env("teaching_small"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_for_http(url, proc, log)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (Debian package 'chromium')"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; .ci/run must install it")
    pytest.skip(reason)


def test_demo_page_renders_and_steps_in_headless_chromium(demo_server, tmp_path):
    _chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, log = demo_server
    external: list[str] = []

    def local_only(route) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.route("**/*", local_only)
            page.goto(url)
            expect = sync_api.expect
            facility = page.locator(".prisonsim-facility").first
            expect(facility).to_be_visible()
            expect(page.get_by_text("Warning lead time (h)", exact=True)).to_be_visible()
            expect(page.get_by_text(" → ".join(PHASES), exact=False)).to_be_visible()
            expect(page.get_by_text("Step: 0")).to_be_visible()
            before = facility.get_attribute("src")
            page.get_by_role("button", name="Step", exact=True).click()
            expect(page.get_by_text("Step: 1")).to_be_visible()
            expect(facility).not_to_have_attribute("src", before)
            for i in range(2, 13):  # to 3 h: the uprising and the assault under way
                page.get_by_role("button", name="Step", exact=True).click()
                expect(page.get_by_text(f"Step: {i}")).to_be_visible()
            page.screenshot(path=str(tmp_path / "demo_live.png"), full_page=True)

            page.get_by_role("tab", name=COMPARE_PATH).click()
            arm_b = page.locator(".prisonsim-compare-B").first
            expect(arm_b).to_be_visible()
            expect(page.get_by_text("Policies A and B are identical")).to_be_visible()
            page.get_by_role("button", name="Step both").click()
            expect(page.get_by_text("(step 1)")).to_be_visible()
            page.screenshot(path=str(tmp_path / "demo_compare.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "demo_live.png").stat().st_size > 10_000
    assert not external, f"requests beyond localhost (the demo must work offline): {external}"
    server_log = log.read_text()
    assert "Could not load URL" not in server_log, server_log[-3000:]
    assert "Traceback" not in server_log, server_log[-3000:]
