"""dependency-removed: a release is removed while others still depend on it.

A HelmRelease (or Argo CD Application) that the head revision removes, while a
release of the head still names it in ``dependsOn`` (or refers to it): Flux then
blocks the dependent release forever, and the application loses its database.

Fails: ``releases/s3/postgresql-ha.yaml`` is deleted; ``gitea`` still depends on it.

Passes: gitea is pointed at the new database in the same change.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lint.finding import ERROR, Finding
from ..compare import REMOVED
from ..rule import DiffContext, DiffRule, finding
from ._values import is_release


def _dependents(context: DiffContext) -> dict[tuple[str, str], list[str]]:
    """(namespace, name) -> names of head releases that depend on it."""
    found: dict[tuple[str, str], list[str]] = {}
    for obj in context.head.objects.values():
        if not is_release(obj):
            continue
        spec = obj.data.get("spec") or {}
        for item in spec.get("dependsOn") or [] if isinstance(spec, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                key = (str(item.get("namespace") or obj.namespace), item["name"])
                found.setdefault(key, []).append(obj.name)
    return found


def check(context: DiffContext) -> Iterator[Finding]:
    dependents = _dependents(context)
    for change in context.changes(REMOVED):
        if not is_release(change.old) or change.old is None:
            continue
        users = sorted(set(dependents.get((change.old.namespace, change.old.name), [])))
        if users:
            yield finding(
                RULE,
                change,
                f"release '{change.old.name}' is removed but {', '.join(users)} still depend(s) on it",
                "remove or repoint the dependents in the same change",
            )


RULE = DiffRule(
    id="dependency-removed",
    severity=ERROR,
    summary="a release is removed while others still depend on or refer to it",
    check=check,
    doc=__doc__ or "",
)
