"""Which objects a patch ``target`` selects, as kustomize decides.

``group``, ``version``, ``kind``, ``name`` and ``namespace`` are regular expressions
matched against the whole value (kustomize anchors them); ``name`` and ``namespace``
match the object's original or current value, an unset namespace reading as
``default``. ``labelSelector`` and ``annotationSelector`` use Kubernetes' selector
syntax (``a=b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .resource import Resource

TARGET_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")


class SelectorError(ValueError):
    """A target or selector rail cannot read (kustomize refuses it too)."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # "!=", "notin"


_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$")


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """Kubernetes' label selector syntax."""
    requirements = []
    for part in _split(text):
        if not part.strip():
            continue
        found = _SET.match(part)
        if found:
            values = tuple(value.strip() for value in found.group(3).split(","))
            requirements.append(Requirement(found.group(1), found.group(2), values))
            continue
        found = _EQ.match(part)
        if found:
            operator = "!=" if found.group(2) == "!=" else "="
            requirements.append(Requirement(found.group(1), operator, (found.group(3),)))
            continue
        stripped = part.strip()
        if stripped.startswith("!") and stripped[1:].strip() and " " not in stripped[1:].strip():
            requirements.append(Requirement(stripped[1:].strip(), "!"))
        elif stripped and " " not in stripped:
            requirements.append(Requirement(stripped, "exists"))
        else:
            raise SelectorError(f"cannot read the selector part {part.strip()!r}")
    return tuple(requirements)


def _split(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


@dataclass(frozen=True)
class Target:
    """A parsed ``target``."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    labels: tuple[Requirement, ...]
    annotations: tuple[Requirement, ...]

    def selects(self, resource: Resource) -> bool:
        current, original = resource.current_id, resource.original_id
        values = {
            "group": (current.gvk.group,),
            "version": (current.gvk.version,),
            "kind": (current.gvk.kind,),
            "name": (original.name, current.name),
            "namespace": (original.effective_namespace, current.effective_namespace),
        }
        for field, pattern in self.patterns:
            if not any(pattern.fullmatch(value) for value in values[field]):
                return False
        labels, annotations = resource.labels(), resource.annotations()
        return all(r.matches(labels) for r in self.labels) and all(r.matches(annotations) for r in self.annotations)


def parse_target(raw: Any) -> Target:
    if not isinstance(raw, dict):
        raise SelectorError("a target must be a mapping")
    unknown = sorted(key for key in raw if key not in TARGET_FIELDS)
    if unknown:
        raise SelectorError(f"unknown target field '{unknown[0]}'")
    patterns = []
    for field in ("group", "version", "kind", "name", "namespace"):
        value = raw.get(field)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise SelectorError(f"target {field} must be a string")
        try:
            patterns.append((field, re.compile(value)))
        except re.error:
            raise SelectorError(f"target {field} is not a valid regular expression") from None
    selectors = []
    for field in ("labelSelector", "annotationSelector"):
        value = raw.get(field)
        if value is not None and not isinstance(value, str):
            raise SelectorError(f"target {field} must be a string")
        selectors.append(parse_selector(value) if value else ())
    return Target(tuple(patterns), selectors[0], selectors[1])
