"""Two versions of the engine side by side: is a change of code faster, and by how much?

Checks out two git revisions into temporary worktrees, compiles each once (its own numba
cache: the cache folder is named after a digest of the engine's sources), then runs the
same seeds of a scenario with both at the same time, one process per version, each pinned
to its own core, the cores swapped every round. Both versions meet the same machine load
at the same moment, which interleaving one after the other does not give on a shared
machine (load there changes within seconds). Prints each version's median CPU seconds per
replicate, the ratio of the medians and the median of the per-seed ratios (old / new:
above 1 means the new code is faster). Needs two cores.

    python benchmarks/compare_commits.py OLD [NEW] [--replicates 24] [--scenario ghwayran_2022]

NEW defaults to HEAD. Replicates are run three to a process (rounded up to a multiple of
three). Each worktree compiles its engine afresh into a numba cache in the temporary
folder (a minute or two); the worktrees and caches are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_PROCESS = 3
"""Replicates a process runs after compiling: short enough for the load to stay alike."""

_RUN = """
import sys, time
from sim.config.scenario import load_scenario
from sim.model import FacilityModel
p = load_scenario(sys.argv[1]).params
FacilityModel(seed=0, collect_every_steps=0, **{**p, "horizon_h": 1}).run_model()
for seed in map(int, sys.argv[2:]):
    t = time.process_time()
    FacilityModel(seed=seed, collect_every_steps=0, **p).run_model()
    print(time.process_time() - t)
"""


def checkout(rev: str, where: Path) -> Path:
    """A detached worktree of ``rev`` at ``where``."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(where), rev],
        check=True,
    )
    return where


def start(tree: Path, core: int, scenario: str, seeds: list[int]) -> subprocess.Popen:
    """``_RUN`` with the code of ``tree`` (and a numba cache of its own), pinned to ``core``."""
    cache = tree.parent / f"{tree.name}-numba-cache"
    return subprocess.Popen(
        [sys.executable, "-c", _RUN, scenario, *map(str, seeds)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "PRISONSIM_NUMBA_CACHE": str(cache)},
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
    )


def finish(procs: list[subprocess.Popen], revs: list[str]) -> list[str]:
    """The output of each process; if one fails, stop the others and say which failed."""
    outs = []
    for proc, rev in zip(procs, revs, strict=True):
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            for other in procs:
                other.kill()
            raise SystemExit(f"the code of {rev} failed to run (exit {proc.returncode})")
        outs.append(stdout)
    return outs


def side_by_side(
    trees: list[Path], revs: list[str], cores: list[int], scenario: str, replicates: int
) -> list[list[float]]:
    """CPU seconds per replicate of each tree, the same seeds run at the same time."""
    times: list[list[float]] = [[], []]
    for r in range(-(-replicates // PER_PROCESS)):
        seeds = list(range(1 + r * PER_PROCESS, 1 + (r + 1) * PER_PROCESS))
        pair = cores if r % 2 == 0 else cores[::-1]
        procs = [start(t, c, scenario, seeds) for t, c in zip(trees, pair, strict=True)]
        for out, stdout in zip(times, finish(procs, revs), strict=True):
            out.extend(float(v) for v in stdout.split())
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new", nargs="?", default="HEAD")
    ap.add_argument("--replicates", type=int, default=24)
    ap.add_argument("--scenario", default="ghwayran_2022")
    args = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))[:2]
    if len(cores) < 2:
        raise SystemExit("compare_commits needs two cores (one for each version)")
    revs = [args.old, args.new]
    with tempfile.TemporaryDirectory(prefix="prisonsim-compare-") as tmp:
        trees = [
            checkout(rev, Path(tmp) / name) for rev, name in zip(revs, ("old", "new"), strict=True)
        ]
        try:
            print("compiling both versions (a minute or two)...", flush=True)
            finish(
                [start(t, c, args.scenario, []) for t, c in zip(trees, cores, strict=True)], revs
            )
            old, new = side_by_side(trees, revs, cores, args.scenario, args.replicates)
        finally:
            for tree in trees:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    ratios = [o / n for o, n in zip(old, new, strict=True)]
    print(f"{args.scenario}, {len(old)} replicates each, side by side on two cores")
    print(f"  old {args.old:>12}: median {statistics.median(old):.3f} s CPU per replicate")
    print(f"  new {args.new:>12}: median {statistics.median(new):.3f} s CPU per replicate")
    print(
        f"  old / new: {statistics.median(old) / statistics.median(new):.2f}x (medians), "
        f"{statistics.median(ratios):.2f}x (median of per-seed ratios)"
    )


if __name__ == "__main__":
    main()
