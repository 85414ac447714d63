"""Running many replicates: worker function, executors, chunking, the coordinating loop.

Workers run :func:`run_chunk` on a :class:`Chunk` (shared base parameters plus a few
(point, replicate, seed, overrides) tasks) and return plain dicts; they never touch the
store. The coordinator (:func:`execute`) keeps a bounded number of chunks in flight, hands
each finished chunk's results to a callback (the store writes them in one transaction) and
sizes chunks so that each takes about ``target_chunk_s`` of work: per-task overhead stays
small for short runs, and long runs still go one at a time.

Everything a worker receives is a top-level, picklable object, and local workers are
started with the ``spawn`` method (``import mesa`` sets it process-wide anyway).

A run that raises is returned as a failure with its traceback and the rest go on. A worker
process that dies (a crash in native code, the OOM killer) takes its in-flight chunks with
it: those runs are tried again one at a time, and a run that kills its worker alone is
recorded as a failure.

``PRISONSIM_RUN_FUNCTION=module:function`` replaces ``sim.model.run_replicate`` in the
workers (same signature); tests and benchmarks use it to inject faults or fixed costs.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import logging
import math
import multiprocessing as mp
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

RUN_FUNCTION_ENV = "PRISONSIM_RUN_FUNCTION"


@dataclass(frozen=True)
class Chunk:
    """Work for one task: base parameters, what to record, and the runs themselves.

    ``runs`` holds (point_id, replicate, seed, overrides of the base parameters).
    """

    base_params: dict[str, Any]
    outcomes: tuple[str, ...]
    series_every_h: float | None
    runs: tuple[tuple[int, int, int, dict[str, Any]], ...] = field(default_factory=tuple)


def _run_function() -> Callable[..., Any]:
    spec = os.environ.get(RUN_FUNCTION_ENV)
    if not spec:
        from sim.model import run_replicate

        return run_replicate
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Run every replicate of ``chunk``; a run that raises becomes a failure record."""
    run = _run_function()
    out = []
    for point_id, replicate, seed, overrides in chunk.runs:
        rec: dict[str, Any] = {
            "point_id": point_id,
            "replicate": replicate,
            "seed": seed,
            "error": None,
        }
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            res = run(chunk.base_params | overrides, int(seed), series_every_h=chunk.series_every_h)
            missing = [o for o in chunk.outcomes if o not in res.outcomes]
            if missing:
                raise KeyError(f"run returned no value for outcomes {missing}")
            rec["outcomes"] = {o: float(res.outcomes[o]) for o in chunk.outcomes}
            rec["steps"] = int(res.steps)
            if chunk.series_every_h and res.series is not None:
                rec["series"] = {
                    "t_h": [float(t) for t in res.series.index],
                    "values": {
                        str(c): [float(v) for v in res.series[c]] for c in res.series.columns
                    },
                }
        except Exception as exc:  # one failing run must not stop the sweep
            rec["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            rec["traceback"] = traceback.format_exc()
        rec["elapsed_s"] = time.perf_counter() - t0
        rec["cpu_s"] = time.process_time() - c0
        out.append(rec)
    return out


# ----------------------------------------------------------------------------- backends
class WorkerLost(Exception):
    """A worker process died while running a chunk."""


def _watch_parent(parent_pid: int) -> None:
    """In a worker: exit when the coordinator is gone (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class LocalBackend:
    """A pool of local worker processes (spawn start method)."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            self.workers,
            mp_context=mp.get_context("spawn"),
            initializer=_watch_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, chunk: Chunk) -> cf.Future:
        return self._pool.submit(run_chunk, chunk)

    def wait(self, futures: set, timeout: float) -> set:
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, fut: cf.Future) -> list[dict[str, Any]]:
        try:
            return fut.result()
        except cf.process.BrokenProcessPool as exc:
            raise WorkerLost(str(exc) or "a worker process died") from None

    def recover(self) -> None:
        """After a lost worker: a broken pool runs nothing more, so start a new one."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


DASK_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "200ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask settings for the clusters prisonsim starts (see ``DaskBackend``)."""


