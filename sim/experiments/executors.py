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
process that dies (a crash in native code, the OOM killer) costs only the run it was
running. Local workers send each run's result as soon as it is done, so the coordinator
knows exactly which run a dead worker was running: the chunk's other runs are run again
at once, and that run once more, alone; if its worker dies again it is recorded as a
failure (``WorkerLost``). A Dask worker's death does not say which run was running: every
run of the lost chunk is run again alone, one at a time, and one whose worker then dies
twice is recorded. A worker stopped by a signal (SIGTERM, SIGINT, SIGHUP) is nobody's
fault: its runs are run again.

Local workers ignore SIGINT and SIGHUP (a Ctrl-C reaches the whole process group: the
coordinator decides) and exit when the coordinator is gone; :meth:`LocalBackend.close`
stops them at once, so an interrupted sweep leaves no process behind and hangs in no exit
handler.

``PRISONSIM_RUN_FUNCTION=module:function`` replaces ``sim.model.run_replicate`` in the
workers (same signature); tests and benchmarks use it to inject faults or fixed costs.
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.config.loading import UserError

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


def iter_chunk(chunk: Chunk) -> Iterator[dict[str, Any]]:
    """Run every replicate of ``chunk`` in order, yielding each one's record as it ends;
    a run that raises becomes a failure record."""
    run = _run_function()
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
        yield rec


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Every record of ``chunk`` (the task a Dask worker runs)."""
    return list(iter_chunk(chunk))


# ----------------------------------------------------------------------------- backends
@dataclass
class Work:
    """One run to do: (point_id, replicate, seed, overrides of the base parameters)."""

    point_id: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    suspect: bool = False  # lost with a dead worker: now runs alone
    deaths: int = 0  # times its worker died while running it

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


@dataclass
class Outcome:
    """What a backend reports: runs that returned, and runs lost with a dead worker.

    ``culprit`` is the lost run the worker was running when it died, when the backend
    knows it; ``stopped`` says the worker was stopped by a signal (nobody's fault).
    """

    results: list[dict[str, Any]] = field(default_factory=list)
    lost: list[Work] = field(default_factory=list)
    culprit: Work | None = None
    stopped: bool = False
    cause: str = ""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _worker_main(conn: Any, parent_pid: int) -> None:
    """A local worker: run each chunk received, send each run's record as it ends, then
    ``None`` when the chunk is done; exit on ``None`` or when the coordinator is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides when to stop
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _watch_parent(parent_pid)
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for rec in iter_chunk(chunk):
            conn.send(rec)
        conn.send(None)


def _watch_parent(parent_pid: int) -> None:
    """In a worker: exit when the coordinator is gone (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


@dataclass
class _Slot:
    """One local worker process and the chunk it is running."""

    process: Any
    conn: Any
    items: list[Work] = field(default_factory=list)
    reported: int = 0  # records received for ``items``


class LocalBackend:
    """Local worker processes (spawn start method), one pipe each, one chunk each.

    Not ``concurrent.futures.ProcessPoolExecutor``: one dead worker breaks that whole pool
    (every run in flight is lost with it) and its exit handler waits for running tasks.
    """

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self._ctx = mp.get_context("spawn")
        self._slots: list[_Slot] = []

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main, args=(child, os.getpid()), daemon=True, name="prisonsim-worker"
        )
        process.start()
        child.close()
        slot = _Slot(process, parent)
        self._slots.append(slot)
        return slot

    def capacity(self) -> int:
        """Chunks that can be submitted now (one per idle or not yet started worker)."""
        return self.workers - sum(1 for s in self._slots if s.items)

    def busy(self) -> bool:
        return any(s.items for s in self._slots)

    def submit(self, items: list[Work], chunk: Chunk) -> None:
        idle = [s for s in self._slots if not s.items]
        slot = idle[0] if idle else self._start()
        slot.items, slot.reported = list(items), 0
        slot.conn.send(chunk)

    def poll(self, timeout: float) -> list[Outcome]:
        """Wait up to ``timeout`` s for records or deaths; return what happened."""
        busy = [s for s in self._slots if s.items]
        ready = set(
            mp.connection.wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout)
        )
        out = []
        for slot in busy:
            if slot.conn in ready or slot.process.sentinel in ready:
                out.append(self._collect(slot, dead=slot.process.sentinel in ready))
        return out

    def _collect(self, slot: _Slot, dead: bool) -> Outcome:
        """Records waiting in ``slot``'s pipe; if its worker died, what it lost."""
        outcome = Outcome()
        try:
            while slot.items and slot.conn.poll():
                rec = slot.conn.recv()
                if rec is None:
                    slot.items, slot.reported = [], 0
                else:
                    outcome.results.append(rec)
                    slot.reported += 1
        except (EOFError, OSError):
            dead = True
        if dead:
            slot.process.join(5)
            code = slot.process.exitcode
            outcome.lost = slot.items[slot.reported :]
            outcome.culprit = outcome.lost[0] if outcome.lost else None
            outcome.stopped = code is not None and -code in STOP_SIGNALS
            outcome.cause = (
                f"killed by {signal.Signals(-code).name}"
                if code and code < 0
                else f"exit code {code}"
            )
            slot.conn.close()
            self._slots.remove(slot)
        return outcome

    def close(self) -> None:
        """Stop every worker at once (SIGTERM, then SIGKILL after 5 s) and wait for it."""
        for slot in self._slots:
            if slot.process.is_alive():
                slot.process.terminate()
        deadline = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(5)
            slot.conn.close()
        self._slots = []


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
        self._inflight: dict[Any, list[Work]] = {}
        if scheduler:
            self.client = _connect(Client, scheduler)
            self.workers = max(
                1,
                sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()),
            )
        else:
            # Its processes inherit SIGINT and SIGHUP ignored, as local workers ignore
            # them: a Ctrl-C to the process group is the coordinator's to act on.
            ignored = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGHUP)}
            try:
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,  # lost workers are reported by us
                )
            finally:
                for s, handler in ignored.items():
                    signal.signal(s, handler)
            self.client = Client(self._cluster)
            self.workers = workers

    def capacity(self) -> int:
        return 2 * self.workers - len(self._inflight)

    def busy(self) -> bool:
        return bool(self._inflight)

    def submit(self, items: list[Work], chunk: Chunk) -> None:
        self._inflight[self.client.submit(run_chunk, chunk, pure=False)] = items

    def poll(self, timeout: float) -> list[Outcome]:
        from distributed import wait
        from distributed.scheduler import KilledWorker

        try:
            done, _ = wait(list(self._inflight), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        out = []
        for fut in done:
            items = self._inflight.pop(fut)
            try:
                out.append(Outcome(results=fut.result()))
            except KilledWorker as exc:  # which of the chunk's runs was running is unknown
                out.append(Outcome(lost=items, cause=str(exc).split(". ")[0]))
        return out

    def close(self) -> None:
        """Close the client and the cluster prisonsim started (once; later calls do nothing)."""
        client, self.client = self.client, None
        if client is not None:
            client.close()
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            cluster.close()


def _connect(client_class: Any, scheduler: str) -> Any:
    """A client of the scheduler at ``scheduler``; an unreachable one is a one-line
    mistake (within Dask's connect timeout, ``distributed.comm.timeouts.connect``)."""
    import dask

    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        return client_class(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"--scheduler {scheduler}: cannot reach a Dask scheduler within {timeout} "
            f"({reason}); nothing was written"
        ) from None


def make_backend(executor: str, workers: int, scheduler: str | None = None) -> Any:
    """A backend by name: ``local`` (worker processes) or ``dask``."""
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
    """Run ``work`` on ``backend``, passing results to ``on_results`` as they arrive.

    ``chunk_size`` fixes the runs per chunk; by default it adapts so a chunk takes about
    ``target_chunk_s`` (starting at one run per chunk) and never exceeds a fair share of
    what is left, so the last chunks finish together.
    """
    queue = deque(work)
    suspects: deque[Work] = deque()  # runs of a lost Dask chunk: run alone, one at a time
    per_run_s: float | None = None

    def next_size() -> int:
        if chunk_size:
            return chunk_size
        if per_run_s is None:
            return 1
        fair = math.ceil(len(queue) / (2 * backend.workers))
        return max(1, min(int(target_chunk_s / max(per_run_s, 1e-6)), fair, 1000))

    def submit(items: list[Work]) -> None:
        runs = tuple(w.as_tuple() for w in items)
        backend.submit(items, Chunk(base_params, tuple(outcomes), series_every_h, runs))

    while queue or suspects or backend.busy():
        if suspects:
            if not backend.busy():
                submit([suspects.popleft()])
        else:
            while queue and backend.capacity() > 0:
                submit([queue.popleft() for _ in range(min(next_size(), len(queue)))])
        for outcome in backend.poll(0.5):
            if outcome.results:
                on_results(outcome.results)
                mean = sum(r.get("elapsed_s", 0.0) for r in outcome.results) / len(outcome.results)
                per_run_s = mean if per_run_s is None else 0.7 * per_run_s + 0.3 * mean
            _requeue_lost(outcome, queue, suspects, on_results)


def _requeue_lost(
    outcome: Outcome,
    queue: deque[Work],
    suspects: deque[Work],
    on_results: Callable[[list[dict[str, Any]]], None],
) -> None:
    """Charge a dead worker's loss to the run that caused it; run the others again.

    The culprit is the run the worker was running (local workers say which) or a run lost
    while it ran alone. It runs once more, alone, and is recorded as a failure only if its
    worker dies again: a worker killed from outside (the OOM killer choosing it for
    another's memory, a Dask scheduler taking a worker slowed by load for dead) costs no
    innocent run.
    """
    lost = outcome.lost
    if not lost:
        return
    culprit = outcome.culprit
    if culprit is None and len(lost) == 1 and lost[0].suspect:
        culprit = lost[0]  # it ran alone: nothing else can have killed the worker
    if outcome.stopped:  # stopped by a signal: nobody's fault
        queue.extendleft(reversed(lost))
        return
    if culprit is None:  # unknown which run killed the worker: try each alone
        for w in lost:
            w.suspect = True
        suspects.extend(lost)
        return
    culprit.deaths += 1
    if culprit.deaths >= 2:
        cause = f"worker process died during this run, twice ({outcome.cause})"
        on_results([culprit.failure(f"WorkerLost: {cause}")])
    else:
        culprit.suspect = True
        suspects.appendleft(culprit)
    queue.extendleft(reversed([w for w in lost if w is not culprit]))
