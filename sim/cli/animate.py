"""``prisonsim animate``: a run as a GIF or MP4 for slides (:mod:`sim.viz.animation`)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tqdm import tqdm

from sim.cli import UsageError
from sim.cli.run import _seed
from sim.config.scenario import load_scenario, parse_set_options
from sim.experiments.seeds import DEFAULT_SEED
from sim.model import FacilityModel
from sim.model.params import LEVERS
from sim.viz.animation import (
    FORMATS,
    MP4_HINT,
    SCOPE_LINE,
    Arm,
    frames,
    mp4_available,
    steps_to_end,
    write_gif,
    write_mp4,
)
from sim.viz.inputs import changed_values, setting_text

DEFAULT_FPS = 10.0


def register(sub: argparse._SubParsersAction) -> None:
    anim = sub.add_parser(
        "animate",
        help="render a run as an animated GIF or MP4 for slides",
        description="Render one run of a scenario, from the start to its end, as an animation: "
        "the facility map, the simulated time, the inmates-by-state chart, the legend and the "
        "scope line. --compare renders policy A (the scenario with --set) beside policy B "
        f"(A with the --compare lever values), same seed. .gif always works; .mp4 needs "
        f"imageio and imageio-ffmpeg ({MP4_HINT}).",
    )
    anim.add_argument("scenario", help="scenario YAML file, or the name of a shipped one")
    anim.add_argument(
        "--seed", type=_seed, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    anim.add_argument(
        "--set", dest="overrides", action="append", metavar="KEY=VALUE",
        help="override a parameter (repeatable); see 'prisonsim params'",
    )  # fmt: skip
    anim.add_argument(
        "--compare", action="append", metavar="LEVER=VALUE",
        help="side by side: policy B changes this lever (repeatable)",
    )  # fmt: skip
    anim.add_argument("--out", type=Path, required=True, metavar="FILE.gif|FILE.mp4")
    anim.add_argument(
        "--fps",
        type=float,
        default=DEFAULT_FPS,
        help=f"frames per second (default {DEFAULT_FPS:g})",
    )
    anim.add_argument(
        "--every", type=int, default=1, metavar="N", help="one frame every N steps (default 1)"
    )
    anim.set_defaults(handler=cmd_animate)


def check_output(out: Path, fps: float, every: int) -> None:
    """Refuse an output the command cannot write, before any work is done."""
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {out}: the file must end in .gif or .mp4")
    if out.suffix.lower() == ".mp4" and not mp4_available():
        raise UsageError(f"--out {out}: writing .mp4 needs imageio and imageio-ffmpeg; "
                         f"{MP4_HINT} (or write a .gif)")  # fmt: skip
    if not out.parent.resolve().is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    if not 0 < fps <= 60:
        raise UsageError(f"--fps {fps:g} is out of range; allowed: above 0 to 60")
    if every < 1:
        raise UsageError(f"--every {every} is out of range; allowed: 1 or more")


def policy_b(args: argparse.Namespace) -> dict:
    """The --compare lever values, checked to be levers."""
    compare = parse_set_options(args.compare)
    not_levers = sorted(set(compare) - set(LEVERS))
    if not_levers:
        raise UsageError(f"--compare {', '.join(not_levers)}: not a lever; allowed: "
                         f"{', '.join(LEVERS)}")  # fmt: skip
    return compare


def arms_of(args: argparse.Namespace) -> tuple[list, str]:
    """The model factories of the arms (one, or A and B) and the scenario's name."""
    overrides = parse_set_options(args.overrides)
    scenario_a = load_scenario(args.scenario, overrides)
    if not args.compare:
        return [("", scenario_a.params)], scenario_a.name
    compare = policy_b(args)
    scenario_b = load_scenario(args.scenario, {**overrides, **compare})  # checks the values
    changes = changed_values(scenario_a.params, {k: scenario_b.params[k] for k in compare})
    title_b = "Policy B: " + ("; ".join(changes) or "same levers as A")
    given = "; ".join(setting_text(k, scenario_a.params[k]) for k in compare)
    return [(f"Policy A: {given}", scenario_a.params), (title_b, scenario_b.params)], (
        scenario_a.name
    )


def cmd_animate(args: argparse.Namespace) -> int:
    check_output(args.out, args.fps, args.every)
    arm_params, name = arms_of(args)

    def maker(params):
        return lambda: FacilityModel(seed=args.seed, **params)

    ends = [steps_to_end(maker(p)) for _, p in arm_params]
    n_frames = max(s for s, _ in ends) // args.every + 2
    arms = [Arm(title, maker(p)()) for title, p in arm_params]
    scope = SCOPE_LINE.format(scenario=name, seed=args.seed)
    write = write_mp4 if args.out.suffix.lower() == ".mp4" else write_gif
    part = args.out.with_name(f".{args.out.stem}.part{args.out.suffix}")
    started = time.perf_counter()
    title = f"Scenario {name}, seed {args.seed}"
    images = frames(arms, scope, max(h for _, h in ends), args.every, title)
    try:
        with tqdm(images, total=n_frames, unit="frame", desc=f"rendering {args.out.name}") as bar:
            count = write(part, bar, args.fps)
        os.replace(part, args.out)  # a finished file or none: never half an animation
    finally:
        part.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    print(f"wrote {args.out} ({count} frames, {count / args.fps:.1f} s at {args.fps:g} fps; "
          f"rendered in {seconds:.1f} s)")  # fmt: skip
    return 0
