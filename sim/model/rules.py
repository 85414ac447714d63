"""The model's rules: small, pure, vectorised functions of arrays and parameters.

Each function states its formula and its source, and any departure from the source.
Nothing here keeps state, does I/O or draws random numbers (draws come from the keyed
streams of :mod:`sim.model.streams`). Rates are hazards per hour; a hazard ``h`` over a tick
of ``dt`` hours becomes a probability ``1 - exp(-h dt)`` (:func:`hazard_to_probability`).
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------- generic helpers


def hazard_to_probability(hazard_per_h: np.ndarray | float, dt_h: float) -> np.ndarray:
    """P(event within dt) for a constant hazard: ``1 - exp(-h * dt)``; h <= 0 gives 0."""
    return -np.expm1(-np.maximum(hazard_per_h, 0.0) * dt_h)


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


def warning_preparation(acted_on: float, lead_time_h: float, build_h: float) -> float:
    """Share of the preparations a warning buys: ``acted_on * (1 - exp(-lead / build_h))``.

    Preparation builds up with lead time and saturates by design: 63 % of the gap closes in
    ``build_h`` hours, 95 % in three times that. (Assumption; the reported context is only
    that warnings existed and were not acted on: AP-ABDI.)
    """
    return acted_on * -np.expm1(-max(lead_time_h, 0.0) / build_h)


def guard_readiness(base: float, preparation: float) -> float:
    """Readiness after a warning: ``base + (1 - base) * preparation``."""
    return base + (1.0 - base) * preparation


def responder_arrival_h(delay_h: float, preparation: float) -> float:
    """Hours until the first reinforcement group arrives: ``delay * (1 - preparation)``.

    A warning acted on stages the reinforcements nearer, in proportion to the preparation
    it buys; they never arrive before the event begins.
    """
    return delay_h * (1.0 - preparation)


def guard_strength(readiness: float | np.ndarray, strength_guard: float) -> np.ndarray:
    """Engagement strength of a guard: ``strength_guard * (1 + readiness) / 2``.

    A guard with no readiness fights at half strength, a fully ready one at full.
    (Assumption.)
    """
    return strength_guard * (1.0 + np.asarray(readiness, dtype=float)) / 2.0


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
    0.9. ``authority`` is the strength-weighted authority within vision (guards
    :func:`guard_strength`, responders ``strength_responder``); ``rioters`` counts rioters
    within vision (the agent itself is the ``+ 1``).
    """
    return -np.expm1(-k * authority / (rioters + 1.0))


def effective_grievance(
    grievance: np.ndarray,
    occupancy: np.ndarray,
    disturbance: np.ndarray,
    crowding_gain: float,
    disturbance_gain: float,
) -> np.ndarray:
    """``clip(G + crowding_gain * (occupancy - 1) + disturbance_gain * D, 0, 1)``.

    G is the agent's grievance (Epstein: hardship x (1 - legitimacy), plus bonuses if
    hardened or foreign); occupancy its block's occupants / design capacity (crowding above
    1 raises grievance, room below 1 lowers it; 1 outside the blocks); D the disturbance
    (1 out of control, 0.5 in a closed block once the facility is under attack, else 0).
    """
    raised = grievance + crowding_gain * (occupancy - 1.0)
    return np.clip(raised + disturbance_gain * disturbance, 0.0, 1.0)


def is_agitated(
    grievance_eff: np.ndarray, risk_aversion: np.ndarray, arrest_p: np.ndarray, threshold: float
) -> np.ndarray:
    """Epstein's activation rule: agitated (willing to join a riot) iff ``G - R * P > T``."""
    return grievance_eff - risk_aversion * arrest_p > threshold


def riot_hazard(share_rioting_nearby: np.ndarray, rate: float) -> np.ndarray:
    """Hazard of a willing inmate joining the riot: ``rate * share_rioting_nearby``.

    Contact contagion: zero where nobody within vision riots, so the uprising needs a seed
    (the simultaneous rising at the start). Only inmates passing Epstein's rule
    (:func:`is_agitated`) are exposed, so participation stays bounded.
    """
    return rate * share_rioting_nearby


def block_seizure_hazard(
    rioter_strength: np.ndarray, authority: np.ndarray, rate: float
) -> np.ndarray:
    """Hazard of rioters opening their block: ``rate * x / (1 + x)``, x = S / (A + 1).

    S is the rioters' summed strength in the block, A the guards' strength there; the hazard
    saturates at ``rate`` when rioters far outnumber guards.
    """
    x = rioter_strength / (authority + 1.0)
    return rate * x / (1.0 + x)


def flee_hazard(
    risk_aversion: np.ndarray, rate: float, cordon: float, factor: np.ndarray | float = 1.0
) -> np.ndarray:
    """Hazard of starting to flee when a way out is open: ``rate * (1 - R) * (1 - c) * f``.

    ``c`` is the cordon's closure (:func:`cordon_closure`), 0 before reinforcements arrive;
    ``f`` is 1 for a rioter and ``passive_flee_factor`` for an inmate out of control who
    does not riot.
    """
    return rate * (1.0 - risk_aversion) * (1.0 - cordon) * factor


