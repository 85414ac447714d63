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
import importlib
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sim.config.loading import did_you_mean

EXECUTORS = ("local", "dask")
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
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed; give a whole number >= 1")
    return value


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes (default: one per core)",
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

    def update(self, ok: int, failed: int) -> None:
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
def _store_error(exc: Exception) -> Any:
    from sim.cli import UsageError

    return UsageError(str(exc))


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiments.loader import load_experiment
    from sim.experiments.store import Store, StoreError, check_store_file

    _check_run_options(args)
    exp = load_experiment(args.experiment)
    db = Path(args.out) if args.out else Path("results") / f"{exp.name}.db"
    if db.exists():
        try:
            check_store_file(db)
        except StoreError as exc:
            raise _store_error(exc) from None
        if not args.overwrite:
            from sim.experiments.store import read_summary

            s = read_summary(db)
            raise _store_error(
                f"{db} already exists ({s.runs} of {s.expected_runs} runs stored); continue "
                f"it with 'prisonsim resume {db}' or start again with --overwrite"
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = Store.create(db, exp, journal=args.journal)
    return _run(exp, store, args, "sweep")


def cmd_resume(args: argparse.Namespace) -> int:
    from sim.experiments.loader import load_experiment
    from sim.experiments.store import Store, StoreError

    _check_run_options(args)
    try:
        store = Store.open(args.db, journal=args.journal)
    except StoreError as exc:
        raise _store_error(exc) from None
    try:
        summary = store.summary()
        path = args.experiment or summary.experiment_path
        if not path or not Path(path).exists():
            raise _store_error(
                f"{args.db}: its experiment file {path} is not there; give it "
                "with --experiment FILE"
            )
        exp = load_experiment(path)
        if exp.config_hash() != summary.config_hash:
            raise _store_error(
                f"{path} has changed since {args.db} was written (config hash "
                f"{exp.config_hash()[:12]} now, {summary.config_hash[:12]} stored); refusing "
                "to mix results: restore the file or start a new sweep"
            )
        _note_code_change(store)
        if args.retry_failed:
            n = store.forget_failures()
            print(f"retrying {n} failed runs", file=sys.stderr)
    except BaseException:
        store.close()
        raise
    return _run(exp, store, args, "resume")


def _note_code_change(store: Any) -> None:
    """Warn (not refuse) when the code differs from the commit that started the store."""
    from sim.experiments.store import git_state

    row = store.con.execute("SELECT git_commit FROM sessions ORDER BY id LIMIT 1").fetchone()
    commit, dirty = git_state()
    if row and row[0] and commit and row[0] != commit:
        print(
            f"note: the code is at {commit[:10]}{'+dirty' if dirty else ''}; this store was "
            f"started at {row[0][:10]} (each session's commit is kept in the store)",
            file=sys.stderr,
        )


def _check_run_options(args: argparse.Namespace) -> None:
    from sim.cli import UsageError

    if args.scheduler and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")


def _run(exp: Any, store: Any, args: argparse.Namespace, command: str) -> int:
    """Run what ``store`` lacks, store each chunk as it finishes, print a summary."""
    from sim.experiments.executors import Work, default_workers, execute, make_backend
    from sim.experiments.store import BatchWriter, StoreError

    workers = args.workers or default_workers()
    with store:
        done = store.done_keys()
        points = {p.point_id: p for p in exp.points}
        todo = [
            Work(t.point_id, t.replicate, t.seed, points[t.point_id].values)
            for t in exp.tasks()
            if (t.point_id, t.replicate) not in done
        ]
        total = exp.expected_runs
        command_line = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
        try:
            store.begin_session(command, command_line, args.executor, workers)
        except StoreError as exc:
            raise _store_error(exc) from None
        progress = Progress(exp.name, total, done=total - len(todo))
        if not todo:
            print(f"{store.path}: nothing to run; all {total} runs are stored", file=sys.stderr)
        t0 = time.monotonic()

        writer = BatchWriter(store)

        def on_results(results: list[dict[str, Any]]) -> None:
            writer.add(results)
            failed = sum(r["error"] is not None for r in results)
            progress.update(len(results) - failed, failed)

        status = "interrupted"
        try:
            if todo:
                backend = make_backend(args.executor, workers, args.scheduler)
                try:
                    execute(
                        backend,
                        todo,
                        exp.base_params,
                        exp.outcomes,
                        exp.series_every_h,
                        on_results,
                        chunk_size=args.chunk_size,
                    )
                finally:
                    backend.close()
            status = "finished"
        finally:
            writer.flush()
            progress.close()
            store.end_session(status)
        elapsed = time.monotonic() - t0
        summary = store.summary()
        failures = store.con.execute(
            "SELECT point_id, replicate, seed, error FROM failures ORDER BY point_id, replicate"
        ).fetchall()
    rate = len(todo) / elapsed if elapsed > 0 else 0.0
    print(
        f"{exp.name}: {summary.runs} of {summary.expected_runs} runs stored in {store.path}"
        f" (this session: {len(todo)} runs in {elapsed:.1f} s, {rate:.1f} runs/s), "
        f"{len(failures)} failed"
    )
    if failures:
        for pid, rep, seed, err in failures[:10]:
            print(f"  failed: point {pid} replicate {rep} (seed {seed}): {err}")
        if len(failures) > 10:
            print(f"  ... and {len(failures) - 10} more; see 'prisonsim status {store.path}'")
        return 1
    if not args.no_report:
        _report(store.path)
    return 0


def _report(db: Path) -> None:
    """Hook for the report layer: write the report if ``sim.analysis.report`` is installed."""
    try:
        report = importlib.import_module("sim.analysis.report")
    except ImportError:
        return
    write_report = getattr(report, "write_report", None)
    if write_report is not None:
        path = write_report(db, db.parent / f"{db.stem}_report")
        print(f"report: {path}")


def cmd_status(args: argparse.Namespace) -> int:
    import json
    from contextlib import closing

    from sim.experiments.store import StoreError, connect_readonly, read_summary

    try:
        s = read_summary(args.db)
    except StoreError as exc:
        raise _store_error(exc) from None
    with closing(connect_readonly(Path(args.db))) as con:
        question = json.loads(
            con.execute("SELECT value FROM provenance WHERE key='config'").fetchone()[0]
        )["question"]
        sessions = con.execute(
            "SELECT id, command, started_at, finished_at, status, workers, "
            "executor, git_commit, git_dirty FROM sessions ORDER BY id"
        ).fetchall()
        failures = con.execute(
            "SELECT point_id, replicate, seed, error FROM failures ORDER BY point_id, replicate"
        ).fetchall()
    pct = 100.0 * (s.runs + s.failures) / s.expected_runs if s.expected_runs else 100.0
    print(
        f"experiment: {s.name}\nquestion:   {question}\nfile:       {s.path}\n"
        f"config:     {s.config_hash[:12]} ({s.experiment_path})\n"
        f"runs:       {s.runs} stored, {s.failures} failed, {s.remaining} to run, of "
        f"{s.expected_runs} ({pct:.0f}%)"
    )
    for sid, cmd, start, end, status, workers, executor, commit, dirty in sessions:
        rev = f"{commit[:10]}{'+dirty' if dirty else ''}" if commit else "no git"
        print(
            f"session {sid}: {cmd} {start} -> {end or '?'} {status}, {workers} {executor} "
            f"workers, {rev}"
        )
    for pid, rep, seed, err in failures:
        print(f"failed: point {pid} replicate {rep} (seed {seed}): {err}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sim.experiments.store import StoreError, export

    try:
        written = export(args.db, args.format, args.out)
    except StoreError as exc:
        raise _store_error(exc) from None
    for path in written:
        print(path)
    return 0
