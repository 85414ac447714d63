"""Figures carry units and readable names, and say when they cannot show an interval."""

from __future__ import annotations

import matplotlib.text
from stores import policy_file, sensitivity_file, store_results

from sim.analysis import plots
from sim.analysis import tables as analysis
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _axis_labels(fig) -> list[str]:
    return [
        lab
        for ax in fig.axes
        if ax.get_visible()
        for lab in (ax.get_xlabel(), ax.get_ylabel())
        if lab
    ]


def test_every_param_and_outcome_label_has_its_unit():
    for name, p in PARAMS.items():
        if p.unit and p.unit != "share":
            assert f"({p.unit})" in plots.label(name), (name, plots.label(name))
    for name, o in OUTCOMES.items():
        assert "_" not in plots.label(name), plots.label(name)
        if o.unit not in ("share", "0/1"):
            assert f"({o.unit})" in plots.label(name), (name, plots.label(name))
    assert plots.label("control_restored", mean=True) == "Control restored (share of runs)"


def test_arm_labels_are_readable():
    assert plots.arm_text({"warning_lead_time_h": 24}) == "Warning lead time 24 h"
    assert plots.arm_text({"guards_per_100_inmates": 4, "separate_minors": True}) == (
        "4 guards/100 inmates; Separate minors yes"
    )
    assert plots.arm_text({}) == "base"


def test_response_curves_label_axes_with_units(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=5))
    table = analysis.response(res, "warning_lead_time_h", n_boot=200)
    fig = plots.response_curves(table, "warning_lead_time_h", res.outcomes)
    labels = _axis_labels(fig)
    assert "Warning lead time (h)" in labels, labels
    assert "Left custody (persons)" in labels and "Hours to control (h)" in labels, labels
    assert len(fig.axes[0].collections) == 1, "expected one interval band"


def test_single_replicate_curves_draw_no_band_and_say_so(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=1))
    table = analysis.response(res, "warning_lead_time_h", n_boot=200)
    fig = plots.response_curves(table, "warning_lead_time_h", res.outcomes)
    assert all(len(ax.collections) == 0 for ax in fig.axes), "band drawn without interval"
    assert "1 replicate: no interval" in _texts(fig)
    assert "95%" not in fig.get_suptitle(), fig.get_suptitle()


def test_distribution_caption_cites_reported_sources(tmp_path):
    res = store_results(policy_file(tmp_path, replicates=5))
    fig, captions = plots.distributions(res.runs, res.outcomes, analysis.arm_order(res))
    assert len(captions) == 1 and "outcomes.left_custody" in captions[0], captions
    assert "SEED-A" in captions[0], captions
    texts = _texts(fig)
    assert "Left custody: reported 140-800, central 450" in texts, texts
    assert "Deaths: guards: no reported range" in texts, texts
    assert sum(t.endswith("% in") for t in texts) == 3, "share inside not given per arm"
    assert all(ax.get_legend() is None for ax in fig.axes), "a legend inside a panel"


def test_heatmap_marks_cells_without_runs(tmp_path):
    levers = {"warning_lead_time_h": [0, 24], "guards_per_100_inmates": [2, 4]}
    res = store_results(policy_file(tmp_path, levers, replicates=3), skip=[3])
    table = analysis.grid(res, "warning_lead_time_h", "guards_per_100_inmates", n_boot=100)
    fig = plots.heatmaps(table, "warning_lead_time_h", "guards_per_100_inmates", res.outcomes)
    assert _texts(fig).count("no runs") == len(res.outcomes), _texts(fig)


def test_sensitivity_bars_label_parameters_with_units(tmp_path):
    ranges = {"attackers": {}, "breach_rate": {}, "warning_lead_time_h": {}}
    res = store_results(sensitivity_file(tmp_path, ranges, {"type": "sobol", "samples": 32}))
    fig = plots.sobol_bars(analysis.sobol_indices(res, num_resamples=20), res.outcomes)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Attackers (persons)" in ticks and "Warning lead time (h)" in ticks, ticks
    assert plots.png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"
