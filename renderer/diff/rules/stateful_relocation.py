"""stateful-relocation: a release with persistent volumes changes namespace or name.

A release keeps data when its values switch persistence on (charts default it on),
when it is a data service (its class or chart: database, cache, broker, search,
backup), or when it runs a bundled database or cache subchart. Helm does not move
volumes: a release whose namespace, name, ``targetNamespace``, ``storageNamespace``
or ``releaseName`` changes, or that is renamed (a removed and an added release with
the same chart, layer and values: one ``renamed`` change), is installed afresh, with
new, empty PersistentVolumeClaims, while the old ones stay behind (or are pruned).
An error, unless the head records exactly this move as a planned migration: the
spec's ``migration: {from: <old namespace>/<old name>, reason: ...}`` naming the
backup and restore steps (without specs: the annotations ``railiance.io/migration``
and ``railiance.io/migration-from`` on the head object). A record that names another
move (one left from an earlier migration) accepts nothing: ``stale-migration``.

A release moved to another repository (a ``moved:`` record in rail.yaml that says where
that stack is) is the same event in another form: the old repository's Flux Kustomization
prunes what left it (deleting a HelmRelease uninstalls the Helm release and its volumes'
claims), unless the new repository's Kustomization has taken the object over first or the
old side says ``kustomize.toolkit.fluxcd.io/prune: disabled`` (Argo CD: the sync option
``Prune=false``). An error at the ``moved:`` record, unless rail.yaml records it:
``migrations: [{change: moved-out, release: <namespace>/<name>, reason: ...}]``.

Fails: Gitea with its bundled postgresql-ha goes from ``flux-system`` to ``apps``;
``postgresql-ha`` is renamed ``pg-ha``.

Passes: the same move, with ``migration: {from: flux-system/gitea, reason: "pg_dump from the
old pgpool, restore into platform postgresql-ha; backup job 2024-06-01"}`` in the head spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...catalog import chart_facts
from ...lint.finding import ERROR, Finding, Location, ObjectRef
from ...lint.rule import GRAPH_WIDE
from ..compare import MODIFIED, MOVED, RENAMED, ObjectChange
from ..rule import DiffContext, DiffRule, Event, finding
from ..sides import DiffObject
from ._migrations import stateful_subject
from ._values import chart_of, is_release, persistent, release_values
from .subchart_enabled import COUPLING_RULE

# The fields that name where Helm installs a release, and how a message names them.
_IDENTITY_FIELDS = {
    "spec.targetNamespace": "namespace",
    "spec.storageNamespace": "storage namespace",
    "spec.releaseName": "release name",
    "spec.destination.namespace": "namespace",  # Argo CD Application
    "spec.source.helm.releaseName": "release name",
}


HANDOVER = "moved-out"  # the data event of a stateful release moved to another stack
_DATA_CLASSES = frozenset({"database", "cache", "broker", "search", "backup"})
SERVICE_CLASS_LABEL = "railiance.io/service-class"


def stateful(context: DiffContext, obj: DiffObject) -> bool:
    """The release keeps data: persistence on in its values, a data service by class or
    chart, or (a lint finding of the base says so) a bundled database or cache subchart."""
    if persistent(release_values(obj)):
        return True
    labels = (obj.data.get("metadata") or {}).get("labels") or {}
    if isinstance(labels, dict) and labels.get(SERVICE_CLASS_LABEL) in _DATA_CLASSES:
        return True
    facts = chart_facts(chart_of(obj)[0])
    if facts is not None and facts.service_class in _DATA_CLASSES:
        return True
    return ObjectRef(obj.kind, obj.namespace or None, obj.name) in _coupled(context.lint_base)


_coupled_memo: list[tuple[tuple[Finding, ...], frozenset[ObjectRef | None]]] = []


def _coupled(findings: tuple[Finding, ...]) -> frozenset[ObjectRef | None]:
    """The objects with a coupling finding: asked once per changed release, built once per diff."""
    if _coupled_memo and _coupled_memo[0][0] is findings:
        return _coupled_memo[0][1]
    objects = frozenset(f.object for f in findings if f.rule == COUPLING_RULE)
    _coupled_memo[:] = [(findings, objects)]
    return objects


def _identity_changed(change: ObjectChange) -> list[str]:
    """What moved, worded the same for every target (a Flux HelmRelease that changes
    namespace and the Argo CD Application whose destination does give one message)."""
    old, new = change.old, change.new
    assert old is not None and new is not None
    if change.change == MOVED:
        return [f"namespace {old.namespace or '(none)'} -> {new.namespace or '(none)'}"]
    if change.change == RENAMED:
        renamed = [f"name {old.name} -> {new.name}"]
        if old.namespace != new.namespace:
            renamed.append(f"namespace {old.namespace or '(none)'} -> {new.namespace or '(none)'}")
        return renamed
    moved = []
    for field in change.fields:
        label = _IDENTITY_FIELDS.get(field.path)
        if label is not None:
            default = old.namespace if label == "namespace" else old.name
            moved.append(f"{label} {field.old or default or '(none)'} -> {field.new or default or '(none)'}")
    return moved


def _key_path(change: ObjectChange) -> tuple[str, ...]:
    """Where the move is written: the namespace, or the first identity field that changed."""
    if change.change == RENAMED:
        return ("spec", "releaseName")  # the spec's name (or releaseName): one finding for Flux and Argo CD
    if change.change != MOVED:
        for field in change.fields:
            if field.path in _IDENTITY_FIELDS:
                return tuple(field.path.split("."))
    return ("metadata", "namespace")


# Annotations on the old side that make its GitOps tool leave the object alone when it is
# removed from the repository (Flux's garbage collection; an Argo CD parent's prune).
_ORPHANED = (
    ("kustomize.toolkit.fluxcd.io/prune", lambda value: value == "disabled"),
    ("argocd.argoproj.io/sync-options", lambda value: "Prune=false" in value.replace(" ", "").split(",")),
)


def _orphaned(obj: DiffObject) -> bool:
    annotations = (obj.data.get("metadata") or {}).get("annotations") or {}
    if not isinstance(annotations, dict):
        return False
    return any(test(str(annotations.get(name, ""))) for name, test in _ORPHANED)


def _handover(context: DiffContext, change: ObjectChange) -> tuple[Event, Finding]:
    """A stateful release moved to another repository: the old one's Flux Kustomization
    prunes it (deleting a HelmRelease uninstalls the Helm release) unless the new one has
    taken it over first."""
    old, new = change.old, change.new
    assert old is not None and new is not None and new.stack is not None
    moved = [f"to {new.stack}"]
    if old.namespace != new.namespace:
        moved.append(f"namespace {old.namespace or '(none)'} -> {new.namespace or '(none)'}")
    subject = stateful_subject(old)
    found = finding(
        RULE,
        change,
        f"release '{old.name}' has persistent volumes and moves out of this repository ({', '.join(moved)}):"
        " when this change reconciles first, garbage collection here deletes it and Helm uninstalls it",
        "land it in the other repository and let it reconcile there first (its Kustomization takes the object"
        " over), or set kustomize.toolkit.fluxcd.io/prune: disabled on it here before removing it; then record"
        f" it in rail.yaml: migrations: [{{change: {HANDOVER}, release: {subject}, reason: ...}}]",
    )
    if new.moved_at is not None:  # the record that moved it: the line this change wrote
        found = replace(found, location=new.moved_at, related=(Location(new.path),))
    return Event(HANDOVER, subject, None), found


def events(context: DiffContext) -> Iterator[tuple[Event, Finding]]:
    for change in context.changes(MOVED, MODIFIED, RENAMED):
        if not is_release(change.new) or change.old is None or change.new is None:
            continue
        if change.new.stack is not None:  # moved to another stack (renderer.diff.moves)
            if stateful(context, change.old) and not _orphaned(change.old):
                yield _handover(context, change)
            continue
        moved = _identity_changed(change)
        if not moved or not stateful(context, change.old):
            continue
        old = change.old
        sources = tuple(sorted({stateful_subject(old), f"{old.namespace}/{old.name}"}))
        event = Event(RENAMED if change.change == RENAMED else MOVED, stateful_subject(change.new), change.new, sources)
        yield (
            event,
            finding(
                RULE,
                change,
                f"release '{change.new.name}' has persistent volumes and moves ({', '.join(moved)}):"
                " Helm installs it afresh with empty volumes; the old data stays behind",
                "migrate the data first (backup, pg_dump/pg_restore), then record exactly this move in the"
                f" head spec: migration: {{from: {stateful_subject(old)}, reason: ...}}",
                context=context,
                key_path=_key_path(change),
            ),
        )


def check(context: DiffContext) -> Iterator[Finding]:
    for _, found in events(context):
        yield found


RULE = DiffRule(
    id="stateful-relocation",
    scope=GRAPH_WIDE,  # moves between objects, and lint findings of the base
    severity=ERROR,
    summary="a release with persistent volumes changes namespace or release name",
    check=check,
    doc=__doc__ or "",
    events=events,
)
