"""``prisonsim report DB [--out DIR]``: an HTML report (with PNGs and CSVs) of a store."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli import path_arg


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
        type=path_arg,
        default=None,
        help="output directory (default: <DB stem>_report/ next to DB)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; a missing, foreign or damaged store, or an output directory
    that may not be written, is a one-line error (exit code 2)."""
    from sim.analysis.report import write_report

    path = write_report(Path(args.db), Path(args.out) if args.out is not None else None)
    print(f"report written: {path}")
    return 0
