"""The report's findings in words: what the runs say, generated from the paired differences.

Everything here restates numbers the analysis already computed (:mod:`sim.analysis.tables`):

* an outcome with one value in every finished run is **constant** and said so once;
* arms whose every run gave the same outcomes as another arm's run with the same seed
  are **identical** and grouped ("12 h and beyond: no further change"), with the model's
  mechanism where a parameter declaration of the lever's group names one (a setting whose
  help says it saturates);
* for each remaining arm against the reference arm, an outcome **changed** when the 95 %
  bootstrap interval of its mean paired difference (arm - reference, runs paired on seed,
  i.e. the same sampled conditions and random numbers) excludes 0, and **did not change**
  otherwise;
* arms with failed runs are named with how many pairs their comparison rests on.

The sentences say "in the model" and "in the same conditions"; they make no causal claim
about the world and no recommendation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.analysis import plots
from sim.experiments.contract import Results
from sim.model.params import PARAMS

MAX_ARMS_IN_WORDS = 12  # more arms than this: the findings point to the tables instead


@dataclass(frozen=True)
class Findings:
    """The "What the runs say" section: a lead sentence, one item per arm group, and
    closing remarks (constant outcomes, failures, how to read the intervals)."""

    lead: str
    items: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()


def constant_outcomes(runs: pd.DataFrame, outcomes: Sequence[str]) -> dict[str, float]:
    """Outcomes with a single value over every finished run, with that value."""
    out = {}
    for o in outcomes:
        values = runs[o].dropna().unique() if o in runs else []
        if len(values) == 1:
            out[o] = float(values[0])
    return out


def identical_groups(runs: pd.DataFrame, arms: Sequence[str], outcomes: Sequence[str]) -> list:
    """Arms (in ``arms`` order) grouped when they gave identical outcomes on every seed
    they share and share all their seeds: each group a list of arm labels."""
    by_seed = {a: runs.loc[runs["arm"] == a].set_index("seed")[list(outcomes)] for a in arms}
    groups: list[list[str]] = []
    for arm in arms:
        mine = by_seed[arm].sort_index()
        for group in groups:
            other = by_seed[group[0]].sort_index()
            if mine.index.equals(other.index) and mine.equals(other):
                group.append(arm)
                break
        else:
            groups.append([arm])
    return groups


def _number(value: float, outcome: str) -> str:
    """``110 persons``, ``0.12 (share, 0-1)``."""
    u = plots.unit(outcome)
    if u == "0/1":
        return f"{plots.fmt(value)} ({'yes' if value == 1 else 'no' if value == 0 else 'share'})"
    if u == "share":
        return f"{plots.fmt(value)} (share, 0-1)"
    return f"{plots.fmt(value)} {u}".strip()


def change_sentence(row: Mapping, first: bool = False) -> str:
    """One changed outcome: ``left custody 110 persons lower (95 % interval 86 to 135)``
    (``first``) or ``... lower (86 to 135)``; the interval is of the change's size, in
    the direction named."""
    outcome, mean = row["outcome"], float(row["mean"])
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    word, lo, hi = ("lower", -hi, -lo) if mean < 0 else ("higher", lo, hi)
    span = f"{'95 % interval ' if first else ''}{plots.fmt(lo)} to {plots.fmt(hi)}"
    return f"{plots.in_sentence(outcome)} {_number(abs(mean), outcome)} {word} ({span})"


def changed(row: Mapping) -> bool:
    """Whether a paired difference's interval excludes 0."""
    lo, hi = row["ci_low"], row["ci_high"]
    return bool(pd.notna(lo) and pd.notna(hi) and (lo > 0 or hi < 0))


def _group_name(group: list[str], arms: Sequence[str], names: Mapping[str, str]) -> str:
    """``Warning lead time 12 h and beyond`` for the last arms of a single lever's order,
    else the arms' names joined."""
    if len(group) > 1 and group == list(arms[len(arms) - len(group) :]):
        return f"{names[group[0]]} and beyond"
    return ", ".join(names[a] for a in group) if len(group) > 1 else names[group[0]]


