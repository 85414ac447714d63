"""The exact shortcuts of the compiled engine skip only draws that cannot succeed: the
bound a fugitive's draw is compared with first is at least its chance of recapture."""

import numpy as np

from sim.model import rules
from sim.model.compiled.phases import search_bound


def test_search_bound_is_at_least_every_fugitives_chance():
    rng = np.random.default_rng(7)
    for _ in range(200):
        rate, decay = rng.uniform(0, 1), rng.uniform(1, 336)
        dt = rng.choice([1 / 60, 0.1, 0.25, 1.0])
        t1 = rng.uniform(dt, 2000)
        starts = np.r_[rng.uniform(0, t1, 50), t1 - dt, t1 - dt / 2, 0.0, t1]
        integral = rules.search_hazard_integral(starts, t1 - dt, t1, rate, decay)
        chance = -np.expm1(-integral)
        bound = search_bound(t1 - dt, t1, rate, decay)
        assert (integral <= bound).all() and (chance <= bound).all()
