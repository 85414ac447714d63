"""The model's rules: small, pure, vectorised functions of arrays and parameters.

Each function states its formula and its source, and any departure from the source. Rules
that draw random numbers take the generator as an argument; nothing here keeps state, does
I/O or touches a global random generator. Rates are hazards per hour; a hazard ``h`` over a
step of ``dt`` hours becomes a probability ``1 - exp(-h dt)`` (:func:`hazard_to_probability`).
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------- generic helpers


def hazard_to_probability(hazard_per_h: np.ndarray | float, dt_h: float) -> np.ndarray:
    """P(event within dt) for a constant hazard: ``1 - exp(-h * dt)``; h <= 0 gives 0."""
    return -np.expm1(-np.maximum(hazard_per_h, 0.0) * dt_h)


def draw(rng: np.random.Generator, probability: np.ndarray) -> np.ndarray:
    """One Bernoulli draw per element (always consumes ``probability.size`` uniforms)."""
    return rng.random(np.shape(probability)) < probability


def box_sum(maps: np.ndarray, radius: int) -> np.ndarray:
    """Sum over the (2r+1)x(2r+1) Chebyshev neighbourhood of every cell, zero outside.

    ``maps`` has shape (k, height, width). Separable: 2r+1 shifted adds along each axis of a
    zero-padded copy, O(k * cells * r), exact for integer-valued inputs.
    """
    k, h, w = maps.shape
    r = radius
    padded = np.zeros((k, h + 2 * r, w + 2 * r), dtype=np.float64)
    padded[:, r : r + h, r : r + w] = maps
    rows = padded[:, 0:h, :].copy()
    for d in range(1, 2 * r + 1):
        rows += padded[:, d : d + h, :]
    out = rows[:, :, 0:w].copy()
    for d in range(1, 2 * r + 1):
        out += rows[:, :, d : d + w]
    return out


# ----------------------------------------------------------------- events and levers


def guard_readiness(base: float, acted_on: float, lead_time_h: float) -> float:
    """Readiness after a warning: ``base + (1 - base) * acted_on * min(1, lead / 24 h)``.

    A full day's warning fully acted on brings readiness to 1; a warning with no lead time
    or not acted on leaves it at ``base``. (Assumption; the reported context is only that
    warnings existed and were not acted on: AP-ABDI.)
    """
    return base + (1.0 - base) * acted_on * min(1.0, lead_time_h / 24.0)


def responder_arrival_h(delay_h: float, acted_on: float, lead_time_h: float) -> float:
    """Hours until reinforcements arrive: ``max(0, delay - acted_on * lead_time)``.

    Acting on a warning brings the reinforcement group forward by the warning's lead time.
    """
    return max(0.0, delay_h - acted_on * lead_time_h)


def hardened_probabilities(
    share: float, foreign_share: float, odds_ratio: float
) -> tuple[float, float]:
    """(p_syrian, p_foreign) giving overall ``share`` hardened with the given odds ratio.

    Solves ``(1 - f) p_s + f p_f = share`` with ``odds(p_f) = odds_ratio * odds(p_s)`` by
    bisection on p_s (the left side rises monotonically in p_s).
    """
    if share <= 0.0:
        return 0.0, 0.0
    if share >= 1.0:
        return 1.0, 1.0

    def p_f(p_s: float) -> float:
        return odds_ratio * p_s / (1.0 - p_s + odds_ratio * p_s)

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if (1 - foreign_share) * mid + foreign_share * p_f(mid) < share:
            lo = mid
        else:
            hi = mid
    p_s = 0.5 * (lo + hi)
    return p_s, p_f(p_s)


def repatriation_count(group_size: int, share: float) -> int:
    """Detainees of a group removed beforehand: ``round(share * group_size)``."""
    return round(share * group_size)


# ----------------------------------------------------------------- uprising (Epstein-style)


def arrest_probability(authority: np.ndarray, rioters: np.ndarray, k: float) -> np.ndarray:
    """Perceived risk of being stopped: ``P = 1 - exp(-k * authority / (rioters + 1))``.

    Source: Epstein (2002), PNAS 99 suppl. 3, "estimated arrest probability" with k = 2.3.
    Departure: Epstein's NetLogo code uses ``floor(C / A)`` and Mesa's example ``round``;
    here the ratio is continuous (no rounding), so at C/A = 2/3 P is 0.78 rather than 0 or
    0.9. ``authority`` is the readiness-weighted count of guards and responders within
    vision; ``rioters`` counts active rioters within vision (the agent itself counts as the
    ``+ 1``). Authority is the strength-weighted count: guards 0.5 x (1 + readiness),
    responders ``strength_responder``.
    """
    return -np.expm1(-k * authority / (rioters + 1.0))


def effective_grievance(
    grievance: np.ndarray,
    occupancy: np.ndarray,
    disturbance: np.ndarray,
    crowding_gain: float,
    disturbance_gain: float,
) -> np.ndarray:
    """``clip(G + crowding_gain * max(0, occupancy - 1) + disturbance_gain * D, 0, 1)``.

    G is the agent's grievance (Epstein: hardship x (1 - legitimacy), plus a bonus if
    hardened); occupancy is its block's occupants / design capacity; D is 1 in an opened
    block or the yard, 0.5 elsewhere once the perimeter is breached or the external force
    is inside, else 0.
    """
    raised = grievance + crowding_gain * np.maximum(0.0, occupancy - 1.0)
    return np.clip(raised + disturbance_gain * disturbance, 0.0, 1.0)


def is_agitated(
    grievance_eff: np.ndarray, risk_aversion: np.ndarray, arrest_p: np.ndarray, threshold: float
) -> np.ndarray:
    """Epstein's activation rule: agitated iff ``G - R * P > T``."""
    return grievance_eff - risk_aversion * arrest_p > threshold