def mechanism(levers: Sequence[str]) -> str:
    """A saturating setting declared in the levers' parameter group, as a sentence
    ("In the model, ...: <its help>"), or ''."""
    groups = {PARAMS[lv].group for lv in levers if lv in PARAMS and PARAMS[lv].group}
    for p in PARAMS.values():
        if p.role == "setting" and p.group in groups and "saturat" in p.help.lower():
            value = plots.value_text(p.name, p.default)
            return f" In the model, {p.name} ({value} by default): {p.help}"
    return ""


def _arm_item(
    arm: str, diff: pd.DataFrame, outcomes: Sequence[str], constant: Mapping, ref: str
) -> str:
    """The sentence for one arm against the reference: changed outcomes, then the rest."""
    rows = diff[(diff["arm"] == arm) & diff["outcome"].isin(outcomes)]
    rows = rows[~rows["outcome"].isin(constant)]
    if rows.empty or (rows["n"] == 0).all():
        return f"no run shares a seed with {ref}: no paired comparison."
    moved = [r for _, r in rows.iterrows() if changed(r)]
    still = [plots.in_sentence(r["outcome"]) for _, r in rows.iterrows() if not changed(r)]
    text = f"against {ref} in the same conditions ({int(rows['n'].max())} paired runs), "
    if not moved:
        return text + "no outcome changed beyond its 95 % interval."
    text += "; ".join(change_sentence(r, k == 0) for k, r in enumerate(moved)) + "."
    return text + (f" Not changed beyond the interval: {', '.join(still)}." if still else "")


def no_further_change(
    results: Results, groups: list[list[str]], outcomes: Sequence[str], **boot: int
) -> list[list[str]]:
    """Merge each group into the one before it when no outcome's paired difference between
    them (the later arm against the earlier one's first arm, runs paired on seed) has an
    interval that excludes zero: for a lever in design order, "no further change". The
    intervals are the usual 95 % ones, not widened for the number of outcomes: wider
    intervals would call a real further change "no change"."""
    from sim.analysis.tables import paired_differences

    merged: list[list[str]] = []
    for group in groups:
        if merged:
            head = merged[-1][0]
            diff = paired_differences(results, head, outcomes, **boot)
            rows = diff[diff["arm"] == group[0]]
            if (
                len(rows)
                and (rows["n"] > 1).all()
                and not any(changed(r) for _, r in rows.iterrows())
            ):
                merged[-1] += group
                continue
        merged.append(list(group))
    return merged


def findings(
    results: Results, diff: pd.DataFrame | None, reference: str | None, **boot: int
) -> Findings:
    """The findings of ``results`` from its paired differences ``diff`` (the table of
    :func:`sim.analysis.tables.paired_differences` against ``reference``; None when the
    report has none); ``boot`` (``n_boot``, ``seed``) for the comparisons between
    neighbouring arms."""
    runs, outcomes = results.runs, list(results.outcomes)
    names = {a: plots.arm_text(v) for a, v in results.arms.items()}
    if runs.empty:
        return Findings("No run has finished yet: nothing to say.")
    constant = constant_outcomes(runs, outcomes)
    remarks = [_constant_remark(constant)] if constant else []
    remarks += _failure_remarks(results, names)
    arms = [a for a in results.arms if a in set(runs["arm"])]
    if reference is None or diff is None or len(arms) < 2:
        lead = "One policy arm only: the runs are described in the tables, not compared."
        return Findings(lead, (), tuple(remarks))
    if len(arms) > MAX_ARMS_IN_WORDS:
        lead = (
            f"{len(arms)} policy arms are too many to describe one by one: see the paired "
            "differences and the response curves below."
        )
        return Findings(lead, (), tuple(remarks))
    items = _group_items(results, diff, reference, arms, names, constant, boot)
    remarks.append(
        "Each comparison pairs runs with the same seed (the same sampled conditions and random "
        "numbers in both arms); an outcome changed when the 95 % bootstrap interval of its "
        "mean paired difference excludes zero; with many outcomes, about one interval in "
        "twenty excludes zero by chance alone. These are properties of the model's runs, "
        "not predictions of a real event."
    )
    lead = f"Compared with {names[reference]} (the reference arm):"
    return Findings(lead, tuple(items), tuple(remarks))


