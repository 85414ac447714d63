"""Every model parameter, declared once.

Each :class:`Param` carries its default, unit, hard bounds (what validation accepts),
an optional plausible range (what experiments sweep by default, usually the reported
low-high spread), its role and a one-line help. Validation, ``prisonsim params``, the
docs' parameter table and the demo's sliders are all generated from :data:`PARAMS`.

Roles (the vocabulary of EMA Workbench and NetLogo BehaviorSpace):

* ``lever``: a defensive or policy choice an experiment varies;
* ``uncertainty``: an outside condition to average over (never optimised);
* ``setting``: a modelling constant (resolution, rates of the abstract rules).

``source`` names keys of ``sim/data/ghwayran_reported.yaml`` (copied from
``shared/data``) where a default comes from public reporting; ``None`` marks a
modelling assumption, stated as such in the docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["lever", "uncertainty", "setting"]
Kind = Literal["float", "int", "bool"]


@dataclass(frozen=True)
class Param:
    """Declaration of one parameter.

    ``bounds`` are hard validity limits (inclusive); ``plausible`` is the default range
    an experiment sweeps when it names the parameter without values.
    """

    name: str
    default: float | int | bool
    unit: str
    bounds: tuple[float, float]
    role: Role
    help: str
    kind: Kind = "float"
    plausible: tuple[float, float] | None = None
    source: tuple[str, ...] = field(default_factory=tuple)
    group: str = ""

    def coerce(self, value: Any) -> float | int | bool:
        """Convert ``value`` to this parameter's kind (no range check)."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise TypeError(f"expected true or false, got {value!r}")
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got {value!r}")
        if self.kind == "int":
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"expected a whole number, got {value!r}")
        if isinstance(value, int | float):
            try:
                return float(value)
            except OverflowError:  # a whole number beyond any float
                raise ValueError(f"{value} is too large for a number") from None
        raise TypeError(f"expected a number, got {value!r}")

    def in_bounds(self, value: float | int | bool) -> bool:
        if self.kind == "bool":
            return True
        lo, hi = self.bounds
        return lo <= value <= hi

    def describe_range(self) -> str:
        """Human text of the allowed values, used in error messages and docs."""
        if self.kind == "bool":
            return "true or false"
        lo, hi = self.bounds
        fmt = (lambda v: str(int(v))) if self.kind == "int" else (lambda v: f"{v:g}")
        return f"{fmt(lo)} to {fmt(hi)} {self.unit}".rstrip()

    def sweep_range(self) -> tuple[float, float]:
        """The range an experiment uses by default: plausible if declared, else bounds."""
        return self.plausible if self.plausible is not None else self.bounds


def _p(name: str, default, unit: str, bounds, role: Role, help: str, **kw) -> Param:
    if "source" in kw and isinstance(kw["source"], str):
        kw["source"] = (kw["source"],)
    elif "source" in kw:
        kw["source"] = tuple(kw["source"])
    if "kind" not in kw:
        kw["kind"] = (
            "bool" if isinstance(default, bool) else "int" if isinstance(default, int) else "float"
        )
    return Param(name, default, unit, tuple(bounds), role, help, **kw)


