"""The docs agree with the code, and the project's text stays non-operational.

(a) the parameter table in docs/odd.md is the one `prisonsim params --format markdown`
    generates; (b) the process overview names every phase of `sim.model.PHASES`, in order;
(c) every parameter is described in docs/odd.md's prose, not only in the generated table;
(d) no operational words appear in the text files under docs/, scenarios/ or sim/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.cli.run import params_markdown
from sim.model import PHASES
from sim.model.params import PARAMS

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "odd.md"
BEGIN, END = "<!-- params:begin -->", "<!-- params:end -->"
REGENERATE = (
    "regenerate with `PYTHONPATH=. python -m sim params --format markdown` and paste the "
    f"output verbatim between the lines {BEGIN!r} and {END!r} in docs/odd.md"
)

# Words the project never uses (scope rule). Matched case-insensitively as substrings,
# except the acronym, which is matched case-sensitively as a whole word ("applied" is fine).
BANNED_SUBSTRINGS = ("weapon", "rifle", "explosive", "ammunition", "sniper", "breaking the walls")
BANNED_ACRONYM = re.compile(r"\bIEDs?\b")
SCANNED_DIRS = ("docs", "scenarios", "sim")


def _odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def _split_table(text: str) -> tuple[str, str]:
    """(text outside the generated table, the table between the markers)."""
    assert text.count(BEGIN) == 1 and text.count(END) == 1, (
        f"docs/odd.md must contain each marker line exactly once "
        f"(found {text.count(BEGIN)} x {BEGIN!r}, {text.count(END)} x {END!r})"
    )
    head, rest = text.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    return head + tail, table


def _section(text: str, number: int) -> str:
    """The body of the top-level section '## <number>. ...' up to the next '## ' heading."""
    match = re.search(rf"^## {number}\. .*?$(.*?)(?=^## )", text, flags=re.M | re.S)
    assert match, f"docs/odd.md has no section starting with '## {number}. '"
    return match.group(1)


def test_params_table_matches_generated():
    _, table = _split_table(_odd_text())
    expected = params_markdown().strip()
    actual = table.strip()
    if actual != expected:
        exp_lines, act_lines = expected.splitlines(), actual.splitlines()
        first = next(
            (i for i, (e, a) in enumerate(zip(exp_lines, act_lines, strict=False)) if e != a),
            min(len(exp_lines), len(act_lines)),
        )
        pytest.fail(
            f"parameter table in docs/odd.md is out of date ({len(act_lines)} lines there, "
            f"{len(exp_lines)} generated); first difference at table line {first + 1}:\n"
            f"  docs:      {act_lines[first] if first < len(act_lines) else '<missing>'}\n"
            f"  generated: {exp_lines[first] if first < len(exp_lines) else '<missing>'}\n"
            f"{REGENERATE}"
        )


def test_process_overview_names_every_phase_in_order():
    overview = _section(_odd_text(), 3)
    positions = {name: overview.find(f"`{name}`") for name in PHASES}
    missing = [name for name, pos in positions.items() if pos < 0]
    assert not missing, (
        f"section 3 (process overview) of docs/odd.md does not name these phases of "
        f"sim.model.PHASES as `name`: {missing}"
    )
    order = sorted(PHASES, key=positions.get)
    assert order == list(PHASES), (
        f"phases appear in section 3 in the order {order}, but sim.model.PHASES is {list(PHASES)}"
    )


def test_every_parameter_described_outside_the_table():
    prose, _ = _split_table(_odd_text())
    missing = [name for name in PARAMS if not re.search(rf"\b{re.escape(name)}\b", prose)]
    assert not missing, (
        f"{len(missing)} parameter(s) of sim.model.params.PARAMS are not mentioned in the text of "
        f"docs/odd.md outside the generated table: {missing}; describe where each acts"
    )


def _text_files():
    for d in SCANNED_DIRS:
        base = ROOT / d
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary (images and the like)


def test_no_operational_words():
    hits = []
    for path, text in _text_files():
        for lineno, line in enumerate(text.splitlines(), 1):
            low = line.lower()
            found = [w for w in BANNED_SUBSTRINGS if w in low]
            found += BANNED_ACRONYM.findall(line)
            if found:
                hits.append(f"{path.relative_to(ROOT)}:{lineno}: {', '.join(found)}")
    assert not hits, (
        "operational words found (the scope rule keeps them out of docs/, scenarios/ and "
        "sim/; rephrase or, for a cited title, describe it without quoting):\n" + "\n".join(hits)
    )
