"""Command-line entry point: ``prisonsim`` (also ``python -m sim``).

Subcommands live in sibling modules, each exposing ``register(subparsers)``; every
subcommand handler returns an exit code. User mistakes (``ConfigError``, ``UsageError``)
print one line per mistake to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from sim import __version__
from sim.config.loading import ConfigError

# Modules that add subcommands, in help order.
_COMMAND_MODULES = [
    "sim.cli.run",
    "sim.cli.sweep",
    "sim.cli.report",
    "sim.cli.demo",
    "sim.cli.animate",
]


class UsageError(Exception):
    """A bad command-line argument; the message names the argument and allowed values."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
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
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"prisonsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `prisonsim params | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
