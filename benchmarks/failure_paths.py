"""Failure-path harness (issue 7): every class of bad input, output path, damaged store
and signal, each case run as a user would (``python -m sim ...`` in a scratch directory),
with a table of how many were handled.

Handled means: exit code 2 with one ``prisonsim COMMAND: error: ...`` line per mistake
and no traceback, or a clean stop (signals: stopped within 10 s, no process left, session
marked interrupted, and a later resume gives the store of an uninterrupted sweep); and in
every case nothing already there changed (files compared byte for byte; SQLite's empty
-wal/-shm beside a store excepted) and no command above 500 MB of memory (peak RSS).

    python benchmarks/failure_paths.py                      # every class, default counts
    python benchmarks/failure_paths.py --seed 7 --only scenario-files --count 500
    python benchmarks/failure_paths.py --only signals -v    # details of every case

Config files are mutated by ``tests/config_mutations.py`` (the fuzz test's mutations).
Filesystem cases mount a read-only or a small tmpfs in a private namespace (``unshare
-rm``) and are skipped where that is not possible.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from config_mutations import EXPERIMENTS, SCENARIOS, mutate  # noqa: E402
from processes import live_processes  # noqa: E402

ERROR = re.compile(r"^prisonsim( [\w-]+)?: error: \S")  # no command: an unknown one
MEMORY_LIMIT_MB = 500
STOP_LIMIT_S = 10.0
TINY = """\
name: tiny
question: Does the harness see what a user sees?
scenario: {scenario}
constants: {{warning_acted_on: 1.0}}
levers:
  warning_lead_time_h: [0, 24]
uncertainties:
  attackers: {{}}
design: {{type: latin_hypercube, samples: {samples}}}
replicates: {replicates}
master_seed: 11
outcomes: [left_custody, at_large, hours_to_control]
series_every_h: 6
"""


@dataclass
class Done:
    """A finished command: exit code, output, peak memory (MB), wall time (s)."""

    code: int
    out: str
    err: str
    rss_mb: float
    seconds: float


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    out.update(extra)
    return out


def cli(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> Done:
    """``python -m sim ARGS`` in ``cwd``; waits with wait4 to read the child's peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *args],
            cwd=cwd,
            env=env(**(extra_env or {})),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return Done(
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_maxrss / 1024,
            seconds,
        )


def snapshot(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def refused(done: Done) -> str | None:
    """None if ``done`` is a clean refusal (exit 2, error lines only), else why not."""
    lines = done.err.strip().splitlines()
    if done.code != 2:
        return f"exit {done.code}"
    if "Traceback" in done.err or not lines or not all(ERROR.match(ln) for ln in lines):
        return f"stderr not error lines: {done.err[-300:]!r}"
    return None


def within_memory(done: Done) -> str | None:
    return None if done.rss_mb <= MEMORY_LIMIT_MB else f"{done.rss_mb:.0f} MB"


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="prisonsim-harness-") as d:
        yield Path(d)


# ----------------------------------------------------------------------------- config files
def config_case(base: Path, seed: int) -> tuple[str | None, str]:
    """One mutated file: validate it; if refused, the command that uses it must refuse it
    too (run for a scenario, sweep for an experiment); nothing may be written."""
    data, name = mutate(base, random.Random(seed))
    with scratch() as d:
        path = d / f"{base.stem}.yaml"
        path.write_bytes(data)
        before = snapshot(d)
        done = cli(["validate", path.name], d)
        why = within_memory(done)
        if not why and done.code == 0:
            why = None if ": ok (" in done.out else f"exit 0 without ok: {done.out!r}"
        elif not why:
            why = refused(done)
            if not why:
                use = ["run", path.name] if base.parent.name == "scenarios" else None
                use = use or ["sweep", path.name, "--out", "x.db", "--workers", "1"]
                second = cli(use, d)
                why = refused(second) or within_memory(second)
        if not why and snapshot(d) != before:
            why = "files written"
    return why, f"{name} of {base.name} (seed {seed})"


def scenario_files(rng: random.Random, count: int) -> Iterator[Callable]:
    for _ in range(count):
        base, seed = rng.choice(SCENARIOS), rng.randrange(2**32)
        yield lambda base=base, seed=seed: config_case(base, seed)