_DECLARATIONS: list[Param] = [
    # ---------------------------------------------------------------- levers
    _p(
        "warning_lead_time_h",
        0.0,
        "h",
        (0, 168),
        "lever",
        "Hours between a specific warning and the event.",
        plausible=(0, 72),
        source="AP-ABDI",
        group="warning",
    ),
    _p(
        "warning_acted_on",
        0.0,
        "share",
        (0, 1),
        "lever",
        "Share of readiness measures taken on the warning (0 = ignored, 1 = all).",
        source=("SEED-A", "AP-ABDI"),
        group="warning",
    ),
    _p(
        "repatriation_share",
        0.0,
        "share",
        (0, 1),
        "lever",
        "Share of iraqi and third-country detainees removed from the facility beforehand.",
        group="population",
    ),
    _p(
        "guards_per_100_inmates",
        3.0,
        "guards/100 inmates",
        (0.5, 20),
        "lever",
        "Guards on duty per 100 inmates present (assumption: no public figure).",
        plausible=(1, 8),
        group="staffing",
    ),
    _p(
        "responder_delay_h",
        3.0,
        "h",
        (0, 72),
        "lever",
        "Hours from the event's start until the first reinforcement group arrives (without "
        "a warning acted on).",
        plausible=(0.5, 12),
        group="response",
    ),
    _p(
        "responder_size",
        400,
        "persons",
        (0, 5000),
        "lever",
        "Size of the first reinforcement group (reported only as 'thousands' overall).",
        plausible=(100, 1000),
        source=("SEED-A", "VICE-27J"),
        group="response",
    ),
    _p(
        "perimeter_integrity",
        0.5,
        "share",
        (0, 1),
        "lever",
        "Structural integrity of the perimeter (1 = cannot be breached).",
        plausible=(0.2, 0.9),
        group="facility",
    ),
    _p(
        "separate_minors",
        False,
        "",
        (0, 1),
        "lever",
        "Minors are held at another site (their wing is empty).",
        group="population",
    ),
    _p(
        "capacity",
        5000,
        "inmates (design)",
        (50, 20000),
        "lever",
        "Design capacity of the housing blocks; occupancy / capacity sets crowding (not the "
        "grid: see layout_capacity).",
        plausible=(3000, 8000),
        source=("RUDAW-AUG21", "SYRIACPRESS-FEB21"),
        group="facility",
    ),
    # ---------------------------------------------------------------- uncertainties
    _p(
        "attackers",
        200,
        "persons",
        (0, 2000),
        "uncertainty",
        "Size of the external force (an uncertainty to average over, never a lever).",
        plausible=(100, 300),
        source=("SEED-A", "SWIKI", "SDF-GC", "WIKI"),
        group="external",
    ),
    _p(
        "inmates_adult",
        3700,
        "persons",
        (0, 20000),
        "uncertainty",
        "Adult detainees present before any repatriation.",
        plausible=(3000, 5000),
        source=("SOHR-a", "HST", "UNSC-27J", "HRW-04F"),
        group="population",
    ),
    _p(
        "inmates_minor",
        700,
        "persons",
        (0, 3000),
        "uncertainty",
        "Minors present (held in a separate wing).",
        plausible=(600, 850),
        source=("NRT-23J", "HRW-04F", "UNICEF-23J", "AP-27J"),
        group="population",
    ),
    _p(
        "iraqi_share",
        0.3,
        "share",
        (0, 1),
        "uncertainty",
        "Share of adult detainees of iraqi origin.",
        plausible=(0.2, 0.4),
        source=("HRW-JAN22", "HRW-DEC22", "AMN-24"),
        group="population",
    ),
    _p(
        "third_country_share",
        0.2,
        "share",
        (0, 1),
        "uncertainty",
        "Share of adult detainees from third countries (the rest are syrian).",
        plausible=(0.1, 0.3),
        source=("HRW-JAN22", "HRW-DEC22", "AMN-24"),
        group="population",
    ),
    _p(
        "hardened_share",
        0.25,
        "share",
        (0, 1),
        "uncertainty",
        "Share of adults who are hardened (higher grievance, lower risk aversion).",
        plausible=(0.1, 0.5),
        group="population",
    ),
    _p(
        "breach_rate",
        0.3,
        "1/h",
        (0, 5),
        "uncertainty",
        "Hazard of a perimeter cell of integrity 0 being breached by a full team "
        "(breach_team_size) of the external force; x (1 - integrity).",
        plausible=(0.1, 0.6),
        group="external",
    ),
    _p(
        "agitation_threshold",
        0.1,
        "",
        (0, 1),
        "uncertainty",
        "Epstein's threshold T: agitated when grievance - risk aversion x arrest risk > T.",
        plausible=(0.05, 0.2),
        group="uprising",
    ),
    _p(
        "attrition_rate",
        0.15,
        "1/h",
        (0, 5),
        "uncertainty",
        "Base hazard per hour of incapacitation for an agent in contact with opponents.",
        plausible=(0.05, 0.3),
        group="engagement",
    ),
    _p(
        "initial_rioter_share",
        0.3,
        "share",
        (0, 1),
        "uncertainty",
        "Share of hardened adults who rise at the event's start (simultaneous uprising).",
        plausible=(0.1, 0.6),
        source=("SEED-A",),
        group="uprising",
    ),
    # ---------------------------------------------------------------- settings
    _p(
        "step_minutes",
        15.0,
        "min",
        (1, 60),
        "setting",
        "Reporting interval; the model runs ticks of at most this length and at most one "
        "cell of movement each (see move_cells_per_h), so results do not depend on it.",
        group="time",
    ),
    _p(
        "horizon_h",
        336.0,
        "h",
        (1, 336),
        "setting",
        "Longest simulated time (14 days); runs end earlier once control is restored.",
        group="time",
    ),
    _p(
        "move_cells_per_h",
        8.0,
        "cells/h",
        (1, 60),
        "setting",
        "Cells a moving agent advances per hour down its distance field; a tick lasts at most "
        "1/move_cells_per_h hours so contact is checked after every hop.",
        group="time",
    ),
    _p(
        "housing_blocks",
        3,
        "blocks",
        (1, 12),
        "setting",
        "Number of adult housing blocks (the facility was three former school buildings).",
        source=("event",),
        group="facility",
    ),
    _p(
        "layout_capacity",
        5000,
        "persons",
        (50, 20000),
        "setting",
        "Persons the schematic housing blocks are drawn for: sets the grid's size only "
        "(crowding uses capacity, so changing capacity does not move the geometry).",
        source=("RUDAW-AUG21", "SYRIACPRESS-FEB21"),
        group="facility",
    ),
    _p(
        "persons_per_cell",
        25,
        "persons/cell",
        (5, 200),
        "setting",
        "Design occupants per housing-block cell; sets the grid's resolution.",
        group="facility",
    ),
    _p(
        "cell_crowding_limit",
        2.0,
        "x persons_per_cell",
        (1, 10),
        "setting",
        "Most agents one cell can hold, as a multiple of persons_per_cell; a move into a "
        "full cell waits.",
        group="facility",
    ),
    _p(
        "yard_margin_cells",
        3,
        "cells",
        (1, 20),
        "setting",
        "Yard cells between the housing blocks and the perimeter.",
        group="facility",
    ),
    _p(
        "town_depth_cells",
        10,
        "cells",
        (2, 40),
        "setting",
        "Cells of town between the perimeter and the cordon edge.",
        group="facility",
    ),
    _p(
        "vision_cells",
        2,
        "cells",
        (1, 6),
        "setting",
        "Radius (Chebyshev) within which agents count authority, rioters and other inmates.",
        group="uprising",
    ),
    _p(
        "legitimacy",
        0.85,
        "",
        (0, 1),
        "setting",
        "Epstein's L: grievance = hardship x (1 - L).",
        group="uprising",
    ),
    _p(
        "arrest_k",
        2.3,
        "",
        (0.1, 10),
        "setting",
        "Epstein's k in arrest risk P = 1 - exp(-k x authority / (rioters + 1)).",
        group="uprising",
    ),
    _p(
        "crowding_gain",
        0.3,
        "per unit occupancy",
        (0, 2),
        "setting",
        "Grievance added per unit of block occupancy (occupants / design capacity) above 1, "
        "and removed per unit below 1.",
        group="uprising",
    ),
    _p(
        "disturbance_gain",
        0.075,
        "",
        (0, 1),
        "setting",
        "Grievance added x D, where D = 1 for an inmate out of control (opened block, yard) "
        "and 0.5 in a closed block once the perimeter is breached or the force is inside.",
        group="uprising",
    ),
    _p(
        "hardened_grievance",
        0.3,
        "",
        (0, 1),
        "setting",
        "Grievance added for hardened inmates.",
        group="uprising",
    ),
    _p(
        "foreign_grievance",
        0.05,
        "",
        (0, 1),
        "setting",
        "Grievance added for iraqi and third-country adults (held without prospect of trial "
        "or return).",
        group="uprising",
    ),
    _p(
        "foreign_hardened_ratio",
        1.5,
        "odds ratio",
        (0.2, 5),
        "setting",
        "Relative odds of being hardened for iraqi and third-country vs syrian adults.",
        group="population",
    ),
    _p(
        "riot_contagion_rate",
        1.0,
        "1/h",
        (0, 20),
        "setting",
        "Hazard of a willing inmate joining the riot, per unit of rioter share within vision.",
        group="uprising",
    ),
    _p(
        "flee_rate",
        0.04,
        "1/h",
        (0, 20),
        "setting",
        "Hazard of a rioter with no risk aversion starting to flee once a way out is open.",
        group="uprising",
    ),
    _p(
        "passive_flee_factor",
        0.3,
        "x",
        (0, 1),
        "setting",
        "Flight hazard of an inmate out of control who is not rioting, relative to a rioter's.",
        group="uprising",
    ),
    _p(
        "block_seizure_rate",
        0.5,
        "1/h",
        (0, 20),
        "setting",
        "Hazard of rioters opening their block, scaled by their strength against its guards.",
        group="uprising",
    ),
    _p(
        "calm_period_h",
        6.0,
        "h",
        (0, 72),
        "setting",
        "Hours a contained agitated inmate stays calm (cannot become agitated again).",
        group="response",
    ),
    _p(
        "contain_rate",
        0.6,
        "persons/h per strength",
        (0, 20),
        "setting",
        "Persons an hour one unit of authority strength contains in contact, shared among "
        "the inmates there and slowed by the uprising's strength: rate x A / (U + N).",
        group="response",
    ),
    _p(
        "surrender_rate",
        0.05,
        "1/h",
        (0, 5),
        "setting",
        "Hazard of a rioter surrendering under full pressure (authority nearby and no other "
        "rioters); zero with no authority within vision.",
        group="response",
    ),
    _p(
        "surrender_fatigue_h",
        24.0,
        "h",
        (1, 336),
        "setting",
        "Hours of rioting after which a rioter's surrender hazard has doubled (fatigue).",
        group="response",
    ),
    _p(
        "siege_pressure_share",
        0.0,
        "share",
        (0, 1),
        "setting",
        "Pressure to surrender the siege puts on every rioter inside the perimeter, as a share "
        "of facing authority in view: share x cordon x A / (A + U) over the whole grid.",
        group="response",
    ),
    _p(
        "hardened_surrender_factor",
        0.25,
        "x",
        (0, 1),
        "setting",
        "Surrender hazard of a hardened rioter relative to others (holdouts).",
        group="response",
    ),
    _p(
        "base_readiness",
        0.4,
        "share",
        (0, 1),
        "setting",
        "Guard readiness with no warning acted on; a long warning fully acted on raises it "
        "toward 1.",
        group="staffing",
    ),
    _p(
        "warning_build_h",
        12.0,
        "h",
        (0.5, 168),
        "setting",
        "Hours of warning in which preparations close 63 % of the gap (1 - exp(-lead / "
        "warning_build_h)); saturates by design after about three of them.",
        group="warning",
    ),
    _p(
        "cordon_max",
        0.9,
        "share",
        (0, 1),
        "setting",
        "Largest reduction of the flight hazard by the cordon reinforcements set up.",
        group="response",
    ),
    _p(
        "cordon_responders_per_cell",
        1.5,
        "persons/cell",
        (0.1, 20),
        "setting",
        "Engaged responders per perimeter cell that close 63 % of the cordon.",
        group="response",
    ),
    _p(
        "cordon_build_h",
        0.0,
        "h",
        (0, 168),
        "setting",
        "Hours from the start in which the curfew and checkpoints around the site close 63 % "
        "of the manned cordon (1 - exp(-t / cordon_build_h)); 0: it holds as soon as manned.",
        group="response",
    ),
    _p(
        "at_large_recapture_rate",
        0.02,
        "1/h",
        (0, 1),
        "setting",
        "Recapture hazard of an inmate beyond the cordon when the search for it starts "
        "(at its escape, or at the reinforcements' arrival if later).",
        group="response",
    ),
    _p(
        "search_decay_h",
        24.0,
        "h",
        (1, 336),
        "setting",
        "E-folding time of the search's intensity for one fugitive (the trail goes cold); "
        "most recaptures come within about three of them.",
        group="response",
    ),
    _p(
        "air_support_h",
        18.0,
        "h",
        (0, 336),
        "setting",
        "Hours until model-level air support starts (first reported strikes).",
        plausible=(12, 24),
        source=("SOHR-a", "KP-22J"),
        group="response",
    ),
    _p(
        "air_support_rate",
        0.01,
        "1/h",
        (0, 1),
        "setting",
        "Hazard of incapacitation for each active member of the external force once air "
        "support has started (a model-level effect, no contact needed).",
        group="response",
    ),
    _p(
        "assault_superiority",
        2.0,
        "ratio",
        (0.1, 10),
        "setting",
        "Reinforcements go into the facility only while the authority side's total strength "
        "is at least this multiple of the uprising's; until then they hold the cordon.",
        group="response",
    ),
    _p(
        "ground_support_h",
        96.0,
        "h",
        (0, 336),
        "setting",
        "Hours until the second reinforcement group arrives.",
        plausible=(84, 96),
        source=("NRT-24J",),
        group="response",
    ),
    _p(
        "ground_support_size",
        400,
        "persons",
        (0, 5000),
        "setting",
        "Size of the second reinforcement group.",
        group="response",
    ),
    _p(
        "breach_team_size",
        10,
        "persons",
        (1, 200),
        "setting",
        "External-force agents at one perimeter cell that breach it at the full breach_rate; "
        "fewer act in proportion.",
        group="external",
    ),
    _p(
        "external_hold_h",
        120.0,
        "h",
        (1, 336),
        "setting",
        "Hours after the event's start when the external force withdraws (if not before).",
        group="external",
    ),
    _p(
        "external_withdraw_loss_share",
        0.5,
        "share",
        (0, 1),
        "setting",
        "The external force withdraws once this share of its members is incapacitated.",
        group="external",
    ),
    _p(
        "strength_guard",
        1.0,
        "guard-equivalents",
        (0, 10),
        "setting",
        "Engagement strength of a fully ready guard; a guard's is strength_guard x (1 + "
        "readiness) / 2.",
        group="engagement",
    ),
    _p(
        "strength_inmate",
        0.3,
        "guard-equivalents",
        (0, 5),
        "setting",
        "Engagement strength of one rioting inmate.",
        group="engagement",
    ),
    _p(
        "strength_external",
        2.0,
        "guard-equivalents",
        (0, 10),
        "setting",
        "Engagement strength of one external-force agent.",
        group="engagement",
    ),
    _p(
        "strength_responder",
        1.5,
        "guard-equivalents",
        (0, 10),
        "setting",
        "Engagement strength of one responder.",
        group="engagement",
    ),
    _p(
        "control_point_bonus",
        0.25,
        "share per point",
        (0, 2),
        "setting",
        "Strength added to the uprising side per control point it holds.",
        group="engagement",
    ),
    _p(
        "guard_capture_share",
        0.5,
        "share",
        (0, 1),
        "setting",
        "Share of the guards the uprising's inmates overcome who are taken hostage rather "
        "than incapacitated.",
        group="engagement",
    ),
    _p(
        "hostage_harm_rate",
        0.005,
        "1/h",
        (0, 1),
        "setting",
        "Hazard of a captured guard being incapacitated while held.",
        group="engagement",
    ),
]

