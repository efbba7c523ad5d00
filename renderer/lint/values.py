"""Reading Helm values by dotted path, the way charts and ``condition:`` do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING = object()


def get(values: Any, path: str | tuple[str, ...]) -> Any:
    """The value at ``path`` (``a.b.c``), or :data:`MISSING`."""
    parts = path.split(".") if isinstance(path, str) else path
    current = values
    for part in parts:
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def with_defaults(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` over chart defaults given as ``{"a.b": value}``, as Helm coalesces them."""
    merged: dict[str, Any] = {}
    for dotted, value in defaults.items():
        set_path(merged, dotted.split("."), value)
    return coalesce(merged, values)


def coalesce(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if value is None:
            # Helm deletes a key set to null.
            result.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = coalesce(result[key], value)
        else:
            result[key] = value
    return result


def set_path(target: dict[str, Any], parts: list[str], value: Any) -> None:
    current = target
    for part in parts[:-1]:
        child = current.get(part)
        if not isinstance(child, dict):
            child = {}
            current[part] = child
        current = child
    current[parts[-1]] = value


def split_target_path(path: str) -> list[str] | None:
    """Flux ``targetPath`` (``a.b``, ``a\\.b.c``); list indices are not supported: None."""
    parts: list[str] = []
    current = ""
    escaped = False
    for char in path:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        elif char in "[]":
            return None
        else:
            current += char
    parts.append(current)
    return parts if all(parts) else None
