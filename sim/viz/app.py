"""The browser demo: Mesa SolaraViz app (``solara run sim.viz.app``, or ``prisonsim demo``).

Two pages (solara ``routes``; ``page`` is the first, for tools that look for it):

* **Live model**: SolaraViz's controls (Reset, play, Step) and the parameter sliders
  generated from :data:`sim.model.params.PARAMS` in the sidebar; in the main area the step's
  phase names, the facility map and the DataCollector charts.
* **Compare two policies**: two models with the same seed and base parameters, policy A
  and policy B differing only in lever values chosen on the page, stepping together.

The scenario comes from ``PRISONSIM_DEMO_SCENARIO`` (a shipped name or a file; default
``teaching_small``). Run offline: ``solara-assets`` installed, telemetry off (the CLI sets
``SOLARA_TELEMETRY_MIXPANEL_ENABLE=false``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.solara_viz import UserInputs
from mesa.visualization.utils import update_counter

from sim.analysis.plots import fmt, label, png_bytes, short, value_text
from sim.model import PHASES
from sim.model.params import PARAMS
from sim.viz.compare import PolicyComparison, lever_values
from sim.viz.drawing import facility_figure, held_chart, inmate_chart, legend_figure
from sim.viz.inputs import (
    DemoModel,
    initial_kwargs,
    load_demo_scenario,
    model_params,
    slider_specs,
)

SCENARIO_ENV = "PRISONSIM_DEMO_SCENARIO"
SCENARIO = load_demo_scenario(os.environ.get(SCENARIO_ENV))
MODEL_PARAMS = model_params(SCENARIO)
TITLE = "prisonsim demo: abstract schematic facility (non-operational)"
DPI = 100

live_model: solara.Reactive[DemoModel | None] = solara.reactive(None)
comparison: solara.Reactive[PolicyComparison | None] = solara.reactive(None)
policies: solara.Reactive[dict[str, dict[str, Any]]] = solara.reactive({})
comparison_tick = solara.reactive(0)


def new_live_model() -> DemoModel:
    """The model SolaraViz shows before any Reset: the scenario's values, default seed."""
    return DemoModel(**initial_kwargs(MODEL_PARAMS))


def phases_text(step_minutes: float) -> str:
    """``Each step (15 min of simulated time) runs: events → external_force → ...``."""
    return f"Each step ({step_minutes:g} min of simulated time) runs: " + " → ".join(PHASES)


@solara.component
def FigureImage(make: Callable[[], Figure], dependencies: list[Any], classes: list[str]):
    """A matplotlib figure as a PNG that scales to its column, re-rendered on changes."""
    data = solara.use_memo(lambda: png_bytes(make(), dpi=DPI), dependencies)
    solara.Image(data, width="100%", classes=classes)


SIDEBAR_CSS = """
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { width: 100%; max-width: 100%; margin: 0; }
"""
"""Slider labels on their own line, so long labels do not squeeze the slider."""


def html(tag: str, text: str, style: str = "") -> None:
    """Static HTML (solara.Markdown would fetch KaTeX from a CDN: not offline)."""
    solara.HTML(tag=tag, unsafe_innerHTML=text, style=style)


def values_html(model: DemoModel) -> str:
    """This run's lever and uncertainty values with units, one line per role."""
    lines = []
    for role, title in (("lever", "Levers"), ("uncertainty", "Uncertainties")):
        items = [
            f"{short(n)} <b>{value_text(n, model.p[n])}</b>"
            for n, p in PARAMS.items()
            if p.role == role
        ]
        lines.append(f"<b>{title}</b> (this run): " + "; ".join(items))
    return "<br>".join(lines)


@solara.component
def Notes(model: DemoModel):
    """The phase labels and any adjustment made to the requested values."""
    html("p", f"<b>{phases_text(model.p['step_minutes'])}</b>", "margin: 4px 0")
    for note in model.notes:
        solara.Warning(note)


@solara.component
def LivePanels(model: DemoModel):
    """Phases, facility map and charts of the live model (refreshed on every step)."""
    update_counter.get()
    deps = [id(model), model.steps]
    series = model.series_frame()
    with solara.Column(classes=["prisonsim-live"]):
        Notes(model)
        solara.Text(
            f"Scenario {SCENARIO.name}, seed {model.seed}. Step advances one step, ▶ plays, "
            "Reset rebuilds the model with the sidebar values (sliders act only on Reset). "
            "Step counter: see Information in the sidebar."
        )
        with solara.Columns([3, 2]):
            FigureImage(lambda: facility_figure(model), deps, ["prisonsim-facility"])
            with solara.Column():
                FigureImage(lambda: inmate_chart(series), deps, ["prisonsim-chart-states"])
                FigureImage(lambda: held_chart(series), deps, ["prisonsim-chart-held"])
        html("p", values_html(model), "font-size: 90%; color: #333")


@solara.component
def LivePage():
    """SolaraViz (controls and sliders in the sidebar) plus the live panels."""
    if live_model.value is None:
        live_model.value = new_live_model()
    solara.Style(SIDEBAR_CSS)
    SolaraViz(
        live_model,
        components=[],
        model_params=MODEL_PARAMS,
        name=TITLE,
        play_interval=150,
    )
    LivePanels(live_model.value)


