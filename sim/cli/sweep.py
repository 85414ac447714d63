"""``prisonsim sweep | resume | status | export``: experiments at scale.

* ``sweep EXPERIMENT`` runs every (design point, replicate) of an experiment file into a
  new results store (default ``results/<name>.db``);
* ``resume DB`` runs what the store lacks, after checking the experiment file still has
  the stored config hash;
* ``status DB`` says how far a store is and lists failed runs;
* ``export DB --format parquet|csv`` writes its tables for other tools.

Exit codes: 0 done, 1 some runs failed (stored in the ``failures`` table), 2 a mistake in
the input (one line per mistake, no traceback), 130 interrupted (resume later).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import UsageError, path_arg
from sim.config.loading import did_you_mean

if TYPE_CHECKING:  # the modules themselves are imported by the commands that use them
    from sim.experiments.contract import ExperimentSpec, RunRecord
    from sim.experiments.executors import Backend
    from sim.experiments.store import ResultsStore

EXECUTORS = ("local", "dask")
MAX_WORKERS = 256  # even with --oversubscribe
FORMATS = ("parquet", "csv")
JOURNALS = ("wal", "delete")


def _choice(what: str, allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(
                f"{what} {text!r} is not known{did_you_mean(text, allowed)}; allowed: "
                f"{', '.join(allowed)}"
            )
        return text

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10**9:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; give a whole number from 1 to 1000000000"
        )
    return value


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes (default: one per core; at most one per core unless "
        "--oversubscribe)",
    )
    p.add_argument(
        "--oversubscribe",
        action="store_true",
        help=f"allow more workers than cores (up to {MAX_WORKERS})",
    )
    p.add_argument(
        "--executor",
        type=_choice("executor", EXECUTORS),
        default="local",
        metavar="{local,dask}",
        help="local processes (default) or Dask",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="Dask scheduler address (tcp://host:8786); with --executor dask, "
        "without it a local Dask cluster is started",
    )
    p.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="runs per task (default: adapts so a task takes about 0.5 s)",
    )
    p.add_argument(
        "--journal",
        type=_choice("journal", JOURNALS),
        default="wal",
        metavar="{wal,delete}",
        help="SQLite journal: wal (default); delete on network filesystems",
    )
    p.add_argument(
        "--no-report", action="store_true", help="do not write the report after a successful sweep"
    )


def register(subparsers: Any) -> None:
    """Add the sweep, resume, status and export subcommands."""
    p = subparsers.add_parser("sweep", help="run an experiment file into a results store")
    p.add_argument("experiment", help="experiment YAML file (or a shipped experiment's name)")
    p.add_argument(
        "--out",
        metavar="DB",
        type=path_arg,
        default=None,
        help="results file (default: results/<experiment name>.db)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing results file of prisonsim"
    )
    _run_options(p)
    p.set_defaults(handler=cmd_sweep)

    p = subparsers.add_parser("resume", help="finish an interrupted sweep")
    p.add_argument("db", help="results file written by 'prisonsim sweep'")
    p.add_argument(
        "--experiment",
        metavar="FILE",
        type=path_arg,
        default=None,
        help="experiment file, if it has moved since the sweep",
    )
    p.add_argument("--retry-failed", action="store_true", help="run the stored failures again")
    _run_options(p)
    p.set_defaults(handler=cmd_resume)

    p = subparsers.add_parser("status", help="progress and failures of a results store")
    p.add_argument("db")
    p.set_defaults(handler=cmd_status)

    p = subparsers.add_parser("export", help="write a results store as Parquet or CSV")
    p.add_argument("db")
    p.add_argument(
        "--format", type=_choice("format", FORMATS), required=True, metavar="{parquet,csv}"
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        type=path_arg,
        default=None,
        help="runs file (default: the store's path with the format's suffix)",
    )
    p.set_defaults(handler=cmd_export)


# ----------------------------------------------------------------------------- progress
class Progress:
    """A tqdm bar (rate, ETA) on a terminal; plain lines every ``every_s`` otherwise."""

    def __init__(
        self, name: str, total: int, done: int = 0, every_s: float = 10.0, stream: Any = None
    ):
        self.stream = stream or sys.stderr
        self.name, self.total, self.done, self.failed = name, total, done, 0
        self.start_done = done
        self.t0 = self.last = time.monotonic()
        self.every_s = every_s
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=done,
                unit="run",
                desc=name,
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def update(self, records: Sequence[RunRecord]) -> None:
        failed = sum(not r.ok for r in records)
        ok = len(records) - failed
        self.done += ok + failed
        self.failed += failed
        if self.bar is not None:
            self.bar.update(ok + failed)
            if failed:
                self.bar.set_postfix(failed=self.failed)
            return
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"{self.name}: {self.done}/{self.total} runs ({pct:.0f}%), "
            f"{self.failed} failed, {rate:.1f} runs/s, ETA {eta}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------------- commands
def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiments.loader import load_experiment
    from sim.experiments.storage import check_store_path
    from sim.experiments.store import (
        RESULTS,
        ResultsStore,
        read_summary,
        remove_results_store,
    )

    _check_run_options(args)
    spec = load_experiment(args.experiment)
    db = Path(args.out) if args.out is not None else Path("results") / f"{spec.name}.db"
    check_store_path(db, "--out", RESULTS)
    report_dir = _check_report_dir(db, args)
    if db.exists() and not args.overwrite:
        s = read_summary(db)
        raise UsageError(
            f"{db} already exists ({s.runs} of {s.expected_runs} runs stored); continue "
            f"it with 'prisonsim resume {db}' or start again with --overwrite"
        )
    backend = _start_backend(args, spec.expected_runs)  # an unreachable scheduler stops here
    try:
        if db.exists():
            remove_results_store(db)  # refused while a live coordinator writes it
        store = ResultsStore.create(db, spec, journal=args.journal)
    except BaseException:
        backend.close()
        raise
    return _run(spec, store, backend, args, "sweep", report_dir)


def cmd_resume(args: argparse.Namespace) -> int:
    from sim.experiments.loader import load_experiment
    from sim.experiments.storage import check_store_path
    from sim.experiments.store import (
        RESULTS,
        ResultsStore,
        StoreError,
        read_summary,
        spec_hash,
        verify,
    )

    _check_run_options(args)
    summary = read_summary(args.db)
    damage = verify(args.db)
    if damage:
        raise StoreError("\n".join(damage))
    path = args.experiment or summary.experiment_path
    if not path or not Path(path).exists():
        raise UsageError(
            f"{args.db}: its experiment file {path} is not there; give it with --experiment FILE"
        )
    spec = load_experiment(path)
    if spec_hash(spec) != summary.spec_hash:
        raise UsageError(
            f"{path} has changed since {args.db} was written (config hash "
            f"{spec_hash(spec)[:12]} now, {summary.spec_hash[:12]} stored); refusing "
            "to mix results: restore the file or start a new sweep"
        )
    db = Path(args.db)
    check_store_path(db, "DB", RESULTS)
    report_dir = _check_report_dir(db, args)
    store = ResultsStore.open(db, journal=args.journal)
    try:
        _note_code_change(store)
        retried = store.forget_failures() if args.retry_failed else 0
        if args.retry_failed:
            print(f"retrying {retried} failed runs", file=sys.stderr)
        backend = _start_backend(args, summary.remaining + retried)
    except BaseException:
        store.close()
        raise
    return _run(spec, store, backend, args, "resume", report_dir)


def _check_report_dir(db: Path, args: argparse.Namespace) -> Path | None:
    """The directory the report will go to, checked before any run (None: no report)."""
    from sim.analysis.report import check_report_dir, default_out_dir

    if args.no_report:
        return None
    out = default_out_dir(db)
    check_report_dir(out, "report directory (or give --no-report)")
    return out


def _note_code_change(store: ResultsStore) -> None:
    """Warn (not refuse) when the code differs from the commit that started the store."""
    from sim.experiments.storage import git_state

    first = store.first_commit()
    commit, dirty = git_state()
    if first and commit and first != commit:
        print(
            f"note: the code is at {commit[:10]}{'+dirty' if dirty else ''}; this store was "
            f"started at {first[:10]} (each session's commit is kept in the store)",
            file=sys.stderr,
        )


def _check_run_options(args: argparse.Namespace) -> None:
    if args.scheduler is not None and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    if args.scheduler is not None and not args.scheduler.strip():
        raise UsageError("--scheduler: an empty address; give one like tcp://host:8786")
    _workers(args, 1)


def _workers(args: argparse.Namespace, runs: int) -> int:
    """Worker processes to start: ``--workers`` (default: one per core), at most one per
    core unless ``--oversubscribe``, never more than there are runs."""
    from sim.experiments.executors import default_workers

    cores = default_workers()
    asked = args.workers or cores
    if asked > MAX_WORKERS:
        raise UsageError(f"--workers {asked} is too many; allowed: 1 to {MAX_WORKERS}")
    if asked > cores and not args.oversubscribe:
        raise UsageError(
            f"--workers {asked} is more than this machine's {cores} cores (each run would "
            f"only go slower); allowed: 1 to {cores}, or more with --oversubscribe"
        )
    return max(1, min(asked, runs))


def _start_backend(args: argparse.Namespace, runs: int) -> Backend:
    from sim.experiments.executors import make_backend

    return make_backend(args.executor, _workers(args, runs), args.scheduler)


def _run(
    spec: ExperimentSpec,
    store: ResultsStore,
    backend: Backend,
    args: argparse.Namespace,
    command: str,
    report_dir: Path | None,
) -> int:
    """Run what ``store`` lacks on ``backend``, store results as they arrive, print a
    summary. On a stop signal the workers are stopped at once, what has arrived is
    stored and the session is marked interrupted; ``prisonsim resume`` continues."""
    from sim.experiments.sweep import pending_jobs, run_session

    with store:
        jobs = pending_jobs(spec, store)
        total = spec.expected_runs
        if not jobs:
            print(f"{store.path}: nothing to run; all {total} runs are stored", file=sys.stderr)
        progress = Progress(spec.name, total, done=total - len(jobs))
        t0 = time.monotonic()
        try:
            run_session(
                spec,
                store,
                backend,
                jobs,
                command=command,
                command_line=shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                on_records=progress.update,
                chunk_size=args.chunk_size,
            )
        except KeyboardInterrupt:
            s = store.summary()
            print(
                f"{store.path}: {s.runs} of {s.expected_runs} runs stored; continue with "
                f"'prisonsim resume {store.path}'",
                file=sys.stderr,
            )
            raise
        finally:
            progress.close()
        elapsed = time.monotonic() - t0
        summary = store.summary()
        failures = store.failures()
    rate = len(jobs) / elapsed if elapsed > 0 else 0.0
    print(
        f"{spec.name}: {summary.runs} of {summary.expected_runs} runs stored in {store.path}"
        f" (this session: {len(jobs)} runs in {elapsed:.1f} s, {rate:.1f} runs/s), "
        f"{len(failures)} failed"
    )
    if failures:
        for line in _failure_lines(failures, limit=10):
            print(f"  {line}")
        if len(failures) > 10:
            print(f"  ... and {len(failures) - 10} more; see 'prisonsim status {store.path}'")
        return 1
    if report_dir is not None:
        _report(store.path, report_dir)
    return 0


def _failure_lines(failures: Sequence[RunRecord], limit: int | None = None) -> list[str]:
    return [
        f"failed: point {f.key.point_id} replicate {f.key.replicate} (seed {f.key.seed}): {f.error}"
        for f in failures[:limit]
    ]


def _report(db: Path, out_dir: Path) -> None:
    """Write the report; an output that cannot be written is a one-line error (the runs
    are stored: ``prisonsim report`` later)."""
    from sim.analysis.report import write_report

    try:
        path = write_report(db, out_dir)
    except OSError as exc:
        raise UsageError(
            f"cannot write the report in {out_dir} ({exc.strerror or exc}); the runs are "
            f"stored: write it later with 'prisonsim report {db} --out DIR'"
        ) from None
    print(f"report: {path}")


def cmd_status(args: argparse.Namespace) -> int:
    from sim.experiments.store import StoreError, read_status, verify

    st = read_status(args.db)
    s = st.summary
    pct = 100.0 * (s.runs + s.failures) / s.expected_runs if s.expected_runs else 100.0
    print(
        f"experiment: {s.name}\nquestion:   {st.question}\nfile:       {s.path}\n"
        f"config:     {s.spec_hash[:12]} ({s.experiment_path})\n"
        f"runs:       {s.runs} stored, {s.failures} failed, {s.remaining} to run, of "
        f"{s.expected_runs} ({pct:.0f}%)"
    )
    for ses in st.sessions:
        commit = ses.git_commit
        rev = f"{commit[:10]}{'+dirty' if ses.git_dirty else ''}" if commit else "no git"
        print(
            f"session {ses.id}: {ses.command} {ses.started_at} -> "
            f"{ses.finished_at or '?'} {ses.status}, {ses.workers} "
            f"{ses.executor} workers, {rev}"
        )
    for line in _failure_lines(st.failures):
        print(line)
    damage = verify(args.db)  # integrity check, every row decoded and its checksum checked
    if damage:
        raise StoreError("\n".join(damage))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sim.experiments.store import export

    for path in export(args.db, args.format, args.out):
        print(path)
    return 0
