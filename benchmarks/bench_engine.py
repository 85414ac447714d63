"""Engine speed and memory: the compiled engine against the numpy engine, side by side.

For ``scenarios/ghwayran_2022.yaml``, runs the same seeds with both engines, interleaved
(numpy, compiled, numpy, compiled, ...) so that machine load falls on both alike, and
prints the median wall and CPU time per replicate, agent-ticks per second (agents present
x ticks, per CPU second), their ratio, and the peak resident memory one replicate adds to
a process that has the model loaded (Linux: VmHWM reset through /proc/self/clear_refs).
Medians, not means: the machines are shared and noisy. Targets (issue 9): <= 0.15 s per
replicate on one core (compass 0.1 s), >= 4x the numpy engine, < 50 MiB per replicate.

    python benchmarks/bench_engine.py [--replicates 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from sim.config.scenario import load_scenario
from sim.model import FacilityModel

_MEMORY_PROBE = """
import sys
from pathlib import Path
from sim.config.scenario import load_scenario
from sim.model import FacilityModel

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
p = load_scenario("ghwayran_2022").params
FacilityModel(seed=0, engine=sys.argv[1], **{**p, "horizon_h": 1}).run_model()  # load code
Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
FacilityModel(seed=1, engine=sys.argv[1], collect_every_steps=0, **p).run_model()
print(status("VmHWM:") - before, status("VmHWM:"))
"""


def one(params: dict, seed: int, engine: str) -> tuple[float, float, float]:
    """(wall s, cpu s, agent-ticks) of one replicate."""
    t0, c0 = time.perf_counter(), time.process_time()
    model = FacilityModel(seed=seed, engine=engine, collect_every_steps=0, **params)
    model.run_model()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    w = model.world
    agents = sum(len(g) for g in (w.inmates, w.guards, w.responders, w.external))
    return wall, cpu, agents * w.tick


def peak_memory_mib(engine: str) -> tuple[float, float]:
    """(MiB one replicate adds at its peak, the whole process's peak MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, engine], capture_output=True, text=True, check=True
    )
    added, process = out.stdout.split()
    return float(added), float(process)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=7)
    args = ap.parse_args()
    params = load_scenario("ghwayran_2022").params
    for engine in ("numpy", "compiled"):
        one({**params, "horizon_h": 1}, 0, engine)  # compile / load before timing
    res: dict[str, list[tuple[float, float, float]]] = {"numpy": [], "compiled": []}
    for seed in range(1, args.replicates + 1):
        for engine in res:
            res[engine].append(one(params, seed, engine))
    print(f"ghwayran_2022, {args.replicates} replicates per engine, interleaved")
    med = {}
    for engine, rows in res.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rate = statistics.median(r[2] / r[1] for r in rows)
        med[engine] = (wall, cpu, rate)
        added, process = peak_memory_mib(engine)
        print(
            f"  {engine:<8} median {wall:6.3f} s wall, {cpu:6.3f} s CPU per replicate; "
            f"{rate / 1e6:6.2f} M agent-ticks/s; a replicate adds {added:.1f} MiB at its "
            f"peak (process {process:.0f} MiB)"
        )
    ratio = med["numpy"][1] / med["compiled"][1]
    print(f"  compiled / numpy speed (CPU time): {ratio:.1f}x  (target >= 4x)")
    print(f"  compiled median CPU per replicate: {med['compiled'][1]:.3f} s  (target <= 0.15 s)")


if __name__ == "__main__":
    main()