class DaskBackend:
    """A Dask distributed client: at ``scheduler`` or on a new local cluster."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None = None):
        import dask
        from distributed import Client, LocalCluster

        # A task on a worker that dies is not retried elsewhere (we retry it ourselves,
        # alone); this must be set before the scheduler starts. The rest quiets Dask's
        # own background work, which otherwise takes CPU from the runs when every core
        # has a worker: the statistical profiler (samples the running task every 10 ms),
        # the event-loop tick (20 ms) and the memory and system monitors (0.1 s, 0.5 s).
        # Measured on 2 cores, 2 workers: a run took 14% longer in a Dask worker than in a
        # plain process with Dask's defaults, 0.5% longer with these. For a cluster you
        # start yourself, see docs/experiments.md.
        dask.config.set(DASK_CONFIG)
        self._cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
            self.workers = max(
                1,
                sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()),
            )
        else:
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,  # lost workers are reported by us
            )
            self.client = Client(self._cluster)
            self.workers = workers

    def submit(self, chunk: Chunk) -> Any:
        return self.client.submit(run_chunk, chunk, pure=False)

    def wait(self, futures: set, timeout: float) -> set:
        from distributed import wait

        try:
            done, _ = wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def result(self, fut: Any) -> list[dict[str, Any]]:
        from distributed.scheduler import KilledWorker

        try:
            return fut.result()
        except KilledWorker as exc:
            raise WorkerLost(str(exc).split(". ")[0]) from None

    def recover(self) -> None:
        """Dask replaces lost workers itself (nanny); nothing to do."""

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(executor: str, workers: int, scheduler: str | None = None) -> Any:
    """A backend by name: ``local`` (process pool) or ``dask``."""
    if executor == "dask":
        return DaskBackend(workers, scheduler)
    return LocalBackend(workers)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- the loop
@dataclass
class Work:
    """One run to do: (point_id, replicate, seed, overrides of the base parameters)."""

    point_id: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    suspect: bool = False  # was in flight when a worker died

    def as_tuple(self) -> tuple[int, int, int, dict[str, Any]]:
        return (self.point_id, self.replicate, self.seed, self.overrides)

    def failure(self, error: str) -> dict[str, Any]:
        """A failure record for this run (when it never returned a result)."""
        return {
            "point_id": self.point_id,
            "replicate": self.replicate,
            "seed": self.seed,
            "error": error.splitlines()[0][:500],
            "traceback": "",
        }


def execute(
    backend: Any,
    work: Sequence[Work],
    base_params: dict[str, Any],
    outcomes: Sequence[str],
    series_every_h: float | None,
    on_results: Callable[[list[dict[str, Any]]], None],
    *,
    chunk_size: int | None = None,
    target_chunk_s: float = 0.5,
) -> None:
    """Run ``work`` on ``backend``, passing each finished chunk's results to ``on_results``.

    ``chunk_size`` fixes the runs per chunk; by default it adapts so a chunk takes about
    ``target_chunk_s`` (starting at one run per chunk) and never exceeds a fair share of
    what is left, so the last chunks finish together.
    """
    queue = deque(work)
    suspects: deque[Work] = deque()
    inflight: dict[Any, list[Work]] = {}
    max_inflight = 2 * backend.workers
    per_run_s: float | None = None

    def next_size() -> int:
        if chunk_size:
            return chunk_size
        if per_run_s is None:
            return 1
        fair = math.ceil(len(queue) / (2 * backend.workers))
        return max(1, min(int(target_chunk_s / max(per_run_s, 1e-6)), fair, 1000))

    def submit(items: list[Work]) -> None:
        chunk = Chunk(
            base_params, tuple(outcomes), series_every_h, tuple(w.as_tuple() for w in items)
        )
        inflight[backend.submit(chunk)] = items

    while queue or suspects or inflight:
        # Suspects (from a chunk whose worker died) run alone, one at a time, to find
        # the run that kills its worker.
        if suspects:
            if not inflight:
                submit([suspects.popleft()])
        else:
            while queue and len(inflight) < max_inflight:
                size = next_size()
                submit([queue.popleft() for _ in range(min(size, len(queue)))])
        done = backend.wait(set(inflight), timeout=0.5)
        lost = False
        for fut in done:
            items = inflight.pop(fut)
            try:
                results = backend.result(fut)
            except WorkerLost as exc:
                lost = True
                for w in items:
                    if w.suspect and len(items) == 1:
                        on_results(
                            [w.failure(f"WorkerLost: worker process died during this run ({exc})")]
                        )
                    else:
                        w.suspect = True
                        suspects.append(w)
                continue
            on_results(results)
            elapsed = sum(r.get("elapsed_s", 0.0) for r in results) / max(len(results), 1)
            per_run_s = elapsed if per_run_s is None else 0.7 * per_run_s + 0.3 * elapsed
        if lost and isinstance(backend, LocalBackend):
            # Every other chunk of a broken pool is lost too: try their runs again.
            for items in inflight.values():
                for w in items:
                    w.suspect = True
                    suspects.append(w)
            inflight.clear()
            backend.recover()
