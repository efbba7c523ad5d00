"""stateful-relocation: a release with persistent volumes changes namespace or name.

A release keeps data when its values switch persistence on (charts default it on),
when it is a data service (its class or chart: database, cache, broker, search,
backup), or when it runs a bundled database or cache subchart. Helm does not move
volumes: a release whose namespace, name, ``targetNamespace``, ``storageNamespace``
or ``releaseName`` changes is installed afresh, with new, empty
PersistentVolumeClaims, while the old ones stay behind (or are pruned).
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

from ...catalog import chart_facts
from ...lint.finding import ERROR, Finding, ObjectRef
from ..compare import MODIFIED, MOVED, ObjectChange
from ..rule import DiffContext, DiffRule, finding
from ..sides import DiffObject
from ._values import chart_of, is_release, release_values
from .subchart_enabled import COUPLING_RULE

# The fields that name where Helm installs a release, and how a message names them.
_IDENTITY_FIELDS = {
    "spec.targetNamespace": "namespace",
    "spec.storageNamespace": "storage namespace",
    "spec.releaseName": "release name",
    "spec.destination.namespace": "namespace",  # Argo CD Application
    "spec.source.helm.releaseName": "release name",
}
MIGRATION_ANNOTATION = "railiance.io/migration"


_DATA_CLASSES = frozenset({"database", "cache", "broker", "search", "backup"})
SERVICE_CLASS_LABEL = "railiance.io/service-class"


def _persistent(values: Any) -> bool:
    """Any ``persistence`` block that is on (charts default it on), outside a switched-off subchart."""
    if isinstance(values, dict):
        for key, value in values.items():
            if not isinstance(value, dict) or value.get("enabled", True) is False:
                continue
            if key == "persistence" or _persistent(value):
                return True
    return False


def _stateful(context: DiffContext, obj: DiffObject) -> bool:
    """The release keeps data: persistence on in its values, a data service by class or
    chart, or (a lint finding of the base says so) a bundled database or cache subchart."""
    if _persistent(release_values(obj)):
        return True
    labels = (obj.data.get("metadata") or {}).get("labels") or {}
    if isinstance(labels, dict) and labels.get(SERVICE_CLASS_LABEL) in _DATA_CLASSES:
        return True
    facts = chart_facts(chart_of(obj)[0])
    if facts is not None and facts.service_class in _DATA_CLASSES:
        return True
    here = ObjectRef(obj.kind, obj.namespace or None, obj.name)
    return any(f.rule == COUPLING_RULE and f.object == here for f in context.lint_base)


def _identity_changed(change: ObjectChange) -> list[str]:
    """What moved, worded the same for every target (a Flux HelmRelease that changes
    namespace and the Argo CD Application whose destination does give one message)."""
    old, new = change.old, change.new
    assert old is not None and new is not None
    if change.change == MOVED:
        return [f"namespace {old.namespace or '(none)'} -> {new.namespace or '(none)'}"]
    moved = []
    for field in change.fields:
        label = _IDENTITY_FIELDS.get(field.path)
        if label is not None:
            default = old.namespace if label == "namespace" else old.name
            moved.append(f"{label} {field.old or default or '(none)'} -> {field.new or default or '(none)'}")
    return moved


def _key_path(change: ObjectChange) -> tuple[str, ...]:
    """Where the move is written: the namespace, or the first identity field that changed."""
    if change.change != MOVED:
        for field in change.fields:
            if field.path in _IDENTITY_FIELDS:
                return tuple(field.path.split("."))
    return ("metadata", "namespace")


def _recorded(context: DiffContext, obj: DiffObject) -> bool:
    """The head records the move as a planned migration: the annotation, or the spec it was rendered from."""
    annotations = (obj.data.get("metadata") or {}).get("annotations") or {}
    if isinstance(annotations, dict) and str(annotations.get(MIGRATION_ANNOTATION, "")).strip():
        return True
    loaded = context.head.loaded
    if obj.origin is None or loaded is None:
        return False
    return any(release.origin == obj.origin and release.migration.strip() for release in loaded.stack.releases)


def check(context: DiffContext) -> Iterator[Finding]:
    for change in context.changes(MOVED, MODIFIED):
        if not is_release(change.new) or change.old is None or change.new is None:
            continue
        moved = _identity_changed(change)
        if not moved or not _stateful(context, change.old):
            continue
        if _recorded(context, change.new):
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