def experiment_files(rng: random.Random, count: int) -> Iterator[Callable]:
    for _ in range(count):
        base, seed = rng.choice(EXPERIMENTS), rng.randrange(2**32)
        yield lambda base=base, seed=seed: config_case(base, seed)


# ----------------------------------------------------------------------------- arguments
def argument_sets() -> list[list[str]]:
    """Bad command lines: every option of every command given a wrong value."""
    runs = [
        ["run", "teaching_small", *a]
        for a in (
            ["--seed", "-1"],
            ["--seed", "x"],
            ["--seed", str(2**63)],
            ["--seed", "1.5"],
            ["--set", "atackers=3"],
            ["--set", "attackers"],
            ["--set", "=3"],
            ["--set", "attackers=.nan"],
            ["--set", "attackers=.inf"],
            ["--set", "attackers=[1]"],
            ["--set", f"capacity={10**30}"],
            ["--set", "attackers=&a [*a]"],
            ["--set", "iraqi_share=0.8", "--set", "third_country_share=0.5"],
            ["--set", "separate_minors=maybe"],
            ["--set", "horizon_h=0"],
            ["--series-every-h", "nan"],
            ["--series-every-h", "inf"],
            ["--series-every-h", "-1"],
            ["--series-every-h", "0"],
            ["--series-every-h", "x"],
            ["--series-every-h", "1e9"],
            ["--out", ""],
            ["--out", "README.md"],
            ["--out", "README.md/sub"],
            ["--bogus"],
        )
    ]
    runs += [["run", s] for s in ("teaching_smal", "no/such.yaml", "README.md", "/", "docs")]
    runs += [["run", "experiments/repatriation.yaml"], ["run"]]
    validates = [["validate", f] for f in ("missing.yaml", "docs", "README.md", "docs/demo.png")]
    sweep = ["sweep", "experiments/repatriation.yaml"]
    sweeps = [
        [*sweep, *a]
        for a in (
            ["--workers", "0"],
            ["--workers", "-3"],
            ["--workers", "x"],
            ["--workers", "1000"],
            ["--workers", "100000", "--oversubscribe"],
            ["--workers", str(10**30)],
            ["--executor", "dsk"],
            ["--executor", ""],
            ["--scheduler", "tcp://localhost:1"],
            ["--executor", "dask", "--scheduler", ""],
            ["--chunk-size", "0"],
            ["--chunk-size", "x"],
            ["--journal", "wall"],
            ["--out", ""],
            ["--out", "."],
            ["--out", "README.md"],
            ["--out", "README.md/x.db"],
            ["--out", "README.md", "--overwrite"],
            ["--bogus"],
        )
    ]
    sweeps += [
        ["sweep", e]
        for e in (
            "warning_lead_tme",
            "README.md",
            "scenarios/teaching_small.yaml",
            "missing.yaml",
            "docs",
        )
    ]
    sweeps += [["sweep"]]
    stores = [
        [c, f]
        for c in ("resume", "status", "report")
        for f in (
            "missing.db",
            "README.md",
            "docs",
            "docs/demo.png",
            "experiments/repatriation.yaml",
        )
    ]
    stores += [["export", f, "--format", "csv"] for f in ("missing.db", "README.md", "docs")]
    stores += [
        ["export", "x.db", "--format", "xls"],
        ["export", "x.db"],
        ["export", "x.db", "--format", "csv", "--out", ""],
        ["report", "x.db", "--out", ""],
        ["resume", "x.db", "--experiment", ""],
        ["resume", "x.db", "--workers", "0"],
        ["status"],
        ["resume"],
    ]
    demos = [
        ["demo", *a]
        for a in (
            ["--port", "0"],
            ["--port", "70000"],
            ["--port", "x"],
            ["--scenario", "teaching_smal"],
            ["--scenario", "README.md"],
        )
    ]
    tops = [["swep"], [""], ["--bogus"], ["params", "--role", "levr"], ["params", "--format", "x"]]
    return [*runs, *validates, *sweeps, *stores, *demos, *tops]