def cordon_closure(
    engaged_responders: int,
    perimeter_cells: int,
    per_cell: float,
    c_max: float,
    hours: float = 0.0,
    build_h: float = 0.0,
) -> float:
    """Model-level cordon (brief section 2: curfew and search as model-level effects):
    ``c_max * (1 - exp(-engaged / (perimeter_cells * per_cell))) * (1 - exp(-t / build_h))``.

    Every responder adds to the cordon with diminishing returns: 63 % of ``c_max`` at
    ``per_cell`` responders per perimeter cell, 95 % at three times that. The second factor
    is the time the curfew and checkpoints around the site take to organise, ``t`` hours
    after the start: 63 % of the closure at ``build_h``; with ``build_h = 0`` the cordon
    holds as soon as it is manned.
    """
    manned = c_max * -np.expm1(-engaged_responders / (perimeter_cells * per_cell))
    if build_h <= 0.0:
        return manned
    return manned * -np.expm1(-hours / build_h)


# ----------------------------------------------------------------- response and engagement


def contain_hazard(
    authority: np.ndarray, uprising: np.ndarray, targets: np.ndarray, rate: float
) -> np.ndarray:
    """Hazard of containing an inmate: ``rate * A / (U + N)``.

    A is the authority strength and U the uprising strength in the 3x3 neighbourhood, N the
    inmates there who could be contained (agitated, out of control, rioting or fleeing; at
    least the inmate itself). Containment is work shared among the inmates in contact, as
    attrition is: a neighbourhood's authority contains about ``rate * A`` persons an hour
    however many are around, fewer when the uprising resists. (Assumption; the analogue of
    Epstein's arrest, without a jail term.)
    """
    return rate * authority / (uprising + np.maximum(targets, 1.0))


def surrender_hazard(
    authority: np.ndarray,
    uprising: np.ndarray,
    hours_rioting: np.ndarray,
    rate: float,
    fatigue_h: float,
    factor: np.ndarray | float = 1.0,
    siege: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Hazard of a rioter surrendering: ``rate * max(A / (A + U), s) * (1 + t / fatigue_h) * f``.

    Pressure ``A / (A + U)``: authority strength A against the uprising's strength U within
    vision (U includes the rioter), so an isolated rioter facing authority feels it fully
    and a rioter among many hardly; zero where no authority is within vision. ``s`` is the
    siege's pressure (:func:`siege_pressure`) where the rioter is besieged, the floor of
    what it feels. Fatigue: the hazard grows with the hours ``t`` spent rioting. ``f`` is
    ``hardened_surrender_factor`` for hardened rioters (holdouts), else 1. (Assumption.)
    """
    pressure = np.where(authority > 0, authority / np.maximum(authority + uprising, 1e-12), 0.0)
    pressure = np.maximum(pressure, siege)
    return rate * pressure * (1.0 + hours_rioting / fatigue_h) * factor


def siege_pressure(
    authority_total: float, uprising_total: float, cordon: float, share: float
) -> float:
    """Pressure of the siege on every rioter inside the perimeter:
    ``share * c * A / (A + U)``, A and U the authority's and the uprising's total strengths,
    c the cordon's closure (:func:`cordon_closure`).

    A model-level effect (brief section 2), as the cordon is: a besieged uprising gives up
    over days without facing authority in view (the reported surrenders came in waves over
    24-27 Jan, before the last buildings were retaken). ``share`` = ``siege_pressure_share``
    weighs it against facing authority directly; 0 without a siege or without authority.
    """
    if authority_total <= 0.0:
        return 0.0
    return share * cordon * authority_total / (authority_total + uprising_total)


def attrition_hazard(enemy_strength: np.ndarray, own_count: np.ndarray, rate: float) -> np.ndarray:
    """Per-agent hazard of incapacitation in contact: ``rate * E / max(n_own, 1)``.

    Lanchester's square law spread over the agents of a side in the 3x3 neighbourhood
    (Lanchester 1916): a side's losses scale with the opposing strength E and are shared
    among its n_own agents there. Zero without opponents in contact.
    """
    return rate * enemy_strength / np.maximum(own_count, 1.0)


def breach_hazard(
    attackers_at_cell: np.ndarray, integrity: np.ndarray, rate: float, team_size: float
) -> np.ndarray:
    """Hazard of a perimeter cell being breached: ``rate * (1 - integrity) * min(1, n / team)``.

    n is the number of external-force agents whose next move is into that cell; a full team
    works at the full rate and more add nothing (there is room for a team at one cell), so a
    larger force acts by attacking more cells. An integrity of 1 cannot be breached.
    """
    return rate * (1.0 - integrity) * np.minimum(1.0, attackers_at_cell / team_size)


def search_hazard_integral(
    start_h: np.ndarray, t0_h: float, t1_h: float, rate: float, decay_h: float
) -> np.ndarray:
    """Integrated recapture hazard over [t0, t1] for fugitives whose search began at ``start``.

    The search for one fugitive has hazard ``rate * exp(-(t - start) / decay_h)`` from
    ``start`` on (the trail goes cold), so over [t0, t1] it integrates to
    ``rate * decay_h * (exp(-a / decay_h) - exp(-b / decay_h))`` with a, b the times since
    ``start`` clipped at 0. The probability of recapture in the interval is
    ``1 - exp(-integral)``; over an unbounded time it is ``1 - exp(-rate * decay_h)``.
    """
    a = np.maximum(t0_h - start_h, 0.0)
    b = np.maximum(t1_h - start_h, 0.0)
    return rate * decay_h * (np.exp(-a / decay_h) - np.exp(-b / decay_h))
