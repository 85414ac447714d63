"""Figures (matplotlib, Agg backend). Each function takes tidy data and a path, and writes
one PNG; nothing here runs a model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

_PNG_METADATA = {"Software": None}  # no version stamp: same data, same bytes

INMATE_STATES = {
    "inmates_confined": ("confined", "#9e9e9e"),
    "inmates_agitated": ("agitated", "#f2b134"),
    "inmates_rioting": ("rioting", "#d1495b"),
    "inmates_fleeing": ("fleeing", "#8e44ad"),
    "inmates_escaped": ("escaped (beyond cordon)", "#2d3047"),
    "inmates_recaptured": ("recaptured outside", "#00798c"),
    "inmates_surrendered": ("surrendered inside", "#66a182"),
    "inmates_incapacitated": ("incapacitated", "#000000"),
}
OTHER_GROUPS = {
    "external_active": ("external force, active", "#d1495b"),
    "responders_engaged": ("responders, engaged", "#00798c"),
    "guards_active": ("guards, on post or responding", "#edae49"),
    "guards_overwhelmed": ("guards, captured", "#6c757d"),
}


def plot_state_counts(series: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Two panels over simulated hours: inmates by state; the other groups' active numbers
    with the share of the facility held by the uprising on a second axis."""
    t = series.index.to_numpy()
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for col, (label, colour) in INMATE_STATES.items():
        top.plot(t, series[col], label=label, color=colour, lw=1.8)
    top.set_ylabel("inmates (persons)")
    top.legend(loc="center right", fontsize=8, frameon=False, ncol=2)
    top.grid(alpha=0.3)
    other = pd.DataFrame(
        {
            "external_active": series[
                [
                    "external_approaching",
                    "external_breaching",
                    "external_inside",
                    "external_holding",
                ]
            ].sum(axis=1),
            "responders_engaged": series["responders_engaged"],
            "guards_active": series["guards_on_post"] + series["guards_responding"],
            "guards_overwhelmed": series["guards_overwhelmed"],
        },
        index=series.index,
    )
    for col, (label, colour) in OTHER_GROUPS.items():
        bottom.plot(t, other[col], label=label, color=colour, lw=1.8)
    bottom.set_ylabel("agents (persons)")
    bottom.set_xlabel("time since the event began (h)")
    bottom.grid(alpha=0.3)
    share = bottom.twinx()
    share.fill_between(
        t,
        series["share_held"],
        color="#d1495b",
        alpha=0.12,
        step="post",
        label="facility held by the uprising (share)",
    )
    share.set_ylim(0, 1)
    share.set_ylabel("share of facility held")
    lines, labels = bottom.get_legend_handles_labels()
    l2, lab2 = share.get_legend_handles_labels()
    bottom.legend(lines + l2, labels + lab2, loc="upper right", fontsize=8, frameon=False)
    if title:
        top.set_title(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, metadata=_PNG_METADATA)
    plt.close(fig)
    return path