def _group_items(
    results: Results,
    diff: pd.DataFrame,
    reference: str,
    arms: list[str],
    names: Mapping[str, str],
    constant: Mapping,
    boot: Mapping[str, int],
) -> list[str]:
    """One item per run of arms: identical arms together; with a single lever, later
    arms that differ from an earlier one by no more than their intervals join it."""
    outcomes = [o for o in results.outcomes if o not in constant]
    groups = identical_groups(results.runs, arms, list(results.outcomes))
    ref_group = next(g for g in groups if reference in g)
    items = []
    if len(ref_group) > 1:
        others = ", ".join(names[a] for a in ref_group if a != reference)
        items.append(f"{others}: identical to {names[reference]} in every run.")
    rest = [g for g in groups if g is not ref_group]
    runs = (
        no_further_change(results, rest, outcomes, **boot)
        if len(results.levers) == 1
        else [list(g) for g in rest]
    )
    for merged in runs:
        first = next(g for g in groups if g[0] == merged[0])
        items.append(_run_item(results, diff, merged, first, arms, names, constant, reference))
    return items


def _run_item(
    results: Results,
    diff: pd.DataFrame,
    merged: list[str],
    first: list[str],
    arms: list[str],
    names: Mapping[str, str],
    constant: Mapping,
    reference: str,
) -> str:
    """The item of a run of arms: the first arm against the reference, then what the
    others share with it (identical runs, or no change beyond the intervals)."""
    head = names[merged[0]]
    text = f"{_group_name(merged, arms, names)}: "
    text += _arm_item(merged[0], diff, results.outcomes, constant, names[reference])
    if len(first) > 1:
        text += f" {', '.join(names[a] for a in first)} gave identical results in every run."
    later = [a for a in merged if a not in first]
    if later:
        text += (
            f" {', '.join(names[a] for a in later)}: no outcome differs from {head} beyond "
            "its 95 % interval (runs paired on seed)."
        )
    tail = merged == list(arms[len(arms) - len(merged) :])
    if len(merged) > 1 and not later:
        text += f" No further change beyond {head}." + (mechanism(results.levers) if tail else "")
    elif later:  # no change detected is not no change: say so, and name a mechanism only
        text += f" No further change detected beyond {head} with these runs."  # for the tail
        text += mechanism(results.levers) if tail else ""
    return text[0].upper() + text[1:]


def _constant_remark(constant: Mapping[str, float]) -> str:
    parts = [f"{plots.in_sentence(o)} was {_number(v, o)}" for o, v in constant.items()]
    return f"The same in every run, so not compared or drawn: {'; '.join(parts)}."


def _failure_remarks(results: Results, names: Mapping[str, str]) -> list[str]:
    fails = results.failures
    if fails.empty:
        return []
    counts = fails.groupby("arm", sort=False).size()
    return [
        f"{names.get(a, a)}: {n} run(s) failed; its comparisons rest on the runs that finished."
        for a, n in counts.items()
    ]


# ----------------------------------------------------------------------------- sensitivity
SENSITIVITY_READING = {
    "sobol": (
        "A first-order Sobol index is the share of an outcome's variance over the design "
        "that one varied input explains on its own; an input is named when the 95 % "
        "interval of its index excludes 0. What a sum of first-order indices below 1 leaves "
        "unexplained is interaction between inputs or run-to-run noise (the sum is of "
        "estimates, each as uncertain as its interval)."
    ),
    "morris": (
        "μ* is the mean absolute elementary effect (SALib): the change of the outcome, "
        "scaled to a move across the input's whole range, from one-at-a-time steps with "
        "the other inputs held; an input is named when the 95 % interval of its μ* "
        "excludes 0. A spread σ above μ* means the effect depends on where the other "
        "inputs stand (interaction, non-linearity) or on run-to-run noise."
    ),
}


