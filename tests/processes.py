"""Processes as the signal tests and the failure-path harness see them."""

from __future__ import annotations

from pathlib import Path


def live_processes(pgid: int) -> list[int]:
    """Processes of group ``pgid`` still running (Linux ``/proc``; zombies waiting to be
    reaped by init do not count: they run nothing)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out
