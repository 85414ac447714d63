"""The browser demo: its helpers (fast) and the real page in headless Chromium.

The helpers (:mod:`sim.viz.inputs`, ``palette``, ``scene``, ``svg``, ``explain``,
``runs``, ``compare``) need no Solara. The browser test starts ``prisonsim demo``'s server
command on a free localhost port and drives Debian's ``/usr/bin/chromium`` with
Playwright; without that browser it is skipped locally and fails under ``CI=true``. It
prints the step rate it measured while playing; the rate is asserted only against a
generous floor (the machine may be busy), the 10 steps/s target is the page's pacing.
"""

from __future__ import annotations

import enum
import os
import re
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim.cli import main
from sim.cli.demo import INSTALL_HINT, server_command, server_env
from sim.config.scenario import load_scenario
from sim.model import run_replicate
from sim.model.outcomes import OUTCOMES
from sim.model.params import LEVERS, PARAMS, UNCERTAINTIES
from sim.model.states import Guard, Inmate
from sim.viz import explain, palette
from sim.viz.compare import PolicyComparison, shown_counts
from sim.viz.inputs import DemoModel, changed_values, fit_joint, input_specs
from sim.viz.runs import difference_svg, pair_rows, run_many, run_pairs, summary_rows
from sim.viz.scene import dominant_inmate_state, facility_rgb, markers
from sim.viz.svg import Line, facility_svg, legend_html, time_chart_svg

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
PLAY_SECONDS = 5.0
RATE_FLOOR = 2.0  # steps/s: far below the 10 the page paces to; a busy machine still passes
SCREENSHOT_DIR_ENV = "PRISONSIM_SCREENSHOTS"  # also keep the screenshots there (docs)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("teaching_small")


@pytest.fixture(scope="module")
def finished(scenario):
    """The teaching scenario, seed 1, run to its end."""
    model = DemoModel(seed=1, **scenario.params)
    model.run_model()
    return model


# ----------------------------------------------------------------------------- inputs


def test_inputs_cover_every_lever_and_uncertainty_with_plausible_slider_ranges(scenario):
    specs = input_specs(scenario.params)
    assert list(specs) == [*LEVERS, *UNCERTAINTIES], f"input order: {list(specs)}"
    for name, spec in specs.items():
        p, value = PARAMS[name], scenario.params[name]
        assert spec.start == value, (name, spec.start, value)
        if p.kind == "bool":
            assert spec.kind == "bool", (name, spec)
            continue
        words = re.findall(r"[\w-]+", p.unit)
        unit_text = "(0-1)" if p.unit == "share" else (words[-1] if words else "")
        assert unit_text in spec.label, (name, spec.label, p.unit)
        lo, hi = spec.slider
        assert p.bounds[0] <= lo <= value <= hi <= p.bounds[1], (name, spec.slider, value)
        plausible = p.sweep_range()
        if plausible[0] <= value <= plausible[1]:
            assert spec.slider == tuple(map(float, plausible)), (name, spec.slider, plausible)
        assert spec.bounds == p.bounds, (name, spec.bounds)


def test_a_scenario_smaller_than_the_event_gets_scaled_slider_ranges(scenario):
    spec = input_specs(scenario.params)["responder_size"]
    p = PARAMS["responder_size"]
    scale = scenario.params["responder_size"] / p.default
    assert spec.slider == (p.plausible[0] * scale, p.plausible[1] * scale), spec.slider
    lo, hi = spec.slider
    position = (spec.start - lo) / (hi - lo)
    assert 0.2 <= position <= 0.8, f"{spec.start} sits at {position:.0%} of {spec.slider}"


