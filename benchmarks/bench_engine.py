"""Engine speed and memory for the Ghwayran scenario, against Mesa's Epstein example.

Prints, for ``scenarios/ghwayran_2022.yaml``: the median wall time per replicate, median
agent-steps per second, the peak traced memory of one replicate, and in the same run the
agent-steps per second of Mesa's bundled Epstein civil-violence example (per-agent Python
objects) at about the same number of agents, with the ratio. Medians, not means: the
machines are shared and noisy. Targets (issue 2): <= 1 s per replicate, >= 100x Epstein.

    python benchmarks/bench_engine.py [--replicates 7] [--epstein-steps 10]
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time
import tracemalloc

from sim.config.scenario import load_scenario
from sim.model import FacilityModel


def bench_ghwayran(replicates: int) -> tuple[list[float], list[float], int, int]:
    params = load_scenario("ghwayran_2022").params
    times, rates = [], []
    agents = 0
    for seed in range(replicates):
        t0 = time.perf_counter()
        model = FacilityModel(seed=seed, collect_every_steps=0, **params)
        model.run_model()
        dt = time.perf_counter() - t0
        agents = sum(
            len(g) for g in (model.inmates, model.guards, model.responders, model.external)
        )
        times.append(dt)
        rates.append(agents * model.steps / dt)
    tracemalloc.start()
    FacilityModel(seed=0, collect_every_steps=0, **params).run_model()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, rates, agents, peak


def bench_epstein(n_agents: int, steps: int, repeats: int = 3) -> tuple[float, int]:
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence

    density = 0.7 + 0.074
    side = math.ceil(math.sqrt(n_agents / density))
    rates = []
    for seed in range(repeats):
        model = EpsteinCivilViolence(width=side, height=side, seed=seed)
        n = len(model.agents)
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step()
        rates.append(n * steps / (time.perf_counter() - t0))
    return statistics.median(rates), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=7)
    ap.add_argument("--epstein-steps", type=int, default=10)
    args = ap.parse_args()
    times, rates, agents, peak = bench_ghwayran(args.replicates)
    ep_rate, ep_agents = bench_epstein(agents, args.epstein_steps)
    ours = statistics.median(rates)
    print(f"ghwayran_2022: {agents} agents, {args.replicates} replicates")
    print(
        f"  wall time per replicate: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}); target <= 1 s, goal 0.3 s"
    )
    print(f"  agent-steps per second:  median {ours / 1e6:.2f} M")
    print(
        f"  peak traced memory:      {peak / 2**20:.1f} MiB per replicate "
        f"(process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )
    print(f"mesa Epstein example: {ep_agents} agents, {args.epstein_steps} steps x 3")
    print(f"  agent-steps per second:  median {ep_rate / 1e6:.3f} M")
    print(
        f"ratio prisonsim / Epstein agent-steps per second: {ours / ep_rate:.0f}x (target >= 100x)"
    )


if __name__ == "__main__":
    main()