def argument_case(args: list[str]) -> tuple[str | None, str]:
    with scratch() as d:
        for name in ("README.md", "experiments", "scenarios", "docs"):
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, d / name)
        before = snapshot(d)
        done = cli(args, d, {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"})
        why = refused(done) or within_memory(done)
        if not why and snapshot(d) != before:
            why = "files written"
    return why, " ".join(repr(a) if not a or " " in a else a for a in args)


def arguments(rng: random.Random, count: int) -> Iterator[Callable]:
    sets = argument_sets()
    for args in sets if count >= len(sets) else rng.sample(sets, count):
        yield lambda args=args: argument_case(args)


# ----------------------------------------------------------------------------- stores
def make_store(d: Path, scenario: str = "teaching_small", samples: int = 3, reps: int = 2) -> Path:
    (d / "tiny.yaml").write_text(TINY.format(scenario=scenario, samples=samples, replicates=reps))
    done = cli(["sweep", "tiny.yaml", "--out", "s.db", "--workers", "2", "--no-report"], d)
    assert done.code == 0, done.err
    return d / "s.db"


def exported(d: Path, db: str, tag: str) -> dict[str, str] | None:
    """The store's tables as exported CSV (hashes), or None if export refused it."""
    out = d / f"export-{tag}"
    done = cli(["export", db, "--format", "csv", "--out", str(out / "runs.csv")], d)
    if done.code != 0:
        return None
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def damage(db: Path, rng: random.Random) -> str:
    """Damage ``db`` in one of many ways; return how."""
    data = bytearray(db.read_bytes())
    kind = rng.choice(["flip", "flips", "text", "truncate", "page", "sql", "replace"])
    if kind in ("flip", "flips"):
        for _ in range(1 if kind == "flip" else rng.choice([4, 16, 64])):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "text":
        table, col = rng.choice(
            [
                ("series", "series_values"),
                ("series", "t_h"),
                ("points", "point_values"),
                ("points", "arm"),
                ("provenance", "value"),
                ("runs", "checksum"),
            ]
        )
        with sqlite3.connect(db) as con:
            texts = [r[0].encode() for r in con.execute(f"SELECT {col} FROM {table}")]
        con.close()
        text = rng.choice(texts)
        at = data.find(text) + rng.randrange(len(text))
        data[at] = rng.choice(b"0123456789\xff,]}")
        kind = f"text in {table}.{col}"
    elif kind == "truncate":
        data = data[: rng.randrange(len(data))]
    elif kind == "page":
        page = rng.randrange(len(data) // 4096)
        data[page * 4096 : (page + 1) * 4096] = bytes(4096)
    elif kind == "sql":
        return _damage_by_sql(db, rng)
    else:
        what = rng.choice(["garbage", "empty", "text", "foreign"])
        db.unlink()
        if what == "foreign":
            with sqlite3.connect(db) as con:
                con.execute("CREATE TABLE t (x)")
            con.close()
        else:
            db.write_bytes({"garbage": os.urandom(5000), "empty": b"", "text": b"hello\n"}[what])
        return f"replaced by {what}"
    db.write_bytes(bytes(data))
    return kind


def _damage_by_sql(db: Path, rng: random.Random) -> str:
    """A change made through SQLite (the file stays a valid database)."""
    edits = {
        "outcome changed": 'UPDATE runs SET "left_custody" = "left_custody" + 1 '
        "WHERE rowid = (SELECT min(rowid) FROM runs)",
        "series changed": "UPDATE series SET series_values = replace(series_values, '1', '2') "
        "WHERE rowid = (SELECT min(rowid) FROM series)",
        "point changed": "UPDATE points SET arm = arm || 'x' WHERE point_id = 0",
        "runs dropped": "DROP TABLE runs",
        "schema version": "UPDATE provenance SET value = '1' WHERE key = 'schema_version'",
        "format": "UPDATE provenance SET value = '\"x\"' WHERE key = 'format'",
        "config gone": "DELETE FROM provenance WHERE key = 'config'",
        "provenance JSON": "UPDATE provenance SET value = '{' WHERE key = 'expected_runs'",
    }
    name = rng.choice(sorted(edits))
    with sqlite3.connect(db) as con:
        con.execute(edits[name])
    con.close()
    return name


def store_case(seed: int) -> tuple[str | None, str]:
    """Damage a real store; status, export, report and resume must each refuse it in one
    line or, if the damage touched no data, give what the intact store gives; and none may
    change the file."""
    rng = random.Random(seed)
    with scratch() as d:
        db = make_store(d)
        intact = exported(d, "s.db", "intact")
        how = damage(db, rng)
        before = db.read_bytes() if db.exists() else None
        for args in (
            ["status", "s.db"],
            ["export", "s.db", "--format", "csv", "--out", "e/runs.csv"],
            ["report", "s.db", "--out", "rep"],
            ["resume", "s.db", "--workers", "1", "--no-report"],
        ):
            done = cli(args, d)
            why = within_memory(done) or (None if done.code == 0 else refused(done))
            if not why and done.code == 0 and exported(d, "s.db", args[0]) != intact:
                why = "damaged data passed as intact"
            after = db.read_bytes() if db.exists() else None
            if not why and after != before and not (args[0] == "resume" and done.code == 0):
                why = "the store was changed"
            if why:
                return f"{args[0]}: {why}", f"{how} (seed {seed})"
    return None, f"{how} (seed {seed})"


def damaged_stores(rng: random.Random, count: int) -> Iterator[Callable]:
    for _ in range(count):
        seed = rng.randrange(2**32)
        yield lambda seed=seed: store_case(seed)


# ----------------------------------------------------------------------------- output paths
OUTPUT_CASES = [
    # (what, command line; {store} is a finished store, {file} a file the user owns)
    ("export over the store", ["export", "{store}", "--format", "csv", "--out", "{store}"]),
    ("export over a copy of a store", ["export", "{store}", "--format", "csv", "--out", "copy.db"]),
    ("export over a user file", ["export", "{store}", "--format", "csv", "--out", "{file}"]),
    ("export into a directory", ["export", "{store}", "--format", "parquet", "--out", "dir"]),
    ("export under a file", ["export", "{store}", "--format", "csv", "--out", "{file}/x.csv"]),
    ("export to an empty path", ["export", "{store}", "--format", "csv", "--out", ""]),
    ("run --out a file", ["run", "teaching_small", "--out", "{file}"]),
    ("run --out under a file", ["run", "teaching_small", "--out", "{file}/out"]),
    ("run --out a busy directory", ["run", "teaching_small", "--out", "dir"]),
    ("run --out the store", ["run", "teaching_small", "--out", "{store}"]),
    ("report --out a file", ["report", "{store}", "--out", "{file}"]),
    ("report --out the store", ["report", "{store}", "--out", "{store}"]),
    ("report --out a busy directory", ["report", "{store}", "--out", "dir"]),
    ("report --out under a file", ["report", "{store}", "--out", "{file}/rep"]),
    ("report of a non-store", ["report", "{file}"]),
    ("sweep --out a user file", ["sweep", "tiny.yaml", "--out", "{file}"]),
    (
        "sweep --out a user file --overwrite",
        ["sweep", "tiny.yaml", "--out", "{file}", "--overwrite"],
    ),
    ("sweep --out a directory", ["sweep", "tiny.yaml", "--out", "dir"]),
    ("sweep --out under a file", ["sweep", "tiny.yaml", "--out", "{file}/s.db"]),
    ("sweep --out ''", ["sweep", "tiny.yaml", "--out", ""]),
    ("sweep --out an existing store", ["sweep", "tiny.yaml", "--out", "{store}"]),
    ("sweep, report dir busy", ["sweep", "tiny.yaml", "--out", "busy.db"]),
]


def output_case(what: str, template: list[str]) -> tuple[str | None, str]:
    with scratch() as d:
        make_store(d)
        shutil.copy(d / "s.db", d / "copy.db")
        (d / "notes.txt").write_text("the user's own file\n")
        (d / "dir").mkdir()
        (d / "dir" / "data.csv").write_text("x\n")
        (d / "busy_report").mkdir()
        (d / "busy_report" / "thesis.tex").write_text("x\n")
        args = [a.format(store="s.db", file="notes.txt") for a in template]
        before = snapshot(d)
        done = cli(args, d)
        why = refused(done) or within_memory(done)
        if not why and snapshot(d) != before:
            why = "files changed"
    return why, f"{what}: {' '.join(args)}"


def output_paths(rng: random.Random, count: int) -> Iterator[Callable]:
    for what, template in OUTPUT_CASES[:count]:
        yield lambda what=what, template=template: output_case(what, template)


# ----------------------------------------------------------------------------- filesystems
def namespace(script: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=cwd,
        env=env(PY=sys.executable),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


FS_CASES = {
    # name: (mount options, command run with cwd = the mount, where a finished store is)
    "read-only: status": ("ro", "$PY -m sim status s.db"),
    "read-only: export elsewhere": ("ro", "$PY -m sim export s.db --format csv --out ../e.csv"),
    "read-only: sweep --out": ("ro", "$PY -m sim sweep tiny.yaml --out new.db"),
    "read-only: resume": ("ro", "$PY -m sim resume s.db"),
    "read-only: export beside the store": ("ro", "$PY -m sim export s.db --format csv"),
    "read-only: report beside the store": ("ro", "$PY -m sim report s.db"),
    "read-only: run --out": ("ro", "$PY -m sim run teaching_small --out out"),
    "full disk mid-sweep, then resume": (
        "size=160k",
        "$PY -m sim sweep tiny.yaml --out s.db --workers 2 --no-report",
    ),
}
FS_READS = ("read-only: status", "read-only: export elsewhere")  # these must work


def fs_case(name: str) -> tuple[str | None, str]:
    mode, command = FS_CASES[name]
    with scratch() as d:
        make_store(d, samples=4)
        mnt = d / "mnt"
        mnt.mkdir()
        if mode == "ro":
            setup = "mount -t tmpfs none mnt && cp s.db tiny.yaml mnt/ && mount -o remount,ro mnt"
            after = ""
        else:  # a small disk: the sweep fills it; then it grows and resume completes
            setup = f"mount -t tmpfs -o {mode} none mnt && cp tiny.yaml mnt/"
            after = (
                "; mount -o remount,size=50m . && $PY -m sim resume s.db --no-report "
                "> /dev/null 2>&1; echo $? > ../resumed; cp s.db ../after.db"
            )
        script = (
            f"{setup} && cd mnt && {command} > /dev/null 2> ../err; echo $? > ../code; "
            f"ls -a > ../listing{after}"
        )
        done = namespace(script, d)
        if not (d / "code").exists():
            return f"skipped: cannot mount ({done.stderr.strip()[:80]})", name
        code = int((d / "code").read_text())
        err = (d / "err").read_text()
        if name in FS_READS:
            why = None if code == 0 and not err.strip() else f"exit {code}: {err[-200:]}"
        else:
            why = refused(Done(code, "", err, 0, 0))
        listing = set((d / "listing").read_text().split())
        if not why and mode == "ro" and listing != {".", "..", "s.db", "tiny.yaml"}:
            why = f"written on a read-only filesystem: {listing}"
        if not why and mode != "ro":
            resumed = (d / "resumed").read_text().strip()
            if resumed != "0" or exported(d, "after.db", "a") != exported(d, "s.db", "s"):
                why = f"resume after the full disk: exit {resumed}, or results differ"
    return why, name


def filesystems(rng: random.Random, count: int) -> Iterator[Callable]:
    for name in list(FS_CASES)[:count]:
        yield lambda name=name: fs_case(name)


# ----------------------------------------------------------------------------- signals
def stored(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as con:
        n = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    con.close()
    return n


def signal_case(sig: int, target: str, when: str, scenario: str) -> tuple[str | None, str]:
    """Stop a sweep with ``sig`` (to the coordinator or its group) early or mid-sweep;
    it must stop within 10 s leaving no process, mark the session (interrupted; 'killed'
    after SIGKILL, on resume), and a resume must give the uninterrupted sweep's store."""
    label = f"{signal.Signals(sig).name} to {target}, {when}, {scenario}"
    samples, reps = (3, 3) if scenario == "teaching_small" else (2, 1)
    with scratch() as d:
        make_store(d, scenario, samples, reps)  # the uninterrupted reference, s.db
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "sweep", "tiny.yaml", "--out", "x.db", "--no-report"],
            cwd=d,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if (when == "early" and (d / "x.db").exists()) or stored(d / "x.db") > 0:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            return "ended before the signal", label
        t0 = time.monotonic()
        (os.killpg if target == "group" else os.kill)(proc.pid, sig)
        proc.wait(600)
        stop_s = time.monotonic() - t0
        time.sleep(1.0)  # the workers notice a SIGKILLed coordinator within 0.5 s
        left = live_processes(proc.pid)
        with sqlite3.connect(d / "x.db") as con:
            status = con.execute("SELECT status FROM sessions").fetchall()
        con.close()
        resume = cli(["resume", "x.db", "--no-report"], d)
        same = resume.code == 0 and exported(d, "x.db", "x") == exported(d, "s.db", "s")
        why = None
        if stop_s > STOP_LIMIT_S:
            why = f"stopped after {stop_s:.1f} s"
        elif left:
            why = f"processes left: {left}"
        elif status not in ([], [("interrupted" if sig != signal.SIGKILL else "running",)]):
            why = f"session marked {status}"  # [] : stopped before its session began
        elif not same:
            why = f"resume: exit {resume.code}, results differ or {resume.err[-200:]}"
    return why, f"{label}: stopped in {stop_s:.1f} s"


def signals(rng: random.Random, count: int) -> Iterator[Callable]:
    cases = [
        (sig, target, when, "teaching_small")
        for sig in (signal.SIGINT, signal.SIGTERM)
        for target in ("coordinator", "group")
        for when in ("early", "mid-sweep")
    ]
    cases += [(signal.SIGKILL, "coordinator", w, "teaching_small") for w in ("early", "mid-sweep")]
    cases += [(signal.SIGINT, "coordinator", "mid-sweep", "ghwayran_2022")]
    cases += [(signal.SIGTERM, "group", "mid-sweep", "ghwayran_2022")]
    for case in cases[:count]:
        yield lambda case=case: signal_case(*case)


# ----------------------------------------------------------------------------- main
CLASSES: dict[str, tuple[Callable, int, int]] = {
    # name: (case generator, default count, parallel processes)
    "scenario-files": (scenario_files, 186, 2),
    "experiment-files": (experiment_files, 436, 2),
    "arguments": (arguments, 1000, 2),
    "damaged-stores": (damaged_stores, 55, 2),
    "output-paths": (output_paths, 1000, 2),
    "filesystems": (filesystems, 1000, 1),
    "signals": (signals, 1000, 1),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20220120)
    parser.add_argument("--only", nargs="*", choices=list(CLASSES), default=list(CLASSES))
    parser.add_argument("--count", type=int, default=None, help="cases per class")
    parser.add_argument("--parallel", type=int, default=None, help="cases at once (default 1-2)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    rows = []
    for name in args.only:
        generate, default, parallel = CLASSES[name]
        cases = list(generate(random.Random(f"{args.seed}:{name}"), args.count or default))
        t0 = time.monotonic()
        with ThreadPoolExecutor(args.parallel or parallel) as pool:
            results = list(pool.map(lambda case: case(), cases))
        skipped = [r for r in results if r[0] and r[0].startswith("skipped")]
        failed = [r for r in results if r[0] and r not in skipped]
        for why, what in results if args.verbose else failed:
            print(f"  {name}: {'handled' if not why else why}: {what}", flush=True)
        done = len(results) - len(skipped)
        rows.append((name, done, done - len(failed), time.monotonic() - t0))
        print(f"{name}: {done - len(failed)} of {done} handled", flush=True)
    print(f"\n| class | cases | handled | % | time | reproduce (seed {args.seed}) |")
    print("|---|---|---|---|---|---|")
    for name, n, ok, secs in rows:
        pct = 100.0 * ok / n if n else 100.0
        cmd = f"python benchmarks/failure_paths.py --only {name} --seed {args.seed}"
        print(f"| {name} | {n} | {ok} | {pct:.0f}% | {secs:.0f} s | `{cmd}` |")


if __name__ == "__main__":
    main()
