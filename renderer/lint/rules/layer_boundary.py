"""layer-boundary: a release's service class must belong to its layer.

The architecture record: S3 owns databases, caches, brokers, search and backups;
S5 owns applications; S2 runs only the cluster runtime. Each layer's ``owns`` in
``rail.yaml`` says which classes it takes. The class comes from the spec
(``class:``), the ``railiance.io/service-class`` label, or the chart catalog
(postgresql-ha is a database, gitea an application).

Fails (a database in the cluster layer)::

    # releases/s2/postgresql-ha.yaml
    name: postgresql-ha
    layer: S2
    namespace: kube-system
    class: database

A backup is an S3 concern: a ``kind: Backup`` spec (or any object labelled
``railiance.io/service-class: backup``, such as a hand-written backup CronJob) in
a layer that does not own ``backup`` fails the same way::

    # releases/s2/backup.yaml
    kind: Backup
    name: backup
    layer: S2
    namespace: kube-system

Passes::

    # releases/s3/postgresql-ha.yaml
    name: postgresql-ha
    layer: S3
    namespace: platform
    class: database
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, Finding, Location
from ..rule import GRAPH_WIDE, LintContext, Rule


def check(context: LintContext) -> Iterator[Finding]:
    config = context.graph.config
    for node in context.graph.releases.values():
        layer = node.layer.layer
        if layer is None or node.service_class is None or node.service_class in layer.owns:
            continue
        owners = [candidate for candidate in config.layers if node.service_class in candidate.owns]
        where = f"{owners[0].id} ({owners[0].name})" if owners else "no layer of this stack"
        if node.spec is not None:
            location, related = context.graph.spec_location(node, ("layer",), ("metadata", "labels"))
        else:
            key = ("metadata", "labels") if node.layer.reason == "label" else node.namespace_key
            location, related = context.graph.node_location(node, key), ()
        owns = f"owns only {', '.join(layer.owns)}" if layer.owns else "owns no service class"
        yield Finding(
            rule=RULE.id,
            message=(
                f"{node.service_class} release '{node.ref.name}' is in layer {layer.id} ({layer.name}),"
                f" which {owns}; {_article(node.service_class)} {node.service_class} belongs to {where}"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint=f"move the release to {where}" if owners else "give a layer this service class in rail.yaml",
        )

    yield from _backup_objects(context)


def _backup_objects(context: LintContext) -> Iterator[Finding]:
    """Backup objects that are not releases (those are checked above): a rendered
    ``kind: Backup`` spec's CronJobs, found at the spec's ``layer``, or any object
    labelled with the class ``backup``."""
    graph = context.graph
    config = graph.config
    reported: set[str] = set()
    for node in graph.backups.values():
        layer = node.layer.layer
        if node.ref in graph.releases or layer is None or "backup" in layer.owns:
            continue
        owners = [candidate for candidate in config.layers if "backup" in candidate.owns]
        where = f"{owners[0].id} ({owners[0].name})" if owners else "no layer of this stack"
        origin = node.manifest.origin
        spec = graph.loaded.spec_documents.get(origin) if graph.loaded is not None and origin else None
        rendered = Location(*node.manifest.document.where(("metadata", "labels")))
        related: tuple[Location, ...]
        if spec is not None:
            if origin in reported:
                continue  # one finding per spec, not one per CronJob (and target)
            reported.add(str(origin))
            location, related = Location(*spec.where(("layer",))), (rendered,)
            what = f"backup '{spec.data.get('name')}'" if isinstance(spec.data, dict) else "backup"
        else:
            location, related = rendered, ()
            what = f"backup {node.ref.kind} '{node.ref.name}'"
        owns = f"owns only {', '.join(layer.owns)}" if layer.owns else "owns no service class"
        yield Finding(
            rule=RULE.id,
            message=f"{what} is in layer {layer.id} ({layer.name}), which {owns}; a backup belongs to {where}",
            location=location,
            related=related,
            object=node.ref,
            hint=f"move the backup to {where}" if owners else "give a layer the service class backup in rail.yaml",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


RULE = Rule(
    id="layer-boundary",
    scope=GRAPH_WIDE,  # the layer comes from rail.yaml's layers and the Kustomization applying the release
    severity=ERROR,
    summary="a release's service class must belong to its layer",
    check=check,
    doc=__doc__ or "",
)
