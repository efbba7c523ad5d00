"""A tiny deterministic YAML writer for the benchmark generator (stdlib only).

Block style, two-space indentation, sequences indented under their key, keys in
insertion order. A string is written plain only when YAML 1.1 and 1.2 both read
it back as that same string; anything else is double-quoted (JSON escaping is
valid YAML).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
# Words YAML 1.1 reads as booleans or null: never plain.
_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text)


def _key(key: Any) -> str:
    text = str(key)
    if _KEY.match(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text)


def _empty(value: Any) -> str | None:
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    return None


def _mapping(data: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        empty = _empty(value)
        if empty is not None:
            lines.append(f"{pad}{_key(key)}: {empty}")
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{_key(key)}:")
            lines.extend(_mapping(value, indent + 2))
        elif isinstance(value, list):
            lines.append(f"{pad}{_key(key)}:")
            lines.extend(_sequence(value, indent + 2))
        else:
            lines.append(f"{pad}{_key(key)}: {scalar(value)}")
    return lines


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        empty = _empty(item)
        if empty is not None:
            lines.append(f"{pad}- {empty}")
        elif isinstance(item, Mapping):
            nested = _mapping(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        elif isinstance(item, list):
            nested = _sequence(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        else:
            lines.append(f"{pad}- {scalar(item)}")
    return lines


def dump(data: Mapping[str, Any], comments: Sequence[str] = ()) -> str:
    """``data`` as a YAML document, after ``comments`` (one ``# ...`` line each)."""
    lines = [f"# {comment}" for comment in comments]
    lines.extend(_mapping(data, 0))
    return "\n".join(lines) + "\n"


def line_count(data: Mapping[str, Any]) -> int:
    return len(_mapping(data, 0))
