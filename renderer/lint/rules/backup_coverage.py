"""backup-coverage: every stateful platform release is backed up, or says why not.

A database, a broker, or a cache that persists its data (Valkey or Redis with
``persistence.enabled``, the charts' default) holds state nobody can rebuild
from Git. Each such release, in a layer that owns its class (S3), must be
covered by a backup: a ``kind: Backup`` spec that lists it under ``covers``
(rail renders its CronJobs), or any object labelled
``railiance.io/service-class: backup`` whose annotation ``railiance.io/backs-up``
names it (``namespace/name``, comma-separated). A release that needs none (a
cache rebuilt on start, a replica of another backed-up store) carries a
suppression with the reason. A backup object naming a release that no
manifest deploys is a finding too: it backs up nothing.

Fails (a database no backup covers)::

    # releases/s3/postgresql-ha.yaml
    name: postgresql-ha
    layer: S3
    namespace: platform
    class: database

Passes (covered, or suppressed with a reason)::

    # releases/s3/backup.yaml
    kind: Backup
    name: backup
    layer: S3
    namespace: platform
    covers:
      - release: postgresql-ha
    ---
    # releases/s3/valkey.yaml
    name: valkey
    class: cache
    suppress:
      backup-coverage: sessions and queues only; Gitea rebuilds them on start
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..finding import ERROR, Finding, Location
from ..graph import ReleaseNode
from ..rule import GRAPH_WIDE, LintContext, Rule

STATEFUL = frozenset({"database", "broker"})
# Where the data-service charts switch their volumes: Bitnami valkey/redis (primary,
# master), and a top-level persistence block (postgresql-ha, most others).
_PERSISTENCE = (("primary", "persistence", "enabled"), ("master", "persistence", "enabled"), ("persistence", "enabled"))


def _get(values: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(values, dict):
            return None
        values = values.get(part)
    return values


def stateful(node: ReleaseNode) -> bool:
    """A database or broker, or a cache whose persistence is not switched off."""
    if node.service_class in STATEFUL:
        return True
    if node.service_class != "cache":
        return False
    switches = [_get(node.values, path) for path in _PERSISTENCE]
    set_ = [switch for switch in switches if isinstance(switch, bool)]
    return not set_ or any(set_)


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    covered: set[tuple[str | None, str]] = set()
    for backup in graph.backups.values():
        covered.update(backup.covers)
    deployed: set[tuple[str | None, str]] = set()
    for node in graph.releases.values():
        deployed.update({(node.namespace, node.ref.name), (node.ref.namespace, node.ref.name)})
        layer = node.layer.layer
        if layer is None or node.service_class not in layer.owns or not stateful(node):
            continue
        if (node.namespace, node.ref.name) in covered or (node.ref.namespace, node.ref.name) in covered:
            continue
        location, related = graph.spec_location(node, ("class",), ("metadata", "name"))
        yield Finding(
            rule=RULE.id,
            message=(
                f"{node.service_class} release '{node.ref.name}' holds state and no backup covers it"
                if node.service_class != "cache"
                else f"cache release '{node.ref.name}' persists its data and no backup covers it"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint=(
                f"list it under covers: of a kind: Backup spec, or add suppress: {{{RULE.id}: <why it needs none>}}"
                if node.spec is not None
                else f"annotate a backup object railiance.io/backs-up: {node.namespace}/{node.ref.name}, or suppress"
                f" with railiance.io/suppress.{RULE.id}: <why it needs none>"
            ),
        )
    reported: set[tuple[str | None, str]] = set()
    for backup in graph.backups.values():
        for namespace, name in backup.covers:
            if (namespace, name) in deployed or (namespace, name) in reported:
                continue
            reported.add((namespace, name))
            yield Finding(
                rule=RULE.id,
                message=(
                    f"{backup.ref.kind} '{backup.ref.name}' backs up '{namespace}/{name}', which no release deploys"
                ),
                location=Location(*backup.manifest.document.where(("metadata", "annotations"))),
                object=backup.ref,
                hint="name a release this repository deploys (namespace/name), or remove the entry",
            )


RULE = Rule(
    id="backup-coverage",
    scope=GRAPH_WIDE,  # backups and the releases they cover
    severity=ERROR,
    summary="a stateful platform release (database, broker, persistent cache) that no backup covers",
    check=check,
    doc=__doc__ or "",
)
