"""The browser demo (``prisonsim demo``, or ``solara run sim.viz.app``).

A Solara app around the Mesa model, in the layout of Mesa's SolaraViz (settings in the
sidebar, the model in the main area) but with its own controls: SolaraViz redraws every
component on every step and its sliders show no value, which held play to about one step a
second. Three pages, as tabs:

* **Live model**: one run, played at a chosen number of steps per second, its map and
  charts drawn as SVG from the model's arrays (:mod:`sim.viz.svg`), an end-of-run banner
  with the outcome table;
* **Many runs**: N replicates of the sidebar's settings in the background, one dot per run;
* **Compare two policies**: two runs with the same seed, policy B's levers changed.

The sidebar's settings (seed, levers, uncertainties) are shared by the three pages; each
page says when what it shows was built from other values than the sidebar's.
The scenario comes from ``PRISONSIM_DEMO_SCENARIO`` (a shipped name or a file; default
``teaching_small``). Offline: ``solara-assets`` installed, telemetry off (set by the CLI).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import solara
import solara.lab

from sim.analysis.plots import label
from sim.experiments.seeds import DEFAULT_SEED, SEED_RANGE, seed_in_range
from sim.model.params import LEVERS
from sim.viz import explain
from sim.viz.compare import PolicyComparison, lever_values
from sim.viz.inputs import (
    SEED_SLIDER,
    DemoModel,
    InputSpec,
    bare_value,
    changed_values,
    input_specs,
    load_demo_scenario,
)
from sim.viz.palette import inmate_looks
from sim.viz.runs import (
    DEFAULT_RUNS,
    MAX_RUNS,
    difference_svg,
    distribution_svg,
    pair_rows,
    run_many,
    run_pairs,
    summary_rows,
)
from sim.viz.svg import Line, facility_svg, legend_html, nice_ceiling, time_chart_svg

SCENARIO_ENV = "PRISONSIM_DEMO_SCENARIO"
SCENARIO = load_demo_scenario(os.environ.get(SCENARIO_ENV))
SPECS = input_specs(SCENARIO.params)
FIXED = {k: v for k, v in SCENARIO.overrides.items() if k not in SPECS}
"""The scenario's other overrides (settings such as ``housing_blocks``), passed unchanged."""
TITLE = "prisonsim teaching demo: abstract, schematic, non-operational"
SPEEDS = {
    "1 step/s": 1.0,
    "2 steps/s": 2.0,
    "5 steps/s": 5.0,
    "10 steps/s": 10.0,
    "20 steps/s": 20.0,
    "as fast as possible": 0.0,
}
DEFAULT_SPEED = "10 steps/s"


def scenario_settings() -> dict[str, Any]:
    """The sidebar's starting values: the scenario's, and the default seed."""
    return {"seed": DEFAULT_SEED, **{name: spec.start for name, spec in SPECS.items()}}


def build(settings: dict[str, Any], **levers: Any) -> DemoModel:
    """A model from sidebar settings (optionally with other lever values)."""
    values = {k: v for k, v in settings.items() if k != "seed"}
    return DemoModel(seed=int(settings["seed"]), **FIXED, **values, **levers)


settings = solara.reactive(scenario_settings())
applied = solara.reactive(dict(settings.value))
live: solara.Reactive[DemoModel | None] = solara.reactive(None)
"""Built on first use: a module-level model would be shared by every browser session."""
tick = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(DEFAULT_SPEED)
measured_rate = solara.reactive(0.0)


def html(tag: str, text: str, style: str = "", classes: list[str] | None = None) -> None:
    """Static HTML (solara.Markdown would fetch KaTeX from a CDN: not offline)."""
    solara.HTML(tag=tag, unsafe_innerHTML=text, style=style, classes=classes or [])


def pending_note(built_from: dict[str, Any], what: str) -> None:
    """An amber note listing sidebar values that differ from those ``what`` was built with."""
    changes = changed_values(built_from, settings.value)
    if changes:
        amber_note(f"<b>The sidebar differs from {what}:</b> " + "; ".join(changes) + ".")


