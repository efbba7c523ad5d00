"""stateful-relocation: a release with persistent volumes changes namespace or name.

Helm does not move volumes: a release whose namespace, name, ``targetNamespace``,
``storageNamespace`` or ``releaseName`` changes is installed afresh, with new,
empty PersistentVolumeClaims, while the old ones stay behind (or are pruned).
An error, unless the head revision records the move as a planned migration: the
spec's ``migration: {reason: ...}`` (rendered as the annotation
``railiance.io/migration``), naming the backup and restore steps.

Fails: Gitea with its bundled postgresql-ha goes from ``flux-system`` to ``apps``.

Passes: the same move, with ``migration: {reason: "pg_dump from the old pgpool, restore into
platform postgresql-ha; backup job 2024-06-01"}`` in the head spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...lint.finding import ERROR, Finding
from ..compare import MODIFIED, MOVED, ObjectChange
from ..rule import DiffContext, DiffRule, finding
from ._values import is_release, release_values

_IDENTITY_FIELDS = ("spec.targetNamespace", "spec.storageNamespace", "spec.releaseName", "spec.destination.namespace")
MIGRATION_ANNOTATION = "railiance.io/migration"


def _persistent(values: Any) -> bool:
    """Any ``persistence`` block that is on (charts default it on), or a volume size."""
    if isinstance(values, dict):
        for key, value in values.items():
            if key in ("persistence", "primary", "replica") and isinstance(value, dict):
                enabled = value.get("enabled", True)
                if key == "persistence" and enabled is not False:
                    return True
            if _persistent(value):
                return True
    return False


def _identity_changed(change: ObjectChange) -> list[str]:
    if change.change == MOVED:
        old, new = change.old, change.new
        assert old is not None and new is not None
        return [f"namespace {old.namespace or '(none)'} -> {new.namespace or '(none)'}"]
    return [f.path for f in change.fields if f.path in _IDENTITY_FIELDS]


def _key_path(change: ObjectChange) -> tuple[str, ...]:
    """Where the move is written: the namespace, or the first identity field that changed."""
    if change.change != MOVED:
        for field in change.fields:
            if field.path in _IDENTITY_FIELDS:
                return tuple(field.path.split("."))
    return ("metadata", "namespace")


def check(context: DiffContext) -> Iterator[Finding]:
    for change in context.changes(MOVED, MODIFIED):
        if not is_release(change.new) or change.old is None or change.new is None:
            continue
        moved = _identity_changed(change)
        if not moved or not _persistent(release_values(change.old)):
            continue
        annotations = (change.new.data.get("metadata") or {}).get("annotations") or {}
        if isinstance(annotations, dict) and str(annotations.get(MIGRATION_ANNOTATION, "")).strip():
            continue
        yield finding(
            RULE,
            change,
            f"release '{change.new.name}' has persistent volumes and moves ({', '.join(moved)}):"
            " Helm installs it afresh with empty volumes; the old data stays behind",
            "migrate the data first (backup, pg_dump/pg_restore), then record it: migration: {reason: ...} in the spec",
            context=context,
            key_path=_key_path(change),
        )


RULE = DiffRule(
    id="stateful-relocation",
    severity=ERROR,
    summary="a release with persistent volumes changes namespace or release name",
    check=check,
    doc=__doc__ or "",
)
