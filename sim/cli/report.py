"""``prisonsim report DB [--out DIR]``: an HTML report (with PNGs and CSVs) of a store."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report (figures, tables, provenance) of a results store",
        description="Write report.html (self-contained), figure PNGs and table CSVs for a "
        "results store; works on a store whose sweep is still running or was interrupted.",
    )
    parser.add_argument("db", metavar="DB", help="results store (.db) written by a sweep")
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output directory (default: <DB stem>_report/ next to DB)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; a missing or unreadable store is a one-line usage error."""
    from sim.analysis.report import write_report
    from sim.cli import UsageError

    db = Path(args.db)
    if not db.exists():
        raise UsageError(f"DB: no such results store: {db}")
    if not db.is_file():
        raise UsageError(f"DB: {db} is a directory, not a results store")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    try:
        path = write_report(db, out)
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"DB: {db} is not a readable results store ({exc})") from None
    except ModuleNotFoundError as exc:
        if exc.name == "sim.experiments.store":
            raise UsageError(
                "reading a results store needs sim.experiments.store, not installed"
            ) from None
        raise
    print(f"report written: {path}")
    return 0
