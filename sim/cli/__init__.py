"""Command-line entry point: ``prisonsim`` (also ``python -m sim``).

Subcommands live in sibling modules, each exposing ``register(subparsers)``; every
subcommand handler returns an exit code.

One rule for every mistake, whatever the command: each is one line on stderr,
``prisonsim COMMAND: error: MESSAGE``, where a mistake in a file has the message
``FILE:LINE: FIELD: what is wrong; what is allowed``; exit code 2 and no traceback.
SIGINT, SIGTERM and SIGHUP stop a command cleanly (``prisonsim COMMAND: interrupted``,
exit code 128 + the signal's number, e.g. 130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
from collections.abc import Sequence

from sim import __version__
from sim.config.loading import ConfigError, Problem, UserError, did_you_mean
from sim.experiments.signals import Stopped, stop_signals_raise

# Modules that add subcommands, in help order.
_COMMAND_MODULES = [
    "sim.cli.run",
    "sim.cli.sweep",
    "sim.cli.calibrate",
    "sim.cli.report",
    "sim.cli.demo",
    "sim.cli.animate",
]
MAX_LINES = 50  # mistakes listed one per line; more are counted in one last line


class UsageError(UserError):
    """A bad command-line argument; the message names the argument and allowed values."""


def path_arg(text: str) -> str:
    """An argparse type for paths: an empty one (``--out ''``) is a mistake, not '.'."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a file or directory name")
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            choices = re.findall(r"[\w-]+", bad.group(2))
            message += did_you_mean(bad.group(1), choices)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="prisonsim",
        description="Abstract, non-operational simulation of an external assault and an "
        "internal uprising at a schematic detention facility, for policy experiments.",
    )
    parser.add_argument("--version", action="version", version=f"prisonsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def problem_lines(problems: Sequence[Problem]) -> list[str]:
    """One line per problem, each file's in line order; past :data:`MAX_LINES` a count."""
    files = list(dict.fromkeys(p.file for p in problems))
    ordered = sorted(problems, key=lambda p: (files.index(p.file), p.line or 0))
    lines = [str(p) for p in ordered[:MAX_LINES]]
    if len(ordered) > MAX_LINES:
        lines.append(f"... and {len(ordered) - MAX_LINES} more mistakes")
    return lines


def _error_lines(exc: BaseException) -> list[str]:
    """The one-line messages of a user mistake (or of an output that cannot be written)."""
    if isinstance(exc, ConfigError):
        return problem_lines(exc.problems)
    if isinstance(exc, OSError):  # an output the system refuses: read-only, full, ...
        where = f"{exc.filename}: " if exc.filename else ""
        return [f"{where}{exc.strerror or exc}"]
    if isinstance(exc, UserError) and str(exc):
        return str(exc).splitlines()
    return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # say so as the command, not as the top-level parser
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices.get(getattr(args, "command", None) or "", parser)
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    prefix = f"prisonsim {args.command}:"
    try:
        with stop_signals_raise():
            return int(args.handler(args) or 0)
    except (ConfigError, UserError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):  # `prisonsim params | head`: the reader left
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        for line in _error_lines(exc):
            print(f"{prefix} error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        print(f"{prefix} interrupted", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
