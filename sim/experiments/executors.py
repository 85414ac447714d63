"""Running many jobs in parallel: backends and the coordinating loop, for any kind of job.

A job (:class:`Job`) is a picklable key and argument; a task (:class:`Task`) sends a
worker a top-level *worker function*, a context shared by its jobs, and a few jobs. The
worker calls ``function(context, job)`` for each and sends back a :class:`Done` per job
(its result, or its error and traceback) as soon as it ends; workers never touch a store.
Model runs are the jobs of every client: :func:`run_model` runs one (a job keyed by a
:class:`~sim.experiments.contract.RunKey`, its parameter values as argument) and
:func:`as_record` turns what came back into a
:class:`~sim.experiments.contract.RunRecord`. The sweep (:mod:`sim.experiments.sweep`)
runs an experiment's runs into a store; :func:`evaluate` runs any list of (parameters,
seed) pairs and returns their records in order (a calibration's evaluations, say).

The coordinator (:func:`execute`) keeps a bounded number of tasks in flight, hands each
finished job to a callback (a store writes them) and sizes tasks so that each takes about
``target_chunk_s`` of work: per-job overhead stays small for short jobs, and long jobs
still go one at a time.

Everything a worker receives is a top-level, picklable object, and local workers are
started with the ``spawn`` method (``import mesa`` sets it process-wide anyway).

A job that raises is reported as a failure with its traceback and the rest go on. A worker
process that dies (a crash in native code, the OOM killer) costs only the job it was
running. Local workers send each job's result as soon as it is done, so the coordinator
knows exactly which job a dead worker was running: the task's other jobs are run again
at once, and that job once more, alone; if its worker dies again it is reported as a
failure (``WorkerLost``). A Dask worker's death does not say which job was running: every
job of the lost task is run again alone, one at a time, and one whose worker then dies
twice is reported. A worker stopped by a signal (SIGTERM, SIGINT, SIGHUP) is nobody's
fault: its jobs are run again.

Local workers ignore SIGINT and SIGHUP (a Ctrl-C reaches the whole process group: the
coordinator decides) and exit when the coordinator is gone; :meth:`LocalBackend.close`
stops them at once, so an interrupted session leaves no process behind and hangs in no
exit handler.

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
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sim.config.loading import UserError
from sim.experiments.contract import RunKey, RunRecord, Series
from sim.experiments.signals import STOP_SIGNALS, stop_signals_held
from sim.model.outcomes import OUTCOMES

RUN_FUNCTION_ENV = "PRISONSIM_RUN_FUNCTION"

WorkerFunction = Callable[[Any, "Job"], Any]
"""``function(context, job) -> result``: a top-level (picklable) function run in a worker."""


@dataclass(frozen=True)
class Job:
    """One unit of work: ``key`` names it (what a store keys its result by), ``args`` is
    its own input; both picklable."""

    key: Hashable
    args: Any = None


@dataclass(frozen=True)
class Task:
    """What one worker runs at a time: the worker function, the context its jobs share,
    and the jobs, in order."""

    function: WorkerFunction
    context: Any
    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class Done:
    """A finished job: ``result`` (what the worker function returned), or ``error`` (one
    line) and ``traceback`` when it raised or its worker died; ``elapsed_s`` and
    ``cpu_s`` of the call."""

    job: Job
    result: Any = None
    error: str | None = None
    traceback: str = ""
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def error_line(exc: BaseException) -> str:
    """``Type: message``, first line only, at most 500 characters."""
    return (f"{type(exc).__name__}: {exc}".splitlines() or [""])[0][:500]


def iter_task(task: Task) -> Iterator[Done]:
    """Run every job of ``task`` in order, yielding each one as it ends; a job that
    raises becomes a failure (the others go on)."""
    for job in task.jobs:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            done = Done(job, result=task.function(task.context, job))
        except Exception as exc:  # one failing job must not stop the others
            done = Done(job, error=error_line(exc), traceback=traceback.format_exc())
        yield Done(
            job,
            done.result,
            done.error,
            done.traceback,
            time.perf_counter() - t0,
            time.process_time() - c0,
        )


def run_task(task: Task) -> list[Done]:
    """Every job of ``task`` (the function a Dask worker runs)."""
    return list(iter_task(task))


# ----------------------------------------------------------------------------- backends
@dataclass
class _Pending:
    """A job on its way, with what the coordinator knows of it."""

    job: Job
    suspect: bool = False  # lost with a dead worker: now runs alone
    deaths: int = 0  # times its worker died while running it


@dataclass
class Outcome:
    """What a backend reports: jobs that ended, and jobs lost with a dead worker.

    ``culprit`` is the lost job the worker was running when it died, when the backend
    knows it; ``stopped`` says the worker was stopped by a signal (nobody's fault).
    """

    done: list[Done] = field(default_factory=list)
    lost: list[_Pending] = field(default_factory=list)
    culprit: _Pending | None = None
    stopped: bool = False
    cause: str = ""


class Backend(Protocol):
    """Where tasks run: local processes or a Dask cluster."""

    name: str
    workers: int

    def capacity(self) -> int: ...
    def busy(self) -> bool: ...
    def submit(self, pending: list[_Pending], task: Task) -> None: ...
    def poll(self, timeout: float) -> list[Outcome]: ...
    def close(self) -> None: ...


def _worker_main(conn: Any, parent_pid: int) -> None:
    """A local worker: run each task received, send each job's :class:`Done` as it ends,
    then ``None`` when the task is done; exit on ``None`` or when the coordinator is
    gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator decides when to stop
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _watch_parent(parent_pid)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        for done in iter_task(task):
            conn.send(done)
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
    """One local worker process and the task it is running."""

    process: Any
    conn: Any
    items: list[_Pending] = field(default_factory=list)
    reported: int = 0  # results received for ``items``


class LocalBackend:
    """Local worker processes (spawn start method), one pipe each, one task each.

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
        """Tasks that can be submitted now (one per idle or not yet started worker)."""
        return self.workers - sum(1 for s in self._slots if s.items)

    def busy(self) -> bool:
        return any(s.items for s in self._slots)

    def submit(self, pending: list[_Pending], task: Task) -> None:
        idle = [s for s in self._slots if not s.items]
        slot = idle[0] if idle else self._start()
        slot.items, slot.reported = list(pending), 0
        slot.conn.send(task)

    def poll(self, timeout: float) -> list[Outcome]:
        """Wait up to ``timeout`` s for finished jobs or deaths; return what happened."""
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
        """Jobs finished in ``slot``'s pipe; if its worker died, what it lost."""
        outcome = Outcome()
        try:
            while slot.items and slot.conn.poll():
                done = slot.conn.recv()
                if done is None:
                    slot.items, slot.reported = [], 0
                else:
                    outcome.done.append(done)
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
        self._inflight: dict[Any, list[_Pending]] = {}
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

    def submit(self, pending: list[_Pending], task: Task) -> None:
        self._inflight[self.client.submit(run_task, task, pure=False)] = pending

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
                out.append(Outcome(done=fut.result()))
            except KilledWorker as exc:  # which of the task's jobs was running is unknown
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


def make_backend(executor: str, workers: int, scheduler: str | None = None) -> Backend:
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
    backend: Backend,
    jobs: Sequence[Job],
    function: WorkerFunction,
    context: Any,
    on_done: Callable[[list[Done]], None],
    *,
    chunk_size: int | None = None,
    target_chunk_s: float = 0.5,
) -> None:
    """Run ``function(context, job)`` for every job on ``backend``, passing each batch of
    finished jobs to ``on_done`` as it arrives (a job whose worker died twice arrives as
    a failure, ``WorkerLost``).

    ``chunk_size`` fixes the jobs per task; by default it adapts so a task takes about
    ``target_chunk_s`` (starting at one job per task) and never exceeds a fair share of
    what is left, so the last tasks finish together.
    """
    queue = deque(_Pending(job) for job in jobs)
    suspects: deque[_Pending] = deque()  # jobs of a lost Dask task: run alone, one at a time
    per_job_s: float | None = None

    def next_size() -> int:
        if chunk_size:
            return chunk_size
        if per_job_s is None:
            return 1
        fair = math.ceil(len(queue) / (2 * backend.workers))
        return max(1, min(int(target_chunk_s / max(per_job_s, 1e-6)), fair, 1000))

    def submit(pending: list[_Pending]) -> None:
        backend.submit(pending, Task(function, context, tuple(p.job for p in pending)))

    while queue or suspects or backend.busy():
        if suspects:
            if not backend.busy():
                submit([suspects.popleft()])
        else:
            while queue and backend.capacity() > 0:
                submit([queue.popleft() for _ in range(min(next_size(), len(queue)))])
        for outcome in backend.poll(0.5):
            if outcome.done:
                on_done(outcome.done)
                mean = sum(d.elapsed_s for d in outcome.done) / len(outcome.done)
                per_job_s = mean if per_job_s is None else 0.7 * per_job_s + 0.3 * mean
            _requeue_lost(outcome, queue, suspects, on_done)


