"""layer-dependency: a dependency that points up a layer.

Dependencies point down only: S5 -> S3 -> S2. An edge is a ``dependsOn``, a
reference to another release's export, or a ``valuesFrom`` object of another
layer; a Flux Kustomization's ``dependsOn`` on another Kustomization is one too
(its layer: label, path, ``kustomizations`` in ``rail.yaml``, ``targetNamespace``).
The finding shows the whole chain of edges that leads up.

Fails (a platform database waiting for an application)::

    # releases/s3/postgresql-ha.yaml
    dependsOn: [gitea]        # gitea is in S5

Fails too (rail.yaml puts ``infra-*`` in S3 and ``apps`` in S5)::

    kind: Kustomization
    metadata: {name: infra-databases, namespace: flux-system}
    spec:
      dependsOn: [{name: apps}]

Fails across repositories too: an S3 release's ``dependsOn: [apps/gitea]`` or a
reference into an imported stack's S5 release (the finding names both repositories).

Passes::

    # releases/s5/gitea.yaml
    dependsOn: [postgresql-ha]   # S5 -> S3
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, Finding, Location, ObjectRef
from ..graph import Edge, ReleaseGraph
from ..imports import upward
from ..rule import GRAPH_WIDE, LintContext, Rule


def _order(graph: ReleaseGraph, ref: ObjectRef) -> int | None:
    assignment = graph.layer_of(ref)
    if assignment is None or assignment.layer is None:
        return None
    return assignment.layer.order


def _chain_into(graph: ReleaseGraph, start: ObjectRef, incoming: dict[ObjectRef, list[Edge]]) -> list[Edge]:
    """The longest simple path of edges that ends at ``start``: who is affected."""
    chain: list[Edge] = []
    seen = {start}
    current = start
    while True:
        edges = sorted(
            (edge for edge in incoming.get(current, []) if edge.source not in seen),
            key=lambda edge: (edge.source.namespace or "", edge.source.name),
        )
        if not edges:
            return list(reversed(chain))
        chain.append(edges[0])
        current = edges[0].source
        seen.add(current)


def _describe(graph: ReleaseGraph, edge: Edge) -> str:
    def name(ref: ObjectRef) -> str:
        assignment = graph.layer_of(ref)
        layer = assignment.layer.id if assignment and assignment.layer else "?"
        prefix = "Kustomization " if ref.kind == "Kustomization" else ""
        return f"{prefix}{ref.name} ({layer})"

    return f"{name(edge.source)} -{edge.kind}-> {name(edge.target)}"


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    release_edges = [
        edge for edge in graph.edges if edge.kind in ("dependsOn", "reference") and edge.target in graph.releases
    ]
    release_edges += [edge for edge in graph.kustomization_edges if edge.target in graph.kustomizations]
    incoming: dict[ObjectRef, list[Edge]] = {}
    for edge in release_edges:
        incoming.setdefault(edge.target, []).append(edge)
    for edge in release_edges:
        source_order, target_order = _order(graph, edge.source), _order(graph, edge.target)
        if source_order is None or target_order is None or target_order <= source_order:
            continue
        chain = [*_chain_into(graph, edge.source, incoming), edge]
        node = graph.releases.get(edge.source)
        location, related = edge.location, tuple[Location, ...]()
        if node is not None and node.spec is not None:
            # Point at the spec line that made the edge: its dependsOn entry, or its values (a reference).
            depends_on = node.spec.depends_on
            key = ("dependsOn", depends_on.index(edge.target.name)) if edge.target.name in depends_on else ("values",)
            location, _ = graph.spec_location(node, key)
            related = (edge.location,)
        yield Finding(
            rule=RULE.id,
            message="dependency points up a layer: " + ", ".join(_describe(graph, item) for item in chain),
            location=location,
            related=related,
            object=edge.source,
            hint="dependencies point down only (S5 -> S3 -> S2): move the dependency, or the release",
        )
    yield from upward(context.loaded, RULE.id)


RULE = Rule(
    id="layer-dependency",
    scope=GRAPH_WIDE,  # edges between releases
    severity=ERROR,
    summary="a dependency that points up a layer",
    check=check,
    doc=__doc__ or "",
)
