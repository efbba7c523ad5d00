"""volume-class-change: a volume's storage class or access modes change.

A PersistentVolumeClaim's ``storageClassName`` and ``accessModes`` cannot change,
and neither can a StatefulSet's ``volumeClaimTemplates``: the upgrade fails, or
(the StatefulSet deleted and created again) new claims are made on the new class
while the data stays on the old volumes. Checked in release values (any
``storageClass``/``storageClassName``/``accessModes``/``accessMode`` key, chart
defaults included, outside a switched-off block: ``persistence.storageClass``,
``primary.persistence.accessModes``, ``global.storageClass``), in PersistentVolumeClaims
and in StatefulSet volume claim templates. An error, unless the head records it:
the spec's ``migration: {change: storage-class, reason: ...}`` (or ``access-modes``);
without specs the annotation ``railiance.io/migration-change`` on the head object.

Fails: ``persistence.storageClass: longhorn`` becomes ``local-path``.

Passes: the same, with ``migration: {change: storage-class, reason: "volume copied with
pv-migrate to local-path; ticket OPS-5"}`` in the head spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...lint.finding import ERROR, Finding
from ...lint.rule import PER_OBJECT
from ..compare import MODIFIED, MOVED, RENAMED, ObjectChange
from ..rule import DiffContext, DiffRule, Event, finding
from ._migrations import stateful_subject
from ._values import is_release, release_values

STORAGE_CLASS, ACCESS_MODES = "storage-class", "access-modes"
_VALUE_KEYS = {
    "storageClass": STORAGE_CLASS,
    "storageClassName": STORAGE_CLASS,
    "accessModes": ACCESS_MODES,
    "accessMode": ACCESS_MODES,
}
_OBJECT_FIELD = re.compile(r"^spec\.(volumeClaimTemplates(\[[^\]]*\])\.spec\.)?(storageClassName|accessModes)")
_MISSING = object()


def _settings(values: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Path -> value of every storage class and access mode key, skipping switched-off blocks."""
    found: dict[tuple[str, ...], Any] = {}
    if isinstance(values, dict):
        if values.get("enabled", True) is False:
            return found
        for key, value in values.items():
            path = (*prefix, str(key))
            if key in _VALUE_KEYS and not isinstance(value, dict):
                found[path] = value
            else:
                found.update(_settings(value, path))
    return found


def _shown(value: Any) -> str:
    return "(absent)" if value is _MISSING else repr(value) if value in ("", None, []) else str(value)


def _values_events(context: DiffContext, change: ObjectChange) -> Iterator[tuple[Event, Finding]]:
    assert change.old is not None and change.new is not None
    old, new = _settings(release_values(change.old)), _settings(release_values(change.new))
    for path in sorted(old):
        before, after = old[path], new.get(path, _MISSING)
        if before in ("", None, []) or after == before:
            continue  # the cluster default before: naming a class now may well be the same one
        kind = _VALUE_KEYS[path[-1]]
        yield (
            Event(kind, stateful_subject(change.new), change.new),
            _finding(context, change, kind, f"{'.'.join(path)} {_shown(before)} -> {_shown(after)}", path),
        )


def _object_events(context: DiffContext, change: ObjectChange) -> Iterator[tuple[Event, Finding]]:
    assert change.new is not None
    seen: set[tuple[str, str]] = set()
    for field in change.fields:
        match = _OBJECT_FIELD.match(field.path)
        if match is None:
            continue
        kind = STORAGE_CLASS if match.group(3) == "storageClassName" else ACCESS_MODES
        claim = match.group(2) or ""
        if (kind, claim) in seen:
            continue
        seen.add((kind, claim))
        where = f"spec.volumeClaimTemplates{claim}.spec.{match.group(3)}" if claim else f"spec.{match.group(3)}"
        yield (
            Event(kind, f"{change.new.namespace}/{change.new.name}", change.new),
            _finding(context, change, kind, f"{where} changes", ("spec",)),
        )


def _finding(context: DiffContext, change: ObjectChange, kind: str, what: str, path: tuple[str, ...]) -> Finding:
    obj = change.current
    key_path = ("spec", "values", *path) if is_release(obj) else path
    # A release's Flux and Argo CD objects say the same, so the engine gives one finding.
    subject = f"release '{obj.name}'" if is_release(obj) else f"{obj.kind} '{obj.name}'"
    return finding(
        RULE,
        change,
        f"{subject}: {what}: a PersistentVolumeClaim's {kind.replace('-', ' ')} cannot change;"
        " the data does not move to a new volume",
        "copy the data to a new volume of the new class (backup/restore, pv-migrate) first, then record it in"
        f" the head spec: migration: {{change: {kind}, reason: ...}}",
        context=context,
        key_path=key_path,
    )


def events(context: DiffContext) -> Iterator[tuple[Event, Finding]]:
    for change in context.changes(MODIFIED, MOVED, RENAMED):
        if change.old is None or change.new is None:
            continue
        if is_release(change.new):
            yield from _values_events(context, change)
        elif change.new.kind in ("PersistentVolumeClaim", "StatefulSet"):
            yield from _object_events(context, change)


def check(context: DiffContext) -> Iterator[Finding]:
    for _, found in events(context):
        yield found


RULE = DiffRule(
    id="volume-class-change",
    scope=PER_OBJECT,  # one object's two sides
    severity=ERROR,
    summary="a volume's storage class or access modes change: claims cannot, the data does not move",
    check=check,
    doc=__doc__ or "",
    events=events,
)