def _requeue_lost(
    outcome: Outcome,
    queue: deque[_Pending],
    suspects: deque[_Pending],
    on_done: Callable[[list[Done]], None],
) -> None:
    """Charge a dead worker's loss to the job that caused it; run the others again.

    The culprit is the job the worker was running (local workers say which) or a job lost
    while it ran alone. It runs once more, alone, and is reported as a failure only if its
    worker dies again: a worker killed from outside (the OOM killer choosing it for
    another's memory, a Dask scheduler taking a worker slowed by load for dead) costs no
    innocent job.
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
    if culprit is None:  # unknown which job killed the worker: try each alone
        for p in lost:
            p.suspect = True
        suspects.extend(lost)
        return
    culprit.deaths += 1
    if culprit.deaths >= 2:
        cause = f"worker process died during this job, twice ({outcome.cause})"
        on_done([Done(culprit.job, error=f"WorkerLost: {cause}")])
    else:
        culprit.suspect = True
        suspects.appendleft(culprit)
    queue.extendleft(reversed([p for p in lost if p is not culprit]))


# ----------------------------------------------------------------------------- model runs
@dataclass(frozen=True)
class RunSettings:
    """What the runs of one batch share: base parameters (a job's own values override
    them), the outcomes to record, and the series interval (None: no series)."""

    base_params: Mapping[str, Any]
    outcomes: tuple[str, ...]
    series_every_h: float | None = None


def _run_function() -> Callable[..., Any]:
    spec = os.environ.get(RUN_FUNCTION_ENV)
    if not spec:
        from sim.model import run_replicate

        return run_replicate
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def run_model(settings: RunSettings, job: Job) -> RunRecord:
    """The worker function of model runs: run ``job`` (key a :class:`RunKey`, args the
    values that override ``settings.base_params``) with the key's seed, and record the
    asked-for outcomes, its steps and (if asked for) its series."""
    key: RunKey = job.key
    params = {**settings.base_params, **(job.args or {})}
    out = _run_function()(params, key.seed, series_every_h=settings.series_every_h)
    missing = [o for o in settings.outcomes if o not in out.outcomes]
    if missing:
        raise KeyError(f"run returned no value for outcomes {missing}")
    series = None
    if settings.series_every_h and out.series is not None:
        series = Series(
            tuple(float(t) for t in out.series.index),
            {str(c): tuple(float(v) for v in out.series[c]) for c in out.series.columns},
        )
    outcomes = {o: float(out.outcomes[o]) for o in settings.outcomes}
    return RunRecord(key, outcomes, steps=int(out.steps), series=series)


def as_record(done: Done) -> RunRecord:
    """A finished model-run job as its :class:`RunRecord`: the worker's record with the
    time it took, or a failure (a job that raised, or whose worker died twice)."""
    if done.ok:
        return replace(done.result, elapsed_s=done.elapsed_s)
    return RunRecord.failed(done.job.key, done.error or "", done.traceback, done.elapsed_s)


def evaluate(
    runs: Sequence[tuple[Mapping[str, Any], int]],
    *,
    outcomes: Sequence[str] | None = None,
    series_every_h: float | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    backend: Backend | None = None,
) -> list[RunRecord]:
    """Run the model once per ``(params, seed)`` pair of ``runs`` and return one
    :class:`RunRecord` per pair, in the order given.

    ``params`` are overrides of the parameter defaults (a scenario's ``params``, say);
    record ``i`` has the key ``RunKey(i, 0, seed)``. ``outcomes`` (default: every
    registered outcome) are recorded. Runs go to ``backend`` when given (left open, for
    callers that evaluate batch after batch, like a calibration), else to a new
    ``executor`` (``local`` processes, one per core by default, or ``dask``, at
    ``scheduler`` or on a local cluster) closed at the end; with the sweep's failure
    handling either way: a run that raises, or whose worker dies twice, comes back as a
    failed record (``record.ok`` is False) and the others go on.
    """
    jobs = [Job(RunKey(i, 0, int(seed)), dict(params)) for i, (params, seed) in enumerate(runs)]
    if not jobs:
        return []
    settings = RunSettings({}, tuple(outcomes or OUTCOMES), series_every_h)
    records: dict[Hashable, RunRecord] = {}

    def keep(batch: list[Done]) -> None:
        records.update((d.job.key, as_record(d)) for d in batch)

    if backend is not None:
        execute(backend, jobs, run_model, settings, keep, chunk_size=chunk_size)
        return [records[job.key] for job in jobs]
    own = make_backend(executor, min(workers or default_workers(), len(jobs)), scheduler)
    try:
        execute(own, jobs, run_model, settings, keep, chunk_size=chunk_size)
    finally:
        with stop_signals_held():
            own.close()
    return [records[job.key] for job in jobs]
