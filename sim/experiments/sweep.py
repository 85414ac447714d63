"""Sweeps: an experiment's runs, on a backend, into its results store.

:func:`pending_jobs` lists the runs a store still lacks (the experiment's
:class:`~sim.experiments.contract.RunKey` s that have neither a result nor a failure
stored), each a job with its design point's values; :func:`run_session` runs them as one
session of the store: it claims the store, runs the jobs with
:func:`~sim.experiments.executors.run_model` and stores each
:class:`~sim.experiments.contract.RunRecord` as it arrives (batched, see
:class:`~sim.experiments.storage.BatchWriter`). Whatever ends the session (the last run,
a stop signal, a full disk), the workers are stopped, what has arrived is stored and the
session's end is recorded, with stop signals held meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sim.experiments.contract import ExperimentSpec, RunRecord
from sim.experiments.executors import Backend, Done, Job, RunSettings, as_record, execute, run_model
from sim.experiments.signals import stop_signals_held
from sim.experiments.storage import BatchWriter, StoreWriteError
from sim.experiments.store import ResultsStore


def pending_jobs(spec: ExperimentSpec, store: ResultsStore) -> list[Job]:
    """The runs of ``spec`` that ``store`` holds no result or failure of, in design
    order: each a job keyed by its :class:`RunKey`, with its point's values."""
    done = store.done_keys()
    points = {p.point_id: p for p in spec.points}
    return [
        Job(key, points[key.point_id].values)
        for key in spec.run_keys()
        if (key.point_id, key.replicate) not in done
    ]


def run_session(
    spec: ExperimentSpec,
    store: ResultsStore,
    backend: Backend,
    jobs: Sequence[Job],
    *,
    command: str,
    command_line: str,
    on_records: Callable[[list[RunRecord]], None] = lambda records: None,
    chunk_size: int | None = None,
) -> None:
    """Run ``jobs`` on ``backend`` as one session of ``store`` (``command`` is
    ``sweep`` or ``resume``), storing every record and passing each batch to
    ``on_records`` (a progress bar, say).

    The session ends ``finished``, ``interrupted`` (a stop signal: the
    ``KeyboardInterrupt`` goes on to the caller) or ``stopped`` (the store could not be
    written: its :class:`StoreWriteError` goes on). The backend is closed in every case.
    """
    writer = BatchWriter(store)

    def on_done(batch: list[Done]) -> None:
        records = [as_record(d) for d in batch]
        writer.add(records)
        on_records(records)

    settings = RunSettings(spec.base_params, spec.outcomes, spec.series_every_h)
    status = "interrupted"
    try:  # a stop signal at any moment from here on ends the session as interrupted
        store.begin_session(command, command_line, backend.name, backend.workers)
        execute(backend, jobs, run_model, settings, on_done, chunk_size=chunk_size)
        status = "finished"
    except StoreWriteError:
        status = "stopped"
        raise
    finally:
        with stop_signals_held():
            backend.close()
            try:
                writer.flush()
                store.end_session(status)
            except StoreWriteError:
                if status == "finished":
                    raise