def test_typed_values_reach_the_hard_bounds_and_bad_ones_say_what_is_allowed(scenario):
    spec = input_specs(scenario.params)["responder_size"]
    assert spec.parse("5000") == (5000, ""), "the hard upper bound is reachable by typing"
    value, message = spec.parse("5001")
    assert value is None and PARAMS["responder_size"].describe_range() in message, message
    assert spec.parse("12.5")[0] is None and "whole number" in spec.parse("12.5")[1]
    assert spec.parse("many")[0] is None and "not a number" in spec.parse("many")[1]
    share = input_specs(scenario.params)["perimeter_integrity"]
    assert share.parse("1") == (1.0, "") and share.parse("1.2")[0] is None


def test_pending_changes_name_each_setting_with_old_and_new_values():
    applied = {"seed": 1, "guards_per_100_inmates": 3.0, "separate_minors": False}
    wanted = {"seed": 2, "guards_per_100_inmates": 8.0, "separate_minors": False}
    assert changed_values(applied, wanted) == [
        "Seed: 1 → 2",
        "Guards per 100 inmates: 3 → 8",
    ]
    assert changed_values(applied, applied) == []


def test_jointly_invalid_slider_values_are_fitted_with_a_note():
    fitted, notes = fit_joint({"iraqi_share": 0.7, "third_country_share": 0.5})
    assert fitted["third_country_share"] == pytest.approx(0.3), fitted
    assert len(notes) == 1 and "third-country" in notes[0], notes
    assert fit_joint({"iraqi_share": 0.3, "third_country_share": 0.2}) == (
        {"iraqi_share": 0.3, "third_country_share": 0.2},
        [],
    )


# ----------------------------------------------------------------------------- pictures


def test_map_colours_each_inmate_cell_by_its_most_common_state(scenario):
    model = DemoModel(seed=3, **scenario.params)
    for _ in range(12):
        model.step()
    image = facility_rgb(model)
    h, w = model.layout.height, model.layout.width
    assert image.shape == (h, w, 3), f"image {image.shape} vs grid {(h, w)}"
    dominant = dominant_inmate_state(model)
    occupied = np.unique(model.inmates.pos)
    assert (dominant[occupied] >= 0).all() and (np.delete(dominant, occupied) == -1).all()
    cell = occupied[0]
    states, counts = np.unique(model.inmates.state[model.inmates.pos == cell], return_counts=True)
    assert dominant[cell] in states[counts == counts.max()], (cell, states, counts)
    colour = palette.inmate_rgb()[dominant[cell]]
    assert np.allclose(image.reshape(-1, 3)[cell], colour), (image.reshape(-1, 3)[cell], colour)


