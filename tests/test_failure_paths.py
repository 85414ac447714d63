"""Failure paths as a user meets them (issue 7): output paths that would destroy a store
or a file the command did not make, damaged stores, read-only and full filesystems, an
unreachable Dask scheduler, too many workers, misleading messages. Each gives one line,
``prisonsim COMMAND: error: ...``, exit code 2, and leaves what exists unchanged."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli_env, prisonsim

from sim.analysis import report
from sim.cli import main
from sim.experiments.executors import default_workers
from sim.experiments.loader import load_experiment
from sim.experiments.store import ResultsStore, StoreError

ERROR = re.compile(r"^prisonsim (\w+): error: \S")


def one_error(code: int, err: str, command: str, *fragments: str) -> None:
    """Exit code 2 and exactly one error line of ``command`` holding every fragment."""
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and ERROR.match(lines[0]), err
    assert ERROR.match(lines[0]).group(1) == command, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def snapshot(directory: Path) -> dict[str, str]:
    """Name and SHA-256 of every file under ``directory`` (but SQLite's own -wal and -shm
    files, which a reader may make empty beside a store)."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture
def store(make_experiment, tmp_path) -> Path:
    """A finished teaching-scale store (12 runs with series), written by a real sweep."""
    db = tmp_path / "s.db"
    code = main(
        ["sweep", str(make_experiment()), "--out", str(db), "--workers", "1", "--no-report"]
    )
    assert code == 0 and not Path(f"{db}-wal").exists(), code
    return db


# ----------------------------------------------------------------------------- outputs
def test_export_never_writes_over_the_store_or_a_foreign_file(store, tmp_path, capsys):
    other = tmp_path / "notes.csv"
    other.write_text("my notes\n")
    before = snapshot(tmp_path)
    for out, fragment in (
        (store, "is the input itself"),
        (other, "exists and was not written by this command"),
        (tmp_path, "is a directory"),
        (other / "x.csv", "is a file, not a directory"),
    ):
        code = main(["export", str(store), "--format", "csv", "--out", str(out)])
        one_error(code, capsys.readouterr().err, "export", fragment)
    copy = tmp_path / "copy.db"
    shutil.copy(store, copy)
    code = main(["export", str(store), "--format", "parquet", "--out", str(copy)])
    one_error(code, capsys.readouterr().err, "export", "is an SQLite database")
    copy.unlink()
    assert snapshot(tmp_path) == before, "a refused export changed a file"
    for _ in range(2):  # an earlier export may be written again
        assert main(["export", str(store), "--format", "csv"]) == 0
        assert main(["export", str(store), "--format", "parquet"]) == 0


