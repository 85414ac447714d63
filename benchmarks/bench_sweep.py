"""Throughput of the sweep runner: runs/s by scenario and executor, scaling, store cost.

Usage (from the project root)::

    PYTHONPATH=. python benchmarks/bench_sweep.py            # teaching + Ghwayran
    PYTHONPATH=. python benchmarks/bench_sweep.py --quick    # fewer, shorter repeats
    PYTHONPATH=. python benchmarks/bench_sweep.py --synthetic 0.05   # fixed-cost runs

For each scenario it runs the same batch of replicates (seeds 0..n-1, so the work is
identical) on 1 and 2 local worker processes and on a local Dask cluster of 2 workers,
through the real coordinator loop (``sim.experiments.executors.execute``) with every result written
to a real store, and prints the median runs/s of ``--repeats`` batches. Worker start-up is
excluded (a warm-up batch runs first). Also printed: the 2-worker scaling ratio, Dask
relative to local processes, the store's time per result as a share of the mean run
time, and "cpu %": the CPU time the workers got as a share of wall time x workers (well
under 100% means other work on the machine took the cores and skews the ratios).
Targets: scaling >= 1.8x, Dask within 10% of local, storing < 1% of run time.

``--synthetic SECONDS`` replaces the model with a busy loop of fixed cost (via
``PRISONSIM_RUN_FUNCTION``), to measure the runner alone whatever state the engine is in.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fixed_cost_run(params, seed, *, series_every_h=None):
    """A stand-in for ``run_replicate`` that burns ``PRISONSIM_BENCH_COST`` s of CPU time
    (CPU, not wall time, so that contention for the cores shows in the figures)."""
    from sim.model import run_replicate

    end = time.process_time() + float(os.environ.get("PRISONSIM_BENCH_COST", "0.05"))
    x = 0
    while time.process_time() < end:
        x += 1
    return run_replicate(params, seed, series_every_h=series_every_h)


def _experiment_text(scenario: str, n: int) -> str:
    return f"""name: bench_{scenario}
question: How fast does the runner go?
scenario: {scenario}
design:
  type: points
  points: [{{responder_delay_h: 3}}]
replicates: {n}
master_seed: 1
"""


def measure(
    scenario: str, executor: str, workers: int, n: int, repeats: int, tmp: Path
) -> dict[str, float]:
    """Medians over ``repeats`` batches of ``n`` runs: runs/s, run and store seconds per
    result, and the workers' CPU share (below 1 when other work takes the cores)."""
    from sim.experiments.executors import RunSettings, as_record, execute, make_backend, run_model
    from sim.experiments.loader import load_experiment
    from sim.experiments.storage import BatchWriter
    from sim.experiments.store import ResultsStore
    from sim.experiments.sweep import pending_jobs

    path = tmp / f"{scenario}_{n}.yaml"
    path.write_text(_experiment_text(scenario, n))
    spec = load_experiment(path)
    settings = RunSettings(spec.base_params, spec.outcomes)
    backend = make_backend(executor, workers)
    stats: dict[str, list[float]] = {"rate": [], "store_s": [], "run_s": [], "busy": []}
    try:
        for rep in range(repeats + 1):  # the first: warm-up (start and import in every worker)
            with ResultsStore.create(
                tmp / f"{scenario}_{executor}_{workers}_{rep}.db", spec
            ) as store:
                jobs = pending_jobs(spec, store)[: 2 * workers if rep == 0 else None]
                writer = BatchWriter(store)
                spent, elapsed, cpu = [0.0], [], []

                def on_done(batch, writer=writer, spent=spent, elapsed=elapsed, cpu=cpu):
                    t0 = time.perf_counter()
                    writer.add([as_record(d) for d in batch])
                    spent[0] += time.perf_counter() - t0
                    elapsed.extend(d.elapsed_s for d in batch)
                    cpu.extend(d.cpu_s for d in batch)

                t0 = time.perf_counter()
                execute(backend, jobs, run_model, settings, on_done)
                t1 = time.perf_counter()
                writer.flush()
                spent[0] += time.perf_counter() - t1
                wall = time.perf_counter() - t0
            if rep == 0:
                continue
            stats["rate"].append(n / wall)
            stats["store_s"].append(spent[0] / n)
            stats["run_s"].append(statistics.mean(elapsed))
            stats["busy"].append(sum(cpu) / (wall * workers))
    finally:
        backend.close()
    return {k: statistics.median(v) for k, v in stats.items()}


def single_run_seconds(scenario: str) -> float:
    """Median in-process cost of one replicate (to size the batches)."""
    from sim.config.scenario import load_scenario
    from sim.experiments.executors import _run_function

    run = _run_function()
    params = load_scenario(scenario).params
    times = []
    for seed in range(3):
        t0 = time.perf_counter()
        run(params, seed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenarios", nargs="+", default=["teaching_small", "ghwayran_2022"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--batch-seconds",
        type=float,
        default=6.0,
        help="about how long one batch takes on one worker",
    )
    ap.add_argument("--max-runs", type=int, default=2000)
    ap.add_argument(
        "--synthetic",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fixed-cost runs instead of the model's own cost",
    )
    ap.add_argument("--quick", action="store_true", help="2 repeats of ~2 s batches")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.batch_seconds = 2, 2.0
    if args.synthetic is not None:  # workers inherit the environment when spawned
        os.environ["PRISONSIM_RUN_FUNCTION"] = "bench_sweep:fixed_cost_run"
        os.environ["PRISONSIM_BENCH_COST"] = str(args.synthetic)
        os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
        sys.path.insert(0, str(HERE))

    print(
        f"cores: {os.cpu_count()}; load average before: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine "
        "skews the scaling figures)"
    )
    print(
        f"{'scenario':16} {'executor':8} {'workers':>7} {'runs':>6} {'runs/s':>9} "
        f"{'run ms':>8} {'store ms':>9} {'store %':>8} {'cpu %':>6} {'load':>5}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmpdir:
        tmp = Path(tmpdir)
        for scenario in args.scenarios:
            one = single_run_seconds(scenario)
            n = int(min(args.max_runs, max(16, args.batch_seconds / max(one, 1e-4))))
            res = {}
            for executor, workers in (("local", 1), ("local", 2), ("dask", 2)):
                r = measure(scenario, executor, workers, n, args.repeats, tmp)
                res[(executor, workers)] = r
                print(
                    f"{scenario:16} {executor:8} {workers:>7} {n:>6} {r['rate']:>9.2f} "
                    f"{1e3 * r['run_s']:>8.2f} {1e3 * r['store_s']:>9.3f} "
                    f"{100 * r['store_s'] / r['run_s']:>7.2f}% {100 * r['busy']:>5.0f}% "
                    f"{os.getloadavg()[0]:>5.2f}",
                    flush=True,
                )
            scaling = res[("local", 2)]["rate"] / res[("local", 1)]["rate"]
            dask_rel = res[("dask", 2)]["rate"] / res[("local", 2)]["rate"]
            print(
                f"{scenario:16} scaling 2/1 workers = {scaling:.2f}x (target >= 1.8); "
                f"dask/local at 2 workers = {dask_rel:.2f} (target >= 0.90); "
                f"medians of {args.repeats}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
