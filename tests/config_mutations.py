"""Mutations of real config files, for the fuzz test (``test_config_fuzz.py``) and the
failure-path harness (``benchmarks/failure_paths.py``).

Each mutation takes the text of a shipped scenario or experiment file and a
:class:`random.Random`, and returns (the mutated bytes, the mutation's name). The classes
are the ones issue 7 lists: deleted, misspelled and repeated keys, keys that are not
names, wrong types, out-of-range numbers, NaN, infinities, huge integers, empty and binary
files, YAML syntax errors, anchors, recursive aliases, alias bombs (and deep nesting,
flipped bytes and truncation for good measure). A mutated file must give exit code 0 (it
is still valid) or 2 with one ``prisonsim COMMAND: error: ...`` line per mistake, never a
traceback, and must make nothing be written.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
KEY_LINE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w]*)\s*:(.*)$")
MAX_BYTES = 10_000  # the bound for a config file in the memory check

WRONG_TYPES = ["[1, 2]", "{a: 1}", "'text'", "true", "null", "", "2022-01-20", "!!binary aGk="]
OUT_OF_RANGE = ["-1", "-1000000", "1000000000000", "0", "1e300", "-0.5", "99999"]
NON_FINITE = [".nan", ".NaN", ".inf", "-.inf", ".Inf"]
HUGE_INTS = [str(10**30), str(-(10**25)), str(2**63), str(2**64 + 1), "0x" + "f" * 40]
BAD_KEYS = ["1: 2", "~: 3", "true: 1", "3.5: x", "? [a, b]\n: 1", "null: 0", "2022-01-01: x"]
SYNTAX_ERRORS = ["key: [1, 2", "key: {a: 1", "\tkey: 1", "key: 'open", ": lonely", "- a\nb: 1"]


def _key_lines(lines: list[str]) -> list[int]:
    return [
        i for i, ln in enumerate(lines) if KEY_LINE.match(ln) and not ln.lstrip().startswith("#")
    ]


def _with_value(line: str, value: str) -> str:
    m = KEY_LINE.match(line)
    return f"{m.group(1)}{m.group(2) or ''}{m.group(3)}: {value}"


def _misspell(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word + "x"
    i = rng.randrange(len(word) - 1)
    how = rng.choice(["swap", "drop", "double", "case"])
    if how == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if how == "drop":
        return word[:i] + word[i + 1 :]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i].upper() + word[i + 1 :]


def _edit_line(text: str, rng: random.Random, edit: Callable[[str], str]) -> str:
    lines = text.splitlines()
    keys = _key_lines(lines)
    i = rng.choice(keys)
    lines[i] = edit(lines[i])
    return "\n".join(lines) + "\n"


def delete_key(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    del lines[rng.choice(_key_lines(lines))]
    return "\n".join(lines) + "\n"


def misspell_key(text: str, rng: random.Random) -> str:
    def edit(line: str) -> str:
        m = KEY_LINE.match(line)
        return f"{m.group(1)}{m.group(2) or ''}{_misspell(m.group(3), rng)}:{m.group(4)}"

    return _edit_line(text, rng, edit)


def repeat_key(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.choice(_key_lines(lines))
    value = rng.choice(["1", "2000", "0.5", "true", "x"])
    lines.insert(i + 1, _with_value(lines[i], value) if KEY_LINE.match(lines[i]) else lines[i])
    return "\n".join(lines) + "\n"


def bad_key(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.choice(_key_lines(lines))
    indent = KEY_LINE.match(lines[i]).group(1)
    key = rng.choice(BAD_KEYS).replace("\n", "\n" + indent)
    lines.insert(i, indent + key)
    return "\n".join(lines) + "\n"


def _value_mutation(choices: list[str]) -> Callable[[str, random.Random], str]:
    def mutate(text: str, rng: random.Random) -> str:
        return _edit_line(text, rng, lambda line: _with_value(line, rng.choice(choices)))

    return mutate


wrong_type = _value_mutation(WRONG_TYPES)
out_of_range = _value_mutation(OUT_OF_RANGE)
non_finite = _value_mutation(NON_FINITE)
huge_int = _value_mutation(HUGE_INTS)


def syntax_error(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(SYNTAX_ERRORS))
    return "\n".join(lines) + "\n"


def anchor_alias(text: str, rng: random.Random) -> str:
    """An anchor on one value, its alias put in place of another (often valid YAML)."""
    lines = text.splitlines()
    keys = _key_lines(lines)
    a, b = rng.choice(keys), rng.choice(keys)
    m = KEY_LINE.match(lines[a])
    if not m.group(4).strip() or m.group(4).strip().startswith("&"):
        return text
    lines[a] = f"{m.group(1)}{m.group(2) or ''}{m.group(3)}: &anchor {m.group(4).strip()}"
    if b != a:
        lines[b] = _with_value(lines[b], "*anchor")
    return "\n".join(lines) + "\n"


def recursive_alias(text: str, rng: random.Random) -> str:
    block = rng.choice(["loop: &r [*r]", "loop: &r {k: *r}", "loop: &r [1, [2, *r]]"])
    lines = text.splitlines()
    if rng.random() < 0.5:
        return "\n".join([*lines, block]) + "\n"
    i = rng.choice(_key_lines(lines))
    return _edit_line("\n".join(lines[: i + 1]), rng, lambda ln: _with_value(ln, "&r [*r]")) + (
        "\n".join(lines[i + 1 :]) + "\n"
    )


def alias_bomb(text: str, rng: random.Random) -> str:
    """The 'billion laughs' under a random key: 9 levels of 9 aliases each."""
    width = rng.choice([9, 10])
    bomb = ['bomb0: &b0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, rng.choice([6, 9, 12])):
        refs = ",".join([f"*b{level - 1}"] * width)
        bomb.append(f"bomb{level}: &b{level} [{refs}]")
    return text + "\n".join(bomb) + "\n"


def deep_nesting(text: str, rng: random.Random) -> str:
    depth = rng.choice([50, 200, 1000, 3000])
    return text + "deep: " + "[" * depth + "]" * depth + "\n"


def empty_file(text: str, rng: random.Random) -> str:
    return rng.choice(["", "\n", "# only a comment\n", "---\n", "~\n", "[]\n", "42\n"])


def flip_byte(text: str, rng: random.Random) -> str:
    data = bytearray(text.encode())
    for _ in range(rng.choice([1, 2, 5])):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return data.decode("latin-1")


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text))]


MUTATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "delete_key": delete_key,
    "misspell_key": misspell_key,
    "repeat_key": repeat_key,
    "bad_key": bad_key,
    "wrong_type": wrong_type,
    "out_of_range": out_of_range,
    "non_finite": non_finite,
    "huge_int": huge_int,
    "syntax_error": syntax_error,
    "anchor_alias": anchor_alias,
    "recursive_alias": recursive_alias,
    "alias_bomb": alias_bomb,
    "deep_nesting": deep_nesting,
    "empty_file": empty_file,
    "flip_byte": flip_byte,
    "truncate": truncate,
}


def mutate(base: Path, rng: random.Random, kind: str | None = None) -> tuple[bytes, str]:
    """A mutated copy of ``base`` (one or, a third of the time, two mutations), or random
    binary bytes for kind 'binary'; returns (bytes, names of the mutations applied)."""
    kind = kind or rng.choice([*MUTATIONS, "binary"])
    if kind == "binary":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))), kind
    text = base.read_text()
    names = [kind]
    text = MUTATIONS[kind](text, rng)
    if rng.random() < 1 / 3 and kind not in ("empty_file", "alias_bomb", "deep_nesting"):
        second = rng.choice([k for k in MUTATIONS if k not in ("empty_file", "truncate")])
        if _key_lines(text.splitlines()):
            text = MUTATIONS[second](text, rng)
            names.append(second)
    data = text.encode("latin-1" if kind == "flip_byte" else "utf-8", errors="replace")
    return data[:MAX_BYTES] if len(data) > MAX_BYTES else data, "+".join(names)