def test_markers_stand_where_the_agents_are(scenario):
    model = DemoModel(seed=3, **scenario.params)
    model.step()
    shown = {m.look.text: set(zip(m.x.tolist(), m.y.tolist(), strict=True)) for m in markers(model)}
    g = model.guards
    on_duty = g.pos[np.isin(g.state, (Guard.ON_POST, Guard.RESPONDING))]
    expected = {(int(c % model.layout.width), int(c // model.layout.width)) for c in on_duty}
    assert shown["guards (on post or responding)"] == expected


def test_a_new_state_gets_a_colour_and_a_legend_entry(monkeypatch):
    members = {s.name: int(s) for s in Inmate} | {"HIDING": len(Inmate)}
    extended = enum.IntEnum("Inmate", members)
    monkeypatch.setattr(palette, "Inmate", extended)
    looks = palette.inmate_looks()
    assert looks["inmates_hiding"].text == "hiding", looks
    known = {k.colour for n, k in looks.items() if n != "inmates_hiding"}
    assert looks["inmates_hiding"].colour not in known, looks["inmates_hiding"]
    assert palette.inmate_rgb().shape == (len(extended), 3)
    guards = {s.name: int(s) for s in Guard} | {"CAPTURED": len(Guard), "HOSTAGE": len(Guard) + 1}
    group = palette.MarkerGroup("guards", enum.IntEnum("Guard", guards), "square", "guards")
    texts = [k.text for k in palette.marker_looks(group).values()]
    assert "guards, captured" in texts and "guards, hostage" in texts, texts
    assert "guards, incapacitated" not in texts, "incapacitated agents are not drawn"


def test_svg_pictures_are_well_formed_and_carry_the_step(scenario):
    model = DemoModel(seed=1, **scenario.params)
    for _ in range(5):
        model.step()
    root = ET.fromstring(facility_svg(model))
    assert root.get("data-step") == "5", root.attrib
    assert root.find("{http://www.w3.org/2000/svg}image") is not None
    data = model.datacollector.model_vars
    lines = [Line(n, "#000", data[n]) for n in ("inmates_rioting", "inmates_confined")]
    chart = ET.fromstring(time_chart_svg(data["t_h"], lines, title="t"))
    assert len(chart.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    legend = legend_html()
    for look in palette.inmate_looks().values():
        assert look.text in legend, look.text


# ----------------------------------------------------------------------------- words


def test_the_horizon_note_is_computed_from_outcomes_and_counts(finished):
    out, counts = finished.outcomes(), finished.counts
    note = explain.horizon_note(finished)
    more = out["recaptured_outside"] - counts["inmates_recaptured"]
    if more == 0:
        assert note == "", note
        return
    for number in (counts["inmates_recaptured"], out["recaptured_outside"], out["at_large"], more):
        assert re.search(rf"\b{explain.exact(number)}\b", note), (number, note)
    assert explain.clock(finished.t_h) in note, note


def test_nothing_to_explain_while_the_run_goes_on(scenario):
    model = DemoModel(seed=1, **scenario.params)
    model.step()
    assert explain.horizon_note(model) == ""
    assert "Run ended" not in explain.stage(model)


def test_the_end_banner_lists_every_registered_outcome_with_its_definition(finished):
    rows = explain.outcome_rows(finished)
    assert [r[3] for r in rows] == [o.description for o in OUTCOMES.values()]
    assert explain.end_banner(finished).startswith(f"Run ended after {explain.clock(finished.t_h)}")


def test_numbers_are_exact_enough_to_check_a_difference():
    assert (explain.exact(806.5), explain.exact(741.0), explain.exact(741 - 806.5)) == (
        "806.5",
        "741",
        "−65.5",
    )
    assert explain.exact(0.17714) == "0.177" and explain.exact(-0.0) == "0"
    assert explain.clock(3.25) == "3 h 15 min" and explain.clock(25.5) == "25 h 30 min"
    assert explain.clock(0) == "0 min" and explain.clock(50) == "2 d 2 h"


# ----------------------------------------------------------------------------- runs


def test_many_runs_are_the_replicates_of_their_seeds_and_can_stop(scenario):
    seen: list[int] = []
    runs = run_many(scenario.params, [4, 5, 6], on_progress=seen.append)
    assert seen == [1, 2, 3] and runs["seed"].tolist() == [4, 5, 6]
    for _, row in runs.iterrows():
        expected = run_replicate(scenario.params, int(row["seed"])).outcomes
        assert {k: row[k] for k in expected} == expected, (row["seed"], expected)
    stopped = run_many(scenario.params, range(1, 10), stop=lambda: len(seen) >= 4,
                       on_progress=seen.append)  # fmt: skip
    assert len(stopped) == 1, f"runs after stop: {len(stopped)}"
    table = summary_rows(runs, ["left_custody"])
    assert table[0][1] == explain.exact(runs["left_custody"].mean()), table


def test_many_pairs_are_both_policies_on_the_same_seeds_and_can_stop(scenario):
    a = dict(scenario.params) | {"guards_per_100_inmates": 2.0}
    b = dict(scenario.params) | {"guards_per_100_inmates": 10.0}
    seen: list[int] = []
    pairs = run_pairs(a, b, [3, 4, 5], on_progress=seen.append)
    assert seen == [1, 2, 3] and pairs[["seed", "arm"]].values.tolist() == [
        [3, "A"], [3, "B"], [4, "A"], [4, "B"], [5, "A"], [5, "B"]
    ]  # fmt: skip
    for _, row in pairs.iterrows():
        expected = run_replicate(a if row["arm"] == "A" else b, int(row["seed"])).outcomes
        assert {k: row[k] for k in expected} == expected, (row["seed"], row["arm"])
    d = [pairs.loc[(pairs["seed"] == s) & (pairs["arm"] == "B"), "left_custody"].item()
         - pairs.loc[(pairs["seed"] == s) & (pairs["arm"] == "A"), "left_custody"].item()
         for s in (3, 4, 5)]  # fmt: skip
    row = pair_rows(pairs, ["left_custody"])[0]
    assert row[3].startswith(explain.exact(float(np.mean(d)))), (row, d)
    lower, same, higher = (int(x) for x in row[4].split(" / "))
    assert (lower, same, higher) == (sum(x < 0 for x in d), d.count(0), sum(x > 0 for x in d))
    svg = difference_svg(pairs, "left_custody")
    assert len(ET.fromstring(svg).findall(".//{http://www.w3.org/2000/svg}circle")) == 3
    stopped = run_pairs(a, b, range(1, 10), stop=lambda: len(seen) >= 4, on_progress=seen.append)
    assert stopped["seed"].nunique() == 1, stopped


def test_many_pairs_of_identical_policies_differ_by_nothing(scenario):
    pairs = run_pairs(dict(scenario.params), dict(scenario.params), range(1, 6))
    for row in pair_rows(pairs, explain.main_outcomes()):
        assert row[1] == row[2] and row[4] == "0 / 5 / 0", row


# ----------------------------------------------------------------------------- compare


def test_comparison_of_identical_policies_gives_identical_counts(scenario):
    levers = {"guards_per_100_inmates": 5.0, "warning_lead_time_h": 12.0}
    cmp = PolicyComparison(dict(scenario.params), 11, levers, dict(levers))
    cmp.step(30)
    a, b = cmp.models
    assert a.steps == b.steps == 30, (a.steps, b.steps)
    assert a.counts == b.counts, f"A {a.counts} vs B {b.counts}"
    cmp.run_to_end()
    rows = cmp.outcome_rows()
    assert rows and all(x == y for _, x, y in rows), rows
    assert [r[0] for r in cmp.count_rows()] == shown_counts()
    assert {f"inmates_{s.name.lower()}" for s in Inmate} <= set(shown_counts())


def test_comparison_arms_differ_only_in_their_levers_and_step_together(scenario):
    cmp = PolicyComparison(
        dict(scenario.params), 11, {"guards_per_100_inmates": 2.0}, {"guards_per_100_inmates": 10.0}
    )
    a, b = cmp.models
    diff = {k for k in a.p if a.p[k] != b.p[k]}
    assert diff == {"guards_per_100_inmates"}, diff
    cmp.step_hours(2.0)
    assert a.steps == b.steps == 8, (a.steps, b.steps)
    with pytest.raises(KeyError, match="not levers"):
        PolicyComparison(dict(scenario.params), 1, {"attackers": 5}, {})


# ----------------------------------------------------------------------------- cli


def test_demo_without_the_extra_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr("sim.cli.demo.missing_packages", lambda: ["solara"])
    assert main(["demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and INSTALL_HINT in err[0], err


def test_demo_with_a_bad_scenario_exits_2(monkeypatch, capsys):
    monkeypatch.setattr("sim.cli.demo.missing_packages", list)
    assert main(["demo", "no_such_scenario"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err
    assert main(["demo", "teaching_small", "--scenario", "ghwayran_2022"]) == 2
    assert "give one" in capsys.readouterr().err


def test_demo_takes_the_scenario_as_an_argument_or_an_option(monkeypatch, capsys):
    started = []
    monkeypatch.setattr("sim.cli.demo.missing_packages", list)
    monkeypatch.setattr("sim.cli.demo.subprocess.Popen", lambda cmd, env: started.append(env)
                        or type("P", (), {"wait": lambda self: 0})())  # fmt: skip
    assert main(["demo", "ghwayran_2022"]) == 0
    assert main(["demo", "--scenario", "teaching_small"]) == 0
    shown = [Path(env["PRISONSIM_DEMO_SCENARIO"]).stem for env in started]
    assert shown == ["ghwayran_2022", "teaching_small"], shown
    assert "scenario ghwayran_2022 on http://" in capsys.readouterr().out


def test_server_env_is_offline_and_makes_sim_importable():
    env = server_env("teaching_small", base={})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false", env
    assert env["SOLARA_THEME_SHOW_BANNER"] == "false", env
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


class Browser:
    """A Playwright page on the demo, collecting console errors and outside requests."""

    def __init__(self, sync_api, context, url: str, shots: list[Path]):
        self.expect = sync_api.expect
        self.context = context
        self.url = url
        self.shots = shots
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page = self.open((1280, 720))

    def open(self, size: tuple[int, int]):
        page = self.context.new_page()
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._local_only)
        return page

    def _local_only(self, route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def shot(self, name: str, page=None) -> None:
        path = self.shots[0] / name
        (page or self.page).wait_for_timeout(800)  # Solara fades new content in
        (page or self.page).screenshot(path=str(path))
        self.shots.append(path)

    def step_shown(self) -> int:
        """The step of the map the browser shows now."""
        value = self.page.evaluate(
            "() => document.querySelector('.prisonsim-facility')?.getAttribute('data-step')"
        )
        return int(value)

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)


def _live_page(b: Browser) -> None:
    """Intro first, values visible, step, play for a fixed time, move a slider, reset."""
    page, expect = b.page, b.expect
    page.goto(b.url)
    expect(page.locator(".prisonsim-facility")).to_be_visible()
    expect(page.locator(".prisonsim-intro")).to_contain_text("schematic grid, not a real site")
    expect(page.locator(".prisonsim-legend")).to_be_in_viewport()  # at a projector's size
    expect(page.get_by_role("tab", name="Compare two policies")).to_be_visible()
    guards = page.locator(".prisonsim-input").filter(has_text="Guards per 100 inmates")
    number = guards.locator(".prisonsim-number input")
    expect(number).to_have_value("3")
    b.button("Step").click()
    expect(page.locator(".prisonsim-status")).to_contain_text("15 min after the start (step 1)")
    b.shot("demo_live_1280x720_start.png")
    b.button("▶ Play").click()
    start, first = time.monotonic(), b.step_shown()
    time.sleep(PLAY_SECONDS)
    rate = (b.step_shown() - first) / (time.monotonic() - start)
    b.shot("demo_live_1280x720_playing.png")
    print(f"\nbrowser step rate while playing at the default speed: {rate:.1f} steps/s")
    assert rate >= RATE_FLOOR, f"{rate:.1f} steps/s in the browser (floor {RATE_FLOOR})"
    expect(page.locator(".prisonsim-end")).to_contain_text("Run ended after", timeout=60_000)
    b.shot("demo_live_1280x720_end.png")
    guards.get_by_role("slider").focus()
    page.keyboard.press("End")  # the slider's top: the plausible range's top
    expect(page.locator(".prisonsim-pending")).to_contain_text("Guards per 100 inmates: 3 → 8")
    expect(number).to_have_value("8")
    expect(guards.locator(".prisonsim-changed")).to_have_text("(was 3)")
    number.fill("12")  # beyond the slider, within the hard bounds
    number.press("Enter")
    expect(page.locator(".prisonsim-pending")).to_contain_text("Guards per 100 inmates: 3 → 12")
    b.shot("demo_live_1280x720_pending.png")
    b.button("Reset").click()
    expect(page.locator(".prisonsim-pending")).to_have_count(0)
    expect(page.locator(".prisonsim-status")).to_contain_text("(step 0)")
    b.button("Back to the scenario's values").click()
    expect(number).to_have_value("3")
    expect(page.locator(".prisonsim-pending")).to_contain_text("Guards per 100 inmates: 12 → 3")


def _runs_page(b: Browser) -> None:
    page, expect = b.page, b.expect
    page.get_by_role("tab", name="Many runs").click()
    b.button("Run 50 times").click()
    expect(page.locator(".prisonsim-distribution")).to_have_count(
        len(explain.main_outcomes()), timeout=180_000
    )
    expect(page.locator(".prisonsim-runs-caption")).to_contain_text("50 runs with seeds 1 to 50")
    dots = page.locator(".prisonsim-distribution").first.locator("circle")
    expect(dots).to_have_count(50)
    b.shot("demo_runs_1280x720.png")


def _compare_page(b: Browser) -> None:
    page, expect = b.page, b.expect
    page.get_by_role("tab", name="Compare two policies").click()
    expect(page.locator(".prisonsim-compare-B")).to_be_visible()
    expect(page.locator(".prisonsim-differences")).to_contain_text("identical")
    b_guards = page.locator(".prisonsim-policy-b .prisonsim-input").filter(
        has_text="Guards per 100 inmates"
    )
    b_guards.locator(".prisonsim-number input").fill("8")
    b_guards.locator(".prisonsim-number input").press("Enter")
    expect(page.locator(".prisonsim-differences")).to_contain_text("Guards per 100 inmates: 3 → 8")
    expect(b_guards.locator(".prisonsim-changed")).to_have_text("(A: 3)")
    b.button("+1 h").click()
    expect(page.locator(".prisonsim-arm-time-B")).to_contain_text("1 h (step 4)")
    expect(page.locator(".prisonsim-arm-time-A")).to_contain_text("1 h (step 4)")
    b.shot("demo_compare_1280x720.png")
    b.button("Run to the end").click()
    tables = page.locator(".prisonsim-diff-outcomes")
    expect(tables).to_be_visible()
    tables.scroll_into_view_if_needed()
    b.shot("demo_compare_end_1280x720.png")
    seeds = page.get_by_label("Number of seeds")
    seeds.fill("12")
    seeds.press("Enter")
    b.button("Run A and B 12 times").click()
    expect(page.locator(".prisonsim-pair-difference")).to_have_count(
        len(explain.main_outcomes()), timeout=180_000
    )
    expect(page.locator(".prisonsim-pairs-caption")).to_contain_text("12 seeds (1 to 12)")
    expect(page.locator(".prisonsim-pair-difference").first.locator("circle")).to_have_count(12)
    page.locator(".prisonsim-pairs").scroll_into_view_if_needed()
    b.shot("demo_compare_many_1280x720.png")
    big = b.open((1920, 1080))
    big.goto(b.url)
    b.expect(big.locator(".prisonsim-legend")).to_be_in_viewport()
    b.shot("demo_live_1920x1080.png", big)


def test_demo_page_in_headless_chromium(demo_server, tmp_path):
    """Loads without console errors, plays, resets with a moved slider, runs the replicate
    panel to its distribution, opens the comparison; screenshots at 1280x720 and 1920x1080."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    url, log = demo_server
    keep = os.environ.get(SCREENSHOT_DIR_ENV)
    shots = [Path(keep) if keep else tmp_path]
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS,
        )  # fmt: skip
        try:
            b = Browser(sync_api, context, url, shots)
            _live_page(b)
            _runs_page(b)
            _compare_page(b)
        finally:
            context.close()
    assert all(p.stat().st_size > 10_000 for p in shots[1:]), shots
    assert not b.errors, f"console errors: {b.errors}"
    assert not b.external, f"requests beyond localhost (the demo must work offline): {b.external}"
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log[-3000:]
