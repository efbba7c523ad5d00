"""persistence-shrink: a volume size goes down, or persistence is switched off.

Kubernetes cannot shrink a PersistentVolumeClaim, and a StatefulSet's volume
claim templates cannot change at all: the upgrade fails, or (persistence off)
the data moves to an ``emptyDir`` and is lost on the next restart.

Fails: ``persistence.size: 10Gi`` becomes ``8Gi``; ``persistence.enabled: false``.

Passes: ``persistence.size: 10Gi`` becomes ``20Gi`` (on a storage class that expands).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...lint.finding import ERROR, Finding
from ...lint.rule import PER_OBJECT
from ..compare import MODIFIED, MOVED
from ..rule import DiffContext, DiffRule, finding
from ._values import is_release, release_values

_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def quantity(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value)) if isinstance(value, str) else None
    return float(match.group(1)) * _UNITS[match.group(2) or ""] if match else None


def _walk(values: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, value
            yield from _walk(value, path)


def _sizes(values: Any) -> dict[str, Any]:
    return {
        path: value
        for path, value in _walk(values)
        if path.split(".")[-1] in ("size", "storage") and not isinstance(value, dict)
    }


def _switches(values: Any) -> dict[str, Any]:
    return {path: value for path, value in _walk(values) if path.endswith("persistence.enabled")}


def check(context: DiffContext) -> Iterator[Finding]:
    for change in context.changes(MODIFIED, MOVED):
        if not is_release(change.new) or change.old is None or change.new is None:
            continue
        old, new = release_values(change.old), release_values(change.new)
        old_sizes, new_sizes = _sizes(old), _sizes(new)
        for path in sorted(set(old_sizes) & set(new_sizes)):
            before, after = quantity(old_sizes[path]), quantity(new_sizes[path])
            if before is not None and after is not None and after < before:
                yield finding(
                    RULE,
                    change,
                    f"volume size {path} shrinks from {old_sizes[path]} to {new_sizes[path]}:"
                    " a PersistentVolumeClaim cannot shrink",
                    "keep the size; to reclaim space, migrate to a new, smaller volume",
                    context=context,
                    key_path=("spec", "values", *path.split(".")),
                )
        old_switches, new_switches = _switches(old), _switches(new)
        for path in sorted(set(old_switches) | set(new_switches)):
            if old_switches.get(path, True) is not False and new_switches.get(path, True) is False:
                yield finding(
                    RULE,
                    change,
                    f"{path} switches persistence off: the data would live in an emptyDir and be lost",
                    "keep persistence on",
                    context=context,
                    key_path=("spec", "values", *path.split(".")),
                )


RULE = DiffRule(
    id="persistence-shrink",
    scope=PER_OBJECT,  # one release's two sides
    severity=ERROR,
    summary="a volume size goes down, or persistence is switched off",
    check=check,
    doc=__doc__ or "",
)
