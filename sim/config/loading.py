"""Reading YAML configs with line numbers, and reporting mistakes in them.

Every mistake becomes one :class:`Problem` (file, line, field, message); a loader collects
all of them and raises one :class:`ConfigError`, which the CLI prints one line per problem
with exit code 2 and no traceback.
"""

from __future__ import annotations

import difflib
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


class ConfigError(Exception):
    """One or more problems with user input; ``str()`` gives one line per problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' for the closest choice, or '' if none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key_message(name: str, valid: Iterable[str]) -> str:
    valid = sorted(valid)
    hint = did_you_mean(name, valid)
    listing = (
        ", ".join(valid) if len(valid) <= 12 else f"{len(valid)} names; see 'prisonsim params'"
    )
    return f"unknown key{hint}; valid keys: {listing}"


LineMap = dict[tuple[str, ...], int]


def _collect_lines(node: yaml.Node, path: tuple[str, ...], lines: LineMap) -> None:
    """Record the 1-based line of every key path below ``node``."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            lines[(*path, key)] = key_node.start_mark.line + 1
            _collect_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value_node in enumerate(node.value):
            _collect_lines(value_node, (*path, str(i)), lines)


def load_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Parse ``path`` and return (data, line map from key path to 1-based line).

    Values come from ``yaml.safe_load`` (an empty value is None); the line map from the
    composed node tree. Raises :class:`ConfigError` if the file is missing or is not
    valid YAML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(str(path), line, "", f"not valid YAML: {msg}")]) from None
    lines: LineMap = {}
    if node is None:
        return {}, lines
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


def resolve_shipped(path: str | Path, directory: Path) -> Path:
    """A path as given, or ``directory/NAME.yaml`` for the bare name of a shipped file."""
    p = Path(path)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        return p
    shipped = directory / f"{p.name}.yaml"
    return shipped if shipped.exists() else p


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