def riot_hazard(
    share_rioting_nearby: np.ndarray, disturbance: np.ndarray, rate: float
) -> np.ndarray:
    """Hazard of an agitated inmate joining a riot: ``rate * (share_rioting_nearby + D)``.

    Contact contagion: zero where nobody nearby riots and the zone is undisturbed, so an
    uprising needs a seed (the simultaneous start, or the external force's arrival).
    """
    return rate * (share_rioting_nearby + disturbance)


def block_seizure_hazard(
    rioter_strength: np.ndarray, authority: np.ndarray, rate: float
) -> np.ndarray:
    """Hazard of rioters opening their block: ``rate * x / (1 + x)``, x = S / (A + 1).

    S is the rioters' summed strength in the block, A the guards' readiness-weighted
    strength there; the hazard saturates at ``rate`` when rioters far outnumber guards.
    """
    x = rioter_strength / (authority + 1.0)
    return rate * x / (1.0 + x)


def flee_hazard(risk_aversion: np.ndarray, rate: float, cordon: float) -> np.ndarray:
    """Hazard of a rioter starting to flee when a way out is open: ``rate * (1 - R) * (1 - c)``.

    ``c`` is the cordon's closure (:func:`cordon_closure`), 0 before reinforcements arrive.
    """
    return rate * (1.0 - risk_aversion) * (1.0 - cordon)


def cordon_closure(
    engaged_responders: int, perimeter_cells: int, per_cell: float, c_max: float
) -> float:
    """Model-level cordon (brief section 2: curfew and search as model-level effects):
    ``c_max * min(1, engaged / (perimeter_cells * per_cell))``."""
    return c_max * min(1.0, engaged_responders / (perimeter_cells * per_cell))


# ----------------------------------------------------------------- response and engagement


def contain_hazard(authority: np.ndarray, uprising: np.ndarray, rate: float) -> np.ndarray:
    """Hazard of containing an inmate: ``rate * A / (U + 1)``.

    A is the authority strength and U the uprising strength in the 3x3 neighbourhood.
    """
    return rate * authority / (uprising + 1.0)


def surrender_hazard(authority_ratio: np.ndarray, rate: float) -> np.ndarray:
    """Hazard of a rioter surrendering: ``rate * (1 + A / (U + 1))`` (pressure raises it)."""
    return rate * (1.0 + authority_ratio)


def attrition_hazard(enemy_strength: np.ndarray, own_count: np.ndarray, rate: float) -> np.ndarray:
    """Per-agent hazard of incapacitation in contact: ``rate * E / max(n_own, 1)``.

    Lanchester's square law spread over the agents of a side in the 3x3 neighbourhood
    (Lanchester 1916): a side's losses scale with the opposing strength E and are shared
    among its n_own agents there. Zero without opponents in contact.
    """
    return rate * enemy_strength / np.maximum(own_count, 1.0)


def breach_hazard(attackers_at_cell: np.ndarray, integrity: np.ndarray, p: float) -> np.ndarray:
    """Hazard of a perimeter cell being breached: ``p * (1 - integrity) * n``.

    n is the number of external-force agents whose next move is into that cell; an
    integrity of 1 cannot be breached.
    """
    return p * (1.0 - integrity) * attackers_at_cell


def survival(rate_per_h: float, hours: float) -> float:
    """Probability of no event over ``hours`` at a constant hazard: ``exp(-rate * hours)``."""
    return float(np.exp(-rate_per_h * max(hours, 0.0)))
