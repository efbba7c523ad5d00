"""layer-unassigned: a release that no layer claims.

A release's layer comes from its ``railiance.io/layer`` label, else the stack
config's path globs, else its namespace (``spec.targetNamespace``, else
``metadata.namespace``; an Argo CD Application's ``spec.destination.namespace``)
in a layer's namespace list. A release none of these places is outside the
boundary rule. A warning; an error with ``--exhaustive``.

Fails (namespace ``tools`` is in no layer)::

    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: grafana, namespace: tools}

Passes::

    metadata:
      name: grafana
      namespace: tools
      labels: {railiance.io/layer: S5}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, WARNING, Finding
from ..rule import LintContext, Rule


def check(context: LintContext) -> Iterator[Finding]:
    for node in context.graph.releases.values():
        if node.layer.layer is not None:
            continue
        yield Finding(
            rule=RULE.id,
            severity=ERROR if context.options.exhaustive else "",
            message=f"no layer claims release '{node.ref.name}' (namespace {node.namespace or 'unset'})",
            location=context.graph.node_location(node, node.namespace_key),
            object=node.ref,
            hint="add the label railiance.io/layer, or list its namespace or path under a layer in rail.yaml",
        )


RULE = Rule(
    id="layer-unassigned",
    severity=WARNING,
    summary="a release no layer claims",
    check=check,
    doc=__doc__ or "",
)
