"""Fuzz of config files: mutated copies of the shipped scenario and experiment files
(``config_mutations.py``) given to ``prisonsim validate`` and ``prisonsim sweep`` always
end with exit code 0 (still valid) or 2 with one ``prisonsim COMMAND: error: ...`` line per
mistake, never a traceback, and nothing written. A fast slice runs by default; the slow
mark runs a larger one. ``benchmarks/failure_paths.py`` runs the same mutations as
separate processes, with a memory bound, for the closing table of issue 7.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
from pathlib import Path

import pytest
from config_mutations import EXPERIMENTS, MUTATIONS, SCENARIOS, mutate
from conftest import property_settings
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main

LINE = re.compile(r"^prisonsim (validate|sweep): error: \S")
BASES = [*SCENARIOS, *EXPERIMENTS]


def _call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_mutated_file(directory: Path, base: Path, seed: int, kind: str | None = None) -> str:
    """Write one mutated file into empty ``directory``, validate it (and, if it is
    refused, sweep it) in-process; assert the contract; return the mutation's name."""
    data, name = mutate(base, random.Random(seed), kind)
    path = directory / f"{base.stem}.yaml"
    path.write_bytes(data)
    code, out, err = _call(["validate", str(path)])
    where = f"{name} of {base.name} (seed {seed}): {data[:300]!r}"
    assert code in (0, 2), (code, err, where)
    assert "Traceback" not in err, (err, where)
    if code == 0:
        assert ": ok (" in out, (out, where)
    else:
        lines = err.splitlines()
        assert lines and all(LINE.match(ln) for ln in lines), (err, where)
        db = directory / "out.db"
        code, _, err = _call(["sweep", str(path), "--out", str(db), "--workers", "1"])
        assert code == 2 and all(LINE.match(ln) for ln in err.splitlines()), (code, err, where)
    assert sorted(p.name for p in directory.iterdir()) == [path.name], (
        sorted(p.name for p in directory.iterdir()),
        where,
    )
    path.unlink()
    return name


@pytest.mark.parametrize("kind", [*MUTATIONS, "binary"])
@pytest.mark.parametrize("base", [SCENARIOS[-1], EXPERIMENTS[0]], ids=lambda p: p.stem)
def test_each_kind_of_mutation_is_handled(kind, base, tmp_path):
    """Every mutation class on a scenario and an experiment, three seeds each."""
    for seed in range(3):
        check_mutated_file(tmp_path, base, seed, kind)


@property_settings(30)  # every kind of mutation is covered above; the slow slice runs 1,000
@given(seed=st.integers(0, 2**32 - 1), base=st.sampled_from(BASES))
def test_mutated_config_files_give_exit_2_or_pass(seed, base, tmp_path_factory):
    check_mutated_file(tmp_path_factory.mktemp("fuzz"), base, seed)


@pytest.mark.slow
@property_settings(1000, derandomize=False)
@given(seed=st.integers(0, 2**32 - 1), base=st.sampled_from(BASES))
def test_mutated_config_files_large_slice(seed, base, tmp_path_factory):
    check_mutated_file(tmp_path_factory.mktemp("fuzz"), base, seed)
