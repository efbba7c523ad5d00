"""dependency-removed: a release is removed while others still depend on it.

A HelmRelease (or Argo CD Application) that the head revision removes, while a
release of the head still names it in ``dependsOn`` (or refers to it): Flux then
blocks the dependent release forever, and the application loses its database.
An Argo CD Application's dependencies are its ``railiance.io/depends-on``
annotation: ``namespace/name`` entries naming the destination namespace and the
Application (the namespace defaults to the dependent's own destination).

Fails: ``releases/s3/postgresql-ha.yaml`` is deleted; ``gitea`` still depends on it.

Passes: gitea is pointed at the new database in the same change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...lint.finding import ERROR, Finding, Location
from ...lint.rule import GRAPH_WIDE
from ..compare import REMOVED
from ..rule import DiffContext, DiffRule, finding
from ..sides import DiffObject
from ._values import is_release

DEPENDS_ON = "railiance.io/depends-on"  # an Argo CD Application's dependencies, as rail renders them


def _identity(obj: DiffObject) -> tuple[str, str]:
    """What a dependency names: a HelmRelease's namespace and name; an Argo CD
    Application's destination namespace and name."""
    if obj.kind == "Application":
        spec = obj.data.get("spec")
        destination = spec.get("destination") if isinstance(spec, dict) else None
        namespace = destination.get("namespace") if isinstance(destination, dict) else None
        return (namespace if isinstance(namespace, str) else "", obj.name)
    return (obj.namespace, obj.name)


def _dependents(context: DiffContext) -> dict[tuple[str, str, str], list[str]]:
    """(kind, namespace, name) -> names of head releases that depend on it."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for obj in context.head.objects.values():
        if not is_release(obj):
            continue
        if obj.kind == "Application":
            annotations = (obj.data.get("metadata") or {}).get("annotations") or {}
            text = annotations.get(DEPENDS_ON) if isinstance(annotations, dict) else None
            own = _identity(obj)[0]
            for entry in text.split(",") if isinstance(text, str) else []:
                namespace, _, name = entry.strip().rpartition("/")
                if name:
                    found.setdefault(("Application", namespace or own, name), []).append(obj.name)
            continue
        spec = obj.data.get("spec") or {}
        for item in spec.get("dependsOn") or [] if isinstance(spec, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                key = (obj.kind, str(item.get("namespace") or obj.namespace), item["name"])
                found.setdefault(key, []).append(obj.name)
    return found


def _dangling(context: DiffContext, obj: DiffObject) -> list[tuple[str, Location]]:
    """Head releases whose specs still name the release ``obj`` rendered from a base spec,
    and where: their ``dependsOn`` entries and ``${ref:...}`` values (loading the head kept
    them as dangling; rendering left them out)."""
    loaded = context.head.loaded
    if obj.origin is None or loaded is None:
        return []
    return [
        (item.release, Location(item.problem.path, item.problem.line, item.problem.column))
        for item in loaded.dangling
        if item.target == obj.name
    ]


def check(context: DiffContext) -> Iterator[Finding]:
    dependents = _dependents(context)
    for change in context.changes(REMOVED):
        if not is_release(change.old) or change.old is None:
            continue
        users = set(dependents.get((change.old.kind, *_identity(change.old)), []))
        dangling = _dangling(context, change.old)
        users.update(user for user, _ in dangling)
        places = [place for _, place in dangling]
        if users:
            found = finding(
                RULE,
                change,
                f"release '{change.old.name}' is removed but {', '.join(sorted(users))} still depend(s) on it",
                "remove or repoint the dependents in the same change",
            )
            if places:  # at the head's dependsOn or reference, where the fix goes
                found = replace(found, location=places[0], related=(*places[1:], Location(change.old.path)))
            yield found


RULE = DiffRule(
    id="dependency-removed",
    scope=GRAPH_WIDE,  # what other releases depend on
    severity=ERROR,
    summary="a release is removed while others still depend on or refer to it",
    check=check,
    doc=__doc__ or "",
)