def test_run_checks_its_output_directory_before_running(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me\n")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("keep me too\n")
    before = snapshot(tmp_path)
    for out, fragment in (
        (a_file, "is a file, not a directory"),
        (a_file / "sub", "is a file, not a directory"),
        (busy, "neither empty nor an earlier output"),
    ):
        done = prisonsim("run", "ghwayran_2022", "--out", str(out), cwd=tmp_path)
        one_error(done.returncode, done.stderr, "run", fragment)
        assert done.stdout == "", f"the model ran before the check: {done.stdout}"
    assert snapshot(tmp_path) == before
    for _ in range(2):  # an earlier run's directory may be written again
        done = prisonsim("run", "teaching_small", "--out", str(tmp_path / "out"), cwd=tmp_path)
        assert done.returncode == 0, done.stderr


def test_report_of_a_file_that_is_not_a_store_is_one_line(tmp_path, capsys):
    code = main(["report", str(ROOT / "README.md"), "--out", str(tmp_path / "r")])
    one_error(code, capsys.readouterr().err, "report", "not a prisonsim results file")
    assert not (tmp_path / "r").exists()


def test_report_never_writes_into_a_foreign_directory(store, tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "data.csv").write_text("x\n")
    before = snapshot(tmp_path)
    for out, fragment in ((busy, "neither empty nor"), (store, "is a file, not a directory")):
        code = main(["report", str(store), "--out", str(out)])
        one_error(code, capsys.readouterr().err, "report", fragment)
    assert snapshot(tmp_path) == before
    for _ in range(2):  # an earlier report's directory may be written again
        assert main(["report", str(store), "--out", str(tmp_path / "rep")]) == 0


def test_sweep_output_paths_are_checked_before_anything_runs(make_experiment, tmp_path, capsys):
    exp = make_experiment()
    a_file = tmp_path / "a_file"
    a_file.write_text("x\n")
    before = snapshot(tmp_path)
    for args, fragment in (
        (["--out", ""], "an empty path"),
        (["--out", str(tmp_path)], "is a directory"),
        (["--out", str(a_file / "s.db")], "is a file, not a directory"),
        (["--out", str(a_file)], "not a prisonsim results file"),
        (["--out", str(a_file), "--overwrite"], "not a prisonsim results file"),
    ):
        try:
            code = main(["sweep", str(exp), *args])
        except SystemExit as exc:  # argparse's own check of an empty path
            code = exc.code
        one_error(code, capsys.readouterr().err, "sweep", fragment)
    assert snapshot(tmp_path) == before


def test_a_report_that_cannot_be_written_is_one_line_and_the_runs_are_kept(
    make_experiment, tmp_path, capsys, monkeypatch
):
    """The results directory turned read-only during the sweep (simulated: the report
    layer meets a PermissionError)."""

    def write_report(db, out_dir):
        raise PermissionError(13, "Permission denied", str(out_dir))

    monkeypatch.setattr(report, "write_report", write_report)
    db = tmp_path / "r.db"
    code = main(["sweep", str(make_experiment(replicates=1)), "--out", str(db), "--workers", "1"])
    captured = capsys.readouterr()
    one_error(code, captured.err, "sweep", "cannot write the report", "Permission denied")
    assert "6 of 6 runs stored" in captured.out, captured.out
    assert main(["status", str(db)]) == 0


def test_new_store_never_replaces_a_file(make_experiment, tmp_path):
    path = tmp_path / "x.db"
    path.write_text("precious\n")
    with pytest.raises(StoreError, match="already exists"):
        ResultsStore.create(path, load_experiment(make_experiment()))
    assert path.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".yaml"] == ["x.db"]


# ----------------------------------------------------------------------------- damage
def _flip_in(db: Path, sql: str, new: bytes) -> None:
    """Change one byte inside the text ``sql`` selects (its first '1'), in the file."""
    with sqlite3.connect(db) as con:
        text = con.execute(sql).fetchone()[0].encode()
    con.close()
    data = bytearray(db.read_bytes())
    at = data.find(text) + text.find(b"1")
    assert at > 0 and text.find(b"1") >= 0, f"{sql}: stored text not found in the file"
    data[at : at + 1] = new
    db.write_bytes(bytes(data))