def sensitivity_findings(
    found: Findings, kind: str, table: pd.DataFrame, outcomes: Sequence[str]
) -> Findings:
    """``found`` for a one-arm Sobol or Morris design, with one sentence per outcome from
    its sensitivity ``table`` (:func:`sim.analysis.tables.sobol_indices` or
    ``morris_indices``) in place of the arm comparisons; remarks are kept."""
    sentence = _sobol_sentence if kind == "sobol" else _morris_sentence
    items = []
    for o in outcomes:
        rows = table[table["outcome"] == o]
        if not rows.empty:
            items.append(f"{plots.short(o)}: {sentence(rows, o)}")
    title = "Sobol' sensitivity" if kind == "sobol" else "Morris screening"
    lead = f"{title}: which of the varied inputs move each outcome over the design's ranges."
    return Findings(lead, tuple(items), (*found.remarks, SENSITIVITY_READING[kind]))


def _named(rows: pd.DataFrame, value: str) -> tuple[pd.DataFrame, list[str]]:
    """Rows whose interval excludes 0, largest ``value`` first, and the other inputs."""
    ok = rows[rows[value].notna()]
    resolved = ok[ok["ci_low"] > 0].sort_values(value, ascending=False, kind="stable")
    rest = [plots.in_sentence(p) for p in ok["parameter"] if p not in set(resolved["parameter"])]
    return resolved, rest


def _ranked(resolved: pd.DataFrame, shown: Callable[[pd.Series], str]) -> str:
    """``a (0.4, 95 % interval 0.3 to 0.5), then b (0.2, 0.1 to 0.3)``: each input with
    ``shown(row)`` and its interval (the first one says what the interval is)."""
    return ", then ".join(
        f"{plots.in_sentence(r['parameter'])} ({shown(r)}"
        + (", 95 % interval " if k == 0 else ", ")
        + f"{plots.fmt(max(r['ci_low'], 0))} to {plots.fmt(r['ci_high'])})"
        for k, (_, r) in enumerate(resolved.iterrows())
    )


def _sobol_sentence(rows: pd.DataFrame, outcome: str) -> str:
    s1 = rows[rows["index"] == "S1"]
    if s1["value"].isna().all():
        return "no index (the outcome is constant or missing)."
    if (rows.loc[rows["index"] == "ST", "value"] > 1).any():
        return "indices unresolved (a total index above 1): raise the samples before reading."
    resolved, rest = _named(s1, "value")
    if resolved.empty:
        return "no input's first-order index is distinguishable from 0 with these samples."
    text = f"varies most with {_ranked(resolved, lambda r: plots.fmt(r['value']))}"
    text += f"; the first-order indices sum to {plots.fmt(float(s1['value'].sum()))}"
    return text + (f"; not distinguishable from 0: {', '.join(rest)}." if rest else ".")


def _magnitude(value: float, outcome: str) -> str:
    """``34.6 persons``; a share or 0/1 outcome's effect as a bare number."""
    u = plots.unit(outcome)
    return plots.fmt(value) if u in ("share", "0/1") else f"{plots.fmt(value)} {u}".strip()


def _morris_sentence(rows: pd.DataFrame, outcome: str) -> str:
    if rows["mu_star"].isna().all():
        return "no index (the outcome is missing)."
    resolved, rest = _named(rows, "mu_star")
    if resolved.empty:
        return "no input's μ* is distinguishable from 0 with these trajectories."
    bent = [
        plots.in_sentence(r["parameter"])
        for _, r in resolved.iterrows()
        if r["sigma"] > r["mu_star"]
    ]
    shown = _ranked(resolved, lambda r: f"μ* {_magnitude(r['mu_star'], outcome)}")
    text = f"largest effects from {shown}"
    if bent:
        text += f"; σ above μ* for {', '.join(bent)}"
    return text + (f"; not distinguishable from 0: {', '.join(rest)}." if rest else ".")