# ------------------------------------------------------------------ comparison page


def base_of(model: DemoModel) -> tuple[dict[str, Any], int]:
    """Parameters and seed both arms start from: the live model's."""
    return dict(model.p), int(model.seed if model.seed is not None else 0)


def rebuild(model: DemoModel, chosen: dict[str, dict[str, Any]]) -> None:
    """Build both arms at t = 0 from the live model's values and the chosen levers."""
    base, seed = base_of(model)
    comparison.value = PolicyComparison(base, seed, chosen["A"], chosen["B"])
    comparison_tick.value += 1


def differences(chosen: dict[str, dict[str, Any]]) -> str:
    """``Policy B differs in: Guards per 100 inmates 3 → 8`` (or says they are equal)."""
    changed = [
        f"{label(k)}: {value_text(k, chosen['A'][k])} → {value_text(k, v)}"
        for k, v in chosen["B"].items()
        if chosen["A"].get(k) != v
    ]
    if not changed:
        return "Policies A and B are identical: both runs must match exactly."
    return "Policy B differs from A in: " + "; ".join(changed) + "."


def table_html(rows: list[tuple[str, float, float]]) -> str:
    """An HTML table: name with unit, A, B, B − A."""
    cell = 'style="text-align:right; padding: 1px 14px"'
    head = (
        f"<tr><th></th><th {cell}>Policy A</th><th {cell}>Policy B</th><th {cell}>B − A</th></tr>"
    )
    body = "".join(
        f"<tr><td>{label(n)}</td><td {cell}>{fmt(a)}</td><td {cell}>{fmt(b)}</td>"
        f"<td {cell}>{fmt(b - a)}</td></tr>"
        for n, a, b in rows
    )
    return f'<table style="border-collapse: collapse; font-size: 92%">{head}{body}</table>'


@solara.component
def ArmPanel(arm: str, model: DemoModel, chosen: dict[str, dict[str, Any]], tick: int):
    """One arm: its lever inputs and its facility map."""

    def on_change(name: str, value: Any) -> None:
        new = {k: dict(v) for k, v in chosen.items()}
        new[arm][name] = value
        policies.value = new
        rebuild(live_model.value, new)

    with solara.Card(f"Policy {arm}", classes=[f"prisonsim-arm-{arm}"]):
        FigureImage(
            lambda: facility_figure(model, f"Policy {arm}: {fmt(model.t_h)} h", legend=False),
            [id(model), model.steps, tick],
            [f"prisonsim-compare-{arm}"],
        )
        with solara.Details("Lever values of this policy", expand=arm == "B"):
            UserInputs(slider_specs(chosen[arm], roles=("lever",)), on_change=on_change)


@solara.component
def ComparePage():
    """Policy A vs policy B, same seed, stepping together."""
    if live_model.value is None:
        live_model.value = new_live_model()
    live = live_model.value
    tick = comparison_tick.value
    if not policies.value:
        levers = lever_values(live.p)
        policies.value = {"A": dict(levers), "B": dict(levers)}
    chosen = policies.value
    if comparison.value is None:
        rebuild(live, chosen)
        return
    cmp = comparison.value

    def advance(action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            action()
            comparison_tick.value += 1

        return run

    with solara.Column(classes=["prisonsim-compare"]):
        html("h3", f"Two policies, same seed ({cmp.seed})")
        html(
            "p",
            "Both runs start from the live model's values (its sidebar values at its last "
            "Reset) and differ only in the lever values below each map; changing one "
            f"restarts both. <b>{differences(chosen)}</b>",
        )
        Notes(cmp.models[0])
        with solara.Row():
            solara.Button("Restart both", on_click=lambda: rebuild(live_model.value, chosen))
            solara.Button(
                "Step both", on_click=advance(cmp.step), disabled=not cmp.running, color="primary"
            )
            solara.Button(
                "+1 h", on_click=advance(lambda: cmp.step_hours(1.0)), disabled=not cmp.running
            )
            solara.Button(
                "Run to the end", on_click=advance(cmp.run_to_end), disabled=not cmp.running
            )
            solara.Text(f"{fmt(cmp.models[0].t_h)} h after the start (step {cmp.steps})")
        with solara.Columns([1, 1]):
            for arm, model in zip("AB", cmp.models, strict=True):
                ArmPanel(arm, model, chosen, tick)
        FigureImage(legend_figure, [], ["prisonsim-legend"])
        html("h4", "Counts now")
        html("div", table_html(cmp.count_rows()))
        outcome_rows = cmp.outcome_rows()
        if outcome_rows:
            html("h4", "Outcomes at the end (registered in sim.model.outcomes)")
            html("div", table_html(outcome_rows))
        else:
            solara.Text("Outcomes (registered in sim.model.outcomes) appear when both runs end.")


COMPARE_PATH = "compare-policies"
"""Solara's tabs show route paths ("/" as "Home"), so the path is the tab's text."""

routes = [
    solara.Route(path="/", component=LivePage, label="Live model"),
    solara.Route(path=COMPARE_PATH, component=ComparePage, label="Compare two policies"),
]
page = LivePage
