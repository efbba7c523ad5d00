"""Is a chart dependency enabled? Helm 3's answer, step for step.

``pkg/chartutil/dependencies.go``: every dependency starts enabled; then its
``tags`` are looked up in the values' top-level ``tags:`` table (any true tag
enables it; no true tag and at least one false tag disables it; a non-boolean
tag is ignored); then its ``condition`` overrides the tags: a comma-separated
list of value paths, the first that resolves to a boolean wins, and a path that
resolves to anything else is skipped (Helm prints a warning and moves on).
The paths are split on commas only (Helm trims the whole list, not each path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..values import MISSING


@dataclass(frozen=True)
class Decision:
    enabled: bool
    # What decided: "condition" (key is the condition path), "tags" (key is
    # ("tags", tag)), or "default" (nothing resolved: the dependency stays on).
    by: str
    key: tuple[str, ...] = ()
    # Condition paths that resolved to something other than a boolean: Helm skips them.
    skipped: tuple[str, ...] = ()
    # A condition path holding a Flux ``${VAR}`` substitution before any boolean:
    # what Helm will see depends on the variable.
    substituted: str | None = None


def path_value(values: Mapping[str, Any], path: str) -> Any:
    """Helm's ``Values.PathValue``: the value at ``a.b.c``, or MISSING; a table is not a value."""
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return MISSING if isinstance(current, Mapping) else current


def condition_paths(condition: str | None) -> list[str]:
    return [path for path in (condition or "").strip().split(",") if path]


def dependency_enabled(condition: str | None, tags: Sequence[str], values: Mapping[str, Any]) -> Decision:
    """``values``: the chart's default values coalesced with the release's values."""
    enabled, by = True, "default"
    key: tuple[str, ...] = ()
    table = values.get("tags")
    if isinstance(table, Mapping):
        first_true = first_false = None
        for tag in tags:
            value = table.get(tag, MISSING)
            if value is True and first_true is None:
                first_true = tag
            elif value is False and first_false is None:
                first_false = tag
        if first_true is not None:
            enabled, by, key = True, "tags", ("tags", first_true)
        elif first_false is not None:
            enabled, by, key = False, "tags", ("tags", first_false)
    skipped: list[str] = []
    substituted = None
    for path in condition_paths(condition):
        value = path_value(values, path)
        if isinstance(value, bool):
            enabled, by, key = value, "condition", tuple(path.split("."))
            break
        if value is not MISSING:
            skipped.append(path)
            if substituted is None and isinstance(value, str) and "${" in value:
                substituted = path
    return Decision(enabled=enabled, by=by, key=key, skipped=tuple(skipped), substituted=substituted)