PARAMS: dict[str, Param] = {p.name: p for p in _DECLARATIONS}
LEVERS: tuple[str, ...] = tuple(p.name for p in _DECLARATIONS if p.role == "lever")
UNCERTAINTIES: tuple[str, ...] = tuple(p.name for p in _DECLARATIONS if p.role == "uncertainty")


def defaults() -> dict[str, float | int | bool]:
    """A fresh dict of every parameter's default."""
    return {p.name: p.default for p in _DECLARATIONS}


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, float | int | bool]:
    """Defaults overlaid with ``overrides``, each value coerced and range-checked.

    Raises ``KeyError`` for an unknown name and ``ValueError``/``TypeError`` for a bad
    value; the scenario loader turns these into file-and-line messages.
    """
    values = defaults()
    for name, raw in (overrides or {}).items():
        if name not in PARAMS:
            raise KeyError(name)
        p = PARAMS[name]
        v = p.coerce(raw)
        if not p.in_bounds(v):
            raise ValueError(f"{name}={v!r} is outside {p.describe_range()}")
        values[name] = v
    check_joint(values)
    return values


def check_joint(values: Mapping[str, Any]) -> None:
    """Constraints that involve several parameters."""
    if values["iraqi_share"] + values["third_country_share"] > 1.0 + 1e-9:
        raise ValueError(
            "iraqi_share + third_country_share must be at most 1 "
            f"(got {values['iraqi_share']:g} + {values['third_country_share']:g})"
        )