DAMAGE = {
    "series-digit": ("SELECT series_values FROM series LIMIT 1", b"3", "point 0 replicate 0"),
    "series-utf8": ("SELECT series_values FROM series LIMIT 1", b"\xff", "point 0 replicate 0"),
    "design": ("SELECT point_values FROM points LIMIT 1", b"7", "design or provenance"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_reported_by_every_reader(store, damage, capsys):
    sql, new, fragment = DAMAGE[damage]
    _flip_in(store, sql, new)
    before = store.read_bytes()
    code = main(["status", str(store)])
    captured = capsys.readouterr()
    assert code == 2 and "runs:       12 stored" in captured.out, (code, captured)
    one_error(code, captured.err, "status", "damaged", fragment)
    for args in (
        ["export", str(store), "--format", "csv"],
        ["resume", str(store)],
        ["report", str(store)],
    ):
        code = main(args)
        one_error(code, capsys.readouterr().err, args[0], "damaged")
    assert store.read_bytes() == before, "a reader changed a damaged store"
    assert sorted(p.name for p in store.parent.iterdir() if "s." in p.name) in (
        ["s.db"],
        ["s.db", "s.db-shm", "s.db-wal"],
    )


# ----------------------------------------------------------------------------- filesystems
def _namespace_ok() -> bool:
    done = (
        subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False, timeout=30)
        if shutil.which("unshare")
        else None
    )
    return done is not None and done.returncode == 0


needs_mounts = pytest.mark.skipif(
    not _namespace_ok(), reason="needs 'unshare -rm' to mount a read-only or small filesystem"
)


def in_namespace(script: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a shell ``script`` in a private mount namespace (root there, so it can mount a
    tmpfs; as in real life, the mount is read-only or small, whoever the user is)."""
    env = cli_env(PY=sys.executable)
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"set -u\n{script}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@needs_mounts
def test_read_only_filesystem(store, make_experiment, tmp_path):
    """An intact store on a read-only filesystem is read; nothing is written there."""
    exp = make_experiment(name="ro")
    ro = tmp_path / "ro"
    ro.mkdir()
    done = in_namespace(
        f"""
        mount -t tmpfs none {ro} && cp {store} {ro}/s.db && mount -o remount,ro {ro}
        $PY -m sim status {ro}/s.db > /dev/null; echo "status $?"
        $PY -m sim export {ro}/s.db --format csv --out {tmp_path}/exp/runs.csv > /dev/null
        echo "export $?"
        $PY -m sim report {ro}/s.db --out {tmp_path}/rep > /dev/null; echo "report $?"
        $PY -m sim sweep {exp} --out {ro}/new.db 2>&1; echo "sweep $?"
        $PY -m sim export {ro}/s.db --format csv 2>&1; echo "export-here $?"
        $PY -m sim run teaching_small --out {ro}/run 2>&1; echo "run $?"
        $PY -m sim resume {ro}/s.db 2>&1; echo "resume $?"
        ls {ro}
        """,
        tmp_path,
    )
    out = done.stdout
    assert done.returncode == 0, (done.stdout, done.stderr)
    for ok in ("status 0", "export 0", "report 0"):
        assert ok in out, (ok, out, done.stderr)
    for refused in ("sweep 2", "export-here 2", "run 2", "resume 2"):
        assert refused in out, (refused, out)
    errors = [ln for ln in out.splitlines() if ln.startswith("prisonsim")]
    assert len(errors) == 4 and all(ERROR.match(ln) for ln in errors), out
    assert "Traceback" not in out + done.stderr, out + done.stderr
    assert out.strip().splitlines()[-1] == "s.db", f"something was written: {out}"


@needs_mounts
def test_a_full_disk_stops_the_sweep_in_one_line_and_resume_completes_it(make_experiment, tmp_path):
    from test_sweep import contents

    exp = make_experiment(lead="[0, 24, 48]", samples=4, replicates=2, series="1")
    ref = tmp_path / "ref.db"
    assert main(["sweep", str(exp), "--out", str(ref), "--workers", "2", "--no-report"]) == 0
    small = tmp_path / "small"
    small.mkdir()
    done = in_namespace(
        f"""
        mount -t tmpfs -o size=160k none {small}
        $PY -m sim sweep {exp} --out {small}/s.db --workers 2 --no-report
        echo "sweep $?"
        mount -o remount,size=20m {small}
        $PY -m sim resume {small}/s.db --workers 2 --no-report > /dev/null; echo "resume $?"
        cp {small}/s.db {tmp_path}/after.db
        """,
        tmp_path,
    )
    out, err = done.stdout, done.stderr
    assert "sweep 2" in out and "resume 0" in out, (out, err)
    lines = [ln for ln in err.splitlines() if ln.startswith("prisonsim")]
    assert len(lines) == 1 and "cannot write" in lines[0] and "resume" in lines[0], err
    assert "Traceback" not in err, err
    assert contents(tmp_path / "after.db") == contents(ref), "resume after a full disk differs"


# ----------------------------------------------------------------------------- arguments
def test_an_unreachable_dask_scheduler_is_bad_input_and_leaves_no_store(make_experiment, tmp_path):
    env = cli_env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    done = prisonsim(
        "sweep",
        str(make_experiment()),
        "--executor",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
        cwd=tmp_path,
        env=env,
    )
    one_error(done.returncode, done.stderr, "sweep", "cannot reach a Dask scheduler")
    assert not (tmp_path / "results").exists(), list((tmp_path / "results").iterdir())


def test_more_workers_than_cores_needs_a_flag_that_says_so(make_experiment, tmp_path, capsys):
    exp = make_experiment(replicates=1)
    too_many = str(default_workers() + 1)
    code = main(["sweep", str(exp), "--workers", too_many, "--out", str(tmp_path / "a.db")])
    one_error(code, capsys.readouterr().err, "sweep", "--oversubscribe", "cores")
    assert not (tmp_path / "a.db").exists()
    code = main(["sweep", str(exp), "--workers", "100000", "--oversubscribe", "--no-report"])
    one_error(code, capsys.readouterr().err, "sweep", "too many; allowed: 1 to 256")
    db = tmp_path / "b.db"
    args = ["--workers", too_many, "--oversubscribe", "--out", str(db), "--no-report"]
    assert main(["sweep", str(exp), *args]) == 0
    assert "6 of 6 runs stored" in capsys.readouterr().out


def test_names_and_keys_get_did_you_mean(tmp_path, capsys):
    code = main(["run", "teaching_smal"])
    one_error(code, capsys.readouterr().err, "run", "did you mean 'teaching_small'?", "shipped")
    code = main(["sweep", "warning_lead_tme", "--no-report"])
    one_error(code, capsys.readouterr().err, "sweep", "did you mean 'warning_lead_time'?")
    with pytest.raises(SystemExit) as exc:
        main(["swep"])
    assert exc.value.code == 2
    assert "did you mean 'sweep'?" in capsys.readouterr().err


def test_validate_knows_an_experiment_with_a_misspelled_design(tmp_path, capsys):
    path = tmp_path / "e.yaml"
    text = (ROOT / "experiments" / "repatriation.yaml").read_text()
    path.write_text(text.replace("design:", "desing:"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "desing: unknown key (did you mean 'design'?)" in err, err


def test_set_values_that_break_a_joint_constraint_are_blamed_on_set(capsys):
    code = main(
        ["run", "teaching_small", "--set", "iraqi_share=0.8", "--set", "third_country_share=0.5"]
    )
    one_error(code, capsys.readouterr().err, "run", "--set: iraqi_share,third_country_share")


def test_every_command_uses_one_error_format(store, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparams:\n  attackers: 20\n  attackers: .nan\n")
    for argv in (
        ["run", str(bad)],
        ["validate", str(bad)],
        ["sweep", str(bad)],
        ["resume", str(bad)],
        ["status", str(bad)],
        ["export", str(bad), "--format", "csv"],
        ["report", str(bad)],
        ["demo", "--scenario", str(bad)],
        ["run", "teaching_small", "--set", "attackers=.inf"],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, code, err)
        lines = err.strip().splitlines()
        assert lines and all(ERROR.match(ln) for ln in lines), (argv, err)
        assert {ERROR.match(ln).group(1) for ln in lines} == {argv[0]}, (argv, err)
        assert "Traceback" not in err and "DB:" not in err, (argv, err)
    made = {p.name for p in tmp_path.iterdir()} - {"bad.yaml", "tiny.yaml", "s.db"}
    made -= {"s.db-wal", "s.db-shm"}
    assert not made, f"a refused command wrote {made}"


# ----------------------------------------------------------------------------- memory
@pytest.mark.parametrize("kind", ["alias_bomb", "deep_nesting", "recursive_alias", "huge_int"])
def test_a_small_yaml_file_never_takes_much_memory(kind, tmp_path):
    """A config file of at most 10 KB keeps every command under 500 MB (peak RSS of the
    process, read with wait4)."""
    import random

    from config_mutations import MAX_BYTES, mutate

    for seed in range(2):
        data, _ = mutate(ROOT / "experiments" / "repatriation.yaml", random.Random(seed), kind)
        assert len(data) <= MAX_BYTES, len(data)
        path = tmp_path / "big.yaml"
        path.write_bytes(data)
        for command in ("validate", "sweep"):
            # A small launcher starts the command, so that its peak memory is its own: a
            # child forked from this (large) test process would start with our pages.
            launcher = (
                "import resource, subprocess, sys; "
                "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
                "stderr=subprocess.PIPE); "
                "sys.stderr.write(done.stderr.decode()); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
                "sys.exit(done.returncode)"
            )
            proc = subprocess.run(
                [sys.executable, "-c", launcher, sys.executable, "-m", "sim", command, str(path)],
                cwd=tmp_path,
                env=cli_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            one_error(proc.returncode, proc.stderr, command)
            peak_kb = int(proc.stdout.split()[-1])
            assert peak_kb / 1024 < 500, f"{kind} seed {seed}: {peak_kb} KB"
