"""Reading YAML configs with line numbers, and reporting mistakes in them.

Every mistake becomes one :class:`Problem` (file, line, field, message); a loader collects
all of them and raises one :class:`ConfigError`, which the CLI prints one line per problem
with exit code 2 and no traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class UserError(Exception):
    """A mistake in what the user gave (an argument, a file, a results store): the
    message is one line naming it and what is allowed; the CLI prints it, exit code 2."""


class ConfigError(Exception):
    """One or more problems with user input; ``str()`` gives one line per problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (difflib ratio 0.6 or more), or None."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest choice, or '' if none is close."""
    close = closest(name, choices)
    return f" (did you mean {close!r}?)" if close else ""


def unknown_key_message(name: str, valid: Iterable[str]) -> str:
    valid = sorted(valid)
    hint = did_you_mean(name, valid)
    listing = (
        ", ".join(valid) if len(valid) <= 12 else f"{len(valid)} names; see 'prisonsim params'"
    )
    return f"unknown key{hint}; valid keys: {listing}"


LineMap = dict[tuple[str, ...], int]

MAX_FILE_BYTES = 1_000_000
"""A config file larger than this is refused unread (shipped ones are about 2 KB)."""
MAX_VALUES = 100_000
"""Most values a file may hold once aliases are expanded (keeps alias bombs out)."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists a file may have."""
MAX_PROBLEMS = 50
"""Problems listed one per line; more are summed up in one last line."""
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""What an experiment's or a calibration's name may be (it names files)."""
INT_LIMIT = 2**63
"""Whole numbers must lie strictly between -2**63 and 2**63 (SQLite's INTEGER)."""

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class Lines(dict):
    """Line map from key path to 1-based line, with the file-level problems that do not
    stop the field checks (repeated keys), so that every mistake is reported in one pass."""

    def __init__(self, *args: Any, problems: list[Problem] | None = None):
        super().__init__(*args)
        self.problems: list[Problem] = problems or []


def _collect_lines(node: yaml.Node, path: tuple[str, ...], lines: LineMap) -> None:
    """Record the 1-based line of every key path below ``node`` (a checked tree: finite,
    shallow, every key a string)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            lines[(*path, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value_node in enumerate(node.value):
            _collect_lines(value_node, (*path, str(i)), lines)


def _scalar_problem(node: yaml.ScalarNode, loader: yaml.SafeLoader) -> str | None:
    """Why a number in the file cannot be used (NaN, infinite, too large), or None."""
    if node.tag not in _NUMBER_TAGS:
        return None
    try:
        value = loader.construct_object(node)
    except Exception as exc:  # e.g. "!!float abc": the tag's constructor refuses it
        return f"{node.value!r} is not a valid number ({exc})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{node.value} is not allowed; give a finite number"
    if isinstance(value, int) and not -INT_LIMIT < value < INT_LIMIT:
        return f"{node.value} is too large; allowed: whole numbers below 2**63"
    return None


def _key_problem(key: yaml.Node) -> str | None:
    if not isinstance(key, yaml.ScalarNode):
        return "a key must be a plain name, not a list or a mapping"
    if key.tag not in (_STR_TAG, _MERGE_TAG):
        return f"key {key.value or '~'!r} is not a name; write names as text (e.g. 'name: value')"
    return None


def _check_tree(root: yaml.Node, file: str) -> tuple[list[Problem], list[Problem]]:
    """(problems that stop loading, repeated keys) of a composed YAML tree, without
    expanding aliases: recursive aliases, more than :data:`MAX_VALUES` values once aliases
    are expanded, nesting deeper than :data:`MAX_DEPTH`, keys that are not names, and
    numbers that are NaN, infinite or too large."""
    loader = yaml.SafeLoader("")
    hard: list[Problem] = []
    repeated: list[Problem] = []
    size: dict[int, int] = {}  # expanded size of each finished node, by id
    # Depth-first, iterative: (node, key path, ancestors' ids, children pushed yet?)
    stack: list[tuple[yaml.Node, tuple[str, ...], frozenset[int], bool]] = [
        (root, (), frozenset(), False)
    ]

    def where(node: yaml.Node, path: tuple[str, ...], msg: str) -> Problem:
        return Problem(file, node.start_mark.line + 1, ".".join(path), msg)

    while stack:
        node, path, ancestors, expanded = stack.pop()
        if id(node) in size and not expanded:
            continue
        children = _children(node)
        if expanded:
            size[id(node)] = 1 + sum(size.get(id(child), 0) for child, _ in children)
            if size[id(node)] > MAX_VALUES:
                return [
                    where(
                        node,
                        path,
                        f"more than {MAX_VALUES:,} values once aliases "
                        "are expanded; write the values out instead",
                    )
                ], []
            continue
        if id(node) in ancestors:
            hard.append(where(node, path, "a recursive alias (a value that contains itself)"))
            continue
        if len(ancestors) >= MAX_DEPTH:
            return [where(node, path, f"nested more than {MAX_DEPTH} levels deep")], []
        if isinstance(node, yaml.ScalarNode):
            msg = _scalar_problem(node, loader)
            if msg:
                hard.append(where(node, path, msg))
            size[id(node)] = 1
            continue
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, _ in node.value:
                msg = _key_problem(key)
                if msg:
                    hard.append(where(key, path, msg))
                elif key.tag == _STR_TAG and key.value in first_line:
                    repeated.append(
                        where(
                            key,
                            (*path, key.value),
                            f"repeated key (first at line "
                            f"{first_line[key.value]}); give each key once",
                        )
                    )
                elif key.tag == _STR_TAG:
                    first_line[key.value] = key.start_mark.line + 1
        stack.append((node, path, ancestors, True))
        inner = ancestors | {id(node)}
        stack.extend((child, (*path, label), inner, False) for child, label in children)
    return hard, repeated


def _children(node: yaml.Node) -> list[tuple[yaml.Node, str]]:
    if isinstance(node, yaml.MappingNode):
        return [(value, str(key.value)) for key, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return [(value, str(i)) for i, value in enumerate(node.value)]
    return []


def _parse(text: str, file: str) -> tuple[Any, yaml.Node | None, list[Problem]]:
    """(data, tree, repeated keys) of YAML ``text``; every other problem raises."""

    def refuse(line: int | None, msg: str) -> ConfigError:
        return ConfigError([Problem(file, line, "", msg)])

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
            line = text[: exc.position].count("\n") + 1
        msg = (getattr(exc, "problem", None) or str(exc)).splitlines()[0]
        raise refuse(line, f"not valid YAML: {msg}") from None
    except RecursionError:
        raise refuse(None, f"nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        return {}, None, []
    hard, repeated = _check_tree(node, file)
    if hard:
        raise ConfigError(hard)
    try:
        data = yaml.SafeLoader("").construct_document(node)
    except Exception as exc:  # a tag's constructor refusing its value, e.g. a bad date
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = (getattr(exc, "problem", None) or str(exc)).splitlines()[0]
        raise refuse(line, f"not valid YAML: {msg}") from None
    return data, node, repeated


def parse_yaml_text(text: str, file: str) -> Any:
    """The value of YAML ``text`` (e.g. a ``--set`` value), checked like a file's."""
    return _parse(text, file)[0] if text.strip() else None


def load_yaml(path: str | Path) -> tuple[Any, Lines]:
    """Parse ``path`` and return (data, line map from key path to 1-based line).

    Values are what ``yaml.safe_load`` gives (an empty value is None); the line map comes
    from the composed node tree. Raises :class:`ConfigError` if the file is missing, not
    valid YAML, larger than :data:`MAX_FILE_BYTES`, or holds a recursive alias, too many
    values once aliases are expanded (an alias bomb), nesting deeper than
    :data:`MAX_DEPTH`, a key that is not a name, or a NaN, infinite or too large number.
    Repeated keys come back as ``lines.problems`` so that the field checks still run.
    """
    path = Path(path)
    file = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(
                [
                    Problem(
                        file, None, "", f"larger than {MAX_FILE_BYTES:,} bytes; not a config file?"
                    )
                ]
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(file, None, "", "is a directory, not a YAML file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(file, None, "", "not a text file (not UTF-8)")]) from None
    except OSError as exc:
        raise ConfigError([Problem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    data, node, repeated = _parse(text, file)
    lines = Lines(problems=repeated)
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def line_of(lines: LineMap, path: Iterable[str]) -> int | None:
    """Line of the deepest known prefix of ``path``."""
    key = tuple(str(p) for p in path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return lines.get(())


def load_mapping(path: str | Path, expected: str) -> tuple[dict[str, Any], LineMap]:
    """:func:`load_yaml` for a file that must hold a mapping; ``expected`` describes it
    in the error (e.g. "a scenario file must be a mapping with ...")."""
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), 1, "", expected)])
    return data, lines


def shipped_names(directory: Path) -> list[str]:
    """Names of the shipped files in ``directory`` (``*.yaml`` without the suffix)."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def resolve_shipped(path: str | Path, directory: Path, kind: str = "file") -> Path:
    """A path as given, or ``directory/NAME.yaml`` for the bare name of a shipped file.

    Raises :class:`ConfigError` if neither exists, with a "did you mean" among the shipped
    names and the files beside ``path``, and the list of shipped names.
    """
    p = Path(path)
    if p.exists():
        return p
    shipped = directory / f"{p.name}.yaml"
    if p.suffix not in (".yaml", ".yml") and shipped.exists():
        return shipped
    names = shipped_names(directory)
    bare = p.suffix not in (".yaml", ".yml") and str(p.parent) == "."
    beside = sorted(p.parent.glob("*.y*ml")) if p.parent.is_dir() else []
    hint = did_you_mean(str(p), [str(q) for q in beside]) or did_you_mean(p.stem, names)
    what = f"file not found, nor a shipped {kind} of that name" if bare else "file not found"
    raise ConfigError(
        [Problem(str(p), None, "", f"{what}{hint}; shipped {kind}s: {', '.join(names)}")]
    )


def _owner(model: type[BaseModel], keys: Iterable[Any]) -> type[BaseModel]:
    """The pydantic model whose fields hold the last of ``keys`` (nested models followed)."""
    for key in keys:
        field = model.model_fields.get(str(key))
        nested = field.annotation if field is not None else None
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            break
        model = nested
    return model


def validation_problems(
    exc: ValidationError,
    file: str,
    lines: LineMap,
    model: type[BaseModel],
    prefix: tuple[str, ...] = (),
) -> list[Problem]:
    """One :class:`Problem` per pydantic error; an unknown key lists the valid keys of the
    model that owns it (read from the model, never retyped)."""
    problems = []
    for err in exc.errors():
        loc = tuple(str(x) for x in (*prefix, *err["loc"]))
        if err["type"] == "extra_forbidden":
            owner = _owner(model, err["loc"][:-1])
            msg = unknown_key_message(loc[-1], owner.model_fields)
        elif err["type"] == "missing":
            msg = "required field is missing"
        else:
            msg = err["msg"]
        problems.append(Problem(file, line_of(lines, loc), ".".join(loc), msg))
    return problems
