"""``prisonsim run``, ``prisonsim validate`` and ``prisonsim params``."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from sim.cli import path_arg
from sim.config.loading import closest, load_yaml
from sim.config.scenario import SCENARIO_KEYS, load_scenario, parse_set_options
from sim.experiments.seeds import DEFAULT_SEED, SEED_RANGE, seed_in_range
from sim.model.outcomes import OUTCOMES
from sim.model.params import PARAMS, Param

MAX_SERIES_EVERY_H = 336.0  # the longest horizon
RUN_KEYS = {"scenario", "seed", "outcomes", "params", "steps"}  # of outcomes.json


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=params_epilog(),
        help="run one replicate of a scenario and write its outcomes, series and plot",
        description="Run one replicate of a scenario. Prints the outcome table and, with "
        "--out, writes outcomes.json, series.csv and states.png into DIR.",
    )
    run.add_argument(
        "scenario",
        help="scenario YAML file, or the name of a shipped one (ghwayran_2022, teaching_small)",
    )
    run.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        help=f"random seed, {SEED_RANGE} (default {DEFAULT_SEED})",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        metavar="KEY=VALUE",
        help="override a parameter (repeatable); see 'prisonsim params'",
    )
    run.add_argument(
        "--out", type=lambda t: Path(path_arg(t)), metavar="DIR", help="directory for the outputs"
    )
    run.add_argument(
        "--series-every-h",
        type=_positive_hours,
        default=1.0,
        metavar="H",
        help="time-series interval in hours (default 1)",
    )
    run.set_defaults(handler=cmd_run)

    val = sub.add_parser(
        "validate",
        help="check a scenario or experiment file",
        description="Check a scenario or experiment file; prints one line "
        "per mistake (file:line: field: message) and exits 2 if any.",
    )
    val.add_argument("file", type=Path)
    val.set_defaults(handler=cmd_validate)

    par = sub.add_parser("params", help="list every parameter with unit, range, role and help")
    par.add_argument(
        "--role", choices=["lever", "uncertainty", "setting"], help="only parameters of this role"
    )
    par.add_argument("--format", choices=["table", "markdown"], default="table")
    par.set_defaults(handler=cmd_params)


def params_epilog() -> str:
    """Levers and uncertainties for --help, generated from the declarations."""
    lines = ["levers and uncertainties for --set (all parameters: 'prisonsim params'):"]
    for p in PARAMS.values():
        if p.role != "setting":
            lines.append(f"  {p.name:<24} {p.role:<11} default {p.default!s:<6} {_range_text(p)}")
    return "\n".join(lines)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"expected a whole number {SEED_RANGE}, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not seed_in_range(value):
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {SEED_RANGE}")
    return value


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_SERIES_EVERY_H):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; give hours above 0, at most {MAX_SERIES_EVERY_H}"
        )
    return value


def cmd_run(args: argparse.Namespace) -> int:
    from sim.model import run_replicate

    scenario = load_scenario(args.scenario, parse_set_options(args.overrides))
    if args.out is not None:
        check_run_dir(args.out)  # before the run, not after it
    out = run_replicate(scenario.params, args.seed, series_every_h=args.series_every_h)
    print(
        f"scenario {scenario.name}, seed {args.seed}, {out.steps} steps "
        f"({out.steps * scenario.params['step_minutes'] / 60:g} h simulated)"
    )
    print(format_outcomes(out.outcomes))
    if args.out:
        written = write_run(args.out, scenario, args.seed, out)
        print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def format_outcomes(outcomes: dict[str, float]) -> str:
    """A plain text table: outcome, value, unit."""
    rows = [
        (n, f"{v:,.1f}" if v % 1 else f"{v:,.0f}", OUTCOMES[n].unit) for n, v in outcomes.items()
    ]
    w = max(len(r[0]) for r in rows)
    vw = max(len(r[1]) for r in rows)
    return "\n".join(f"  {n:<{w}}  {v:>{vw}}  {u}" for n, v, u in rows)


def write_run(out_dir: Path, scenario, seed: int, out) -> list[Path]:
    """Write outcomes.json, series.csv and states.png; same inputs give identical bytes."""
    from sim.analysis.plots import png_bytes, state_counts

    check_run_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes_path = out_dir / "outcomes.json"
    payload = {  # keys: RUN_KEYS
        "scenario": scenario.name,
        "seed": seed,
        "outcomes": out.outcomes,
        "params": scenario.params,
        "steps": out.steps,
    }
    outcomes_path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    series_path = out_dir / "series.csv"
    out.series.to_csv(series_path, float_format="%.6g", lineterminator="\n")
    png_path = out_dir / "states.png"
    png_path.write_bytes(png_bytes(state_counts(out.series, title=f"{scenario.name}, seed {seed}")))
    return [outcomes_path, series_path, png_path]


def check_run_dir(out_dir: Path) -> None:
    """Refuse ``--out DIR`` unless it is new, empty or an earlier run's output directory
    (its outcomes.json written by ``prisonsim run``)."""
    from sim.experiments.outputs import check_output_dir

    check_output_dir(out_dir, "--out", "outcomes.json", _is_run_output)


def _is_run_output(path: Path) -> bool:
    """Whether ``path`` is an outcomes.json written by ``prisonsim run``."""
    try:
        return set(json.loads(path.read_text(encoding="utf-8"))) == RUN_KEYS
    except (OSError, ValueError, TypeError):
        return False


def is_experiment_file(data: object) -> bool:
    """Whether a parsed config file is an experiment (rather than a scenario): it has
    more keys that are, or nearly are, experiment-only than scenario-only ones."""
    if not isinstance(data, dict):
        return False
    from sim.experiments.loader import EXPERIMENT_KEYS

    scenario_only = SCENARIO_KEYS - EXPERIMENT_KEYS
    experiment_only = EXPERIMENT_KEYS - SCENARIO_KEYS
    votes = 0
    for key in map(str, data):
        guess = (
            key
            if key in SCENARIO_KEYS | EXPERIMENT_KEYS
            else closest(key, scenario_only | experiment_only)
        )
        votes += (guess in experiment_only) - (guess in scenario_only)
    return votes > 0


def cmd_validate(args: argparse.Namespace) -> int:
    data, _ = load_yaml(args.file)
    if is_experiment_file(data):
        from sim.experiments.loader import load_experiment

        experiment = load_experiment(args.file)
        print(f"{args.file}: ok (experiment {experiment.name})")
        return 0
    scenario = load_scenario(args.file)
    print(f"{args.file}: ok (scenario {scenario.name}, {len(scenario.overrides)} values set)")
    return 0


def _range_text(p: Param) -> str:
    return p.describe_range() if p.kind != "bool" else "true/false"


def cmd_params(args: argparse.Namespace) -> int:
    params = [p for p in PARAMS.values() if args.role in (None, p.role)]
    if args.format == "markdown":
        print(params_markdown(params))
        return 0
    w = max(len(p.name) for p in params)
    for p in params:
        print(f"{p.name:<{w}}  {p.role:<11}  default {p.default!s:<6} range {_range_text(p)}")
        print(f"{'':<{w}}  {p.help}")
    return 0


def params_markdown(params: list[Param] | None = None) -> str:
    """The parameter table of the docs, generated from the declarations."""
    params = params if params is not None else list(PARAMS.values())
    lines = [
        "| name | role | default | unit | range | plausible | source | meaning |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in params:
        lo, hi = p.bounds
        rng = "true/false" if p.kind == "bool" else f"{lo:g} to {hi:g}"
        plaus = f"{p.plausible[0]:g} to {p.plausible[1]:g}" if p.plausible else ""
        src = ", ".join(p.source) if p.source else "assumption"
        cells = [f"`{p.name}`", p.role, str(p.default), p.unit, rng, plaus, src, p.help]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
