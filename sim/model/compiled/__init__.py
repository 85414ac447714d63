"""The compiled engine: the seven phases as numba kernels over a World's own arrays.

Numba compiles the kernels on first use and caches them on disk (``cache=True``), in a
per-user cache folder named after a digest of this engine's sources and numba's version,
so a change of code never meets a stale cache and the compilation (about a minute) is
paid once per machine, not per worker or per run. ``PRISONSIM_NUMBA_CACHE`` overrides the
folder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba


def _engine_digest() -> str:
    here = Path(__file__).resolve().parent
    sources = (
        sorted(here.glob("*.py"))
        + [here.parent / name for name in ("streams.py", "states.py", "world.py", "population.py")]
        + sorted((here.parent / "phases").glob("*.py"))
    )
    digest = hashlib.sha256(numba.__version__.encode())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> str:
    chosen = os.environ.get("PRISONSIM_NUMBA_CACHE")
    if not chosen:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        chosen = str(Path(base) / "prisonsim" / f"numba-{_engine_digest()}")
    try:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        probe = Path(chosen) / ".writable"
        probe.touch()
    except OSError:
        chosen = str(Path(tempfile.gettempdir()) / f"prisonsim-numba-{_engine_digest()}")
        Path(chosen).mkdir(parents=True, exist_ok=True)
    return chosen


numba.config.CACHE_DIR = _cache_dir()

from sim.model.compiled.engine import CompiledEngine  # noqa: E402  (after the cache folder)

__all__ = ["CompiledEngine", "cache_is_warm", "warm_up"]


def cache_is_warm() -> bool:
    """Whether this machine already holds the compiled engine for this code."""
    return any(Path(numba.config.CACHE_DIR).rglob("*.nbi"))


def warm_up() -> None:
    """Compile (or load) the engine by running a tiny model for one hour.

    A coordinator calls this before starting its workers, so that the compilation is done
    once and every worker loads it from the cache instead of compiling it again.
    """
    from sim.model.facility import FacilityModel

    tiny = {"inmates_adult": 60, "inmates_minor": 10, "attackers": 5, "horizon_h": 1.0}
    tiny |= {"layout_capacity": 80, "capacity": 80, "persons_per_cell": 5}
    FacilityModel(seed=0, engine="compiled", **tiny).run_model()
