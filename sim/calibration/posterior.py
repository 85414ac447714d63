"""The posterior of a calibration: weighted samples, summaries, its central point.

pyabc's last generation is a set of weighted particles on the unit cube; here they are
mapped back to parameter values. Summaries are weighted: mean, median and the 5-95 %
interval of each parameter, and the weighted correlations between them. The central point
(the weighted median of each parameter) is what the calibrated scenario holds; the samples
themselves are what experiments draw their uncertainties from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.calibration.config import Prior
from sim.experiments.design import posterior_draws
from sim.model.params import PARAMS

WEIGHT = "weight"


def from_unit_frame(
    unit: pd.DataFrame, weights: np.ndarray, priors: Sequence[Prior]
) -> pd.DataFrame:
    """Posterior samples in parameter units, one row per particle, with normalised weights."""
    cols = {p.name: [p.from_unit(float(u)) for u in unit[p.name]] for p in priors}
    frame = pd.DataFrame(cols)
    for p in priors:
        if PARAMS[p.name].kind == "int":
            frame[p.name] = frame[p.name].round().astype(int)
    w = np.asarray(weights, dtype=float)
    frame[WEIGHT] = w / w.sum()
    return frame.reset_index(drop=True)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of weighted values (inverse of the weighted CDF at mid-steps)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def summary(posterior: pd.DataFrame, priors: Sequence[Prior]) -> pd.DataFrame:
    """Per parameter: prior range, weighted mean, median and 5 % and 95 % quantiles."""
    w = posterior[WEIGHT].to_numpy()
    rows = []
    for p in priors:
        v = posterior[p.name].to_numpy(dtype=float)
        rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "mean": float(np.average(v, weights=w)),
                "q5": weighted_quantile(v, w, 0.05),
                "median": weighted_quantile(v, w, 0.5),
                "q95": weighted_quantile(v, w, 0.95),
            }
        )
    return pd.DataFrame(rows)


def correlations(posterior: pd.DataFrame, priors: Sequence[Prior]) -> pd.DataFrame:
    """Weighted correlation matrix of the parameters."""
    names = [p.name for p in priors]
    x = posterior[names].to_numpy(dtype=float)
    cov = np.cov(x, rowvar=False, aweights=posterior[WEIGHT].to_numpy())
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=names, columns=names)


def central_point(posterior: pd.DataFrame, priors: Sequence[Prior]) -> dict[str, float | int]:
    """The weighted median of each parameter (whole numbers rounded)."""
    med = summary(posterior, priors).set_index("parameter")["median"]
    return {
        p.name: round(med[p.name]) if PARAMS[p.name].kind == "int" else float(med[p.name])
        for p in priors
    }


def resample(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` draws from the weighted samples (systematic resampling, seeded; the one the
    experiments' ``posterior`` design uses)."""
    rows = posterior.drop(columns=WEIGHT).to_dict("records")
    return pd.DataFrame(posterior_draws(rows, posterior[WEIGHT].to_numpy(), n, seed))