def amber_note(text: str) -> None:
    """A note that the results shown are not of the settings shown."""
    html("div", text, "background:#fff3cd;border:1px solid #e0b252;border-radius:4px;"
         "padding:4px 8px;margin:4px 0;font-size:13px", ["prisonsim-pending"])  # fmt: skip


def table_html(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    """The rows of an HTML table, with a header row."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<tr>{head}</tr>{body}"


# ----------------------------------------------------------------------------- sidebar


@solara.component
def NumberBox(spec: InputSpec | None, value: float, on_value: Callable[[Any], None]):
    """A typed value: any number within the hard bounds, else a one-line message."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    error, set_error = solara.use_state("")

    def typed(new: str | None) -> None:
        if spec is None:  # the seed
            ok = new is not None and new.strip().isdigit() and seed_in_range(int(new))
            set_error("" if ok else f"a whole number {SEED_RANGE}")
            if ok:
                on_value(int(new))
            return
        number, message = spec.parse(new or "")
        set_error(message)
        if number is not None:
            on_value(number)

    solara.InputText(
        "",
        value=text,
        on_value=typed,
        error=error or False,
        dense=True,
        style="max-width: 96px; min-width: 96px",
        classes=["prisonsim-number"],
    )


@solara.component
def ParamInput(
    spec: InputSpec,
    value: Any,
    on_value: Callable[[Any], None],
    reference: Any = None,
    reference_name: str = "was",
):
    """Label, always-visible value box and slider (or a switch) for one parameter.

    A value that differs from ``reference`` (the running model's, or policy A's) is
    marked in amber: ``(was 3)``, ``(A: 3)``.
    """
    changed = reference is not None and reference != value
    mark = (f" <span class='prisonsim-changed' style='color:#b26a00'>({reference_name} "
            f"{bare_value(spec.name, reference)})</span>" if changed else "")  # fmt: skip
    if spec.kind == "bool":
        with solara.Row(style="align-items: center"):
            solara.Checkbox(label=spec.label, value=bool(value), on_value=on_value)
            html("span", mark, "font-size: 13px")
        return
    lo, hi = min(spec.slider[0], value), max(spec.slider[1], value)
    slider = solara.SliderInt if spec.kind == "int" else solara.SliderFloat
    with solara.Column(gap="0px", classes=["prisonsim-input"]):
        with solara.Row(justify="space-between", style="align-items: center"):
            solara.HTML(
                tag="span",
                unsafe_innerHTML=spec.label + mark,
                style="font-size: 13px",
                classes=["prisonsim-label"],
                attributes={"title": spec.help},
            )
            NumberBox(spec, value, on_value)
        slider(
            "", value=value, min=lo, max=hi, step=spec.step, on_value=on_value, thumb_label=False
        )


def set_setting(name: str, value: Any) -> None:
    settings.value = {**settings.value, name: value}


@solara.component
def Settings():
    """The sidebar: seed, levers, uncertainties, and a way back to the scenario's values."""
    values = settings.value
    html(
        "div",
        f"<b>Settings</b> (scenario <code>{SCENARIO.name}</code>). Slider ranges are "
        "the plausible ranges; type any allowed value in the box. Hover a name for what "
        "it means.",
        "font-size: 13px",
    )
    if changed_values(applied.value, values):
        html(
            "div",
            "Amber: not yet in the live model; press Reset on <i>Live model</i> to apply.",
            "font-size: 13px; color: #b26a00",
            ["prisonsim-sidebar-pending"],
        )
    with solara.Row(style="align-items: center"):
        html("span", "Seed", "font-size: 13px; min-width: 60px")
        NumberBox(None, values["seed"], lambda v: set_setting("seed", v))
    solara.SliderInt(
        "",
        value=min(values["seed"], SEED_SLIDER[1]),
        min=SEED_SLIDER[0],
        max=SEED_SLIDER[1],
        on_value=lambda v: set_setting("seed", v),
        thumb_label=False,
    )
    for role, title in (
        ("lever", "Levers (policy choices)"),
        ("uncertainty", "Uncertainties (outside conditions)"),
    ):
        html("div", f"<b>{title}</b>", "margin-top: 8px; font-size: 13px")
        for name, spec in SPECS.items():
            if spec.role == role:
                ParamInput(spec, values[name], lambda v, n=name: set_setting(n, v),
                           applied.value.get(name))  # fmt: skip
    solara.Button(
        "Back to the scenario's values",
        text=True,
        color="primary",
        on_click=lambda: settings.set(scenario_settings()),
    )


# ----------------------------------------------------------------------------- live page


def reset() -> None:
    """Rebuild the live model from the sidebar (stops play)."""
    playing.value = False
    applied.value = dict(settings.value)
    live.value = build(settings.value)
    tick.value += 1


def advance(steps: int) -> None:
    """Step the live model ``steps`` times (0: to the end) and redraw once."""
    model = live.value
    count = 0
    while model.running and (steps == 0 or count < steps):
        model.step()
        count += 1
    tick.value += 1


@solara.component
def Player():
    """Plays the live model in a thread: one step, one redraw, paced to the chosen speed."""
    model = live.value

    def play(cancel) -> None:
        started, first_step = time.perf_counter(), model.steps
        while playing.value and model.running and not cancel.is_set():
            t0 = time.perf_counter()
            model.step()
            tick.value += 1
            elapsed = time.perf_counter() - started
            measured_rate.value = (model.steps - first_step) / max(elapsed, 1e-9)
            rate = SPEEDS[speed.value]
            if rate:
                time.sleep(max(0.0, 1.0 / rate - (time.perf_counter() - t0)))
            else:
                time.sleep(0.001)  # let the page's messages out
        playing.value = False

    solara.use_thread(play, dependencies=[playing.value, id(model)], intrusive_cancel=False)


@solara.component
def Controls():
    """Reset, play/pause, step, +1 h, to the end, speed; and the pending-settings note."""
    model = live.value
    tick.get()
    ended = not model.running
    with solara.Row(style="align-items: center; flex-wrap: wrap", classes=["prisonsim-controls"]):
        solara.Button("Reset", color="primary", on_click=reset, icon_name="mdi-restart")
        solara.Button(
            "❚❚ Pause" if playing.value else "▶ Play",
            color="primary",
            disabled=ended,
            on_click=lambda: playing.set(not playing.value),
        )
        solara.Button("Step", disabled=ended or playing.value, on_click=lambda: advance(1))
        solara.Button(
            "+1 h",
            disabled=ended or playing.value,
            on_click=lambda: advance(max(1, round(1 / model.dt_h))),
        )
        solara.Button("To the end", disabled=ended or playing.value, on_click=lambda: advance(0))
        solara.Select(
            "Speed", values=list(SPEEDS), value=speed, dense=True, style="max-width: 180px"
        )
    pending_note(applied.value, "the running model; press Reset to apply it")
    Player()


@solara.component
def Status(model: DemoModel, steps: int):
    """Simulated time, step, stage of the event, and what is happening."""
    rate = f" · playing at {measured_rate.value:.1f} steps/s" if playing.value else ""
    html(
        "div",
        f"<b>{explain.clock(model.t_h)}</b> after the start (step <b>{model.steps}</b>) · "
        f"stage: <b>{explain.stage(model)}</b> · {explain.situation(model)}{rate}",
        "font-size: 14px; margin: 2px 0",
        ["prisonsim-status"],
    )


def outcome_table(model: DemoModel) -> str:
    """Every registered outcome: name, value, unit, one-line definition."""
    body = "".join(
        f"<tr><td style='white-space:nowrap'><b>{n}</b></td><td style='text-align:right'>{v}</td>"
        f"<td style='white-space:nowrap'>{u}</td>"
        f"<td style='color:#444'>{d}</td></tr>"
        for n, v, u, d in explain.outcome_rows(model)
    )
    return f"<table class='prisonsim-outcomes'>{body}</table>"


@solara.component
def EndBanner(model: DemoModel, steps: int):
    """Shown once the run has ended: what happened, the outcomes, why they differ."""
    if model.running:
        return
    with solara.Column(
        classes=["prisonsim-end"],
        style="background:#e8f4ea;border:1px solid "
        "#66a182;border-radius:4px;padding:6px 10px;gap:2px",
    ):
        html("div", f"<b>{explain.end_banner(model)}</b> Outcomes of this run:", "font-size: 15px")
        html("div", outcome_table(model), "font-size: 13px")
        note = explain.horizon_note(model)
        if note:
            html("div", note, "font-size: 13px", ["prisonsim-horizon-note"])


def series(model: DemoModel) -> tuple[list[float], dict[str, list[float]]]:
    """The DataCollector's series so far: times (h) and values by name."""
    data = model.datacollector.model_vars
    return list(data.get("t_h", [])), data


def charts(
    model: DemoModel, height: int = 165, width: int = 560, x_max: float | None = None
) -> tuple[str, str]:
    """The inmates-by-state chart and the held-share chart, as SVG (x axis to ``x_max``)."""
    t, data = series(model)
    lines = [
        Line(k.text, k.colour, data[name]) for name, k in inmate_looks().items() if name in data
    ]
    total = float(len(model.inmates.state))
    states = time_chart_svg(
        t,
        lines,
        title="Inmates by state (persons)",
        y_max=total,
        height=height,
        width=width,
        x_max=x_max,
        css_class="prisonsim-chart-states",
    )
    held = time_chart_svg(
        t,
        [Line("held share", "#d1495b", data.get("share_held", [0.0] * len(t)), fill=True)],
        title="Share of the facility held by the uprising (0-1)",
        y_max=1.0,
        height=100,
        width=width,
        css_class="prisonsim-chart-held",
    )
    return states, held


@solara.component
def LiveView(model: DemoModel):
    """Status, end banner, map, charts and legend; redrawn on every step."""
    tick.get()
    Status(model, model.steps)
    EndBanner(model, model.steps)
    states, held = charts(model)
    with solara.Columns([2, 3], gutters_dense=True):
        html("div", facility_svg(model), "line-height: 0", ["prisonsim-map"])
        with solara.Column(gap="0px"):
            html("div", states, "line-height: 0")
            html("div", held, "line-height: 0")
    html("div", legend_html(columns=4), "margin-top: 2px")
    for note in model.notes:
        solara.Warning(note)


def live_model() -> DemoModel:
    """The session's live model, built from the sidebar on first use."""
    if live.value is None:
        live.value = build(settings.value)
    return live.value


@solara.component
def LivePage():
    live_model()
    with solara.Column(gap="4px", style="max-width: 1400px"):
        html(
            "p",
            explain.INTRO,
            "font-size: 13.5px; margin: 0; max-width: 1100px",
            ["prisonsim-intro"],
        )
        Controls()
        LiveView(live.value)
        html(
            "p",
            explain.phases_text(SCENARIO.params["step_minutes"]),
            "font-size: 12px; color: #555; margin-top: 6px",
        )


# ----------------------------------------------------------------------------- many runs

runs_settings = solara.reactive(None)
runs_done = solara.reactive(0)
runs_stop = solara.reactive(False)
runs_count = solara.reactive(DEFAULT_RUNS)


@solara.lab.task(prefer_threaded=True)
def replicate_task(values: dict[str, Any], n: int):
    """Seeds 1..n of ``values`` (the sidebar at the time of the click), one after another."""
    runs_done.value = 0
    runs_stop.value = False
    params = {**FIXED, **{k: v for k, v in values.items() if k != "seed"}}
    return run_many(
        params, range(1, n + 1), on_progress=runs_done.set, stop=lambda: runs_stop.value
    )


def start_runs() -> None:
    runs_settings.value = dict(settings.value)
    replicate_task(dict(settings.value), int(runs_count.value))


@solara.component
def RunsResults(runs, values: dict[str, Any]):
    """The spread of the main outcomes over the runs, with a summary table."""
    outcomes = explain.main_outcomes()
    model = live_model()
    live_out = model.outcomes() if not model.running else {}
    same = changed_values(applied.value, values) == [] and 1 <= model.seed <= len(runs)
    if SCENARIO.compare_with_reported:
        note = "Shaded: the reported range of the event, where there is one."
    else:
        note = (
            f"No reported ranges are drawn: {SCENARIO.name} is smaller than the reported "
            "event, so its totals are not comparable with it."
        )
    html(
        "p",
        f"{len(runs)} runs with seeds 1 to {len(runs)}. Each dot is one run; the dashed "
        "line is the mean"
        + (" and ▼ marks the live run (same settings and seed)" if same and live_out else "")
        + f". {note}",
        "font-size: 13px",
        ["prisonsim-runs-caption"],
    )
    with solara.ColumnsResponsive(6, large=4):
        for name in outcomes:
            html(
                "div",
                distribution_svg(
                    runs,
                    name,
                    show_reported=SCENARIO.compare_with_reported,
                    live_value=live_out.get(name) if same else None,
                ),
                "line-height: 0",
                ["prisonsim-distribution"],
            )
    headers = ("outcome", "mean", "median", "5% to 95% of runs", "lowest to highest")
    html("table", table_html(headers, summary_rows(runs, outcomes)), "font-size: 13px",
         ["prisonsim-summary"])  # fmt: skip


@solara.component
def RunsPage():
    html(
        "p",
        "One run is one possible history. Here the settings in the sidebar run many "
        "times, each with another seed, so you can see how much the outcomes vary by chance "
        "alone before reading anything into a difference between two runs.",
        "font-size: 14px; max-width: 1100px",
    )
    task = replicate_task
    with solara.Row(style="align-items: center"):
        solara.InputInt("Number of runs", value=runs_count, style="max-width: 140px", dense=True)
        solara.Button(
            f"Run {runs_count.value} times",
            color="primary",
            on_click=start_runs,
            disabled=task.pending or not 1 <= runs_count.value <= MAX_RUNS,
        )
        solara.Button("Stop", disabled=not task.pending, on_click=lambda: runs_stop.set(True))
    if not 1 <= runs_count.value <= MAX_RUNS:
        solara.Error(f"Number of runs: allowed 1 to {MAX_RUNS}.")
    if task.pending:
        done, n = runs_done.value, runs_count.value
        solara.ProgressLinear(100 * done / max(n, 1), classes=["prisonsim-progress"])
        solara.Text(f"{done} of {n} runs done")
    if runs_settings.value is not None and task.latest is not None and not task.pending:
        pending_note(runs_settings.value, "these runs' settings")
        RunsResults(task.latest, runs_settings.value)
    if task.error:
        solara.Error(f"The runs failed: {task.exception}")


# ----------------------------------------------------------------------------- compare page

comparison = solara.reactive(None)
policy_b = solara.reactive({})
compare_tick = solara.reactive(0)
compare_from = solara.reactive({})


def restart_comparison() -> None:
    """Both arms at t = 0 from the sidebar's settings; B with its changed levers."""
    values = dict(settings.value)
    base = {**FIXED, **{k: v for k, v in values.items() if k != "seed"}}
    levers_a = lever_values(values)
    levers_b = {**levers_a, **policy_b.value}
    comparison.value = PolicyComparison(base, int(values["seed"]), levers_a, levers_b)
    compare_from.value = values
    compare_tick.value += 1


def set_policy_b(name: str, value: Any) -> None:
    policy_b.value = {**policy_b.value, name: value}
    restart_comparison()


def compare_rows(rows: list[tuple[str, float, float]]) -> str:
    """An HTML table: name with unit, A, B, B − A.

    A and B are shown to :data:`explain.DECIMALS` decimals and B − A is the difference of
    the numbers shown, so a student can check it (0.134 and 0.137 differ by 0.003, not 0).
    """
    cell = "style='text-align:right;padding:1px 12px'"
    head = f"<tr><th></th><th {cell}>A</th><th {cell}>B</th><th {cell}>B − A</th></tr>"
    body = ""
    for n, a, b in rows:
        a_shown, b_shown = round(a, explain.DECIMALS), round(b, explain.DECIMALS)
        body += (
            f"<tr><td>{label(n)}</td><td {cell}>{explain.exact(a_shown)}</td>"
            f"<td {cell}>{explain.exact(b_shown)}</td>"
            f"<td {cell}>{explain.exact(round(b_shown - a_shown, explain.DECIMALS))}</td></tr>"
        )
    return f"<table class='prisonsim-diff'>{head}{body}</table>"


def arm_title(arm: str, model: DemoModel) -> str:
    if model.running:
        return f"Policy {arm}: {explain.clock(model.t_h)} (step {model.steps})"
    return f"Policy {arm}: {explain.end_banner(model)[4:]}"


@solara.component
def ArmPanel(arm: str, model: DemoModel, steps: int, x_max: float):
    """One arm: its time, map and inmates chart (time axis shared with the other arm)."""
    states, _ = charts(model, height=170, width=460, x_max=x_max)
    with solara.Card(classes=[f"prisonsim-arm-{arm}"], style="padding: 6px"):
        html(
            "div",
            f"<b>{arm_title(arm, model)}</b>",
            "font-size: 14px",
            [f"prisonsim-arm-time-{arm}"],
        )
        html(
            "div",
            facility_svg(model, f"prisonsim-compare-{arm}"),
            "line-height: 0; max-width: 380px; margin: 0 auto",
        )
        html("div", states, "line-height: 0")


def differences_text(levers_a: dict[str, Any], levers_b: dict[str, Any]) -> str:
    changed = changed_values(levers_a, levers_b)
    if not changed:
        return "Policies A and B are identical: both runs must match exactly."
    return "Policy B differs from A in: " + "; ".join(changed) + "."


@solara.component
def PolicyBInputs():
    """B's lever values (A's are the sidebar's); a change restarts both runs."""
    values = {**lever_values(compare_from.value or settings.value), **policy_b.value}
    title = "Policy B's levers (a change restarts both runs; amber: differs from A)"
    levers_a = lever_values(compare_from.value or settings.value)
    with solara.Column(classes=["prisonsim-policy-b"]), solara.Details(title, expand=True):
        with solara.ColumnsResponsive(12, large=4):
            for name, spec in SPECS.items():
                if name in LEVERS:
                    ParamInput(spec, values[name], lambda v, n=name: set_policy_b(n, v),
                               levers_a[name], "A:")  # fmt: skip
        solara.Button(
            "B = A again",
            text=True,
            color="primary",
            on_click=lambda: (policy_b.set({}), restart_comparison()),
        )


@solara.component
def ComparePage():
    compare_tick.get()
    if comparison.value is None:
        restart_comparison()
        return
    cmp = comparison.value
    with solara.Column(gap="6px"):
        ComparePanels(cmp)


COMPARE_INTRO = (
    "Two runs with the settings in the sidebar and the same seed ({seed}): the same random "
    "numbers, so with identical levers both runs match step for step. Policy A uses the "
    "sidebar's levers; policy B changes the levers you pick below. A changed lever also "
    "changes the random draws that follow it, so one pair of runs is an anecdote: run both "
    "over many seeds below for the spread."
)


def then_redraw(action: Callable[[], None]) -> Callable[[], None]:
    """A button handler: ``action`` on the comparison, then one redraw."""

    def run() -> None:
        action()
        compare_tick.value += 1

    return run


@solara.component
def CompareControls(cmp: PolicyComparison, running: bool):
    with solara.Row(style="align-items: center; flex-wrap: wrap"):
        solara.Button("Restart both", on_click=restart_comparison, icon_name="mdi-restart")
        solara.Button("Step both", color="primary", disabled=not running,
                      on_click=then_redraw(cmp.step))  # fmt: skip
        solara.Button("+1 h", disabled=not running,
                      on_click=then_redraw(lambda: cmp.step_hours(1.0)))  # fmt: skip
        solara.Button("Run to the end", disabled=not running,
                      on_click=then_redraw(cmp.run_to_end))  # fmt: skip


@solara.component
def CompareTables(cmp: PolicyComparison, steps: int):
    """Counts now and, once both runs ended, the outcomes: A, B, B − A."""
    with solara.Columns([1, 1]):
        with solara.Column():
            html("div", "<b>Counts now</b> (the map's numbers at the current step)")
            html("div", compare_rows(cmp.count_rows()), "font-size: 13px")
        with solara.Column():
            rows = cmp.outcome_rows()
            if not rows:
                html("div", "The outcomes appear here when both runs have ended.")
                return
            html("div", "<b>Outcomes</b> (measured at the horizon; see below)")
            html("div", compare_rows(rows), "font-size: 13px", ["prisonsim-diff-outcomes"])
            for arm, model in zip("AB", cmp.models, strict=True):
                note = explain.horizon_note(model)
                if note:
                    html("div", f"Policy {arm}: {note}", "font-size: 12px; color: #444")


@solara.component
def ComparePanels(cmp: PolicyComparison):
    """Explanation, controls, the two arms, legend, B's levers and the tables."""
    compare_tick.get()
    a, b = cmp.models
    html("p", COMPARE_INTRO.format(seed=cmp.seed), "font-size: 14px; max-width: 1100px; margin: 0")
    html("div", f"<b>{differences_text(cmp.policy_a, cmp.policy_b)}</b>", "font-size: 14px",
         ["prisonsim-differences"])  # fmt: skip
    pending_note(compare_from.value, "these two runs; press Restart both to apply it")
    CompareControls(cmp, cmp.running)
    with solara.Columns([1, 1], gutters_dense=True):
        x_max = max(6.0, nice_ceiling(max(a.t_h, b.t_h)))
        ArmPanel("A", a, a.steps, x_max)
        ArmPanel("B", b, b.steps, x_max)
    html("div", legend_html(), "margin-top: 4px")
    PolicyBInputs()
    CompareTables(cmp, cmp.steps)
    ManyPairs(cmp)


# ----------------------------------------------------------------------------- many pairs

pairs_done = solara.reactive(0)
pairs_stop = solara.reactive(False)
pairs_count = solara.reactive(DEFAULT_RUNS)
pairs_of = solara.reactive(None)  # (sidebar values, policy A, policy B) of the last runs


@solara.lab.task(prefer_threaded=True)
def pairs_task(cmp: PolicyComparison, n: int):
    """Seeds 1..n of both policies of ``cmp``, one seed after another."""
    pairs_done.value = 0
    pairs_stop.value = False
    a, b = ({**cmp.base, **policy} for policy in (cmp.policy_a, cmp.policy_b))
    return run_pairs(a, b, range(1, n + 1), on_progress=pairs_done.set,
                     stop=lambda: pairs_stop.value)  # fmt: skip


def start_pairs(cmp: PolicyComparison) -> None:
    pairs_of.value = (dict(compare_from.value), dict(cmp.policy_a), dict(cmp.policy_b))
    pairs_task(cmp, int(pairs_count.value))


PAIRS_INTRO = (
    "One pair of runs is an anecdote. Here both policies run with seeds 1 to N: each seed "
    "gives A and B the same conditions and random numbers, so B − A for one seed is the "
    "policy's effect in that history plus the noise the change sets off. The spread of "
    "B − A over the seeds shows whether the difference is more than chance: if the range "
    "of the mean difference excludes 0, it is."
)


@solara.component
def ManyPairs(cmp: PolicyComparison):
    """Both policies over many seeds: B − A per seed, and a table of the mean differences."""
    task = pairs_task
    html("h3", "Many runs of both policies", "margin: 12px 0 0 0; font-size: 16px")
    html("p", PAIRS_INTRO, "font-size: 13.5px; max-width: 1100px; margin: 0")
    n = pairs_count.value
    with solara.Row(style="align-items: center"):
        solara.InputInt("Number of seeds", value=pairs_count, style="max-width: 140px", dense=True)
        solara.Button(f"Run A and B {n} times", color="primary", on_click=lambda: start_pairs(cmp),
                      disabled=task.pending or not 1 <= n <= MAX_RUNS)  # fmt: skip
        solara.Button("Stop", disabled=not task.pending, on_click=lambda: pairs_stop.set(True))
    if not 1 <= n <= MAX_RUNS:
        solara.Error(f"Number of seeds: allowed 1 to {MAX_RUNS}.")
    if task.pending:
        solara.ProgressLinear(100 * pairs_done.value / max(n, 1), classes=["prisonsim-progress"])
        solara.Text(f"{pairs_done.value} of {n} seeds done")
    if task.error:
        solara.Error(f"The runs failed: {task.exception}")
    if task.pending or task.latest is None or pairs_of.value is None or task.latest.empty:
        return
    values, policy_a, policy_b = pairs_of.value
    if (policy_a, policy_b) != (cmp.policy_a, cmp.policy_b) or values != compare_from.value:
        amber_note("<b>These runs are of other settings or policies:</b> run them again to "
                   "compare the two shown above.")  # fmt: skip
    PairResults(task.latest)


@solara.component
def PairResults(pairs):
    seeds = pairs["seed"].nunique()
    html("p", f"{seeds} seeds (1 to {seeds}), both policies each. Each dot is one seed's "
         "B − A; the dashed line is the mean, the orange line 0 (no difference).",
         "font-size: 13px", ["prisonsim-pairs-caption"])  # fmt: skip
    outcomes = explain.main_outcomes()
    with solara.ColumnsResponsive(6, large=4):
        for name in outcomes:
            html(
                "div", difference_svg(pairs, name), "line-height: 0", ["prisonsim-pair-difference"]
            )
    headers = ("outcome", "mean of A", "mean of B", "mean of B − A (about 95 % range)",
               "seeds with B lower / same / higher")  # fmt: skip
    html("table", table_html(headers, pair_rows(pairs, outcomes)), "font-size: 13px",
         ["prisonsim-summary", "prisonsim-pairs"])  # fmt: skip


# ----------------------------------------------------------------------------- layout

PAGE_CSS = """
.v-navigation-drawer { min-width: 330px !important; max-width: 330px !important;
                       width: 330px !important; }
.prisonsim-input .v-input__slider { margin-top: -6px; }
.prisonsim-input .v-messages { min-height: 0; }
.prisonsim-number input { text-align: right; padding: 2px 0 !important; }
.prisonsim-number .v-input__slot { min-height: 28px !important; }
.prisonsim-outcomes td, .prisonsim-summary td, .prisonsim-summary th { padding: 0 8px 0 0;
                                                                        text-align: left; }
.prisonsim-diff td, .prisonsim-diff th { border-bottom: 1px solid #eee; }
"""

ROUTES = (
    ("/", "Live model", "LivePage"),
    ("many-runs", "Many runs", "RunsPage"),
    ("compare-policies", "Compare two policies", "ComparePage"),
)


@solara.component
def Navigation():
    """The title and the three tabs (human names) in the app bar."""
    router = solara.use_router()
    paths = ["/" + path.strip("/") for path, _, _ in ROUTES]
    current = "/" + router.path.strip("/")
    index = paths.index(current) if current in paths else 0
    with solara.AppBarTitle():
        solara.Text(TITLE)
    with solara.AppBar(), solara.Div():  # a Div: tabs in the bar's row, not below it
        with solara.lab.Tabs(
            value=index,
            on_value=lambda i: router.push(paths[i]),
            dark=True,
            background_color="primary",
            slider_color="white",
        ):
            for _, text, _ in ROUTES:
                solara.lab.Tab(text)


@solara.component
def Layout(children: list | None = None):
    """Mesa SolaraViz's layout: title and tabs with human names, settings in the sidebar."""
    with solara.AppLayout(navigation=False, sidebar_open=True) as main:
        with solara.Sidebar():
            Settings()
            solara.Style(PAGE_CSS)
            Navigation()  # renders nothing here: title and tabs go to the app bar
        solara.Column(children=children or [])
    return main


routes = [
    solara.Route(
        path=path, component=globals()[name], label=text, layout=Layout if path == "/" else None
    )  # "/" carries the app's layout
    for path, text, name in ROUTES
]
page = LivePage
